"""`clickatell-sms report`: what became of a campaign, from its journal.

    clickatell-sms report run.sqlite                      # the funnel, delays, failures
    clickatell-sms report run.sqlite --json               # the same, as one JSON object
    clickatell-sms report run.sqlite --csv rows.csv --html report.html
    clickatell-sms report run.sqlite --refresh --older-than 30 --rate-limit 5
    clickatell-sms report --campaign 3f2a... --journal postgresql://db/campaigns

The statuses come from the callbacks `listen --journal` wrote; `--refresh` first looks up, with
the API's status look-up, the accepted messages that have had no final status and no news for
`--older-than` minutes (the key and base URL as for `send`: CLICKATELL_API_KEY, ...).

Exit status: 0 the report was made; 2 usage error, or no such journal or campaign; 3 the
refresh stopped on an API error (the key refused, or the API asked to slow down: the report
is still printed, and the next --refresh resumes); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..config import API_KEY_ENV, BASE_URL_ENV
from ..settings import read
from .common import (
    EXIT_API,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_connection_options,
    checked,
    error,
    positive_count,
)
from .table import Added, Container, add_options, option

if TYPE_CHECKING:
    from ..bulk.delivery import DeliveryStore
    from ..client import Client
    from ..report.refresh import RefreshSummary

__all__ = ["OPTIONS", "add_parser", "check", "run"]

_CAMPAIGNS_SHOWN: Final = 10


_OUTPUT: Final = "output"
_LOOK_UP: Final = "looking up the silent messages first"

_minutes = checked(float, lambda value: value >= 0, "must be a number of minutes >= 0")
_look_ups_per_second = checked(
    float, lambda value: value > 0, "must be a number of look-ups per second > 0"
)


def _connection_flags(group: Container) -> None:
    add_connection_options(group, None)


OPTIONS: Final = (
    option(
        "location",
        nargs="?",
        metavar="JOURNAL",
        help="the campaign's journal: the file `bulk --journal` wrote (or a postgresql:// URL)",
    ),
    option("--journal", help="the journal, as JOURNAL (for a postgresql:// URL)"),
    option("--campaign", metavar="ID", help="with a PostgreSQL journal: the campaign to report"),
    option(
        "--json", action="store_true", group=_OUTPUT, help="print the report as one JSON object"
    ),
    option(
        "--csv", metavar="FILE", group=_OUTPUT, help="write one row per recipient ('-': stdout)"
    ),
    option(
        "--html", metavar="FILE", group=_OUTPUT, help="write the report as a self-contained page"
    ),
    option(
        "--refresh",
        action="store_true",
        group=_LOOK_UP,
        help="look up accepted messages with no final status (resumes a stopped refresh)",
    ),
    option(
        "--older-than",
        type=_minutes,
        default=10.0,
        metavar="MINUTES",
        group=_LOOK_UP,
        help="only messages with no news for this long (default: 10)",
    ),
    option(
        "--rate-limit",
        type=_look_ups_per_second,
        default=10.0,
        metavar="N",
        group=_LOOK_UP,
        help="at most N look-ups per second (default: 10)",
    ),
    option(
        "--concurrency",
        type=positive_count,
        default=4,
        group=_LOOK_UP,
        help="look-ups in parallel (default: 4)",
    ),
    Added(_connection_flags, group=_LOOK_UP),
)
"""Every option of `clickatell-sms report`, in --help order."""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "report",
        help="what became of a campaign: funnel, delivery times, failures (text, JSON, CSV, HTML)",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_options(parser, OPTIONS)
    parser.set_defaults(run=run)
    return parser


_EPILOG: Final = """\
Each row of the campaign is counted once: not sent (bad rows, repeats), refused by the API,
of unknown outcome, or accepted; an accepted row is received, failed, expired or pending.
Callbacks for messages the campaign does not know are kept apart and counted.

exit status: 0 report made, 2 usage error or no such journal/campaign, 3 the refresh stopped on
an API error (resumable), 130 interrupted."""


def run(args: argparse.Namespace) -> int:
    """Carry out `report`; returns the exit status."""
    from ..bulk.journal import JournalError

    try:
        check(args)
        with _open(args) as store:
            return _report(args, store)
    except UsageError as exc:
        return _usage(str(exc))
    except JournalError as exc:
        return _usage(exc.cli_message)
    except ImportError as exc:  # psycopg, for a PostgreSQL journal
        return _usage(f"a PostgreSQL journal needs the 'postgresql' extra ({exc})")


def check(args: argparse.Namespace) -> None:
    """The options, checked before the journal is opened (`UsageError`); the journal's
    location is settled into `args.location`. (The numbers' bounds are their types': argparse
    refuses a bad one while it parses.)"""
    if args.location and args.journal and args.location != args.journal:
        raise UsageError("give the journal once: JOURNAL or --journal")
    args.location = args.location or args.journal
    if not args.location:
        raise UsageError(
            "name the campaign's journal: report JOURNAL (or --journal URL --campaign ID)"
        )


def _open(args: argparse.Namespace) -> DeliveryStore:
    from ..bulk.delivery import open_delivery
    from ..bulk.journal import JournalError, is_postgres_url

    location = str(args.location)
    if not is_postgres_url(location):
        if not Path(location).is_file():
            raise JournalError(f"{location}: no such journal")
        return open_delivery(location, campaign=args.campaign)
    store = open_delivery(location, campaign=args.campaign)
    if args.campaign is None:
        store = _only_campaign(store, location)
    return store


def _only_campaign(store: DeliveryStore, location: str) -> DeliveryStore:
    """The store for the database's one campaign; an error listing them when there are more."""
    from ..bulk.delivery import open_delivery
    from ..bulk.journal import JournalError
    from ..bulk.postgres_delivery import PostgresDelivery

    assert isinstance(store, PostgresDelivery)
    campaigns = store.campaigns()
    store.close()
    if len(campaigns) == 1:
        return open_delivery(location, campaign=campaigns[0][0])
    shown = ", ".join(f"{cid} ({rows:,} rows)" for cid, _, rows in campaigns[:_CAMPAIGNS_SHOWN])
    raise JournalError(
        f"{store.location} holds {len(campaigns)} campaigns: name one with --campaign ID"
        + (f" (newest first: {shown})" if shown else "")
    )


def _report(args: argparse.Namespace, store: DeliveryStore) -> int:
    from ..report import build_report
    from ..report.export import write_csv
    from ..report.html import write_html
    from ..report.text import render_text

    status = EXIT_OK
    summary: RefreshSummary | None = None
    if args.refresh:
        try:
            summary = _refresh(args, store)
        except KeyboardInterrupt:
            error("interrupted: the look-ups made are kept; --refresh resumes the run")
            return EXIT_INTERRUPTED
        if summary is None:
            return EXIT_USAGE
        if summary.stopped is not None:
            status = EXIT_API
    report = build_report(store)
    report.refresh = None if summary is None else summary.to_dict()
    if args.csv:
        count = write_csv(store, args.csv, sync=False)
        if args.csv != "-":
            print(f"wrote {count:,} rows to {args.csv}", file=sys.stderr)
    if args.html:
        write_html(report, args.html)
        print(f"wrote {args.html}", file=sys.stderr)
    if args.csv == "-":
        return status
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        sys.stdout.write(render_text(report))
    return status


def _refresh(args: argparse.Namespace, store: DeliveryStore) -> RefreshSummary | None:
    from ..report.refresh import refresh

    client = _client(args)
    if client is None:
        return None
    with client:
        summary = refresh(
            store,
            client,
            older_than=args.older_than * 60,
            rate_limit=args.rate_limit,
            concurrency=args.concurrency,
        )
    resumed = " (resumed)" if summary.resumed else ""
    print(
        f"refresh{resumed}: {summary.looked_up:,} looked up in {summary.duration:.1f} s,"
        f" {summary.final:,} now final, {summary.not_known:,} unknown to the API,"
        f" {summary.errors:,} failed",
        file=sys.stderr,
    )
    if summary.stopped is not None:
        error(f"the refresh stopped: {summary.stopped}")
    return summary


def _client(args: argparse.Namespace) -> Client | None:
    from ..client import Client
    from ..errors import ValidationError
    from .wording import describe

    api_key = args.api_key or read(API_KEY_ENV)
    if api_key is None:
        error(
            f"--refresh looks messages up with the API: set {API_KEY_ENV} (and {BASE_URL_ENV}"
            " for a sandbox), or pass --api-key"
        )
        return None
    settings: dict[str, Any] = {"max_connections": args.concurrency}
    if args.base_url:
        settings["base_url"] = args.base_url
    if args.timeout is not None:
        settings["timeout"] = args.timeout
    try:
        return Client(api_key, **settings)
    except ValidationError as exc:
        error(describe(exc))
        return None


def _usage(message: str) -> int:
    print(f"clickatell-sms report: {message}", file=sys.stderr)
    return EXIT_USAGE
