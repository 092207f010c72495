"""The bulk engine against the sandbox: batching, repeats, stop rule, rate limit, journal, resume."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from clickatell_sms.bulk import BadRow, BulkResult, RateLimiter, Recipient, send_many
from clickatell_sms.bulk.journal import JournalError
from clickatell_sms.bulk.sqlite_journal import SQLiteJournal as Journal
from clickatell_sms.client import Client
from clickatell_sms.errors import ValidationError
from clickatell_sms.sandbox import (
    BLOCKED_NUMBER,
    CANNOT_ROUTE_NUMBER,
    OPTED_OUT_NUMBER,
    Faults,
    Sandbox,
)

TEST_REFUSALS = {CANNOT_ROUTE_NUMBER: 114, BLOCKED_NUMBER: 121, OPTED_OUT_NUMBER: 122}


def numbers(count: int, start: int = 0) -> Iterator[str]:
    """Distinct South African mobile numbers."""
    for i in range(start, start + count):
        yield f"2782{i:07d}"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(api_keys=("key",), balance=10**9) as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    with Client(api_key="key", base_url=sandbox.base_url, max_connections=8) as c:
        yield c


def collect() -> tuple[list[BulkResult], Callable[[BulkResult], None]]:
    results: list[BulkResult] = []
    return results, results.append


def test_every_row_ends_in_one_state_and_matches_the_sandbox(
    client: Client, sandbox: Sandbox
) -> None:
    results, on_result = collect()
    rows = [*numbers(1000), "not a number", "27820000005", "+27 82 000 0006", "0821234567"]
    summary = send_many(client, rows, "hello", concurrency=4, on_result=on_result)

    assert summary.total == len(rows) == len(results)
    assert sorted(r.row for r in results) == list(range(len(rows)))
    assert summary.accepted == sum(r.status == "accepted" for r in results)
    assert summary.invalid == 2  # letters; a national number without default_region
    assert summary.duplicates == 2  # 27820000005 twice, and 0006 in another spelling
    assert summary.rejected == 2 + 0  # the two repeats (no magic numbers below 1000)
    assert summary.failed == 2 and summary.unknown == 0
    assert summary.batches == 5  # 1000 distinct numbers, 200 per request

    recorded = Counter(m.to for m in sandbox.messages())
    assert max(recorded.values()) == 1
    assert set(recorded) == {r.number for r in results if r.status == "accepted"}
    first = {r.row: r for r in results}
    assert first[1001].duplicate_of == 5 and first[1001].error == "duplicate"
    assert first[1000].error == "invalid" and "letters" in (first[1000].description or "")


def test_an_http_integration_sends_in_bulk_without_client_message_ids(
    sandbox: Sandbox,
) -> None:
    """The GET send cannot carry a clientMessageId, so bulk keeps the batch IDs to its journal."""
    with Client(api_key="key", base_url=sandbox.base_url, integration="http") as http_client:
        results, on_result = collect()
        summary = send_many(http_client, numbers(450), "hello", concurrency=2, on_result=on_result)
    assert (summary.accepted, summary.batches, summary.total) == (450, 3, 450)
    recorded = sandbox.messages()
    assert sorted(m.to for m in recorded) == sorted(numbers(450))
    assert {m.format for m in recorded} == {"http"}
    assert all(m.client_message_id is None for m in recorded)
    assert len({r.client_message_id for r in results}) == 3  # still one per batch, locally


def test_rejected_recipients_carry_the_api_code(client: Client, sandbox: Sandbox) -> None:
    results, on_result = collect()
    rows = [*numbers(200, 9000), *TEST_REFUSALS, *numbers(197, 9200)]
    summary = send_many(client, rows, "hi", on_result=on_result)
    rejected = {r.number: r.error_code for r in results if r.status == "rejected"}
    assert rejected == TEST_REFUSALS
    assert summary.accepted == 397 == len(sandbox.messages())


def test_per_row_content_is_grouped_into_requests(client: Client, sandbox: Sandbox) -> None:
    texts = ["A", "B", "C"]
    rows = [Recipient(n, texts[i % 3]) for i, n in enumerate(numbers(900))]
    summary = send_many(client, rows, concurrency=2)
    assert summary.accepted == 900
    assert summary.batches == 6  # 300 per text: 200 + 100
    by_number = {m.to: m.content for m in sandbox.messages()}
    assert all(by_number[r.to] == r.content for r in rows)
    # each request carried one text only
    per_request = Counter((m.request_id, m.content) for m in sandbox.messages())
    assert len({request for request, _ in per_request}) == 6


def test_many_distinct_texts_keep_memory_bounded(client: Client, sandbox: Sandbox) -> None:
    rows = [Recipient(n, f"code {i}") for i, n in enumerate(numbers(300))]
    summary = send_many(client, rows, concurrency=4)
    assert summary.accepted == 300 and summary.batches == 300
    assert {m.content for m in sandbox.messages()} == {f"code {i}" for i in range(300)}


def test_the_same_number_gets_the_same_text_once_per_campaign(
    client: Client, sandbox: Sandbox
) -> None:
    results, on_result = collect()
    rows: list[str | Recipient] = [
        *numbers(600),
        *numbers(10),
        Recipient("27820000001", "other text"),
    ]
    summary = send_many(client, rows, "hello", on_result=on_result)
    assert summary.duplicates == 10 and summary.accepted == 601
    assert sum(m.to == "27820000001" for m in sandbox.messages()) == 2  # two different texts
    repeats = [r for r in results if r.error == "duplicate"]
    assert sorted(r.duplicate_of for r in repeats if r.duplicate_of is not None) == list(range(10))


def test_allow_duplicates_sends_each_row(client: Client, sandbox: Sandbox) -> None:
    summary = send_many(client, [*numbers(300), *numbers(300)], "hello", unique=False)
    assert summary.accepted == 600 and summary.duplicates == 0
    assert len(sandbox.messages()) == 600


def test_bad_rows_from_the_source_are_reported_not_sent(client: Client) -> None:
    results, on_result = collect()
    rows: list[str | Recipient | BadRow] = [
        BadRow("", "has 3 fields, the header has 2", 7),
        Recipient("27820000001", row=8),
        Recipient("27820000002", content="", row=9),
    ]
    summary = send_many(client, rows, None, on_result=on_result)
    assert (summary.invalid, summary.failed, summary.accepted) == (3, 3, 0)
    assert {r.row for r in results} == {7, 8, 9}


def test_rate_limit_spreads_recipients_over_time(client: Client) -> None:
    started = time.monotonic()
    summary = send_many(client, numbers(600), "hello", rate_limit=1000, concurrency=4)
    elapsed = time.monotonic() - started
    assert summary.accepted == 600
    # 600 recipients at 1000/s with a burst of one request (200): at least 0.4 s
    assert elapsed >= 0.39
    assert elapsed < 3


def test_rate_limiter_is_a_token_bucket() -> None:
    limiter = RateLimiter(100, 10)
    started = time.monotonic()
    for _ in range(5):
        limiter.acquire(10)
    elapsed = time.monotonic() - started
    assert 0.38 <= elapsed < 0.8  # the first 10 at once, then 10 every 0.1 s


def test_rate_limit_caps_the_request_size(client: Client, sandbox: Sandbox) -> None:
    summary = send_many(client, numbers(150), "hello", rate_limit=100)
    assert summary.batches == 2  # at most a second's worth (100) per request


def test_stops_after_repeated_authentication_errors(sandbox: Sandbox, tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    results, on_result = collect()
    with Client(api_key="revoked", base_url=sandbox.base_url) as bad:
        summary = send_many(
            bad, numbers(5000), "hello", concurrency=2, journal=journal, on_result=on_result
        )
    assert summary.stopped is not None and "108" in summary.stopped
    assert summary.total == 5000 and summary.accepted == 0 and not sandbox.messages()
    assert summary.batches <= 3 + 4  # the stop plus at most what was already in flight
    assert summary.rejected == 200 * summary.batches
    assert summary.failed == 5000 - summary.rejected
    assert {r.error for r in results if r.status == "failed"} == {"not sent"}

    with Client(api_key="key", base_url=sandbox.base_url) as good:
        again = send_many(good, numbers(5000), "hello", journal=journal, resume=True)
    assert again.accepted == 5000 and again.rejected == 0
    assert len(sandbox.messages()) == again.accepted
    assert again.earlier == 0  # refused and unsent rows were not settled


def test_stops_when_the_credit_runs_out_and_resumes_after_a_top_up(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "j.sqlite"
    with (
        Sandbox(api_keys=("key",), balance=Decimal("50"), price_per_part=Decimal("0.1")) as sb,
        Client(api_key="key", base_url=sb.base_url) as client,
    ):
        summary = send_many(client, numbers(3000), "hello", concurrency=1, journal=journal)
        assert summary.accepted == 500 == len(sb.messages())
        assert summary.stopped is not None and "301" in summary.stopped
        assert summary.total == 3000

        sb.set_balance(1000)
        again = send_many(client, numbers(3000), "hello", journal=journal, resume=True)
        recorded = Counter(m.to for m in sb.messages())
        assert max(recorded.values()) == 1
        assert again.accepted == len(recorded) == 3000
        assert again.earlier == 500 and again.stopped is None


def test_unknown_outcomes_are_listed_and_resent_only_when_named(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    faults = Faults(drop_after_body=1.0, max_faults=2)
    with (
        Sandbox(api_keys=("key",), balance=10**9, faults=faults) as sb,
        Client(api_key="key", base_url=sb.base_url) as client,
    ):
        summary = send_many(client, numbers(1000), "hello", concurrency=1, journal=journal)
        assert summary.unknown == 400 and len(summary.unknown_batches) == 2
        assert summary.accepted == 600
        assert len(sb.messages()) == 1000  # the dropped requests were processed
        unknown_ids = [b.client_message_id for b in summary.unknown_batches]
        assert {m.client_message_id for m in sb.messages()} >= set(unknown_ids)

        again = send_many(client, numbers(1000), "hello", journal=journal, resume=True)
        assert (again.accepted, again.unknown, again.batches) == (600, 400, 0)
        assert [b.client_message_id for b in again.unknown_batches] == unknown_ids

        chosen = send_many(
            client,
            numbers(1000),
            "hello",
            journal=journal,
            resume=True,
            resend_unknown=[unknown_ids[0]],
        )
        assert (chosen.accepted, chosen.unknown, chosen.batches) == (800, 200, 1)
        assert len(sb.messages()) == 1200  # the caller chose to send 200 again


def test_finished_batches_are_handled_in_the_order_they_were_sent() -> None:
    """However many batches finish at once, the run reads their outcomes in the order they were
    sent, so its lists (the unknown batches, `on_result`) are what a resume lists, not a set's
    order."""
    from concurrent.futures import Future

    from clickatell_sms.bulk._engine import _Run, open_outputs
    from clickatell_sms.bulk._sender import BatchBook, BatchOutcome
    from clickatell_sms.bulk._settings import RunSettings
    from clickatell_sms.config import ClientConfig
    from clickatell_sms.errors import OutcomeUnknownError

    class Dropped:
        """A pool whose batches end 32 at a time, the last sent first, each outcome unknown
        (the run has 32 in flight at most with 16 of concurrency)."""

        def __init__(self, book: BatchBook) -> None:
            self.book = book
            self.pending: list[tuple[Future[BatchOutcome], Any]] = []

        def submit(self, batch: Any) -> Future[BatchOutcome]:
            self.book.start(batch)
            future: Future[BatchOutcome] = Future()
            self.pending.append((future, batch))
            if len(self.pending) == 32:
                lost = OutcomeUnknownError("dropped", recipients=[], client_message_id=None)
                for ended, sent in reversed(self.pending):
                    ended.set_result(self.book.settle(sent, lost))
                self.pending = []
            return future

        def cancel(self) -> None:
            pass

        def close(self) -> None:
            pass

    class Settings:
        config = ClientConfig("key")

    seen: list[int] = []
    options = {"concurrency": 16, "batch_size": 1, "on_result": lambda r: seen.append(r.row)}
    settings = RunSettings.check(Settings(), "hello", options)
    with open_outputs(settings) as (journal, writer, progress):
        run = _Run(Settings.config, settings, journal, Dropped, writer=writer, progress=progress)
        summary = run.execute(numbers(128))
    assert seen == list(range(128))
    assert [b.client_message_id for b in summary.unknown_batches] == [
        f"{run.prefix}{n}" for n in range(1, 129)
    ]


def test_a_new_journal_refuses_an_existing_file(client: Client, tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    send_many(client, numbers(10), "hello", journal=journal)
    with pytest.raises(JournalError, match="exists already"):
        send_many(client, numbers(10), "hello", journal=journal)
    with pytest.raises(JournalError, match="content"):
        send_many(client, numbers(10), "other", journal=journal, resume=True)


def test_resume_checks_the_input_is_the_same(client: Client, tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    send_many(client, numbers(10), "hello", journal=journal)
    with pytest.raises(ValidationError, match="row 0"):
        send_many(client, numbers(10, 5), "hello", journal=journal, resume=True)


def test_a_failing_callback_stops_the_run_and_resume_finishes_it(
    client: Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    journal = tmp_path / "j.sqlite"
    seen = 0

    def explode(result: BulkResult) -> None:
        nonlocal seen
        seen += 1
        if seen == 700:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError) as raised:
        send_many(client, numbers(3000), "hello", journal=journal, on_result=explode)
    partial = raised.value.bulk_summary  # type: ignore[attr-defined]
    assert 0 < partial.accepted < 3000

    again = send_many(client, numbers(3000), "hello", journal=journal, resume=True)
    recorded = Counter(m.to for m in sandbox.messages())
    assert max(recorded.values()) == 1
    assert again.total == 3000 and again.accepted == len(recorded) == 3000
    assert again.unknown == 0


def test_results_file_streams_every_row(client: Client, tmp_path: Path) -> None:
    csv_out = tmp_path / "results.csv"
    jsonl_out = tmp_path / "results.jsonl"
    send_many(client, [*numbers(250), "bad"], "hello", output=csv_out)
    send_many(client, [*numbers(250), "bad"], "hello", output=jsonl_out, unique=False)
    lines = csv_out.read_text().splitlines()
    assert lines[0].startswith("row,to,number,status,api_message_id,error_code,error")
    assert len(lines) == 252
    assert sum(",accepted," in line for line in lines) == 250
    assert len(jsonl_out.read_text().splitlines()) == 251


def test_journal_records_each_batch(client: Client, tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    send_many(client, [*numbers(450), "x"], "hello", journal=journal)
    opened = Journal.resume(journal, None)
    try:
        assert opened.batch_states() == {"answered": 3}
        rows = list(opened.read_all())
        assert [r.position for r in rows] == list(range(451))
        assert Counter(r.status for r in rows) == {"accepted": 450, "failed": 1}
    finally:
        opened.close()


def test_arguments_are_checked_before_anything_is_sent(client: Client) -> None:
    with pytest.raises(ValidationError):
        send_many(client, numbers(1), "hello", concurrency=0)
    with pytest.raises(ValidationError):
        send_many(client, numbers(1), "hello", batch_size=201)
    with pytest.raises(ValidationError):
        send_many(client, numbers(1), "hello", resume=True)
    with pytest.raises(TypeError):
        send_many(client, numbers(1), "hello", colour="red")


def test_resume_sends_pending_batches_and_holds_back_sending_ones(
    client: Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    """A crash between 'pending' and 'sending' is safe to send again; after 'sending' it is not."""
    from clickatell_sms.bulk.journal import Member

    path = tmp_path / "j.sqlite"
    identity = {"content": _sha256("hello"), "options": "{}", "unique": "True"}
    journal = Journal.create(path, identity)
    rows = list(numbers(400))
    for batch_id, start in ((1, 0), (2, 200)):
        members = [Member(i, i, rows[i], rows[i], None) for i in range(start, start + 200)]
        journal.add((batch_id, f"c-{batch_id}", "hello"), members)
    journal.mark_sending(2)  # as if killed during the request of batch 2
    journal.close()

    summary = send_many(client, rows, "hello", journal=path, resume=True)
    assert [b.client_message_id for b in summary.unknown_batches] == ["c-2"]
    assert (summary.accepted, summary.unknown, summary.batches) == (200, 200, 1)
    assert {m.to for m in sandbox.messages()} == set(rows[:200])
    states = Journal.resume(path, None)
    try:
        assert states.batch_states() == {"superseded": 1, "unknown": 1, "answered": 1}
    finally:
        states.close()


def test_an_interrupt_finishes_the_requests_in_flight(client: Client, tmp_path: Path) -> None:
    def interrupt(result: BulkResult) -> None:
        if result.row == 450:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as raised:
        send_many(client, numbers(5000), "hello", journal=tmp_path / "j", on_result=interrupt)
    summary = raised.value.bulk_summary  # type: ignore[attr-defined]
    assert summary.stopped == "interrupted"
    again = send_many(client, numbers(5000), "hello", journal=tmp_path / "j", resume=True)
    assert again.accepted == 5000 and again.unknown == 0


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def test_repeats_are_recognised_after_their_keys_left_memory(tmp_path: Path) -> None:
    """Past 20,000 keys the journal keeps them in runs on disk, behind a Bloom filter."""
    journal = Journal.create(tmp_path / "j.sqlite", {})
    try:
        keys = [(i * 0x9E3779B97F4A7C15) % 2**64 - 2**63 for i in range(1, 70_001)]
        for start in range(0, len(keys), 200):
            journal.remember(
                [(key, row) for row, key in enumerate(keys[start : start + 200], start)]
            )
        wanted = [keys[0], keys[25_000], keys[45_000], keys[-1]]
        assert journal.recall(wanted) == {key: keys.index(key) for key in wanted}
        assert journal.recall([12345, -7, 2**62]) == {}
    finally:
        journal.close()
