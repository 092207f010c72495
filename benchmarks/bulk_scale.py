"""`clickatell-sms bulk` on its embedded sandbox: peak RSS and recipients/s as the rows grow.

    scripts/bench --bulk-scale        # or: python -m benchmarks.bulk_scale [--rows 10000,...]

Each case runs the command as a user does, with no key and no base URL (so the command starts
its own sandbox, in its own process, on a thread), in a fresh child: `python -m
benchmarks.bulk_scale child CSV` calls `clickatell_sms.cli.main(["bulk", ...])` and then reports
its own peak RSS (VmHWM: the whole process, client and sandbox together) and the summary's
recipients/s (the run's duration: reading, journalling and sending; the CSV's pre-scan and the
sandbox's start are outside it). Row counts run interleaved, `--rounds` times; medians are
reported, with the rate of the largest count as a share of the rate at 100,000 rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .bulk import write_csv
from .procs import ROOT, child_env, peak_rss_kb

ROWS = (10_000, 100_000, 1_000_000)
RSS_TARGET_MB = 120.0
RATE_TOLERANCE = 0.10  # the largest count's rate within 10% of the rate at 100,000 rows


@dataclass
class ScaleCase:
    rows: int
    rss_mb: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rss(self) -> float:
        return statistics.median(self.rss_mb) if self.rss_mb else float("nan")

    @property
    def rate(self) -> float:
        return statistics.median(self.rates) if self.rates else float("nan")


def _child(csv: str) -> None:
    """One run of the command, in this process; then one JSON line: the summary and VmHWM."""
    import contextlib
    import io
    import os

    from clickatell_sms.cli import main

    for name in ("CLICKATELL_API_KEY", "CLICKATELL_BASE_URL"):
        os.environ.pop(name, None)  # the embedded sandbox, as on a fresh machine
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["bulk", "--csv", csv, "--text", "hello", "--json", "--progress", "none"])
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    answer = {"status": status, "summary": summary, "rss_kb": peak_rss_kb()}
    print(json.dumps(answer), flush=True)


def _run(csv: Path, rows: int) -> tuple[float, float]:
    """(peak RSS in MB, recipients/s) of one run, or RuntimeError."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bulk_scale", "child", str(csv)],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        timeout=max(300.0, rows / 1000),
        check=False,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()
        raise RuntimeError(tail[-1] if tail else f"exit {proc.returncode}")
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    summary = answer["summary"]
    if answer["status"] != 0 or summary["accepted"] != rows:
        raise RuntimeError(f"exit {answer['status']}, {summary['accepted']} of {rows} accepted")
    return answer["rss_kb"] / 1024, float(summary["recipients_per_s"])


def measure(rows: tuple[int, ...], rounds: int, log: Callable[[str], None]) -> list[ScaleCase]:
    """Every row count `rounds` times, interleaved (10k, 100k, 1M, 10k, ...)."""
    cases = [ScaleCase(count) for count in rows]
    with tempfile.TemporaryDirectory(prefix="bench-bulk-scale-") as tmp:
        files = {}
        for count in rows:
            files[count] = Path(tmp) / f"{count}.csv"
            write_csv(files[count], count)
        for round_ in range(rounds):
            for case in cases:
                journal = Path(f"{files[case.rows]}.journal")
                journal.unlink(missing_ok=True)  # a new campaign each round
                try:
                    rss, rate = _run(files[case.rows], case.rows)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    case.errors.append(str(exc))
                    log(f"bulk-scale: round {round_ + 1}, {case.rows:,} rows: {exc}")
                    continue
                case.rss_mb.append(rss)
                case.rates.append(rate)
                log(
                    f"bulk-scale: round {round_ + 1}/{rounds}, {case.rows:,} rows:"
                    f" {rss:.1f} MB, {rate:,.0f} recipients/s"
                )
    return cases


def verdict(cases: list[ScaleCase]) -> list[str]:
    """The targets, each met or not, with the figures that decide it."""
    largest = max(cases, key=lambda c: c.rows)
    reference = next((c for c in cases if c.rows == 100_000), None)
    lines = [
        f"peak RSS at {largest.rows:,} rows: {largest.rss:.1f} MB (target <= {RSS_TARGET_MB:.0f}"
        f" MB): {'met' if largest.rss <= RSS_TARGET_MB else 'NOT MET'}"
    ]
    if reference is not None and reference is not largest:
        share = largest.rate / reference.rate
        met = share >= 1 - RATE_TOLERANCE
        lines.append(
            f"recipients/s at {largest.rows:,} rows: {share:.0%} of the rate at 100,000 rows"
            f" (target >= {1 - RATE_TOLERANCE:.0%}): {'met' if met else 'NOT MET'}"
        )
    return lines


def table(cases: list[ScaleCase]) -> list[str]:
    out = [
        "| rows | peak RSS, median (MB) | recipients/s, median | rounds (MB; recipients/s) |",
        "|---:|---:|---:|---|",
    ]
    for case in cases:
        each = "; ".join(
            f"{rss:.1f}, {rate:,.0f}" for rss, rate in zip(case.rss_mb, case.rates, strict=True)
        )
        if case.errors:
            each += f" ({len(case.errors)} failed: {case.errors[0]})"
        out.append(f"| {case.rows:,} | {case.rss:.1f} | {case.rate:,.0f} | {each} |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench --bulk-scale", description=__doc__)
    parser.add_argument("mode", nargs="?", choices=["child"], help=argparse.SUPPRESS)
    parser.add_argument("csv", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--rows", default=",".join(str(n) for n in ROWS))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.mode == "child":
        _child(args.csv)
        return 0
    rows = tuple(int(n) for n in args.rows.split(","))
    cases = measure(rows, args.rounds, lambda m: print(m, file=sys.stderr, flush=True))
    print("`clickatell-sms bulk` on its embedded sandbox (one process), JSON, 4 connections")
    for line in [*table(cases), "", *verdict(cases)]:
        print(line)
    return 0 if all(not c.errors for c in cases) else 1


if __name__ == "__main__":
    sys.exit(main())
