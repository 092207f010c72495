"""`send` and `estimate`: one text to a few numbers, and what a text will cost in parts."""

from __future__ import annotations

import argparse
import json
import sys
from types import MappingProxyType
from typing import Any, Final

from ..config import INTEGRATION_ENV
from ..errors import ClickatellError, ValidationError
from .common import (
    EXIT_OK,
    EXIT_REJECTED,
    add_connection_options,
    connect,
    print_results,
    report_failure,
    sandbox_note,
)
from .fields import add_option_flags, options_from_args

__all__ = ["OPERATIONS", "add_parser"]

OPERATIONS: Final = MappingProxyType({"sendMessage": "send", "sendMessageHttp": "send"})
"""The spec's operations these commands carry, and the command of each."""


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
    cmd.add_argument(
        "--to",
        action="append",
        required=True,
        metavar="NUMBER",
        help="recipient in international format (repeatable; commas separate several)",
    )
    cmd.add_argument("--text", required=True, help="the message text ('-' reads stdin)")
    cmd.add_argument("--format", choices=("json", "xml"), default="json", help="wire format")
    cmd.add_argument("--region", metavar="CC", help="country for national numbers, e.g. ZA")
    add_option_flags(cmd.add_argument_group("message options (the API's fields)"))
    cmd.add_argument(
        "--integration",
        choices=("rest", "http"),
        help="the key's integration type: rest = POST /messages, http = the GET send (only"
        f" --to, --text and --from); default: the {INTEGRATION_ENV} variable, else rest",
    )
    add_connection_options(cmd, "send to an embedded sandbox (nothing is sent)")
    cmd.add_argument("--json", action="store_true", help="print results as JSON")
    cmd.set_defaults(run=_run_send)


def _run_send(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    recipients = [part.strip() for item in args.to for part in item.split(",") if part.strip()]
    options = options_from_args(args)
    settings: dict[str, Any] = {"format": args.format, "default_region": args.region}
    if args.integration is not None:  # else the client reads CLICKATELL_INTEGRATION
        settings["integration"] = args.integration
    with connect(args, from_=args.from_, **settings) as (client, sandbox_url):
        try:
            result = client.send(recipients, text, **options)
        except ValidationError:
            raise  # exit status 2, from main()
        except ClickatellError as exc:
            sandbox_note(sandbox_url)
            return report_failure(exc, args.json, sandbox_url is not None)
    print_results(result, as_json=args.json, sandbox=sandbox_url is not None)
    sandbox_note(sandbox_url)
    return EXIT_OK if result.all_accepted else EXIT_REJECTED


# -- estimate ---------------------------------------------------------------------------------


def _add_estimate(commands: Any) -> None:
    cmd = commands.add_parser(
        "estimate",
        help="show a text's encoding and number of parts (nothing is sent)",
        description="Show how a text will be encoded and how many parts (charged) it takes.",
    )
    cmd.add_argument("--text", required=True, help="the message text ('-' reads stdin)")
    cmd.add_argument("--binary", action="store_true", help="the text is hex octets")
    cmd.add_argument("--udh", metavar="HEX", help="user data header as hex")
    cmd.add_argument("--json", action="store_true", help="print as JSON")
    cmd.set_defaults(run=_run_estimate)


def _run_estimate(args: argparse.Namespace) -> int:
    from ..client import Client

    text = sys.stdin.read() if args.text == "-" else args.text
    estimate = Client.estimate(text, binary=args.binary, user_data_header=args.udh)
    if args.json:
        document = {
            "encoding": estimate.encoding,
            "characters": estimate.characters,
            "units": estimate.units,
            "parts": estimate.parts,
            "unitsPerPart": estimate.units_per_part,
            "remainingInLastPart": estimate.remaining_in_last_part,
        }
        print(json.dumps(document, indent=2))
    else:
        unit = {"GSM-7": "septets", "UCS-2": "UTF-16 units", "binary": "octets"}[estimate.encoding]
        parts = "part" if estimate.parts == 1 else "parts"
        print(
            f"{estimate.encoding}: {estimate.parts} {parts}, {estimate.units} {unit}"
            f" ({estimate.units_per_part} per part, {estimate.remaining_in_last_part} left"
            " in the last)"
        )
    return EXIT_OK
