"""Bulk on workers: recipients per second with 1, 2 and 4 Celery workers, journal on PostgreSQL.

    scripts/bench --scale             # or: python -m benchmarks.scale [--recipients N]

Needs Redis and PostgreSQL: the ones named by CLICKATELL_TEST_REDIS_URL and
CLICKATELL_TEST_POSTGRES_URL, else it starts its own with scripts/services (and stops them).
The sandbox answers every request after 50 ms (a network's round trip), in this process; each
worker is `celery worker -c 1` (one shard at a time), each shard sends 4 requests at once. The
rate is recipients sent over the campaign's whole wall time: loading its rows into PostgreSQL,
queueing, sending, and the summary; each worker count runs `--rounds` times (interleaved) and
the median is reported. Prints one Markdown table; the full `scripts/bench` puts it in
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .procs import ROOT

LATENCY = 0.05
RECIPIENTS = 40_000


@contextlib.contextmanager
def services() -> Iterator[tuple[str, str]]:
    redis, postgres = (
        os.environ.get("CLICKATELL_TEST_REDIS_URL"),
        os.environ.get("CLICKATELL_TEST_POSTGRES_URL"),
    )
    if redis and postgres:
        yield redis, postgres
        return
    script = ROOT / "scripts" / "services"
    exports = subprocess.run([str(script), "start"], check=True, capture_output=True, text=True)
    found = dict(
        line.removeprefix("export ").split("=", 1)
        for line in exports.stdout.splitlines()
        if line.startswith("export ")
    )
    values = {key: shlex.split(value)[0] for key, value in found.items()}
    try:
        yield values["CLICKATELL_TEST_REDIS_URL"], values["CLICKATELL_TEST_POSTGRES_URL"]
    finally:
        subprocess.run([str(script), "stop", values["CLICKATELL_TEST_SERVICES"]], check=False)


def run(workers: int, recipients: int, redis: str, postgres: str) -> tuple[float, int]:
    """(recipients per second, recipients sent) for one campaign on `workers` workers."""
    import psycopg
    import redis as redis_py

    from clickatell_sms.bulk.cluster import run_campaign
    from clickatell_sms.sandbox import Faults, Sandbox

    redis_py.Redis.from_url(redis).flushdb()
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    password = psycopg.conninfo.conninfo_to_dict(postgres).get("password", "")
    celery = str(Path(sys.executable).with_name("celery"))
    numbers = [f"2783{i:06d}0" for i in range(recipients)]
    with Sandbox(api_keys=("key",), balance=10**9, faults=Faults(latency=LATENCY)) as sandbox:
        env = {
            **os.environ,
            "CLICKATELL_API_KEY": "key",
            "CLICKATELL_BASE_URL": sandbox.base_url,
            "CLICKATELL_CELERY_BROKER": redis,
            "PGPASSWORD": str(password),
        }
        worker = (celery, "-A", "clickatell_sms.worker", "worker", "-Q", queue, "-c", "1")
        quiet = ("-l", "error", "--without-gossip", "--without-mingle", "--without-heartbeat")
        procs = [
            subprocess.Popen(
                [*worker, "-n", f"b{n}-{queue}@%h", *quiet],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for n in range(workers)
        ]
        try:
            time.sleep(3)  # the workers' start is not what is measured
            summary = run_campaign(
                numbers,
                "hello",
                journal=postgres,
                broker=redis,
                new_campaign=True,  # each round sends the same campaign again, on purpose
                queue=queue,
                shards=16,
                concurrency=4,
                timeout=600,
            )
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=30)
    assert summary.accepted == recipients, summary
    return summary.sent / summary.duration, summary.sent


@dataclass
class ScaleRow:
    workers: int
    rates: list[float]  # recipients/s, one per round

    @property
    def median(self) -> float:
        return statistics.median(self.rates)


def measure(
    counts: list[int], recipients: int, rounds: int, log: Callable[[str], None]
) -> list[ScaleRow]:
    """Each worker count `rounds` times, interleaved (1, 2, 4, 1, 2, 4, ...): noise on the shared
    machine then spreads over every count instead of landing on one."""
    rows = [ScaleRow(workers, []) for workers in counts]
    with services() as (redis, postgres):
        for round_ in range(rounds):
            for row in rows:
                log(f"scale: round {round_ + 1}/{rounds}, {row.workers} worker(s) ...")
                rate, _ = run(row.workers, recipients, redis, postgres)
                row.rates.append(rate)
    return rows


def table(rows: list[ScaleRow], recipients: int) -> list[str]:
    """The Markdown table of medians (and each round's figure)."""
    base = rows[0].median
    out = [
        "| workers | recipients/s, median | vs 1 worker | rounds |",
        "|---:|---:|---:|---|",
    ]
    for row in rows:
        each = ", ".join(f"{rate:,.0f}" for rate in row.rates)
        out.append(f"| {row.workers} | {row.median:,.0f} | {row.median / base:.2f}x | {each} |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench --scale", description=__doc__)
    parser.add_argument("--recipients", type=int, default=RECIPIENTS)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    rows = measure(counts, args.recipients, args.rounds, lambda m: print(m, file=sys.stderr))
    print(
        f"{args.recipients:,} recipients, 50 ms per request, 16 shards, 4 requests in flight"
        " per shard, journal on PostgreSQL"
    )
    for line in table(rows, args.recipients):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
