"""The opt-out store in PostgreSQL: for campaigns on workers, and the listener beside them.

Every worker checks each batch it forms against these tables, so an opt-out the listener
records while a campaign runs keeps that number out of every batch formed after it, on every
host. The tables sit in the journal's schema (`clickatell_sms`), by default in the campaign's own
database. A connection lost (a restart) fails the call in hand with `OptOutStoreError`, and the
next call connects again: the listener answers 503 meanwhile, so Clickatell sends the reply
again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from .._postgres import (
    SCHEMA,
    Connection,
    ConnectionHooks,
    close_quietly,
    connect,
    public_dsn,
    schema_change,
)
from .store import OptOutStoreError, SQLOptOuts

__all__ = ["PostgresOptOuts"]

DDL: Final = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.opt_outs (
    number text PRIMARY KEY,
    opted_out integer NOT NULL,
    changed_at double precision NOT NULL,
    keyword text,
    reply_message_id text,
    source text NOT NULL,
    recorded_at double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.opt_out_changes (
    id bigserial PRIMARY KEY,
    number text NOT NULL,
    opted_out integer NOT NULL,
    changed_at double precision NOT NULL,
    keyword text,
    reply_message_id text,
    source text NOT NULL,
    recorded_at double precision NOT NULL,
    applied integer NOT NULL
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.opt_out_replies (
    id bigserial PRIMARY KEY,
    reply_message_id text UNIQUE,
    api_message_id text,
    from_number text,
    number text,
    to_number text,
    text text,
    keyword text,
    action text,
    sent_at double precision NOT NULL,
    received_at double precision NOT NULL
);
"""


class PostgresOptOuts(ConnectionHooks, SQLOptOuts):
    """The store in the database at `dsn` (its tables made if missing, one process at a
    time). The URL may carry a password; `location` never shows it. Thread-safe."""

    _opt_outs = f"{SCHEMA}.opt_outs"
    _replies = f"{SCHEMA}.opt_out_replies"
    _changes = f"{SCHEMA}.opt_out_changes"

    def __init__(self, dsn: str) -> None:
        super().__init__(public_dsn(dsn, OptOutStoreError))
        self._dsn = dsn
        self._db: Connection | None = None
        with self._guard("make its tables"):
            db = self._connection()
            with schema_change(db, -2):
                db.execute(DDL.encode())

    def _connection(self) -> Connection:
        if self._db is None:  # the first call, or the first after a failure
            self._db = connect(self._dsn, unavailable=OptOutStoreError, invalid=OptOutStoreError)
        return self._db

    def close(self) -> None:
        with self._lock:
            self._broken()  # as after a failure: a later call connects again

    def _broken(self) -> None:
        db, self._db = self._db, None
        close_quietly(db)

    def _any_of(self, count: int) -> str:
        return "number = ANY(?)"

    def _list_parameter(self, numbers: Sequence[str]) -> Sequence[Any]:
        return (list(numbers),)
