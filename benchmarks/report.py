"""Markdown for RESULTS.md, the targets check, and the one-line summary `--quick` ends with."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .bulk import BulkResult, LatencyRun
from .bulk_scale import ScaleCase as BulkScaleCase
from .bulk_scale import table as bulk_scale_table
from .bulk_scale import verdict as bulk_scale_verdict
from .clients import CLIENTS
from .extras import CodegenTime, ImportTime, ReadyTime
from .measure import Cell, Workload, median, quartiles
from .openapi_gen import Generated
from .scale import RECIPIENTS as SCALE_RECIPIENTS
from .scale import ScaleRow
from .scale import table as scale_table

RATIO_KEYS = (("json", "json1"), ("xml", "xml1"), ("batch200", "json200"), ("xml200", "xml200"))
TARGETS = {"json1": 1.15, "json200": 1.10, "xml1": 1.15, "xml200": 1.10}
"""The facade's CPU over raw urllib3's (one HTTPConnectionPool, the same codecs, no checks)."""
OWN_KEYS = (("json", "json1"), ("batch200", "json200"))
OWN_TARGET_US = 30.0
"""The SDK's own CPU per one-recipient JSON send (the facade's less the bare urllib3 exchange's)."""
IMPORT_TARGET_MS = 100.0
READY_TARGET = 0.6
"""import + Client() against `import httpx; httpx.Client()`, measured side by side."""
BULK_GROWTH_TARGET = 0.20


@dataclass
class Results:
    machine: dict[str, str]
    command: str
    rounds: int
    loads: list[Workload]
    keys: list[str]
    cells: dict[tuple[str, str], Cell]
    quick: bool = False
    imports: list[ImportTime] = field(default_factory=list)
    python_pass_rss: float = float("nan")
    ready: ReadyTime | None = None
    bulk: BulkResult | None = None
    codegen: CodegenTime | None = None
    latency_bulk: list[LatencyRun] = field(default_factory=list)
    latency: float = 0.1
    openapi: Generated | None = None
    scale: list[ScaleRow] | None = None
    bulk_scale: list[BulkScaleCase] | None = None
    scale_note: str | None = None
    notes: list[str] = field(default_factory=list)


def _f(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def facade_ratio(cells: dict[tuple[str, str], Cell], load: str) -> float:
    cell = cells.get(("facade", load))
    return median(cell.cpu_ratio) if cell and cell.ok and cell.cpu_ratio else float("nan")


def ratio_line(cells: dict[tuple[str, str], Cell]) -> str:
    """`facade/urllib3 json=R xml=R batch200=R xml200=R`: medians of per-round CPU ratios
    against the floor (raw urllib3)."""
    parts = [f"{label}={_f(facade_ratio(cells, load), 2)}" for label, load in RATIO_KEYS]
    return "facade/urllib3 " + " ".join(parts)


def own_us(cells: dict[tuple[str, str], Cell], load: str, apart: bool = False) -> float:
    """The SDK's own CPU per send in µs: the facade's less the bare urllib3 exchange's, both
    run in the facade's process in alternating slices of each round (median over rounds).
    `apart`: less the bare exchange's own process instead (the figure before pairing, shown
    beside it: each process's memory layout moves it by several µs)."""
    ours, bare = cells.get(("facade", load)), cells.get(("bare", load))
    if not (ours and ours.ok):
        return float("nan")
    if not apart and ours.pair_cpu_us:
        return median([a - b for a, b in zip(ours.cpu_us, ours.pair_cpu_us, strict=True)])
    if not (bare and bare.ok):
        return float("nan")
    return median([a - b for a, b in zip(ours.cpu_us, bare.cpu_us, strict=False)])


def own_line(cells: dict[tuple[str, str], Cell]) -> str:
    """`own_us json=N batch200=N`: the SDK's own CPU per send, without the transport library."""
    parts = [f"{label}={_f(own_us(cells, load), 1)}" for label, load in OWN_KEYS]
    return "own_us " + " ".join(parts)


def ready_line(ready: ReadyTime | None) -> str:
    """`ready/httpx ratio=R facade_ms=N httpx_ms=N`: import + Client() of each, side by side."""
    if ready is None:
        return "ready/httpx ratio=n/a facade_ms=n/a httpx_ms=n/a"
    return (
        f"ready/httpx ratio={_f(ready.ratio, 2)} facade_ms={_f(ready.facade_ms)}"
        f" httpx_ms={_f(ready.httpx_ms)}"
    )


ASYNC_KEYS = (("json", "json1"), ("batch200", "json200"))
ASYNC_TARGET = 1.2


def async_ratio(cells: dict[tuple[str, str], Cell], load: str) -> float:
    """AsyncClient's CPU over raw aiohttp's, median of the per-round ratios."""
    ours, floor = cells.get(("async-facade", load)), cells.get(("async-floor", load))
    if not (ours and floor and ours.ok and floor.ok):
        return float("nan")
    pairs = zip(ours.cpu_us, floor.cpu_us, strict=False)
    return median([a / b for a, b in pairs if b > 0])


def async_line(cells: dict[tuple[str, str], Cell]) -> str:
    """`async/floor json=R batch200=R`: AsyncClient against aiohttp used directly."""
    parts = [f"{label}={_f(async_ratio(cells, load), 2)}" for label, load in ASYNC_KEYS]
    return "async/floor " + " ".join(parts)


def _table(res: Results, load: Workload) -> list[str]:
    out = [
        f"### {load.title}",
        "",
        "| client | cpu µs/req | cpu IQR | **cpu × floor** | × per round (min–max) "
        "| wall µs/req | wall × floor | cpu µs/recipient | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in res.keys:
        cell = res.cells.get((key, load.name))
        label = CLIENTS[key].label
        if cell is None or not cell.ok:
            reason = cell.error if cell else "not measured"
            out.append(f"| {label} | {reason} | | | | | | | |")
            continue
        lo, hi = quartiles(cell.cpu_us)
        cpu = median(cell.cpu_us)
        rmin = min(cell.cpu_ratio) if cell.cpu_ratio else float("nan")
        rmax = max(cell.cpu_ratio) if cell.cpu_ratio else float("nan")
        out.append(
            f"| {label} | {_f(cpu)} | {_f(lo)}–{_f(hi)} | **{_f(median(cell.cpu_ratio), 2)}** "
            f"| {_f(rmin, 2)}–{_f(rmax, 2)} | {_f(median(cell.wall_us))} "
            f"| {_f(median(cell.wall_ratio), 2)} | {_f(cpu / load.recipients, 2)} "
            f"| {_f(cell.rss_mb)} |"
        )
    return [*out, ""]


def _row(target: str, value: float, shown: str, limit: float | None) -> str:
    """A row of the targets table: met when `value` is at most `limit` (no limit: shown only)."""
    if limit is None:
        met = "(no target)"
    else:
        met = "n/a" if math.isnan(value) else ("yes" if value <= limit else "**no**")
    return f"| {target} | {shown} | {met} |"


def _targets(res: Results) -> list[str]:
    out = ["## Targets", "", "| target | measured | met |", "|---|---:|:---:|"]
    names = {"json1": "JSON single", "json200": "JSON 200", "xml1": "XML single"}
    names["xml200"] = "XML 200"
    for load, limit in TARGETS.items():
        value = facade_ratio(res.cells, load)
        target = f"facade {names[load]} cpu ≤ {limit}× raw urllib3"
        out.append(_row(target, value, f"{_f(value, 2)}×", limit))
    for label, load in OWN_KEYS:
        value = own_us(res.cells, load)
        json = label == "json"
        target = f"the SDK's own cpu per {'JSON' if json else '200-recipient JSON'} send"
        target += f" ≤ {OWN_TARGET_US:.0f} µs" if json else ""
        shown = f"{_f(value)} µs (apart: {_f(own_us(res.cells, load, apart=True))} µs)"
        out.append(_row(target, value, shown, OWN_TARGET_US if json else None))
    if res.ready is not None:
        ready = res.ready
        shown = f"{_f(ready.ratio, 2)}× ({_f(ready.facade_ms)} against {_f(ready.httpx_ms)} ms)"
        target = f"import + `Client()` ≤ {READY_TARGET}× `import httpx; httpx.Client()`"
        out.append(_row(target, ready.ratio, shown, READY_TARGET))
    for load, name in (("json1", "JSON single"), ("json200", "JSON 200")):
        value = async_ratio(res.cells, load)
        target = f"AsyncClient {name} cpu ≤ {ASYNC_TARGET}× raw aiohttp"
        out.append(_row(target, value, f"{_f(value, 2)}×", ASYNC_TARGET))
    facade = next((row for row in res.imports if row.key == "facade" and not row.label), None)
    if facade is not None:
        ok = facade.error is None and facade.ms < IMPORT_TARGET_MS
        out.append(
            f"| facade cold import < {IMPORT_TARGET_MS:.0f} ms | "
            f"{facade.error or _f(facade.ms) + ' ms'} | {'yes' if ok else '**no**'} |"
        )
        xml = "n/a" if facade.error else ("**no**" if facade.xml_loaded else "yes")
        loaded = "loaded" if facade.xml_loaded else "not loaded"
        out.append(f"| XML stack not loaded by the import | {loaded} | {xml} |")
    growth = bulk_growth(res.bulk)
    if res.bulk is not None:
        met = "n/a" if math.isnan(growth) else ("yes" if growth < BULK_GROWTH_TARGET else "**no**")
        out.append(f"| bulk peak RSS 100k → 1M grows < 20% | {_f(growth * 100)}% | {met} |")
    return [*out, ""]


def bulk_growth(bulk: BulkResult | None) -> float:
    if bulk is None or not bulk.runs:
        return float("nan")
    large = bulk.runs[-1]
    same = [r for r in bulk.runs[:-1] if r.concurrency == large.concurrency and not r.error]
    if large.error or not same:
        return float("nan")
    return large.rss_mb / same[0].rss_mb - 1


def _imports(res: Results) -> list[str]:
    out = [
        "## Cold import (fresh interpreter, .pyc warm)",
        "",
        "Timed inside the interpreter around the statement only; median of the repeats, "
        "interleaved. The *import + ...()* rows add the object a first request needs (no "
        "connection is made): an import can defer work to that point. "
        f"`python -c pass` peak RSS: {_f(res.python_pass_rss)} MB.",
        "",
        "| client | import statement | ms | peak RSS MB | XML stack loaded |",
        "|---|---|---:|---:|:---:|",
    ]
    for row in res.imports:
        label = row.label or CLIENTS[row.key].label
        if row.error:
            out.append(f"| {label} | `{row.stmt}` | {row.error} | | |")
            continue
        xml = "yes" if row.xml_loaded else "no"
        out.append(f"| {label} | `{row.stmt}` | {_f(row.ms)} | {_f(row.rss_mb)} | {xml} |")
    return [*out, ""]


def _bulk(bulk: BulkResult) -> list[str]:
    out = ["## Bulk: `Client.send_many` (JSON)", ""]
    if bulk.note:
        return [*out, bulk.note, ""]
    readers = ", ".join(sorted({run.reader for run in bulk.runs if run.reader})) or "?"
    out += [
        f"Target: {bulk.target}. Recipients are read from a CSV file by "
        f"`{readers}`. Each case runs in a fresh child; peak RSS is the child's (VmHWM).",
        "",
        "| recipients | connections | accepted | s | recipients/s | client cpu s "
        "| sandbox cpu s | peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in bulk.runs:
        if run.error:
            out.append(f"| {run.recipients:,} | {run.concurrency} | {run.error} | | | | | |")
            continue
        server = _f(run.server_cpu) if run.server_cpu is not None else "n/a"
        out.append(
            f"| {run.recipients:,} | {run.concurrency} | {run.accepted:,} | {_f(run.seconds)} "
            f"| {_f(run.rate, 0)} "
            f"| {_f(run.cpu)} | {server} | {_f(run.rss_mb)} |"
        )
    growth = bulk_growth(bulk)
    out += ["", f"Peak RSS growth from 100k to 1M (same connections): {_f(growth * 100)}%.", ""]
    return out


def _latency_bulk(runs: list[LatencyRun], latency: float) -> list[str]:
    out = [
        f"## Bulk at {latency * 1000:.0f} ms of latency: threads against asyncio",
        "",
        f"The sandbox (its own process) answers every request after {latency * 1000:.0f} ms. "
        "Each engine gets the same connections (`max_connections`) and as many requests in "
        "flight: `Client.send_many(concurrency=N)` (N threads) and "
        "`AsyncClient.send_many(concurrency=N)` (N tasks on one loop). Median of the rounds; "
        "each run in a fresh child.",
        "",
        "| connections | engine | recipients/s | × threads | client cpu s | peak RSS MB |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    by_key = {(r.engine, r.connections): r for r in runs}
    for run in sorted(runs, key=lambda r: (r.connections, r.engine != "threads")):
        if run.error:
            out.append(f"| {run.connections} | {run.engine} | {run.error} | | | |")
            continue
        base = by_key.get(("threads", run.connections))
        ratio = run.rate / base.rate if base is not None and not base.error else float("nan")
        out.append(
            f"| {run.connections} | {run.engine} | {_f(run.rate, 0)} | {_f(ratio, 2)} "
            f"| {_f(run.cpu, 2)} | {_f(run.rss_mb)} |"
        )
    return [*out, ""]


def _bulk_scale(cases: list[BulkScaleCase]) -> list[str]:
    return [
        "## The bulk command on its embedded sandbox",
        "",
        "`clickatell-sms bulk --csv FILE --text hello` with no key and no base URL, so the "
        "command starts its own sandbox (one process: the client and the sandbox's thread). "
        "Each run in a fresh child; peak RSS is its VmHWM; recipients/s is the summary's (the "
        "run, without the CSV's pre-scan and the sandbox's start). Medians of 3 interleaved "
        "rounds (`scripts/bench --bulk-scale`).",
        "",
        *bulk_scale_table(cases),
        "",
        *bulk_scale_verdict(cases),
        "",
    ]


def _scale(res: Results) -> list[str]:
    out = ["## Bulk on Celery workers (journal on PostgreSQL)", ""]
    if res.scale is None:
        return [*out, res.scale_note or "not measured", ""]
    out += [
        f"{SCALE_RECIPIENTS:,} recipients per campaign, the sandbox answering every request "
        "after 50 ms, 16 shards, 4 requests in flight per shard; each worker is `celery worker "
        "-c 1`. Rate: recipients sent over the campaign's wall time (rows loaded into "
        "PostgreSQL, tasks queued, sent, summary). Everything (sandbox, Redis, PostgreSQL, "
        "workers) shares the 2 cores, so more workers mostly add requests in flight.",
        "",
        *scale_table(res.scale, SCALE_RECIPIENTS),
        "",
    ]
    return out


def _head(res: Results) -> list[str]:
    m = res.machine
    mode = "quick (floor and facade, reduced counts)" if res.quick else "full"
    return [
        "# Benchmarks: clickatell-sms against its peers",
        "",
        f"Written by `{res.command}` ({mode}); regenerate with `scripts/bench`. Quote ratios, "
        "not absolute times: the machine is shared and noisy.",
        "",
        f"- date: {m['date']}; commit: {m['commit']}",
        f"- machine: {m['cpu']}; {m['os']}; {m['python']}; {m['java']}",
        f"- versions: {m['versions']}",
        "",
        "Method: a canned keep-alive HTTP/1.1 server (asyncio, its own process) answers `202` "
        "with one entry per recipient. Each client runs in its own process and does the same "
        "work per request: build, serialize, POST, parse, read every recipient's (to, id, "
        "accepted). CPU is the client process's user+sys time. Clients run interleaved, the "
        f"order rotating each round; {res.rounds} rounds. **× floor** = the median over rounds "
        "of (client ÷ floor in the same round). The floor is raw urllib3: one "
        "`HTTPConnectionPool`, keep-alive, `json` or `xml.etree`, no checks. `own_us` is the "
        "facade's CPU less the bare exchange's (the floor's pool posting a ready body, parsing "
        "nothing), both run in the facade's process in alternating slices of each round, so "
        "that they share its memory layout and the machine's moments; the figure taken from "
        "the bare exchange's own process is shown beside it (*apart*).",
        "",
    ]


def render(res: Results) -> str:
    lines = _head(res)
    lines += ["## Summary", "", "```", *summary_lines(res), "```", ""]
    lines += _targets(res)
    lines += ["## Per-request cost", ""]
    for load in res.loads:
        lines += _table(res, load)
    if res.imports:
        lines += _imports(res)
    if res.bulk is not None:
        lines += _bulk(res.bulk)
    if res.latency_bulk:
        lines += _latency_bulk(res.latency_bulk, res.latency)
    if res.bulk_scale is not None:
        lines += _bulk_scale(res.bulk_scale)

    if res.scale is not None or res.scale_note is not None:
        lines += _scale(res)
    if res.codegen is not None:
        cg = res.codegen
        status = "ok" if cg.returncode == 0 else f"exit {cg.returncode}: generated/ is stale"
        runs = ", ".join(f"{s:.2f}" for s in cg.seconds)
        lines += [
            "## Code generation",
            "",
            f"`{cg.command}` (a full regeneration into a temporary folder), "
            f"{len(cg.seconds)} runs: median **{median(cg.seconds):.2f} s** ({runs}); {status}.",
            "",
        ]
    if res.openapi is not None:
        lines += _openapi(res.openapi)
    if res.notes:
        lines += ["## Notes", "", *[f"- {note}" for note in res.notes], ""]
    return "\n".join(lines).rstrip() + "\n"


def _openapi(gen: Generated) -> list[str]:
    if gen.error:
        what = f"not measured: {gen.error}"
    elif gen.cached:
        what = f"generated earlier from the same spec, reused from `{_rel(gen)}`"
    else:
        what = f"generated in {gen.seconds:.1f} s into `{_rel(gen)}`"
    return [
        "## OpenAPI Generator client",
        "",
        f"`openapi-generator-cli generate -g python`: {what}.",
        "",
    ]


def _rel(gen: Generated) -> str:
    path = str(gen.path)
    marker = ".bench-cache"
    return path[path.find(marker) :] if marker in path else path


def summary_lines(res: Results) -> list[str]:
    """The lines `scripts/bench` ends with: facade/urllib3, async/floor, own_us, ready/httpx."""
    return [
        ratio_line(res.cells),
        async_line(res.cells),
        own_line(res.cells),
        ready_line(res.ready),
    ]


def summary_rows(res: Results) -> Sequence[str]:
    """Short console lines: each workload's facade and floor medians."""
    rows = []
    for load in res.loads:
        for key in res.keys:
            cell = res.cells.get((key, load.name))
            if cell and cell.ok:
                rows.append(
                    f"{load.name:8} {key:20} cpu {median(cell.cpu_us):9.1f} µs/req "
                    f"x{median(cell.cpu_ratio):.2f}"
                )
            elif cell and cell.error and load.fmt in CLIENTS[key].formats:
                rows.append(f"{load.name:8} {key:20} {cell.error}")
    return rows
