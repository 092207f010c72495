"""`report`: the funnel, time to delivery and failure reasons of a campaign, in the terminal, as
JSON, as one CSV row per recipient and as an HTML page; and `--refresh`, which looks up the
silent messages within a rate limit, resumably, never twice in one run."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clickatell_sms import Client
from clickatell_sms.bulk import send_many
from clickatell_sms.bulk.delivery import open_delivery
from clickatell_sms.callbacks import CallbackReceiver, parse_status_callback
from clickatell_sms.callbacks.listener import CallbackServer
from clickatell_sms.report import build_report
from clickatell_sms.report.export import CSV_COLUMNS
from clickatell_sms.report.model import STATES
from clickatell_sms.report.refresh import refresh
from clickatell_sms.sandbox import Sandbox

SECRET = "delivery-report-test-secret"
KEY = "sandbox-key"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clickatell_sms.cli", "report", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def numbers(count: int) -> list[str]:
    return [f"2784{i:06d}0" for i in range(count)]


@dataclass
class Campaign:
    journal: Path
    sandbox: Sandbox
    rows: int


@pytest.fixture
def campaign(tmp_path: Path) -> Iterator[Campaign]:
    """1,000 numbers, a bad row, a repeat and a number the sandbox refuses, sent with callbacks
    into the journal: 10% end in failures, 20% of the callbacks are lost."""
    journal = tmp_path / "run.sqlite"
    rows = [*numbers(1000), "not a number", numbers(1)[0], "447700900114"]
    with (
        CallbackReceiver(secret=SECRET, journal=journal) as receiver,
        CallbackServer(receiver) as server,
        Sandbox(
            api_keys=(KEY,),
            callback_url=f"{server.url}?token={SECRET}",
            status_delays=(0.02, 0.05),
            failure_rate=0.1,
            callback_loss=0.2,
            seed=4,
        ) as sb,
    ):
        with Client(KEY, base_url=sb.base_url) as client:
            assert send_many(client, rows, "hi", journal=journal).accepted == 1000
        time.sleep(0.2)
        assert sb.wait_for_callbacks(60)
        yield Campaign(journal, sb, len(rows))


def test_the_report_counts_every_row_once_in_the_terminal_and_as_json(campaign: Campaign) -> None:
    text = cli(str(campaign.journal))
    assert text.returncode == 0, text.stderr
    for stage in ("rows", "sent", "accepted by the API", "delivered to the gateway"):
        assert re.search(rf"^  {stage} +[\d,]+ ", text.stdout, re.M), text.stdout
    assert "time to delivery (" in text.stdout and "p99" in text.stdout
    assert "most common failure reasons:" in text.stdout

    report = json.loads(cli(str(campaign.journal), "--json").stdout)
    funnel, states = report["funnel"], report["states"]
    assert set(states) == set(STATES) and sum(states.values()) == funnel["rows"] == campaign.rows
    assert (states["not_sent"], states["duplicate"], states["rejected"]) == (1, 1, 1)
    assert funnel["sent"] == 1001 and funnel["accepted"] == 1000
    assert funnel["received"] + funnel["failed"] + funnel["expired"] + funnel["pending"] == 1000
    assert 150 < funnel["pending"] < 260  # a final callback lost 1 time in 5
    truth = [campaign.sandbox.status(m.api_message_id) for m in campaign.sandbox.messages()]
    failed = sum(1 for s in truth if s.is_failure)
    assert funnel["failed"] + funnel["expired"] <= failed  # the rest are among the pending
    reasons = report["failure_reasons"]
    assert 0 < len(reasons) <= 10 and reasons == sorted(reasons, key=lambda r: -r["count"])
    assert {"kind": "error", "code": 114} in [
        {"kind": r["kind"], "code": r["code"]} for r in reasons
    ]
    delays = report["time_to_delivery"]
    assert delays["count"] == funnel["received"]
    # from the journal's record of the answer (which a loaded machine writes late) to receipt
    assert delays["p50_s"] <= delays["p90_s"] <= delays["p99_s"] <= delays["max_s"] < 10


def test_the_csv_has_one_row_per_recipient_with_its_final_status(
    campaign: Campaign, tmp_path: Path
) -> None:
    out = tmp_path / "rows.csv"
    done = cli(str(campaign.journal), "--csv", str(out), "--json")
    assert done.returncode == 0, done.stderr
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [int(r["row"]) for r in rows] == list(range(campaign.rows))  # input order, once each
    by_state = {state: sum(1 for r in rows if r["state"] == state) for state in STATES}
    assert by_state == json.loads(done.stdout)["states"]
    truth = {
        m.api_message_id: campaign.sandbox.status(m.api_message_id)
        for m in campaign.sandbox.messages()
    }
    for row in rows:
        if row["state"] in ("received", "failed", "expired", "cancelled"):
            assert int(row["status_code"]) == truth[row["api_message_id"]].code
    bad = next(r for r in rows if r["to"] == "not a number")
    assert (bad["state"], bad["api_outcome"], bad["error"]) == ("not_sent", "failed", "invalid")


def test_the_html_page_is_one_file_with_its_charts_and_tables(
    campaign: Campaign, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    done = cli(str(campaign.journal), "--html", str(page))
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    for chart in ("funnel-chart", "timeline-chart", "histogram-chart"):
        assert f'<svg id="{chart}"' in html
    assert "<table>" in html and "Failure reasons" in html
    # self-contained: no script, nothing fetched (the SVG namespace is a name, not a fetch)
    assert "<script" not in html and "<link" not in html and " src=" not in html
    assert re.findall(r"https?://[^\s\"'<]+", html) == ["http://www.w3.org/2000/svg"] * 3
    assert not list(tmp_path.glob(".*partial"))


def test_report_usage_errors_name_the_flag_and_change_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite"
    cases = [
        ((), "name the campaign's journal"),
        ((str(missing),), "no such journal"),
        ((str(missing), "--journal", "other.sqlite"), "give the journal once"),
        ((str(tmp_path / "x"), "--older-than", "-1"), "--older-than"),
        ((str(tmp_path / "x"), "--rate-limit", "0"), "--rate-limit"),
        ((str(tmp_path / "x"), "--concurrency", "0"), "--concurrency: must be at least 1"),
    ]
    for args, expected in cases:
        done = cli(*args)
        assert done.returncode == 2 and expected in done.stderr, (args, done.stderr)
    assert not missing.exists()  # a report never makes a journal


def test_refresh_needs_a_key_and_stops_resumably_when_it_is_refused(campaign: Campaign) -> None:
    journal = str(campaign.journal)
    done = cli(journal, "--refresh", env={"PATH": ""})
    assert done.returncode == 2 and "CLICKATELL_API_KEY" in done.stderr
    base = campaign.sandbox.base_url
    wrong = cli(journal, "--refresh", "--older-than", "0", "--api-key", "wrong", "--base-url", base)
    assert wrong.returncode == 3, wrong.stderr
    assert "the refresh stopped: AuthenticationError" in wrong.stderr
    right = cli(journal, "--refresh", "--older-than", "0", "--rate-limit", "1000", "--json",
                "--api-key", KEY, "--base-url", base)  # fmt: skip
    assert right.returncode == 0, right.stderr
    assert "refresh (resumed):" in right.stderr
    report = json.loads(right.stdout)
    assert report["refresh"]["resumed"] and report["funnel"]["pending"] == 0


def test_a_refresh_run_resumes_where_it_stopped_and_looks_each_message_up_once(
    tmp_path: Path,
) -> None:
    """No callback URL: every message is silent. The first run stops after its first page;
    the second resumes it; across both, each message is asked about exactly once, and no
    faster than the rate limit allows."""
    journal = tmp_path / "run.sqlite"
    with (
        Sandbox(api_keys=(KEY,), status_delays=(0.0, 0.0)) as sb,
        Client(KEY, base_url=sb.base_url) as client,
    ):
        send_many(client, numbers(500), "hi", journal=journal)
        before = sb.requests_seen

        def stop_after_the_first_page(summary: object) -> None:
            raise KeyboardInterrupt

        with open_delivery(journal) as store:
            assert build_report(store).funnel.count("pending") == 500
            with pytest.raises(KeyboardInterrupt):
                refresh(
                    store, client, older_than=0, rate_limit=1000, on_page=stop_after_the_first_page
                )
            assert sb.requests_seen - before == 200  # one page
            started = time.monotonic()
            second = refresh(store, client, older_than=0, rate_limit=300, concurrency=4)
            took = time.monotonic() - started
            assert second.resumed and second.looked_up == 500 and second.final == 300
            assert sb.requests_seen - before == 500  # nobody twice
            assert took >= (300 - 4) / 300  # the rate limit held (its burst is the concurrency)
            third = refresh(store, client, older_than=0, rate_limit=1000)
            assert not third.resumed and third.looked_up == 0  # nothing left without news
            assert sb.requests_seen - before == 500
            report = build_report(store)
    assert report.funnel.count("received") == 500 and report.by_lookup == 500


def test_older_than_leaves_messages_with_recent_news_alone(tmp_path: Path) -> None:
    journal = tmp_path / "run.sqlite"
    with (
        Sandbox(api_keys=(KEY,)) as sb,
        Client(KEY, base_url=sb.base_url) as client,
    ):
        send_many(client, numbers(50), "hi", journal=journal)
        with open_delivery(journal) as store:
            summary = refresh(store, client, older_than=600, rate_limit=100)
        assert summary.looked_up == 0


def test_a_journal_the_listener_made_before_any_campaign_reports_its_unknown_callbacks(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "run.sqlite"
    with CallbackReceiver(secret=SECRET, journal=journal) as receiver:
        for n in range(3):
            receiver.sinks[0].take(parse_status_callback({"messageId": f"m{n}", "statusCode": 4}))
    done = cli(str(journal), "--json")
    report = json.loads(done.stdout)
    assert report["campaign"] is None and report["funnel"]["rows"] == 0
    assert report["callbacks"]["unknown_messages"] == 3
    assert "no campaign journalled yet" in cli(str(journal)).stdout


def _bulk_with_journal(tmp_path: Path, sb: Sandbox) -> tuple[int, Path]:
    from clickatell_sms.cli import main

    csv_file, journal = tmp_path / "r.csv", tmp_path / "run.sqlite"
    csv_file.write_text("to\n" + "\n".join(numbers(300)) + "\n")
    connection = ["--api-key", KEY, "--base-url", sb.base_url, "--progress", "none"]
    status = main(
        ["bulk", "--csv", str(csv_file), "--text", "hi", "--journal", str(journal), *connection]
    )
    return status, journal


def test_bulk_leaves_its_rows_indexed_so_the_first_report_starts_warm(tmp_path: Path) -> None:
    """(From Python, `send_many` leaves the indexing to the report, as the journal tests show.)"""
    with Sandbox(api_keys=(KEY,)) as sb:
        status, journal = _bulk_with_journal(tmp_path, sb)
    assert status == 0
    with open_delivery(journal) as store:
        assert store.query("SELECT COUNT(*) FROM delivery_messages") == [(300,)]
        assert store.sync() == 0  # nothing left for the report to do first


def test_ctrl_c_while_bulk_indexes_skips_the_indexing_and_keeps_the_runs_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from clickatell_sms.bulk import _delivery_base

    def interrupted(self: object, stop: object = None) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(_delivery_base.DeliveryStore, "sync", interrupted)
    with Sandbox(api_keys=(KEY,)) as sb:
        status, journal = _bulk_with_journal(tmp_path, sb)
    assert status == 0  # every row was accepted: the skipped indexing changes nothing
    assert "indexing skipped; `report` will index the rows" in capsys.readouterr().err
    monkeypatch.undo()
    with open_delivery(journal) as store:
        assert store.query("SELECT COUNT(*) FROM delivery_messages") == [(0,)]
        assert build_report(store).funnel.accepted == 300  # the report indexed them itself
