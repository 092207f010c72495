"""The delivery tables in PostgreSQL (see `delivery`): campaigns sent from workers.

They live beside the campaigns' journal, in the schema `clickatell_sms`. `delivery_status` is
one table for the whole database, keyed by `apiMessageId` (Clickatell's IDs are unique), because
a callback does not say which campaign it belongs to: `listen --journal postgresql://...` writes
every callback there, and the report of a campaign joins them to the campaign's messages. The
other tables are per campaign (`campaign_id` in every row).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final

import psycopg

from .._postgres import (
    SCHEMA,
    Connection,
    ConnectionHooks,
    advisory_key,
    close_quietly,
    schema_change,
    server_side_rows,
)
from ._delivery_base import DeliveryStore
from .journal import JournalError, JournalUnavailableError
from .postgres_journal import DDL as JOURNAL_DDL
from .postgres_journal import connect_journal, public_dsn

__all__ = ["DDL", "PostgresDelivery"]

DDL: Final = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.delivery_status (
    api_message_id text PRIMARY KEY,
    client_message_id text,
    number text,
    status_code integer,
    status text NOT NULL,
    description text,
    kind text NOT NULL,
    final integer NOT NULL,
    status_at double precision,
    arrived_at double precision NOT NULL,
    gateway_at double precision,
    via text NOT NULL
);
CREATE INDEX IF NOT EXISTS delivery_status_reference
    ON {SCHEMA}.delivery_status (client_message_id, number);
CREATE TABLE IF NOT EXISTS {SCHEMA}.delivery_messages (
    campaign_id text NOT NULL,
    shard integer NOT NULL,
    position bigint NOT NULL,
    row bigint NOT NULL,
    to_input text NOT NULL,
    number text,
    outcome text NOT NULL,
    api_message_id text,
    client_message_id text,
    error_code integer,
    error text,
    description text,
    duplicate_of bigint,
    source text NOT NULL,
    sent_at double precision,
    written_at double precision NOT NULL,
    PRIMARY KEY (campaign_id, shard, position)
);
CREATE INDEX IF NOT EXISTS delivery_messages_api
    ON {SCHEMA}.delivery_messages (campaign_id, api_message_id);
CREATE INDEX IF NOT EXISTS delivery_messages_any_api
    ON {SCHEMA}.delivery_messages (api_message_id);
CREATE TABLE IF NOT EXISTS {SCHEMA}.delivery_sources (
    campaign_id text NOT NULL,
    source text NOT NULL,
    state text NOT NULL,
    updated_at double precision NOT NULL,
    PRIMARY KEY (campaign_id, source)
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.delivery_refreshes (
    id bigserial PRIMARY KEY,
    campaign_id text NOT NULL,
    started_at double precision NOT NULL,
    cutoff double precision NOT NULL,
    finished_at double precision,
    looked_up bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.delivery_lookups (
    api_message_id text PRIMARY KEY,
    run bigint NOT NULL,
    at double precision NOT NULL,
    outcome text NOT NULL
);
"""


class PostgresDelivery(ConnectionHooks, DeliveryStore):
    """The delivery tables of a PostgreSQL journal, about one campaign (or none, to write
    callbacks only)."""

    _prefix = f"{SCHEMA}."
    _shard = "shard"

    def __init__(self, db: Connection, dsn: str, campaign: str | None) -> None:
        where = public_dsn(dsn) + ("" if campaign is None else f" (campaign {campaign})")
        super().__init__(where, campaign)
        self._db = db

    @classmethod
    def open(cls, dsn: str, campaign: str | None) -> PostgresDelivery:
        """The tables (created if missing, one process at a time) in the database at `dsn`."""
        db = connect_journal(dsn)
        try:
            with schema_change(db, -1):  # the journal's tables' lock: they are made here too
                db.execute(JOURNAL_DDL.encode())  # a listener may start before any campaign
                db.execute(DDL.encode())
        except psycopg.Error as exc:
            db.close()
            raise JournalUnavailableError(
                f"{public_dsn(dsn)}: cannot create the delivery tables: {exc}"
            ) from None
        store = cls(db, dsn, campaign)
        if campaign is not None and not store._has_journal():
            store.close()
            raise JournalError(
                f"{public_dsn(dsn)} has no campaign {campaign!r}",
                cli=f"--campaign {campaign}: {public_dsn(dsn)} has no such campaign",
            )
        return store

    def campaigns(self) -> list[tuple[str, float, int]]:
        """Every campaign in the database: (ID, created at, rows), newest first."""
        return [
            (str(cid), float(created), int(rows))
            for cid, created, rows in self.query(
                f"SELECT id, created_at, rows FROM {SCHEMA}.campaigns ORDER BY created_at DESC"
            )
        ]

    def close(self) -> None:
        with self._lock:
            close_quietly(self._db)

    # -- the report's dialect --------------------------------------------------------------

    _temporary = "pg_temp."

    def floor(self, expression: str) -> str:
        return f"CAST(FLOOR({expression}) AS bigint)"

    def _since(self) -> float:
        found = self.query(
            f"SELECT created_at FROM {SCHEMA}.campaigns WHERE id = ?", (self.campaign,)
        )
        return float(found[0][0]) if found else 0.0

    def unknown_statuses(self, matched: int) -> int:
        """The database's statuses that arrived since the campaign was made and belong to no
        campaign's rows (the callbacks of every campaign share one table)."""
        found = self.query(
            f"SELECT COUNT(*) FROM {SCHEMA}.delivery_status s WHERE s.arrived_at >= ?"
            f" AND NOT EXISTS (SELECT 1 FROM {SCHEMA}.delivery_messages m"
            " WHERE m.api_message_id = s.api_message_id)",
            (self._since(),),
        )
        return int(found[0][0]) if found else 0

    def unknown_examples(self, limit: int) -> list[tuple[str, str]]:
        return [
            (str(message_id), str(status))
            for message_id, status in self.query(
                f"SELECT s.api_message_id, s.status FROM {SCHEMA}.delivery_status s"
                f" WHERE s.arrived_at >= ? AND NOT EXISTS (SELECT 1 FROM"
                f" {SCHEMA}.delivery_messages m WHERE m.api_message_id = s.api_message_id)"
                " ORDER BY s.arrived_at LIMIT ?",
                (self._since(), limit),
            )
        ]

    # -- DeliveryStore's hooks (the others are ConnectionHooks') ----------------------------

    def _connection(self) -> Connection:
        return self._db

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        with self._lock, self._guard("read"):
            yield from server_side_rows(self._db, sql, params, page=2000)

    def _journal_scope(self) -> tuple[str, tuple[Any, ...]]:
        if self.campaign is None:
            raise JournalError(f"{self.location}: name the campaign (--campaign ID)")
        return "campaign_id = ?", (self.campaign,)

    def _has_journal(self) -> bool:
        if self.campaign is None:
            return False
        found = self.query(
            f"SELECT COUNT(*) FROM {SCHEMA}.campaigns WHERE id = ?", (self.campaign,)
        )
        return bool(found) and int(found[0][0]) == 1

    def _hold_campaign(self) -> None:
        self._run(
            "SELECT pg_advisory_xact_lock(?)", (advisory_key(f"delivery:{self.campaign}", -3),)
        )
