"""`send` and `estimate`: one text to a few numbers, and what a text will cost in parts."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from ..config import INTEGRATION_ENV
from ..errors import ClickatellError, ValidationError
from .common import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    add_connection_options,
    add_region_option,
    connect,
    error,
    failure_document,
    print_failure,
    print_results,
    read_text,
    report_failure,
    report_interrupted,
    sandbox_note,
)
from .fields import add_option_flags, options_from_args
from .table import Added, Container, add_options, option
from .wording import in_shell_words

if TYPE_CHECKING:
    from ..encoding import Estimate

__all__ = ["ESTIMATE_OPTIONS", "OPERATIONS", "SEND_OPTIONS", "add_parser"]

_TEXT_HELP: Final = "the message text ('-' reads stdin, less its final newline)"

OPERATIONS: Final = MappingProxyType({"sendMessage": "send", "sendMessageHttp": "send"})
"""The spec's operations these commands carry, and the command of each."""


def _message_flags(group: Container) -> None:
    add_option_flags(group)


def _size_flags(cmd: Container) -> None:
    """The two send options that change a text's size."""
    add_option_flags(cmd, names=("binary", "user_data_header"))


def _connection_flags(cmd: Container) -> None:
    add_connection_options(cmd, "send to an embedded sandbox (nothing is sent)")


_TEXT: Final = option("--text", required=True, help=_TEXT_HELP)

SEND_OPTIONS: Final = (
    option(
        "--to",
        action="append",
        required=True,
        metavar="NUMBER",
        help="recipient in international format (repeatable; commas separate several)",
    ),
    _TEXT,
    option("--format", choices=("json", "xml"), default="json", help="wire format"),
    Added(add_region_option),
    Added(_message_flags, group="message options (the API's fields)"),
    option(
        "--integration",
        choices=("rest", "http"),
        help="the key's integration type: rest = POST /messages, http = the GET send (only"
        f" --to, --text and --from); default: the {INTEGRATION_ENV} variable, else rest",
    ),
    Added(_connection_flags),
    option("--json", action="store_true", help="print results as JSON"),
)
"""The options of `send`, in --help order."""

ESTIMATE_OPTIONS: Final = (
    _TEXT,
    Added(_size_flags),
    option("--json", action="store_true", help="print as JSON"),
)
"""The options of `estimate`."""


def add_parser(commands: Any) -> None:
    _add_send(commands)
    _add_estimate(commands)


# -- send -------------------------------------------------------------------------------------


def _add_send(commands: Any) -> None:
    cmd = commands.add_parser(
        "send",
        help="send a text to one or more numbers",
        description=(
            "Send a text. Without an API key (--api-key or CLICKATELL_API_KEY) and without a"
            " base URL, it goes to an embedded sandbox and nothing is really sent."
        ),
    )
    add_options(cmd, SEND_OPTIONS)
    cmd.set_defaults(run=_run_send)


def _run_send(args: argparse.Namespace) -> int:
    text = read_text(args.text)
    recipients = [part.strip() for item in args.to for part in item.split(",") if part.strip()]
    options = options_from_args(args)
    settings: dict[str, Any] = {"format": args.format, "default_region": args.default_region}
    if args.integration is not None:  # else the client reads CLICKATELL_INTEGRATION
        settings["integration"] = args.integration
    with connect(args, from_=args.from_, **settings) as (client, sandbox_url):
        if "client_message_id" not in options and client.integration == "rest":
            # Status callbacks echo it: without one, a send interrupted or of unknown outcome
            # could not be told apart from any other. (Client.send makes none: an application
            # has references of its own. The GET send's use of it is unconfirmed.)
            options["client_message_id"] = uuid.uuid4().hex
        try:
            result = client.send(recipients, text, **options)
        except ValidationError:
            raise  # exit status 2, from main()
        except ClickatellError as exc:
            sandbox_note(sandbox_url)
            return report_failure(exc, args.json, sandbox_url is not None)
        except KeyboardInterrupt as stop:  # a request may be out: say which, never a traceback
            sandbox_note(sandbox_url)
            return report_interrupted(stop, args.json, sandbox_url is not None)
    size = _size(text, options)
    print_results(result, as_json=args.json, sandbox=sandbox_url is not None, size=size)
    if size.parts > 1 and not args.json:
        # Each part is charged per recipient: a long or non-GSM text should not cost silently.
        print(f"message: {_describe_size(size, text)}", file=sys.stderr)
    sandbox_note(sandbox_url)
    return EXIT_OK if result.all_accepted else EXIT_REJECTED


def _size(text: str, options: dict[str, Any]) -> Estimate:
    from ..client import Client

    return Client.estimate(
        text,
        binary=options.get("binary") is True,
        user_data_header=options.get("user_data_header"),
    )


_UNIT_NAMES: Final = {"GSM-7": "septets", "UCS-2": "UTF-16 units", "binary": "octets"}


def _describe_size(size: Estimate, text: str) -> str:
    """`2 parts of GSM-7 (161 septets, 153 per part)`, and for UCS-2 the character that
    forced it, which is often a typographic quote the writer never meant to pay for."""
    parts = "part" if size.parts == 1 else "parts"
    line = (
        f"{size.parts} {parts} of {size.encoding} ({size.units} {_UNIT_NAMES[size.encoding]},"
        f" {size.units_per_part} per part); each part is charged, for every recipient"
    )
    culprit = _first_ucs2_character(text) if size.encoding == "UCS-2" else None
    if culprit is not None:
        line += f"; UCS-2 because of {culprit!r} (U+{ord(culprit):04X}), which GSM-7 lacks"
    return line


def _first_ucs2_character(text: str) -> str | None:
    from ..client import Client

    seen: set[str] = set()
    for character in text:
        if character in seen:
            continue
        seen.add(character)
        if Client.estimate(character).encoding == "UCS-2":
            return character
    return None


# -- estimate ---------------------------------------------------------------------------------


def _add_estimate(commands: Any) -> None:
    cmd = commands.add_parser(
        "estimate",
        help="show a text's encoding and number of parts (nothing is sent)",
        description="Show how a text will be encoded and how many parts (charged) it takes.",
    )
    add_options(cmd, ESTIMATE_OPTIONS)
    cmd.set_defaults(run=_run_estimate)


def _run_estimate(args: argparse.Namespace) -> int:
    from ..encoding import check_parts

    text = read_text(args.text)
    if not text:  # as `send` refuses it (the API answers 107 Empty message), in its words
        raise ValidationError("content", "is empty; the API needs some text", text)
    estimate = _size(text, options_from_args(args))
    document = {
        "encoding": estimate.encoding,
        "characters": estimate.characters,
        "units": estimate.units,
        "parts": estimate.parts,
        "unitsPerPart": estimate.units_per_part,
        "remainingInLastPart": estimate.remaining_in_last_part,
    }
    refusal = None
    try:  # too many parts: the size is shown, then refused as `send` would refuse it
        check_parts(text, binary=args.binary is True, user_data_header=_udh(args))
    except ValidationError as exc:
        refusal = in_shell_words(exc)
    if not args.json:
        _print_estimate(estimate)
    elif refusal is None:
        print(json.dumps(document, indent=2))
    else:
        print_failure({**failure_document(EXIT_USAGE, refusal), "estimate": document})
    if refusal is not None:
        error(str(refusal))
        return EXIT_USAGE
    return EXIT_OK


def _print_estimate(estimate: Estimate) -> None:
    unit = _UNIT_NAMES[estimate.encoding]
    parts = "part" if estimate.parts == 1 else "parts"
    print(
        f"{estimate.encoding}: {estimate.parts} {parts}, {estimate.units} {unit}"
        f" ({estimate.units_per_part} per part, {estimate.remaining_in_last_part} left"
        " in the last)"
    )


def _udh(args: argparse.Namespace) -> bytes | None:
    from ..options import udh_bytes

    return udh_bytes(args.user_data_header)
