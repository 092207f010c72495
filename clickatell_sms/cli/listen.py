"""`listen`: receive callbacks and print one line per event."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from .common import EXIT_OK, EXIT_USAGE, error, iso

if TYPE_CHECKING:
    from ..callbacks import ReplyCallback, StatusCallback

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    _add_listen(commands)


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
    from ..callbacks import CallbackReceiver
    from ..callbacks.listener import CallbackServer

    printer = _EventPrinter(sys.stdout, as_json=args.json)
    receiver = CallbackReceiver(on_status=printer.status, on_reply=printer.reply)
    stop = threading.Event()
    try:
        server = CallbackServer(receiver, host=args.host, port=args.port).start()
    except (OSError, OverflowError) as exc:  # in use, not ours, or not a port number
        error(f"cannot listen on {args.host}:{args.port}: {exc}")
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
                    "timestamp": iso(event.timestamp),
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
        parts.append(iso(event.timestamp) or "-")
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
                    "timestamp": iso(event.timestamp),
                }
            )
            return
        parts = ["reply ", event.api_message_id]
        if event.from_number:
            parts.append(f"from={event.from_number}")
        if event.to_number:
            parts.append(f"to={event.to_number}")
        parts.append(iso(event.timestamp) or "-")
        parts.append(json.dumps(event.text, ensure_ascii=False))  # quoted: one line, always
        self._write("  ".join(parts))

    def _write_json(self, document: dict[str, Any]) -> None:
        self._write(json.dumps(document, ensure_ascii=False))

    def _write(self, line: str) -> None:
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()
