"""`send_many` as the package exports it: a campaign sent (`_engine`), or read, checked and
priced without sending anything (`dry_run=True`, `dry_run`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Unpack

from ._engine import send_many as _send
from ._records import BadRow, BulkSummary, Recipient
from ._sender import MessageSender
from ._settings import BulkOptions
from .dry_run import dry_run as _dry_run

__all__ = ["send_many"]


def send_many(
    client: MessageSender,
    recipients: Iterable[str | Recipient | BadRow],
    content: str | None = None,
    *,
    dry_run: bool = False,
    **options: Unpack[BulkOptions],
) -> BulkSummary:
    """Send `content` (or each `Recipient`'s own) to every recipient; see the module docs.

    `recipients` is any iterable of numbers, `Recipient`s or `BadRow`s, read lazily. The
    keywords are `BulkOptions`, each with its default there. `journal` is the journal file: a
    new one must not exist yet; with `resume=True` it must, and the run continues it (same
    recipients, text and options, else `JournalError`). Without a journal a temporary one is
    used and deleted at the end. A `JournalStore` already open (one shard of a campaign on
    workers, say) is used as it is, and left open. `resend_unknown` sends unknown requests of
    an earlier run again: True for all of them, or an iterable of their client message IDs.
    `identity` adds facts that identify the campaign (the CLI passes its input file's hash),
    checked on resume. `on_result` is called in the calling thread for every row, `output`
    (.csv, .jsonl, or '-' for stdout) gets every row, `progress` shows a bar or periodic lines
    on stderr (`total` rows, if known). `rate_limit` is recipients per second for this run, or a
    `Limiter` shared with other runs (`RedisRateLimiter`: a whole account's workers).
    `timeout`, `retries`, `extra_headers`, `integration` and the spec's fields (`SendOptions`)
    are `Client.send`'s, for every request, except that `client_message_id` becomes the prefix
    of each request's ID (`<prefix>-<batch number>`; by default the journal's random campaign
    ID).

    Raises `ValidationError` for bad arguments and `JournalError` for an unusable journal, both
    before anything is sent. If reading the input (or `on_result`) raises, or the run is
    interrupted, the requests in flight are finished and journalled first; then the exception
    propagates, with the summary so far as its `bulk_summary` attribute. If the journal or the
    results file cannot be written, nothing more is sent, the requests in flight are finished,
    and `BulkStorageError` (`JournalWriteError`, `ResultsWriteError`) is raised with the summary
    of what was sent as `bulk_summary`.

    `dry_run=True` sends nothing and returns a `DryRun`: the summary the run would have if the
    API took every message (the same rows read with the same checks, repeats and opt-outs,
    grouped into the same requests), with the encodings and parts the messages need
    (`bulk.dry_run`). It writes no journal or results file (giving one is a `ValidationError`),
    and needs only the client's settings, not a working key.
    """
    if dry_run:
        return _dry_run(client, recipients, content, **options)
    return _send(client, recipients, content, **options)
