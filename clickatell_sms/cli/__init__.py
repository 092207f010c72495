"""`clickatell-sms`: send, look up balance and status, receive callbacks, run campaigns, sandbox.

    clickatell-sms send --to +27821234567 --text "Hello"     # no key set: the embedded sandbox
    clickatell-sms estimate --text "Hello €"
    clickatell-sms balance
    clickatell-sms status 5eaefd67a0dc4f3981591e742f8ff7de
    clickatell-sms listen --port 8081                        # prints callbacks as they arrive
    clickatell-sms bulk --csv people.csv --text "Hello" --journal run.sqlite
    clickatell-sms listen --port 8081 --journal run.sqlite   # callbacks into the journal
    clickatell-sms report run.sqlite --html report.html      # what became of the campaign
    clickatell-sms bulk --csv people.csv --text "Hello" --dry-run   # counted and priced, not sent
    clickatell-sms opt-outs list                             # numbers that replied STOP
    clickatell-sms sandbox --port 8080
    clickatell-sms conformance --live --json report.json  # free probes of the real API

Without an API key anywhere (no `--api-key`, no `CLICKATELL_API_KEY`, no base URL), `send`,
`balance`, `status` and `bulk` talk to an in-process sandbox and say so on stderr, so the first
command of the README works on a fresh machine without an account. Exit statuses are in
`common`.

Each command imports what it runs inside its own functions: `clickatell-sms --help`, and a
command's parse and check steps, load no command's stack (`tests/test_code_shape.py` holds this).

One module per command family (`send`, `account`, `listen`, `bulk` with `dry_run`, `opt_outs`,
`report`, `sandbox`, `conformance`), each built the same way: a table of its options (`table`;
the spec's fields come from `fields`), `add_parser(commands)` that makes them argparse's, a
check step that turns the parsed options into what the library takes (its `ValidationError`
named by flag through `wording`; a `UsageError` where no flag applies), and a run step. `common`
holds what they share: the connection options, the embedded sandbox, exit statuses, failure
reports. One thing has one flag on every command (`--text`, `--region`), and `-v` works before
or after the command (`sandbox`: before it).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
from collections.abc import Callable, Sequence
from typing import Final, NoReturn

from .._version import __version__
from ..errors import ClickatellError, ValidationError
from . import account, bulk, conformance, listen, opt_outs, report, sandbox, send
from .common import (
    EXIT_API,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_TRANSPORT,
    EXIT_USAGE,
    UsageError,
    error,
    failure_document,
    log_lines_on_stderr,
    print_failure,
)
from .wording import in_shell_words

__all__ = ["EXIT_API", "EXIT_OK", "EXIT_REJECTED", "EXIT_TRANSPORT", "EXIT_USAGE", "main"]

Runner = Callable[[argparse.Namespace], int]

FAMILIES: Final = (send, account, listen, bulk, opt_outs, report, sandbox, conformance)
"""The command modules, in --help order; each may say which of the spec's operations its
commands carry (`OPERATIONS`), which a test holds to the spec."""

EXIT_BROKEN_PIPE: Final = 128 + 13
"""The status of a program that SIGPIPE ended, which is what a shell expects of `... | head`."""

_VERBOSE: Final = ("-v", "--verbose")
_VERBOSE_HELP: Final = "log requests and retry decisions on stderr"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader of stdout went away (`clickatell-sms send --json | head -1`): end quietly,
        # as a program killed by SIGPIPE would, and keep the interpreter's final flush of the
        # dead pipe from printing a second error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    _UsageParser.last_error = None
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # a usage error (argparse printed it), --help or --version
        status = exc.code if isinstance(exc.code, int) else EXIT_USAGE
        if status != EXIT_OK and _json_switch_given(parser, args_list):
            print_failure(failure_document(status, usage=_UsageParser.last_error))
        return status
    # -v: the SDK's log lines on stderr, for as long as the command runs
    with log_lines_on_stderr(
        "clickatell_sms",
        "%(name)s: %(message)s",
        enabled=args.verbose,
        level=logging.DEBUG,
        logger_level=logging.DEBUG,
    ):
        try:
            return _run(args)
        except KeyboardInterrupt:  # commands that have more to say about it catch it themselves
            error("interrupted")
            return EXIT_INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    run: Runner = args.run
    as_json = getattr(args, "json", False) is True
    try:
        return run(args)
    except ValidationError as exc:
        worded = in_shell_words(exc)
        error(str(worded))
        status = EXIT_USAGE
        failure: ClickatellError = worded
    except UsageError as exc:
        error(str(exc))
        if as_json:
            print_failure(failure_document(EXIT_USAGE, usage=str(exc)))
        return EXIT_USAGE
    except ClickatellError as exc:  # raised outside a send (setting up, the sandbox...)
        error(str(exc))
        status, failure = EXIT_API, exc
    if as_json:
        print_failure(failure_document(status, failure))
    return status


def _json_switch_given(parser: argparse.ArgumentParser, args_list: list[str]) -> bool:
    """Whether the command line gives `--json` to a command where it is a switch (for
    `conformance` it names a file)."""
    if "--json" not in args_list:
        return False
    commands = next(
        (a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), {}
    )
    named = next((commands[word] for word in args_list if word in commands), None)
    switch = None if named is None else named._option_string_actions.get("--json")
    return switch is not None and switch.nargs == 0


class _UsageParser(argparse.ArgumentParser):
    """argparse's parser, remembering its last usage error for `--json`'s failure document."""

    last_error: str | None = None

    def error(self, message: str) -> NoReturn:
        _UsageParser.last_error = f"{self.prog}: {message}"
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _UsageParser(
        prog="clickatell-sms",
        description="Send SMS through Clickatell's Platform API (or a local sandbox).",
    )
    parser.add_argument(*_VERBOSE, action="store_true", help=_VERBOSE_HELP)
    parser.add_argument(
        "--version",
        action="version",
        version=f"clickatell-sms {__version__} (Python {platform.python_version()})",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for family in FAMILIES:
        family.add_parser(commands)
    for name, command in commands.choices.items():
        if name != "sandbox":  # the sandbox takes -v only before the command, as it always has
            # SUPPRESS: when not given here, the value before the command is kept.
            command.add_argument(
                *_VERBOSE, action="store_true", default=argparse.SUPPRESS, help=_VERBOSE_HELP
            )
    return parser
