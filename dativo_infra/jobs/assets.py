"""Asset definitions: where an ``asset_path`` points, read once per run."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from pydantic import ValidationError

from ..errors import ConfigError, Problem
from .models import AssetDefinition, AssetFile
from .strict_yaml import Locator, decode, load_mapping

ASSETS_DIR_ENV = "DATIVO_ASSETS_DIR"
DEFAULT_ASSETS_DIR = "jobs/assets"


def default_assets_dir() -> str:
    return os.environ.get(ASSETS_DIR_ENV) or DEFAULT_ASSETS_DIR


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
        for folder in [job_dir, *job_dir.parents][:6]:
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
        self._resolved: dict[tuple[str, str], tuple[Optional[str], list[Path]]] = {}
        self.reads = 0

    def resolve(self, asset_path: str, job_file: str) -> tuple[Optional[str], list[Path]]:
        key = (asset_path, os.path.dirname(job_file))  # jobs of one folder share their answers
        if key not in self._resolved:
            tried = candidates(asset_path, job_file, self.assets_dir)
            found = next((os.path.normpath(str(p)) for p in tried if p.is_file()), None)
            self._resolved[key] = (found, tried)
        return self._resolved[key]

    def load(self, file: str) -> AssetDefinition:
        if file not in self._by_path:
            self._by_path[file] = self._read(file)
        asset, error = self._by_path[file]
        if error is not None:
            raise error
        return asset  # type: ignore[return-value]

    def _read(self, file: str):
        self.reads += 1
        try:
            text = decode(file, Path(file).read_bytes())
            data = load_mapping(file, text, what="asset file")
            return AssetFile.model_validate(data).asset, None
        except ConfigError as exc:
            return None, exc
        except OSError as exc:
            return None, ConfigError([Problem(file, f"cannot read asset file: {exc.strerror}")])
        except ValidationError as exc:
            from .problems import from_validation_error

            return None, ConfigError(from_validation_error(file, exc, Locator(text)))
