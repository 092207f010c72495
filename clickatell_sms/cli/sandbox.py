"""`sandbox`: the local Clickatell-compatible API, with its own parser (`sandbox.cli`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .common import EXIT_USAGE

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    # Listed for --help only: main() hands `sandbox ...` to `run`, which has its own parser.
    cmd = commands.add_parser(
        "sandbox",
        help="run a local Clickatell-compatible API (see: clickatell-sms sandbox --help)",
        add_help=False,
    )
    cmd.set_defaults(run=lambda args: EXIT_USAGE)


def run(argv: Sequence[str]) -> int:
    """`clickatell-sms sandbox ...`, options passed to the sandbox's own parser untouched."""
    from ..sandbox.cli import main

    try:
        return main(list(argv))
    except SystemExit as exc:  # its parser's usage errors and --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
