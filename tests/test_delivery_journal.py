"""The journal's delivery tables, in SQLite and in PostgreSQL: the ordering rule in SQL is
`is_newer`, a replay changes nothing, the message index follows the journal through resumes and
unknown outcomes, and the listener's sink writes with a group commit and refuses (503) what it
cannot keep."""

from __future__ import annotations

import http.client
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clickatell_sms import Client
from clickatell_sms.bulk import JournalError, send_many
from clickatell_sms.bulk.delivery import DeliveryStore, StatusUpdate, open_delivery
from clickatell_sms.bulk.sqlite_delivery import SQLiteDelivery
from clickatell_sms.callbacks import CallbackReceiver, is_newer, parse_status_callback
from clickatell_sms.callbacks.listener import CallbackServer
from clickatell_sms.callbacks.sinks import JournalSink, SinkError
from clickatell_sms.report import build_report
from clickatell_sms.sandbox import Faults, Sandbox

from .conftest import SHARED_SERVICES

POSTGRES = os.environ.get("CLICKATELL_TEST_POSTGRES_URL")
SECRET = "delivery-journal-test-secret"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=SHARED_SERVICES)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DeliveryStore]:
    if request.param == "postgresql":
        if not POSTGRES:
            pytest.skip("needs PostgreSQL: run scripts/test (or eval $(scripts/services start))")
        pytest.importorskip("psycopg")
        opened = open_delivery(POSTGRES)
    else:
        opened = open_delivery(tmp_path / "run.sqlite")
    with opened:
        yield opened


def stored(store: DeliveryStore, message_id: str) -> tuple[Any, ...]:
    (row,) = store.query(
        f"SELECT status_code, status_at, final, gateway_at FROM {store.table('delivery_status')}"
        " WHERE api_message_id = ?",
        (message_id,),
    )
    return row


# -- the ordering rule ---------------------------------------------------------------------------

CODES = st.sampled_from([2, 3, 4, 5, 7, 8, 10, 11, 42])  # 42: a code nobody knows
STAMPS = st.one_of(st.none(), st.integers(1, 6))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=st.lists(st.tuples(CODES, STAMPS), min_size=1, max_size=6), batched=st.booleans())
def test_the_stored_status_is_the_one_is_newer_keeps(
    store: DeliveryStore, events: list[tuple[int, int | None]], batched: bool
) -> None:
    """Whatever order the callbacks come in, one at a time or in one batch, the row holds what
    folding them with `is_newer` holds."""
    message_id = uuid.uuid4().hex
    callbacks = []
    for code, stamp in events:
        fields: dict[str, object] = {"messageId": message_id, "statusCode": code}
        if stamp is not None:
            fields["timestamp"] = 1_700_000_000_000 + stamp * 1000
        callbacks.append(parse_status_callback(fields))
    kept = callbacks[0]
    for candidate in callbacks[1:]:
        if is_newer(candidate, kept):
            kept = candidate
    updates = [StatusUpdate.from_callback(event) for event in callbacks]
    if batched:
        store.record(updates)
    else:
        for update in updates:
            store.record([update])
    code, status_at, final, _ = stored(store, message_id)
    expected_at = None if kept.timestamp is None else kept.timestamp.timestamp()
    assert (code, status_at, bool(final)) == (kept.status.code, expected_at, kept.status.is_final)


def test_a_late_status_never_moves_a_message_back_and_a_replay_changes_nothing(
    store: DeliveryStore,
) -> None:
    message_id = uuid.uuid4().hex

    def update(code: int, at: float | None) -> StatusUpdate:
        fields: dict[str, object] = {"messageId": message_id, "statusCode": code}
        if at is not None:
            fields["timestamp"] = int(at * 1000)
        return StatusUpdate.from_callback(parse_status_callback(fields))

    store.record([update(4, 1_700_000_010.0)])
    store.record([update(3, 1_700_000_005.0), update(2, 1_700_000_001.0)])  # late ones
    assert stored(store, message_id) == (4, 1_700_000_010.0, 1, 1_700_000_005.0)
    store.record([update(3, 1_700_000_020.0)])  # later, but not final: still received
    store.record([update(4, 1_700_000_010.0)] * 2)  # replays
    assert stored(store, message_id) == (4, 1_700_000_010.0, 1, 1_700_000_005.0)
    count = store.query(
        f"SELECT COUNT(*) FROM {store.table('delivery_status')} WHERE api_message_id = ?",
        (message_id,),
    )
    assert count == [(1,)]


# -- the message index ---------------------------------------------------------------------------


def numbers(count: int) -> list[str]:
    return [f"2783{i:06d}0" for i in range(count)]


def test_the_index_follows_the_journal_through_a_resume(tmp_path: Path) -> None:
    journal = tmp_path / "run.sqlite"
    rows = [*numbers(1200), "not a number", numbers(1)[0]]
    with (
        Sandbox(api_keys=("k",), faults=Faults(rate_503=0.3), seed=3) as sb,
        Client("k", base_url=sb.base_url, retries=0) as client,
    ):
        first = send_many(client, rows, "hi", journal=journal, batch_size=100)
        assert first.failed > 1  # batches the 503s refused: provably not sent
        with SQLiteDelivery.open(journal) as store:
            store.sync()
            before = dict(store.query("SELECT outcome, COUNT(*) FROM delivery_messages GROUP BY 1"))
        assert before["failed"] == first.failed
        sb.set_faults(None)
        again = send_many(client, rows, "hi", journal=journal, resume=True, batch_size=100)
    assert again.accepted == 1200
    with SQLiteDelivery.open(journal) as store:
        assert store.sync() > 0
        found = dict(store.query("SELECT outcome, COUNT(*) FROM delivery_messages GROUP BY 1"))
        positions = store.query("SELECT COUNT(DISTINCT position), COUNT(*) FROM delivery_messages")
    # every row once, the resent ones as accepted: 1,200 sent, a bad row, a repeat
    assert found == {"accepted": 1200, "failed": 1, "rejected": 1}
    assert positions == [(len(rows), len(rows))]


class _StopsAfterFirstChunk(threading.Event):
    """A stop asked for once the sync has written its first transaction."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def is_set(self) -> bool:
        self.asked += 1
        return self.asked > 1


def test_a_large_sync_indexes_in_bulk_the_rows_a_small_one_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past a number of rows, a sync sets the report's index aside and makes it again after:
    the rows are those indexing row by row gives (through a resume, superseded batches and
    all), the index is back even when the sync stops half-way, and the report's join reads
    the campaign's rows through it, in message-ID order."""
    from clickatell_sms.bulk import _delivery_base
    from clickatell_sms.report.queries import _NARROW

    journal = tmp_path / "run.sqlite"
    rows = [*numbers(1200), "not a number", numbers(1)[0]]
    with (
        Sandbox(api_keys=("k",), faults=Faults(rate_503=0.3), seed=3) as sb,
        Client("k", base_url=sb.base_url, retries=0) as client,
    ):
        send_many(client, rows, "hi", journal=journal, batch_size=100)
        sb.set_faults(None)
        send_many(client, rows, "hi", journal=journal, resume=True, batch_size=100)
    by_row, in_bulk = tmp_path / "by-row.sqlite", tmp_path / "in-bulk.sqlite"
    by_row.write_bytes(journal.read_bytes())
    in_bulk.write_bytes(journal.read_bytes())
    everything = "SELECT * FROM delivery_messages ORDER BY campaign_id, shard, position"
    indexes = "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'delivery%'"
    with SQLiteDelivery.open(by_row) as store:
        store.sync()
        expected = store.query(everything)
    monkeypatch.setattr(_delivery_base, "_BULK_ROWS", 1)
    monkeypatch.setattr(_delivery_base, "_SYNC_CHUNK", 3)
    with SQLiteDelivery.open(in_bulk) as store:
        store.sync(_StopsAfterFirstChunk())
        assert ("delivery_messages_report",) in store.query(indexes)
        assert 0 < len(store.query(everything)) < len(expected)
        store.sync()
        assert store.query(everything) == expected
        assert store.query("PRAGMA integrity_check") == [("ok",)]  # the index holds every row
        plan = store.query(
            "EXPLAIN QUERY PLAN "
            + _NARROW.format(messages="delivery_messages", statuses="delivery_status"),
            ("",),
        )
    assert any("COVERING INDEX delivery_messages_report" in str(step) for step in plan), plan


def test_a_journal_with_the_former_index_gets_the_reports_on_opening(tmp_path: Path) -> None:
    journal = tmp_path / "run.sqlite"
    with SQLiteDelivery.open(journal) as store:  # then made as an earlier version made it
        store.execute("DROP INDEX delivery_messages_report")
        store.execute(
            "CREATE INDEX delivery_messages_api ON delivery_messages (campaign_id, api_message_id)"
        )
    with SQLiteDelivery.open(journal) as store:
        names = store.query("SELECT name FROM sqlite_master WHERE type = 'index'")
    assert ("delivery_messages_report",) in names and ("delivery_messages_api",) not in names


def test_rows_of_an_unknown_request_are_matched_to_callbacks_by_reference_and_number(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "run.sqlite"
    with Sandbox(api_keys=("k",), faults=Faults(drop_after_body=0.5), seed=1) as sb:
        with Client("k", base_url=sb.base_url, retries=0) as client:
            summary = send_many(client, numbers(600), "hi", journal=journal, batch_size=100)
        assert summary.unknown > 0  # the answers were dropped, the messages were taken
        records = sb.messages()
        with SQLiteDelivery.open(journal) as store:
            for record in records:  # what the callbacks would say
                event = parse_status_callback(
                    {
                        "messageId": record.api_message_id,
                        "clientMessageId": record.client_message_id,
                        "to": record.to,
                        "statusCode": 4,
                        "timestamp": 1_800_000_000_000,
                    }
                )
                store.record([StatusUpdate.from_callback(event)])
            report = build_report(store)
    funnel = report.funnel
    assert funnel.count("unknown") == 0
    assert funnel.confirmed_by_callback == summary.unknown
    assert funnel.count("received") == funnel.accepted == len(records) == 600
    assert report.unknown_callbacks == 0


def test_a_file_the_listener_made_first_is_taken_by_bulk_but_a_campaign_is_not(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "run.sqlite"
    with SQLiteDelivery.open(journal) as store:
        assert store.campaign_id() is None
        assert store.sync() == 0  # no campaign journalled yet
    assert journal.stat().st_mode & 0o077 == 0  # personal data: the owner's only
    with Sandbox(api_keys=("k",)) as sb, Client("k", base_url=sb.base_url) as client:
        assert send_many(client, numbers(10), "hi", journal=journal).accepted == 10
        with pytest.raises(JournalError, match="exists already"):
            send_many(client, numbers(10), "hi", journal=journal)
    with SQLiteDelivery.open(journal) as store:
        assert store.campaign_id() is not None


# -- the sink ------------------------------------------------------------------------------------


def callback(message_id: str, code: int = 4) -> Any:
    return parse_status_callback({"messageId": message_id, "statusCode": code})


def test_the_sink_writes_before_it_returns_and_groups_concurrent_callbacks(
    tmp_path: Path,
) -> None:
    with JournalSink(tmp_path / "run.sqlite") as sink:
        sink.take(callback("first"))
        assert sink.store.query("SELECT COUNT(*) FROM delivery_status") == [(1,)]

        def many(prefix: str) -> None:
            for n in range(200):
                sink.take(callback(f"{prefix}-{n}"))

        threads = [threading.Thread(target=many, args=(f"t{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sink.written == 1601
        assert sink.store.query("SELECT COUNT(*) FROM delivery_status") == [(1601,)]
        print(f"1,601 callbacks in {sink.commits} transactions")
    with pytest.raises(SinkError, match="closed"):
        sink.take(callback("late"))


class _BrokenStore(SQLiteDelivery):
    """A journal whose disk is full: every write fails as SQLite would say."""

    def record(self, updates: Sequence[StatusUpdate]) -> None:
        raise JournalError(f"{self.location}: cannot write the delivery tables: disk is full")


def test_a_callback_the_journal_cannot_keep_is_answered_503_and_reaches_no_handler(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.sqlite"
    SQLiteDelivery.open(path).close()
    handled: list[object] = []
    broken = _BrokenStore(path, SQLiteDelivery.open(path)._db)
    receiver = CallbackReceiver(
        on_status=handled.append, secret=SECRET, sinks=[JournalSink(broken)]
    )
    with receiver, CallbackServer(receiver) as server:
        host, port = server.url[len("http://") : -1].rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        connection.request("GET", f"/?messageId=m1&statusCode=4&token={SECRET}")
        answer = connection.getresponse()
        assert (answer.status, answer.getheader("Retry-After")) == (503, "1")
        answer.read()
        connection.request("GET", "/?messageId=m1&statusCode=4&token=wrong-secret-0123456789")
        assert connection.getresponse().status == 401
    assert handled == []


def test_a_receiver_with_only_a_journal_takes_status_callbacks(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="a journal or sinks"):
        CallbackReceiver(secret=SECRET)
    with CallbackReceiver(secret=SECRET, journal=tmp_path / "run.sqlite") as receiver:
        with CallbackServer(receiver) as server:
            host, port = server.url[len("http://") : -1].rsplit(":", 1)
            connection = http.client.HTTPConnection(host, int(port), timeout=5)
            connection.request("GET", f"/?messageId=m2&status=DELIVERED_TO_GATEWAY&token={SECRET}")
            assert connection.getresponse().status == 200
        (sink,) = receiver.sinks
        assert isinstance(sink, JournalSink) and sink.written == 1
    with SQLiteDelivery.open(tmp_path / "run.sqlite") as store:
        assert store.query("SELECT status_code, kind FROM delivery_status") == [(3, "gateway")]
