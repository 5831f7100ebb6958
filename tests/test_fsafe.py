"""write_atomic: whole files or none, no planted link written through, the umask's permissions, no temp file left."""
from __future__ import annotations

import os
import stat

import pytest

from dativo_infra import fsafe
from dativo_infra.fsafe import TEMP_PREFIX, is_temp_name, remove_temp_files, write_atomic


@pytest.fixture
def victim(tmp_path):
    """A file outside the output folder that a planted link points at; it must never change."""
    path = tmp_path / "victim.txt"
    path.write_text("untouched")
    return path


def test_writes_and_replaces(tmp_path):
    target = tmp_path / "out" / "deep" / "job.tfvars"
    write_atomic(str(target), "a = 1\n")
    write_atomic(str(target), "a = 2\n")
    assert target.read_text() == "a = 2\n"
    assert sorted(os.listdir(target.parent)) == ["job.tfvars"]


def test_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(str(tmp_path / "f"), "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "f").st_mode) == 0o640


def test_a_link_at_the_target_is_replaced_not_written_through(tmp_path, victim):
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(victim, out / "job.tfvars")
    write_atomic(str(out / "job.tfvars"), "new")
    assert victim.read_text() == "untouched"
    assert not os.path.islink(out / "job.tfvars") and (out / "job.tfvars").read_text() == "new"


def test_links_planted_at_every_predictable_temp_name_are_not_written_through(tmp_path, victim, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    # the names the old exporter used, and the first names mkstemp would try
    predictable = [f".job.tfvars.{os.getpid()}.tmp", "job.tfvars.tmp", ".job.tfvars.tmp"]
    names = iter(["aaaaaaaa", "aaaaaaaa", "bbbbbbbb"])  # the first is planted (twice): the writer must move on, not write through
    monkeypatch.setattr(fsafe.secrets, "token_hex", lambda n: next(names))
    predictable.append(TEMP_PREFIX + "aaaaaaaa")
    for name in predictable:
        os.symlink(victim, out / name)
    write_atomic(str(out / "job.tfvars"), "new")
    assert victim.read_text() == "untouched"
    assert (out / "job.tfvars").read_text() == "new"
    assert all(os.path.islink(out / name) for name in predictable)
    assert not os.path.exists(out / (TEMP_PREFIX + "bbbbbbbb"))  # renamed over the target


def test_a_dangling_link_at_the_temp_name_is_not_followed(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(tmp_path / "created-through-link", out / (TEMP_PREFIX + "cccccccc"))
    names = iter(["cccccccc", "dddddddd"])
    monkeypatch.setattr(fsafe.secrets, "token_hex", lambda n: next(names))
    write_atomic(str(out / "job.tfvars"), "new")
    assert not os.path.exists(tmp_path / "created-through-link")


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_the_temp_file_is_removed_on_any_failure(tmp_path, monkeypatch, error):
    def fail(fd):
        raise error

    monkeypatch.setattr(fsafe.os, "fsync", fail)
    with pytest.raises(type(error)):
        write_atomic(str(tmp_path / "job.tfvars"), "x")
    assert os.listdir(tmp_path) == []


def test_a_failed_rename_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "job.tfvars"
    target.write_text("old")

    def fail(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(fsafe.os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(str(target), "new")
    assert os.listdir(tmp_path) == ["job.tfvars"] and target.read_text() == "old"


def test_leftover_temp_files_are_recognised_and_removed(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    left = [tmp_path / "a" / f"{TEMP_PREFIX}x1y2z3", tmp_path / "a" / "b" / f"{TEMP_PREFIX}q"]
    for path in left:
        path.write_text("partial")
    (tmp_path / "a" / "job.tfvars").write_text("kept")
    (tmp_path / "a" / f"{TEMP_PREFIX}dir").mkdir()
    assert remove_temp_files(str(tmp_path)) == sorted(str(p) for p in left)
    assert (tmp_path / "a" / "job.tfvars").exists() and (tmp_path / "a" / f"{TEMP_PREFIX}dir").is_dir()
    assert is_temp_name(TEMP_PREFIX + "abc") and not is_temp_name("job.tfvars")
