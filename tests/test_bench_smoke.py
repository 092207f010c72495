"""The benchmark harness runs end to end on tiny counts, and its summary line parses.

Not a timed test: nothing here asserts anything about speed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATIO = r"(\d+\.\d\d|n/a)"
NUMBER = r"(-?\d+\.\d|n/a)"
LINE = re.compile(rf"^facade/urllib3 json={RATIO} xml={RATIO} batch200={RATIO} xml200={RATIO}$")
ASYNC_LINE = re.compile(rf"^async/floor json={RATIO} batch200={RATIO}$")
OWN_LINE = re.compile(rf"^own_us json={NUMBER} batch200={NUMBER}$")
READY_LINE = re.compile(rf"^ready/httpx ratio={RATIO} facade_ms={NUMBER} httpx_ms={NUMBER}$")


def test_quick_bench_runs_and_prints_its_four_lines(tmp_path: Path) -> None:
    out = tmp_path / "quick.md"
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--single", "20", "--batch", "3"]
    cmd += ["--rounds", "2", "--import-repeats", "1", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    sync_line, async_line, own_line, ready_line = proc.stdout.strip().splitlines()
    assert LINE.match(sync_line), sync_line
    assert "n/a" not in sync_line  # the facade and raw urllib3 both ran
    assert ASYNC_LINE.match(async_line), async_line
    assert "n/a" not in async_line  # both async clients ran and were compared
    assert OWN_LINE.match(own_line), own_line
    assert "n/a" not in own_line  # the bare urllib3 exchange ran beside the facade
    assert READY_LINE.match(ready_line), ready_line  # n/a without httpx (the bench extra)
    # The floor always runs, so its rows have numbers; the facade's are numbers once it exists.
    report = out.read_text()
    assert "### JSON, batch: 3 x 200 recipients" in report
    floor_rows = [
        line
        for line in report.splitlines()
        if line.startswith("| floor: urllib3 HTTPConnectionPool")
    ]
    assert len(floor_rows) == 4  # one per table: JSON and XML, 1 and 200 recipients
    assert all("| **1.00** |" in row for row in floor_rows)  # the floor against itself
    # own_us pairs the bare exchange with the facade in the facade's process; the figure from
    # the bare exchange's own process stays beside it.
    own_rows = [line for line in report.splitlines() if "the SDK's own cpu per JSON send" in line]
    assert len(own_rows) == 1 and "(apart: " in own_rows[0] and "n/a" not in own_rows[0]


def test_own_us_subtracts_the_bare_exchange_run_in_the_facades_process() -> None:
    from benchmarks.measure import Cell, Workload
    from benchmarks.report import own_us

    load = Workload("json1", "JSON, single", "json", 1, 10)
    facade = Cell("facade", load, cpu_us=[200.0, 210.0, 190.0], pair_cpu_us=[180.0, 185.0, 175.0])
    bare = Cell("bare", load, cpu_us=[150.0, 150.0, 150.0])
    cells = {("facade", "json1"): facade, ("bare", "json1"): bare}
    assert own_us(cells, "json1") == 20.0  # the median of 20, 25 and 15
    assert own_us(cells, "json1", apart=True) == 50.0  # the bare exchange's own process
    facade.pair_cpu_us.clear()  # a run without the pair: the figure from apart
    assert own_us(cells, "json1") == 50.0


def test_canned_server_answers_one_entry_per_recipient() -> None:
    from benchmarks.clients import Floor
    from benchmarks.procs import CannedServer

    with CannedServer() as server:
        for fmt in ("json", "xml"):
            client = Floor(server.base_url, fmt)
            rows = client.send(["+27820000001", "27820000002"])
            assert [row[0] for row in rows] == ["27820000001", "27820000002"]
            assert all(row[2] is True and row[1] for row in rows)


def test_ratio_lines_report_missing_cells_as_na() -> None:
    from benchmarks.report import async_line, own_line, ratio_line, ready_line

    assert LINE.match(ratio_line({}))
    assert ASYNC_LINE.match(async_line({}))
    assert OWN_LINE.match(own_line({}))
    assert READY_LINE.match(ready_line(None))


def test_cli_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0 and "--quick" in proc.stdout


def test_bulk_scale_runs_the_bulk_command_on_its_embedded_sandbox() -> None:
    """`scripts/bench --bulk-scale` on tiny counts: a table row per count and the RSS verdict."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks",
        "--bulk-scale",
        "--rows",
        "300,1000",
        "--rounds",
        "1",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith(("| 300 |", "| 1,000 |"))]
    assert len(rows) == 2, proc.stdout
    assert "peak RSS at 1,000 rows:" in proc.stdout


def test_the_dry_run_bench_reads_its_files_in_fresh_children() -> None:
    """`scripts/bench --dry-run` on tiny counts: a table row per count, what the dry run found
    (the file's bad rows, repeats and opted-out numbers), and the memory verdict."""
    cmd = [sys.executable, "-m", "benchmarks", "--dry-run", "--rows", "2000,6000", "--rounds", "1"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [
        line for line in proc.stdout.splitlines() if line.startswith(("| 2,000 |", "| 6,000 |"))
    ]
    assert len(rows) == 2, proc.stdout
    assert (
        "what it found at 6,000 rows: {'invalid': 60, 'duplicates': 15, 'opted_out': 6,"
        in proc.stdout
    )
    assert "peak RSS from 2,000 to 6,000 rows:" in proc.stdout
