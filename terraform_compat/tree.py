"""``terraform export --all``: every job under a folder, one file each, on every core when the tree is big."""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Optional, Union

from dativo_infra.errors import DativoError, Problem
from dativo_infra.fsafe import is_temp_name
from dativo_infra.jobs import Job
from dativo_infra.jobs.parallel import load_and_apply
from dativo_infra.resolve import Resolver

from .exporter import SUFFIX, ExportResult, Prepared, is_export, prepare_export, write_export


@dataclass
class TreeExport:
    files: int  # job files found, whether they exported or not
    exported: list[ExportResult] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unreadable: list[Problem] = field(default_factory=list)  # files or folders that could not be read: --clean deletes nothing
    workers: int = 1

    @property
    def ok(self) -> bool:
        return not self.problems


def tree_output_path(output_dir: str, job: Job, fmt: str) -> str:
    """One file per job under its tenant's folder: ``<dir>/<tenant>/<environment>/<job>.tfvars``."""
    return os.path.join(output_dir, job.tenant, job.environment, job.name + SUFFIX[fmt])


BACKEND_SUFFIX = ".backend.hcl"


def backend_output_path(variables_file: str, fmt: str) -> str:
    """The job's backend file sits next to its variables: ``<job>.backend.hcl``."""
    return variables_file[: -len(SUFFIX[fmt])] + BACKEND_SUFFIX


Outcome = Union[Prepared, ExportResult, dict, list]  # prepared or written; a skip note; problems
EXPORTED_SUFFIXES = (*SUFFIX.values(), BACKEND_SUFFIX)


def remove_stale(output_dir: str, written: Iterable[ExportResult]) -> list[str]:
    """Delete the exported files under ``output_dir`` that this export did not write, and return them.

    A job removed from the tree, renamed, or now invalid keeps no file with old
    values that a pipeline applying every file of the folder would apply.
    Only files an export wrote are touched (an export's suffix and its header, see
    :func:`~terraform_compat.exporter.is_export`), and the temporary files of an
    export that was killed (``.dativo-tmp-*``).
    """
    keep = {os.path.abspath(p) for r in written for p in (r.output, r.backend) if p}
    removed = []
    for root, _, files in os.walk(output_dir):
        for name in sorted(files):
            path = os.path.join(root, name)
            ours = is_temp_name(name) or (name.endswith(EXPORTED_SUFFIXES) and is_export(path))  # never a hand-written file
            if ours and os.path.abspath(path) not in keep:
                os.unlink(path)
                removed.append(path)
    return sorted(removed)


def export_tree(
    paths: Iterable[str],
    output_dir: str,
    fmt: str = "hcl",
    *,
    resolver: Optional[Resolver] = None,
    tenant: Optional[str] = None,
    variables: Optional[Mapping[str, str]] = None,
    assets_dir: Optional[str] = None,
    parallel: Optional[int] = None,
    source_base: Optional[str] = None,
) -> TreeExport:
    """Validate every job file under ``paths`` and write each valid job's variables under ``output_dir``.

    A job without an ``infrastructure`` block is skipped with a note; a file
    that fails keeps its problems and writes nothing, the others still export.
    ``parallel``: processes to use (``None``: one per CPU when the tree is big).
    """
    paths = list(paths)
    resolver = resolver or Resolver()

    def prepare(job: Job) -> Outcome:
        if job.infrastructure is None:
            return {"path": job.path, "reason": "no infrastructure block"}
        target = tree_output_path(output_dir, job, fmt)
        tf = job.infrastructure.terraform
        backend = backend_output_path(target, fmt) if tf and tf.backend_config else None
        try:
            return prepare_export(resolver(job), target, fmt, backend, source_base)
        except DativoError as exc:
            return exc.problems

    def apply(outcome: Outcome) -> Outcome:
        if not isinstance(outcome, Prepared):
            return outcome
        try:
            return write_export(outcome)
        except DativoError as exc:
            return exc.problems

    scope = resolver.scope(paths)
    loaded, outcomes, workers = load_and_apply(paths, prepare, apply, workers=parallel, tenant=tenant, variables=variables,
                                               assets_dir=assets_dir, scope=scope)
    result = TreeExport(files=len(loaded.files), problems=loaded.problems, unreadable=loaded.unreadable, workers=workers)
    for outcome in outcomes:
        if isinstance(outcome, ExportResult):
            result.exported.append(outcome)
        elif isinstance(outcome, dict):
            result.skipped.append(outcome)
        else:
            result.problems.extend(outcome)
    return result
