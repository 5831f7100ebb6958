"""The ``dativo-infra`` console script: Ctrl-C at any moment is "interrupted" and exit 130, never a traceback.

Importing the command line takes tens of milliseconds; a SIGINT then would otherwise
print a ``KeyboardInterrupt`` traceback from the middle of an import. This module
imports nothing heavy: it installs its own SIGINT handler first, imports the CLI, and
hands over to :func:`dativo_infra.cli.main`, which handles interrupts from then on.
"""
from __future__ import annotations

import os
import signal
import sys

INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def _interrupted_while_starting(signum, frame) -> None:
    os.write(2, b"interrupted\n")
    os._exit(INTERRUPTED)  # nothing is written yet: there is nothing to clean up


class Interrupted(BaseException):
    """Ctrl-C once the CLI runs. Not a KeyboardInterrupt: click turns those into "Aborted!" and exit 1.

    Like KeyboardInterrupt it is no ``Exception``, so nothing on the way catches it by accident, and every
    ``finally`` runs as it unwinds (a write in progress removes its temporary file; workers are stopped).
    """


def _interrupt(signum, frame) -> None:
    raise Interrupted


def main() -> None:
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    from .cli import main as cli_main

    try:
        signal.signal(signal.SIGINT, _interrupt)
        cli_main()
    except (Interrupted, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED)


if __name__ == "__main__":
    main()
