"""An adversarial review of the fast SDK loader (dativo_infra.sdk_loader): each test is a way it once went wrong.

- ``from package import *`` of a lazy package missed every lazy name;
- the cache folder was checked once, then read by path: whoever could write to
  a folder above it could swap in code of theirs after the check;
- an entry stayed valid while a sibling module's ``__all__`` changed (only the
  ``__init__``'s own mtime and size were checked), or after a rewrite that kept
  the mtime and size; and every upgrade added entries that nothing removed;
- a package that sets its own module class or ``__getattr__`` lost the lazy names;
- a relative ``XDG_CACHE_HOME`` turned the loader off instead of being ignored.
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dativo_infra import sdk_loader
from dativo_infra.sdk_loader import _Finder, _lazy_star_imports, compile_module

ROOT = Path(__file__).resolve().parent.parent

PACKAGE = {
    "__init__.py": "import typing\nfrom .alpha import *\nfrom .get_beta import *\nfrom . import outputs\n",
    "alpha.py": "from . import _helpers\n__all__ = ['Alpha', 'AlphaArgs']\nclass Alpha: pass\nclass AlphaArgs: pass\n",
    "get_beta.py": "__all__ = ['get_beta']\ndef get_beta() -> str:\n    return 'beta'\n",
    "_helpers.py": "HELPER = 1\n",
    "outputs.py": "__all__ = ['Out']\nclass Out: pass\n",
}


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def _forget(prefix: str) -> None:
    for name in [n for n in sys.modules if n == prefix or n.startswith(prefix + ".")]:
        del sys.modules[name]


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A site folder on sys.path with ``lazypkg`` in it, and a private cache folder; yields (package folder, cache)."""
    package = tmp_path / "site" / "lazypkg"
    _write(package, PACKAGE)
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    _forget("lazypkg")
    finders: list[_Finder] = []

    def load(folder: Path = cache):
        """Import lazypkg afresh through a finder on ``folder``."""
        for finder in finders:
            sys.meta_path.remove(finder)
        finders[:] = [_Finder(folder, packages=("lazypkg",))]
        sys.meta_path.insert(0, finders[0])
        _forget("lazypkg")
        lazypkg = importlib.import_module("lazypkg")

        return lazypkg

    yield package, cache, load
    for finder in finders:
        sys.meta_path.remove(finder)
    _forget("lazypkg")


def _star_names(module_name: str) -> list[str]:
    namespace: dict = {}
    exec(f"from {module_name} import *", namespace)
    return sorted(name for name in namespace if name != "__builtins__")


def test_a_star_import_of_a_lazy_package_binds_what_it_would_have(site):
    _, _, load = site
    eager = importlib.import_module("lazypkg")  # the package as shipped: no finder yet

    assert "lazypkg.alpha" in sys.modules
    expected = _star_names("lazypkg")
    assert {"Alpha", "AlphaArgs", "get_beta", "alpha", "outputs", "typing"} <= set(expected)
    eager_get_beta = eager.get_beta
    assert callable(eager_get_beta)

    lazy = load()
    assert type(lazy).__name__ == "_LazyPackage" and "lazypkg.alpha" not in sys.modules
    assert getattr(lazy, "__all__", None) is None and not hasattr(lazy, "__all__")  # as shipped: no __all__ ...
    assert "lazypkg.alpha" not in sys.modules  # ... and asking for it loads nothing
    assert _star_names("lazypkg") == expected
    assert callable(lazy.get_beta) and lazy.get_beta() == "beta"


def test_entries_are_read_through_the_folder_that_was_checked(site, tmp_path):
    """A folder above the cache that others can write to: swapping the cache folder after the check changes nothing."""
    package, _, load = site
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # anyone may rename what is in it
    folder = shared / "cache"
    folder.mkdir(mode=0o700)
    assert load(folder).get_beta() == "beta"
    entries = sorted(p.name for p in folder.glob("*.code"))
    assert entries
    # another user renames the checked folder away and puts theirs in its place, with code for every entry name
    folder.rename(shared / "moved")
    planted = shared / "cache"
    planted.mkdir(mode=0o700)
    source = str(package / "get_beta.py")
    evil = compile("__all__ = ['get_beta']\ndef get_beta():\n    return 'planted'\n", source, "exec")
    for entry in entries:
        (planted / entry).write_bytes(marshal.dumps(evil))
    finder = next(f for f in sys.meta_path if isinstance(f, _Finder))
    _forget("lazypkg")
    lazypkg = importlib.import_module("lazypkg")

    assert lazypkg.get_beta() == "beta"
    assert finder.folder_fd >= 0 and not list(planted.glob("*.tmp"))


def test_a_cache_folder_that_is_a_symlink_or_writable_by_others_is_not_used(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(OSError):
        _Finder(link)
    real.chmod(0o775)
    with pytest.raises(OSError):
        _Finder(real)
    sdk_loader.uninstall()
    try:
        assert sdk_loader.install(link) is False and sdk_loader.install(real) is False and not sdk_loader.installed()
    finally:
        sdk_loader.install()  # as the session had it (conftest)


def test_an_entry_others_can_write_to_is_not_executed(site):
    package, cache, load = site
    assert load().get_beta() == "beta"
    # an entry that was writable by others at some point could hold anything: it is compiled again and replaced
    source = str(package / "get_beta.py")
    evil = compile("__all__ = ['get_beta']\ndef get_beta():\n    return 'planted'\n", source, "exec")
    for entry in cache.glob("*.code"):
        payload = marshal.loads(entry.read_bytes())
        if payload[0] == source:
            entry.write_bytes(marshal.dumps((payload[0], payload[1], payload[2], evil)))
            entry.chmod(0o666)
    assert load().get_beta() == "beta"


def test_a_changed_sibling_all_recompiles_the_package(site):
    package, cache, load = site
    first = load()
    assert first.get_beta() == "beta" and not hasattr(first, "get_gamma")
    entries = sorted(p.name for p in cache.glob("*.code"))
    init_stat = (package / "__init__.py").stat()
    # get_beta.py exports one more name; __init__.py, its mtime and size, are untouched
    (package / "get_beta.py").write_text(
        "__all__ = ['get_beta', 'get_gamma']\ndef get_beta() -> str:\n    return 'beta'\ndef get_gamma() -> str:\n    return 'gamma'\n",
        encoding="utf-8")
    assert (package / "__init__.py").stat().st_mtime_ns == init_stat.st_mtime_ns
    again = load()
    assert again.get_gamma() == "gamma"
    assert sorted(p.name for p in cache.glob("*.code")) == entries  # replaced, not added to


def test_a_rewrite_keeping_mtime_and_size_is_compiled_again(site):
    package, cache, load = site
    assert load().get_beta() == "beta"
    source = package / "get_beta.py"
    before = source.stat()
    text = source.read_text(encoding="utf-8").replace("'beta'", "'BETA'")
    source.write_text(text, encoding="utf-8")
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))  # an installer that keeps the wheel's mtimes
    assert source.stat().st_size == before.st_size and source.stat().st_mtime_ns == before.st_mtime_ns
    assert load().get_beta() == "BETA"


@pytest.mark.parametrize("damage", ["truncated", "empty", "bare code", "wrong shape", "other file", "not code"])
def test_a_damaged_or_foreign_entry_is_compiled_again(site, damage):
    package, cache, load = site
    assert load().get_beta() == "beta"
    source = str(package / "get_beta.py")
    for entry in cache.glob("*.code"):
        data = entry.read_bytes()
        path, signature, recorded, code = marshal.loads(data)
        if path != source:
            continue
        entry.write_bytes({
            "truncated": data[: len(data) // 2],
            "empty": b"",
            "bare code": marshal.dumps(code),  # what the first version of the loader wrote
            "wrong shape": marshal.dumps((path, signature)),
            "other file": marshal.dumps((path + "x", signature, recorded, code)),
            "not code": marshal.dumps((path, signature, recorded, "print('no')")),
        }[damage])
    assert load().get_beta() == "beta"


def test_packages_with_their_own_module_class_getattr_or_hidden_bindings_stay_eager(tmp_path):
    _write(tmp_path, {k: v for k, v in PACKAGE.items() if k != "__init__.py"})
    init = tmp_path / "__init__.py"
    for text in (PACKAGE["__init__.py"] + "import sys\nfrom ._helpers import HELPER as _C\nsys.modules[__name__].__class__ = _C\n",
                 PACKAGE["__init__.py"] + "def __getattr__(name):\n    return name\n",
                 PACKAGE["__init__.py"] + "globals()['Alpha'] = 'bound where no statement shows it'\n"):
        init.write_text(text, encoding="utf-8")
        code = compile_module(init.read_bytes(), str(init), is_package=True)
        assert "_dativo_lazy_package" not in code.co_names
    # a name bound by `except ... as`: that star import runs in order, the others stay lazy
    text = PACKAGE["__init__.py"] + "try:\n    import missing\nexcept ImportError as Alpha:\n    pass\n"
    transformed = ast.unparse(_lazy_star_imports(ast.parse(text), tmp_path, []))
    assert "from .alpha import *" in transformed and "{'get_beta': 'get_beta'}" in transformed
    init.write_text(PACKAGE["__init__.py"], encoding="utf-8")
    read: list[str] = []
    assert "_dativo_lazy_package" in compile_module(init.read_bytes(), str(init), is_package=True, read=read).co_names
    assert str(tmp_path) in read and str(tmp_path / "alpha.py") in read  # what the entry's validity depends on


def test_a_star_import_of_a_name_that_is_also_a_package_folder_stays_eager(tmp_path):
    _write(tmp_path, {k: v for k, v in PACKAGE.items() if k != "__init__.py"})
    _write(tmp_path / "alpha", {"__init__.py": "Other = 1\n"})  # the package alpha/ is imported, not alpha.py
    init = tmp_path / "__init__.py"
    init.write_text(PACKAGE["__init__.py"], encoding="utf-8")
    assert "_dativo_lazy_package" not in compile_module(init.read_bytes(), str(init), is_package=True).co_names


def test_a_relative_xdg_cache_home_is_ignored(tmp_path, monkeypatch):
    monkeypatch.delenv("DATIVO_SDK_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    folder = sdk_loader.cache_dir()
    assert folder is not None and folder.parent == tmp_path / ".cache" / "dativo-infra" / "sdk-code"


CONCURRENT = """
import sys
from pathlib import Path
from dativo_infra.sdk_loader import _Finder
sys.path.insert(0, sys.argv[1])
sys.meta_path.insert(0, _Finder(Path(sys.argv[2]), packages=("lazypkg",)))
import lazypkg
from lazypkg import *
print(lazypkg.get_beta(), type(lazypkg).__name__, Alpha.__name__)
"""


def test_an_entry_that_is_not_a_regular_file_is_passed_over_without_waiting(site):
    package, cache, _ = site
    source = str(package / "__init__.py")
    key = f"{sdk_loader.VERSION}\0{sys.version}\0{source}"
    os.mkfifo(cache / (hashlib.sha256(key.encode()).hexdigest() + ".code"))  # opening it for reading would wait for a writer
    run = subprocess.run([sys.executable, "-c", CONCURRENT, str(package.parent), str(cache)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.split() == ["beta", "_LazyPackage", "Alpha"], run.stderr


def test_processes_compiling_the_same_files_at_once_all_load_them(site):
    package, cache, _ = site
    runs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(package.parent), str(cache)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [run.communicate(timeout=120) + (run.returncode,) for run in runs]
    assert all(code == 0 and out.split() == ["beta", "_LazyPackage", "Alpha"] for out, err, code in results), results
    assert not list(cache.glob("*.tmp")) and len(list(cache.glob("*.code"))) == 5  # one entry per file


REAL_STAR = """
import json, sys
if sys.argv[1] == "fast":
    from dativo_infra.sdk_loader import install
    assert install()
namespace = {}
exec("from pulumi_kubernetes.batch.v1 import *", namespace)
import pulumi_kubernetes.batch.v1 as package
print(json.dumps({"names": sorted(n for n in namespace if n != "__builtins__"), "lazy": type(package).__name__}))
"""


def test_a_star_import_of_a_real_sdk_package_is_the_same_both_ways(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATIVO_")}
    env["DATIVO_SDK_CACHE"] = str(tmp_path)
    shapes = {}
    for mode in ("plain", "fast"):
        out = subprocess.run([sys.executable, "-c", REAL_STAR, mode], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
        assert out.returncode == 0, out.stderr
        shapes[mode] = json.loads(out.stdout)
    assert shapes["fast"]["lazy"] == "_LazyPackage" and shapes["plain"]["lazy"] == "module"
    assert shapes["fast"]["names"] == shapes["plain"]["names"] and "CronJob" in shapes["plain"]["names"]



def test_a_cache_that_cannot_be_written_still_loads_and_leaves_nothing(site, monkeypatch):
    """A read-only or full file system: the code is used, not kept (also checked by hand on a read-only bind mount)."""
    _, cache, load = site

    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(sdk_loader.os, "supports_dir_fd", os.supports_dir_fd | {refuse})
    monkeypatch.setattr(sdk_loader.os, "rename", refuse)
    package = load()
    assert package.get_beta() == "beta" and package.Alpha.__name__ == "Alpha"
    assert list(cache.iterdir()) == []


def test_without_its_own_source_to_hash_the_loader_is_not_installed(monkeypatch, tmp_path):
    sdk_loader.uninstall()
    try:
        monkeypatch.setattr(sdk_loader, "VERSION", "")
        assert sdk_loader.install(tmp_path) is False and not sdk_loader.installed()
    finally:
        monkeypatch.undo()
        sdk_loader.install()  # as the session had it (conftest)
