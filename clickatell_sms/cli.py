"""`clickatell-sms`: send, check balance and status, receive callbacks, run the sandbox.

    clickatell-sms send --to +27821234567 --text "Hello"     # no key set: the embedded sandbox
    clickatell-sms estimate --text "Hello €"
    clickatell-sms balance
    clickatell-sms status 5eaefd67a0dc4f3981591e742f8ff7de
    clickatell-sms listen --port 8081                        # prints callbacks as they arrive
    clickatell-sms sandbox --port 8080

Without an API key anywhere (no `--api-key`, no `CLICKATELL_API_KEY`, no base URL), `send`,
`balance` and `status` talk to an in-process sandbox and say so on stderr, so the first command
of the README works on a fresh machine without an account. Exit status: 0 every recipient
accepted (or the look-up answered; `listen` stopped by Ctrl-C or SIGTERM), 1 some rejected,
2 usage or validation error (for `listen`, an address it cannot listen on), 3 the API refused
the request (authentication, rate limit, unknown message ID, other API error), 4 the request did
not get through or its outcome is unknown.

Each subcommand is one `_add_*` function that declares its options and points at its `_run_*`
function, so adding one (balance, status, ...) touches nothing else.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from .cli_bulk import add_parser as add_bulk_parser
from .config import API_KEY_ENV, BASE_URL_ENV, INTEGRATION_ENV
from .errors import (
    ClickatellError,
    OutcomeUnknownError,
    TransportError,
    ValidationError,
)

if TYPE_CHECKING:
    from .callbacks import ReplyCallback, StatusCallback
    from .client import Client
    from .results import Balance, MessageResult, SendResult, StatusResult

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
    adders = (_add_send, _add_estimate, _add_balance, _add_status, _add_listen, _add_sandbox)
    for add in (*adders, add_bulk_parser):
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
    cmd.add_argument(
        "--integration",
        choices=("rest", "http"),
        help="the key's integration type: rest = POST /messages, http = the GET send (only"
        f" --to, --text and --from); default: the {INTEGRATION_ENV} variable, else rest",
    )
    _add_connection_options(cmd, "send to an embedded sandbox (nothing is sent)")
    cmd.add_argument("--json", action="store_true", help="print results as JSON")
    cmd.set_defaults(run=_run_send)


def _add_connection_options(cmd: argparse.ArgumentParser, sandbox_help: str) -> None:
    """The options every command that talks to the API shares, resolved by `_connect`."""
    cmd.add_argument("--timeout", type=float, metavar="SECONDS", help="connect and read timeout")
    cmd.add_argument(
        "--api-key",
        help=f"the integration's API key (prefer the {API_KEY_ENV} variable: shell history)",
    )
    cmd.add_argument("--base-url", metavar="URL", help=f"API address (or {BASE_URL_ENV})")
    cmd.add_argument("--sandbox", action="store_true", help=sandbox_help)


@contextmanager
def _connect(
    args: argparse.Namespace, *, from_: str | None = None, **settings: Any
) -> Iterator[tuple[Client, str | None]]:
    """A client as the options and environment say, or on an embedded sandbox when they name no
    key and no base URL (or --sandbox); the sandbox's URL, or None, comes with it."""
    from .client import Client

    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    base_url = args.base_url or os.environ.get(BASE_URL_ENV) or None
    use_sandbox = args.sandbox or (api_key is None and base_url is None)
    with _maybe_sandbox(use_sandbox, from_) as sandbox_url:
        if sandbox_url is not None:
            api_key, base_url = SANDBOX_KEY, sandbox_url
        if args.timeout is not None:
            settings["timeout"] = args.timeout
        with Client(api_key, base_url=base_url, **settings) as client:
            yield client, sandbox_url


def _run_send(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    recipients = [part.strip() for item in args.to for part in item.split(",") if part.strip()]
    schedule = _parse_schedule(args.schedule)
    settings: dict[str, Any] = {"format": args.format, "default_region": args.region}
    if args.integration is not None:  # else the client reads CLICKATELL_INTEGRATION
        settings["integration"] = args.integration
    with _connect(args, from_=args.from_, **settings) as (client, sandbox_url):
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


def _sandbox_note(sandbox_url: str | None, what: str = "nothing was really sent") -> None:
    if sandbox_url is not None:
        print(f"sandbox: {what} (an embedded local API answered)", file=sys.stderr)


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


# -- balance and status -----------------------------------------------------------------------


def _add_balance(commands: Any) -> None:
    cmd = commands.add_parser(
        "balance",
        help="show the account's balance",
        description=(
            "Show the account's balance in its billing currency. Without an API key or base URL"
            " it asks an embedded sandbox (whose balance is made up)."
        ),
    )
    _add_connection_options(cmd, "ask an embedded sandbox")
    cmd.add_argument("--json", action="store_true", help="print as JSON")
    cmd.set_defaults(run=_run_balance)


_NOT_AN_ACCOUNT = "no account was asked; this is a fresh sandbox's answer"


def _run_balance(args: argparse.Namespace) -> int:
    with _connect(args) as (client, sandbox_url):
        try:
            balance = client.balance()
        except ValidationError:
            raise
        except ClickatellError as exc:
            _sandbox_note(sandbox_url, _NOT_AN_ACCOUNT)
            return _report_failure(exc, args.json, sandbox_url is not None)
    _print_balance(balance, as_json=args.json, sandbox=sandbox_url is not None)
    _sandbox_note(sandbox_url, _NOT_AN_ACCOUNT)
    return EXIT_OK


def _print_balance(balance: Balance, *, as_json: bool, sandbox: bool) -> None:
    if as_json:
        import msgspec

        # The amount as a JSON number written from the Decimal's own digits: no float on the way.
        encoder = msgspec.json.Encoder(decimal_format="number")
        document = {"balance": balance.amount, "currency": balance.currency, "sandbox": sandbox}
        print(encoder.encode(document).decode("utf-8"))
    else:
        print(f"{balance.amount} {balance.currency}")


def _add_status(commands: Any) -> None:
    cmd = commands.add_parser(
        "status",
        help="show the latest status of a sent message",
        description=(
            "Show a message's latest status by the message ID its send returned: the code, the"
            " name, the description, and whether it is final. Without an API key or base URL it"
            " asks an embedded sandbox, which knows no message sent before it started."
        ),
    )
    cmd.add_argument("message_id", metavar="ID", help="the apiMessageId the send returned")
    _add_connection_options(cmd, "ask an embedded sandbox")
    cmd.add_argument("--json", action="store_true", help="print as JSON")
    cmd.set_defaults(run=_run_status)


def _run_status(args: argparse.Namespace) -> int:
    with _connect(args) as (client, sandbox_url):
        try:
            found = client.message_status(args.message_id)
        except ValidationError:
            raise
        except ClickatellError as exc:
            _sandbox_note(sandbox_url, _NOT_AN_ACCOUNT)
            return _report_failure(exc, args.json, sandbox_url is not None)
    _print_status(found, as_json=args.json, sandbox=sandbox_url is not None)
    _sandbox_note(sandbox_url, _NOT_AN_ACCOUNT)
    return EXIT_OK


def _print_status(found: StatusResult, *, as_json: bool, sandbox: bool) -> None:
    status = found.status
    if as_json:
        document = {
            "apiMessageId": found.api_message_id,
            "statusCode": status.code,
            "status": status.name or None,
            "statusDescription": status.description or None,
            "final": status.is_final,
            "success": status.is_success,
            "timestamp": _iso(found.timestamp),
            "sandbox": sandbox,
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return
    code = "?" if status.code is None else str(status.code)
    name = status.name or "(no name)"
    description = f": {status.description}" if status.description else ""
    print(f"message ID  {found.api_message_id}")
    print(f"status      {code} {name}{description}")
    print(f"final       {_finality(status.is_final, status.is_success)}")
    print(f"updated     {_iso(found.timestamp) or 'unknown'}")


def _finality(final: bool, success: bool) -> str:
    if not final:
        return "no (still moving)"
    return "yes (delivered)" if success else "yes (not delivered)"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- listen -----------------------------------------------------------------------------------


def _add_listen(commands: Any) -> None:
    cmd = commands.add_parser(
        "listen",
        help="receive callbacks and print each one as it arrives",
        description=(
            "Listen for Clickatell's delivery-status and reply callbacks (GET or POST, any"
            " path) and print one line per event. Every callback is answered 200 at once."
            " Runs until Ctrl-C or SIGTERM. Point the integration's callback URL (or"
            " `clickatell-sms sandbox --callback-url`) at it."
        ),
    )
    cmd.add_argument("--port", type=int, required=True, help="port to listen on (0: any free)")
    cmd.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    cmd.add_argument("--json", action="store_true", help="print one JSON object per line")
    cmd.set_defaults(run=_run_listen)


def _run_listen(args: argparse.Namespace) -> int:
    from .callbacks import CallbackReceiver
    from .listen import CallbackServer

    printer = _EventPrinter(sys.stdout, as_json=args.json)
    receiver = CallbackReceiver(on_status=printer.status, on_reply=printer.reply)
    stop = threading.Event()
    try:
        server = CallbackServer(receiver, host=args.host, port=args.port).start()
    except (OSError, OverflowError) as exc:  # in use, not ours, or not a port number
        _error(f"cannot listen on {args.host}:{args.port}: {exc}")
        return EXIT_USAGE
    with _stop_on_signals(stop):
        try:
            print(f"listening for callbacks on {server.url}", file=sys.stderr, flush=True)
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:  # no handler could be installed (not the main thread)
            pass
        finally:
            server.stop()
    print("stopped", file=sys.stderr, flush=True)
    return EXIT_OK


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM set `stop` (so the server shuts down cleanly) while inside."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [signal.SIGINT, getattr(signal, "SIGTERM", signal.SIGINT)]
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in wanted}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class _EventPrinter:
    """One line per callback, written whole under a lock: the server runs a thread per request."""

    def __init__(self, out: TextIO, *, as_json: bool) -> None:
        self._out = out
        self._json = as_json
        self._lock = threading.Lock()

    def status(self, event: StatusCallback) -> None:
        status = event.status
        if self._json:
            self._write_json(
                {
                    "type": "status",
                    "apiMessageId": event.api_message_id,
                    "statusCode": status.code,
                    "status": status.name or None,
                    "statusDescription": status.description or None,
                    "final": status.is_final,
                    "success": status.is_success,
                    "to": event.to,
                    "from": event.from_number,
                    "clientMessageId": event.client_message_id,
                    "requestId": event.request_id,
                    "integrationName": event.integration_name,
                    "timestamp": _iso(event.timestamp),
                }
            )
            return
        code = "?" if status.code is None else str(status.code)
        parts = [
            "status",
            event.api_message_id,
            f"{code} {status.name or '(no name)'}",
            "final" if status.is_final else "moving",
        ]
        if event.to:
            parts.append(f"to={event.to}")
        if event.client_message_id:
            parts.append(f"ref={event.client_message_id}")
        parts.append(_iso(event.timestamp) or "-")
        self._write("  ".join(parts))

    def reply(self, event: ReplyCallback) -> None:
        if self._json:
            self._write_json(
                {
                    "type": "reply",
                    "apiMessageId": event.api_message_id,
                    "replyMessageId": event.reply_message_id,
                    "from": event.from_number,
                    "to": event.to_number,
                    "text": event.text,
                    "charset": event.charset,
                    "keyword": event.keyword,
                    "network": event.network,
                    "integrationName": event.integration_name,
                    "timestamp": _iso(event.timestamp),
                }
            )
            return
        parts = ["reply ", event.api_message_id]
        if event.from_number:
            parts.append(f"from={event.from_number}")
        if event.to_number:
            parts.append(f"to={event.to_number}")
        parts.append(_iso(event.timestamp) or "-")
        parts.append(json.dumps(event.text, ensure_ascii=False))  # quoted: one line, always
        self._write("  ".join(parts))

    def _write_json(self, document: dict[str, Any]) -> None:
        self._write(json.dumps(document, ensure_ascii=False))

    def _write(self, line: str) -> None:
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


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
