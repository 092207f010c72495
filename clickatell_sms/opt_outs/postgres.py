"""The opt-out store in PostgreSQL: for campaigns on workers, and the listener beside them.

Every worker checks each batch it forms against these tables, so an opt-out the listener
records while a campaign runs keeps that number out of every batch formed after it, on every
host. The tables sit in the journal's schema (`clickatell_sms`), by default in the campaign's own
database. A connection lost (a restart) fails the call in hand with `OptOutStoreError`, and the
next call connects again: the listener answers 503 meanwhile, so Clickatell sends the reply
again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, Final

import psycopg

from ..bulk.journal import JournalError
from ..bulk.postgres_journal import SCHEMA, _advisory_key, _connect, _pg, public_dsn
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


class PostgresOptOuts(SQLOptOuts):
    """The store in the database at `dsn` (its tables made if missing, one process at a
    time). The URL may carry a password; `location` never shows it. Thread-safe."""

    _opt_outs = f"{SCHEMA}.opt_outs"
    _replies = f"{SCHEMA}.opt_out_replies"
    _changes = f"{SCHEMA}.opt_out_changes"

    def __init__(self, dsn: str) -> None:
        try:
            public = public_dsn(dsn)
        except JournalError as exc:
            raise OptOutStoreError(str(exc)) from None
        super().__init__(public)
        self._dsn = dsn
        self._db: psycopg.Connection[tuple[Any, ...]] | None = None
        with self._guard("make its tables"):
            db = self._connection()
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_advisory_key(SCHEMA, -2),))
                db.execute(DDL.encode())

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._db is None:
            try:
                self._db = _connect(self._dsn)
            except JournalError as exc:
                raise OptOutStoreError(str(exc)) from None
        return self._db

    def close(self) -> None:
        with self._lock:
            db, self._db = self._db, None
            if db is not None:
                with contextlib.suppress(psycopg.Error):
                    db.close()

    def _broken(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(psycopg.Error):
                db.close()

    def _run(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        return self._connection().execute(_pg(sql), params)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._connection().transaction():
            yield

    def _failures(self) -> tuple[type[BaseException], ...]:
        return (psycopg.Error,)

    def _any_of(self, count: int) -> str:
        return "number = ANY(?)"

    def _list_parameter(self, numbers: Sequence[str]) -> Sequence[Any]:
        return (list(numbers),)
