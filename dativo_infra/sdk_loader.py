"""Load the provider SDKs in a third of the time, in the processes that only plan offline.

An offline plan's fixed start-up is mostly importing the provider SDKs: about
1.4 s for the four of them, serial, before any stack can be planned (the
bound on ``plan --all --parallel 2``; ``benchmarks/NOTES.md``). Two things make
it slow, and this loader changes both, in how the SDKs' own files are compiled,
not in what they contain:

- Every annotation of the generated classes (``Optional[pulumi.Input[str]]`` on
  every argument of every ``__init__``) is evaluated by ``typing`` as the module
  executes. Compiled as if each file began with ``from __future__ import
  annotations`` (PEP 563), they stay strings; Pulumi resolves the few it reads
  with ``typing.get_type_hints``, as it already does for the SDKs' quoted ones.
- A package's ``__init__`` star-imports every resource module of its service
  (``pulumi_aws.ec2``: about 180) when a plan uses two. Each ``from .x import *``
  whose module declares a literal ``__all__`` becomes a lazy name instead
  (PEP 562): the module is imported when one of its names is first read, and
  bound to the package exactly as the star import would have bound it.

The compiled code is cached per file (path, mtime, size, Python version and
a hash of this file; the same validity rule as ``__pycache__``) under the
user's cache folder, so only the first run after an SDK is installed pays for
compiling (a few seconds). If that folder cannot be made private to this user,
the loader is not installed and the SDKs load as shipped.

Used by ``dativo-infra plan`` and by fleet processes that plan; ``pulumi up``,
the Automation API and library callers load the SDKs as shipped.
``DATIVO_SDK_LOADER=plain`` turns it off. ``tests/test_sdk_loader.py`` checks
that plans are byte for byte the same either way.
"""
from __future__ import annotations
import __future__

import ast
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import marshal
import os
import shutil
import stat
import sys
import types
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Optional

__all__ = ["SDK_PACKAGES", "cache_dir", "install", "installed", "uninstall"]

SDK_PACKAGES = ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native", "pulumi_kubernetes")
# this file's own hash: code compiled by another version of the transformation is never read
VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]

_FUTURE_ANNOTATIONS = __future__.annotations.compiler_flag
_LAZY_ATTRIBUTE = "__dativo_lazy__"


def cache_dir() -> Optional[Path]:
    """Where compiled SDK code is kept: private to this user, created if needed; None if that cannot be had.

    ``DATIVO_SDK_CACHE`` names it; else ``$XDG_CACHE_HOME/dativo-infra/sdk-code``
    (``~/.cache`` by default), in a folder per Python version and loader version.
    """
    explicit = os.environ.get("DATIVO_SDK_CACHE")
    if explicit:
        base = Path(explicit)
    else:
        root = os.environ.get("XDG_CACHE_HOME") or (os.path.join(os.path.expanduser("~"), ".cache") if os.path.expanduser("~") != "~" else "")
        if not root or not os.path.isabs(root):
            return None
        base = Path(root, "dativo-infra", "sdk-code")
    folder = base / f"{sys.implementation.cache_tag}-{VERSION}"
    try:
        new = not os.path.lexists(folder)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    # code read from here is executed: only a real folder of this user's that nobody else can write to
    private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022
    if private and new:  # this version's first run: what older versions compiled is never read again
        for old in base.glob(f"{sys.implementation.cache_tag}-*"):
            ours = len(old.name) == len(folder.name) and all(c in "0123456789abcdef" for c in old.name[-len(VERSION):])
            if ours and old != folder and old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
    return folder if private else None


def install(cache: Optional[Path] = None) -> bool:
    """Load the SDK packages through this loader from now on; False (nothing changed) if it is off or has no cache.

    Only modules imported after this call are affected; installing twice is a no-op.
    """
    if installed():
        return True
    if os.environ.get("DATIVO_SDK_LOADER", "").strip().lower() == "plain":
        return False
    folder = cache if cache is not None else cache_dir()
    if folder is None:
        return False
    sys.meta_path.insert(0, _Finder(folder))
    return True


def installed() -> bool:
    return any(isinstance(finder, _Finder) for finder in sys.meta_path)


def uninstall() -> None:
    """Stop loading through this loader (modules already loaded stay as they are)."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _Finder)]


class _Finder(importlib.abc.MetaPathFinder):
    """Finds SDK modules as the standard path finder does, and hands their source files to :class:`_Loader`."""

    def __init__(self, folder: Path, packages: Sequence[str] = SDK_PACKAGES) -> None:
        self.folder = folder
        self.packages = frozenset(packages)

    def find_spec(self, fullname: str, path: Optional[Sequence[str]] = None, target: Any = None):
        if fullname.partition(".")[0] not in self.packages:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _Loader(spec.loader.name, spec.loader.path, self.folder)
        return spec


class _Loader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, folder: Path) -> None:
        super().__init__(fullname, path)
        self.folder = folder

    def get_code(self, fullname: str) -> types.CodeType:
        source_path = self.get_filename(fullname)
        info = os.stat(source_path)
        key = f"{VERSION}\0{sys.version}\0{source_path}\0{info.st_mtime_ns}\0{info.st_size}"
        cached = self.folder / (hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest() + ".code")
        try:
            code = marshal.loads(cached.read_bytes())
            if isinstance(code, types.CodeType) and code.co_filename == source_path:
                return code
        except (OSError, EOFError, ValueError, TypeError):
            pass  # not there yet, or unreadable: compiled again below and rewritten
        code = compile_module(self.get_data(source_path), source_path, is_package=self.is_package(fullname))
        _write_atomically(cached, marshal.dumps(code))
        return code


def compile_module(source: bytes, path: str, *, is_package: bool) -> types.CodeType:
    """An SDK file's code: annotations postponed; a package's star imports made lazy where that changes nothing."""
    if not is_package:
        return compile(source, path, "exec", flags=_FUTURE_ANNOTATIONS, dont_inherit=True)
    tree = ast.parse(source, path)
    tree = _lazy_star_imports(tree, Path(path).parent)
    return compile(tree, path, "exec", flags=_FUTURE_ANNOTATIONS, dont_inherit=True)


def _lazy_star_imports(tree: ast.Module, folder: Path) -> ast.Module:
    """``from .x import *`` → lazy names, for each sibling module ``x.py`` whose ``__all__`` is a plain literal.

    A star import stays as it is when its module has no such ``__all__``, or
    when one of its names is also bound by anything else in the package's own
    code (an assignment, an import, a function): then the order of the two
    bindings matters and only executing them in order gets it right.
    """
    bound = _names_bound(tree)
    lazy: dict[str, str] = {}
    body: list[ast.stmt] = []
    for node in tree.body:
        if not (isinstance(node, ast.ImportFrom) and [alias.name for alias in node.names] == ["*"]):
            body.append(node)
            continue
        names = _literal_all(folder / f"{node.module}.py") if node.level == 1 and node.module and "." not in node.module else None
        if names is None:
            return tree  # a star import whose names only executing it tells: any of them could be a lazy one's
        if bound.intersection(names):
            body.append(node)
            bound.update(names)  # executed in order with the package's own bindings; no lazy name may shadow it
            continue
        for name in names:  # a later star import wins, as it would have
            lazy[name] = node.module  # type: ignore[assignment]  # a str, checked above
    if not lazy:
        return tree
    if bound.intersection(lazy):
        return tree  # a name both lazy and bound in order: which wins depends on the order; keep it
    if any(lazy[name] != name and ((folder / f"{name}.py").exists() or (folder / name).is_dir()) for name in lazy):
        return tree  # a name that is also another submodule's: which binding wins depends on import order; keep that order
    setup = ast.parse(f"import sys as _dativo_sys\nfrom {__name__} import lazy_package as _dativo_lazy_package\n"
                      f"_dativo_lazy_package(_dativo_sys.modules[__name__], {lazy!r})\n"
                      "del _dativo_sys, _dativo_lazy_package\n")
    # first, so that a submodule imported while the package's own code runs is bound as the star import would bind it
    tree.body = _after_docstring(body, setup.body)
    return ast.fix_missing_locations(tree)


def _after_docstring(body: list[ast.stmt], inserted: list[ast.stmt]) -> list[ast.stmt]:
    docstring = bool(body) and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)
    return body[:1] + inserted + body[1:] if docstring else inserted + body


def _names_bound(tree: ast.Module) -> set[str]:
    """Every name the module's own statements (other than star imports) can bind, at any depth."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name.partition(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def _literal_all(path: Path) -> Optional[list[str]]:
    """The module's ``__all__`` if it is assigned once, at top level, a list or tuple of strings; else None.

    Reads only the assignment (generated modules put it first): parsing a whole
    ``_inputs.py`` of 10,000 lines to find it would cost more than it saves.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if text.count("__all__") != 1:
        return None  # extended or assigned again somewhere: only executing the module tells
    text = "\n" + text  # a first line is a line too
    start = text.find("\n__all__ = [")
    end = text.find("]\n", start)  # names are identifiers: the first "]" closing a line closes the list
    if start < 0 or end < 0:
        return None
    try:
        statement = ast.parse(text[start + 1:end + 1]).body
    except SyntaxError:
        return None
    if len(statement) != 1 or not isinstance(statement[0], ast.Assign) or not isinstance(statement[0].value, ast.List):
        return None
    names = [element.value if isinstance(element, ast.Constant) else None for element in statement[0].value.elts]
    if not all(isinstance(name, str) and name.isidentifier() for name in names):
        return None
    return names  # type: ignore[return-value]  # all str, checked above


class _LazyPackage(types.ModuleType):
    """A package whose star-imported names are imported from their modules when first read."""

    def __getattr__(self, name: str) -> Any:
        lazy = self.__dict__.get(_LAZY_ATTRIBUTE, {})
        module = lazy.get(name)
        if module is None:
            if name in lazy.values():  # a module whose star import was made lazy: eagerly, it was bound by then
                return importlib.import_module(f"{self.__name__}.{name}")
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{self.__name__}.{module}"), name)
        super().__setattr__(name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # importing submodule x binds the package's x to the module; when x also names something that x.py exports
        # (get_region in get_region.py), the star import rebinds it to that, after: so here
        lazy = self.__dict__.get(_LAZY_ATTRIBUTE, {})
        if (lazy.get(name) == name and isinstance(value, types.ModuleType)
                and value.__name__ == f"{self.__name__}.{name}" and hasattr(value, name)):
            value = getattr(value, name)
        super().__setattr__(name, value)

    def __dir__(self) -> Iterable[str]:
        lazy = self.__dict__.get(_LAZY_ATTRIBUTE, {})
        return sorted(set(self.__dict__) | set(lazy) | set(lazy.values()))


def lazy_package(module: types.ModuleType, names: dict[str, str]) -> None:
    """Make ``module`` (a package being imported) resolve ``names`` (name → its module in the package) on first read."""
    module.__dict__[_LAZY_ATTRIBUTE] = dict(names)
    module.__class__ = _LazyPackage


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (another process may be compiling the same file)."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError:  # a full disk or a vanished folder: the code is still used, only not kept
        try:
            os.unlink(temporary)
        except OSError:
            pass
