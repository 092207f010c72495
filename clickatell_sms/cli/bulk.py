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
import os
import shlex
import signal
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from ..errors import ClickatellError, ValidationError
from .common import (
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STOPPED,
    EXIT_STORAGE,
    EXIT_USAGE,
    add_connection_options,
    add_region_option,
    connect,
    sandbox_note,
)
from .fields import add_option_flags, options_from_args
from .wording import describe, shell_words

if TYPE_CHECKING:
    from ..bulk import BadRow, BulkResult, BulkSummary, Progress, Recipient
    from ..bulk.csv_input import CSVSource

__all__ = ["OPERATIONS", "add_parser", "main", "run"]

OPERATIONS: Final = MappingProxyType({"sendMessage": "bulk", "sendMessageHttp": "bulk"})
"""The spec's operations these commands carry, and the command of each."""

_BAD_ROWS_SHOWN: Final = 20
_ROWS_WORTH_A_NOTICE: Final = 100_000  # about a second of indexing: say why the command waits
# The journal identity's `sandbox` fact for a run on the embedded sandbox: such a journal cannot
# be resumed against the real API, which would skip every row the sandbox took.
_SANDBOX_IDENTITY: Final = "embedded"


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
    """The options of `bulk` (also used by `main` here)."""
    source = parser.add_argument_group("input")
    source.add_argument(
        "--csv",
        metavar="FILE",
        help="CSV with a header row ('-': stdin); required, except to --resume a campaign on"
        " workers (it holds its rows)",
    )
    source.add_argument("--column", default="to", help="the column with the numbers (default: to)")
    source.add_argument("--encoding", default="utf-8", help="the file's encoding (default: utf-8)")
    source.add_argument(
        "--delimiter", default=",", help="the field separator: one character or 'tab' (default: ,)"
    )
    # One of them is required, except to --resume a campaign on workers (checked in `run`).
    text = source.add_mutually_exclusive_group()
    # --text and --text-column as on `send`; --content and --content-column are the old names.
    text.add_argument(
        "--text",
        "--content",
        dest="content",
        metavar="TEXT",
        help="the message, the same for every row",
    )
    text.add_argument(
        "--text-column",
        "--content-column",
        dest="content_column",
        metavar="COLUMN",
        help="a column holding each row's message",
    )
    text.add_argument(
        "--template",
        help="a message with {column} fields, filled from each row (use {{ and }} for braces)",
    )

    message = parser.add_argument_group("message options (the API's fields)")
    add_option_flags(
        message,
        help_overrides={
            "client_message_id": "prefix of each request's clientMessageId (<PREFIX>-<batch>)"
        },
    )
    add_region_option(message)
    message.add_argument(
        "--allow-duplicates",
        action="store_true",
        help="send a number again when it repeats with the same message (default: once)",
    )

    run_group = parser.add_argument_group("run")
    run_group.add_argument("--format", choices=("json", "xml"), default=None, help="body format")
    run_group.add_argument(
        "--concurrency", type=int, default=4, help="requests in parallel (default: 4)"
    )
    run_group.add_argument(
        "--rate-limit", type=float, metavar="N", help="at most N messages per second"
    )
    run_group.add_argument(
        "--retries", type=int, metavar="N", help="retries of 429/503/refused connections"
    )
    run_group.add_argument(
        "--stop-after",
        type=int,
        default=3,
        metavar="N",
        help="stop after N consecutive authentication/account errors (default: 3)",
    )
    _add_hygiene_options(parser, run_group)

    state = parser.add_argument_group("journal and results")
    journal = state  # --journal and --resume: alternatives, except for a PostgreSQL journal
    journal.add_argument(
        "--journal",
        metavar="FILE",
        help="the journal to create (default: CSV.journal), or a postgresql:// URL (--celery)",
    )
    journal.add_argument(
        "--resume",
        metavar="JOURNAL",
        help="continue the run this journal records (with --celery: a campaign ID)",
    )
    state.add_argument(
        "--new-campaign",
        action="store_true",
        help="send it all again on purpose: a run of the same campaign is otherwise refused"
        " (a journal file that exists; on workers, a campaign with the same rows, message,"
        " options and account). A journal file that exists is kept: the new campaign gets"
        " the next free name (FILE.2.journal, ...)",
    )
    state.add_argument(
        "--resend-unknown",
        nargs="?",
        const="all",
        metavar="IDS",
        help="with --resume: send the unknown requests again (all, or these comma-separated"
        " client message IDs)",
    )
    state.add_argument(
        "--journal-sync",
        choices=("normal", "full"),
        default="normal",
        help="full: fsync every journal commit (survives power loss; slower)",
    )
    state.add_argument(
        "--output", metavar="FILE", help="per-row results: .csv or .jsonl ('-': stdout)"
    )
    state.add_argument("--json", action="store_true", help="print the summary as JSON (last line)")
    state.add_argument(
        "--progress",
        choices=("auto", "bar", "plain", "none"),
        default="auto",
        help="auto: a bar on a terminal (needs the 'progress' extra), nothing otherwise",
    )
    workers = parser.add_argument_group("on Celery workers (the 'celery' extra; docs/scale-out.md)")
    workers.add_argument(
        "--celery",
        metavar="BROKER_URL",
        help="run the campaign on Celery workers through this broker (needs a postgresql://"
        " --journal); the workers send with their own CLICKATELL_* settings",
    )
    workers.add_argument(
        "--shards",
        type=int,
        default=16,
        metavar="N",
        help="with --celery: split the campaign into N shards, one task each (default: 16)",
    )
    # --timeout, --api-key, --base-url, --sandbox: as `send`, and resolved the same way.
    add_connection_options(parser, "send to an embedded sandbox (nothing is really sent)")


def _add_hygiene_options(parser: argparse.ArgumentParser, run_group: Any) -> None:
    """The dry run's flags (in the "run" group) and the opt-outs' (a group of their own)."""
    run_group.add_argument(
        "--dry-run",
        action="store_true",
        help="read and check the whole file, print what would be sent (rows, repeats, opt-outs,"
        " encodings, parts, requests, time) and send nothing; needs no key, makes no journal",
    )
    run_group.add_argument(
        "--price-per-part",
        type=_price,
        metavar="PRICE",
        help="with --dry-run: your price of one message part, to estimate the cost",
    )
    opt_outs = parser.add_argument_group("opt-outs (docs/bulk.md)")
    opt_outs.add_argument(
        "--opt-outs",
        metavar="PATH|URL",
        help="the opt-out store to skip numbers by (default: CLICKATELL_OPT_OUTS, else, on"
        " workers, the journal's database, else opt-outs.sqlite in your data folder: the store"
        " `listen` keeps STOP replies in)",
    )
    opt_outs.add_argument(
        "--ignore-opt-outs",
        action="store_true",
        help="send to numbers that opted out all the same (only for messages you may legally"
        " send them, such as transactional ones); the summary says how many",
    )


def _price(text: str) -> Decimal:
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a price: {text!r}") from None
    if not price.is_finite() or price < 0:
        raise argparse.ArgumentTypeError(f"a price is a number of 0 or more, not {text}")
    return price


def run(args: argparse.Namespace) -> int:
    """Carry out `bulk` with parsed arguments; returns the exit status."""
    # Imported here: every `clickatell-sms` command builds this parser, few run it.
    from ..bulk import send_many
    from ..bulk._result_writer import results_format
    from ..bulk.csv_input import CSVInputError, CSVSource, Template, scan_file
    from ..bulk.journal import BulkStorageError, JournalError, is_postgres_url

    err = sys.stderr
    try:
        template = None if args.template is None else Template(args.template)
    except ValueError as exc:
        return _usage(str(exc))
    if args.resend_unknown is not None and args.resume is None:
        return _usage("--resend-unknown needs --resume JOURNAL")
    refused = _dry_run_refuses(args)
    if refused is not None:
        return _usage(refused)
    on_workers = args.celery is not None
    postgres = args.journal is not None and is_postgres_url(args.journal)
    if on_workers and not postgres:
        return _usage("--celery needs --journal postgresql://... (a journal every worker reaches)")
    if on_workers:
        local = [
            flag
            for flag, given in (
                ("--api-key", args.api_key),
                ("--base-url", args.base_url),
                ("--sandbox", args.sandbox),
                ("--timeout", args.timeout),
                ("--retries", args.retries),
                ("--format", args.format),
                ("--journal-sync", args.journal_sync != "normal"),
            )
            if given
        ]
        if local:
            return _usage(
                f"{', '.join(local)}: with --celery the workers send, with the settings of"
                " their own environment (CLICKATELL_API_KEY, ...): see docs/scale-out.md"
            )
    if postgres and not on_workers:
        return _usage("a PostgreSQL --journal is for campaigns on workers: add --celery BROKER_URL")
    by_id = on_workers and args.resume is not None  # the campaign holds its rows and message
    if args.csv is None and not by_id:
        return _usage(
            "--csv FILE is required (only --resume CAMPAIGN_ID with --celery needs none: the"
            " campaign holds its rows)"
        )
    if not by_id and (args.content, args.content_column, args.template) == (None, None, None):
        return _usage("one of --text, --text-column or --template is required")
    if args.new_campaign and args.resume is not None:
        return _usage("--new-campaign starts a campaign, --resume continues one: give one")
    if args.journal is not None and args.resume is not None and not postgres:
        return _usage("--journal FILE starts a run, --resume FILE continues one: give one")
    if args.concurrency < 1:
        return _usage("--concurrency must be at least 1")
    if args.delimiter in ("\\t", "tab"):
        args.delimiter = "\t"
    if len(args.delimiter) != 1:
        return _usage("--delimiter must be one character (or 'tab')")
    if on_workers and args.output is not None:
        # A local run checks it with its other settings (RunSettings.check); on workers the
        # results file is written at the end, so it is checked here, before the campaign exists.
        try:
            results_format(args.output)
        except ValidationError as exc:
            return _usage(describe(exc))

    if args.csv is None:  # watch or continue a campaign on workers by its ID
        return _run_on_workers(args, None, {}, None, options_from_args(args))
    path = None if args.csv == "-" else Path(args.csv)
    identity = {
        "column": args.column,
        "content_column": args.content_column or "",
        "template": args.template or "",
        "encoding": args.encoding,
    }
    total = None
    try:
        if path is not None:
            facts = scan_file(path, args.encoding)
            identity["input_sha256"] = facts.sha256
            total = max(0, facts.lines - 1)
        else:
            identity["input_sha256"] = "stdin"
    except CSVInputError as exc:
        return _usage(str(exc))
    except (OSError, LookupError) as exc:
        return _usage(f"{args.csv}: {exc}")

    journal = args.resume or args.journal
    if journal is None and path is not None:
        journal = f"{path}.journal"

    stream: IO[bytes] = sys.stdin.buffer if path is None else path.open("rb")
    try:
        source = CSVSource(
            stream,
            name=args.csv if path is not None else "<stdin>",
            column=args.column,
            content_column=args.content_column,
            template=template,
            encoding=args.encoding,
            delimiter=args.delimiter,
            checked=path is not None,  # scan_file read it all
        )
    except (CSVInputError, ValueError, LookupError) as exc:
        if path is not None:
            stream.close()
        return _usage(str(exc))

    if args.dry_run:
        try:
            return _dry_run(args, source, total)
        finally:
            if path is not None:
                stream.close()
    if on_workers:
        try:
            return _run_on_workers(args, source, identity, total, options_from_args(args))
        finally:
            if path is not None:
                stream.close()

    settings: dict[str, Any] = {
        "format": args.format,
        "default_region": args.default_region,
        "retries": args.retries,
        "max_connections": max(args.concurrency, 1),
    }
    options = options_from_args(args)
    resend = _resend_choice(args)
    progress: Progress | None = None
    reporter = _BadRows(source.name, err)
    sandbox_url: str | None = None
    summary: BulkSummary | None = None
    status = EXIT_OK
    try:
        with (
            _sigterm_interrupts(),
            connect(args, from_=args.from_, **settings) as (
                client,
                sandbox_url,
            ),
        ):
            if sandbox_url is not None:
                identity["sandbox"] = _SANDBOX_IDENTITY
                if args.journal is None and args.resume is None:
                    journal = None  # a temporary one: nothing to resume against the real API
            if args.new_campaign and journal is not None:
                journal = _new_journal(journal)
            progress = _progress(args, total)
            reporter.progress = progress
            summary = send_many(
                client,
                source,
                args.content,
                concurrency=args.concurrency,
                rate_limit=args.rate_limit,
                journal=journal,
                resume=args.resume is not None,
                resend_unknown=resend,
                on_result=reporter,
                progress=False if progress is None else progress,
                output=args.output,
                unique=not args.allow_duplicates,
                stop_after=args.stop_after,
                journal_sync=args.journal_sync,
                identity=identity,
                total=total,
                opt_outs=args.opt_outs,
                ignore_opt_outs=args.ignore_opt_outs,
                **options,
            )
    except JournalError as exc:
        return _usage(exc.cli_message)
    except ValidationError as exc:
        return _usage(describe(exc))
    except BulkStorageError as exc:
        print(f"clickatell-sms bulk: stopped: {exc}", file=err)
        summary = getattr(exc, "bulk_summary", None)
        status = EXIT_STORAGE
    except CSVInputError as exc:
        print(f"clickatell-sms bulk: {exc}", file=err)
        summary = getattr(exc, "bulk_summary", None)
        status = EXIT_USAGE
    except KeyboardInterrupt as exc:
        print("clickatell-sms bulk: interrupted; requests in flight were journalled", file=err)
        summary = getattr(exc, "bulk_summary", None)
        status = EXIT_INTERRUPTED
    except (ClickatellError, OSError, sqlite3.Error) as exc:
        summary = getattr(exc, "bulk_summary", None)
        if summary is None:  # raised before anything was sent
            return _usage(str(exc))
        print(f"clickatell-sms bulk: stopped: {exc}", file=err)
        status = EXIT_INCOMPLETE
    finally:
        if progress is not None:
            progress.close()
        if path is not None:
            stream.close()
    reporter.finish()
    if summary is not None:
        _print_summary(summary, args, journal)
    elif status == EXIT_STORAGE:  # never "nothing was sent" by default
        print("clickatell-sms bulk: no summary: some rows may have been sent", file=err)
    sandbox_note(sandbox_url)
    if summary is None or status != EXIT_OK:
        return status
    if summary.journal is not None:
        _index_for_report(summary.journal, summary.total, err)
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
    options: dict[str, Any],
) -> int:
    """`bulk --celery`: submit the campaign to workers (or `--resume` it: watch it, and send
    what was not sent), watch it, print the same summary."""
    from ..bulk.journal import BulkStorageError, CampaignExistsError, JournalError

    try:
        from ..bulk.cluster import campaign_results, run_campaign
        from ..bulk.postgres_journal import public_dsn
    except ImportError as exc:
        return _usage(
            f"--celery needs the 'celery' extra (pip install clickatell-sms[celery]): {exc}"
        )
    err = sys.stderr
    journal = str(args.journal)
    resend = _resend_choice(args)
    progress = _progress(args, total)
    broker, hidden = _public_broker(args.celery)
    place = f"--journal {shlex.quote(public_dsn(journal))} --celery {shlex.quote(broker)}"
    caveat = " (put the broker's password back in)" if hidden else ""

    def resume_command(campaign: str) -> str:
        return f"clickatell-sms bulk --resume {shlex.quote(campaign)} {place}"

    def submitted(campaign: str) -> None:
        print(
            f"clickatell-sms bulk: campaign {campaign} queued; if this command stops, the"
            f" workers go on. Watch or continue it with{caveat}:\n  {resume_command(campaign)}",
            file=err,
            flush=True,
        )

    summary: BulkSummary | None = None
    try:
        summary = run_campaign(
            None if args.resume else source,
            args.content,
            journal=journal,
            broker=args.celery,
            resume=args.resume,
            new_campaign=args.new_campaign,
            resend_unknown=resend,
            shards=args.shards,
            concurrency=args.concurrency,
            rate_limit=args.rate_limit,
            unique=not args.allow_duplicates,
            stop_after=args.stop_after,
            default_region=args.default_region,
            identity=identity,
            queue=os.environ.get("CLICKATELL_CELERY_QUEUE"),
            progress=progress,
            on_submitted=submitted,
            opt_outs=args.opt_outs,
            ignore_opt_outs=args.ignore_opt_outs,
            **options,
        )
    except CampaignExistsError as exc:
        return _usage(
            f"{exc.existing}. Watch or continue it"
            f" with{caveat}:\n  {resume_command(exc.campaign)}\nor send it all again on"
            " purpose: the same command with --new-campaign"
        )
    except JournalError as exc:
        return _usage(exc.cli_message)
    except ValidationError as exc:
        return _usage(describe(exc))
    except KeyboardInterrupt:
        print("clickatell-sms bulk: stopped watching; the workers go on", file=err)
        return EXIT_INTERRUPTED
    finally:
        if progress is not None:
            progress.close()
    status = None
    if args.output is not None and summary.campaign is not None:
        try:
            _write_results(args.output, campaign_results(journal, summary.campaign))
            summary.output = None if args.output == "-" else Path(args.output)
        except (BulkStorageError, JournalError) as exc:
            print(f"clickatell-sms bulk: the campaign ended, but: {exc}", file=err)
            status = EXIT_STORAGE
    _print_summary(summary, args, f"{summary.campaign} {place}")
    if status is not None:
        return status
    if summary.stopped is not None:
        return EXIT_STOPPED
    return EXIT_OK if summary.all_accepted else EXIT_INCOMPLETE


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
            f" {', '.join(summary.unjournalled[:20])}"
        )
    if summary.unknown_batches:
        lines.append(
            f"{len(summary.unknown_batches)} requests have an unknown outcome (they may have"
            " been sent); check them, e.g. with delivery callbacks, before sending them again:"
        )
        for batch in summary.unknown_batches[:20]:
            lines.append(
                f"  clientMessageId {batch.client_message_id}: {batch.recipients} recipients"
            )
        if len(summary.unknown_batches) > 20:
            lines.append(f"  ... and {len(summary.unknown_batches) - 20} more (see --json)")
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
