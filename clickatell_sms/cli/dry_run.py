"""`bulk --dry-run`: the campaign read and checked as a real run would, counted and priced,
and nothing sent (`bulk.dry_run`). No key is needed, and no journal is made.

    clickatell-sms bulk --csv people.csv --template "Hi {name}" --dry-run --rate-limit 50 \\
        --price-per-part 0.0325

Exit status: 0 every row would be sent; 1 some would not (invalid, repeated, opted out); 2 a
usage or input error. With `--json`, the last line of standard output is the same as one object.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from ..config import ClientConfig
from .common import EXIT_INCOMPLETE, EXIT_OK
from .wording import shell_words

if TYPE_CHECKING:
    from ..bulk import BadRow, DryRun, Recipient

__all__ = ["WRITES", "count", "format_seconds"]

WRITES: Final = (
    ("--resume", "resume"),
    ("--journal", "journal"),
    ("--output", "output"),
    ("--celery", "celery"),
    ("--new-campaign", "new_campaign"),
    ("--resend-unknown", "resend_unknown"),
)
"""The flags of a real run that `--dry-run` refuses: it writes nothing and runs here."""
_BAR: Final = 30


def count(
    args: argparse.Namespace,
    source: Iterable[Recipient | BadRow],
    name: str,
    total: int | None,
    options: dict[str, Any],
) -> int:
    """Carry out `bulk --dry-run` over the parsed `source`; returns the exit status. Raises
    `ValidationError` for a bad option (the caller words it)."""
    from ..bulk.dry_run import dry_run

    report = dry_run(
        _Settings.of(args),
        source,
        args.content,
        rate_limit=args.rate_limit,
        unique=not args.allow_duplicates,
        opt_outs=args.opt_outs,
        ignore_opt_outs=args.ignore_opt_outs,
        progress=False,
        total=total,
        **options,
    )
    price = args.price_per_part
    out = sys.stderr if args.json else sys.stdout
    for line in _lines(report, name, price):
        print(line, file=out)
    if args.json:
        print(json.dumps(report.to_dict(price)), flush=True)
    return EXIT_OK if report.recipients == report.rows else EXIT_INCOMPLETE


@dataclass(frozen=True, slots=True)
class _Settings:
    """The settings a dry run reads of a client (region, format, integration): no key."""

    config: ClientConfig

    @classmethod
    def of(cls, args: argparse.Namespace) -> _Settings:
        from ..config import check_integration
        from ..settings import INTEGRATION_ENV, read

        integration = read(INTEGRATION_ENV) or "rest"
        return cls(
            ClientConfig(
                "dry-run",
                default_region=args.default_region,
                format=args.format or "json",
                integration=check_integration(integration, INTEGRATION_ENV),
            )
        )

    def send(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a dry run sends nothing")


def _lines(report: DryRun, name: str, price: Decimal | None) -> list[str]:
    lines = [f"{name}: line {r.row}: {shell_words(r.reason)}" for r in report.invalid_rows]
    if report.invalid > len(report.invalid_rows):
        lines.append(f"{name}: {report.invalid - len(report.invalid_rows):,} more bad rows")
    store = "no opt-out store read" if report.opt_outs is None else f"checked in {report.opt_outs}"
    ignored = f"; sent anyway: {report.opt_outs_ignored:,}" if report.opt_outs_ignored else ""
    lines += [
        "dry run: nothing was sent, no journal was made",
        f"  rows             {report.rows:>12,}",
        f"  valid            {report.valid:>12,}",
        f"  invalid          {report.invalid:>12,}",
        f"  duplicates       {report.duplicates:>12,}",
        f"  opted out        {report.opted_out:>12,}  ({store}{ignored})",
        f"  to send          {report.recipients:>12,}  in {report.requests:,} requests",
        "  encodings        "
        + (
            ", ".join(f"{e} {n:,} ({_share(n, report)})" for e, n in report.encodings.items())
            or "-"
        ),
        "  parts per message",
        *_histogram(report),
        f"  total parts      {report.parts:>12,}",
    ]
    seconds = report.seconds
    if seconds is not None:
        lines.append(f"  at --rate-limit {report.rate_limit:g}/s: {format_seconds(seconds)}")
    else:
        lines.append("  no --rate-limit: as fast as the API answers")
    if price is not None:
        lines.append(f"  cost at {price} per part: {report.cost(price):,}")
    return lines


def _share(count: int, report: DryRun) -> str:
    return f"{100 * count / report.recipients:.1f}%" if report.recipients else "-"


def _histogram(report: DryRun) -> list[str]:
    counts = report.parts_per_message
    widest = max(counts.values(), default=0)
    return [
        f"  {parts:>8} part{'s' if parts != 1 else ' '}  {rows:>12,}  "
        + "#" * (round(_BAR * rows / widest) if widest else 0)
        for parts, rows in sorted(counts.items())
    ]


def format_seconds(seconds: float) -> str:
    """A duration as a person reads it: "45 s", "12 min 5 s", "3 h 20 min"."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s" if whole else f"{seconds:.1f} s"
