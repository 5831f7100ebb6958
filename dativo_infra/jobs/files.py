"""The file-system rules for job and asset files: which files a run reads, and how it reads one.

How to use it (``validate``, ``export`` and ``plan`` all call the same two functions, so they agree)::

    from dativo_infra.jobs.files import discover, read_regular_file

    files, problems = discover(["jobs/", "other/one.yaml"])   # problems: Problem objects, report them with the rest
    for path in files:
        raw = read_regular_file(path)                         # bytes, or ConfigError([Problem(path, ...)])
        raw = read_regular_file(asset, what="asset file")     # the same rules for an asset file

The rules:

- **A walk skips hidden folders; a named file is always read.** A folder given on the
  command line is walked recursively, in sorted order; folders whose name starts with a
  dot (``.git``, ``..hidden``) and those in :data:`SKIPPED_DIRS` (``assets/`` holds asset
  files, not jobs) are not entered. A file named on the command line is read whatever its
  folder or suffix.
- In a walk, a job file ends in ``.yaml`` or ``.yml`` in any case (``.YAML`` too).
- Nothing is skipped in silence: a folder that cannot be listed, a ``.yaml`` entry that is not
  a regular file (a named pipe, a device, a socket, a broken symbolic link) and a file name
  longer than :data:`MAX_NAME_BYTES` are each a :class:`Problem`. Symbolic links to folders
  are followed, each real folder once.
- A file reached twice (``jobs/`` and ``jobs/acme/x.yaml``) is listed once.
- :func:`read_regular_file` reads only regular files (symbolic links to one are fine), of at
  most :data:`MAX_FILE_BYTES` (1 MiB; a job file is a few KiB). A named pipe called
  ``job.yaml`` does not make it wait, and ``/dev/zero`` is refused, not read forever.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from typing import Optional

from ..errors import ConfigError, Problem

__all__ = ["MAX_FILE_BYTES", "MAX_NAME_BYTES", "JOB_SUFFIXES", "SKIPPED_DIRS", "read_regular_file", "read_head", "discover", "name_problem"]

MAX_FILE_BYTES = 1024 * 1024
# the export writes <name>.tfvars.json through a temporary ".dativo-tmp-XXXXXXXX" file beside it; 255 bytes is the
# usual file-name limit (ext4, xfs, APFS), so 200 bytes leaves room for both
MAX_NAME_BYTES = 200
JOB_SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRS = frozenset({"assets", "__pycache__", "node_modules"})  # hidden folders (.git, .venv) are skipped by their dot

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _a(what: str) -> str:
    return ("an " if what[:1] in "aeiou" else "a ") + what


def _not_regular(path: str, mode: int, what: str) -> Problem:
    return Problem(path, f"is {_kind(mode)}; {_a(what)} must be a regular file (a symbolic link to one is fine)")


def _open_problem(path: str, exc: OSError, what: str) -> Problem:
    if isinstance(exc, FileNotFoundError):
        return Problem(path, f"no such file; expected {_a(what)}")
    if isinstance(exc, PermissionError):
        return Problem(path, f"cannot read {what}: permission denied")
    if isinstance(exc, IsADirectoryError):
        return Problem(path, f"is a folder; expected {_a(what)}")
    return Problem(path, f"cannot read {what}: {exc.strerror or exc}")


def read_head(path: str, size: int = 65536) -> Optional[bytes]:
    """The first ``size`` bytes of a regular file (never a pipe or a device), or None: where a file too big to read names its tenant."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        return os.read(fd, size) if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except OSError:
        return None
    finally:
        os.close(fd)


def read_regular_file(path: str, what: str = "job file", max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path``, a regular file of at most ``max_bytes``; else ``ConfigError([Problem(path, ...)])``.

    The file is opened non-blocking and checked with ``fstat`` on the open descriptor, so a named pipe
    never blocks the run and nothing can be swapped in between the check and the read.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise ConfigError([_open_problem(path, exc, what)]) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError([_not_regular(path, info.st_mode, what)])
        if info.st_size > max_bytes:
            raise ConfigError([_too_big(path, info.st_size, what, max_bytes)])
        chunks: list[bytes] = []
        total = 0
        while True:  # the file may grow while it is read: never read more than the limit allows
            chunk = os.read(fd, max(info.st_size, 65536) + 1 if not chunks else 65536)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise ConfigError([_too_big(path, total, what, max_bytes)])
        return b"".join(chunks)
    except OSError as exc:
        raise ConfigError([_open_problem(path, exc, what)]) from None
    finally:
        os.close(fd)


def _too_big(path: str, size: int, what: str, max_bytes: int) -> Problem:
    return Problem(path, f"is {size} bytes or more; {_a(what)} may be at most {max_bytes} bytes ({max_bytes // 1024} KiB)")


def name_problem(path: str) -> Optional[Problem]:
    """A Problem when the file's name is too long for its export to be written beside the job's name, else None."""
    size = len(os.fsencode(os.path.basename(path)))
    if size <= MAX_NAME_BYTES:
        return None
    return Problem(path, f"file name is {size} bytes long; a job file name may be at most {MAX_NAME_BYTES} bytes "
                         "(its export is written as <name>.tfvars.json through a temporary file): shorten it")


def _walk(top: str, problems: list[Problem]) -> list[str]:
    """Job files under the folder ``top``, sorted folder by folder; problems of the walk appended to ``problems``."""
    found: list[str] = []
    visited: set[str] = set()

    def onerror(exc: OSError) -> None:
        problems.append(Problem(exc.filename or top, f"cannot read folder: {exc.strerror or exc}; its job files were not read"))

    for root, dirs, files in os.walk(top, onerror=onerror, followlinks=True):
        real = os.path.realpath(root)
        if real in visited:  # a link back to a folder already walked (or a loop): its files are listed already
            dirs[:] = []
            continue
        visited.add(real)
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.lower().endswith(JOB_SUFFIXES):
                continue
            path = os.path.join(root, name)
            try:
                mode = os.stat(path).st_mode
            except OSError as exc:  # a broken link, or a loop of links
                problems.append(_open_problem(path, exc, "job file"))
                continue
            if not stat.S_ISREG(mode):
                problems.append(_not_regular(path, mode, "job file"))
                continue
            found.append(path)
    return found


def discover(paths: Iterable[str]) -> tuple[list[str], list[Problem]]:
    """Job files under the given files and folders, in order, each once; and the problems met finding them.

    Folders are walked (see the module's rules); a path that is not a folder is listed as given,
    for :func:`read_regular_file` to read or refuse. A name longer than :data:`MAX_NAME_BYTES`
    is a problem and not listed.
    """
    found: list[str] = []
    problems: list[Problem] = []
    for given in paths:
        if os.path.isdir(given):
            found.extend(_walk(given, problems))
        else:
            found.append(given)
    seen: set[str] = set()
    unique: list[str] = []
    for path in found:
        key = os.path.realpath(path)
        if key in seen:
            continue
        seen.add(key)
        long_name = name_problem(path)
        if long_name is not None:
            problems.append(long_name)
            continue
        unique.append(path)
    return unique, problems
