"""Big trees on several processes: `terraform export --all` writes, and `validate` reports, exactly what one process does.

The parallel runs happen in a fresh interpreter (a subprocess): workers are
forked, and the test process may have threads of its own, in which case
dativo-infra rightly refuses to fork. Each such run asserts it really used
the processes asked for, so a silent fallback to one process cannot pass.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dativo_infra.jobs import parallel
from terraform_compat import export_tree

from .conftest import PROJECT_FILE, ROOT

JOB = """tenant_id: {tenant}
environment: {env}
infrastructure:
  provider: aws
  runtime:
    type: ecs
    cluster_name: {tenant}-cluster
  networking:
    vpc_id: vpc-0123456789abcdef0
    subnet_ids: [subnet-0123456789abcdef0]
  storage:
    bucket: {tenant}-lake
  tags:
    team: data-{n}
"""

# runs export_tree in a clean interpreter, CHUNK files per message so every worker gets several chunks
RUN = """
import json, sys
from dativo_infra.jobs import parallel
parallel.CHUNK = 2
from terraform_compat import export_tree
root, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
done = export_tree([root], out, "hcl", parallel=workers)
print(json.dumps({"workers": done.workers, "files": done.files, "exported": [r.as_dict() for r in done.exported],
                  "skipped": done.skipped, "problems": [p.as_dict() for p in done.problems]}))
"""


def tricky_tree(write) -> Path:
    """Every case that needs the whole tree at once, spread over many chunks; its parent is the project folder (Pulumi.yaml)."""
    write("Pulumi.yaml", PROJECT_FILE)
    for n in range(12):
        tenant = f"t{n % 4}"
        write(f"tree/{tenant}/job_{n:02d}.yaml", JOB.format(tenant=tenant, env="prod", n=n))
    write("tree/t0/no_infra.yaml", "tenant_id: t0\nenvironment: prod\n")
    write("tree/t1/broken.yaml", "tenant_id: t1\nenvironment: prod\nsource: [unclosed\n")
    write("tree/t2/bad_model.yaml", "tenant_id: t2\nenvironment: prod\ninfrastructure: {provider: ibm}\n")
    write("tree/t3/clash.yaml", JOB.format(tenant="t3", env="prod", n=99) + "  terraform:\n    variables: {tenant_id: x}\n")
    write("tree/t3/with_backend.yaml", JOB.format(tenant="t3", env="staging", n=98) + "  terraform:\n    backend_config: {bucket: state}\n")
    # the same tenant, environment and name in two folders: the first in discovery order wins, in any mode
    write("tree/t1/zz/job_01.yaml", JOB.format(tenant="t1", env="prod", n=1))
    # a shared file is built in the parent, once for every tenant the workers found
    write("tree/shared/common.yaml", JOB.format(tenant="${TENANT_ID}", env="prod", n=0))
    return Path(write("tree/t0/job_00.yaml", JOB.format(tenant="t0", env="prod", n=0))).parent.parent


def run_in_fresh_process(root: Path, out: Path, workers: int) -> dict:
    done = subprocess.run([sys.executable, "-c", RUN, str(root), str(out), str(workers)], cwd=root.parent, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def in_this_process(root: Path, out: Path) -> dict:
    from dativo_infra.resolve import Resolver
    from dativo_infra.stack import Project

    done = export_tree([str(root)], str(out), "hcl", parallel=1, resolver=Resolver(Project(str(root.parent))))
    return {"workers": done.workers, "files": done.files, "exported": [r.as_dict() for r in done.exported],
            "skipped": done.skipped, "problems": [p.as_dict() for p in done.problems]}


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def relative(report: dict, out: Path) -> dict:
    for entry in report["exported"]:
        for key in ("output", "backend_config"):
            if entry[key]:
                entry[key] = str(Path(entry[key]).relative_to(out))
    return report


@pytest.mark.parametrize("workers", [2, 3])
def test_several_processes_write_what_one_writes(write, tmp_path, workers):
    root = tricky_tree(write)
    one = relative(in_this_process(root, tmp_path / "one"), tmp_path / "one")
    many = relative(run_in_fresh_process(root, tmp_path / "many", workers), tmp_path / "many")
    assert (one["workers"], many["workers"]) == (1, workers)
    assert many == {**one, "workers": workers}
    assert files_under(tmp_path / "many") == files_under(tmp_path / "one")
    # the tree really has every case: the comparison above is not between two empty reports
    messages = " ".join(p["message"] for p in one["problems"])
    assert "already defined by" in messages and "cannot be set to another value" in messages and "'ibm'" in messages
    assert any(p["file"].endswith("broken.yaml") for p in one["problems"])
    assert one["skipped"] == [{"path": str(root / "t0" / "no_infra.yaml"), "reason": "no infrastructure block"}]
    assert sum(e["job"] == "common" for e in one["exported"]) == 4  # the shared file, for t0..t3
    assert any(e["backend_config"] for e in one["exported"])


def test_a_worker_that_dies_is_reported_not_hung(tmp_path, write):
    write("tree/a/job.yaml", JOB.format(tenant="a", env="prod", n=1))
    write("tree/b/job.yaml", JOB.format(tenant="b", env="prod", n=2))
    script = """
import os, sys
from dativo_infra.jobs.parallel import WorkerError, load_and_apply
def prepare(job):
    if job.tenant == "b":
        os._exit(9)
try:
    load_and_apply([sys.argv[1]], prepare, lambda p: p, workers=2)
except WorkerError as exc:
    print(exc)
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "tree")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "a worker process ended without an answer" in done.stdout and "--parallel 1" in done.stdout


def test_a_bug_in_a_worker_names_the_exception(tmp_path, write):
    write("tree/a/job.yaml", JOB.format(tenant="a", env="prod", n=1))
    write("tree/b/job.yaml", JOB.format(tenant="b", env="prod", n=2))
    script = """
import sys
from dativo_infra.jobs.parallel import WorkerError, load_and_apply
def prepare(job):
    raise ValueError("boom in " + job.tenant)
try:
    load_and_apply([sys.argv[1]], prepare, lambda p: p, workers=2)
except WorkerError as exc:
    print(exc)
    print("detail has the traceback:", "Traceback" in exc.detail)
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "tree")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "a worker process failed: ValueError: boom in" in done.stdout
    assert "detail has the traceback: True" in done.stdout


def test_the_cli_reports_the_processes_it_used(tmp_path, write):
    for n in range(4):
        write(f"tree/t{n}/job.yaml", JOB.format(tenant=f"t{n}", env="prod", n=n))
    argv = [str(Path(sys.executable).parent / "dativo-infra"), "terraform", "export", "--all", str(tmp_path / "tree"), "--output-dir", str(tmp_path / "out"), "--json"]
    for workers in (1, 2):
        done = subprocess.run([*argv, "--parallel", str(workers)], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["processes"] == workers and len(report["exported"]) == 4


def test_parallel_must_be_a_positive_count(cli, tmp_path):
    code, out, err = cli("terraform", "export", "--all", tmp_path, "--output-dir", tmp_path / "out", "--parallel", "0")
    assert code == 2 and "--parallel" in err and "Traceback" not in out + err


def test_how_many_processes(monkeypatch):
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    small, big = parallel.MIN_FILES_PER_WORKER * 2 - 1, parallel.MIN_FILES_PER_WORKER * 2
    assert parallel.choose_workers(None, small) == 1  # a small tree: not worth a second process
    assert parallel.choose_workers(None, big) == 2
    assert parallel.choose_workers(None, 100_000) == 2  # never more than the CPUs by default
    assert parallel.choose_workers(4, 3) == 3  # never more processes than files
    assert parallel.choose_workers(1, 100_000) == 1
    monkeypatch.setattr(parallel, "can_fork", lambda: False)
    assert parallel.choose_workers(8, 100_000) == 1  # threads alive, or not Linux: the work stays in this process


def test_the_docs_state_the_size_that_goes_parallel(cli):
    per, smallest = parallel.MIN_FILES_PER_WORKER, 2 * parallel.MIN_FILES_PER_WORKER
    for command in (("terraform", "export"), ("validate",)):
        _, out, _ = cli(*command, "--help")
        assert f"from {smallest} files on, one per {per} files, at most one per CPU" in " ".join(out.split()), command
    for doc in (ROOT / "terraform_compat" / "README.md", ROOT / "docs" / "job-file.md"):
        assert f"from {smallest} files on, one process per {per} files, at most one per CPU" in " ".join(doc.read_text().split()), doc


VALIDATE = """
import json, sys
from dativo_infra.cli.validate import summarize
from dativo_infra.jobs import parallel
from dativo_infra.resolve import Resolver
parallel.CHUNK = 2
resolver = Resolver()
result, outcomes, count = parallel.load_and_apply([sys.argv[1]], summarize(resolver), lambda s: s, workers=int(sys.argv[2]), scope=resolver.scope())
summaries = [o if isinstance(o, dict) else [p.as_dict() for p in o] for o in outcomes]
print(json.dumps({"processes": count, "summaries": summaries, "files": [[f.path, [p.as_dict() for p in f.problems]] for f in result.files]}))
"""


def test_validate_on_several_processes_reports_what_one_does(write):
    root = tricky_tree(write)
    runs = {}
    for workers in (1, 2):
        done = subprocess.run([sys.executable, "-c", VALIDATE, str(root), str(workers)], cwd=root.parent, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        runs[workers] = json.loads(done.stdout)
    assert (runs[1].pop("processes"), runs[2].pop("processes")) == (1, 2)
    assert runs[1] == runs[2]
    assert len(runs[1]["summaries"]) >= 16 and any(problems for _, problems in runs[1]["files"])
    # and the command line prints the same either way
    cli = [str(Path(sys.executable).parent / "dativo-infra"), "validate", str(root)]
    outputs = [subprocess.run([*cli, "--parallel", n], cwd=root.parent, capture_output=True, text=True, timeout=60) for n in ("1", "2")]
    assert outputs[0].returncode == outputs[1].returncode == 2
    assert (outputs[0].stdout, outputs[0].stderr) == (outputs[1].stdout, outputs[1].stderr)


KILL_BETWEEN_PHASES = """
import os, signal, sys, time, multiprocessing
from dativo_infra.jobs import parallel
real_collect = parallel.collect
def collect(*args, **kwargs):  # a worker dies (OOM killer, kill -9) while the parent does the whole-tree step
    os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)
    time.sleep(0.2)
    return real_collect(*args, **kwargs)
parallel.collect = collect
from dativo_infra.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("command", [["validate", "--json"], ["terraform", "export", "--json", "--output-dir", "OUT", "--all"]])
def test_a_worker_killed_between_the_phases_is_reported(tmp_path, write, command):
    for n in range(8):
        write(f"tree/t{n}/job.yaml", JOB.format(tenant=f"t{n}", env="prod", n=n))
    argv = [a.replace("OUT", str(tmp_path / "out")) for a in command] + [str(tmp_path / "tree"), "--parallel", "2"]
    done = subprocess.run([sys.executable, "-c", KILL_BETWEEN_PHASES, *argv], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False and "worker process ended without an answer" in report["errors"][0]["message"]
    assert "Traceback" not in done.stdout + done.stderr


INTERRUPTED_WHILE_WRITING = """
import os, sys, time, multiprocessing
from dativo_infra.jobs import parallel
from terraform_compat.exporter import write_atomic
root, out = sys.argv[1], sys.argv[2]
def prepare(job):
    return os.path.join(out, job.tenant + ".txt")
def apply(path):
    write_atomic(path, "x" * 1000)
    return path
real_replace = os.replace
def slow_replace(src, dst):  # most of a write's time is now spent with its temporary file on disk
    time.sleep(0.01)
    real_replace(src, dst)
os.replace = slow_replace
real_send = parallel._send
def send(conn, message):  # Ctrl-C in the parent just after phase 2 began
    real_send(conn, message)
    if isinstance(message, set) and conn is last[0]:
        time.sleep(0.1)
        interrupted.append(time.monotonic())
        raise KeyboardInterrupt
parallel._send = send
last, interrupted = [], []
real_phase_one = parallel._phase_one
def phase_one(count, conns):
    last.append(conns[-1])
    return real_phase_one(count, conns)
parallel._phase_one = phase_one
try:
    parallel.load_and_apply([root], prepare, apply, workers=2)
except KeyboardInterrupt:
    pass
print(round(time.monotonic() - interrupted[0], 2), len(multiprocessing.active_children()))
"""


def test_an_interrupted_parent_stops_its_workers_and_leaves_no_temporary_files(tmp_path, write):
    for n in range(400):
        write(f"tree/t{n:03d}/job.yaml", JOB.format(tenant=f"t{n:03d}", env="prod", n=n))
    (tmp_path / "out").mkdir()
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_WHILE_WRITING, str(tmp_path / "tree"), str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seconds, children = done.stdout.split()
    assert int(children) == 0
    assert float(seconds) < 0.8  # from the interrupt to the return: the workers were stopped, not waited for
    written = [p.name for p in (tmp_path / "out").iterdir()]
    assert 0 < len(written) < 400, len(written)  # phase 2 had begun, and was stopped
    assert not [name for name in written if name.endswith(".tmp")]
    assert "Traceback" not in done.stderr


def test_no_workers_inside_a_daemonic_process(monkeypatch):
    import multiprocessing

    class Daemon:
        daemon = True

    monkeypatch.setattr(multiprocessing, "current_process", lambda: Daemon())
    assert parallel.can_fork() is False


@pytest.mark.parametrize("quota, expected", [("max 100000", 2), ("100000 100000", 1), ("150000 100000", 2), ("50000 100000", 1)])
def test_a_container_cpu_quota_caps_the_workers(tmp_path, monkeypatch, quota, expected):
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1})
    (tmp_path / "cpu.max").write_text(quota + "\n")
    monkeypatch.setattr(parallel, "CPU_QUOTA_FILE", str(tmp_path / "cpu.max"))
    assert parallel.usable_cpus() == expected


def test_parallel_goes_with_all_only(cli, tmp_path):
    code, out, err = cli("terraform", "export", "--config", "x.yaml", "--output", tmp_path / "x.tfvars", "--parallel", "2")
    assert code == 2 and "--parallel and --clean go with --all" in err
