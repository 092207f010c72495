"""`clickatell-sms bulk --dry-run` at 100,000 and 1,000,000 rows: wall time and peak RSS.

    scripts/bench --dry-run        # or: python -m benchmarks.dry_run [--rows 100000,...]

Each case runs the command as a user types it, `bulk --csv FILE --template T --dry-run --json`,
in a fresh child (`python -m benchmarks.dry_run child CSV`): its wall time is from the call of
`clickatell_sms.cli.main` to its return (the file's pre-scan, the opt-out store's opening and
every row; the interpreter's start is outside), and its peak RSS is the child's VmHWM. The file
is a campaign as users send them: a template filled with names of which a fifth turn it UCS-2,
a note that makes some messages two or three parts long, 1% invalid rows and 0.25% repeats; the
opt-out store holds 1,000 of its numbers. Row counts run interleaved, `--rounds` times; medians.

Targets: a million rows in at most 10 s, and flat memory (peak RSS at the largest count within
20% of the one at 100,000 rows).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .procs import ROOT, child_env, peak_rss_kb

ROWS = (100_000, 1_000_000)
SECONDS_TARGET = 10.0
RSS_GROWTH = 0.20
TEMPLATE = "Hi {name}, {note} Reply STOP to opt out."
_SHOWN = ("invalid", "duplicates", "opted_out", "requests", "parts", "encodings")
_NAMES = ("Anna", "José", "Zoë", "Sipho", "Chen", "Noor", "Émile", "Łukasz", "Ama", "Ravi")
_NOTES = (
    "your order is ready.",
    "your order is ready for collection at the depot on Main Street between 08:00 and 17:00"
    " on weekdays; please bring your ID and the slip we sent you.",
)


@dataclass
class DryRunCase:
    rows: int
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    counts: dict[str, object] = field(default_factory=dict)

    @property
    def wall(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def cpu_s(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")

    @property
    def rss(self) -> float:
        return statistics.median(self.rss_mb) if self.rss_mb else float("nan")


def write_campaign(path: Path, count: int) -> None:
    """`count` rows: numbers, names and notes, with bad rows and repeats; written as made."""
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        out.write("to,name,note\n")
        for i in range(count):
            repeat = i % 200 == 11 and (i // 1000) % 2 == 1  # row i - 1000 again (not a repeat)
            j = i - 1000 if repeat else i
            number = "12345" if i % 100 == 37 else f"2782{j:07d}"  # too short: invalid
            out.write(f'{number},{_NAMES[j % 10]},"{_NOTES[(j // 10) % 7 == 3]}"\n')


def _child(csv: str) -> None:
    """One run of the command in this process; then one JSON line: seconds, VmHWM, counts."""
    import contextlib
    import io

    from clickatell_sms.cli import main

    out = io.StringIO()
    started, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(out):
        status = main(["bulk", "--csv", csv, "--template", TEMPLATE, "--dry-run", "--json"])
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    print(json.dumps({"status": status, "seconds": seconds, "cpu": cpu, "rss_kb": peak_rss_kb(),
                      "report": report}), flush=True)  # fmt: skip


def _run(csv: Path, store: Path, rows: int) -> tuple[float, float, float, dict[str, object]]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.dry_run", "child", str(csv)],
        capture_output=True,
        text=True,
        env=child_env({"CLICKATELL_OPT_OUTS": str(store)}),
        cwd=ROOT,
        timeout=max(300.0, rows / 1000),
        check=False,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()
        raise RuntimeError(tail[-1] if tail else f"exit {proc.returncode}")
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    report = answer["report"]
    if report["rows"] != rows:
        raise RuntimeError(f"{report['rows']} rows read of {rows}")
    return answer["seconds"], answer["cpu"], answer["rss_kb"] / 1024, report


def _store(folder: Path) -> Path:
    """An opt-out store holding 1,000 of the campaign's numbers."""
    from clickatell_sms.opt_outs import Entry, open_opt_outs

    path = folder / "opt-outs.sqlite"
    store = open_opt_outs(path)
    try:
        store.opt_out_many(Entry(f"2782{i:07d}", "STOP") for i in range(5, 1_000_000, 1000))
    finally:
        store.close()
    return path


def measure(rows: tuple[int, ...], rounds: int, log: Callable[[str], None]) -> list[DryRunCase]:
    """Every row count `rounds` times, interleaved."""
    cases = [DryRunCase(count) for count in rows]
    with tempfile.TemporaryDirectory(prefix="bench-dry-run-") as tmp:
        folder = Path(tmp)
        store = _store(folder)
        files = {count: folder / f"{count}.csv" for count in rows}
        for count, path in files.items():
            write_campaign(path, count)
        for round_ in range(rounds):
            for case in cases:
                try:
                    seconds, cpu, rss, report = _run(files[case.rows], store, case.rows)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    case.errors.append(str(exc))
                    log(f"dry-run: round {round_ + 1}, {case.rows:,} rows: {exc}")
                    continue
                case.seconds.append(seconds)
                case.cpu.append(cpu)
                case.rss_mb.append(rss)
                case.counts = {k: report[k] for k in _SHOWN}
                log(
                    f"dry-run: round {round_ + 1}/{rounds}, {case.rows:,} rows: {seconds:.2f} s,"
                    f" {cpu:.2f} s of CPU, {rss:.1f} MB"
                )
    return cases


def table(cases: list[DryRunCase]) -> list[str]:
    out = [
        "| rows | wall s, median | CPU s, median | peak RSS MB, median"
        " | rounds (wall s, CPU s, MB) |",
        "|---:|---:|---:|---:|---|",
    ]
    for case in cases:
        each = "; ".join(
            f"{s:.2f}, {c:.2f}, {m:.1f}"
            for s, c, m in zip(case.seconds, case.cpu, case.rss_mb, strict=True)
        )
        if case.errors:
            each += f" ({len(case.errors)} failed: {case.errors[0]})"
        out.append(
            f"| {case.rows:,} | {case.wall:.2f} | {case.cpu_s:.2f} | {case.rss:.1f} | {each} |"
        )
    return out


def verdict(cases: list[DryRunCase]) -> list[str]:
    largest = max(cases, key=lambda c: c.rows)
    smallest = min(cases, key=lambda c: c.rows)
    lines = [
        f"{largest.rows:,} rows in {largest.wall:.2f} s, {largest.cpu_s:.2f} s of CPU (target"
        f" <= {SECONDS_TARGET:.0f} s): {'met' if largest.wall <= SECONDS_TARGET else 'NOT MET'}",
        f"what it found at {largest.rows:,} rows: {largest.counts}",
    ]
    if smallest is not largest:
        growth = largest.rss / smallest.rss - 1
        lines.append(
            f"peak RSS from {smallest.rows:,} to {largest.rows:,} rows: {growth:+.1%}"
            f" (target <= {RSS_GROWTH:.0%}): {'met' if growth <= RSS_GROWTH else 'NOT MET'}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench --dry-run", description=__doc__)
    parser.add_argument("mode", nargs="?", choices=["child"], help=argparse.SUPPRESS)
    parser.add_argument("csv", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--rows", default=",".join(str(n) for n in ROWS))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.mode == "child":
        _child(args.csv)
        return 0
    rows = tuple(int(n) for n in args.rows.split(","))
    before = os.getloadavg()[0]
    cases = measure(rows, args.rounds, lambda m: print(m, file=sys.stderr, flush=True))
    print(f"Load average before: {before:.2f}, after: {os.getloadavg()[0]:.2f} (2 cores, shared).")
    print("`clickatell-sms bulk --dry-run --json` (one process, a fresh one per run)")
    for line in [*table(cases), "", *verdict(cases)]:
        print(line)
    return 0 if all(not c.errors for c in cases) else 1


if __name__ == "__main__":
    sys.exit(main())
