"""The PostgreSQL journal: one campaign, visible to every host, written by many workers at once.

A campaign on workers (`bulk.cluster`) is split into shards; each shard is sent by one worker at
a time, with the same engine and the same guarantees as a run on one host. The tables live in
the schema `clickatell_sms`:

* `campaigns`: what is sent (text, options, settings), how many shards, which generation (a
  resume starts a new one), and the facts that identify it (checked on resume);
* `campaign_rows`: the recipients, each with its shard (a hash of the normalised number, so
  repeats of one number meet in one shard) and its position in the input;
* `shards`: each shard's progress (counts, refreshed while it runs) and its last summary;
* `batches` and `loose`: the journal proper, as in a SQLite journal, with the campaign and the
  shard in every row.

`PostgresJournal` is one shard's journal (a `JournalStore`): it holds a session-level advisory
lock on (campaign, shard) while open, so a queue that delivers a shard's task twice runs it once
at a time; the lock goes with the connection, so a worker that dies releases it. `CampaignStore`
is everything about the campaign as a whole: creating it, loading its rows, reading a shard's
rows, progress and summaries.

Connection URLs may carry a password; messages and task arguments use `public_dsn`, without it
(libpq's PGPASSWORD or ~/.pgpass supply it on each worker).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import msgspec
import psycopg

from .. import _postgres
from .._postgres import (
    SCHEMA,
    Connection,
    ConnectionHooks,
    advisory_key,
    close_quietly,
    connect,
    schema_change,
    server_side_rows,
)
from ._account import AccountKey, new_salt
from ._journal_base import PackedJournal
from ._records import BadRow, Recipient
from .journal import (
    CampaignExistsError,
    JournalBusyError,
    JournalError,
    JournalUnavailableError,
)

__all__ = [
    "DDL",
    "SCHEMA",
    "CampaignInfo",
    "CampaignStore",
    "NewCampaign",
    "PostgresJournal",
    "StoredRow",
    "connect_journal",
    "public_dsn",
    "server_side_rows",
]

_SCHEMA_VERSION: Final = 1
DDL: Final = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.campaigns (
    id text PRIMARY KEY,
    schema_version integer NOT NULL,
    identity text NOT NULL,
    settings text NOT NULL,
    shards integer NOT NULL,
    rows bigint NOT NULL DEFAULT 0,
    loaded boolean NOT NULL DEFAULT false,
    generation integer NOT NULL DEFAULT 1,
    generation_started_at double precision NOT NULL,
    created_at double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.campaign_rows (
    campaign_id text NOT NULL,
    shard integer NOT NULL,
    position bigint NOT NULL,
    row bigint NOT NULL,
    to_input text NOT NULL,
    content text,
    bad text,
    PRIMARY KEY (campaign_id, shard, position)
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.shards (
    campaign_id text NOT NULL,
    shard integer NOT NULL,
    done_generation integer NOT NULL DEFAULT 0,
    attempts integer NOT NULL DEFAULT 0,
    counts text,
    summary text,
    updated_at double precision,
    PRIMARY KEY (campaign_id, shard)
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.batches (
    campaign_id text NOT NULL,
    shard integer NOT NULL,
    id bigint NOT NULL,
    client_message_id text NOT NULL,
    content text NOT NULL,
    size integer NOT NULL,
    state text NOT NULL,
    members bytea,
    members_crc bigint,
    results bytea,
    results_crc bigint,
    error_code integer,
    error text,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    PRIMARY KEY (campaign_id, shard, id),
    UNIQUE (campaign_id, client_message_id)
);
CREATE INDEX IF NOT EXISTS batches_state ON {SCHEMA}.batches (campaign_id, state);
CREATE TABLE IF NOT EXISTS {SCHEMA}.loose (
    id bigserial PRIMARY KEY,
    campaign_id text NOT NULL,
    shard integer NOT NULL,
    rows bytea NOT NULL,
    rows_crc bigint NOT NULL,
    created_at double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS loose_shard ON {SCHEMA}.loose (campaign_id, shard, id);
"""
# What a campaign sends to whom (a hash of its rows, text and options) and from which account (a
# keyed fingerprint of the key, see `_account`), so that a repeated submission is recognised;
# added to databases made before, too.
_IDENTITY_DDL: Final = f"""
ALTER TABLE {SCHEMA}.campaigns ADD COLUMN IF NOT EXISTS sends text;
ALTER TABLE {SCHEMA}.campaigns ADD COLUMN IF NOT EXISTS account text;
CREATE INDEX IF NOT EXISTS campaigns_sends ON {SCHEMA}.campaigns (sends);
CREATE TABLE IF NOT EXISTS {SCHEMA}.salts (
    name text PRIMARY KEY,
    value bytea NOT NULL
);
"""
_ROWS_PAGE: Final = 5000


def public_dsn(dsn: str) -> str:
    """The connection URL without its password: for messages, logs and task arguments (a
    `JournalError` if it is not one)."""
    return _postgres.public_dsn(dsn, JournalError)


def connect_journal(dsn: str) -> Connection:
    """A session on the journal's database, failing with the journal's errors."""
    return connect(dsn, unavailable=JournalUnavailableError, invalid=JournalError)


# -- one shard's journal ---------------------------------------------------------------------------


class PostgresJournal(ConnectionHooks, PackedJournal):
    """The journal of one shard of a campaign (see the module docs); a `JournalStore`."""

    _batches = f"{SCHEMA}.batches"
    _loose = f"{SCHEMA}.loose"
    _scope_columns = "campaign_id, shard, "

    def __init__(self, db: Connection, dsn: str, campaign_id: str, shard: int) -> None:
        super().__init__(
            campaign_id=campaign_id,
            location=f"{public_dsn(dsn)} (campaign {campaign_id}, shard {shard})",
            scope=f"{shard}.",
            where="campaign_id = ? AND shard = ?",
            scope_values=(campaign_id, shard),
        )
        self._db = db
        self.shard = shard

    @classmethod
    def open(cls, dsn: str, campaign_id: str, shard: int) -> PostgresJournal:
        """The shard's journal, locked for this process; `JournalBusyError` if another worker
        has it (a task delivered twice)."""
        db = connect_journal(dsn)
        try:
            (locked,) = db.execute(
                "SELECT pg_try_advisory_lock(%s)", (advisory_key(campaign_id, shard),)
            ).fetchone() or (False,)
        except psycopg.Error as exc:
            db.close()
            raise JournalUnavailableError(
                f"{public_dsn(dsn)}: cannot lock shard {shard}: {exc}"
            ) from None
        if not locked:
            db.close()
            raise JournalBusyError(
                f"shard {shard} of campaign {campaign_id} is being sent by another worker"
            )
        return cls(db, dsn, campaign_id, shard)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            close_quietly(self._db)  # the advisory lock goes with the session
        self._close_scratch()

    # -- PackedJournal's hooks (the others are ConnectionHooks') ----------------------------

    def _connection(self) -> Connection:
        return self._db  # never another: the shard's lock is this session's

    def _stream(self, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        yield from server_side_rows(self._db, sql, params, page=50)  # 50 packed batches

    def _note_resumed(self, now: float) -> None:
        self._db.execute(
            f"UPDATE {SCHEMA}.shards SET attempts = attempts + 1, updated_at = %s"
            " WHERE campaign_id = %s AND shard = %s",
            (now, self.campaign_id, self.shard),
        )


def _sha256_json(value: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(dict(value), sort_keys=True).encode()).hexdigest()


_pack_row = msgspec.msgpack.Encoder().encode


# -- the campaign as a whole ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    """A campaign's settings, as the workers read them."""

    id: str
    identity: dict[str, str]
    settings: dict[str, Any]
    shards: int
    rows: int
    loaded: bool
    generation: int
    generation_started_at: float


@dataclass(frozen=True, slots=True)
class NewCampaign:
    """A campaign to store: the facts checked on resume (`identity`), how the workers send it
    (`settings`), its shards, and what it sends (`sends`: its text and options; the rows are
    added as they are stored), which a repeated submission is recognised by."""

    identity: Mapping[str, str]
    settings: Mapping[str, Any]
    shards: int
    sends: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One input row as stored for its shard."""

    shard: int
    position: int
    row: int
    to_input: str
    content: str | None = None
    bad: str | None = None


class CampaignStore:
    """Campaigns in PostgreSQL: made by the submitting host, read by every worker."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.public = public_dsn(dsn)
        self._db = connect_journal(dsn)

    def close(self) -> None:
        close_quietly(self._db)

    def reconnect(self) -> None:
        """A new session after the database went away (a restart); JournalUnavailableError
        while it is still away."""
        self.close()
        self._db = connect_journal(self.dsn)

    def __enter__(self) -> CampaignStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except psycopg.OperationalError as exc:
            raise JournalUnavailableError(f"{self.public}: {what}: {exc}") from exc
        except psycopg.Error as exc:
            raise JournalError(f"{self.public}: {what}: {exc}") from exc

    def ensure_schema(self) -> None:
        """Create the tables if they are missing (one process at a time)."""
        with self._guard("cannot create the journal's tables"), schema_change(self._db, -1):
            self._db.execute(DDL.encode())
            self._db.execute(_IDENTITY_DDL.encode())
            self._db.execute(
                f"INSERT INTO {SCHEMA}.salts (name, value) VALUES ('account', %s)"
                " ON CONFLICT (name) DO NOTHING",
                (new_salt(),),
            )

    # -- making a campaign ------------------------------------------------------------------

    def create(
        self,
        campaign: NewCampaign,
        rows: Iterable[StoredRow],
        *,
        account: AccountKey | None,
        again: bool = False,
    ) -> str:
        """Store a new campaign and its rows (COPY), all in one transaction; its ID.

        Refused with `CampaignExistsError` (and nothing stored) when a campaign that sends the
        same rows, text and options from the same account exists already, unless `again`. An
        account that is not known (None now, or NULL for the earlier campaign) matches any: a
        repeat that is refused costs a flag, one that is sent costs every message twice.
        """
        campaign_id = uuid.uuid4().hex[:12]
        with self._guard("cannot create the campaign"), self._db.transaction():
            fingerprint = None if account is None else account.fingerprint(self._salt())
            self._insert(campaign_id, campaign)
            count, rows_sha256 = self._copy_rows(campaign_id, rows)
            sends = _sha256_json({**campaign.sends, "rows": rows_sha256})
            # Two submissions of one campaign at once: the second waits here for the first to
            # commit, then finds it.
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(sends, -2),))
            if not again:
                self._refuse_repeat(sends, fingerprint, campaign_id)
            self._db.execute(
                f"UPDATE {SCHEMA}.campaigns SET rows = %s, loaded = true, sends = %s,"
                " account = %s WHERE id = %s",
                (count, sends, fingerprint, campaign_id),
            )
        return campaign_id

    def _insert(self, campaign_id: str, campaign: NewCampaign) -> None:
        now = time.time()
        self._db.execute(
            f"INSERT INTO {SCHEMA}.campaigns (id, schema_version, identity, settings, shards,"
            " generation_started_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                campaign_id,
                _SCHEMA_VERSION,
                json.dumps(dict(campaign.identity), sort_keys=True),
                json.dumps(dict(campaign.settings), sort_keys=True),
                campaign.shards,
                now,
                now,
            ),
        )
        with self._db.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {SCHEMA}.shards (campaign_id, shard) VALUES (%s, %s)",
                [(campaign_id, shard) for shard in range(campaign.shards)],
            )

    def _copy_rows(self, campaign_id: str, rows: Iterable[StoredRow]) -> tuple[int, str]:
        """COPY the rows in; (how many, a SHA-256 of what they say, shards aside)."""
        count = 0
        digest = hashlib.sha256()
        with (
            self._db.cursor() as cursor,
            cursor.copy(
                f"COPY {SCHEMA}.campaign_rows (campaign_id, shard, position, row, to_input,"
                " content, bad) FROM STDIN"
            ) as copy,
        ):
            for r in rows:
                copy.write_row(
                    (campaign_id, r.shard, r.position, r.row, r.to_input, r.content, r.bad)
                )
                digest.update(_pack_row((r.position, r.row, r.to_input, r.content, r.bad)))
                count += 1
        return count, digest.hexdigest()

    def _refuse_repeat(self, sends: str, account: str | None, campaign_id: str) -> None:
        found = self._db.execute(
            f"SELECT id, created_at, rows FROM {SCHEMA}.campaigns"
            " WHERE sends = %s AND id <> %s AND loaded"
            " AND (account IS NULL OR %s::text IS NULL OR account = %s)"
            " ORDER BY created_at DESC LIMIT 1",
            (sends, campaign_id, account, account),
        ).fetchone()
        if found is None:
            return
        earlier, created, rows = found
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(float(created)))
        raise CampaignExistsError(
            f"campaign {earlier} (started {started}, {int(rows)} rows) sends the same message"
            " to the same recipients, with the same options, from the same account",
            campaign=str(earlier),
            python=f"watch or continue it with run_campaign(None, ..., resume={earlier!r}),"
            " or send it all again on purpose with new_campaign=True",
            cli=f"watch or continue it with --resume {earlier}, or send it all again on"
            " purpose with --new-campaign",
        )

    def _salt(self) -> bytes:
        (salt,) = self._db.execute(
            f"SELECT value FROM {SCHEMA}.salts WHERE name = 'account'"
        ).fetchone() or (None,)
        if salt is None:
            raise JournalError(f"{self.public}: the journal's tables have no salt: run it again")
        return bytes(salt)

    def info(self, campaign_id: str) -> CampaignInfo:
        with self._guard("cannot read the campaign"):
            found = self._db.execute(
                "SELECT id, schema_version, identity, settings, shards, rows, loaded, generation,"
                f" generation_started_at FROM {SCHEMA}.campaigns WHERE id = %s",
                (campaign_id,),
            ).fetchone()
        if found is None:
            raise JournalError(
                f"{self.public} has no campaign {campaign_id!r}",
                cli=f"--resume {campaign_id}: {self.public} has no such campaign",
            )
        cid, version, identity, settings, shards, rows, loaded, generation, started = found
        if version != _SCHEMA_VERSION:
            raise JournalError(f"campaign {cid} has journal schema {version}; this reads 1")
        return CampaignInfo(
            cid,
            json.loads(identity),
            json.loads(settings),
            int(shards),
            int(rows),
            bool(loaded),
            int(generation),
            float(started),
        )

    def new_generation(self, campaign_id: str) -> CampaignInfo:
        """A resume: every shard runs again (and resumes from its journal)."""
        with self._guard("cannot resume the campaign"):
            self._db.execute(
                f"UPDATE {SCHEMA}.campaigns SET generation = generation + 1,"
                " generation_started_at = %s WHERE id = %s",
                (time.time(), campaign_id),
            )
        return self.info(campaign_id)

    # -- a shard's work ---------------------------------------------------------------------

    def shard_rows(self, campaign_id: str, shard: int) -> Iterator[Recipient | BadRow]:
        """The shard's rows in input order, a page at a time."""
        last = -1
        while True:
            with self._guard("cannot read the campaign's rows"):
                page = self._db.execute(
                    f"SELECT position, row, to_input, content, bad FROM {SCHEMA}.campaign_rows"
                    " WHERE campaign_id = %s AND shard = %s AND position > %s"
                    " ORDER BY position LIMIT %s",
                    (campaign_id, shard, last, _ROWS_PAGE),
                ).fetchall()
            if not page:
                return
            for _, row, to_input, content, bad in page:
                if bad is not None:
                    yield BadRow(to_input, bad, int(row))
                else:
                    yield Recipient(to_input, content, int(row))
            last = page[-1][0]

    def done_generation(self, campaign_id: str, shard: int) -> int:
        with self._guard("cannot read the shard"):
            found = self._db.execute(
                f"SELECT done_generation FROM {SCHEMA}.shards"
                " WHERE campaign_id = %s AND shard = %s",
                (campaign_id, shard),
            ).fetchone()
        return 0 if found is None else int(found[0])

    def report(self, campaign_id: str, shard: int, counts: Mapping[str, int]) -> None:
        """A running shard's counts so far (progress; a failure here is not worth a stop)."""
        with contextlib.suppress(psycopg.Error):
            self._db.execute(
                f"UPDATE {SCHEMA}.shards SET counts = %s, updated_at = %s"
                " WHERE campaign_id = %s AND shard = %s",
                (json.dumps(dict(counts)), time.time(), campaign_id, shard),
            )

    def finish_shard(
        self, campaign_id: str, shard: int, generation: int, summary: Mapping[str, Any]
    ) -> None:
        with self._guard("cannot record the shard's summary"):
            self._db.execute(
                f"UPDATE {SCHEMA}.shards SET done_generation = GREATEST(done_generation, %s),"
                " summary = %s, counts = %s, updated_at = %s"
                " WHERE campaign_id = %s AND shard = %s",
                (
                    generation,
                    json.dumps(dict(summary)),
                    json.dumps({k: summary[k] for k in _COUNTS}),
                    time.time(),
                    campaign_id,
                    shard,
                ),
            )

    # -- watching ---------------------------------------------------------------------------

    def shard_states(self, campaign_id: str) -> list[tuple[int, int, dict[str, int], Any]]:
        """(shard, done generation, counts so far, last summary) of every shard."""
        with self._guard("cannot read the campaign's progress"):
            rows = self._db.execute(
                f"SELECT shard, done_generation, counts, summary FROM {SCHEMA}.shards"
                " WHERE campaign_id = %s ORDER BY shard",
                (campaign_id,),
            ).fetchall()
        return [
            (
                int(shard),
                int(done),
                json.loads(counts) if counts else {},
                json.loads(summary) if summary else None,
            )
            for shard, done, counts, summary in rows
        ]

    def sent_since(self, campaign_id: str, since: float) -> tuple[int, int]:
        """(requests, recipients) made since `since`: answered, refused or unknown batches."""
        with self._guard("cannot read the campaign's batches"):
            found = self._db.execute(
                f"SELECT COUNT(*), COALESCE(SUM(size), 0) FROM {SCHEMA}.batches"
                " WHERE campaign_id = %s AND created_at >= %s"
                " AND state IN ('answered', 'refused', 'unknown')",
                (campaign_id, since),
            ).fetchone()
        return (0, 0) if found is None else (int(found[0]), int(found[1]))

    def unknown_batches(self, campaign_id: str) -> list[tuple[str, int, str]]:
        with self._guard("cannot read the campaign's batches"):
            rows = self._db.execute(
                f"SELECT client_message_id, size, content FROM {SCHEMA}.batches"
                " WHERE campaign_id = %s AND state = 'unknown' ORDER BY shard, id",
                (campaign_id,),
            ).fetchall()
        return [(str(cmid), int(size), str(content)) for cmid, size, content in rows]


_COUNTS: Final = ("accepted", "rejected", "failed", "unknown")
