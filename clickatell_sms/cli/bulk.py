"""`clickatell-sms bulk`: a campaign from a CSV file, in one command, safe to kill and resume.

    clickatell-sms bulk --csv people.csv --text "Hello from clickatell-sms"
    clickatell-sms bulk --csv people.csv --template "Hi {name}, your code is {code}"
    clickatell-sms bulk --csv people.csv --resume people.csv.journal       # after a crash
    clickatell-sms bulk --csv people.csv --text "Hi" --dry-run --price-per-part 0.03  # no send
    clickatell-sms bulk --csv people.csv --content "Hi" \
        --journal postgresql://db/campaigns --celery redis://queue:6379/0  # on Celery workers

The key and base URL come from CLICKATELL_API_KEY and CLICKATELL_BASE_URL, as for the client
(--api-key works too, but other users can read it in the process list). With neither a key nor
a base URL (or with --sandbox) the run goes to an embedded sandbox, as `send` does: nothing is
really sent, standard error says so, and the journal is a temporary one unless you name it.

Numbers that opted out (a STOP reply `listen` recorded, or `opt-outs add`) are skipped and
reported `opted_out`; `--dry-run` reads and prices the whole file and sends nothing.

Exit status: 0 every row accepted; 1 some rows rejected, failed or unknown; 2 a usage or input
error (nothing was sent); 3 stopped after repeated authentication/account errors; 5 stopped
because the journal or the results file could not be written (the summary says what was sent);
130 interrupted (Ctrl-C or SIGTERM). With `--json`, the last line of standard output is the
summary as one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import signal
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from ..errors import ClickatellError, ValidationError
from ..settings import CELERY_QUEUE_ENV, read
from .common import (
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STOPPED,
    EXIT_STORAGE,
    EXIT_USAGE,
    UsageError,
    add_connection_options,
    add_region_option,
    connect,
    sandbox_note,
)
from .fields import add_option_flags, options_from_args
from .table import Added, Container, add_options, option
from .wording import describe, shell_words

if TYPE_CHECKING:
    from ..bulk import BadRow, BulkResult, BulkSummary, Progress, Recipient
    from ..bulk.csv_input import CSVSource, Template

__all__ = ["OPERATIONS", "OPTIONS", "Plan", "add_arguments", "add_parser", "check", "main", "run"]

OPERATIONS: Final = MappingProxyType({"sendMessage": "bulk", "sendMessageHttp": "bulk"})
"""The spec's operations these commands carry, and the command of each."""

_BAD_ROWS_SHOWN: Final = 20
_IDS_SHOWN: Final = 20  # request IDs the summary lists (unknown, unjournalled); --json has all
_ROWS_WORTH_A_NOTICE: Final = 100_000  # about a second of indexing: say why the command waits
# The journal identity's `sandbox` fact for a run on the embedded sandbox: such a journal cannot
# be resumed against the real API, which would skip every row the sandbox took.
_SANDBOX_IDENTITY: Final = "embedded"


_INPUT: Final = "input"
_MESSAGE: Final = "message options (the API's fields)"
_RUN: Final = "run"
_OPT_OUTS: Final = "opt-outs (docs/bulk.md)"
_STATE: Final = "journal and results"
_WORKERS: Final = "on Celery workers (the 'celery' extra; docs/scale-out.md)"


def _price(text: str) -> Decimal:
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a price: {text!r}") from None
    if not price.is_finite() or price < 0:
        raise argparse.ArgumentTypeError(f"a price is a number of 0 or more, not {text}")
    return price


def _message_flags(group: Container) -> None:
    """The spec's fields (`client_message_id` is a prefix here), then --region."""
    add_option_flags(
        group,
        help_overrides={
            "client_message_id": "prefix of each request's clientMessageId (<PREFIX>-<batch>)"
        },
    )
    add_region_option(group)


def _connection_flags(parser: Container) -> None:
    """--timeout, --api-key, --base-url, --sandbox: as `send`'s, and resolved the same way."""
    add_connection_options(parser, "send to an embedded sandbox (nothing is really sent)")


_INPUT_OPTIONS: Final = (
    option(
        "--csv",
        metavar="FILE",
        group=_INPUT,
        help="CSV with a header row ('-': stdin); required, except to --resume a campaign on"
        " workers (it holds its rows)",
    ),
    option(
        "--column", default="to", group=_INPUT, help="the column with the numbers (default: to)"
    ),
    option(
        "--encoding", default="utf-8", group=_INPUT, help="the file's encoding (default: utf-8)"
    ),
    option(
        "--delimiter",
        default=",",
        group=_INPUT,
        help="the field separator: one character or 'tab' (default: ,)",
    ),
    # One of the three is required, except to --resume a campaign on workers (see `check`);
    # --text and --text-column as on `send`, --content and --content-column their old names.
    option(
        "--text",
        "--content",
        dest="content",
        metavar="TEXT",
        group=_INPUT,
        exclusive="text",
        help="the message, the same for every row",
    ),
    option(
        "--text-column",
        "--content-column",
        dest="content_column",
        metavar="COLUMN",
        group=_INPUT,
        exclusive="text",
        help="a column holding each row's message",
    ),
    option(
        "--template",
        group=_INPUT,
        exclusive="text",
        help="a message with {column} fields, filled from each row (use {{ and }} for braces)",
    ),
)

_MESSAGE_OPTIONS: Final = (
    Added(_message_flags, group=_MESSAGE),
    option(
        "--allow-duplicates",
        action="store_true",
        group=_MESSAGE,
        help="send a number again when it repeats with the same message (default: once)",
    ),
)

_RUN_OPTIONS: Final = (
    option("--format", choices=("json", "xml"), default=None, group=_RUN, help="body format"),
    option(
        "--concurrency", type=int, default=4, group=_RUN, help="requests in parallel (default: 4)"
    ),
    option(
        "--rate-limit", type=float, metavar="N", group=_RUN, help="at most N messages per second"
    ),
    option(
        "--retries",
        type=int,
        metavar="N",
        group=_RUN,
        help="retries of 429/503/refused connections",
    ),
    option(
        "--stop-after",
        type=int,
        default=3,
        metavar="N",
        group=_RUN,
        help="stop after N consecutive authentication/account errors (default: 3)",
    ),
    option(
        "--dry-run",
        action="store_true",
        group=_RUN,
        help="read and check the whole file, print what would be sent (rows, repeats, opt-outs,"
        " encodings, parts, requests, time) and send nothing; needs no key, makes no journal",
    ),
    option(
        "--price-per-part",
        type=_price,
        metavar="PRICE",
        group=_RUN,
        help="with --dry-run: your price of one message part, to estimate the cost",
    ),
)

_OPT_OUT_OPTIONS: Final = (
    option(
        "--opt-outs",
        metavar="PATH|URL",
        group=_OPT_OUTS,
        help="the opt-out store to skip numbers by (default: CLICKATELL_OPT_OUTS, else, on"
        " workers, the journal's database, else opt-outs.sqlite in your data folder: the store"
        " `listen` keeps STOP replies in)",
    ),
    option(
        "--ignore-opt-outs",
        action="store_true",
        group=_OPT_OUTS,
        help="send to numbers that opted out all the same (only for messages you may legally"
        " send them, such as transactional ones); the summary says how many",
    ),
)

_STATE_OPTIONS: Final = (
    # --journal and --resume are alternatives, except for a PostgreSQL journal (see `check`).
    option(
        "--journal",
        metavar="FILE",
        group=_STATE,
        help="the journal to create (default: CSV.journal), or a postgresql:// URL (--celery)",
    ),
    option(
        "--resume",
        metavar="JOURNAL",
        group=_STATE,
        help="continue the run this journal records (with --celery: a campaign ID)",
    ),
    option(
        "--new-campaign",
        action="store_true",
        group=_STATE,
        help="send it all again on purpose: a run of the same campaign is otherwise refused"
        " (a journal file that exists; on workers, a campaign with the same rows, message,"
        " options and account). A journal file that exists is kept: the new campaign gets"
        " the next free name (FILE.2.journal, ...)",
    ),
    option(
        "--resend-unknown",
        nargs="?",
        const="all",
        metavar="IDS",
        group=_STATE,
        help="with --resume: send the unknown requests again (all, or these comma-separated"
        " client message IDs)",
    ),
    option(
        "--journal-sync",
        choices=("normal", "full"),
        default="normal",
        group=_STATE,
        help="full: fsync every journal commit (survives power loss; slower)",
    ),
    option(
        "--output",
        metavar="FILE",
        group=_STATE,
        help="per-row results: .csv or .jsonl ('-': stdout)",
    ),
    option(
        "--json", action="store_true", group=_STATE, help="print the summary as JSON (last line)"
    ),
    option(
        "--progress",
        choices=("auto", "bar", "plain", "none"),
        default="auto",
        group=_STATE,
        help="auto: a bar on a terminal (needs the 'progress' extra), nothing otherwise",
    ),
)

_WORKER_OPTIONS: Final = (
    option(
        "--celery",
        metavar="BROKER_URL",
        group=_WORKERS,
        help="run the campaign on Celery workers through this broker (needs a postgresql://"
        " --journal); the workers send with their own CLICKATELL_* settings",
    ),
    option(
        "--shards",
        type=int,
        default=16,
        metavar="N",
        group=_WORKERS,
        help="with --celery: split the campaign into N shards, one task each (default: 16)",
    ),
    Added(_connection_flags),
)

OPTIONS: Final = (
    *_INPUT_OPTIONS,
    *_MESSAGE_OPTIONS,
    *_RUN_OPTIONS,
    *_OPT_OUT_OPTIONS,
    *_STATE_OPTIONS,
    *_WORKER_OPTIONS,
)
"""Every option of `clickatell-sms bulk`, in --help order."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `bulk` to the `clickatell-sms` command's subparsers; `run(args)` carries it out."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bulk",
        help="send one message (or a template) to every number in a CSV file",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EPILOG,
    )
    add_arguments(parser)
    parser.set_defaults(run=run)
    return parser


_EPILOG: Final = """\
Every row ends accepted, rejected (with the API's code), failed (not sent) or unknown (the
connection broke after the request was written, so it may have been sent). A journal
(default FILE.journal) records each request before it is sent; --resume continues a run that
stopped, never sending an answered request again. Unknown requests are listed, with their
client message IDs, and sent again only with --resend-unknown (after you have checked, e.g.
with delivery callbacks, that they did not arrive).

exit status: 0 all accepted, 1 some not accepted, 2 usage or input error (nothing sent), 3
stopped after repeated account errors, 5 stopped because the journal or results file could not
be written (some rows may have been sent: see the summary), 130 interrupted."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `bulk` (`OPTIONS`; also used by `main` here)."""
    add_options(parser, OPTIONS)


# -- check --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """What the check step makes of `bulk`'s options: where the run goes and what it reads."""

    template: Template | None
    on_workers: bool
    """--celery: the campaign runs on workers."""
    by_id: bool
    """--celery --resume CAMPAIGN without --csv: the campaign holds its rows and message."""
    path: Path | None
    """The CSV file; None for stdin (or no input, `by_id`)."""
    delimiter: str
    """The CSV field separator (`tab` spelled out)."""


def check(args: argparse.Namespace) -> Plan:
    """The options, checked together before any file is read or anything is sent: by this
    command's rules (which flags go together) and by the library's own checks of a run's
    settings (`RunLimits.check`, the same that `send_many` makes). Raises `UsageError`, or the
    library's `ValidationError` (worded by flag by the caller)."""
    from ..bulk._settings import RunLimits
    from ..bulk.journal import is_postgres_url

    template = _template(args)
    postgres = args.journal is not None and is_postgres_url(args.journal)
    on_workers = args.celery is not None
    _check_alternatives(args, postgres)
    _check_workers(args, on_workers, postgres)
    by_id = on_workers and args.resume is not None
    delimiter = _check_input(args, by_id)
    try:
        RunLimits.check(args.content, _run_keywords(args))
    except OSError as exc:  # a results file name the system refuses to look at
        raise UsageError(str(exc)) from None
    path = None if args.csv in (None, "-") else Path(args.csv)
    return Plan(template, on_workers, by_id, path, delimiter)


def _template(args: argparse.Namespace) -> Template | None:
    from ..bulk.csv_input import Template

    try:
        return None if args.template is None else Template(args.template)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _check_alternatives(args: argparse.Namespace, postgres: bool) -> None:
    """Flags that need another, or exclude one, in ways argparse's groups cannot say."""
    if args.resend_unknown is not None and args.resume is None:
        raise UsageError("--resend-unknown needs --resume JOURNAL")
    refused = _dry_run_refuses(args)
    if refused is not None:
        raise UsageError(refused)
    if args.new_campaign and args.resume is not None:
        raise UsageError("--new-campaign starts a campaign, --resume continues one: give one")
    if args.journal is not None and args.resume is not None and not postgres:
        raise UsageError("--journal FILE starts a run, --resume FILE continues one: give one")


def _check_workers(args: argparse.Namespace, on_workers: bool, postgres: bool) -> None:
    """A campaign on workers needs a journal they all reach, and sends with their settings."""
    if on_workers and not postgres:
        raise UsageError(
            "--celery needs --journal postgresql://... (a journal every worker reaches)"
        )
    if postgres and not on_workers:
        raise UsageError(
            "a PostgreSQL --journal is for campaigns on workers: add --celery BROKER_URL"
        )
    local = [flag for flag, given in _local_settings(args) if given] if on_workers else []
    if local:
        raise UsageError(
            f"{', '.join(local)}: with --celery the workers send, with the settings of"
            " their own environment (CLICKATELL_API_KEY, ...): see docs/scale-out.md"
        )


def _local_settings(args: argparse.Namespace) -> tuple[tuple[str, object], ...]:
    """The flags that say how this machine sends (each with whether it was given)."""
    return (
        ("--api-key", args.api_key),
        ("--base-url", args.base_url),
        ("--sandbox", args.sandbox),
        ("--timeout", args.timeout),
        ("--retries", args.retries),
        ("--format", args.format),
        ("--journal-sync", args.journal_sync != "normal"),
    )


def _check_input(args: argparse.Namespace, by_id: bool) -> str:
    """The rows and the message: required unless the campaign on workers holds them. Returns
    the field separator."""
    if args.csv is None and not by_id:
        raise UsageError(
            "--csv FILE is required (only --resume CAMPAIGN_ID with --celery needs none: the"
            " campaign holds its rows)"
        )
    if not by_id and (args.content, args.content_column, args.template) == (None, None, None):
        raise UsageError("one of --text, --text-column or --template is required")
    delimiter = "\t" if args.delimiter in ("\\t", "tab") else args.delimiter
    if len(delimiter) != 1:
        raise UsageError("--delimiter must be one character (or 'tab')")
    return delimiter


def _run_keywords(args: argparse.Namespace) -> dict[str, Any]:
    """The run's settings as `send_many` (and `run_campaign`) take them, for their checks."""
    return {
        "concurrency": args.concurrency,
        "rate_limit": args.rate_limit,
        "stop_after": args.stop_after,
        "output": args.output,
        "journal_sync": args.journal_sync,
        "opt_outs": args.opt_outs,
        "ignore_opt_outs": args.ignore_opt_outs,
    }


# -- run ----------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Carry out `bulk` with parsed arguments; returns the exit status."""
    try:
        plan = check(args)
        if plan.by_id:  # watch or continue a campaign on workers by its ID
            return _run_on_workers(args, None, {}, None)
        with _opened(args, plan) as rows:
            if args.dry_run:
                return _dry_run(args, rows.source, rows.total)
            if plan.on_workers:
                return _run_on_workers(args, rows.source, rows.identity, rows.total)
            return _run_here(args, rows)
    except UsageError as exc:
        return _usage(str(exc))
    except ValidationError as exc:
        return _usage(describe(exc))


@dataclass(slots=True)
class _Rows:
    """The input, open: its rows, the facts that identify it, and how many rows it has."""

    source: CSVSource
    identity: dict[str, str]
    total: int | None
    path: Path | None


@contextlib.contextmanager
def _opened(args: argparse.Namespace, plan: Plan) -> Iterator[_Rows]:
    """The CSV file (or stdin) read through once for its hash and size, then open for the run;
    closed after. `UsageError` when it cannot be read."""
    from ..bulk.csv_input import CSVInputError, CSVSource

    identity, total = _input_facts(args, plan.path)
    stream: IO[bytes] = sys.stdin.buffer if plan.path is None else plan.path.open("rb")
    try:
        try:
            source = CSVSource(
                stream,
                name=args.csv if plan.path is not None else "<stdin>",
                column=args.column,
                content_column=args.content_column,
                template=plan.template,
                encoding=args.encoding,
                delimiter=plan.delimiter,
                checked=plan.path is not None,  # scan_file read it all
            )
        except (CSVInputError, ValueError, LookupError) as exc:
            raise UsageError(str(exc)) from None
        yield _Rows(source, identity, total, plan.path)
    finally:
        if plan.path is not None:
            stream.close()


def _input_facts(args: argparse.Namespace, path: Path | None) -> tuple[dict[str, str], int | None]:
    """What identifies the input (checked when a run is resumed), and its number of rows."""
    from ..bulk.csv_input import CSVInputError, scan_file

    identity = {
        "column": args.column,
        "content_column": args.content_column or "",
        "template": args.template or "",
        "encoding": args.encoding,
    }
    if path is None:
        identity["input_sha256"] = "stdin"
        return identity, None
    try:
        facts = scan_file(path, args.encoding)
    except CSVInputError as exc:
        raise UsageError(str(exc)) from None
    except (OSError, LookupError) as exc:
        raise UsageError(f"{args.csv}: {exc}") from None
    identity["input_sha256"] = facts.sha256
    return identity, max(0, facts.lines - 1)


def _run_here(args: argparse.Namespace, rows: _Rows) -> int:
    """Send the campaign from this machine (or its embedded sandbox), journalled."""
    from ..bulk import send_many
    from ..bulk.csv_input import CSVInputError
    from ..bulk.journal import BulkStorageError, JournalError

    journal = args.resume or args.journal
    if journal is None and rows.path is not None:
        journal = f"{rows.path}.journal"
    reporter = _BadRows(rows.source.name, sys.stderr)
    progress: Progress | None = None
    outcome = _Outcome()
    try:
        with (
            _sigterm_interrupts(),
            connect(args, from_=args.from_, **_client_settings(args)) as (
                client,
                outcome.sandbox_url,
            ),
        ):
            if outcome.sandbox_url is not None:
                rows.identity["sandbox"] = _SANDBOX_IDENTITY
                if args.journal is None and args.resume is None:
                    journal = None  # a temporary one: nothing to resume against the real API
            if args.new_campaign and journal is not None:
                journal = _new_journal(journal)
            progress = reporter.progress = _progress(args, rows.total)
            outcome.summary = send_many(
                client,
                rows.source,
                args.content,
                **_send_keywords(args, rows, journal),
                on_result=reporter,
                progress=False if progress is None else progress,
            )
    except (
        JournalError,
        BulkStorageError,
        CSVInputError,
        ClickatellError,
        OSError,
        sqlite3.Error,
    ) as exc:
        _stopped(exc, outcome)
    except KeyboardInterrupt as exc:
        print(
            "clickatell-sms bulk: interrupted; requests in flight were journalled", file=sys.stderr
        )
        outcome.stop(EXIT_INTERRUPTED, exc)
    finally:
        if progress is not None:
            progress.close()
    reporter.finish()
    return _finish(args, outcome, journal)


@dataclass(slots=True)
class _Outcome:
    """How a run here ended: its summary (None when it stopped before one), its exit status
    so far, and the embedded sandbox's URL when one answered."""

    summary: BulkSummary | None = None
    status: int = EXIT_OK
    sandbox_url: str | None = None

    def stop(self, status: int, exc: BaseException) -> None:
        self.status = status
        self.summary = getattr(exc, "bulk_summary", None)


def _client_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "format": args.format,
        "default_region": args.default_region,
        "retries": args.retries,
        "max_connections": args.concurrency,
    }


def _send_keywords(args: argparse.Namespace, rows: _Rows, journal: str | None) -> dict[str, Any]:
    """`send_many`'s keywords from the options (besides the reporters)."""
    return {
        **_run_keywords(args),
        **options_from_args(args),
        "journal": journal,
        "resume": args.resume is not None,
        "resend_unknown": _resend_choice(args),
        "unique": not args.allow_duplicates,
        "identity": rows.identity,
        "total": rows.total,
    }


def _stopped(exc: Exception, outcome: _Outcome) -> None:
    """Sort what stopped a run here: a usage error (nothing sent: `UsageError`), or a stop
    after some of it was sent (`outcome` gets the status and the summary so far)."""
    from ..bulk.csv_input import CSVInputError
    from ..bulk.journal import BulkStorageError, JournalError

    if isinstance(exc, JournalError):
        raise UsageError(exc.cli_message) from None
    if isinstance(exc, ValidationError):
        raise exc
    if isinstance(exc, BulkStorageError):
        print(f"clickatell-sms bulk: stopped: {exc}", file=sys.stderr)
        outcome.stop(EXIT_STORAGE, exc)
    elif isinstance(exc, CSVInputError):
        print(f"clickatell-sms bulk: {exc}", file=sys.stderr)
        outcome.stop(EXIT_USAGE, exc)
    elif getattr(exc, "bulk_summary", None) is None:  # raised before anything was sent
        raise UsageError(str(exc)) from None
    else:  # the API, a file or a database failed during the run
        print(f"clickatell-sms bulk: stopped: {exc}", file=sys.stderr)
        outcome.stop(EXIT_INCOMPLETE, exc)


def _finish(args: argparse.Namespace, outcome: _Outcome, journal: str | None) -> int:
    """Print the summary (or why there is none) and return the exit status."""
    summary = outcome.summary
    if summary is not None:
        _print_summary(summary, args, journal)
    elif outcome.status == EXIT_STORAGE:  # never "nothing was sent" by default
        print("clickatell-sms bulk: no summary: some rows may have been sent", file=sys.stderr)
    sandbox_note(outcome.sandbox_url)
    if summary is None or outcome.status != EXIT_OK:
        return outcome.status
    if summary.journal is not None:
        _index_for_report(summary.journal, summary.total, sys.stderr)
    return _summary_status(summary)


def _summary_status(summary: BulkSummary) -> int:
    if summary.stopped is not None:
        return EXIT_STOPPED
    return EXIT_OK if summary.all_accepted else EXIT_INCOMPLETE


def _index_for_report(journal: Path, rows: int, err: IO[str]) -> None:
    """Index the campaign's rows for `report` now, in one sort, while the run's user waits
    anyway: left to the first report, a million rows cost it some 5 s before it counts
    anything. Ctrl-C (or a failure) leaves them to the report, and the run's exit status stands."""
    from ..bulk.delivery import open_delivery
    from ..bulk.journal import JournalError

    if rows >= _ROWS_WORTH_A_NOTICE:
        print("clickatell-sms bulk: indexing the rows for `report` (Ctrl-C skips it)", file=err)
    try:
        with open_delivery(journal) as store:
            store.sync()
    except KeyboardInterrupt:
        print("clickatell-sms bulk: indexing skipped; `report` will index the rows", file=err)
    except JournalError as exc:
        print(f"clickatell-sms bulk: rows not indexed (`report` will): {exc}", file=err)


def _dry_run_refuses(args: argparse.Namespace) -> str | None:
    """What is wrong with the flags of a dry run (or with --price-per-part without one)."""
    from .dry_run import WRITES

    if not args.dry_run:
        return None if args.price_per_part is None else "--price-per-part needs --dry-run"
    given = [flag for flag, name in WRITES if getattr(args, name) not in (None, False)]
    if given:
        return f"--dry-run writes nothing and runs here: leave out {', '.join(given)}"
    if args.csv is None:
        return "--dry-run needs --csv FILE"
    return None


def _dry_run(args: argparse.Namespace, source: CSVSource, total: int | None) -> int:
    from ..bulk.csv_input import CSVInputError
    from .dry_run import count

    try:
        with _sigterm_interrupts():
            return count(args, source, source.name, total, options_from_args(args))
    except ValidationError as exc:
        return _usage(describe(exc))
    except CSVInputError as exc:
        return _usage(str(exc))
    except KeyboardInterrupt:
        print("clickatell-sms bulk: dry run interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


class _BadRows:
    """Reports bad input rows on standard error as they are found (the first few, then a count).

    While a progress bar is drawn they go through `progress.write`, which clears the bar and
    draws it again below the line; printed directly, they would be glued to the bar.
    """

    def __init__(self, name: str, stream: IO[str]) -> None:
        self._name = name
        self._stream = stream
        self.progress: Progress | None = None
        self.count = 0

    def __call__(self, result: BulkResult) -> None:
        if result.error != "invalid" or result.earlier:
            return
        self.count += 1
        if self.count <= _BAD_ROWS_SHOWN:
            line = f"{self._name}: line {result.row}: {shell_words(result.description or '')}"
            if self.progress is not None:
                self.progress.write(line)
            else:
                print(line, file=self._stream)

    def finish(self) -> None:
        if self.count > _BAD_ROWS_SHOWN:
            print(
                f"{self._name}: {self.count - _BAD_ROWS_SHOWN} more bad rows not shown"
                " (all are in --output, error 'invalid')",
                file=self._stream,
            )


def _run_on_workers(
    args: argparse.Namespace,
    source: Iterable[Recipient | BadRow] | None,
    identity: dict[str, str],
    total: int | None,
) -> int:
    """`bulk --celery`: submit the campaign to workers (or `--resume` it: watch it, and send
    what was not sent), watch it, print the same summary."""
    from ..bulk.journal import CampaignExistsError, JournalError

    try:
        from ..bulk.cluster import run_campaign
        from ..bulk.postgres_journal import public_dsn
    except ImportError as exc:
        raise UsageError(
            f"--celery needs the 'celery' extra (pip install clickatell-sms[celery]): {exc}"
        ) from None
    place = _CampaignPlace(public_dsn(str(args.journal)), args.celery)
    progress = _progress(args, total)
    try:
        summary = run_campaign(
            None if args.resume else source,
            args.content,
            journal=str(args.journal),
            broker=args.celery,
            resume=args.resume,
            new_campaign=args.new_campaign,
            resend_unknown=_resend_choice(args),
            shards=args.shards,
            concurrency=args.concurrency,
            rate_limit=args.rate_limit,
            unique=not args.allow_duplicates,
            stop_after=args.stop_after,
            default_region=args.default_region,
            identity=identity,
            queue=read(CELERY_QUEUE_ENV),
            progress=progress,
            on_submitted=place.submitted,
            opt_outs=args.opt_outs,
            ignore_opt_outs=args.ignore_opt_outs,
            **options_from_args(args),
        )
    except CampaignExistsError as exc:
        raise UsageError(
            f"{exc.existing}. Watch or continue it with{place.caveat}:\n"
            f"  {place.resume_command(exc.campaign)}\nor send it all again on"
            " purpose: the same command with --new-campaign"
        ) from None
    except JournalError as exc:
        raise UsageError(exc.cli_message) from None
    except KeyboardInterrupt:
        print("clickatell-sms bulk: stopped watching; the workers go on", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if progress is not None:
            progress.close()
    return _campaign_ended(args, summary, place)


class _CampaignPlace:
    """Where a campaign on workers is (its journal and broker, passwords taken out), and the
    command that watches or continues it."""

    def __init__(self, journal: str, broker_url: str) -> None:
        broker, hidden = _public_broker(broker_url)
        self.where = f"--journal {shlex.quote(journal)} --celery {shlex.quote(broker)}"
        self.caveat = " (put the broker's password back in)" if hidden else ""

    def resume_command(self, campaign: str) -> str:
        return f"clickatell-sms bulk --resume {shlex.quote(campaign)} {self.where}"

    def submitted(self, campaign: str) -> None:
        print(
            f"clickatell-sms bulk: campaign {campaign} queued; if this command stops, the"
            f" workers go on. Watch or continue it with{self.caveat}:\n"
            f"  {self.resume_command(campaign)}",
            file=sys.stderr,
            flush=True,
        )


def _campaign_ended(args: argparse.Namespace, summary: BulkSummary, place: _CampaignPlace) -> int:
    """The campaign's results into --output, its summary printed; returns the exit status."""
    from ..bulk.cluster import campaign_results
    from ..bulk.journal import BulkStorageError, JournalError

    status = None
    if args.output is not None and summary.campaign is not None:
        try:
            _write_results(args.output, campaign_results(str(args.journal), summary.campaign))
            summary.output = None if args.output == "-" else Path(args.output)
        except (BulkStorageError, JournalError) as exc:
            print(f"clickatell-sms bulk: the campaign ended, but: {exc}", file=sys.stderr)
            status = EXIT_STORAGE
    _print_summary(summary, args, f"{summary.campaign} {place.where}")
    return _summary_status(summary) if status is None else status


def _print_summary(summary: BulkSummary, args: argparse.Namespace, journal: str | None) -> None:
    err = sys.stderr
    rate = summary.rate or 0.0
    lines = [
        f"{summary.total} rows: {summary.accepted} accepted, {summary.rejected} rejected"
        f" ({summary.duplicates} duplicates), {summary.failed} failed ({summary.invalid}"
        f" invalid), {summary.unknown} unknown, {summary.opted_out} opted out",
        f"{summary.batches} requests ({summary.sent} recipients) in {summary.duration:.1f} s"
        f" ({rate:.0f} recipients/s)"
        + (f"; {summary.earlier} rows settled by earlier runs" if summary.earlier else ""),
    ]
    if summary.opt_outs_ignored:
        lines.append(
            f"{summary.opt_outs_ignored} rows were sent to numbers that opted out"
            " (--ignore-opt-outs)"
        )
    if summary.stopped:
        lines.append(f"STOPPED: {summary.stopped}")
    if summary.unjournalled:
        lines.append(
            f"{len(summary.unjournalled)} answered requests could not be journalled (counted"
            " above as answered; a --resume will list them as unknown):"
            f" {', '.join(summary.unjournalled[:_IDS_SHOWN])}"
        )
    if summary.unknown_batches:
        lines.append(
            f"{len(summary.unknown_batches)} requests have an unknown outcome (they may have"
            " been sent); check them, e.g. with delivery callbacks, before sending them again:"
        )
        for batch in summary.unknown_batches[:_IDS_SHOWN]:
            lines.append(
                f"  clientMessageId {batch.client_message_id}: {batch.recipients} recipients"
            )
        if len(summary.unknown_batches) > _IDS_SHOWN:
            lines.append(f"  ... and {len(summary.unknown_batches) - _IDS_SHOWN} more (see --json)")
        if journal:
            lines.append(f"  to send them again: --resume {journal} --resend-unknown [ID,ID...]")
    if (summary.failed > summary.invalid or summary.stopped) and journal:
        lines.append(f"rows not sent are sent by: --resume {journal}")
    out = sys.stdout if not args.json else err
    for line in lines:
        print(line, file=out)
    if args.json:
        print(json.dumps(summary.to_dict()), flush=True)


def _write_results(output: str, results: Iterable[BulkResult]) -> None:
    """A campaign's rows, read back from its journal once it is done, into --output."""
    from ..bulk import ResultWriter

    writer = ResultWriter(output)
    try:
        for result in results:
            writer.write(result)
    finally:
        writer.close()


def _public_broker(url: str) -> tuple[str, bool]:
    """The broker URL to print, and whether a password was taken out of it."""
    from ..redact import redact_url

    try:
        hidden = urlsplit(url).password is not None
    except ValueError:
        hidden = False
    return (redact_url(url) if hidden else url), hidden


def _new_journal(journal: str) -> str:
    """`--new-campaign` on one host: the journal named, or the first free name after it
    (`people.csv.journal`, `people.csv.2.journal`, ...). A journal that exists is never
    replaced: it is the record of what the earlier campaign sent."""
    path = Path(journal)
    candidate, number = path, 1
    while candidate.exists() and candidate.stat().st_size > 0:
        number += 1
        candidate = path.with_name(f"{path.stem}.{number}{path.suffix}")
    if candidate != path:
        print(
            f"clickatell-sms bulk: {path} is an earlier campaign's journal; this new campaign"
            f" is journalled in {candidate}",
            file=sys.stderr,
        )
    return str(candidate)


def _resend_choice(args: argparse.Namespace) -> bool | list[str]:
    """--resend-unknown: all (True), these client message IDs, or none (False)."""
    if args.resend_unknown == "all":
        return True
    if args.resend_unknown:
        return [item.strip() for item in args.resend_unknown.split(",") if item.strip()]
    return False


def _progress(args: argparse.Namespace, total: int | None) -> Progress | None:
    from ..bulk import Progress

    if args.progress == "bar" or (args.progress == "auto" and sys.stderr.isatty()):
        return Progress(total, bar=True)
    if args.progress == "plain":
        return Progress(total, bar=False, every=5.0)
    return None


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM stops the run like Ctrl-C: requests in flight are finished and journalled, and
    the journal is closed whole (one file). Only the main thread can set a handler."""
    previous = None
    with contextlib.suppress(ValueError):
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _usage(message: str) -> int:
    print(f"clickatell-sms bulk: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    """The subcommand on its own, with its own parser (`clickatell-sms bulk ...` without the
    other commands): for tests and embedding."""
    parser = argparse.ArgumentParser(
        prog="clickatell-sms bulk",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
