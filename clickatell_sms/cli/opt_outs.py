"""`opt-outs`: the numbers that asked not to be sent to, listed and managed by hand.

    clickatell-sms opt-outs list [--json]
    clickatell-sms opt-outs add +27821234567          # an opt-out that came by phone or e-mail
    clickatell-sms opt-outs remove +27821234567       # they asked to hear from you again
    clickatell-sms opt-outs import old-list.csv       # a column `number`; `keyword`, `opted_out_at`
    clickatell-sms opt-outs export opt-outs.csv       # the same columns, '-' for stdout

Every action takes `--opt-outs PATH|URL`, with the default `bulk` and `listen` use (the
`CLICKATELL_OPT_OUTS` variable, else opt-outs.sqlite in your data folder), and `--region` for
numbers written nationally. Exit status: 0 done; 1 `import` found bad rows (the others were
imported); 2 a usage error, a bad number, or a store that cannot be used.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from ..errors import ValidationError
from .common import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, add_region_option, error
from .table import Added, add_options, option
from .wording import describe

if TYPE_CHECKING:
    from ..opt_outs import Entry, OptOutStore

__all__ = [
    "EXPORT_OPTIONS",
    "IMPORT_OPTIONS",
    "LIST_OPTIONS",
    "NUMBER_OPTIONS",
    "add_parser",
]

_COLUMNS: Final = ("number", "opted_out_at", "keyword", "source", "reply_message_id")
_BAD_ROWS_SHOWN: Final = 20


def add_parser(commands: Any) -> None:
    cmd = commands.add_parser(
        "opt-outs",
        help="list, add, remove, import or export the numbers that opted out",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
    )
    actions = cmd.add_subparsers(title="actions", metavar="ACTION", required=True)
    for name, what, table, runner in (
        ("list", "every number opted out now", LIST_OPTIONS, _list),
        ("add", "opt a number out (it is skipped by every later campaign)", NUMBER_OPTIONS, _add),
        ("remove", "opt a number back in", NUMBER_OPTIONS, _remove),
        ("import", "opt out every number of a CSV file", IMPORT_OPTIONS, _import),
        ("export", "write the list as CSV", EXPORT_OPTIONS, _export),
    ):
        action = actions.add_parser(name, help=what)
        add_options(action, table)
        action.set_defaults(run=runner)


_STORE: Final = option(
    "--opt-outs",
    metavar="PATH|URL",
    help="the opt-out store (default: CLICKATELL_OPT_OUTS, else opt-outs.sqlite in your"
    " data folder: the one `bulk` and `listen` use)",
)
LIST_OPTIONS: Final = (
    _STORE,
    option("--json", action="store_true", help="one JSON object per line"),
)
"""The options of `opt-outs list`."""
NUMBER_OPTIONS: Final = (
    _STORE,
    option("number", metavar="NUMBER", help="international, or with --region"),
    Added(add_region_option),
)
"""The options of `opt-outs add` and `opt-outs remove`."""
IMPORT_OPTIONS: Final = (
    _STORE,
    option("file", metavar="CSV", help="with a header row ('-': stdin)"),
    option("--column", default="number", help="the column with the numbers (default: number)"),
    Added(add_region_option),
)
"""The options of `opt-outs import`."""
EXPORT_OPTIONS: Final = (
    _STORE,
    option("file", metavar="CSV", help="the file to write ('-': stdout)"),
)
"""The options of `opt-outs export`."""


@contextlib.contextmanager
def _store(args: argparse.Namespace) -> Iterator[OptOutStore]:
    from ..opt_outs import OptOutStoreError, open_opt_outs

    try:
        store = open_opt_outs(args.opt_outs)
    except OptOutStoreError as exc:
        raise ValidationError("opt_outs", f"cannot be used: {exc}") from None
    except ImportError as exc:  # psycopg
        problem = f"PostgreSQL needs the 'postgresql' extra ({exc})"
        raise ValidationError("opt_outs", problem) from None
    with contextlib.closing(store):
        yield store


def _list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        shown = 0
        for opt_out in store.iter_opt_outs():
            shown += 1
            if args.json:
                print(json.dumps(_row(opt_out)))
            else:
                print(f"{opt_out.number}  {opt_out.describe()}")
        print(f"{_numbers(shown)} opted out in {store.location}", file=sys.stderr)
    return EXIT_OK


def _add(args: argparse.Namespace) -> int:
    return _change(args, out=True)


def _remove(args: argparse.Namespace) -> int:
    return _change(args, out=False)


def _change(args: argparse.Namespace, *, out: bool) -> int:
    """Opt the number out (`add`) or back in (`remove`), by hand, now."""
    from ..opt_outs import number_key

    number = number_key(args.number, args.default_region, field="NUMBER")
    with _store(args) as store:
        changed = store.opt_out(number) if out else store.opt_in(number)
        done, already = ("opted out", "was opted out already") if out else (
            "opted back in", "was not opted out",
        )  # fmt: skip
        print(f"{number}: {done if changed else already} ({store.location})")
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    stream: IO[str] = sys.stdin if args.file == "-" else _open_text(args.file)
    bad = _BadRows(args.file)
    try:
        reader = csv.DictReader(stream)
        if args.column not in (reader.fieldnames or ()):
            columns = ", ".join(reader.fieldnames or ()) or "none"
            error(f"{args.file}: no column {args.column!r} (columns: {columns}); choose --column")
            return EXIT_USAGE
        with _store(args) as store:
            changed = store.opt_out_many(_entries(reader, args, bad))
            print(f"{_numbers(changed)} opted out from {args.file} into {store.location}")
    except csv.Error as exc:
        error(f"{args.file}: line {reader.line_num}: not valid CSV: {exc}")
        return EXIT_USAGE
    finally:
        if stream is not sys.stdin:
            stream.close()
    bad.finish()
    return EXIT_INCOMPLETE if bad.count else EXIT_OK


def _open_text(name: str) -> IO[str]:
    try:
        return Path(name).open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ValidationError("file", f"cannot be read: {exc}", name) from None


def _entries(
    reader: csv.DictReader[str], args: argparse.Namespace, bad: _BadRows
) -> Iterator[Entry]:
    from ..opt_outs import Entry, number_key

    for values in reader:
        line = reader.line_num
        try:
            number = number_key(values.get(args.column) or "", args.default_region)
            at = _time(values.get("opted_out_at"))
        except ValidationError as exc:
            bad.add(line, describe(exc))
            continue
        yield Entry(number, (values.get("keyword") or "").strip() or None, at)


def _time(text: str | None) -> float | None:
    if not text or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError("opted_out_at", "is not an ISO 8601 time", text) from None
    if moment.tzinfo is None:
        raise ValidationError("opted_out_at", "has no time zone (add Z for UTC)", text)
    return moment.timestamp()


class _BadRows:
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    def add(self, line: int, problem: str) -> None:
        self.count += 1
        if self.count <= _BAD_ROWS_SHOWN:
            print(f"{self.name}: line {line}: {problem}", file=sys.stderr)

    def finish(self) -> None:
        if self.count > _BAD_ROWS_SHOWN:
            print(f"{self.name}: {self.count - _BAD_ROWS_SHOWN} more bad rows", file=sys.stderr)


def _export(args: argparse.Namespace) -> int:
    with _store(args) as store:
        if args.file == "-":
            written = _write(store, sys.stdout)
        else:
            target = Path(args.file)
            partial = target.with_name(target.name + ".partial")
            try:
                with partial.open("w", encoding="utf-8", newline="") as out:
                    written = _write(store, out)
                partial.replace(target)
            except OSError as exc:
                raise ValidationError("file", f"cannot be written: {exc}", args.file) from None
        print(f"{_numbers(written)} opted out written to {args.file}", file=sys.stderr)
    return EXIT_OK


def _write(store: OptOutStore, out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=_COLUMNS)
    writer.writeheader()
    written = 0
    for opt_out in store.iter_opt_outs():
        writer.writerow(_row(opt_out))
        written += 1
    return written


def _numbers(count: int) -> str:
    return f"{count:,} number{'' if count == 1 else 's'}"


def _row(opt_out: Any) -> dict[str, Any]:
    return {
        "number": opt_out.number,
        "opted_out_at": opt_out.when,
        "keyword": opt_out.keyword,
        "source": opt_out.source,
        "reply_message_id": opt_out.reply_message_id,
    }
