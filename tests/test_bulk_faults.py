"""Bulk sends against a failing network: 100,000 recipients with injected faults, and a run killed
with SIGKILL half-way and resumed. In both, no recipient may be accepted twice at the sandbox and
the summary must account for every row exactly once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clickatell_sms.bulk import STATUSES, BulkResult, send_many
from clickatell_sms.client import Client
from clickatell_sms.sandbox import (
    BLOCKED_NUMBER,
    CANNOT_ROUTE_NUMBER,
    OPTED_OUT_NUMBER,
    Faults,
    Sandbox,
)

TEST_REFUSED = (CANNOT_ROUTE_NUMBER, BLOCKED_NUMBER, OPTED_OUT_NUMBER)  # refused per recipient


def numbers(count: int) -> Iterator[str]:
    """Sequential numbers, with the sandbox's three refusing test numbers a quarter, a half and
    three quarters of the way through."""
    spots = {count // 4: 0, count // 2: 1, 3 * count // 4: 2}
    for i in range(count):
        yield TEST_REFUSED[spots[i]] if i in spots else f"2782{i:07d}"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_100k_recipients_with_faults_settle_exactly_once() -> None:
    count = 100_000
    faults = Faults(latency=(0.0, 0.01), rate_503=0.10, drop_after_body=0.02, retry_after=1)
    results: dict[int, BulkResult] = {}

    def record(result: BulkResult) -> None:
        assert result.row not in results, f"row {result.row} reported twice"
        results[result.row] = result

    with (
        Sandbox(api_keys=("key",), balance=10**9, faults=faults, seed=11) as sb,
        Client(api_key="key", base_url=sb.base_url, max_connections=8) as client,
    ):
        summary = send_many(client, numbers(count), "hello", concurrency=8, on_result=record)
        recorded = sb.messages()
        injected = sb.faults_injected

    # every recipient in exactly one terminal state
    assert len(results) == count == summary.total
    by_status = Counter(r.status for r in results.values())
    assert {status: by_status[status] for status in STATUSES} == {
        "accepted": summary.accepted,
        "rejected": summary.rejected,
        "failed": summary.failed,
        "unknown": summary.unknown,
        "opted_out": summary.opted_out,
    }
    assert injected > 0 and summary.unknown > 0  # the faults did happen

    # no recipient accepted twice
    at_sandbox = Counter(m.to for m in recorded)
    assert max(at_sandbox.values()) == 1

    # the summary agrees with the sandbox: accepted rows are recorded; an unknown request was
    # processed before its connection dropped, so its acceptable rows are recorded too
    accepted = {r.number for r in results.values() if r.status == "accepted"}
    unknown = [r for r in results.values() if r.status == "unknown"]
    unknown_acceptable = {r.number for r in unknown if r.number not in TEST_REFUSED}
    assert set(at_sandbox) == accepted | unknown_acceptable
    assert summary.accepted + len(unknown_acceptable) == len(recorded)

    # unknown rows are exactly the listed requests, each of which the sandbox recorded
    listed = {b.client_message_id: b.recipients for b in summary.unknown_batches}
    assert Counter(r.client_message_id for r in unknown) == listed
    assert set(listed) <= {m.client_message_id for m in recorded}

    # rejected rows are the test numbers that reached the sandbox in an answered request;
    # failed rows are requests that kept getting 503 (never recorded)
    assert all(r.number in TEST_REFUSED for r in results.values() if r.status == "rejected")
    failed = {r.number for r in results.values() if r.status == "failed"}
    assert not failed & set(at_sandbox)


# -- SIGKILL half-way, then resume ----------------------------------------------------------------


def _csv(path: Path, count: int) -> Path:
    with path.open("w") as fh:
        fh.write("to,name\n")
        for i, number in enumerate(numbers(count)):
            fh.write(f"{number},n{i}\n")
        fh.write("not-a-number,x\n27820000007,again\n")
    return path


def _bulk(*args: str, base_url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CLICKATELL_API_KEY": "key", "CLICKATELL_BASE_URL": base_url}
    return subprocess.Popen(
        [sys.executable, "-m", "clickatell_sms.cli", "bulk", *args, "--progress", "none", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, dict[str, Any]]:
    out, err = proc.communicate(timeout=120)
    assert out.strip(), err
    return proc.returncode, json.loads(out.strip().splitlines()[-1])


def _answered(journal: Path) -> int:
    if not journal.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1) as db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM batches WHERE state = 'answered'"
            ).fetchone()
            return int(count)
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_sigkill_half_way_then_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    count = 20_000  # 100 requests of 200
    people = _csv(tmp_path / "people.csv", count)
    faults = Faults(latency=0.03)  # slow enough to be killed mid-run, no random failures

    with Sandbox(api_keys=("key",), balance=10**9, faults=faults) as reference:
        status, expected = _finish(
            _bulk(
                "--csv",
                str(people),
                "--content",
                "hi",
                "--journal",
                str(tmp_path / "reference.journal"),
                base_url=reference.base_url,
            )
        )
        reference_numbers = Counter(m.to for m in reference.messages())
    assert status == 1  # one bad row, one repeat, three test numbers
    assert expected["total"] == count + 2 and expected["unknown"] == 0
    assert max(reference_numbers.values()) == 1

    journal = tmp_path / "killed.journal"
    with Sandbox(api_keys=("key",), balance=10**9, faults=faults) as sb:
        proc = _bulk(
            "--csv", str(people), "--content", "hi", "--journal", str(journal), base_url=sb.base_url
        )
        deadline = time.monotonic() + 60
        while _answered(journal) < 30:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        sent_before_resume = len(sb.messages())
        assert 0 < sent_before_resume < len(reference_numbers)

        results = tmp_path / "results.jsonl"
        status, resumed = _finish(
            _bulk(
                "--csv",
                str(people),
                "--content",
                "hi",
                "--resume",
                str(journal),
                "--output",
                str(results),
                base_url=sb.base_url,
            )
        )
        recorded = {m.client_message_id for m in sb.messages()}
        # Requests caught in flight by the kill are unknown. One that never reached the sandbox
        # is what a user would find by checking, and send again by name.
        unknown = [b["client_message_id"] for b in resumed["unknown_batches"]]
        never_arrived = [cmid for cmid in unknown if cmid not in recorded]
        if never_arrived:
            status, resumed = _finish(
                _bulk(
                    "--csv",
                    str(people),
                    "--content",
                    "hi",
                    "--resume",
                    str(journal),
                    "--resend-unknown",
                    ",".join(never_arrived),
                    "--output",
                    str(results),
                    base_url=sb.base_url,
                )
            )
        at_sandbox = Counter(m.to for m in sb.messages())
        rows = [json.loads(line) for line in results.read_text().splitlines()]

    # no duplicate at the sandbox, and the same recipients as the uninterrupted run
    assert max(at_sandbox.values()) == 1
    assert at_sandbox == reference_numbers

    # every row exactly once, and the same counts once unknown rows are resolved by the record
    assert resumed["total"] == expected["total"] == len(rows)
    assert len({row["row"] for row in rows}) == len(rows)
    unknown_rows = [row for row in rows if row["status"] == "unknown"]
    assert {row["client_message_id"] for row in unknown_rows} <= recorded
    arrived = sum(row["number"] in at_sandbox for row in unknown_rows)
    assert resumed["accepted"] + arrived == expected["accepted"]
    assert resumed["rejected"] + (len(unknown_rows) - arrived) == expected["rejected"]
    assert (resumed["failed"], resumed["invalid"], resumed["duplicates"]) == (
        expected["failed"],
        expected["invalid"],
        expected["duplicates"],
    )
    assert resumed["earlier"] > 0
