"""The embedded sandbox as a newcomer meets it: a demo never stops on credit, and the
refusals it makes on purpose are test numbers that say so, where ordinary test data never goes.

The commands run as a user runs them: the real `clickatell-sms` in a subprocess, with no key and
no base URL anywhere, so the embedded sandbox answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from clickatell_sms.sandbox import CANNOT_ROUTE_NUMBER, Sandbox
from tests.test_sandbox import body_json, send_json

ROWS = 100_000


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}
    return subprocess.run(
        [sys.executable, "-m", "clickatell_sms.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_a_100k_row_bulk_run_on_the_embedded_sandbox_accepts_every_row(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("to\n" + "".join(f"2782{i:07d}\n" for i in range(ROWS)))
    done = _cli(
        "bulk", "--csv", str(people), "--text", "Hello", "--progress", "none", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["accepted"], summary["total"], summary["rejected"]) == (ROWS, ROWS, 0)
    assert summary["stopped"] is None and summary["failed"] == summary["unknown"] == 0
    assert "sandbox: nothing was really sent" in done.stderr


def test_the_default_balance_pays_for_a_100k_campaign_of_the_longest_messages() -> None:
    with Sandbox() as sb:
        assert sb.balance >= ROWS * 35 * Decimal("0.1")


def test_running_out_of_credit_is_still_testable() -> None:
    with Sandbox(balance="0.15") as sb:
        answer = body_json(send_json(sb, {"content": "hi", "to": ["27821234567", "27821234568"]}))
    assert [m["errorCode"] for m in answer["messages"]] == [None, 301]


def test_a_refused_test_number_says_it_is_one(tmp_path: Path) -> None:
    done = _cli("send", "--to", f"+{CANNOT_ROUTE_NUMBER}", "--text", "hi", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "114" in done.stdout and "Sandbox test number" in done.stdout
