"""Console-script entry point.

Answers `--version` and shell completion (`_SMSCTL_COMPLETE=...`, see smsctl.completion) before
the command framework is imported, so that what people press most often starts in a few
milliseconds; everything else goes to cli.app, after starting the provider worker for a
command that will call Alibaba Cloud (see smsctl.providers.worker).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    instruction = os.environ.get("_SMSCTL_COMPLETE")
    if instruction:
        from smsctl.completion import main as complete

        sys.exit(complete(instruction))
    argv = sys.argv[1:]
    if argv == ["--version"]:
        from smsctl import __version__

        sys.stdout.write(f"smsctl {__version__}\n")
        sys.exit(0)
    from smsctl.providers import worker

    channels = worker.channels_of(argv)
    if channels:
        worker.start(channels)
    from smsctl.cli.app import run

    sys.exit(run(argv))
