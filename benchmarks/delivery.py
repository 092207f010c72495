"""After the send: the listener with a journal, and the report on a large one.

    scripts/bench --delivery          # or: python -m benchmarks.delivery [--quick]

Two measurements, printed as Markdown:

* callbacks/s that `clickatell-sms listen --journal run.sqlite` answers on one keep-alive
  connection (each answered only once written), beside the same command without a journal, in
  the same run: signed GET status callbacks of distinct messages, from this process over
  loopback; the median of the rounds, the journal's rounds and the plain ones interleaved.
  Sent twice over: with http.client (about 130 µs of this machine's CPU per callback, in
  series with the listener's on one connection), and with a raw socket that writes each
  request whole and reads the answer by its Content-Length (about 30 µs), which is closer to
  what the listener holds against a sender that is not itself in Python. With them, the
  listener process's CPU time per callback (user + system, from /proc), which a busy machine
  stretches far less than the wall time: one core's worth of it is the rate the listener can
  hold when it has a core to itself;
* `clickatell-sms report JOURNAL --json` on a journal of `--rows` rows (1,000,000 by default)
  with a status for most of them, in a process of its own: wall time and peak RSS (VmHWM),
  first on a journal whose rows were never indexed (the report unpacks the journal's batches
  into its index first: what the first report after a bulk run with no listener pays), then
  again (indexed: what every later report, or one after `listen --journal`, pays).

The journal is written with the bulk engine's own journal class and the statuses with the
listener's own store, so the files are what a campaign leaves; only the sending is skipped.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .procs import child_env

SECRET = "benchmark-callback-secret-0123"
_QUERY = (
    "/cb?messageId={id}&statusCode=4&status=RECEIVED_BY_RECIPIENT"
    f"&timestamp=1700000000000&token={SECRET}"
)


# -- the listener ----------------------------------------------------------------------------


class Listen:
    """`clickatell-sms listen` in its own process, until `close()`."""

    def __init__(self, *extra: str) -> None:
        command = [sys.executable, "-m", "clickatell_sms.cli", "listen", "--port", "0"]
        command += ["--secret", SECRET, "--quiet", *extra]
        self.proc = subprocess.Popen(
            command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=child_env()
        )
        assert self.proc.stderr is not None
        self.port = 0
        for line in self.proc.stderr:
            found = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
            self.port = int(found.group(1)) if found else self.port
            if line.startswith("waiting for callbacks"):
                break

    def cpu(self) -> float:
        """Seconds of CPU the listener process has used (user + system)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rate(self, count: int, tag: str, sender: str) -> tuple[float, float]:
        """(callbacks/s, CPU seconds per callback) of one round, sent by `sender` ("http.client"
        or "socket")."""
        send = _by_http_client if sender == "http.client" else _by_socket
        used = self.cpu()
        started = time.perf_counter()
        send(self.port, [_QUERY.format(id=f"{tag}-{n}") for n in range(count)])
        took = time.perf_counter() - started
        return count / took, (self.cpu() - used) / count

    def close(self) -> str:
        self.proc.terminate()
        _, said = self.proc.communicate(timeout=30)
        return said


def _by_http_client(port: int, targets: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for target in targets:
        connection.request("GET", target)
        answer = connection.getresponse()
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"callback answered {answer.status}")
    connection.close()


def _by_socket(port: int, targets: list[str]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        held = b""
        for target in targets:
            sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            while (end := held.find(b"\r\n\r\n")) < 0 or len(held) < end + 4 + _length(held):
                held += sock.recv(65536)
            if not held.startswith(b"HTTP/1.1 200 "):
                raise RuntimeError(f"callback answered {held[:40]!r}")
            held = held[end + 4 + _length(held) :]


def _length(head: bytes) -> int:
    return int(head.split(b"\r\nContent-Length: ", 1)[1].split(b"\r\n", 1)[0])


_SENDERS = ("http.client", "socket")


def measure_listener(rounds: int, each: int, folder: Path) -> list[str]:
    journal = folder / "listen.sqlite"
    plain, journalled = Listen(), Listen("--journal", str(journal))
    runs = [(key, sender) for sender in _SENDERS for key in ("journal", "plain")]
    rates: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
    cpu: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
    try:
        for round_ in range(rounds):
            for key, sender in runs:
                listener = journalled if key == "journal" else plain
                rate, seconds = listener.rate(each, f"r{round_}{sender}", sender)
                rates[key, sender].append(rate)
                cpu[key, sender].append(seconds)
    finally:
        plain.close()
        said = journalled.close()
    written = re.search(r"journal: (\d+) status callbacks written in (\d+) transactions", said)
    median = {run: statistics.median(values) for run, values in rates.items()}
    per = {run: statistics.median(values) for run, values in cpu.items()}
    return [
        "| one keep-alive connection | sent by | callbacks/s (median) | rounds (min to max) |"
        " listener CPU per callback | callbacks/s per core of CPU |",
        "|---|---|---:|---|---:|---:|",
        *(
            f"| `listen{' --journal' if key == 'journal' else ''}` | {sender} |"
            f" {median[key, sender]:,.0f} | {min(rates[key, sender]):,.0f} to"
            f" {max(rates[key, sender]):,.0f} | {per[key, sender] * 1e6:,.0f} µs |"
            f" {1 / per[key, sender]:,.0f} |"
            for key, sender in runs
        ),
        "",
        "With the journal / without: "
        + ", ".join(f"{median['journal', s] / median['plain', s]:.2f} ({s})" for s in _SENDERS)
        + f" ({rounds} rounds of {each:,} callbacks each, interleaved)."
        + (
            f" The journal wrote {written.group(1)} in {written.group(2)} transactions."
            if written
            else ""
        ),
    ]


# -- the report ------------------------------------------------------------------------------


def write_journal(path: Path, rows: int, seed: int = 1) -> None:
    """A finished campaign of `rows` rows in 200-row batches, and a status for each message as
    the callbacks would have left it: 85% received, 6% failed, 1% expired, the rest pending."""
    from clickatell_sms.bulk.delivery import StatusUpdate
    from clickatell_sms.bulk.journal import Member
    from clickatell_sms.bulk.sqlite_delivery import SQLiteDelivery
    from clickatell_sms.bulk.sqlite_journal import SQLiteJournal
    from clickatell_sms.statuses import KNOWN_STATUSES

    draw = random.Random(seed)
    journal = SQLiteJournal.create(path, {"benchmark": "report"})
    store = SQLiteDelivery.open(path)
    try:
        for batch in range(rows // 200):
            base = batch * 200
            members = [
                Member(base + i, base + i, f"2782{base + i:07d}", f"2782{base + i:07d}", None)
                for i in range(200)
            ]
            cmid = f"{journal.campaign_id}-{batch + 1}"
            journal.add((batch + 1, cmid, "hello"), members)
            journal.mark_sending(batch + 1)
            settled = [m.settled("accepted", f"{draw.getrandbits(128):032x}") for m in members]
            journal.finish(batch + 1, "answered", settled)
            sent = time.time()  # the journal's own time of the answer
            updates = []
            for row in settled:
                roll = draw.random()
                code = 4 if roll < 0.85 else 7 if roll < 0.91 else 10 if roll < 0.92 else 3
                at = sent + draw.uniform(2, 30) * (1 if code != 3 else 0.2)
                assert row.api_message_id is not None
                updates.append(
                    StatusUpdate.of(row.api_message_id, KNOWN_STATUSES[code], at, via="callback")
                )
            store.record(updates)
    finally:
        store.close()
        journal.close()


def _timed_child(code: str, path: Path) -> tuple[list[str], str]:
    """Run `code` on `path` in a process of its own: the figures it prints to stderr after
    `BENCH`, and its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        env=child_env(),
        check=True,
    )
    return re.findall(r"BENCH (.+)", done.stderr)[0].split(), done.stdout


def timed_report(path: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS MB, its stdout) of `report PATH --json` in a process of its own."""
    (took, peak), out = _timed_child(
        "import sys, time\n"
        "from clickatell_sms.cli import main\n"
        "started = time.perf_counter()\n"
        "status = main(['report', sys.argv[1], '--json'])\n"
        "took = time.perf_counter() - started\n"
        "status_file = open('/proc/self/status').read()\n"
        "peak = int(status_file.split('VmHWM:')[1].split()[0])\n"
        "print(f'BENCH {took:.3f} {peak / 1024:.1f}', file=sys.stderr)\n"
        "sys.exit(status)\n",
        path,
    )
    return float(took), float(peak), out


def timed_indexing(path: Path) -> float:
    """Seconds of the indexing `bulk --journal` does as it ends, in a process of its own."""
    (took,), _ = _timed_child(
        "import sys, time\n"
        "from clickatell_sms.bulk.delivery import open_delivery\n"
        "started = time.perf_counter()\n"
        "with open_delivery(sys.argv[1]) as store:\n"
        "    store.sync()\n"
        "print(f'BENCH {time.perf_counter() - started:.3f}', file=sys.stderr)\n",
        path,
    )
    return float(took)


def measure_report(rows: int, folder: Path) -> list[str]:
    path = folder / "large.sqlite"
    started = time.perf_counter()
    write_journal(path, rows)
    built = time.perf_counter() - started
    size = sum(p.stat().st_size for p in folder.glob("large.sqlite*")) / 2**20
    copy = folder / "copy.sqlite"
    shutil.copyfile(path, copy)
    indexing = timed_indexing(copy)
    cold = timed_report(path)
    warm = [timed_report(path) for _ in range(3)]
    seconds = statistics.median(t for t, _, _ in warm)
    peak = max(p for _, p, _ in warm)
    import json

    funnel = json.loads(cold[2])["funnel"]
    return [
        f"| `report --json`, {rows:,} rows | wall s | peak RSS MB |",
        "|---|---:|---:|",
        f"| first report, rows not indexed (`send_many`, no listener) | {cold[0]:.2f}"
        f" | {cold[1]:.0f} |",
        f"| indexed: after `bulk --journal` or `listen --journal` (median of 3) | {seconds:.2f}"
        f" | {peak:.0f} |",
        f"| (`bulk --journal` indexing its rows as it ends) | {indexing:.2f} | |",
        "",
        f"Journal: {size:.0f} MB on disk, written in {built:.0f} s; its funnel: {funnel}.",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.delivery", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, a smaller journal")
    parser.add_argument("--rows", type=int, help="rows of the report's journal (default 1M)")
    parser.add_argument("--rounds", type=int, help="rounds of the listener (default 7)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 7)
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="clickatell-bench-") as folder:
        lines = [f"Load average before: {load:.2f} (2 cores, shared).", ""]
        lines += measure_listener(rounds, 400 if args.quick else 2000, Path(folder))
        lines += ["", *measure_report(rows, Path(folder))]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
