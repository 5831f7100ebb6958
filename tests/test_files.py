"""The file-system rules for reading job files: only regular files, bounded, and nothing skipped in silence."""
from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from dativo_infra.errors import ConfigError
from dativo_infra.jobs import files
from dativo_infra.jobs.files import MAX_FILE_BYTES, MAX_NAME_BYTES, discover, read_regular_file

JOB = "tenant_id: acme\nenvironment: prod\n"


def _only_problem(exc: pytest.ExceptionInfo) -> str:
    (problem,) = exc.value.problems
    return problem.message


# --- read_regular_file ------------------------------------------------------------------------------


def test_reads_a_regular_file_and_a_link_to_one(write, tmp_path):
    path = write("job.yaml", JOB)
    os.symlink(path, tmp_path / "link.yaml")
    assert read_regular_file(str(path)) == JOB.encode()
    assert read_regular_file(str(tmp_path / "link.yaml")) == JOB.encode()


def test_a_fifo_named_yaml_is_refused_at_once(tmp_path):
    fifo = tmp_path / "job.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(ConfigError) as exc:
        read_regular_file(str(fifo))
    assert time.monotonic() - started < 1
    assert "named pipe" in _only_problem(exc) and "regular file" in _only_problem(exc)


def test_a_link_to_dev_zero_is_refused(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero.yaml")
    with pytest.raises(ConfigError) as exc:
        read_regular_file(str(tmp_path / "zero.yaml"))
    assert "character device" in _only_problem(exc)


def test_a_socket_is_refused(tmp_path):
    path = str(tmp_path / "s.yaml")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(path)
        with pytest.raises(ConfigError) as exc:
            read_regular_file(path)
        assert "regular file" in _only_problem(exc) or "cannot read" in _only_problem(exc)
    finally:
        server.close()


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(ConfigError) as exc:
        read_regular_file(str(tmp_path))
    assert "folder" in _only_problem(exc)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(ConfigError) as exc:
        read_regular_file(str(tmp_path / "nope.yaml"), what="asset file")
    assert _only_problem(exc) == "no such file; expected an asset file"


def test_a_big_file_is_refused_without_reading_it_all(write, monkeypatch):
    path = write("big.yaml", b"#" * (MAX_FILE_BYTES + 1))
    reads = []
    real_read = os.read
    monkeypatch.setattr(files.os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    with pytest.raises(ConfigError) as exc:
        read_regular_file(str(path))
    assert reads == [] and f"at most {MAX_FILE_BYTES} bytes" in _only_problem(exc)


def test_the_limit_is_a_parameter(write):
    path = write("small.yaml", b"x" * 11)
    assert read_regular_file(str(path), max_bytes=11) == b"x" * 11
    with pytest.raises(ConfigError):
        read_regular_file(str(path), max_bytes=10)


def test_a_file_growing_past_the_limit_while_read_is_refused(write, monkeypatch):
    path = write("grows.yaml", b"x" * 10)
    real_fstat = os.fstat

    def stale_fstat(fd):  # the size seen before the file grew
        info = real_fstat(fd)
        return os.stat_result((info.st_mode, *info[1:6], 10, *info[7:]))

    path.write_bytes(b"x" * 100)
    monkeypatch.setattr(files.os, "fstat", stale_fstat)
    with pytest.raises(ConfigError) as exc:
        read_regular_file(str(path), max_bytes=50)
    assert "at most 50 bytes" in _only_problem(exc)


def test_a_fifo_does_not_hang_even_with_a_writer_waiting(tmp_path):
    fifo = tmp_path / "job.yml"
    os.mkfifo(fifo)
    opened = threading.Event()

    def writer():
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            opened.set()
            os.close(fd)
        except OSError:
            opened.set()

    with pytest.raises(ConfigError):
        read_regular_file(str(fifo))
    thread = threading.Thread(target=writer)
    thread.start()
    thread.join(2)
    assert opened.is_set()


# --- discover ---------------------------------------------------------------------------------------


def test_walk_order_suffixes_in_any_case_and_dedup(write, tmp_path):
    for name in ("b/2.yaml", "b/1.YML", "a.Yaml", "c.txt", "assets/x/asset.yaml", ".hidden/h.yaml", "..dots/d.yaml", "sub/.git/g.yaml"):
        write(name, JOB)
    found, problems = discover([str(tmp_path), str(tmp_path / "a.Yaml")])
    assert problems == []
    assert [os.path.relpath(p, tmp_path) for p in found] == ["a.Yaml", "b/1.YML", "b/2.yaml"]


def test_a_named_file_is_always_read_even_in_a_skipped_folder(write, tmp_path):
    hidden = write(".hidden/h.yaml", JOB)
    in_assets = write("assets/a.yaml", JOB)
    odd_suffix = write("job.conf", JOB)
    found, problems = discover([str(hidden), str(in_assets), str(odd_suffix)])
    assert found == [str(hidden), str(in_assets), str(odd_suffix)] and problems == []


def test_a_missing_named_file_is_listed_for_the_reader_to_report(tmp_path):
    found, problems = discover([str(tmp_path / "missing.yaml")])
    assert found == [str(tmp_path / "missing.yaml")] and problems == []
    with pytest.raises(ConfigError):
        read_regular_file(found[0])


def test_non_regular_entries_in_a_walk_are_problems(write, tmp_path):
    write("ok.yaml", JOB)
    os.mkfifo(tmp_path / "pipe.yaml")
    os.symlink("/dev/null", tmp_path / "null.yaml")
    os.symlink(tmp_path / "gone", tmp_path / "broken.yaml")
    os.mkfifo(tmp_path / "pipe.txt")  # not a job file name: not a problem either
    found, problems = discover([str(tmp_path)])
    assert found == [str(tmp_path / "ok.yaml")]
    by_file = {os.path.basename(p.file): p.message for p in problems}
    assert set(by_file) == {"pipe.yaml", "null.yaml", "broken.yaml"}
    assert "named pipe" in by_file["pipe.yaml"] and "character device" in by_file["null.yaml"]
    assert "no such file" in by_file["broken.yaml"]


def test_an_unreadable_folder_is_a_problem(write, tmp_path, monkeypatch):
    write("ok/a.yaml", JOB)
    write("locked/b.yaml", JOB)
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found, problems = discover([str(tmp_path)])
    assert found == [str(tmp_path / "ok" / "a.yaml")]
    (problem,) = problems
    assert problem.file == str(tmp_path / "locked") and "cannot read folder: Permission denied" in problem.message


def test_linked_folders_are_followed_once_and_loops_end(write, tmp_path):
    write("real/a.yaml", JOB)
    os.symlink(tmp_path / "real", tmp_path / "link")
    os.symlink(tmp_path, tmp_path / "real" / "loop")
    found, problems = discover([str(tmp_path)])
    assert [os.path.realpath(p) for p in found] == [os.path.realpath(tmp_path / "real" / "a.yaml")] and problems == []


def test_a_name_too_long_to_export_is_a_problem(write, tmp_path):
    ok = write("a" * (MAX_NAME_BYTES - 5) + ".yaml", JOB)
    long = write("é" * 100 + ".yaml", JOB)  # 205 bytes in UTF-8, 105 characters
    found, problems = discover([str(tmp_path)])
    assert found == [str(ok)]
    (problem,) = problems
    assert problem.file == str(long) and f"at most {MAX_NAME_BYTES} bytes" in problem.message


def test_a_file_reached_twice_is_listed_once(write, tmp_path):
    job = write("acme/x.yaml", JOB)
    found, _ = discover([str(tmp_path / "acme" / "x.yaml"), str(tmp_path)])
    assert found == [str(job)]
