"""Opt-outs, kept: the keyword rule, the store (SQLite, and PostgreSQL where scripts/test runs
one), the listener's reply sink over real HTTP, and what sends do with the numbers in it: every
send here goes to a real sandbox over loopback, and the sandbox's record is the judge of what
was sent."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import stat
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from clickatell_sms import Client
from clickatell_sms.async_client import AsyncClient
from clickatell_sms.bulk import BulkResult, BulkStorageError, send_many
from clickatell_sms.bulk.delivery import open_delivery
from clickatell_sms.bulk.journal import OptOutsUnreadableError
from clickatell_sms.callbacks import CallbackReceiver
from clickatell_sms.callbacks.listener import CallbackServer
from clickatell_sms.callbacks.parsing import ReplyCallback, parse_reply_callback
from clickatell_sms.callbacks.sinks import OptOutSink
from clickatell_sms.config import opt_outs_location, user_data_folder
from clickatell_sms.errors import ValidationError
from clickatell_sms.numbers import normalize_number
from clickatell_sms.opt_outs import (
    Entry,
    Keywords,
    OptOut,
    OptOutStore,
    OptOutStoreError,
    open_opt_outs,
)
from clickatell_sms.report import build_report
from clickatell_sms.sandbox import Sandbox

from .conftest import SHARED_SERVICES

POSTGRES = os.environ.get("CLICKATELL_TEST_POSTGRES_URL")
SECRET = "opt-outs-callback-secret-0001"


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"2783{i:06d}0" for i in range(start, start + count)]


def reply(text: str | None, sender: str = "27830000010", *, at_ms: int | None = None,
          reply_id: str | None = None) -> ReplyCallback:  # fmt: skip
    fields = {
        "messageId": uuid.uuid4().hex,
        "replyMessageId": reply_id or uuid.uuid4().hex,
        "fromNumber": sender,
        "toNumber": "27870000000",
        "timestamp": str(at_ms if at_ms is not None else int(time.time() * 1000)),
    }
    if text is not None:
        fields["text"] = text
    return parse_reply_callback(fields)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own on the test server, dropped after."""
    psycopg = pytest.importorskip("psycopg")

    assert POSTGRES
    name = f"optouts_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield urlsplit(POSTGRES)._replace(path=f"/{name}").geturl()  # the URL form users give
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=SHARED_SERVICES)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OptOutStore]:
    if request.param == "sqlite":
        with contextlib.closing(open_opt_outs(tmp_path / "opt-outs.sqlite")) as opened:
            yield opened
        return
    if not POSTGRES:
        pytest.skip("needs PostgreSQL: run scripts/test (or eval $(scripts/services start))")
    with postgres_database() as dsn, contextlib.closing(open_opt_outs(dsn)) as opened:
        password = urlsplit(dsn).password
        assert type(opened).__name__ == "PostgresOptOuts"
        assert password and password not in opened.location
        yield opened


def rows_of(store: OptOutStore, table: str) -> list[tuple[Any, ...]]:
    """A table of the store, read with SQL of its own (the record the docs promise)."""
    run = store._run  # type: ignore[attr-defined]
    name = getattr(store, f"_{table}")
    with store._lock:  # type: ignore[attr-defined]
        return [tuple(row) for row in run(f"SELECT * FROM {name} ORDER BY 1").fetchall()]


# -- the keyword rule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["stop", " Stop ", "STOP", "\tsToP\n", "Stop\u00a0", "STOPALL", "unsubscribe", "Cancel",
     "END", "quit"],
)  # fmt: skip
def test_a_stop_keyword_alone_in_any_case_and_trimmed_opts_out(text: str) -> None:
    matched = Keywords().match(text)
    assert matched is not None and matched[0] == "opt-out"


@pytest.mark.parametrize(
    "text",
    ["Please stop texting me", "STOP.", "stop please", "don't stop", "STOPP", "S T O P", "",
     "   ", None],
)  # fmt: skip
def test_a_sentence_or_another_word_is_not_a_keyword(text: str | None) -> None:
    assert Keywords().match(text) is None


def test_start_and_unstop_opt_back_in() -> None:
    assert Keywords().match(" start ") == ("opt-in", "START")
    assert Keywords().match("Unstop") == ("opt-in", "UNSTOP")


def test_the_keyword_lists_can_be_configured_and_replace_the_defaults() -> None:
    words = Keywords.from_lists(stop="STOPP, arrêt", start="GO")
    assert words.match("ARRÊT") == ("opt-out", "arrêt")
    assert words.match("stop") is None  # replaced, not added to
    assert words.match("go") == ("opt-in", "GO")
    with pytest.raises(ValidationError, match="cannot both stop and start"):
        Keywords.from_lists(stop="STOP,GO", start="go")
    with pytest.raises(ValidationError, match="empty word"):
        Keywords.from_lists(stop="STOP,,END")


# -- the store --------------------------------------------------------------------------------


def test_a_stop_reply_opts_out_every_spelling_of_its_number(store: OptOutStore) -> None:
    outcome = store.record_reply(reply(" Stop ", sender="27821234567"), Keywords())
    assert (outcome.action, outcome.number, outcome.applied) == ("opt-out", "27821234567", True)
    spellings = ["+27 82 123 4567", "0027821234567", "27821234567"]
    keys = {normalize_number(s) for s in spellings} | {
        normalize_number("082 123 4567", default_region="ZA")
    }
    assert keys == {"27821234567"}
    found = store.opted_out(["27821234567", "27821234568"])
    assert list(found) == ["27821234567"]
    record = found["27821234567"]
    assert (record.keyword, record.source) == ("STOP", "reply")
    assert "replied STOP on" in record.describe()


def test_start_brings_a_number_back_and_the_later_change_wins_whatever_arrives_first(
    store: OptOutStore,
) -> None:
    words, number = Keywords(), "27821230001"
    assert store.record_reply(reply("STOP", number, at_ms=2_000_000), words).applied
    late_start = store.record_reply(reply("START", number, at_ms=1_000_000), words)
    assert late_start.action == "opt-in" and not late_start.applied  # sent before the STOP
    assert number in store.opted_out([number])
    assert store.record_reply(reply("start", number, at_ms=3_000_000), words).applied
    assert store.opted_out([number]) == {}
    # a tie keeps the number out: the safe direction
    store.record_reply(reply("START", "27821230002", at_ms=5_000_000), words)
    store.record_reply(reply("STOP", "27821230002", at_ms=5_000_000), words)
    assert "27821230002" in store.opted_out(["27821230002"])


def test_every_reply_is_kept_once_with_its_text(store: OptOutStore) -> None:
    words = Keywords()
    thanks = reply("Thanks, see you Monday", "27821230003", reply_id="reply-1")
    assert store.record_reply(thanks, words).action is None
    again = store.record_reply(thanks, words)  # Clickatell sends a callback again
    assert again.replay and not again.applied
    store.record_reply(reply("STOP", "27821230003", reply_id="reply-2"), words)
    kept = rows_of(store, "replies")
    assert [(r[1], r[6], r[8]) for r in kept] == [
        ("reply-1", "Thanks, see you Monday", None),
        ("reply-2", "STOP", "opt-out"),
    ]
    assert store.count() == 1


def test_a_change_by_hand_wins_over_every_earlier_one_and_all_are_in_the_history(
    store: OptOutStore,
) -> None:
    number = "27821230004"
    future = int((time.time() + 3600) * 1000)  # a handset whose clock runs an hour ahead
    store.record_reply(reply("STOP", number, at_ms=future), Keywords())
    assert store.opt_in(number)  # by hand, now: wins although "now" is before that STOP
    assert store.opted_out([number]) == {}
    assert not store.opt_in(number)  # nothing to change
    assert store.opt_out(number, keyword="phoned in")
    assert store.opted_out([number])[number].source == "manual"
    history = rows_of(store, "changes")
    assert [(r[2], r[6], r[8]) for r in history] == [
        (1, "reply", 1),
        (0, "manual", 1),
        (0, "manual", 1),
        (1, "manual", 1),
    ]


def test_an_import_of_many_and_the_list_in_pages(store: OptOutStore) -> None:
    entries = [Entry(n, "STOP") for n in numbers(4500)]
    dated = datetime(2023, 5, 1, tzinfo=UTC).timestamp()
    entries.append(Entry("27821230005", None, dated))
    assert store.opt_out_many(iter(entries)) == 4501
    listed = list(store.iter_opt_outs())  # three pages of 2,000
    assert len(listed) == store.count() == 4501
    assert [o.number for o in listed] == sorted(o.number for o in listed)
    kept = {o.number: o for o in listed}["27821230005"]
    assert (kept.at, kept.source, kept.when) == (dated, "import", "2023-05-01T00:00:00Z")


def test_the_default_store_is_one_file_in_the_user_data_folder_for_its_owner_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CLICKATELL_OPT_OUTS")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    expected = tmp_path / "data" / "clickatell-sms" / "opt-outs.sqlite"
    assert user_data_folder() == expected.parent
    assert opt_outs_location() == str(expected)
    with contextlib.closing(open_opt_outs()) as opened:
        assert opened.location == str(expected)
    assert stat.S_IMODE(expected.stat().st_mode) == 0o600
    assert stat.S_IMODE(expected.parent.stat().st_mode) == 0o700
    # a PostgreSQL journal keeps its campaign's opt-outs where every worker reads them: the
    # variable names the store, unless it is a file the workers could not share
    assert opt_outs_location(journal="postgresql://db/campaigns") == "postgresql://db/campaigns"
    monkeypatch.setenv("CLICKATELL_OPT_OUTS", str(tmp_path / "mine.sqlite"))
    assert opt_outs_location() == str(tmp_path / "mine.sqlite")
    assert opt_outs_location(journal=tmp_path / "run.sqlite") == str(tmp_path / "mine.sqlite")
    assert opt_outs_location(journal="postgresql://db/x") == "postgresql://db/x"
    monkeypatch.setenv("CLICKATELL_OPT_OUTS", "postgresql://db/opt-outs")
    assert opt_outs_location(journal="postgresql://db/x") == "postgresql://db/opt-outs"
    assert opt_outs_location("given.sqlite", journal="postgresql://db/x") == "given.sqlite"


def test_a_store_that_cannot_be_opened_says_where_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OptOutStoreError, match="give it as a postgresql:// URL"):
        open_opt_outs("host=db.internal dbname=campaigns user=bulk")
    assert list(tmp_path.iterdir()) == []  # not taken for a file name
    with pytest.raises(OptOutStoreError, match="does not exist"):
        open_opt_outs(tmp_path / "no-such-folder" / "opt-outs.sqlite")
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(OptOutStoreError, match="not an opt-out store"):
        open_opt_outs(tmp_path / "junk.sqlite")
    with pytest.raises(OptOutStoreError, match="is a folder"):
        open_opt_outs(tmp_path)


# -- the listener's sink, over HTTP --------------------------------------------------------------


@contextlib.contextmanager
def listening(sink: OptOutSink) -> Iterator[str]:
    receiver = CallbackReceiver(secret=SECRET, sinks=[sink])
    with CallbackServer(receiver) as server:
        yield server.url


def post(url: str, fields: dict[str, str], *, secret: str | None = SECRET) -> int:
    target = url if secret is None else f"{url}?token={secret}"
    request = urllib.request.Request(
        target, json.dumps(fields).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def reply_fields(text: str, sender: str, *, to: str = "27870000000") -> dict[str, str]:
    """A reply callback's fields, as Clickatell posts them (JSON)."""
    return {
        "messageId": uuid.uuid4().hex,
        "replyMessageId": uuid.uuid4().hex,
        "fromNumber": sender,
        "toNumber": to,
        "text": text,
        "charset": "UTF-8",
        "timestamp": str(int(time.time() * 1000)),
    }


def test_the_sink_keeps_replies_refuses_forged_ones_and_answers_503_when_the_store_fails(
    tmp_path: Path,
) -> None:
    path = tmp_path / "opt-outs.sqlite"
    sink = OptOutSink(path)
    with listening(sink) as url:
        assert post(url, reply_fields("STOP", "27821230006")) == 200
        assert post(url, reply_fields("STOP", "27821230007"), secret=None) == 401
        assert post(url, reply_fields("STOP", "27821230008"), secret="wrong-secret-000000") == 401
        assert post(url, reply_fields("Please stop texting me", "27821230009")) == 200
        with contextlib.closing(open_opt_outs(path)) as reader:
            assert set(reader.opted_out(["27821230006", "27821230007", "27821230009"])) == {
                "27821230006"
            }
        sink.store.close()  # the store goes away: the reply must come again, not be lost
        assert post(url, reply_fields("STOP", "27821230010")) == 503
    assert sink.outcomes == {"opt-out": 1, "opt-in": 0, "other": 1, "replayed": 0}


# -- what sends do -----------------------------------------------------------------------------


@pytest.fixture
def opted(tmp_path: Path) -> Iterator[OptOutStore]:
    with contextlib.closing(open_opt_outs(tmp_path / "opt-outs.sqlite")) as opened:
        yield opened


def test_send_many_skips_opted_out_numbers_and_reports_them_as_a_status_of_their_own(
    opted: OptOutStore, tmp_path: Path
) -> None:
    people = numbers(60)
    opted.record_reply(reply("STOP", people[3]), Keywords())
    opted.opt_out(people[10])
    opted.opt_out(people[40])
    # one of them written nationally, one repeated later in the input
    national = "0" + people[40][2:]
    inputs = [*people[:40], national, *people[41:], people[3]]
    output = tmp_path / "rows.csv"
    with (
        Sandbox() as sb,
        Client("sandbox-key", base_url=sb.base_url, default_region="ZA") as client,
    ):
        summary = send_many(client, inputs, "hello", opt_outs=opted, output=output, batch_size=20)
        sent = {m.to for m in sb.messages()}
    assert (summary.total, summary.opted_out, summary.duplicates) == (61, 3, 1)
    assert summary.accepted == 57 == len(sent)
    assert sent.isdisjoint({people[3], people[10], people[40]})
    with output.open() as file:
        rows = list(csv.DictReader(file))
    skipped = {r["to"]: r for r in rows if r["status"] == "opted_out"}
    assert set(skipped) == {people[3], people[10], national}
    assert "replied STOP on" in skipped[people[3]]["description"]
    assert skipped[national]["number"] == people[40] and skipped[national]["error"] == "opted out"
    repeat = next(r for r in rows if r["row"] == "60")  # rows come as answered, not in order
    assert (repeat["status"], repeat["error"], repeat["duplicate_of"]) == (
        "rejected",
        "duplicate",
        "3",
    )
    assert summary.to_dict()["opted_out"] == 3 and summary.parts == 57


def test_ignore_opt_outs_sends_to_them_and_says_how_many(opted: OptOutStore) -> None:
    people = numbers(30)
    for number in people[:4]:
        opted.opt_out(number)
    with Sandbox() as sb, Client("sandbox-key", base_url=sb.base_url) as client:
        summary = send_many(client, people, "receipt #1", opt_outs=opted, ignore_opt_outs=True)
        assert len(sb.messages()) == 30
    assert (summary.accepted, summary.opted_out, summary.opt_outs_ignored) == (30, 0, 4)


def test_the_default_store_is_honoured_unless_turned_off(tmp_path: Path) -> None:
    people = numbers(10)
    with contextlib.closing(open_opt_outs()) as default:  # CLICKATELL_OPT_OUTS (conftest)
        default.opt_out(people[0])
    with Sandbox() as sb, Client("sandbox-key", base_url=sb.base_url) as client:
        honoured = send_many(client, people, "one")
        off = send_many(client, people, "two", opt_outs=False)
        to_each = [m.to for m in sb.messages()]
    assert (honoured.opted_out, honoured.accepted, off.opted_out, off.accepted) == (1, 9, 0, 10)
    assert to_each.count(people[0]) == 1
    with Client("key") as client, pytest.raises(ValidationError, match="opt_outs: cannot be used"):
        send_many(client, people, "x", opt_outs=tmp_path / "missing" / "o.sqlite")


def test_an_opt_out_recorded_during_a_run_keeps_the_batches_formed_after_it_from_that_number(
    opted: OptOutStore,
) -> None:
    people = numbers(200)
    late = people[-1]

    def on_result(result: BulkResult) -> None:
        if result.row == 0:  # the first batch is answered: the reply arrives now
            opted.record_reply(reply("STOP", late), Keywords())

    with Sandbox() as sb, Client("sandbox-key", base_url=sb.base_url) as client:
        summary = send_many(
            client, people, "hi", opt_outs=opted, batch_size=10, concurrency=1,
            on_result=on_result,
        )  # fmt: skip
        sent = {m.to for m in sb.messages()}
    assert late not in sent and len(sent) == 199
    assert summary.opted_out == 1


class _FailingCheck:
    """A store that answers twice and then cannot be read (its database went away)."""

    location = "a store that fails"

    def __init__(self) -> None:
        self.calls = 0

    def opted_out(self, numbers: list[str]) -> dict[str, OptOut]:
        self.calls += 1
        if self.calls > 2:
            raise OptOutStoreError("the database went away")
        return {}


def test_a_store_that_cannot_be_read_stops_the_run_with_nothing_more_sent() -> None:
    with Sandbox() as sb, Client("sandbox-key", base_url=sb.base_url) as client:
        with pytest.raises(OptOutsUnreadableError) as caught:
            send_many(client, numbers(100), "hi", opt_outs=_FailingCheck(), batch_size=10,
                      concurrency=1)  # fmt: skip
        sent = len(sb.messages())
    assert isinstance(caught.value, BulkStorageError)
    summary = caught.value.bulk_summary
    assert sent == 20 == summary.accepted  # type: ignore[attr-defined]
    assert "opt-out store could not be read" in summary.stopped  # type: ignore[attr-defined]


def test_the_asyncio_engine_skips_them_too(opted: OptOutStore) -> None:
    people = numbers(50)
    opted.opt_out(people[7])

    async def run(base_url: str) -> Any:
        async with AsyncClient("sandbox-key", base_url=base_url) as client:
            return await client.send_many(people, "hello", opt_outs=opted, batch_size=10)

    with Sandbox() as sb:
        summary = asyncio.run(run(sb.base_url))
        sent = {m.to for m in sb.messages()}
    assert (summary.opted_out, summary.accepted) == (1, 49) and people[7] not in sent


def test_client_send_is_unchanged_unless_given_opt_outs(opted: OptOutStore, tmp_path: Path) -> None:
    people = numbers(3)
    opted.opt_out(people[1])
    with Sandbox() as sb, Client("sandbox-key", base_url=sb.base_url) as client:
        plain = client.send(people, "one")
        checked = client.send([*people, people[1]], "two", opt_outs=opted)
        requests_before = sb.requests_seen
        nobody = client.send([people[1]], "three", opt_outs=tmp_path / "opt-outs.sqlite")
        assert sb.requests_seen == requests_before  # no request at all
        sent = [(m.to, m.content) for m in sb.messages()]
    assert all(r.accepted for r in plain)
    assert [r.accepted for r in checked] == [True, False, True, False]
    assert (checked[1].error, checked[3].error) == ("opted out", "opted out")
    assert "opted out (manual)" in (checked[1].description or "")
    assert not nobody[0].accepted and nobody[0].error == "opted out"
    assert (people[1], "two") not in sent and (people[1], "one") in sent


def test_the_report_counts_opted_out_rows_apart_and_a_resume_keeps_them(
    opted: OptOutStore, tmp_path: Path
) -> None:
    people = numbers(40)
    for number in people[:5]:
        opted.opt_out(number)
    journal = tmp_path / "run.sqlite"
    with Sandbox() as sb, Client("sandbox-key", base_url=sb.base_url) as client:
        send_many(client, people, "hello", journal=journal, opt_outs=opted)
        opted.opt_in(people[0])  # back in after the campaign: a resume does not send it
        again = send_many(client, people, "hello", journal=journal, resume=True, opt_outs=opted)
        sent = [m.to for m in sb.messages()]
    assert (again.earlier, again.opted_out, again.accepted) == (40, 5, 35)
    assert people[0] not in sent and len(sent) == 35
    with open_delivery(journal) as store:
        report = build_report(store)
    assert report.funnel.by_state["opted_out"] == 5
    assert (report.funnel.rows, report.funnel.sent) == (40, 35)
    assert report.to_dict()["states"]["opted_out"] == 5
