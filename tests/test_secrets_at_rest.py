"""The API key never lands in a file: journals, results files and the sandbox's record.

Other suites check logs, reprs and errors; this one reads back every file a run writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import sqlite3
from pathlib import Path

import pytest

from clickatell_sms import Client
from clickatell_sms.bulk import send_many
from clickatell_sms.sandbox import Faults, Sandbox

KEY = "k3y-that-must-never-be-written-9f2c"


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.parametrize("integration", ["rest", "http"])
def test_no_file_a_run_writes_contains_the_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, integration: str
) -> None:
    caplog.set_level(logging.DEBUG)
    store = tmp_path / "sandbox.sqlite"
    faults = Faults(rate_503=0.2, drop_after_body=0.05, retry_after=0, seed=3)
    with (
        Sandbox(api_keys=(KEY,), store=store, balance=10**6, faults=faults) as sb,
        Client(KEY, base_url=sb.base_url, integration=integration, max_connections=4) as client,  # type: ignore[arg-type]
    ):
        numbers = [f"2782{i:07d}" for i in range(1200)]
        summary = send_many(
            client,
            numbers,
            "hello",
            concurrency=4,
            journal=tmp_path / "run.journal",
            output=tmp_path / "results.jsonl",
        )
        assert summary.total == 1200
        assert summary.accepted > 0
    written = _files_under(tmp_path)
    # the journal (with any WAL side files), the results and the sandbox's SQLite record
    assert {"run.journal", "results.jsonl", "sandbox.sqlite"} <= {p.name for p in written}
    for path in written:
        assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in caplog.text


def _meta(journal: Path) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(journal)) as db:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())


def test_a_journal_records_its_account_only_as_a_keyed_fingerprint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Which account sent a campaign is recorded, so that the account is part of what makes a
    campaign the same; as HMAC(the journal's own salt, key): the same key in two journals gives
    two fingerprints, and neither is the key or its plain hash. A resume with another key (a
    key replaced after a run stopped on it) is logged, not refused."""
    with Sandbox(api_keys=(KEY, "another-key")) as sb:
        for name in ("one.journal", "two.journal"):
            with Client(KEY, base_url=sb.base_url) as client:
                send_many(client, ["27820000001"], "hi", journal=tmp_path / name)
        one, two = _meta(tmp_path / "one.journal"), _meta(tmp_path / "two.journal")
        assert one["account"] != two["account"]  # a salt each
        for meta in (one, two):
            salt = bytes.fromhex(meta["account_salt"])
            expected = hmac.new(salt, f"{sb.base_url}\n{KEY}".encode(), hashlib.sha256)
            assert meta["account"] == expected.hexdigest()[:32]
            assert hashlib.sha256(KEY.encode()).hexdigest()[:32] != meta["account"]
        caplog.set_level(logging.WARNING, logger="clickatell_sms.bulk")
        with Client(KEY, base_url=sb.base_url) as client:
            send_many(client, ["27820000001"], "hi", journal=tmp_path / "one.journal", resume=True)
        assert "another API key" not in caplog.text
        with Client("another-key", base_url=sb.base_url) as client:
            summary = send_many(
                client, ["27820000001"], "hi", journal=tmp_path / "two.journal", resume=True
            )
        assert summary.earlier == 1
        assert "two.journal was started with another API key" in caplog.text
        assert len(sb.messages()) == 2
