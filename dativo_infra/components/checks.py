"""Settings a component cannot do without, reported like every other job-file problem."""
from __future__ import annotations

from ..errors import Problem, ProgramError


def require(component, ok: bool, field: str, message: str) -> None:
    """Fail the run with ``FILE: field: message`` (the program turns it into a StackError) unless ``ok``."""
    if not ok:
        raise ProgramError([Problem(component.job.path, message, field)])
