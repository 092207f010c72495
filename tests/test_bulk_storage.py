"""The bulk journal and results file when storage fails or is abused, and what the command
line reports about it: every case runs the real `clickatell-sms bulk` in a subprocess against
a sandbox, and checks its exit status, its words and the sandbox's record.

* a full disk (a file size limit, `RLIMIT_FSIZE`, for the journal; `/dev/full` for the results)
  stops sending, and the summary still counts exactly what the sandbox recorded;
* a second process on the same journal is refused at once;
* a damaged journal is refused with exit 2, its name and what to do, and no traceback;
* a journal is one file after every stop the run controls, and half a journal (the write-ahead
  log of a killed run left behind) is refused with exactly that said.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clickatell_sms.bulk import send_many
from clickatell_sms.bulk.journal import BulkStorageError
from clickatell_sms.client import Client
from clickatell_sms.sandbox import Faults, Sandbox

EXIT_USAGE = 2
EXIT_STORAGE = 5
ROWS = 20_000  # 100 requests of 200


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(api_keys=("key",), balance=10**9, faults=Faults(latency=0.005)) as sb:
        yield sb


@pytest.fixture
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    with path.open("w") as fh:
        fh.write("to\n")
        for i in range(ROWS):  # ending in 0: none is one of the sandbox's refused test numbers
            fh.write(f"2783{i:06d}0\n")
    return path


def bulk(
    sb: Sandbox, *args: str, fsize: int | None = None, wait: bool = True
) -> subprocess.Popen[str]:
    env = {**os.environ, "CLICKATELL_API_KEY": "key", "CLICKATELL_BASE_URL": sb.base_url}

    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    proc = subprocess.Popen(
        [sys.executable, "-m", "clickatell_sms.cli", "bulk", *args, "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
    )
    if wait:
        proc.wait(timeout=120)
    return proc


def outcome(proc: subprocess.Popen[str]) -> tuple[int, str, dict[str, Any] | None]:
    out, err = proc.communicate(timeout=120)
    lines = out.strip().splitlines()
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    return proc.returncode, err, summary


def answered(journal: Path) -> int:
    """Batches answered so far, read as another program would (closed at once: a reader still
    open when the run ends keeps the log from being folded into the file)."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1)
        ) as db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM batches WHERE state = 'answered'"
            ).fetchone()
            return int(count)
    except sqlite3.Error:
        return 0


def wait_for_batches(proc: subprocess.Popen[str], journal: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while answered(journal) < count:
        assert proc.poll() is None, "the run ended before it was caught half-way"
        assert time.monotonic() < deadline
        time.sleep(0.01)


# -- a full disk ---------------------------------------------------------------------------------


def test_a_journal_on_a_full_disk_stops_and_the_summary_is_the_sandbox_record(
    sandbox: Sandbox, people: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "run.journal"
    args = ("--csv", str(people), "--content", "hi", "--journal", str(journal))
    # 300 kB: the write-ahead log fills it after a few batches of 200.
    status, err, summary = outcome(bulk(sandbox, *args, "--progress", "none", fsize=300_000))
    recorded = Counter(m.to for m in sandbox.messages())

    assert status == EXIT_STORAGE, err
    assert summary is not None and "could not be written" in summary["stopped"]
    assert "Traceback" not in err
    assert 0 < len(recorded) < ROWS
    # the summary is the truth: what was accepted is exactly what the sandbox took
    assert summary["accepted"] == len(recorded) == summary["sent"]
    assert summary["unknown"] == 0
    assert summary["total"] == summary["accepted"] + summary["failed"]

    # Answered but unjournalled requests are listed; a resume holds them back as unknown and
    # sends every other row once.
    status, err, resumed = outcome(bulk(sandbox, *args[:4], "--resume", str(journal)))
    assert resumed is not None, err
    again = Counter(m.to for m in sandbox.messages())
    assert max(again.values()) == 1
    assert sorted(b["client_message_id"] for b in resumed["unknown_batches"]) == sorted(
        summary["unjournalled"]
    )
    assert resumed["accepted"] + resumed["unknown"] == ROWS == len(again)


def test_a_results_file_on_a_full_disk_stops_and_the_summary_is_the_sandbox_record(
    sandbox: Sandbox, people: Path, tmp_path: Path
) -> None:
    results = tmp_path / "results.csv"
    results.symlink_to("/dev/full")  # every write: ENOSPC, as on a full disk
    journal = tmp_path / "run.journal"
    args = ("--csv", str(people), "--content", "hi", "--journal", str(journal))
    status, err, summary = outcome(bulk(sandbox, *args, "--output", str(results)))
    recorded = Counter(m.to for m in sandbox.messages())

    assert status == EXIT_STORAGE, err
    assert summary is not None and "results file" in summary["stopped"]
    assert "No space left" in err and "Traceback" not in err
    assert summary["accepted"] == len(recorded) > 0
    assert summary["unknown"] == 0 and summary["unjournalled"] == []

    # the journal was written all along: a resume sends exactly the rest
    status, err, resumed = outcome(bulk(sandbox, *args[:4], "--resume", str(journal)))
    assert status == 0, err
    again = Counter(m.to for m in sandbox.messages())
    assert max(again.values()) == 1 and len(again) == ROWS
    assert resumed is not None and resumed["earlier"] == summary["accepted"]


def test_send_many_raises_the_storage_failure_with_the_summary_of_what_was_sent(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    results = tmp_path / "results.jsonl"
    results.symlink_to("/dev/full")
    numbers = [f"2784{i:06d}0" for i in range(5000)]
    with (
        Client(api_key="key", base_url=sandbox.base_url) as client,
        pytest.raises(BulkStorageError) as raised,
    ):
        send_many(client, numbers, "hi", output=results)
    summary = raised.value.bulk_summary
    assert summary is not None and summary.stopped
    assert summary.accepted == len(sandbox.messages()) > 0


class _BucketGoneAway(RuntimeError):
    """What a shared rate limit's store raises when it is unreachable (RedisError, say)."""


class _FailingBucket:
    """A rate limit whose shared store answers `works` times and is unreachable after that:
    the Limiter a run on workers gets (tests/test_bulk_scale.py kills a real Redis)."""

    per_second = 10_000.0

    def __init__(self, works: int) -> None:
        self._left = works
        self._lock = threading.Lock()

    def acquire(self, count: int, stop: threading.Event | None = None) -> bool:
        with self._lock:
            self._left -= 1
            if self._left < 0:
                raise _BucketGoneAway("Error 111 connecting to the bucket's store")
        return True


def test_a_rate_limit_that_fails_stops_the_run_once_and_a_resume_sends_the_rest(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "run.journal"
    numbers = [f"2785{i:06d}0" for i in range(3000)]
    with Client(api_key="key", base_url=sandbox.base_url) as client:
        with pytest.raises(_BucketGoneAway) as raised:
            send_many(
                client,
                numbers,
                "hi",
                journal=journal,
                rate_limit=_FailingBucket(works=5),
                batch_size=100,
                concurrency=4,
            )
        summary = raised.value.bulk_summary  # type: ignore[attr-defined]
        assert summary.accepted == len(sandbox.messages()) <= 5 * 100
        # the failure is the run's one error: not one traceback per batch it stopped
        assert not [r for r in caplog.records if "failed inside the SDK" in r.getMessage()]

        resumed = send_many(client, numbers, "hi", journal=journal, resume=True)
    assert resumed.earlier == summary.accepted
    assert resumed.sent == len(numbers) - summary.accepted
    assert resumed.accepted == len(numbers)
    recorded = Counter(m.to for m in sandbox.messages())
    assert max(recorded.values()) == 1 and len(recorded) == len(numbers)


# -- two processes -------------------------------------------------------------------------------


def test_a_second_process_on_the_same_journal_is_refused_at_once(
    people: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "run.journal"
    args = ("--csv", str(people), "--content", "hi")
    with Sandbox(api_keys=("key",), balance=10**9, faults=Faults(latency=0.05)) as sb:
        first = bulk(sb, *args, "--journal", str(journal), "--progress", "none", wait=False)
        wait_for_batches(first, journal, 3)
        started = time.monotonic()
        status, err, _ = outcome(bulk(sb, *args, "--resume", str(journal)))
        took = time.monotonic() - started
        assert first.poll() is None, "the first run must still be running"
        first.send_signal(signal.SIGINT)
        first_status, _, first_summary = outcome(first)
        recorded = Counter(m.to for m in sb.messages())

    assert status == EXIT_USAGE
    assert took < 2.0
    assert f"{journal} is in use by another bulk run" in err
    assert "Traceback" not in err and "database is locked" not in err
    # the first run was not disturbed
    assert first_status == 130
    assert first_summary is not None and first_summary["accepted"] == len(recorded)
    assert max(recorded.values()) == 1


# -- a damaged journal ---------------------------------------------------------------------------


def _finished_journal(sb: Sandbox, people: Path, journal: Path) -> None:
    status, err, _ = outcome(
        bulk(sb, "--csv", str(people), "--content", "hi", "--journal", str(journal))
    )
    assert status == 0, err
    assert not Path(f"{journal}-wal").exists()  # one file after a clean end


def test_a_damaged_journal_is_refused_by_name_without_a_traceback(
    sandbox: Sandbox, people: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "run.journal"
    _finished_journal(sandbox, people, journal)
    pristine = journal.read_bytes()
    resume = ("--csv", str(people), "--content", "hi", "--resume", str(journal))

    # A digit of a journalled number: the page is sound, the value is not (its CRC says so).
    data = bytearray(pristine)
    at = data.index(b"27830000050")
    data[at + 10] ^= 0x01
    journal.write_bytes(bytes(data))
    status, err, _ = outcome(bulk(sandbox, *resume))
    assert status == EXIT_USAGE
    assert f"{journal} is damaged" in err and "checksum" in err
    assert "do not resume from it" in err and "Traceback" not in err

    # The file's own header, and the first page of its tables.
    for offset in (0, 4096):
        data = bytearray(pristine)
        data[offset : offset + 8] = b"\xa5" * 8
        journal.write_bytes(bytes(data))
        status, err, _ = outcome(bulk(sandbox, *resume))
        assert status == EXIT_USAGE, (offset, err)
        assert str(journal) in err and "Traceback" not in err, (offset, err)

    # Random bit flips anywhere: refused with a clear word, or harmless (free space) and then
    # resumed without sending anyone twice.
    before = len(sandbox.messages())
    rng = random.Random(12)
    for _ in range(12):
        data = bytearray(pristine)
        for _ in range(4):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        journal.write_bytes(bytes(data))
        status, err, _ = outcome(bulk(sandbox, *resume))
        assert "Traceback" not in err, err
        assert status in (0, EXIT_USAGE), err
        if status == EXIT_USAGE:
            assert str(journal) in err
    assert len(sandbox.messages()) == before


# -- one file, or half a file --------------------------------------------------------------------


def test_a_stopped_run_leaves_one_file_that_resumes_alone(people: Path, tmp_path: Path) -> None:
    journal = tmp_path / "run.journal"
    args = ("--csv", str(people), "--content", "hi")
    with Sandbox(api_keys=("key",), balance=10**9, faults=Faults(latency=0.02)) as sb:
        run = bulk(sb, *args, "--journal", str(journal), "--progress", "none", wait=False)
        wait_for_batches(run, journal, 5)
        run.send_signal(signal.SIGTERM)  # a stop the run controls: like Ctrl-C
        status, err, stopped = outcome(run)
        assert status == 130, err
        assert not Path(f"{journal}-wal").exists(), err

        copy = tmp_path / "elsewhere" / "run.journal"
        copy.parent.mkdir()
        shutil.copy(journal, copy)  # the file alone is the whole journal
        status, err, resumed = outcome(bulk(sb, *args, "--resume", str(copy)))
        recorded = Counter(m.to for m in sb.messages())
    assert status == 0, err
    assert stopped is not None and resumed is not None
    assert resumed["earlier"] == stopped["accepted"] > 0
    assert max(recorded.values()) == 1 and len(recorded) == ROWS


def test_half_a_journal_after_a_kill_is_refused_and_names_the_missing_log(
    people: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "run.journal"
    args = ("--csv", str(people), "--content", "hi")
    with Sandbox(api_keys=("key",), balance=10**9, faults=Faults(latency=0.02)) as sb:
        run = bulk(sb, *args, "--journal", str(journal), "--progress", "none", wait=False)
        wait_for_batches(run, journal, 5)
        run.send_signal(signal.SIGKILL)
        run.wait()
        wal = Path(f"{journal}-wal")
        assert wal.exists() and wal.stat().st_size > 0

        # a copy of the main file only
        copy = tmp_path / "elsewhere" / "run.journal"
        copy.parent.mkdir()
        shutil.copy(journal, copy)
        status, err, _ = outcome(bulk(sb, *args, "--resume", str(copy)))
        assert status == EXIT_USAGE
        assert "only half a journal" in err and "run.journal-wal" in err
        assert "missing" in err and "Traceback" not in err
        sent_so_far = len(sb.messages())

        # with its log beside it, the same copy resumes
        shutil.copy(wal, Path(f"{copy}-wal"))
        status, err, resumed = outcome(bulk(sb, *args, "--resume", str(copy)))
        recorded = Counter(m.to for m in sb.messages())
    assert resumed is not None, err
    assert max(recorded.values()) == 1
    assert len(recorded) >= sent_so_far
    assert resumed["accepted"] + resumed["unknown"] == ROWS


# -- what the command line says -----------------------------------------------------------------


def test_the_progress_bar_ends_with_the_summary_counts(sandbox: Sandbox, tmp_path: Path) -> None:
    pytest.importorskip("tqdm")
    path = tmp_path / "mixed.csv"
    with path.open("w") as fh:
        fh.write("to\n")
        for i in range(4995):
            fh.write(f"2785{i:06d}0\n")
        fh.write("not-a-number\n27850000010\n")
    _, err, summary = outcome(
        bulk(sandbox, "--csv", str(path), "--content", "hi", "--progress", "bar")
    )
    assert summary is not None, err
    last = err.replace("\r", "\n").strip().splitlines()
    bar = [line for line in last if "ok=" in line][-1]
    counts = dict(part.split("=") for part in bar.split("[")[-1].rstrip("]").split(", ")[-4:])
    assert counts == {
        "ok": str(summary["accepted"]),
        "rej": str(summary["rejected"]),
        "fail": str(summary["failed"]),
        "unk": str(summary["unknown"]),
    }
    assert summary["accepted"] == 4995


def test_the_rate_counts_only_recipients_sent(tmp_path: Path) -> None:
    """On the embedded sandbox (no key, no URL), with half the rows not sendable."""
    path = tmp_path / "half.csv"
    with path.open("w") as fh:
        fh.write("to\n")
        for i in range(1200):
            fh.write(f"2786{i:06d}0\n" if i % 2 else "bad number\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}
    command = ["bulk", "--csv", str(path), "--content", "hi", "--json", "--progress", "none"]
    done = subprocess.run(
        [sys.executable, "-m", "clickatell_sms.cli", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["sent"] == 600 == summary["accepted"]
    assert summary["invalid"] == 600
    duration = summary["duration_s"]  # rounded to the millisecond
    low, high = 600 / (duration + 0.0006), 600 / max(duration - 0.0006, 1e-6)
    assert low <= summary["recipients_per_s"] <= high
    assert "(600 recipients) in" in done.stdout + done.stderr


def test_journal_errors_on_the_command_line_name_flags(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "few.csv"
    path.write_text("to\n27870000010\n27870000020\n")
    journal = tmp_path / "few.journal"
    args = ("--csv", str(path), "--content", "hi", "--journal", str(journal))
    assert outcome(bulk(sandbox, *args))[0] == 0
    status, err, _ = outcome(bulk(sandbox, *args))
    assert status == EXIT_USAGE
    assert f"--resume {journal}" in err
    assert "resume=True" not in err and "send_many" not in err


def test_a_ctrl_c_during_the_runs_bookkeeping_waits_for_it_to_finish() -> None:
    """The reader's step from 'in flight' to 'counted' is never cut in half by Ctrl-C/SIGTERM:
    the signal is held for the step and delivered right after it."""
    from clickatell_sms.bulk._engine import interrupts_deferred

    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            steps.append("out of flight")
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # Python runs handlers between bytecodes: it would have run here
            steps.append("counted")
        steps.append("after")  # not reached: the held Ctrl-C is delivered at the block's end
    assert steps == ["out of flight", "counted"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


# -- Ctrl-C inside the journal's own steps -------------------------------------------------------


def _interrupt_at(point: int) -> Any:
    """A profile function that raises KeyboardInterrupt at the `point`-th place where Python
    would run a signal handler: a Python function's start, or a return from a call into C."""
    seen = [0]

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event in ("call", "c_return"):
            seen[0] += 1
            if seen[0] == point:
                sys.setprofile(None)
                raise KeyboardInterrupt

    return profile


def _members(first: int, count: int) -> list[Any]:
    from clickatell_sms.bulk.journal import Member

    return [Member(i, i, f"2782{i:07d}", f"2782{i:07d}", None) for i in range(first, first + count)]


def _interrupted(point: int, step: Any) -> bool:
    sys.setprofile(_interrupt_at(point))
    try:
        step()
    except KeyboardInterrupt:
        return True
    finally:
        sys.setprofile(None)
    return False


def _states(path: Path) -> tuple[dict[int, str], str]:
    """The batches' states and the journal's open/closed mark, as another process reads them."""
    with contextlib.closing(sqlite3.connect(path)) as other:
        batches = dict(other.execute("SELECT id, state FROM batches").fetchall())
        (mark,) = other.execute("SELECT value FROM meta WHERE key = 'state'").fetchone()
    return batches, mark


def test_ctrl_c_anywhere_in_journalling_a_batch_leaves_no_transaction_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Ctrl-C (or SIGTERM) at each point in turn where Python may deliver it while a batch is
    journalled: the batch is in the journal or not, the senders' next write is committed
    (not held in a transaction left open), and closing marks the journal closed, one file.
    Just after BEGIN, a run once left the transaction open: what the senders wrote next was
    never committed, and closing failed with "database table is locked"."""
    from clickatell_sms.bulk.sqlite_journal import SQLiteJournal

    point, interrupted = 0, True
    while interrupted:  # until the step runs to its end without reaching the point
        point += 1
        path = tmp_path / f"run-{point}.journal"
        journal = SQLiteJournal.create(path, {"campaign": "ctrl-c"})
        journal.add((1, "c-1", "hi"), _members(0, 3))
        journal.mark_sending(1)
        interrupted = _interrupted(point, lambda j=journal: j.add((2, "c-2", "hi"), _members(3, 3)))
        answered = [m.settled("accepted", f"id-{m.position}") for m in _members(0, 3)]
        journal.finish(1, "answered", answered)  # a sender's, after the interrupt
        batches, _ = _states(path)
        journal.close()
        assert batches[1] == "answered", f"interrupt at point {point}: not committed"
        assert batches.get(2, "pending") == "pending" and (interrupted or 2 in batches)
        assert _states(path)[1] == "closed" and not Path(f"{path}-wal").exists(), point
    assert point > 10  # the points were reached
    assert "could not be marked closed" not in caplog.text


def test_ctrl_c_while_a_resume_reads_the_journal_leaves_it_closable(tmp_path: Path) -> None:
    """The same while a resume reads the batches back: the journal closes marked closed even
    while the interrupt (and its traceback, with the reading half-done) is still being
    handled, as the command line closes it. A cursor left open on the connection would make
    the closing checkpoint fail with "database table is locked"."""
    from clickatell_sms.bulk.sqlite_journal import SQLiteJournal

    path = tmp_path / "run.journal"
    journal = SQLiteJournal.create(path, {"campaign": "ctrl-c"})
    for batch in range(1, 6):
        journal.add((batch, f"c-{batch}", "hi"), _members(batch * 10, 3))
        journal.mark_sending(batch)
        settled = [m.settled("accepted", f"id-{m.position}") for m in _members(batch * 10, 3)]
        journal.finish(batch, "answered", settled)
    journal.close()
    point, interrupted = 0, True
    while interrupted:
        point += 1
        copy = tmp_path / f"copy-{point}.journal"
        shutil.copy(path, copy)
        journal = SQLiteJournal.resume(copy, {"campaign": "ctrl-c"})
        sys.setprofile(_interrupt_at(point))
        try:
            journal.prepare_resume(False)
            interrupted = False
        except KeyboardInterrupt:
            sys.setprofile(None)
            journal.close()  # while the interrupt is alive, as the command line does
        finally:
            sys.setprofile(None)
        if not interrupted:
            journal.close()
        assert _states(copy)[1] == "closed" and not Path(f"{copy}-wal").exists(), point
    assert point > 10
