"""Typed errors. Library code raises these; only the command line prints them.

Every problem carries the file, the position in it, the dotted field path and
a message that says what is allowed, so the CLI can render one line per
problem as ``FILE:LINE:COL: field.path: message``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

__all__ = ["Problem", "DativoError", "ConfigError", "TagError", "ExportError", "ProgramError"]


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    field: str = ""
    line: Optional[int] = None
    col: Optional[int] = None

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "col": self.col, "field": self.field, "message": self.message}


class DativoError(Exception):
    """Base class: one or more problems, all reported at once."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


class ConfigError(DativoError):
    """A job or asset file is unreadable or invalid."""


class TagError(ConfigError):
    """A merged tag set cannot be formatted for a cloud (limits, collisions, reserved names)."""


class ExportError(DativoError):
    """Terraform variables could not be exported (clashes, unwritable output)."""


class ProgramError(DativoError):
    """The Pulumi program cannot run (missing stack config, no jobs)."""
