"""Asset definitions: where an ``asset_path`` points, read once per run.

An asset file has one of two layouts, which give the same :class:`AssetDefinition` (the same
finops and compliance, with the same precedence):

- nested: everything under an ``asset:`` key (``asset: {name, schema, compliance, finops…}``);
- flat, as ODCS v3.0.2 data contracts are written: ``apiVersion``, ``kind: DataContract``,
  ``name``, ``team``, ``compliance``, ``finops``… at the top level, no ``asset:`` key.

An ``asset_path`` may only lead to a file inside the assets directory (``--assets-dir``, else
``DATIVO_ASSETS_DIR``, else ``jobs/assets``), the job file's own folder (and below), or an
``assets/`` folder beside the job file or one of its parents (where :func:`candidates` looks),
symbolic links resolved: a job file cannot make dativo-infra read ``/etc/passwd`` or
``/proc/self/status`` into an error message. Use :meth:`AssetCache.find`::

    asset_file, asset = assets.find(config.asset_path, job_path)   # or ConfigError naming both files
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from pydantic import ValidationError

from ..errors import ConfigError, Problem
from .files import read_regular_file
from .models import AssetDefinition, AssetFile
from .strict_yaml import Locator, decode, load_mapping

ASSETS_DIR_ENV = "DATIVO_ASSETS_DIR"
DEFAULT_ASSETS_DIR = "jobs/assets"


def default_assets_dir() -> str:
    return os.environ.get(ASSETS_DIR_ENV) or DEFAULT_ASSETS_DIR


def _job_folders(job_file: str) -> list[Path]:
    """The job file's folder and up to five of its parents: their ``assets/`` folders are searched."""
    job_dir = Path(job_file).parent
    return [job_dir, *job_dir.parents][:6]


def allowed_roots(job_file: str, assets_dir: Optional[str]) -> list[str]:
    """The real folders an asset file of this job may live in (see the module's rules)."""
    roots = [Path(assets_dir)] if assets_dir else []
    roots.append(Path(job_file).parent)
    roots.extend(folder / "assets" for folder in _job_folders(job_file))
    return [os.path.realpath(r) for r in roots]


def is_inside(path: str, roots: list[str]) -> bool:
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def candidates(asset_path: str, job_file: str, assets_dir: Optional[str]) -> list[Path]:
    """Every place an asset_path may point to, in the order they are tried.

    1. as written; 2. relative to the job file's folder; 3. for a path with an
    ``assets/`` segment (``/app/assets/stripe/v1.0/customers.yaml``), the part
    after it under the assets directory, then under an ``assets/`` folder next
    to the job file or one of its parents (so a checked-out jobs tree works
    without flags).
    """
    job_dir = Path(job_file).parent
    raw = Path(asset_path)
    places = [raw]
    if not raw.is_absolute():
        places.append(job_dir / raw)
    parts = raw.parts
    if "assets" in parts:
        tail = Path(*parts[len(parts) - parts[::-1].index("assets"):])
        if assets_dir:
            places.append(Path(assets_dir) / tail)
        for folder in _job_folders(job_file):
            places.append(folder / "assets" / tail)
    elif assets_dir and not raw.is_absolute():
        places.append(Path(assets_dir) / raw)
    seen, unique = set(), []
    for p in places:
        key = os.path.normpath(str(p))
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


class AssetCache:
    """Reads each asset file once, however many jobs use it."""

    def __init__(self, assets_dir: Optional[str] = None):
        self.assets_dir = assets_dir if assets_dir is not None else default_assets_dir()
        self._by_path: dict[str, tuple[Optional[AssetDefinition], Optional[ConfigError]]] = {}
        self._resolved: dict[tuple[str, str], tuple[Optional[str], list[Path], Optional[str]]] = {}
        self._roots: dict[str, list[str]] = {}  # by job folder: each root's realpath walks every component of it
        self.reads = 0

    def _allowed_roots(self, job_file: str) -> list[str]:
        folder = os.path.dirname(job_file)
        if folder not in self._roots:
            self._roots[folder] = allowed_roots(job_file, self.assets_dir)
        return self._roots[folder]

    def _lookup(self, asset_path: str, job_file: str) -> tuple[Optional[str], list[Path], Optional[str]]:
        """(the file found inside the allowed folders, every place tried, the first file found outside them)."""
        key = (asset_path, os.path.dirname(job_file))  # jobs of one folder share their answers
        if key not in self._resolved:
            tried = candidates(asset_path, job_file, self.assets_dir)
            roots = self._allowed_roots(job_file)
            found, outside = None, None
            for place in tried:
                if place.exists() and not place.is_dir():  # a pipe or a device is found, and then refused by the reader
                    if is_inside(str(place), roots):
                        found = os.path.normpath(str(place))
                        break
                    outside = outside or os.path.normpath(str(place))
            self._resolved[key] = (found, tried, outside)
        return self._resolved[key]

    def resolve(self, asset_path: str, job_file: str) -> tuple[Optional[str], list[Path]]:
        """The asset file ``asset_path`` leads to (None if none inside the allowed folders), and every place tried."""
        found, tried, _ = self._lookup(asset_path, job_file)
        return found, tried

    def find(self, asset_path: str, job_file: str) -> tuple[str, AssetDefinition]:
        """The asset file and its definition; ConfigError naming the asset file and the job file otherwise."""
        found, tried, outside = self._lookup(asset_path, job_file)
        if found is None:
            where = "--assets-dir or " + ASSETS_DIR_ENV
            if outside is not None:
                roots = ", ".join(dict.fromkeys(self._allowed_roots(job_file)[:2]))
                message = (f"asset file {outside} (asset_path of job {job_file}): is outside the folders asset files may live in "
                           f"({roots}, or an assets/ folder beside the job file or a parent); set {where} to the folder that holds it")
            else:
                message = (f"asset file {asset_path!r} (asset_path of job {job_file}): not found; looked in: "
                           f"{', '.join(str(p) for p in tried)} (set {where})")
            raise ConfigError([Problem(job_file, message, field="asset_path")])
        return found, self.load(found, job_file)

    def load(self, file: str, job_file: Optional[str] = None) -> AssetDefinition:
        """The definition in ``file``; its problems name ``job_file`` (the job that points at it) when given."""
        if file not in self._by_path:
            self._by_path[file] = self._read(file)
        asset, error = self._by_path[file]
        if error is not None:
            if job_file is None:
                raise error
            raise ConfigError([Problem(p.file, f"{p.message} (the asset of job {job_file})", p.field, p.line, p.col)
                               for p in error.problems])
        return asset  # type: ignore[return-value]

    def _read(self, file: str) -> tuple[Optional[AssetDefinition], Optional[ConfigError]]:
        self.reads += 1
        text = ""
        try:
            text = decode(file, read_regular_file(file, what="asset file"))
            data = load_mapping(file, text, what="asset file")
            return definition(data), None
        except ConfigError as exc:
            return None, exc
        except ValidationError as exc:
            from .problems import from_validation_error

            root = AssetFile if "asset" in data else AssetDefinition
            return None, ConfigError(from_validation_error(file, exc, Locator(text), root=root))


def is_flat(data: dict) -> bool:
    """The flat ODCS layout: no ``asset:`` key, and the data contract's own ``apiVersion`` or ``kind``."""
    return "asset" not in data and ("apiVersion" in data or "kind" in data)


def definition(data: dict) -> AssetDefinition:
    """The asset definition of a parsed asset file, in either layout (pydantic's ValidationError if invalid)."""
    if is_flat(data):
        return AssetDefinition.model_validate(data)
    return AssetFile.model_validate(data).asset
