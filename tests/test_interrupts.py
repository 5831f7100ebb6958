"""Interrupts and killed parents: 'interrupted' and exit 130 at any moment, and no worker outlives its parent."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from .conftest import JOBS, ROOT

# Until the interpreter has imported `site` (~20–30 ms here) a SIGINT is Python's own business; the probe says
# "up" once the entry's handler is in place (main() installs the same one first), and the signal comes after that.
PROBE = """
import os, signal, sys
from dativo_infra import entry
signal.signal(signal.SIGINT, entry._interrupted_while_starting)
os.write(1, b"up\\n")
sys.argv = ["dativo-infra", "validate", sys.argv[1]]
entry.main()
"""


@pytest.mark.parametrize("delay", [0.0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15])
def test_sigint_while_starting_is_interrupted_not_a_traceback(delay):
    """From the entry's first line on (the CLI's imports included), a Ctrl-C is 'interrupted' and exit 130."""
    proc = subprocess.Popen([sys.executable, "-c", PROBE, str(JOBS)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "up\n"
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in out + err and "internal error" not in out + err
    if proc.returncode != 0:  # 0 when the run finished before the signal arrived
        assert (proc.returncode, err.strip().splitlines()[-1:]) == (130, ["interrupted"]), (proc.returncode, err)


def test_the_entry_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "dativo_infra.entry", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "dativo-infra" in proc.stdout


KILLED_PARENT = """
import os, sys, time
from dativo_infra.jobs import parallel

def prepare(job):
    open(os.path.join(sys.argv[2], str(os.getpid())), "w").close()
    return job.name

def apply(name):
    time.sleep(120)  # a slow write: the parent is killed meanwhile
    return name

parallel.load_and_apply([sys.argv[1]], prepare, apply, workers=2, environ={})
"""




def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has stopped: only its exit status is left
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signals are a Linux feature")
def test_workers_stop_when_their_parent_is_killed(tmp_path):
    tree, pids = tmp_path / "tree", tmp_path / "pids"
    tree.mkdir()
    pids.mkdir()
    for n in range(8):
        (tree / f"job{n}.yaml").write_text(f"tenant_id: t{n}\nenvironment: prod\n")
    parent = subprocess.Popen([sys.executable, "-c", KILLED_PARENT, str(tree), str(pids)], cwd=ROOT)
    deadline = time.monotonic() + 30
    while len(os.listdir(pids)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = {int(p) for p in os.listdir(pids)}
    assert len(workers) == 2, "the workers did not start"
    time.sleep(0.3)  # both are in apply() now
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(_alive(pid) for pid in workers), "a worker outlived its killed parent"


def test_an_interrupt_python_wrapped_in_another_error_is_still_interrupted(monkeypatch, capsys):
    """Python wraps an exception raised in a class's __set_name__ (a Ctrl-C while a model class is built) in a RuntimeError."""
    from dativo_infra.cli import cli, main

    def wrapped(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise RuntimeError("Error calling __set_name__") from interrupt

    monkeypatch.setattr(cli, "main", wrapped)
    # main() closes the event loops of a plan that ran in this process as it exits: not the test session's
    monkeypatch.delitem(sys.modules, "dativo_infra.plan", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "jobs"])
    assert exit_info.value.code == 130
    assert capsys.readouterr().err.strip() == "interrupted"
