"""Opt-outs end to end, with the real commands each in its own process: `sandbox` with a two-way
number whose handsets reply STOP to 2% of the messages (`--reply-rate`), `listen` keeping the
replies in the opt-out store every command finds by default, and `bulk` twice over the same
10,000 rows: the second campaign skips exactly the numbers that replied. Then the replies a
person may send (START, STOP in any case, a sentence), a forged reply, and a reply from a
number no campaign ever had.

Cost on the 2-core machine: about a minute (two 10,000-row campaigns, and the 40,000 status
and reply callbacks their messages bring, through one listener over real HTTP).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clickatell_sms.opt_outs import open_opt_outs
from clickatell_sms.sandbox.replies import Replies

from .test_delivery_end_to_end import Processes, sandbox_record
from .test_opt_outs import post, reply_fields

SECRET = "opt-outs-end-to-end-secret-01"
TWO_WAY = "27870000000"
SEED, RATE = 11, 0.02


class Commands(Processes):
    """The long-running commands a test started (stopped after it), and `listen` keeping its
    replies in the default opt-out store (no journal)."""

    def listen_for_replies(self) -> tuple[subprocess.Popen[str], str, list[str]]:
        proc = self._start("listen", "--port", "0", "--quiet", "--secret", SECRET)
        assert proc.stderr is not None
        said, url = [], None
        for line in proc.stderr:
            said.append(line.rstrip("\n"))
            found = re.search(r"listening for callbacks on (http://127\.0\.0\.1:\d+/)", line)
            url = found.group(1) if found else url
            if line.startswith("waiting for callbacks"):
                break
        assert url is not None, said
        return proc, url, said


@pytest.fixture
def commands() -> Iterator[Commands]:
    started = Commands()
    try:
        yield started
    finally:
        started.stop_all()


def bulk(csv: Path, text: str, base_url: str) -> dict[str, Any]:
    env = {**os.environ, "CLICKATELL_API_KEY": "sandbox-key", "CLICKATELL_BASE_URL": base_url}
    done = subprocess.run(
        [sys.executable, "-m", "clickatell_sms.cli", "bulk", "--csv", str(csv), "--text", text,
         "--from", TWO_WAY, "--journal", str(csv.with_suffix(f".{uuid.uuid4().hex[:6]}.sqlite")),
         "--json", "--progress", "none"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    summary: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return summary


def opted_out_now() -> set[str]:
    with contextlib.closing(open_opt_outs()) as store:  # CLICKATELL_OPT_OUTS, as the commands
        return {o.number for o in store.iter_opt_outs()}


def wait_for(condition: Any, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.2)


def post_reply(url: str, text: str, sender: str, *, secret: str | None = SECRET) -> int:
    return post(url, reply_fields(text, sender, to=TWO_WAY), secret=secret)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_numbers_that_replied_stop_are_left_out_of_the_next_campaign(
    commands: Commands, tmp_path: Path
) -> None:
    listener, url, said = commands.listen_for_replies()
    assert any(line.startswith("opt-outs: every reply is kept in") for line in said), said
    base_url = commands.sandbox(
        "--two-way", TWO_WAY, "--reply-rate", str(RATE), "--reply-text", "STOP",
        "--callback-url", f"{url}?token={SECRET}", "--seed", str(SEED),
        "--status-delays", "0.02", "0.02",
    )  # fmt: skip
    people = tmp_path / "people.csv"
    everyone = [f"2783{i:06d}0" for i in range(10_000)]
    people.write_text("to\n" + "".join(f"+{n}\n" for n in everyone))  # sent with a "+"

    first = bulk(people, "Hello from the first campaign", base_url)
    assert first["accepted"] == 10_000 and first["opted_out"] == 0
    drawn = Replies(RATE, seed=SEED)
    replied = {r["to"] for r in sandbox_record(base_url) if drawn.drawn(r["apiMessageId"])}
    assert 140 < len(replied) < 260  # 2% of 10,000
    wait_for(lambda: opted_out_now() >= replied)
    assert opted_out_now() == replied  # exactly the numbers whose handsets replied

    second = bulk(people, "Hello from the second campaign", base_url)
    sent = [
        r["to"]
        for r in sandbox_record(base_url)
        if r["content"] == "Hello from the second campaign"
    ]
    assert replied.isdisjoint(sent)
    assert len(sent) == second["accepted"] == 10_000 - len(replied)
    assert second["opted_out"] == len(replied)

    # START brings a number back; a forged START changes nothing
    back, still_out = sorted(replied)[:2]
    assert post_reply(url, "START", back) == 200
    assert post_reply(url, "START", still_out, secret=None) == 401
    assert post_reply(url, "START", still_out, secret="a-wrong-secret-00000000") == 401
    third = tmp_path / "third.csv"
    third.write_text(f"to\n{back}\n{still_out}\n")
    summary = bulk(third, "Welcome back", base_url)
    assert (summary["accepted"], summary["opted_out"]) == (1, 1)
    assert [r["to"] for r in sandbox_record(base_url) if r["content"] == "Welcome back"] == [back]

    said_at_stop = commands.stop(listener)
    assert re.search(
        r"opt-outs: \d+ replies kept in .*: \d+ opted out, 1 opted back in", said_at_stop
    )


def test_replies_through_the_listener_keywords_forgeries_and_numbers_in_no_campaign(
    commands: Commands, tmp_path: Path
) -> None:
    _, url, _ = commands.listen_for_replies()
    senders = {text: f"2784{i:06d}0" for i, text in enumerate(
        ["stop", " Stop ", "STOP", "Please stop texting me", "forged"]
    )}  # fmt: skip
    for text, sender in senders.items():
        if text != "forged":
            assert post_reply(url, text, sender) == 200
    assert post_reply(url, "STOP", senders["forged"], secret=None) == 401
    out = opted_out_now()
    assert {senders["stop"], senders[" Stop "], senders["STOP"]} <= out
    assert senders["Please stop texting me"] not in out and senders["forged"] not in out
    # none of these numbers was ever in a campaign: their opt-outs hold for the next one
    base_url = commands.sandbox()
    people = tmp_path / "people.csv"
    people.write_text("to\n" + "".join(f"{n}\n" for n in senders.values()))
    env = {**os.environ, "CLICKATELL_API_KEY": "sandbox-key", "CLICKATELL_BASE_URL": base_url}
    done = subprocess.run(
        [sys.executable, "-m", "clickatell_sms.cli", "bulk", "--csv", str(people), "--text",
         "hi", "--journal", str(tmp_path / "run.sqlite"), "--json", "--progress", "none"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    summary = json.loads(done.stdout.splitlines()[-1])
    assert (summary["accepted"], summary["opted_out"]) == (2, 3), done.stderr
    assert "3 opted out" in done.stderr
