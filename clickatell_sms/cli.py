"""`clickatell-sms`: send a message, estimate its cost, or run the sandbox, from a shell.

    clickatell-sms send --to +27821234567 --text "Hello"     # no key set: the embedded sandbox
    clickatell-sms estimate --text "Hello €"
    clickatell-sms sandbox --port 8080

Without an API key anywhere (no `--api-key`, no `CLICKATELL_API_KEY`, no base URL), `send` talks
to an in-process sandbox and says so on stderr, so the first command of the README works on a
fresh machine without an account. Exit status: 0 every recipient accepted, 1 some rejected,
2 usage or validation error, 3 the API refused the request (authentication, rate limit, other
API error), 4 the request did not get through or its outcome is unknown.

Each subcommand is one `_add_*` function that declares its options and points at its `_run_*`
function, so adding one (balance, status, ...) touches nothing else.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from .config import API_KEY_ENV, BASE_URL_ENV
from .errors import (
    ClickatellError,
    OutcomeUnknownError,
    TransportError,
    ValidationError,
)

if TYPE_CHECKING:
    from .results import MessageResult, SendResult

__all__ = ["EXIT_API", "EXIT_OK", "EXIT_REJECTED", "EXIT_TRANSPORT", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_API = 3
EXIT_TRANSPORT = 4

SANDBOX_KEY = "sandbox-key"
Runner = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["sandbox"]:
        # Its own parser, options passed through untouched.
        from .sandbox.cli import main as sandbox_main

        return sandbox_main(args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        package_logger = logging.getLogger("clickatell_sms")
        package_logger.addHandler(handler)
        package_logger.setLevel(logging.DEBUG)
    run: Runner = args.run
    try:
        return run(args)
    except ValidationError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except ClickatellError as exc:  # raised outside a send (setting up, the sandbox...)
        _error(str(exc))
        return EXIT_API


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clickatell-sms",
        description="Send SMS through Clickatell's Platform API (or a local sandbox).",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log requests and retry decisions"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in (_add_send, _add_estimate, _add_sandbox):
        add(commands)
    return parser


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
    cmd.add_argument("--from", dest="from_", metavar="NUMBER", help="two-way number to send from")
    cmd.add_argument("--format", choices=("json", "xml"), default="json", help="wire format")
    cmd.add_argument("--client-message-id", metavar="ID", help="your reference for callbacks")
    cmd.add_argument("--validity", type=int, metavar="MINUTES", help="validity period (1-10080)")
    cmd.add_argument(
        "--schedule", metavar="ISO", help="deliver later, e.g. 2030-02-27T14:30:00+02:00"
    )
    cmd.add_argument("--binary", action="store_true", help="the text is hex octets")
    cmd.add_argument("--udh", metavar="HEX", help="user data header as hex")
    cmd.add_argument("--charset", choices=("ASCII", "UCS2-BE", "UTF-8", "Windows-1252"))
    cmd.add_argument("--region", metavar="CC", help="country for national numbers, e.g. ZA")
    cmd.add_argument("--timeout", type=float, metavar="SECONDS", help="connect and read timeout")
    cmd.add_argument(
        "--api-key",
        help=f"the integration's API key (prefer the {API_KEY_ENV} variable: shell history)",
    )
    cmd.add_argument("--base-url", metavar="URL", help=f"API address (or {BASE_URL_ENV})")
    cmd.add_argument(
        "--sandbox", action="store_true", help="send to an embedded sandbox (nothing is sent)"
    )
    cmd.add_argument("--json", action="store_true", help="print results as JSON")
    cmd.set_defaults(run=_run_send)


def _run_send(args: argparse.Namespace) -> int:
    from .client import Client

    text = sys.stdin.read() if args.text == "-" else args.text
    recipients = [part.strip() for item in args.to for part in item.split(",") if part.strip()]
    schedule = _parse_schedule(args.schedule)
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    base_url = args.base_url or os.environ.get(BASE_URL_ENV) or None
    use_sandbox = args.sandbox or (api_key is None and base_url is None)
    with _maybe_sandbox(use_sandbox, args.from_) as sandbox_url:
        if sandbox_url is not None:
            api_key, base_url = SANDBOX_KEY, sandbox_url
        settings: dict[str, Any] = {"format": args.format, "default_region": args.region}
        if args.timeout is not None:
            settings["timeout"] = args.timeout
        with Client(api_key, base_url=base_url, **settings) as client:
            try:
                result = client.send(
                    recipients,
                    text,
                    from_=args.from_,
                    binary=args.binary,
                    client_message_id=args.client_message_id,
                    scheduled_delivery_time=schedule,
                    user_data_header=args.udh,
                    validity_period=args.validity,
                    charset=args.charset,
                )
            except ValidationError:
                raise  # exit status 2, from main()
            except ClickatellError as exc:
                _sandbox_note(sandbox_url)
                return _report_failure(exc, args.json, sandbox_url is not None)
    _print_results(result, as_json=args.json, sandbox=sandbox_url is not None)
    _sandbox_note(sandbox_url)
    return EXIT_OK if result.all_accepted else EXIT_REJECTED


def _sandbox_note(sandbox_url: str | None) -> None:
    if sandbox_url is not None:
        print(
            "sandbox: nothing was really sent (an embedded local API answered)",
            file=sys.stderr,
        )


@contextmanager
def _maybe_sandbox(wanted: bool, from_: str | None) -> Iterator[str | None]:
    if not wanted:
        yield None
        return
    from .sandbox import Sandbox

    # A sender only works on a two-way integration: make the sandbox one that owns it.
    two_way = (from_.lstrip("+"),) if from_ else ()
    with Sandbox(api_keys=(SANDBOX_KEY,), two_way_numbers=two_way) as sandbox:
        yield sandbox.base_url


def _parse_schedule(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            "schedule", "is not an ISO date and time such as 2030-02-27T14:30:00+02:00", text
        ) from None


def _report_failure(exc: ClickatellError, as_json: bool, sandbox: bool) -> int:
    if exc.partial is not None and len(exc.partial):
        print("Results of the requests that completed before the failure:", file=sys.stderr)
        _print_results(exc.partial, as_json=as_json, sandbox=sandbox)
    _error(str(exc))
    if isinstance(exc, OutcomeUnknownError):
        reference = exc.client_message_id or "(none)"
        _error(
            f"outcome unknown for {len(exc.recipients)} recipient(s): {', '.join(exc.recipients)};"
            f" client message ID {reference}. Do not resend before checking delivery."
        )
        return EXIT_TRANSPORT
    if isinstance(exc, TransportError):
        return EXIT_TRANSPORT
    return EXIT_API  # APIError and its kinds: authentication, rate limit, response


def _print_results(
    result: SendResult, *, as_json: bool, sandbox: bool, out: TextIO | None = None
) -> None:
    stream = out or sys.stdout
    if as_json:
        document = {
            "sandbox": sandbox,
            "accepted": len(result.accepted),
            "rejected": len(result.rejected),
            "requests": len(result.raw_responses),
            "results": [_result_json(item) for item in result],
        }
        json.dump(document, stream, indent=2, ensure_ascii=False)
        stream.write("\n")
        return
    rows = [("#", "TO", "NUMBER", "STATUS", "MESSAGE ID / ERROR")]
    rows += [
        (
            str(item.index),
            item.to,
            item.number,
            "accepted" if item.accepted else "rejected",
            item.api_message_id or "" if item.accepted else _why(item),
        )
        for item in result
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        stream.write("  ".join([*cells, row[4]]).rstrip() + "\n")
    summary = f"{len(result.accepted)} accepted, {len(result.rejected)} rejected"
    stream.write(f"{summary} ({len(result.raw_responses)} request(s))\n")


def _why(item: MessageResult) -> str:
    code = f"{item.error_code} " if item.error_code is not None else ""
    text = ": ".join(part for part in (item.error, item.description) if part)
    return (code + text).strip() or "rejected"


def _result_json(item: MessageResult) -> dict[str, Any]:
    return {
        "index": item.index,
        "to": item.to,
        "number": item.number,
        "accepted": item.accepted,
        "apiMessageId": item.api_message_id,
        "errorCode": item.error_code,
        "error": item.error,
        "errorDescription": item.description,
        "duplicateOf": item.duplicate_of,
    }


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
    from .client import Client

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


# -- sandbox ----------------------------------------------------------------------------------


def _add_sandbox(commands: Any) -> None:
    # Listed for --help only: main() hands `sandbox ...` to the sandbox's own parser.
    cmd = commands.add_parser(
        "sandbox",
        help="run a local Clickatell-compatible API (see: clickatell-sms sandbox --help)",
        add_help=False,
    )
    cmd.set_defaults(run=lambda args: EXIT_USAGE)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
