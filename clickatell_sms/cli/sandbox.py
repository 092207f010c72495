"""`sandbox`: run the local Clickatell-compatible API in the foreground until SIGINT or SIGTERM.

For trying the SDK (or any other Clickatell client) by hand, or for a test suite in another
language: it prints its base URL and key on the first line, so a script can read where it is.
`python -m clickatell_sms.sandbox` is the same command. The server and its Python API are
`clickatell_sms.sandbox`; this module is only its command line: the options (`OPTIONS`), the
check that turns them into a `Sandbox` (`check`), and the run in the foreground (`run`).
"""

from __future__ import annotations

import argparse
import math
import re
import signal
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

from ..errors import ValidationError
from ..sandbox.billing import DEFAULT_BALANCE, DEFAULT_PRICE_PER_PART
from ..sandbox.limits import ServerLimits
from ..sandbox.quirks import Quirks
from .common import EXIT_OK, EXIT_USAGE, UsageError, checked, error, positive_count
from .table import Option, add_options, option
from .wording import in_shell_words

if TYPE_CHECKING:
    from ..sandbox import Faults, Profile, Sandbox

__all__ = ["OPTIONS", "add_parser", "check", "run"]

_LIMITS_DEFAULT: Final = ServerLimits()
_QUIRK_NAMES: Final = tuple(name.replace("_", "-") for name in Quirks.__dataclass_fields__)


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _callback_url(text: str) -> str:
    from ..sandbox.callbacks import check_callback_url

    try:
        check_callback_url(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.problem) from None
    return text


_rate = checked(float, lambda value: 0.0 <= value <= 1.0, "a rate is between 0 and 1")
_port = checked(int, lambda value: 0 <= value <= 65535, "a port is between 0 and 65535")
_positive_seconds = checked(
    float, lambda value: 0 < value < math.inf, "must be a number of seconds above 0"
)


def _rate_option(flag: str, help: str, *, group: str | None = None) -> Option:
    """A share of something, 0 to 1, 0 unless given."""
    return option(flag, type=_rate, default=0.0, metavar="RATE", help=help, group=group)


def _limit_option(flag: str, field: str, help: str) -> Option:
    """One of `ServerLimits`' bounds (seconds, or a count of connections)."""
    whole = field == "max_connections"
    return option(
        flag,
        dest=field,
        type=positive_count if whole else _positive_seconds,
        default=getattr(_LIMITS_DEFAULT, field),
        metavar="N" if whole else "SECONDS",
        help=f"{help} (default: %(default)g)",
        group=_LIMITS,
    )


_FAULTS: Final = "faults"
_RULES: Final = "which rules it enforces (docs/sandbox.md lists them)"
_LIMITS: Final = "limits"
SECTIONS: Final[Mapping[str, str | None]] = {
    _FAULTS: "Failures on purpose, to test a client's retries. RATE is the share of API requests"
    " (0 to 1; all rates together at most 1) drawn from a stream seeded by --seed.",
    _RULES: None,
    _LIMITS: "How long a client may take and how many may connect, so a stuck or hostile client"
    " cannot hold the sandbox up.",
}

_ACCOUNT_OPTIONS: Final = (
    option("--host", default="127.0.0.1", help="address to bind (default: %(default)s, loopback)"),
    option("--port", type=_port, default=0, help="port to listen on (default: any free port)"),
    option(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="an API key the sandbox accepts (repeatable; default: sandbox-key)",
    ),
    option(
        "--two-way",
        action="append",
        dest="two_way",
        default=[],
        metavar="NUMBER",
        exclusive="integration",
        help="make it a two-way integration owning NUMBER, so `from` is required and must be"
        " one of them, else 106 (repeatable; default: any `from` is taken, as in Clickatell's"
        " example request)",
    ),
    option(
        "--one-way",
        action="store_true",
        exclusive="integration",
        help="imitate a one-way integration: any `from` is refused with 607, as a live answer"
        " was seen to",
    ),
    option(
        "--balance",
        type=_decimal,
        default=DEFAULT_BALANCE,
        metavar="AMOUNT",
        help="the account's starting credit, enough for a 100,000-row campaign unless set (a"
        " small one tests running out); a recipient it cannot pay for is refused with error"
        " 301 (default: %(default)s)",
    ),
    option(
        "--currency",
        default="ZAR",
        metavar="CODE",
        help="the currency the balance look-up reports (default: %(default)s)",
    ),
    option(
        "--price-per-part",
        type=_decimal,
        default=DEFAULT_PRICE_PER_PART,
        metavar="AMOUNT",
        help="what each message part costs, taken from the balance (default: %(default)s)",
    ),
    option(
        "--sqlite",
        metavar="PATH",
        help="keep the record of accepted messages in this SQLite file (default: in memory)",
    ),
)

_CALLBACK_OPTIONS: Final = (
    option(
        "--callback-url",
        type=_callback_url,
        metavar="URL",
        help="post a status callback here for every status each message takes (http or https)",
    ),
    option(
        "--callback-method",
        choices=("POST", "GET"),
        default="POST",
        help="POST a JSON body, or GET with the fields in the query (default: %(default)s)",
    ),
    option(
        "--status-delays",
        nargs=2,
        type=float,
        metavar=("TO_GATEWAY", "TO_HANDSET"),
        default=(0.05, 0.05),
        help="seconds from queued to delivered-to-gateway, and from there to received"
        " (default: 0.05 0.05)",
    ),
    _rate_option(
        "--callback-loss",
        "drop this share of the status callbacks, each on its own (0 to 1, seeded by"
        " --seed), as a receiver that was down would miss them; the status look-up still"
        " answers (default: 0)",
    ),
    _rate_option(
        "--failure-rate",
        "make this share of the accepted messages end in a failure status drawn from the"
        " spec's list (0 to 1, seeded by --seed) instead of RECEIVED_BY_RECIPIENT (default: 0)",
    ),
    _rate_option(
        "--reply-rate",
        "make the handsets reply to this share of the messages sent from a --two-way"
        " number (0 to 1, seeded by --seed), posted to --callback-url as reply callbacks"
        " (default: 0)",
    ),
    option(
        "--reply-text",
        default="STOP",
        metavar="TEXT",
        help="what the handsets reply (default: %(default)s)",
    ),
)

_FAULT_OPTIONS: Final = (
    option(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        group=_FAULTS,
        help="delay every answer this long; the request is processed first (default: 0)",
    ),
    _rate_option(
        "--fault-rate-429",
        "answer 429 with Retry-After; nothing recorded or charged (default: 0)",
        group=_FAULTS,
    ),
    _rate_option(
        "--fault-rate-500",
        "answer 500 with error 901; nothing recorded or charged (default: 0)",
        group=_FAULTS,
    ),
    _rate_option(
        "--fault-rate-503",
        "answer 503 with Retry-After and error 901; nothing recorded or charged (default: 0)",
        group=_FAULTS,
    ),
    _rate_option(
        "--drop-before-body",
        "close the connection after the headers, without an answer; nothing recorded (default: 0)",
        group=_FAULTS,
    ),
    _rate_option(
        "--drop-after-body",
        "process the request fully (recorded and charged), then close without an answer:"
        " the outcome a client cannot know (default: 0)",
        group=_FAULTS,
    ),
    option(
        "--retry-after",
        type=int,
        default=1,
        metavar="SECONDS",
        group=_FAULTS,
        help="the Retry-After value sent with 429 and 503 (default: %(default)s)",
    ),
    option(
        "--max-faults",
        type=int,
        default=None,
        metavar="N",
        group=_FAULTS,
        help="inject at most N faults by rate, so a retrying client finishes (default: no bound)",
    ),
    option(
        "--seed",
        type=int,
        default=0,
        group=_FAULTS,
        help="seed of the fault stream (and of --callback-loss, --failure-rate and --reply-rate):"
        " the same seed and requests give the same faults (default: %(default)s)",
    ),
    option(
        "--quirk",
        action="append",
        default=[],
        choices=_QUIRK_NAMES,
        metavar="NAME",
        help="reproduce one of the live API's oddities (repeatable): " + ", ".join(_QUIRK_NAMES),
    ),
)

_RULE_OPTIONS: Final = (
    option(
        "--strict",
        action="store_true",
        group=_RULES,
        help="also refuse what only this project infers the API refuses (by default such a"
        " request is accepted with an X-Sandbox-Warning header)",
    ),
    option(
        "--observed",
        metavar="REPORT",
        group=_RULES,
        help="answer as the live API did in this conformance report (clickatell-sms"
        " conformance --json REPORT)",
    ),
    option(
        "--rules",
        action="store_true",
        group=_RULES,
        help="print every rule with its evidence, as this profile applies it, and exit",
    ),
)

_LIMIT_OPTIONS: Final = (
    _limit_option(
        "--idle-timeout",
        "idle_timeout",
        "close a connection with no request under way after this long",
    ),
    _limit_option(
        "--header-timeout",
        "header_timeout",
        "answer 408 and close when a request's headers take longer than this",
    ),
    _limit_option(
        "--body-timeout",
        "body_timeout",
        "answer 408 and close when a request's body takes longer than this after its headers",
    ),
    _limit_option(
        "--write-timeout",
        "write_timeout",
        "disconnect a client that reads none of its answers for this long",
    ),
    _limit_option(
        "--max-connections",
        "max_connections",
        "open connections at most; a new one displaces the one idle longest",
    ),
)

OPTIONS: Final = (
    *_ACCOUNT_OPTIONS,
    *_CALLBACK_OPTIONS,
    *_FAULT_OPTIONS,
    *_RULE_OPTIONS,
    *_LIMIT_OPTIONS,
)
"""Every option of `clickatell-sms sandbox`, in --help order."""

# Each `Sandbox` keyword's flag, so that its `ValidationError` names the flag: the options'
# own (their dest is the keyword), and the keywords the options are renamed into.
_FLAG_OF_KEYWORD: Final[Mapping[str, str]] = {
    **{
        str(row.settings.get("dest") or row.flags[0].lstrip("-").replace("-", "_")): row.flags[0]
        for row in OPTIONS
    },
    "api_keys": "--api-key",
    "two_way_numbers": "--two-way",
    "store": "--sqlite",
}


def add_parser(commands: Any) -> None:
    cmd = commands.add_parser(
        "sandbox",
        help="run a local Clickatell-compatible API (see: clickatell-sms sandbox --help)",
        description=(
            "Run a local Clickatell Platform API until Ctrl+C or SIGTERM (nothing is really"
            " sent). The first line printed is its base URL. See docs/sandbox.md."
        ),
    )
    add_options(cmd, OPTIONS, SECTIONS)
    cmd.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the rules (`--rules`), or serve until SIGINT/SIGTERM, printing the base URL first.
    Returns the exit status: 0, or 2 for a usage error or an address it cannot listen on."""
    if args.rules:
        print(_profile(args).markdown_table(), end="")
        return EXIT_OK
    sandbox = check(args)
    try:
        sandbox.start()
    except OSError as exc:  # the port is taken, not ours to bind, or the host is unknown
        error(f"cannot listen on {args.host}:{args.port}: {exc}")
        return EXIT_USAGE
    stop = threading.Event()
    with _stop_on_signals(stop):
        try:
            print(f"Clickatell sandbox listening on {sandbox.base_url}", flush=True)
            print(f"API key: {sandbox.api_key}  (stop with Ctrl+C)", flush=True)
            print(f"Rules: {_describe(sandbox.profile, args.observed)}", flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            sandbox.stop()
    print("Clickatell sandbox stopped.", flush=True)
    return EXIT_OK


def check(args: argparse.Namespace) -> Sandbox:
    """The sandbox the options describe, made but not started; `UsageError`, or a
    `ValidationError` named by its flag, when they do not make one."""
    from ..sandbox import Sandbox

    try:
        return Sandbox(
            args.api_keys or ("sandbox-key",),
            host=args.host,
            port=args.port,
            two_way_numbers=args.two_way,
            one_way=args.one_way,
            balance=args.balance,
            currency=args.currency,
            price_per_part=args.price_per_part,
            faults=_faults(args),
            quirks=_quirks(args),
            store=args.sqlite,
            callback_url=args.callback_url,
            callback_method=args.callback_method,
            status_delays=tuple(args.status_delays),
            callback_loss=args.callback_loss,
            failure_rate=args.failure_rate,
            reply_rate=args.reply_rate,
            reply_text=args.reply_text,
            seed=args.seed,
            strict=args.strict,
            observed=args.observed,
            limits=_limits(args),
        )
    except ValidationError as exc:
        raise in_shell_words(exc, _FLAG_OF_KEYWORD) from None
    except ValueError as exc:  # the server's own checks, which know no flags
        raise UsageError(_in_flags(str(exc))) from None
    except sqlite3.Error as exc:  # a directory that does not exist, a file that is not SQLite
        raise UsageError(f"cannot use --sqlite {args.sqlite}: {exc}") from None


_KEYWORD_IN_PROSE: Final = re.compile(
    "|".join(rf"\b{re.escape(name)}\b" for name in _FLAG_OF_KEYWORD if "_" in name)
)


def _in_flags(problem: str) -> str:
    """The server's words for a setting (`two_way_numbers`) as the flag that sets it."""
    return _KEYWORD_IN_PROSE.sub(lambda match: _FLAG_OF_KEYWORD[match.group(0)], problem)


def _profile(args: argparse.Namespace) -> Profile:
    from ..sandbox import Profile

    try:
        if args.observed:
            return Profile.from_report(args.observed, strict=args.strict)
        return Profile(strict=args.strict)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _faults(args: argparse.Namespace) -> Faults:
    from ..sandbox import Faults

    return Faults(
        latency=args.latency,
        rate_429=args.fault_rate_429,
        rate_500=args.fault_rate_500,
        rate_503=args.fault_rate_503,
        drop_before_body=args.drop_before_body,
        drop_after_body=args.drop_after_body,
        retry_after=args.retry_after,
        max_faults=args.max_faults,
    )


def _quirks(args: argparse.Namespace) -> Quirks:
    return Quirks().merged(",".join(args.quirk))


def _limits(args: argparse.Namespace) -> ServerLimits:
    fields = ServerLimits.__dataclass_fields__
    return ServerLimits(**{field: getattr(args, field) for field in fields})


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (the sandbox then stops cleanly) while inside."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _describe(profile: Profile, report: str | None) -> str:
    words = "strict (inferred rules refused too)" if profile.strict else "default"
    if report is not None:
        words += f", {len(profile.observed)} rule(s) as observed in {report}"
    return words
