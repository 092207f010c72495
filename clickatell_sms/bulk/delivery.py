"""What happened to each message after the API accepted it: the journal's delivery tables.

A campaign's journal (`journal`) records what was sent. Beside it, in the same file or the same
PostgreSQL database, these tables record what became of it:

* `delivery_status`: the latest status of each message, keyed by `apiMessageId`, written from
  status callbacks (`callbacks.sinks.JournalSink`, `clickatell-sms listen --journal`) and from
  status look-ups (`report --refresh`) alike. Each row holds the status code, name and
  description, the time the status carries, when it arrived, and when the message was first
  seen at the gateway. The rule of `callbacks.is_newer` decides what replaces what, in SQL: a
  final status is never replaced by one that is not final, otherwise the later timestamp wins,
  and a tie (a replay) changes nothing. So a callback replayed, or arriving late, never moves a
  message back. A status for a message the journal does not know is stored all the same and
  counted apart by the report: it may belong to a request whose answer was never journalled.
* `delivery_messages`: one row per input row of the campaign, unpacked from the journal's
  batches (`sync`), so that a report joins the two with aggregate queries instead of reading
  every packed batch into memory. Keyed by the row's position; a row sent again after a resume
  replaces the earlier one. A request whose outcome is unknown has no `apiMessageId`: its rows
  are matched to callbacks by `clientMessageId` and number.
* `delivery_refreshes` and `delivery_lookups`: the runs of `report --refresh` and each message
  they looked up, so that a run stopped half-way resumes, and no message is looked up twice in
  one run.

`open_delivery(location)` opens them (creating what is missing) for a file path or a
`postgresql://` URL. The tables may be created before the campaign exists: `listen --journal`
started first makes them, and `bulk --journal` then writes its campaign into the same file.
"""

from __future__ import annotations

from pathlib import Path

from ._delivery_base import DeliveryStore, RefreshRun, StatusUpdate
from .journal import JournalError, is_postgres_url

__all__ = ["DeliveryStore", "RefreshRun", "StatusUpdate", "open_delivery"]


def open_delivery(location: str | Path, *, campaign: str | None = None) -> DeliveryStore:
    """The delivery tables of the journal at `location` (a file, made if missing, or a
    `postgresql://` URL, with the campaign the report is about), created if missing."""
    if is_postgres_url(location):
        # (psycopg is an extra, loaded only for a PostgreSQL journal)
        from .postgres_delivery import PostgresDelivery

        return PostgresDelivery.open(str(location), campaign)
    if campaign is not None:
        raise JournalError(
            f"{location}: a journal file holds one campaign; --campaign is for a PostgreSQL journal"
        )
    # (one store's module, not both: see above)
    from .sqlite_delivery import SQLiteDelivery

    return SQLiteDelivery.open(Path(location))
