"""The batch command line: `python -m blur_sdk blur INPUT... --out DIR` (see command.py)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from blur_sdk.cli.options import HELP, configure

if TYPE_CHECKING:
    from blur_sdk.core.find.engine import Engine

__all__ = ["HELP", "configure", "main", "run"]


def run(args: argparse.Namespace, engine: Engine | None = None) -> int:
    """Run the command on parsed arguments (the heavy imports happen here, not at parse time)."""
    from blur_sdk.cli import command

    return command.run(args, engine)


def main(argv: Sequence[str] | None = None, engine: Engine | None = None) -> int:
    """The command alone: `main(["photos", "--out", "blurred"])` (tests pass a fake engine)."""
    from blur_sdk.cli import command

    return command.main(argv, engine)
