"""The README's tour runs as written, and its links point at files that exist."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess

from .conftest import JOBS, ROOT

README = (ROOT / "README.md").read_text()
CLI = ROOT / ".venv" / "bin" / "dativo-infra"


def tour_commands() -> list[list[str]]:
    block = README.split("## A short tour", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        command = line.split("  #", 1)[0].strip()
        if command.startswith(".venv/bin/dativo-infra") and "|" not in command:  # preview|up|… need the Pulumi CLI
            commands.append(shlex.split(command))
    return commands


def test_the_readme_shows_the_two_commands_near_the_top():
    top = README.split("## A short tour", 1)[0]
    assert "make demo" in top and "make test" in top


def test_every_offline_tour_command_runs_as_written(tmp_path):
    shutil.copytree(JOBS, tmp_path / "jobs")
    for stack_file in ROOT.glob("Pulumi*.yaml"):  # the tour runs in a project folder: its stack settings apply
        shutil.copy(stack_file, tmp_path)
    shutil.copytree(ROOT / "examples" / "policies", tmp_path / "examples" / "policies")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "dativo-infra").symlink_to(CLI)
    commands = tour_commands()
    assert len(commands) >= 6
    for argv in commands:
        proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, (argv, proc.stdout[-2000:], proc.stderr[-2000:])
        assert "Traceback" not in proc.stdout + proc.stderr
    assert (tmp_path / "terraform.tfvars").is_file()
    assert sorted(p.name for p in (tmp_path / "build" / "tfvars").iterdir()) == ["acme", "globex"]


def test_every_link_points_at_a_file():
    links = re.findall(r"\]\(([^)#]+)\)", README)
    assert len(links) >= 8
    for link in links:
        assert (ROOT / link).exists(), link
