"""Where the Dagster fleet reads its stacks, and which operation it runs: the environment, read once.

``DATIVO_JOBS_DIR``      the jobs folder (default: the project's, ``jobs``, as ``plan --all`` finds it)
``DATIVO_ASSETS_DIR``    the asset files' folder (default: the loader's)
``DATIVO_FLEET_MODE``    ``plan`` (default, offline), ``preview`` or ``up``: what the stack asset and the sensor run
``DATIVO_PROJECT_DIR``   the folder of ``Pulumi.yaml`` and the ``Pulumi.<tenant>-<environment>.yaml`` stack files (default ``.``)
``DATIVO_SECRETS_PROVIDER``  a Pulumi secrets provider (``awskms://alias/NAME``) instead of ``PULUMI_CONFIG_PASSPHRASE``

The Pulumi state backend is Pulumi's own ``PULUMI_BACKEND_URL`` (:func:`dativo_infra.automation.backend_url`).
No Dagster import here: the settings are plain data.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from ..errors import ConfigError, Problem

__all__ = ["MODES", "OPERATIONS", "FleetSettings"]

MODES = ("plan", "preview", "up")  # DATIVO_FLEET_MODE: what a materialization of a stack runs
OPERATIONS = ("plan", "preview", "up", "refresh")  # what the Dagster definitions can run (destroy stays a deliberate CLI act)


@dataclass(frozen=True)
class FleetSettings:
    project_dir: str = "."
    jobs_dir: Optional[str] = None  # None: the project's (Pulumi.yaml's dativo-infra:jobsDir, else jobs)
    assets_dir: Optional[str] = None
    mode: str = "plan"
    secrets_provider: Optional[str] = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError([Problem("DATIVO_FLEET_MODE", f"{self.mode!r} is not a fleet mode; use one of: {', '.join(MODES)}")])

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> FleetSettings:
        env = os.environ if environ is None else environ
        return cls(project_dir=env.get("DATIVO_PROJECT_DIR") or ".", jobs_dir=env.get("DATIVO_JOBS_DIR") or None,
                   assets_dir=env.get("DATIVO_ASSETS_DIR") or None, mode=(env.get("DATIVO_FLEET_MODE") or "plan").strip().lower(),
                   secrets_provider=env.get("DATIVO_SECRETS_PROVIDER") or None)

    def project(self):
        """The project folder with these settings as its flags (they win over the stack files, as the CLI's do)."""
        from ..stack import Flags, Project

        return Project(self.project_dir, Flags(jobs_dir=self.jobs_dir, assets_dir=self.assets_dir))

    def jobs_folder(self) -> str:
        return self.jobs_dir or self.project().jobs_dir
