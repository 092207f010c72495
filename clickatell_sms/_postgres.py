"""What the PostgreSQL stores of the SDK (a campaign's journal, its delivery tables, the opt-out
store) share: reading, showing and connecting to a connection URL, the schema they live in,
their locks, and the hooks through which their base classes' portable SQL reaches psycopg.

The stores belong to two packages, `bulk` and `opt_outs`, and `bulk` imports `opt_outs`: what
both need stands here, below either. Each package keeps its own errors, so the functions that
fail take the error to raise from their caller. psycopg is the `postgresql` extra: only the
PostgreSQL stores' modules import this one, and the package loads those only when a PostgreSQL
store, or a campaign on workers, is asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final, TypeAlias

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = [
    "SCHEMA",
    "Connection",
    "ConnectionHooks",
    "Failure",
    "advisory_key",
    "close_quietly",
    "connect",
    "psycopg_sql",
    "public_dsn",
    "schema_change",
    "server_side_rows",
]

SCHEMA: Final = "clickatell_sms"

Connection: TypeAlias = psycopg.Connection[tuple[Any, ...]]
Cursor: TypeAlias = psycopg.Cursor[tuple[Any, ...]]
Failure: TypeAlias = Callable[[str], Exception]
"""The caller's error, made from a message (`JournalError`, `OptOutStoreError`)."""


def public_dsn(dsn: str, invalid: Failure) -> str:
    """The connection URL without its password, for messages, logs and task arguments (libpq's
    PGPASSWORD or ~/.pgpass give each process the password); `invalid` if libpq cannot read
    it."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise invalid(f"not a PostgreSQL connection URL: {exc}") from None
    params.pop("password", None)
    host = params.get("host", "")
    port = params.get("port", "")
    user = params.get("user", "")
    name = params.get("dbname", "")
    return f"postgresql://{user}{'@' if user else ''}{host}{':' if port else ''}{port}/{name}"


def connect(dsn: str, *, unavailable: Failure, invalid: Failure) -> Connection:
    """A session in autocommit mode: each store opens the transactions it needs. A server that
    cannot be reached is `unavailable` (the same call may work later), a URL that libpq cannot
    read is `invalid` (it never will)."""
    try:
        # make_conninfo checks the URL and gives it back in a form libpq reads
        return psycopg.connect(make_conninfo(dsn), autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise unavailable(f"{public_dsn(dsn, invalid)}: cannot connect: {exc}") from None


def close_quietly(db: Connection | None) -> None:
    """Closing a session the server may have dropped already can fail, and it is gone either
    way: nothing to report."""
    if db is not None:
        with contextlib.suppress(psycopg.Error):
            db.close()


def advisory_key(name: str, number: int) -> int:
    """The key of an advisory lock: the same in every process and on every host (Python's own
    `hash` of a string differs from one process to the next), and the same as it has always
    been, so that a worker of an earlier release and one of this one take the same lock."""
    digest = hashlib.blake2b(f"{name}:{number}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextlib.contextmanager
def schema_change(db: Connection, lock: int) -> Iterator[None]:
    """A transaction that makes tables, one process at a time: two `CREATE ... IF NOT EXISTS`
    of one table at once can both find it missing, and the second then fails. `lock` names
    the tables (those that take the same lock are made one after the other)."""
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(SCHEMA, lock),))
        yield


def psycopg_sql(sql: str) -> str:
    """The stores' base classes write their statements once, for SQLite too, with `?`;
    psycopg takes `%s`."""
    return sql.replace("?", "%s")


def server_side_rows(
    db: Connection, sql: str, params: Sequence[Any], *, page: int
) -> Iterator[tuple[Any, ...]]:
    """The rows of a (portable) query through a server-side cursor: `page` rows in memory at a
    time, in a transaction of its own (the cursor lives in one)."""
    with db.transaction(), db.cursor(name=f"c{uuid.uuid4().hex}") as cursor:
        cursor.itersize = page
        cursor.execute(psycopg_sql(sql), params)
        yield from cursor


class ConnectionHooks(ABC):
    """The hooks the stores' base classes (`PackedJournal`, `DeliveryStore`, `SQLOptOuts`) ask
    of a store, answered on its one session: their portable SQL, run by psycopg, and psycopg's
    errors as the failures they turn into their own errors. A store gives the session; one
    that reconnects after a failure makes a new session there."""

    @abstractmethod
    def _connection(self) -> Connection: ...

    def _run(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self._connection().execute(psycopg_sql(sql), params)

    def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._connection().cursor() as cursor:
            cursor.executemany(psycopg_sql(sql), list(rows))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._connection().transaction():
            yield

    def _failures(self) -> tuple[type[BaseException], ...]:
        return (psycopg.Error,)
