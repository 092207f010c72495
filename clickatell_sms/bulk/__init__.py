"""Sending to hundreds of thousands of numbers: streamed, batched, concurrent, journalled.

`send_many(client, recipients, content)` (also `Client.send_many`) reads recipients one at a
time from any iterable, so a million-row campaign costs the memory of a few hundred rows:

* Numbers are normalised as they are read; a bad one fails its own row (status `failed`, error
  `invalid`), never the batch.
* Rows are grouped by message text (several texts come from per-row content or templates) into
  requests of up to 200. A group is sent when full; when too many groups are open at once the
  largest is sent early, which bounds memory however many distinct texts there are.
* A recipient is sent a given text once per campaign (`unique=True`): a repeat, in the same
  request or 900,000 rows later, is reported `rejected` with error `duplicate` and the row of its
  first occurrence. The journal's unique index remembers what was sent, so this costs disk, not
  memory. `unique=False` sends every row (repeats within one request are still sent once, as the
  API requires).
* A bounded pool of threads shares the client's connection pool; the reader waits while
  `2 * concurrency` requests are queued or in flight (backpressure: input is never read far
  ahead). `rate_limit` caps recipients per second across all threads (a token bucket).
* Every batch is journalled before its request exists and its outcome after (see `journal`), so
  a run killed at any moment resumes (`resume=True`) without sending any row twice. Requests
  whose fate is unknown (the connection broke after the request was written) are listed in the
  summary and never sent again unless the caller names them in `resend_unknown`.
* After `stop_after` consecutive batches fail for account reasons (authentication errors 1, 7,
  108, account/integration not active 2, 3, 4, no credit 301), nothing more is sent: the rest of
  the input is still read and reported `failed` (not sent), so a resume sends it once the account
  is fixed.

Each row ends in exactly one terminal status: `accepted`, `rejected` (the API refused it, with
its code), `failed` (provably not sent) or `unknown` (may have been sent). The returned
`BulkSummary` counts them; per-row results go to `on_result` and/or an `output` file (CSV or
JSON lines), in the order the answers arrive.

A resumed run reports the whole campaign: rows journalled by earlier runs are reported again
(`earlier=True`), and sent again only when they provably were not sent (status `failed`, a request
refused as a whole, or a recipient refused for lack of credit).

`send_many(..., dry_run=True)` sends nothing: it reads and checks every row, applies the same
repeats and opt-outs and forms the same requests, and returns a `DryRun` with the counts, the
encodings and the parts (what the campaign would cost) instead (`dry_run`).

Numbers that opted out (the opt-out store, `opt_outs`; by default the one `listen` writes
replies into) are checked as each batch is formed, and skipped: reported `opted_out`, a status
of their own, unless `ignore_opt_outs=True` sends to them anyway (counted in the summary).

The code, one job per module: `_entry` (`send_many`'s signature: sent or dry),
`_engine` (the run: the reader and the completions), `dry_run` (the run that counts),
`_sender` (one request and its outcome, in a pool thread), `_batches` (rows grouped into
requests), `_settings` (the arguments, checked; what identifies a campaign), `_rate_limit`,
`_result_writer` (CSV / JSON lines), `_progress` (stderr), `_records` (the types it reads and
reports), `journal` (the storage interface that makes a run resumable: what is journalled, and
its errors), `sqlite_journal` (one file, the default) and `postgres_journal` (a campaign shared
by many hosts), `_journal_base` (what both stores share) and `_scratch` (a run's local scratch
database), `csv_input` (recipients from a CSV file, streamed, with line numbers). Past one
machine: `cluster` (a campaign split into shards on Celery workers, `celery`), with the
account's rate limit in Redis (`redis_rate_limit`).

A disk that fills up (or a database that goes away) stops the run: nothing is sent that could
not be journalled, the requests in flight are finished, and `BulkStorageError` carries the
summary of exactly what was sent.
"""

from __future__ import annotations

from ._entry import send_many
from ._progress import Progress
from ._rate_limit import RateLimiter
from ._records import STATUSES, BadRow, BulkResult, BulkSummary, Recipient, Status
from ._result_writer import ResultsWriteError, ResultWriter
from ._sender import ACCOUNT_ERROR_CODES
from ._settings import MAX_BATCH, BulkOptions
from .dry_run import DryRun, InvalidRow
from .journal import (
    BulkStorageError,
    CampaignExistsError,
    JournalBusyError,
    JournalDamagedError,
    JournalError,
    JournalStore,
    JournalWriteError,
)

__all__ = [
    "ACCOUNT_ERROR_CODES",
    "MAX_BATCH",
    "STATUSES",
    "BadRow",
    "BulkOptions",
    "BulkResult",
    "BulkStorageError",
    "BulkSummary",
    "CampaignExistsError",
    "DryRun",
    "InvalidRow",
    "JournalBusyError",
    "JournalDamagedError",
    "JournalError",
    "JournalStore",
    "JournalWriteError",
    "Progress",
    "RateLimiter",
    "Recipient",
    "ResultWriter",
    "ResultsWriteError",
    "Status",
    "send_many",
]
