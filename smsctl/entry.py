"""Console-script entry point.

Answers `--version` (and, later, shell completion) before the command framework is imported, so
that the commands people press most often start in a few milliseconds.
"""

from __future__ import annotations

import sys


def main() -> None:
    argv = sys.argv[1:]
    if argv == ["--version"]:
        from smsctl import __version__

        sys.stdout.write(f"smsctl {__version__}\n")
        sys.exit(0)
    from smsctl.cli.app import run

    sys.exit(run(argv))
