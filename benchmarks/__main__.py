"""`python -m benchmarks` (or `scripts/bench`): the side-by-side benchmark suite.

Full run (several minutes): every client on the four per-request workloads, cold imports, bulk,
code generation; writes benchmarks/RESULTS.md. `--quick` (under a minute): the floor, the bare
urllib3 exchange and the facade on reduced counts (sync and asyncio), printed only (unless
`--out`). Both end with four lines:

    facade/urllib3 json=R xml=R batch200=R xml200=R   the facade over raw urllib3 (the floor)
    async/floor json=R batch200=R                     AsyncClient over raw aiohttp
    own_us json=N batch200=N                          the SDK's own CPU per send, in µs
    ready/httpx ratio=R facade_ms=N httpx_ms=N        import + Client() over httpx's

(medians of per-round ratios, or differences, in one run). Progress goes to stderr; the result
lines to stdout.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from .bulk import run_bulk, run_latency_bulk
from .bulk_scale import ROWS as BULK_SCALE_ROWS
from .bulk_scale import measure as measure_bulk_scale
from .clients import CLIENTS
from .extras import machine, measure_codegen, measure_imports, measure_ready
from .measure import run_rounds, workloads
from .openapi_gen import generate
from .procs import ROOT, CannedServer
from .report import Results, render, summary_lines, summary_rows
from .scale import RECIPIENTS as SCALE_RECIPIENTS
from .scale import measure as measure_scale

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
NOTES = [
    "Recipients: every request carries numbers no earlier request had (bare international "
    "digits, `2782xxxxxxx`), so no client gains from caching per-number work; the row "
    "*same recipients in every request* shows the facade when its normalised-number cache hits.",
    "clickatell-platform hard-codes `https://` and makes a new `httplib2.Http()` (so a new "
    "connection) per request; it is pointed at the local server by its `endpoint` attribute "
    "and a subclass that repeats its six-line `Transport.request` with `http://`. Its wall "
    "time includes a TCP connect per request; its CPU is the fairer comparison.",
    "OpenAPI Generator: `openapi-generator-cli generate -g python -i spec/openapi.yaml` at "
    "bench time into `.bench-cache/` (git-ignored, keyed by the spec's hash); the client "
    "needs `python-dateutil` and `pydantic`. It generates from our OpenAPI 3.1 spec without "
    "errors, but its python client only (de)serializes JSON, so it has no XML rows.",
    "Where the time goes: `python -m benchmarks.profile CLIENT WORKLOAD` (cProfile, µs per "
    "request by function), e.g. `python -m benchmarks.profile facade json200`.",
]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="floor and facade, reduced, < 1 minute")
    p.add_argument(
        "--scale",
        action="store_true",
        help="only bulk on 1, 2 and 4 Celery workers, journal on PostgreSQL (benchmarks/scale.py)",
    )
    p.add_argument(
        "--delivery",
        action="store_true",
        help="only the listener writing a journal, and the report on 1M rows (benchmarks/delivery)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="only bulk --dry-run at 100k and 1M rows: wall time, peak RSS (benchmarks/dry_run)",
    )
    p.add_argument(
        "--sandbox-load",
        action="store_true",
        help="only the sandbox's single-recipient sends/s over 8 connections (target 2,000)",
    )
    p.add_argument("--rounds", type=int, help="rounds per workload (default 7)")
    p.add_argument("--single", type=int, help="requests of 1 recipient (full 2000, quick 1000)")
    p.add_argument("--batch", type=int, help="requests of 200 recipients (full 200, quick 100)")
    p.add_argument("--clients", help="comma-separated subset of: " + ", ".join(CLIENTS))
    p.add_argument("--out", type=Path, help="Markdown output (full default: benchmarks/RESULTS.md)")
    p.add_argument("--no-imports", action="store_true", help="skip cold imports")
    p.add_argument("--no-bulk", action="store_true", help="skip bulk")
    p.add_argument("--no-codegen", action="store_true", help="skip the codegen timing")
    p.add_argument("--no-scale", action="store_true", help="skip bulk on Celery workers")
    p.add_argument(
        "--bulk-scale",
        action="store_true",
        help="only the bulk command on its embedded sandbox at 10k, 100k, 1M rows"
        " (benchmarks/bulk_scale.py)",
    )
    p.add_argument(
        "--no-bulk-scale", action="store_true", help="skip the bulk command at 10k, 100k, 1M rows"
    )
    p.add_argument("--bulk-small", type=int, default=100_000)
    p.add_argument("--bulk-large", type=int, default=1_000_000)
    p.add_argument("--latency-recipients", type=int, default=40_000)
    p.add_argument("--import-repeats", type=int, default=9)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["--scale"]:  # bulk on Celery workers: benchmarks/scale.py
        from .scale import main as scale

        return scale(given[1:])
    if given[:1] == ["--bulk-scale"]:  # the bulk command on its embedded sandbox
        from .bulk_scale import main as bulk_scale

        return bulk_scale(given[1:])
    if given[:1] == ["--delivery"]:  # the listener's journal and the report: benchmarks/delivery.py
        from .delivery import main as delivery

        return delivery(given[1:])
    if given[:1] == ["--sandbox-load"]:  # the sandbox's sends/s: benchmarks/sandbox_load.py
        from .sandbox_load import main as sandbox_load

        return sandbox_load(given[1:])
    if given[:1] == ["--dry-run"]:  # bulk --dry-run at 100k and 1M rows: benchmarks/dry_run.py
        from .dry_run import main as dry_run

        return dry_run(given[1:])
    args = _args(argv)
    quick = args.quick
    rounds = args.rounds or 7
    loads = workloads(
        args.single or (1000 if quick else 2000), args.batch or (100 if quick else 200)
    )
    if args.clients:
        keys = [k.strip() for k in args.clients.split(",") if k.strip()]
        unknown = [k for k in keys if k not in CLIENTS]
        if unknown:
            raise SystemExit(f"unknown clients: {', '.join(unknown)}")
    else:
        keys = [k for k, spec in CLIENTS.items() if spec.quick or not quick]
    for needed in ("bare", "floor"):  # the floor of every ratio, and of own_us
        if needed not in keys:
            keys.insert(0, needed)
    command = " ".join(["scripts/bench", *(sys.argv[1:] if argv is None else argv)])
    res = Results(machine(), command, rounds, loads, keys, {}, quick=quick, notes=list(NOTES))

    env: dict[str, str] = {}
    if "openapi-generator" in keys:
        _log("OpenAPI Generator client: generating (cached by spec hash) ...")
        res.openapi = generate()
        if res.openapi.path is not None:
            env["BENCH_OPENAPI_CLIENT"] = str(res.openapi.path)
        else:
            _log(f"  {res.openapi.error}")

    _log(f"per-request rounds: {', '.join(keys)} x {rounds} rounds")
    with CannedServer() as server:
        res.cells = run_rounds(keys, server.base_url, loads, rounds, env, _log)

    if not args.no_imports:
        _log("import + Client() against httpx ...")
        res.ready = measure_ready(args.import_repeats, _log)
    if not quick and not args.no_imports:
        res.imports, res.python_pass_rss = measure_imports(keys, args.import_repeats, env, _log)
    if not quick and not args.no_bulk:
        _log("bulk ...")
        res.bulk = run_bulk(args.bulk_small, args.bulk_large, (1, 4, 8), _log)
    if not quick and not args.no_bulk:
        _log("bulk at 100 ms of latency, threads and asyncio ...")
        res.latency_bulk = run_latency_bulk(args.latency_recipients, 0.1, (4, 16, 64), _log)
    if not quick and not args.no_bulk_scale:
        _log("the bulk command on its embedded sandbox, 10k to 1M rows ...")
        res.bulk_scale = measure_bulk_scale(BULK_SCALE_ROWS, 3, _log)
    if not quick and not args.no_scale:
        _log("bulk on Celery workers ...")
        try:
            res.scale = measure_scale([1, 2, 4], SCALE_RECIPIENTS, 3, _log)
        except (OSError, subprocess.SubprocessError, ImportError) as exc:
            res.scale_note = f"not measured: {exc} (needs Redis, PostgreSQL and the celery extra)"
    if not quick and not args.no_codegen:
        _log("codegen ...")
        res.codegen = measure_codegen()

    out = args.out or (None if quick else RESULTS)
    if out is not None:
        out.write_text(render(res))
        _log(f"wrote {out}")
    for row in summary_rows(res):
        print(row, file=sys.stderr)
    print("\n".join(summary_lines(res)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
