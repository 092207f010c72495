"""`clickatell-sms sandbox`: run the sandbox in the foreground until SIGINT or SIGTERM.

For trying the SDK (or any other Clickatell client) by hand, or for a test suite in another
language: it prints its base URL and key on the first line, so a script can read where it is.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from decimal import Decimal, InvalidOperation
from types import FrameType

from .billing import DEFAULT_BALANCE, DEFAULT_PRICE_PER_PART
from .faults import Faults
from .profile import Profile
from .quirks import Quirks
from .server import Sandbox
from .timeline import StatusDelays

__all__ = ["build_parser", "main"]

_QUIRK_NAMES = tuple(item.replace("_", "-") for item in Quirks.__dataclass_fields__)


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a rate is between 0 and 1, not {value}")
    return value


def build_parser(prog: str = "clickatell-sms sandbox") -> argparse.ArgumentParser:
    """The command's options (the facade CLI reuses this for `--help`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local Clickatell Platform API (nothing is really sent).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="a valid API key (repeatable; default sandbox-key)",
    )
    parser.add_argument(
        "--two-way",
        action="append",
        dest="two_way",
        default=[],
        metavar="NUMBER",
        help="make it a two-way integration owning NUMBER (repeatable)",
    )
    parser.add_argument(
        "--balance",
        type=_decimal,
        default=DEFAULT_BALANCE,
        help=f"the account's starting balance (default {DEFAULT_BALANCE}; set a small one to"
        " test running out of credit)",
    )
    parser.add_argument("--currency", default="ZAR")
    parser.add_argument("--price-per-part", type=_decimal, default=DEFAULT_PRICE_PER_PART)
    parser.add_argument("--sqlite", metavar="PATH", help="keep records in this SQLite file")
    parser.add_argument("--callback-url", metavar="URL", help="post status callbacks here")
    parser.add_argument("--callback-method", choices=("POST", "GET"), default="POST")
    parser.add_argument(
        "--status-delays",
        nargs=2,
        type=float,
        metavar=("TO_GATEWAY", "TO_HANDSET"),
        default=(0.05, 0.05),
        help="seconds from queued to gateway, and from gateway to handset",
    )
    faults = parser.add_argument_group("faults (rates are shares of requests, 0 to 1)")
    faults.add_argument("--latency", type=float, default=0.0, metavar="SECONDS")
    faults.add_argument("--fault-rate-429", type=_rate, default=0.0, metavar="RATE")
    faults.add_argument("--fault-rate-500", type=_rate, default=0.0, metavar="RATE")
    faults.add_argument("--fault-rate-503", type=_rate, default=0.0, metavar="RATE")
    faults.add_argument("--drop-before-body", type=_rate, default=0.0, metavar="RATE")
    faults.add_argument("--drop-after-body", type=_rate, default=0.0, metavar="RATE")
    faults.add_argument("--retry-after", type=int, default=1, metavar="SECONDS")
    faults.add_argument("--max-faults", type=int, default=None, metavar="N")
    faults.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quirk",
        action="append",
        default=[],
        choices=_QUIRK_NAMES,
        help="reproduce one of the live API's oddities (repeatable)",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM; prints the base URL first. Returns the exit status."""
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
        sandbox = Sandbox(
            args.api_keys or ("sandbox-key",),
            host=args.host,
            port=args.port,
            two_way_numbers=args.two_way,
            balance=args.balance,
            currency=args.currency,
            price_per_part=args.price_per_part,
            faults=faults,
            quirks=quirks,
            store=args.sqlite,
            callback_url=args.callback_url,
            callback_method=args.callback_method,
            status_delays=StatusDelays(*args.status_delays),
            seed=args.seed,
            strict=args.strict,
            observed=args.observed,
        )
    except ValueError as exc:
        parser.error(str(exc))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with sandbox:
            print(f"Clickatell sandbox listening on {sandbox.base_url}", flush=True)
            print(f"API key: {sandbox.api_key}  (stop with Ctrl+C)", flush=True)
            print(f"Rules: {_describe(sandbox.profile, args.observed)}", flush=True)
            while not stop.wait(0.5):
                pass
            print("Clickatell sandbox stopped.", flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _describe(profile: Profile, report: str | None) -> str:
    words = "strict (inferred rules refused too)" if profile.strict else "default"
    if report is not None:
        words += f", {len(profile.observed)} rule(s) as observed in {report}"
    return words


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
