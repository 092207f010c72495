"""`clickatell-sms sandbox`: run the sandbox in the foreground until SIGINT or SIGTERM.

For trying the SDK (or any other Clickatell client) by hand, or for a test suite in another
language: it prints its base URL and key on the first line, so a script can read where it is.
"""

from __future__ import annotations

import argparse
import math
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from types import FrameType
from typing import TypeVar

from ..errors import ValidationError
from .billing import DEFAULT_BALANCE, DEFAULT_PRICE_PER_PART
from .callbacks import check_callback_url
from .faults import Faults
from .limits import ServerLimits
from .profile import Profile
from .quirks import Quirks
from .server import Sandbox
from .timeline import StatusDelays

__all__ = ["build_parser", "main"]

_N = TypeVar("_N", int, float)
_EXIT_USAGE = 2  # as the facade CLI's EXIT_USAGE (this module runs without importing it)
_QUIRK_NAMES = tuple(item.replace("_", "-") for item in Quirks.__dataclass_fields__)


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _callback_url(text: str) -> str:
    try:
        check_callback_url(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.problem) from None
    return text


def _checked(kind: Callable[[str], _N], ok: Callable[[_N], bool], rule: str) -> Callable[[str], _N]:
    """An argparse type: `kind(text)`, refused with `rule` when `ok` says no."""

    def parse(text: str) -> _N:
        try:
            value = kind(text)
        except ValueError:
            whole = "a whole" if kind is int else "a"
            raise argparse.ArgumentTypeError(f"not {whole} number: {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{rule}, not {value}")
        return value

    return parse


_rate = _checked(float, lambda value: 0.0 <= value <= 1.0, "a rate is between 0 and 1")
_port = _checked(int, lambda value: 0 <= value <= 65535, "a port is between 0 and 65535")
_positive_seconds = _checked(
    float, lambda value: 0 < value < math.inf, "must be a number of seconds above 0"
)
_positive_count = _checked(int, lambda value: value > 0, "must be at least 1")


_LIMITS = ServerLimits()
_LIMIT_OPTIONS = (  # flag, ServerLimits field, what it does
    (
        "--idle-timeout",
        "idle_timeout",
        "close a connection with no request under way after this long",
    ),
    (
        "--header-timeout",
        "header_timeout",
        "answer 408 and close when a request's headers take longer than this",
    ),
    (
        "--body-timeout",
        "body_timeout",
        "answer 408 and close when a request's body takes longer than this after its headers",
    ),
    (
        "--write-timeout",
        "write_timeout",
        "disconnect a client that reads none of its answers for this long",
    ),
    (
        "--max-connections",
        "max_connections",
        "open connections at most; a new one displaces the one idle longest",
    ),
)


def build_parser(prog: str = "clickatell-sms sandbox") -> argparse.ArgumentParser:
    """The command's options (the facade CLI reuses this for `--help`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Run a local Clickatell Platform API until Ctrl+C or SIGTERM (nothing is really"
            " sent). The first line printed is its base URL. See docs/sandbox.md."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s, loopback)"
    )
    parser.add_argument(
        "--port", type=_port, default=0, help="port to listen on (default: any free port)"
    )
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="an API key the sandbox accepts (repeatable; default: sandbox-key)",
    )
    integration = parser.add_mutually_exclusive_group()
    integration.add_argument(
        "--two-way",
        action="append",
        dest="two_way",
        default=[],
        metavar="NUMBER",
        help="make it a two-way integration owning NUMBER, so `from` is required and must be"
        " one of them, else 106 (repeatable; default: any `from` is taken, as in Clickatell's"
        " example request)",
    )
    integration.add_argument(
        "--one-way",
        action="store_true",
        help="imitate a one-way integration: any `from` is refused with 607, as a live answer"
        " was seen to",
    )
    parser.add_argument(
        "--balance",
        type=_decimal,
        default=DEFAULT_BALANCE,
        metavar="AMOUNT",
        help="the account's starting credit, enough for a 100,000-row campaign unless set (a"
        " small one tests running out); a recipient it cannot pay for is refused with error"
        " 301 (default: %(default)s)",
    )
    parser.add_argument(
        "--currency",
        default="ZAR",
        metavar="CODE",
        help="the currency the balance look-up reports (default: %(default)s)",
    )
    parser.add_argument(
        "--price-per-part",
        type=_decimal,
        default=DEFAULT_PRICE_PER_PART,
        metavar="AMOUNT",
        help="what each message part costs, taken from the balance (default: %(default)s)",
    )
    parser.add_argument(
        "--sqlite",
        metavar="PATH",
        help="keep the record of accepted messages in this SQLite file (default: in memory)",
    )
    parser.add_argument(
        "--callback-url",
        type=_callback_url,
        metavar="URL",
        help="post a status callback here for every status each message takes (http or https)",
    )
    parser.add_argument(
        "--callback-method",
        choices=("POST", "GET"),
        default="POST",
        help="POST a JSON body, or GET with the fields in the query (default: %(default)s)",
    )
    parser.add_argument(
        "--status-delays",
        nargs=2,
        type=float,
        metavar=("TO_GATEWAY", "TO_HANDSET"),
        default=(0.05, 0.05),
        help="seconds from queued to delivered-to-gateway, and from there to received"
        " (default: 0.05 0.05)",
    )
    parser.add_argument(
        "--callback-loss",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="drop this share of the status callbacks, each on its own (0 to 1, seeded by"
        " --seed), as a receiver that was down would miss them; the status look-up still"
        " answers (default: 0)",
    )
    parser.add_argument(
        "--failure-rate",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="make this share of the accepted messages end in a failure status drawn from the"
        " spec's list (0 to 1, seeded by --seed) instead of RECEIVED_BY_RECIPIENT (default: 0)",
    )
    parser.add_argument(
        "--reply-rate",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="make the handsets reply to this share of the messages sent from a --two-way"
        " number (0 to 1, seeded by --seed), posted to --callback-url as reply callbacks"
        " (default: 0)",
    )
    parser.add_argument(
        "--reply-text",
        default="STOP",
        metavar="TEXT",
        help="what the handsets reply (default: %(default)s)",
    )
    faults = parser.add_argument_group(
        "faults",
        "Failures on purpose, to test a client's retries. RATE is the share of API requests"
        " (0 to 1; all rates together at most 1) drawn from a stream seeded by --seed.",
    )
    faults.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="delay every answer this long; the request is processed first (default: 0)",
    )
    faults.add_argument(
        "--fault-rate-429",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="answer 429 with Retry-After; nothing recorded or charged (default: 0)",
    )
    faults.add_argument(
        "--fault-rate-500",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="answer 500 with error 901; nothing recorded or charged (default: 0)",
    )
    faults.add_argument(
        "--fault-rate-503",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="answer 503 with Retry-After and error 901; nothing recorded or charged (default: 0)",
    )
    faults.add_argument(
        "--drop-before-body",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="close the connection after the headers, without an answer; nothing recorded"
        " (default: 0)",
    )
    faults.add_argument(
        "--drop-after-body",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="process the request fully (recorded and charged), then close without an answer:"
        " the outcome a client cannot know (default: 0)",
    )
    faults.add_argument(
        "--retry-after",
        type=int,
        default=1,
        metavar="SECONDS",
        help="the Retry-After value sent with 429 and 503 (default: %(default)s)",
    )
    faults.add_argument(
        "--max-faults",
        type=int,
        default=None,
        metavar="N",
        help="inject at most N faults by rate, so a retrying client finishes (default: no bound)",
    )
    faults.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the fault stream (and of --callback-loss, --failure-rate and --reply-rate):"
        " the same"
        " seed and requests give the same faults (default: %(default)s)",
    )
    parser.add_argument(
        "--quirk",
        action="append",
        default=[],
        choices=_QUIRK_NAMES,
        metavar="NAME",
        help="reproduce one of the live API's oddities (repeatable): " + ", ".join(_QUIRK_NAMES),
    )
    evidence = parser.add_argument_group("which rules it enforces (docs/sandbox.md lists them)")
    evidence.add_argument(
        "--strict",
        action="store_true",
        help="also refuse what only this project infers the API refuses (by default such a"
        " request is accepted with an X-Sandbox-Warning header)",
    )
    evidence.add_argument(
        "--observed",
        metavar="REPORT",
        help="answer as the live API did in this conformance report (clickatell-sms"
        " conformance --json REPORT)",
    )
    evidence.add_argument(
        "--rules",
        action="store_true",
        help="print every rule with its evidence, as this profile applies it, and exit",
    )
    limits = parser.add_argument_group(
        "limits",
        "How long a client may take and how many may connect, so a stuck or hostile client"
        " cannot hold the sandbox up.",
    )
    for flag, field, text in _LIMIT_OPTIONS:
        whole = field == "max_connections"
        limits.add_argument(
            flag,
            dest=field,
            type=_positive_count if whole else _positive_seconds,
            default=getattr(_LIMITS, field),
            metavar="N" if whole else "SECONDS",
            help=f"{text} (default: %(default)g)",
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM; prints the base URL first. Returns the exit status: 0, or 2
    for a usage error or an address it cannot listen on."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["sandbox"]:
        args_list = args_list[1:]
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.rules:
        try:
            profile = (
                Profile.from_report(args.observed, strict=args.strict)
                if args.observed
                else Profile(strict=args.strict)
            )
        except ValueError as exc:
            parser.error(str(exc))
        print(profile.markdown_table(), end="")
        return 0
    try:
        faults = Faults(
            latency=args.latency,
            rate_429=args.fault_rate_429,
            rate_500=args.fault_rate_500,
            rate_503=args.fault_rate_503,
            drop_before_body=args.drop_before_body,
            drop_after_body=args.drop_after_body,
            retry_after=args.retry_after,
            max_faults=args.max_faults,
        )
        quirks = Quirks().merged(",".join(args.quirk))
        limits = ServerLimits(**{field: getattr(args, field) for _, field, _ in _LIMIT_OPTIONS})
        sandbox = Sandbox(
            args.api_keys or ("sandbox-key",),
            host=args.host,
            port=args.port,
            two_way_numbers=args.two_way,
            one_way=args.one_way,
            balance=args.balance,
            currency=args.currency,
            price_per_part=args.price_per_part,
            faults=faults,
            quirks=quirks,
            store=args.sqlite,
            callback_url=args.callback_url,
            callback_method=args.callback_method,
            status_delays=StatusDelays(*args.status_delays),
            callback_loss=args.callback_loss,
            failure_rate=args.failure_rate,
            reply_rate=args.reply_rate,
            reply_text=args.reply_text,
            seed=args.seed,
            strict=args.strict,
            observed=args.observed,
            limits=limits,
        )
    except ValueError as exc:
        parser.error(str(exc))
    except sqlite3.Error as exc:  # a directory that does not exist, a file that is not SQLite
        print(f"error: cannot use --sqlite {args.sqlite}: {exc}", file=sys.stderr)
        return _EXIT_USAGE
    try:
        sandbox.start()
    except OSError as exc:  # the port is taken, not ours to bind, or the host is unknown
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return _EXIT_USAGE
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"Clickatell sandbox listening on {sandbox.base_url}", flush=True)
        print(f"API key: {sandbox.api_key}  (stop with Ctrl+C)", flush=True)
        print(f"Rules: {_describe(sandbox.profile, args.observed)}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("Clickatell sandbox stopped.", flush=True)
    return 0


def _describe(profile: Profile, report: str | None) -> str:
    words = "strict (inferred rules refused too)" if profile.strict else "default"
    if report is not None:
        words += f", {len(profile.observed)} rule(s) as observed in {report}"
    return words


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
