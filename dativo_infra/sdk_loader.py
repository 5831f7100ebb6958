"""Load the provider SDKs in a third of the time, in the processes that only plan offline.

An offline plan's fixed start-up is mostly importing the provider SDKs: about
1.4 s for the four of them, serial, before any stack can be planned (the
bound on ``plan --all --parallel 2``; ``benchmarks/NOTES.md``). Two things make
it slow, and this loader changes both, in how the SDKs' own files are compiled,
not in what they contain:

- Every annotation of the generated functions (``Optional[pulumi.Input[str]]`` on
  every argument of every ``__init__``) is evaluated by ``typing`` as the module
  executes. Compiled as ``from __future__ import annotations`` (PEP 563) would
  compile them, they stay strings; Pulumi resolves the few it reads (getters'
  return types) with ``typing.get_type_hints``, as it already does for the SDKs'
  quoted ones. Annotations in class bodies (the ``TypedDict`` types) are left as
  shipped: ``typing`` reads ``NotRequired`` there as the class is made, and a
  string would hide it.
- A package's ``__init__`` star-imports every resource module of its service
  (``pulumi_aws.ec2``: about 180) when a plan uses two. Each ``from .x import *``
  whose module declares a literal ``__all__`` becomes a lazy name instead
  (PEP 562): the module is imported when one of its names is first read, and
  bound to the package exactly as the star import would have bound it.

The compiled code is cached per file under the user's cache folder, so only
the first run after an SDK is installed pays for compiling (a few seconds). An
entry is used while its file's mtime, size, inode and ctime are unchanged (no
installer can keep a ctime: a reinstall with the same mtimes still compiles
again, and pip, which deletes ``__pycache__``, does not know this folder), and
for a package, those of the sibling modules whose ``__all__`` it read and of
its folder. The folder is opened once and checked to be this user's and
writable by nobody else, and every entry is read through that open folder and
must be this user's: nobody else's code is ever executed, even if a folder
above it is theirs. If that cannot be had, the loader is not installed and the
SDKs load as shipped.

Used by ``dativo-infra plan`` and by fleet processes that plan; ``pulumi up``,
the Automation API and library callers load the SDKs as shipped.
``DATIVO_SDK_LOADER=plain`` turns it off. ``tests/test_sdk_loader.py`` checks
that plans are byte for byte the same either way.
"""
from __future__ import annotations

import ast
import dis
import errno
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


def _own_hash() -> str:
    """This file's hash: code compiled by another version of the transformation is never read."""
    try:
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    except OSError:  # loaded from an archive (a frozen or zipped application): no hash, so no cache (not installed)
        return ""


VERSION = _own_hash()

_LAZY_ATTRIBUTE = "__dativo_lazy__"


def cache_dir() -> Optional[Path]:
    """Where compiled SDK code is kept: private to this user, created if needed; None if that cannot be had.

    ``DATIVO_SDK_CACHE`` names it; else ``$XDG_CACHE_HOME/dativo-infra/sdk-code``
    (``~/.cache`` by default; a relative ``XDG_CACHE_HOME`` is ignored, as the XDG
    specification says), in a folder per Python version and loader version.
    """
    explicit = os.environ.get("DATIVO_SDK_CACHE")
    if explicit:
        base = Path(explicit)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        home = os.path.expanduser("~")
        root = xdg if os.path.isabs(xdg) else (os.path.join(home, ".cache") if home != "~" else "")
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
    private = stat.S_ISDIR(info.st_mode) and _private(info)
    if private and new:  # this version's first run: what older versions compiled is never read again
        for old in base.glob(f"{sys.implementation.cache_tag}-*"):
            ours = len(old.name) == len(folder.name) and all(c in "0123456789abcdef" for c in old.name[-len(VERSION):])
            try:
                old_info = os.lstat(old)
            except OSError:
                continue
            mine = stat.S_ISDIR(old_info.st_mode) and old_info.st_uid == os.geteuid()  # in a shared folder: not others'
            if ours and mine and old != folder:
                shutil.rmtree(old, ignore_errors=True)
    return folder if private else None


def install(cache: Optional[Path] = None) -> bool:
    """Load the SDK packages through this loader from now on; False (nothing changed) if it is off or has no cache.

    Only modules imported after this call are affected; installing twice is a no-op.
    """
    if installed():
        return True
    if os.environ.get("DATIVO_SDK_LOADER", "").strip().lower() == "plain" or not VERSION:
        return False
    folder = cache if cache is not None else cache_dir()
    if folder is None:
        return False
    try:
        finder = _Finder(folder)
    except OSError:  # not a private folder of this user's (or no *at calls here): the SDKs load as shipped
        return False
    sys.meta_path.insert(0, finder)
    return True


def installed() -> bool:
    return any(isinstance(finder, _Finder) for finder in sys.meta_path)


def uninstall() -> None:
    """Stop loading through this loader (modules already loaded stay as they are)."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _Finder)]


def _private(info: os.stat_result) -> bool:
    """A folder or file that this user owns and nobody else can write to: code read from it may be executed."""
    return info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _open_private_folder(folder: Path) -> int:
    """An open descriptor of ``folder``, checked private; raises OSError if it is not.

    Entries are then read and written relative to this descriptor, never by
    path: a folder above it that someone else can write to (a shared
    ``DATIVO_SDK_CACHE``, ``sudo`` with another user's ``HOME``) cannot swap in
    a folder of theirs after the check.
    """
    if not {os.open, os.rename, os.unlink} <= os.supports_dir_fd:  # POSIX: rename replaces
        raise OSError(errno.ENOTSUP, "no *at system calls: entries could only be read by path", str(folder))
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    info = os.fstat(fd)
    if not (stat.S_ISDIR(info.st_mode) and _private(info)):
        os.close(fd)
        raise PermissionError(errno.EPERM, "not a folder of this user's that nobody else can write to", str(folder))
    return fd


def _signature(path: str) -> Optional[tuple[int, int, int, int]]:
    """What changes whenever the file at ``path`` is written or replaced (None: there is nothing there)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds SDK modules as the standard path finder does, and hands their source files to :class:`_Loader`."""

    def __init__(self, folder: Path, packages: Sequence[str] = SDK_PACKAGES) -> None:
        self.folder = folder
        self.folder_fd = _open_private_folder(folder)
        self.packages = frozenset(packages)

    def find_spec(self, fullname: str, path: Optional[Sequence[str]] = None, target: Any = None):
        if fullname.partition(".")[0] not in self.packages:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _Loader(spec.loader.name, spec.loader.path, self.folder_fd)
        return spec


class _Loader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, folder_fd: int) -> None:
        super().__init__(fullname, path)
        self.folder_fd = folder_fd

    def get_code(self, fullname: str) -> types.CodeType:
        source_path = self.get_filename(fullname)
        # one entry per file, replaced when the file changes (as __pycache__ does): the folder does not grow with upgrades
        key = f"{VERSION}\0{sys.version}\0{source_path}"
        entry = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest() + ".code"
        signature = _signature(source_path)
        code = _read_entry(self.folder_fd, entry, source_path, signature)
        if code is not None:
            return code
        _tell_once()
        depends: list[str] = []
        code = compile_module(self.get_data(source_path), source_path, is_package=self.is_package(fullname), read=depends)
        # signatures taken before the files were read: one changed meanwhile makes the entry stale, not wrong
        recorded = tuple((path, _signature(path)) for path in depends)
        _write_entry(self.folder_fd, entry, marshal.dumps((source_path, signature, recorded, code)))
        return code


_told: list[bool] = []


def _tell_once() -> None:
    """Say, once per process and only to a person at a terminal, why this first plan takes seconds longer."""
    if _told:
        return
    _told.append(True)
    try:
        if sys.stderr is not None and sys.stderr.isatty():
            sys.stderr.write("dativo-infra: compiling the provider SDKs for offline plans (once per SDK version, a few seconds)\n")
            sys.stderr.flush()
    except (OSError, ValueError):  # a closed stderr: nothing to say it on
        pass


def _read_entry(folder_fd: int, entry: str, source_path: str, signature: Optional[tuple]) -> Optional[types.CodeType]:
    """The cached code of ``source_path`` if the entry is this user's, whole, and its files are unchanged."""
    try:
        # O_NONBLOCK: a named pipe there would otherwise wait for a writer forever (fstat below turns it away)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(entry, flags, dir_fd=folder_fd)
    except OSError:
        return None  # not there yet
    try:
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not (stat.S_ISREG(info.st_mode) and _private(info)):
                return None
            data = handle.read()
        path, recorded_signature, recorded, code = marshal.loads(data)
    except (OSError, EOFError, ValueError, TypeError):
        return None  # unreadable or damaged: compiled again and rewritten
    if path != source_path or signature is None or recorded_signature != signature or not isinstance(code, types.CodeType):
        return None
    if code.co_filename != source_path or not isinstance(recorded, tuple):
        return None
    for item in recorded:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and _signature(item[0]) == item[1]):
            return None
    return code


def compile_module(source: bytes, path: str, *, is_package: bool, read: Optional[list[str]] = None) -> types.CodeType:
    """An SDK file's code: annotations postponed; a package's star imports made lazy where that changes nothing.

    ``read`` receives the other paths whose contents the code depends on (a package's folder and sibling modules).
    """
    tree = _PostponeFunctionAnnotations().visit(ast.parse(source, path))
    if is_package:
        tree = _lazy_star_imports(tree, Path(path).parent, read if read is not None else [])
    return compile(tree, path, "exec", dont_inherit=True)


class _PostponeFunctionAnnotations(ast.NodeTransformer):
    """Each function's parameter and return annotations become the string PEP 563 makes of them; nothing else changes."""

    def visit_FunctionDef(self, node: Any) -> Any:
        arguments = node.args
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]:
            if argument is not None and argument.annotation is not None:
                argument.annotation = _as_string(argument.annotation)
        if node.returns is not None:
            node.returns = _as_string(node.returns)
        self.generic_visit(node)  # nested functions; class bodies inside keep their annotations
        return node

    visit_AsyncFunctionDef = visit_FunctionDef


def _as_string(annotation: ast.expr) -> ast.expr:
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation  # already a string: kept as shipped (it resolves to the same type)
    return ast.copy_location(ast.Constant(ast.unparse(annotation)), annotation)


def _lazy_star_imports(tree: ast.Module, folder: Path, read: list[str]) -> ast.Module:
    """``from .x import *`` → lazy names, for each sibling module ``x.py`` whose ``__all__`` is a plain literal.

    A star import stays as it is when its module has no such ``__all__``, or
    when one of its names is also bound by anything else in the package's own
    code (an assignment, an import, a function): then the order of the two
    bindings matters and only executing them in order gets it right. A package
    that sets its own module class or attribute hooks stays as it is. ``read``
    receives the paths the result depends on: the folder (which names are
    submodules) and each ``x.py`` read.
    """
    read.append(str(folder))
    bound = _names_bound(tree)
    if bound & {"__getattr__", "__dir__", "__class__"} or _binds_dynamically(tree):
        return tree  # its own PEP 562 hooks or module class would bypass the lazy names, or it binds names unseen here
    lazy: dict[str, str] = {}
    body: list[ast.stmt] = []
    for node in tree.body:
        if not (isinstance(node, ast.ImportFrom) and [alias.name for alias in node.names] == ["*"]):
            body.append(node)
            continue
        names = None
        if node.level == 1 and node.module and "." not in node.module and not (folder / node.module).is_dir():
            read.append(str(folder / f"{node.module}.py"))
            names = _literal_all(folder / f"{node.module}.py")
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


_DYNAMIC_BINDERS = frozenset({"globals", "vars", "locals", "setattr", "delattr", "exec", "eval"})


def _binds_dynamically(tree: ast.Module) -> bool:
    """Whether the code may bind names that :func:`_names_bound` cannot see, or replace the module's class.

    ``sys.modules[__name__].__class__ = ...`` (the SDKs' config packages), ``globals()[name] = ...``,
    ``setattr(module, name, ...)``: none of the generated packages that star-import does any of it today.
    """
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            return True
        if isinstance(node, ast.Name) and node.id in _DYNAMIC_BINDERS:
            return True
    return False


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
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


def _literal_all(path: Path) -> Optional[list[str]]:
    """The module's ``__all__`` if it is assigned once, at top level, a list of identifiers; else None.

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
        if name == "__all__" and _star_importing(sys._getframe(1)):
            # `from package import *` takes the public names of the package's __dict__ when it has no __all__:
            # bind every name and submodule the star imports would have bound, then say there is no __all__
            for each in sorted(set(lazy.values())):
                importlib.import_module(f"{self.__name__}.{each}")
            for each in lazy:
                getattr(self, each)
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


def _star_importing(frame: types.FrameType) -> bool:
    """Whether ``frame`` is executing ``from ... import *`` (the instruction that asks a module for ``__all__``)."""
    code, offset = frame.f_code.co_code, frame.f_lasti
    if "IMPORT_STAR" in dis.opmap:  # Python 3.11
        return code[offset] == dis.opmap["IMPORT_STAR"]
    if "CALL_INTRINSIC_1" in dis.opmap:  # 3.12 and later: INTRINSIC_IMPORT_STAR is intrinsic 2
        return code[offset] == dis.opmap["CALL_INTRINSIC_1"] and code[offset + 1] == 2
    return True  # an interpreter this does not know: bind everything whenever __all__ is asked for (slower, never wrong)


def lazy_package(module: types.ModuleType, names: dict[str, str]) -> None:
    """Make ``module`` (a package being imported) resolve ``names`` (name → its module in the package) on first read."""
    module.__dict__[_LAZY_ATTRIBUTE] = dict(names)
    module.__class__ = _LazyPackage


def _write_entry(folder_fd: int, entry: str, data: bytes) -> None:
    """Write ``entry`` whole or not at all (another process may be compiling the same file)."""
    temporary = f"{entry}.{os.getpid()}.{os.urandom(4).hex()}.tmp"  # a pid reused after a crash left one behind
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600, dir_fd=folder_fd)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.rename(temporary, entry, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)  # POSIX rename(2) replaces atomically
    except OSError:  # a full disk or a read-only folder: the code is still used, only not kept
        try:
            os.unlink(temporary, dir_fd=folder_fd)
        except OSError:
            pass
