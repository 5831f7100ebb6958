"""The fast SDK loader (dativo_infra.sdk_loader): what it changes in how a package loads, and that plans do not change.

The unit tests load a small package built here that has the shapes of the
generated SDKs (star imports with literal ``__all__``, a module named after the
function it exports, a module without ``__all__``, a name bound twice). The
last tests plan real stacks in fresh processes, once with the SDKs as shipped
(``DATIVO_SDK_LOADER=plain``) and once through the loader, and compare every byte.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dativo_infra import sdk_loader
from dativo_infra.sdk_loader import _Finder, _literal_all

ROOT = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).parent / "dativo-infra")

FAKE = {
    "__init__.py": (
        "import typing\n"
        "from ._inputs import *\n"
        "from .thing import *\n"
        "from .get_thing import *\n"
        "from .loose import loose\n"
        "from .twice import *\n"          # exports Shadowed, which the package also binds: stays eager
        "Shadowed = 'bound by the package'\n"
        "from . import outputs\n"
    ),
    "_inputs.py": (
        "from typing import NotRequired, TypedDict\n"
        "__all__ = [\n    'ThingArgs',\n    'ThingArgsDict',\n]\n"
        "class ThingArgs:\n    size: int\n"
        "class ThingArgsDict(TypedDict):\n    name: str\n    size: NotRequired[int]\n"
    ),
    "outputs.py": "__all__ = ['ThingOutput']\nclass ThingOutput:\n    pass\n",
    "thing.py": (
        "from typing import Optional\n"
        "from ._inputs import *\n"
        "__all__ = ['Thing']\n"
        "class Thing:\n"
        "    def __init__(self, name: Optional[str] = None, args: ThingArgs = None) -> None:\n"
        "        self.name = name\n"
        "    @property\n"
        "    def size(self) -> Optional[int]:\n"
        "        return 1\n"
        "    def quoted(self) -> 'outputs.ThingOutput':\n"
        "        return None\n"
    ),
    "get_thing.py": "__all__ = ['get_thing']\ndef get_thing() -> str:\n    return 'the function'\n",
    "loose.py": "def loose() -> str:\n    return 'eager'\n",
    "twice.py": "__all__ = ['Shadowed']\nShadowed = 'from twice.py'\n",
}


@pytest.fixture
def fake_sdk(tmp_path, monkeypatch):
    """Import ``fakesdk`` through the loader, with its cache in tmp_path; yields the cache folder."""
    package = tmp_path / "site" / "fakesdk"
    package.mkdir(parents=True)
    for name, text in FAKE.items():
        (package / name).write_text(text, encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    finder = _Finder(cache, packages=("fakesdk",))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    sys.meta_path.insert(0, finder)

    def forget():
        for name in [n for n in sys.modules if n == "fakesdk" or n.startswith("fakesdk.")]:
            del sys.modules[name]

    forget()
    yield cache
    sys.meta_path.remove(finder)
    forget()


def test_star_imports_load_when_first_read(fake_sdk):
    import fakesdk

    assert "fakesdk.thing" not in sys.modules and "fakesdk._inputs" not in sys.modules
    assert fakesdk.Thing.__name__ == "Thing"
    assert "fakesdk.thing" in sys.modules and "fakesdk._inputs" in sys.modules
    assert fakesdk.ThingArgs is sys.modules["fakesdk._inputs"].ThingArgs
    assert "Thing" in dir(fakesdk) and "get_thing" in dir(fakesdk)
    from fakesdk import get_thing
    assert get_thing() == "the function"
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        fakesdk.Nothing  # noqa: B018


def test_the_eager_ones_stay_eager_and_in_order(fake_sdk):
    import fakesdk

    assert "fakesdk.loose" in sys.modules and fakesdk.loose() == "eager"
    assert fakesdk.Shadowed == "bound by the package"  # executed in order, as shipped: the package's own binding wins
    assert fakesdk.outputs.ThingOutput.__name__ == "ThingOutput"


def test_a_star_import_of_unknown_names_keeps_the_whole_package_eager(tmp_path):
    from dativo_infra.sdk_loader import compile_module

    for name, text in FAKE.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    init = tmp_path / "__init__.py"
    lazy = compile_module(init.read_bytes(), str(init), is_package=True)
    assert "_dativo_lazy_package" in lazy.co_names
    init.write_text(FAKE["__init__.py"] + "from .loose import *\n", encoding="utf-8")  # loose.py has no __all__
    eager = compile_module(init.read_bytes(), str(init), is_package=True)
    assert "_dativo_lazy_package" not in eager.co_names


def test_a_module_named_like_its_function_is_bound_as_the_star_import_binds_it(fake_sdk):
    import fakesdk
    import fakesdk.get_thing  # noqa: F401 - the submodule first: the import system binds fakesdk.get_thing to the module

    assert callable(fakesdk.get_thing) and fakesdk.get_thing() == "the function"
    import fakesdk.thing as thing_module  # a module whose name is not one of its names stays the module

    assert fakesdk.thing is thing_module


def test_function_annotations_are_postponed_and_class_bodies_are_as_shipped(fake_sdk):
    import fakesdk

    annotations = fakesdk.Thing.__init__.__annotations__
    assert annotations == {"name": "Optional[str]", "args": "ThingArgs", "return": "None"}
    assert fakesdk.Thing.size.fget.__annotations__ == {"return": "Optional[int]"}
    assert fakesdk.Thing.quoted.__annotations__ == {"return": "outputs.ThingOutput"}  # a string already: kept as written
    assert fakesdk.ThingArgs.__annotations__ == {"size": int}
    # a TypedDict sees NotRequired as the SDK wrote it: which keys are required is what the SDK says
    assert fakesdk.ThingArgsDict.__required_keys__ == frozenset({"name"})
    assert fakesdk.ThingArgsDict.__optional_keys__ == frozenset({"size"})


def test_compiled_code_is_cached_and_a_damaged_entry_is_compiled_again(fake_sdk, monkeypatch):
    import fakesdk

    fakesdk.Thing  # noqa: B018
    entries = sorted(fake_sdk.glob("*.code"))
    assert len(entries) >= 3 and not list(fake_sdk.glob("*.tmp"))
    for name in [n for n in sys.modules if n.startswith("fakesdk")]:
        del sys.modules[name]

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled although cached")

    with monkeypatch.context() as patched:
        patched.setattr(sdk_loader, "compile_module", no_compiling)
        import fakesdk as again

        assert again.Thing.__name__ == "Thing"
    for entry in entries:
        entry.write_bytes(b"\x00 not marshal data")
    for name in [n for n in sys.modules if n.startswith("fakesdk")]:
        del sys.modules[name]
    import fakesdk as third

    assert third.get_thing() == "the function"


def test_a_changed_source_is_compiled_again(fake_sdk):
    import fakesdk

    assert fakesdk.get_thing() == "the function"
    source = Path(sys.modules["fakesdk.get_thing"].__file__)
    source.write_text("__all__ = ['get_thing']\ndef get_thing() -> str:\n    return 'edited, same size!'\n", encoding="utf-8")
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 1_000_000_000))
    for name in [n for n in sys.modules if n.startswith("fakesdk")]:
        del sys.modules[name]
    import fakesdk as again

    assert again.get_thing() == "edited, same size!"


def test_literal_all_is_read_only_when_plain(tmp_path):
    cases = {
        "multi": ("x = 1\n__all__ = [\n    'A',\n    'B',\n]\n", ["A", "B"]),
        "single": ("__all__ = ['A', 'AArgs']\n", ["A", "AArgs"]),
        "extended": ("__all__ = ['A']\n__all__ += ['B']\n", None),
        "computed": ("__all__ = [name for name in dir()]\n", None),
        "not_names": ("__all__ = ['A', 'not a name']\n", None),
        "none": ("A = 1\n", None),
        "tuple": ("__all__ = ('A',)\n", None),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / f"{name}.py"
        path.write_text(text, encoding="utf-8")
        assert _literal_all(path) == expected, name
    assert _literal_all(tmp_path / "missing.py") is None


def test_install_needs_a_private_cache_and_can_be_turned_off(tmp_path, monkeypatch):
    sdk_loader.uninstall()
    try:
        monkeypatch.setenv("DATIVO_SDK_LOADER", "plain")
        assert sdk_loader.install(tmp_path) is False and not sdk_loader.installed()
        monkeypatch.delenv("DATIVO_SDK_LOADER")
        shared = tmp_path / "shared"
        shared.mkdir()
        shared.chmod(0o777)
        monkeypatch.setenv("DATIVO_SDK_CACHE", str(shared))
        folder = sdk_loader.cache_dir()
        assert folder is not None and folder.parent == shared and (folder.stat().st_mode & 0o777) == 0o700
        (folder).chmod(0o770)  # another user could write code there: not used
        assert sdk_loader.cache_dir() is None
        folder.chmod(0o700)
        blocked = tmp_path / "file"
        blocked.write_text("not a folder", encoding="utf-8")
        monkeypatch.setenv("DATIVO_SDK_CACHE", str(blocked))
        assert sdk_loader.cache_dir() is None and sdk_loader.install() is False
        monkeypatch.setenv("DATIVO_SDK_CACHE", str(shared))
        assert sdk_loader.install() is True and sdk_loader.installed() and sdk_loader.install() is True
        assert sum(isinstance(f, _Finder) for f in sys.meta_path) == 1
    finally:
        sdk_loader.uninstall()
        sdk_loader.install()  # as the session had it (conftest)


def test_a_new_version_removes_what_older_versions_compiled_and_nothing_else(tmp_path, monkeypatch):
    tag = sys.implementation.cache_tag
    older = tmp_path / f"{tag}-{'0' * len(sdk_loader.VERSION)}"
    older.mkdir()
    (older / "x.code").write_bytes(b"old")
    someone_elses = tmp_path / f"{tag}-notes"
    someone_elses.mkdir()
    monkeypatch.setenv("DATIVO_SDK_CACHE", str(tmp_path))
    folder = sdk_loader.cache_dir()
    assert folder is not None and folder.name == f"{tag}-{sdk_loader.VERSION}"
    assert not older.exists() and someone_elses.is_dir()


# -- the real SDKs, in fresh processes ------------------------------------------------------------------

SHAPES = """
import json, sys
from dativo_infra.sdk_loader import install, installed
install()
import pulumi_aws, pulumi_gcp, pulumi_azure_native, pulumi_kubernetes
import pulumi_aws.get_region
import pulumi_kubernetes.batch.v1.CronJob
print(json.dumps({
    "installed": installed(),
    "get_region": callable(pulumi_aws.get_region) and pulumi_aws.get_region.__module__,
    "cron_job": isinstance(pulumi_kubernetes.batch.v1.CronJob, type),
    "security_group": pulumi_aws.ec2.SecurityGroup.__module__,
    "service": pulumi_gcp.cloudrunv2.Job.__module__,
    "container_app_job": pulumi_azure_native.app.Job.__module__,
    "loaded_ec2_modules": sum(1 for name in sys.modules if name.startswith("pulumi_aws.ec2.")),
}))
"""


@pytest.fixture(scope="session")
def sdk_cache(tmp_path_factory) -> Path:
    """Where this machine keeps the loader's cache; else (a read-only home) one of the session's own."""
    cache = sdk_loader.cache_dir()
    return cache.parent if cache is not None else tmp_path_factory.mktemp("sdk-cache")


def _env(cache: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATIVO_")}
    env["DATIVO_SDK_CACHE"] = str(cache)
    env.update(extra)
    return env


def test_the_real_sdks_keep_their_shape(sdk_cache):
    out = subprocess.run([sys.executable, "-c", SHAPES], capture_output=True, text=True, cwd=ROOT, env=_env(sdk_cache), timeout=300)
    assert out.returncode == 0, out.stderr
    shapes = json.loads(out.stdout)
    assert shapes["installed"] is True
    assert shapes["get_region"] == "pulumi_aws.get_region"
    assert shapes["cron_job"] is True
    assert shapes["security_group"] == "pulumi_aws.ec2.security_group"
    assert shapes["service"] == "pulumi_gcp.cloudrunv2.job"
    assert shapes["container_app_job"] == "pulumi_azure_native.app.job"
    # the point of it: of pulumi_aws.ec2's hundreds of modules, those read and the ones they import
    assert shapes["loaded_ec2_modules"] < 10


def _plan_all(jobs_dir: Path, out: Path, cache: Path, **env: str) -> dict:
    result = subprocess.run([CLI, "plan", "--all", "--jobs-dir", str(jobs_dir), "--output-dir", str(out), "--parallel", "2", "--json"],
                            capture_output=True, text=True, cwd=ROOT, env=_env(cache, **env), timeout=600)
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    for record in report["stacks"]:
        for key in ("seconds", "pid", "started_at", "finished_at", "notes"):
            record.pop(key, None)
    report.pop("seconds", None)
    return report


def test_plans_are_the_same_byte_for_byte_with_and_without_the_loader(tmp_path, reference_jobs):
    from benchmarks.generate import generate

    fleet = tmp_path / "fleet"
    generate(str(fleet), 3, 4, runtimes=("ecs", "cloud_run", "container_apps", "kubernetes"))
    cache = tmp_path / "cache"  # empty at first: what the loader compiles shows that it loaded the SDKs of the runs
    for name, jobs_dir in (("examples", ROOT / "jobs"), ("fleet", fleet), ("reference", reference_jobs / "jobs")):
        plain = _plan_all(jobs_dir, tmp_path / name / "plain", cache, DATIVO_SDK_LOADER="plain")
        if name == "examples":
            assert not list(cache.glob("*/*.code")), "the loader was used although turned off"
        fast = _plan_all(jobs_dir, tmp_path / name / "fast", cache)
        assert len(list(cache.glob("*/*.code"))) > 100, "the SDKs were not loaded through the loader"
        assert plain == fast, name
        assert [r["ok"] for r in plain["stacks"]] and any(r["ok"] for r in plain["stacks"]), name
        files = sorted(p.name for p in (tmp_path / name / "plain").iterdir())
        assert files == sorted(p.name for p in (tmp_path / name / "fast").iterdir()) and files, name
        for file in files:
            assert (tmp_path / name / "plain" / file).read_bytes() == (tmp_path / name / "fast" / file).read_bytes(), (name, file)


class _Terminal:
    """A stderr that says it is a terminal, and keeps what is written to it."""

    def __init__(self, terminal: bool) -> None:
        self.terminal, self.text = terminal, ""

    def isatty(self) -> bool:
        return self.terminal

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("terminal", [True, False])
def test_compiling_is_announced_once_and_only_at_a_terminal(fake_sdk, monkeypatch, terminal):
    stderr = _Terminal(terminal)
    monkeypatch.setattr(sdk_loader, "_told", [])
    monkeypatch.setattr(sys, "stderr", stderr)
    import fakesdk

    fakesdk.Thing  # noqa: B018 - a second and third module compiled: still one line
    expected = "dativo-infra: compiling the provider SDKs for offline plans (once per SDK version, a few seconds)\n"
    assert stderr.text == (expected if terminal else "")
