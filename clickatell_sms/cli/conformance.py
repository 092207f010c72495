"""`conformance`: probe the live API with requests that cannot deliver, beside the sandbox.

    clickatell-sms conformance --live --json report.json --markdown report.md
    clickatell-sms conformance --base-url http://127.0.0.1:8080 --api-key sandbox-key
    clickatell-sms conformance --list

Exit statuses: 0 every probe answered as the sandbox does; 1 some answered differently; 2 usage
(a non-loopback base URL without `--live`, no key); 3 stopped because the API reported an
accepted recipient; 4 no answer from the base URL at all.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from ..config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from ..loopback import is_loopback
from ..settings import read
from .common import EXIT_API, EXIT_OK, EXIT_REJECTED, EXIT_TRANSPORT, UsageError
from .table import add_options, option

if TYPE_CHECKING:
    from ..conformance.probes import Probe

__all__ = ["OPTIONS", "Target", "add_parser", "check"]


OPTIONS: Final = (
    option(
        "--api-key",
        metavar="KEY",
        help=f"the integration's API key (prefer the {API_KEY_ENV} variable: shell history)",
    ),
    option(
        "--base-url",
        metavar="URL",
        help=f"API address (or {BASE_URL_ENV}; default {DEFAULT_BASE_URL})",
    ),
    option(
        "--live",
        action="store_true",
        help="required to probe a base URL that is not on this machine (the real API)",
    ),
    option("--json", metavar="FILE", type=Path, help="write the JSON report here"),
    option("--markdown", metavar="FILE", type=Path, help="write the Markdown report here"),
    option(
        "--probe",
        action="append",
        metavar="NAME",
        help="run only this probe (repeatable; see --list)",
    ),
    option(
        "--timeout",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="connect and read timeout per request (default 15)",
    ),
    option(
        "--list", action="store_true", help="list the probes and why each costs nothing, and exit"
    ),
)
"""Every option of `clickatell-sms conformance`."""


def add_parser(commands: Any) -> None:
    cmd = commands.add_parser(
        "conformance",
        help="measure the live API with free, undeliverable probes, beside the sandbox",
        description=(
            "Send a catalogue of requests that cannot deliver a message (recipients without a"
            " digit, a missing field, a wrong key, read-only look-ups) to the API, and the same"
            " to an embedded sandbox; print every request first, and report both answers and a"
            " verdict (same, different, unexpected) per probe. Stops at once if the API reports"
            " an accepted recipient. See docs/conformance.md."
        ),
    )
    add_options(cmd, OPTIONS)
    cmd.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from ..conformance import CATALOGUE, run
    from ..conformance.report import write

    if args.list:
        for probe in CATALOGUE:
            print(f"{probe.name}\n    {probe.question}\n    costs nothing: {probe.why_free}")
        return EXIT_OK
    target = check(args)
    outcome = run(
        target.base_url, target.api_key, sys.stdout, probes=target.probes, timeout=args.timeout
    )
    write(outcome, json_path=args.json, markdown_path=args.markdown)
    counts = outcome.counts()
    print(
        f"\n{counts['same']} same, {counts['different']} different, {counts['unexpected']}"
        f" unexpected, {counts['not run']} not run ({outcome.host})"
    )
    if outcome.stopped and not outcome.results:
        return EXIT_TRANSPORT
    if outcome.stopped:
        return EXIT_API
    return EXIT_OK if counts["same"] == len(outcome.results) else EXIT_REJECTED


@dataclass(frozen=True, slots=True)
class Target:
    """What the probes go to, with which key, and which probes."""

    base_url: str
    api_key: str
    probes: list[Probe]


def check(args: argparse.Namespace) -> Target:
    """The options checked before any probe is sent (`UsageError`): a key, a base URL on this
    machine unless --live says otherwise, probes that exist."""
    from ..conformance import CATALOGUE
    from ..conformance.probes import probe_named

    base_url = args.base_url or read(BASE_URL_ENV) or DEFAULT_BASE_URL
    api_key = args.api_key or read(API_KEY_ENV)
    if not api_key:
        raise UsageError(f"needs the integration's key: --api-key or the {API_KEY_ENV} variable")
    if not is_loopback(urlsplit(base_url).hostname or "") and not args.live:
        raise UsageError(
            f"{base_url} is not on this machine: add --live to send the probes there (they"
            " cannot deliver or cost anything; see --list)"
        )
    try:
        probes = [probe_named(name) for name in args.probe] if args.probe else list(CATALOGUE)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    return Target(base_url, api_key, probes)
