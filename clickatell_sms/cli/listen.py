"""`listen`: receive callbacks and print one line per event.

The callback URL faces the internet and Clickatell signs nothing, so `listen` refuses every
callback that does not carry its secret (401) and prints the URL, secret included, to paste into
the integration's settings in the portal. The secret comes from `--secret`, else from
`CLICKATELL_CALLBACK_SECRET`, else a new one is made for the run. `--no-secret` is the explicit
way to accept anyone. The server behind it is `listener.CallbackServer`, with its timeouts and
bounds (a few are options here). `--journal` writes every status callback into a campaign's
journal (`callbacks.sinks.JournalSink`) before acknowledging it, for `clickatell-sms report`.
Every reply goes into the opt-out store (`callbacks.sinks.OptOutSink`; `--opt-outs`, by default
the one `bulk` reads), where a STOP opts its sender out of every later campaign.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, TextIO
from urllib.parse import urlsplit

from ..errors import ValidationError
from ..loopback import is_loopback
from ..settings import CALLBACK_SECRET_ENV, read
from .common import (
    EXIT_OK,
    EXIT_USAGE,
    error,
    failure_document,
    iso,
    log_lines_on_stderr,
    print_failure,
)
from .table import add_options, option

if TYPE_CHECKING:
    from ..callbacks import CallbackReceiver, ReplyCallback, StatusCallback
    from ..callbacks.listener import CallbackServer, ListenerLimits
    from ..callbacks.sinks import JournalSink, OptOutSink
    from ..opt_outs import Keywords

__all__ = ["OPTIONS", "add_parser", "check"]

SECRET_ENV = CALLBACK_SECRET_ENV


_BOUNDS: Final = "bounds"
_OPT_OUTS: Final = "replies and opt-outs"

OPTIONS: Final = (
    option("--port", type=int, required=True, help="port to listen on (0: any free)"),
    option("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"),
    option("--json", action="store_true", help="print one JSON object per line"),
    option(
        "--journal",
        metavar="JOURNAL",
        help="write every status callback into this campaign journal (the file `bulk --journal`"
        " writes, made if it does not exist yet, or a postgresql:// URL), for `report`",
    ),
    option("--quiet", action="store_true", help="print no line per callback (with --journal)"),
    option(
        "--secret",
        exclusive="guard",
        help=(
            f"the secret callbacks must carry (prefer the {SECRET_ENV} variable: the process"
            " list shows arguments); without either, a new one is generated and printed"
        ),
    ),
    option(
        "--no-secret",
        action="store_true",
        exclusive="guard",
        help="accept callbacks from anyone who can reach the port (forged ones too)",
    ),
    option(
        "--public-url",
        metavar="URL",
        help="the address Clickatell calls, if not the listening one (a proxy, a tunnel)",
    ),
    option(
        "--allow",
        action="append",
        metavar="CIDR",
        help="accept connections only from this network (repeatable); others are closed",
    ),
    option("--head-timeout", type=float, metavar="SECONDS", group=_BOUNDS, help="default 10"),
    option("--body-timeout", type=float, metavar="SECONDS", group=_BOUNDS, help="default 10"),
    option(
        "--max-connections",
        type=int,
        metavar="N",
        group=_BOUNDS,
        help="default 1000, fewer to fit the fd limit",
    ),
    option("--workers", type=int, metavar="N", group=_BOUNDS, help="handler threads, default 4"),
    option(
        "--opt-outs",
        metavar="PATH|URL",
        group=_OPT_OUTS,
        exclusive="keep",
        help="keep every reply in this opt-out store, where STOP opts its sender out (default:"
        " CLICKATELL_OPT_OUTS, else the --journal's database when it is postgresql://, else"
        " opt-outs.sqlite in your data folder: the store `bulk` reads)",
    ),
    option(
        "--no-opt-outs",
        action="store_true",
        group=_OPT_OUTS,
        exclusive="keep",
        help="keep no replies and change no opt-outs (replies are only printed)",
    ),
    option(
        "--stop-words",
        metavar="WORDS",
        group=_OPT_OUTS,
        help="comma-separated replies that opt out, each the whole reply, any case (default:"
        " STOP,STOPALL,UNSUBSCRIBE,CANCEL,END,QUIT)",
    ),
    option(
        "--start-words",
        metavar="WORDS",
        group=_OPT_OUTS,
        help="comma-separated replies that opt back in (default: START,UNSTOP)",
    ),
)
"""Every option of `clickatell-sms listen`, in --help order."""


def add_parser(commands: Any) -> None:
    cmd = commands.add_parser(
        "listen",
        help="receive callbacks and print each one as it arrives",
        description=(
            "Listen for Clickatell's delivery-status and reply callbacks (GET or POST, any"
            " path) and print one line per event. Only callbacks that carry the secret are"
            " accepted (as a token= query parameter or HTTP Basic credentials); the URL to"
            " paste into the Clickatell portal is printed on start, secret included."
            " Runs until Ctrl-C or SIGTERM. Point the integration's callback URL (or"
            " `clickatell-sms sandbox --callback-url`) at it."
        ),
    )
    add_options(cmd, OPTIONS)
    cmd.set_defaults(run=_run_listen)


def _opt_out_sink(args: argparse.Namespace) -> OptOutSink | None:
    """The sink for replies the options ask for; `OptOutStoreError` or `ValidationError` when
    it cannot be (named by its flag)."""
    from ..callbacks.sinks import OptOutSink
    from ..config import opt_outs_location
    from ..opt_outs import Keywords

    keywords = Keywords.from_lists(args.stop_words, args.start_words)
    if args.no_opt_outs:
        return None
    return OptOutSink(opt_outs_location(args.opt_outs, journal=args.journal), keywords=keywords)


def _run_listen(args: argparse.Namespace) -> int:
    secret, generated = check(args)
    # Refused callbacks and failing handlers as `WARNING: ...` lines (-v has its own handler)
    with log_lines_on_stderr(
        "clickatell_sms.callbacks",
        "%(levelname)s: %(message)s",
        enabled=not args.verbose,
        level=logging.WARNING,
    ):
        return _serve(args, secret, generated=generated)


def check(args: argparse.Namespace) -> tuple[str | None, bool]:
    """The options checked before anything listens (a bad one is a `ValidationError` named
    by its flag): the secret callbacks must carry (None: anyone), and whether it was made
    for this run."""
    from ..callbacks.access import (
        SourceAllowList,
        checked_secret,
        generate_secret,
        url_with_secret,
    )

    generated = False
    secret: str | None = None
    if args.allow is not None:
        SourceAllowList(args.allow, field="--allow")  # a bad network is named as the option
    if args.secret:
        secret = checked_secret(args.secret, "--secret")
    elif (given := read(SECRET_ENV)) and not args.no_secret:
        secret = checked_secret(given, SECRET_ENV)
    elif not args.no_secret:
        secret, generated = generate_secret(), True
    if args.public_url:  # refused now, by its option's name, rather than after starting
        url_with_secret(args.public_url, secret or generate_secret(), field="--public-url")
    return secret, generated


def _serve(args: argparse.Namespace, secret: str | None, *, generated: bool) -> int:
    from ..bulk.journal import JournalError
    from ..callbacks import CallbackReceiver
    from ..callbacks.listener import CallbackServer
    from ..opt_outs import OptOutStoreError

    limits = _limits(args)
    try:
        replies = _opt_out_sink(args)
    except OptOutStoreError as exc:
        return _usage_failure(args, f"--opt-outs: {exc}")
    except ImportError as exc:  # psycopg, for a postgresql:// store
        return _usage_failure(args, f"--opt-outs: PostgreSQL needs the 'postgresql' extra ({exc})")
    keywords = replies.keywords if replies is not None else None
    printer = _EventPrinter(sys.stdout, as_json=args.json, quiet=args.quiet, keywords=keywords)
    try:
        receiver = CallbackReceiver(
            on_status=printer.status,
            on_reply=printer.reply,
            secret=secret,
            allow_unauthenticated=secret is None,
            journal=args.journal,
            sinks=() if replies is None else (replies,),
        )
    except JournalError as exc:
        _close_quietly(replies)
        return _usage_failure(args, f"--journal: {exc.cli_message}")
    except ImportError as exc:  # psycopg, for a postgresql:// journal
        _close_quietly(replies)
        problem = f"--journal: a PostgreSQL journal needs the 'postgresql' extra ({exc})"
        return _usage_failure(args, problem)
    with receiver, _closing(replies):
        server = CallbackServer(
            receiver, host=args.host, port=args.port, limits=limits, allowed_sources=args.allow
        )
        try:
            server.start()
        except (OSError, OverflowError) as exc:  # in use, not ours, or not a port number
            return _usage_failure(args, f"cannot listen on {args.host}:{args.port}: {exc}")
        _run_until_stopped(server, receiver, args, secret, generated=generated)
    _print_journal(receiver)
    _print_opt_outs(replies)
    print("stopped", file=sys.stderr, flush=True)
    return EXIT_OK


def _closing(sink: OptOutSink | None) -> contextlib.AbstractContextManager[object]:
    return contextlib.nullcontext() if sink is None else sink


def _close_quietly(sink: OptOutSink | None) -> None:
    if sink is not None:
        with contextlib.suppress(Exception):
            sink.close()


def _print_opt_outs(sink: OptOutSink | None) -> None:
    if sink is None:
        return
    done = sink.outcomes
    print(
        f"opt-outs: {sum(done.values()) - done['replayed']} replies kept in"
        f" {sink.store.location}: {done['opt-out']} opted out, {done['opt-in']} opted back in",
        file=sys.stderr,
    )


def _describe_opt_outs(sink: OptOutSink | None) -> str:
    if sink is None:
        return "opt-outs: none kept (--no-opt-outs): replies are only printed"
    words = sink.keywords
    return (
        f"opt-outs: every reply is kept in {sink.store.location}; a reply of"
        f" {', '.join(words.stop)} opts its sender out, {', '.join(words.start)} back in"
    )


def _usage_failure(args: argparse.Namespace, problem: str) -> int:
    error(problem)
    if args.json:
        print_failure(failure_document(EXIT_USAGE, usage=problem))
    return EXIT_USAGE


def _run_until_stopped(
    server: CallbackServer,
    receiver: CallbackReceiver,
    args: argparse.Namespace,
    secret: str | None,
    *,
    generated: bool,
) -> None:
    stop = threading.Event()
    with _stop_on_signals(stop):
        try:
            print(f"listening for callbacks on {server.url}", file=sys.stderr)
            print(_bounds(server), file=sys.stderr)
            for location in _journal_locations(receiver):
                print(f"journal: status callbacks are written into {location}", file=sys.stderr)
            print(_describe_opt_outs(_opt_out_sinks(receiver)), file=sys.stderr)
            _print_callback_url(args.public_url or server.url, secret, generated=generated)
            print("waiting for callbacks (Ctrl-C or SIGTERM stops)", file=sys.stderr, flush=True)
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:  # no handler could be installed (not the main thread)
            pass
        finally:
            server.stop()


def _journals(receiver: CallbackReceiver) -> list[JournalSink]:
    from ..callbacks.sinks import JournalSink

    return [sink for sink in receiver.sinks if isinstance(sink, JournalSink)]


def _opt_out_sinks(receiver: CallbackReceiver) -> OptOutSink | None:
    from ..callbacks.sinks import OptOutSink

    return next((sink for sink in receiver.sinks if isinstance(sink, OptOutSink)), None)


def _journal_locations(receiver: CallbackReceiver) -> list[str]:
    """Where the receiver's journals are (a database URL without its password)."""
    return [sink.store.location for sink in _journals(receiver)]


def _print_journal(receiver: CallbackReceiver) -> None:
    for sink in _journals(receiver):
        print(
            f"journal: {sink.written} status callbacks written in {sink.commits}"
            f" transactions into {sink.store.location}",
            file=sys.stderr,
        )


def _bounds(server: CallbackServer) -> str:
    limits = server.limits
    return (
        f"bounds: head within {limits.head_timeout:g} s, body within {limits.body_timeout:g} s,"
        f" at most {server.stats().max_connections} connections,"
        f" {limits.workers} handler threads"
    )


def _limits(args: argparse.Namespace) -> ListenerLimits:
    from ..callbacks.listener import ListenerLimits

    given = {
        "head_timeout": args.head_timeout,
        "body_timeout": args.body_timeout,
        "max_connections": args.max_connections,
        "workers": args.workers,
    }
    try:
        return ListenerLimits(**{name: value for name, value in given.items() if value is not None})
    except ValidationError as exc:  # named by this command's flag (`max_connections` is not
        # bulk's --concurrency here)
        flag = "--" + exc.field.replace("_", "-")
        raise ValidationError(flag, exc.problem, exc.value) from None


def _print_callback_url(base: str, secret: str | None, *, generated: bool) -> None:
    """The URL for the portal (with the secret), and what the user must know about it."""
    from ..callbacks.access import url_with_secret

    out = sys.stderr
    if secret is None:  # the receiver has warned that it trusts anyone
        print(f"callback URL: {base}", file=out)
        return
    print(f"callback URL: {url_with_secret(base, secret)}", file=out)
    print(f"  or, with Basic credentials: {url_with_secret(base, secret, style='basic')}", file=out)
    print(
        "  paste it into the integration's callback settings in the Clickatell portal;"
        " it holds the secret, so keep it private",
        file=out,
    )
    if generated:
        print(
            f"  the secret was made for this run: set {SECRET_ENV} to keep it across restarts",
            file=out,
        )
    if _in_clear_text(base):
        print(
            "  warning: over plain http:// the secret can be read on the way; give Clickatell"
            " an https:// address (--public-url) that forwards here",
            file=out,
        )


def _in_clear_text(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and not is_loopback(parts.hostname or "")


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

    def __init__(
        self, out: TextIO, *, as_json: bool, quiet: bool = False, keywords: Keywords | None = None
    ) -> None:
        self._out = out
        self._json = as_json
        self._quiet = quiet
        self._keywords = keywords  # None: replies change no opt-outs here
        self._lock = threading.Lock()

    def status(self, event: StatusCallback) -> None:
        if self._quiet:
            return
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
        if self._quiet:
            return
        matched = None if self._keywords is None else self._keywords.match(event.text)
        action = None if matched is None else matched[0]
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
                    "optOut": action,
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
        if action is not None:
            parts.append(action)
        self._write("  ".join(parts))

    def _write_json(self, document: dict[str, Any]) -> None:
        self._write(json.dumps(document, ensure_ascii=False))

    def _write(self, line: str) -> None:
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()
