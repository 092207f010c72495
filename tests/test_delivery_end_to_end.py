"""Know what was delivered, end to end on one host, with the real commands in their own
processes: `sandbox` (callbacks, 10% of them lost), `listen --journal`, `bulk --journal` and
`report` (`--json`, `--csv`, `--refresh`). Then the rule that bad callbacks change nothing:
replayed, reversed, unknown or forged.

Costs on the 2-core machine: the 20,000-row campaign about a minute (its 54,000 callbacks go
through real HTTP, one listener process), the bad-callbacks test a few seconds.
"""

from __future__ import annotations

import csv
import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clickatell_sms import Client
from clickatell_sms.bulk import send_many
from clickatell_sms.bulk.delivery import open_delivery
from clickatell_sms.callbacks import CallbackReceiver
from clickatell_sms.callbacks.listener import CallbackServer
from clickatell_sms.report import build_report
from clickatell_sms.sandbox import Sandbox
from clickatell_sms.sandbox.timeline import unit_draw

SECRET = "end-to-end-callback-secret-01"
KEY = "sandbox-key"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clickatell_sms.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def numbers(count: int) -> list[str]:
    return [f"2783{i:06d}0" for i in range(count)]


def start_listen(journal: str, secret: str = SECRET) -> tuple[subprocess.Popen[str], int]:
    """`clickatell-sms listen --journal JOURNAL` in its own process, and its port."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "clickatell_sms.cli", "listen", "--port", "0", "--quiet",
         "--secret", secret, "--journal", journal],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    port = None
    for line in proc.stderr:
        found = re.search(r"listening for callbacks on http://127\.0\.0\.1:(\d+)/", line)
        port = int(found.group(1)) if found else port
        if line.startswith("waiting for callbacks"):
            break
    assert port is not None, "listen did not start"
    return proc, port


class Processes:
    """The long-running commands a test started; stopped (SIGTERM, then SIGKILL) after it."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen[str]] = []

    def listen(self, journal: Path) -> tuple[subprocess.Popen[str], int]:
        proc, port = start_listen(str(journal))
        self.running.append(proc)
        return proc, port

    def sandbox(self, *args: str) -> str:
        proc = self._start("sandbox", *args)
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Clickatell sandbox listening on "), first
        return first.split()[-1]

    def _start(self, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "clickatell_sms.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[str]) -> str:
        """SIGTERM, and what it said on stderr since."""
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        return err

    def stop_all(self) -> None:
        for proc in self.running:
            if proc.poll() is None:
                self.stop(proc)


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    try:
        yield started
    finally:
        started.stop_all()


def sandbox_record(base_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{base_url}/_sandbox/messages", timeout=60) as answer:
        records: list[dict[str, Any]] = json.load(answer)
    return records


def latest_codes(journal: Path) -> tuple[Counter[int], int]:
    """(stored statuses by code, messages seen at the gateway), read beside the listener."""
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=30)
    try:
        codes = Counter(
            {
                code: n
                for code, n in db.execute(
                    "SELECT status_code, COUNT(*) FROM delivery_status GROUP BY 1"
                )
            }
        )
        (gateway,) = db.execute(
            "SELECT COUNT(*) FROM delivery_status WHERE gateway_at IS NOT NULL"
        ).fetchone()
    finally:
        db.close()
    return codes, int(gateway)


def expected_callbacks(
    records: list[dict[str, Any]], seed: int, loss: float
) -> tuple[Counter[int], int, int]:
    """What the listener must end with, drawn as the sandbox draws its losses: each message's
    latest status that was not lost, how many reached the gateway, and how many lost their
    final callback."""
    latest: Counter[int] = Counter()
    gateway = finals_lost = 0
    for record in records:
        kept = [
            code
            for code in (2, 3, 4)
            if unit_draw(seed, f"{record['apiMessageId']}:{code}", "callback-loss") >= loss
        ]
        if kept:
            latest[kept[-1]] += 1
        gateway += bool({3, 4} & set(kept))
        finals_lost += 4 not in kept
    return latest, gateway, finals_lost


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_20000_row_campaign_end_to_end_callbacks_lost_refreshed_and_confirmed(
    processes: Processes, tmp_path: Path
) -> None:
    journal = tmp_path / "run.sqlite"
    seed, loss, rows = 5, 0.1, 20_000
    listener, port = processes.listen(journal)  # first: the journal does not exist yet
    base_url = processes.sandbox(
        "--callback-url", f"http://127.0.0.1:{port}/?token={SECRET}",
        "--status-delays", "0.1", "0.1", "--callback-loss", str(loss), "--seed", str(seed),
    )  # fmt: skip
    people = tmp_path / "people.csv"
    people.write_text("to\n" + "".join(f"{n}\n" for n in numbers(rows)))
    env = {**os.environ, "CLICKATELL_API_KEY": KEY, "CLICKATELL_BASE_URL": base_url}
    sent = cli("bulk", "--csv", str(people), "--text", "hi", "--journal", str(journal),
               "--json", "--progress", "none", env=env)  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout.splitlines()[-1])["accepted"] == rows

    records = sandbox_record(base_url)
    assert len(records) == rows
    latest, at_gateway, finals_lost = expected_callbacks(records, seed, loss)
    deadline = time.monotonic() + 400
    while latest_codes(journal) != (latest, at_gateway):
        assert time.monotonic() < deadline, f"callbacks still missing: {latest_codes(journal)}"
        time.sleep(0.5)

    report = json.loads(cli("report", str(journal), "--json").stdout)
    funnel, states = report["funnel"], report["states"]
    assert sum(states.values()) == funnel["rows"] == rows  # every row counted exactly once
    assert funnel["received"] + funnel["pending"] == funnel["accepted"] == rows
    assert funnel["pending"] == finals_lost and 0.08 * rows < finals_lost < 0.12 * rows
    assert funnel["delivered_to_gateway"] == at_gateway
    assert report["callbacks"]["unknown_messages"] == 0

    refreshed = cli("report", str(journal), "--refresh", "--older-than", "0",
                    "--rate-limit", "2000", "--json", "--csv", str(tmp_path / "rows.csv"), env=env)  # fmt: skip
    assert refreshed.returncode == 0, refreshed.stderr
    after = json.loads(refreshed.stdout)
    assert after["refresh"]["looked_up"] == finals_lost and after["refresh"]["final"] == finals_lost
    assert after["funnel"]["pending"] == 0
    assert (
        after["funnel"]["received"]
        == after["callbacks"]["statuses_from_lookups"] + rows - finals_lost
    )

    truth = {r["apiMessageId"]: (r["statusCode"], r["status"]) for r in sandbox_record(base_url)}
    with (tmp_path / "rows.csv").open(newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == rows and len({row["row"] for row in table}) == rows
    for row in table:  # the sandbox's record confirms every final status
        assert (int(row["status_code"]), row["status"]) == truth[row["api_message_id"]], row
        assert row["state"] == "received"
    said = processes.stop(listener)
    assert "status callbacks written" in said


def _post(port: int, payloads: list[dict[str, Any]], token: str = SECRET) -> Counter[int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    answers: Counter[int] = Counter()
    for payload in payloads:
        connection.request(
            "POST", f"/?token={token}", json.dumps(payload), {"Content-Type": "application/json"}
        )
        answer = connection.getresponse()
        answer.read()
        answers[answer.status] += 1
    connection.close()
    return answers


def _replayed(
    journal: Path, copy: Path, payloads: list[dict[str, Any]], token: str = SECRET
) -> tuple[dict[str, Any], Counter[int]]:
    """The campaign's journal (no callbacks yet) copied, the payloads posted to a listener on
    the copy, and its report."""
    shutil.copy(journal, copy)
    with (
        CallbackReceiver(secret=SECRET, journal=copy) as receiver,
        CallbackServer(receiver) as server,
    ):
        answers = _post(int(server.url.rsplit(":", 1)[1].rstrip("/")), payloads, token)
    with open_delivery(copy) as store:
        report = build_report(store).to_dict()
    for volatile in ("journal", "generated_at"):
        report.pop(volatile)
    return report, answers


def test_bad_callbacks_change_nothing_replayed_reversed_unknown_or_forged(tmp_path: Path) -> None:
    journal = tmp_path / "run.sqlite"
    collected: list[object] = []
    receiver = CallbackReceiver(on_status=collected.append, secret=SECRET)
    with (
        CallbackServer(receiver) as collector,
        Sandbox(
            api_keys=(KEY,),
            callback_url=f"{collector.url}?token={SECRET}",
            status_delays=(0.02, 0.02),
            failure_rate=0.1,
            seed=2,
        ) as sb,
    ):
        with Client(KEY, base_url=sb.base_url) as client:
            summary = send_many(client, [*numbers(1000), "bad row"], "hi", journal=journal)
        assert summary.accepted == 1000
        time.sleep(0.1)
        assert sb.wait_for_callbacks(120)
        payloads = [d.payload for d in sb.callbacks() if d.ok]
    assert len(payloads) == len(collected) > 2000

    in_order = sorted(payloads, key=lambda p: int(p["timestamp"]))
    baseline, answers = _replayed(journal, tmp_path / "a.sqlite", in_order)
    assert answers == {200: len(in_order)}
    funnel = baseline["funnel"]
    assert funnel["rows"] == 1001 and funnel["accepted"] == 1000 and funnel["pending"] == 0
    assert funnel["received"] + funnel["failed"] + funnel["expired"] == 1000
    assert funnel["failed"] + funnel["expired"] > 60  # the 10% drawn from the status list

    twice, _ = _replayed(journal, tmp_path / "b.sqlite", [p for p in in_order for _ in (1, 2)])
    assert twice == baseline
    reversed_, _ = _replayed(journal, tmp_path / "c.sqlite", in_order[::-1])
    assert reversed_ == baseline

    strangers = [
        {"messageId": f"{n:032x}", "statusCode": 4, "status": "RECEIVED_BY_RECIPIENT",
         "timestamp": str(1_800_000_000_000 + n)}
        for n in range(100)
    ]  # fmt: skip
    unknown, answers = _replayed(journal, tmp_path / "d.sqlite", in_order + strangers)
    assert answers == {200: len(in_order) + 100}
    assert unknown["callbacks"]["unknown_messages"] == 100
    unknown["callbacks"] = baseline["callbacks"]
    assert unknown == baseline  # counted apart, nowhere in the funnel

    forged = [{**p, "statusCode": 7, "status": "ERROR_DELIVERING"} for p in in_order]
    shutil.copy(tmp_path / "a.sqlite", tmp_path / "e.sqlite")
    with (
        CallbackReceiver(secret=SECRET, journal=tmp_path / "e.sqlite") as receiver,
        CallbackServer(receiver) as server,
    ):
        port = int(server.url.rsplit(":", 1)[1].rstrip("/"))
        assert _post(port, forged[:50], token="not-the-secret-0123456789") == {401: 50}
    with open_delivery(tmp_path / "e.sqlite") as store:
        after = build_report(store).to_dict()
    after.pop("journal"), after.pop("generated_at")
    assert after == baseline
