"""Rounds: every client runs every workload, interleaved round by round, ratios per round.

In each round the clients take turns (their order rotates from round to round), each in its own
process, against the same canned server, a fifth of the round's requests per turn; so drift on a
noisy machine hits them all alike. A client's ratio is its CPU (or wall) per request divided by
the floor's in the same round; the table reports the median over rounds and the spread.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .clients import CLIENTS
from .procs import Worker

SLICES = 5
"""Parts of a round: the clients take turns part by part, so a spell of contention on the host
(common on a small shared machine) lands on all of them rather than on whichever ran during it."""


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    fmt: str
    recipients: int
    requests: int


@dataclass
class Cell:
    """One client on one workload: per-round samples (µs per request) and ratios to the floor."""

    client: str
    workload: Workload
    cpu_us: list[float] = field(default_factory=list)
    wall_us: list[float] = field(default_factory=list)
    cpu_ratio: list[float] = field(default_factory=list)
    pair_cpu_us: list[float] = field(default_factory=list)
    """The paired client's CPU per request, run in this one's process (see `Spec.paired`)."""
    wall_ratio: list[float] = field(default_factory=list)
    rss_mb: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.cpu_us)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """Lower and upper quartile (the values themselves when there are fewer than 4)."""
    if len(values) < 4:
        return (min(values), max(values)) if values else (float("nan"), float("nan"))
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def workloads(single: int, batch: int) -> list[Workload]:
    return [
        Workload("json1", f"JSON, single: {single:,} x 1 recipient", "json", 1, single),
        Workload("json200", f"JSON, batch: {batch:,} x 200 recipients", "json", 200, batch),
        Workload("xml1", f"XML, single: {single:,} x 1 recipient", "xml", 1, single),
        Workload("xml200", f"XML, batch: {batch:,} x 200 recipients", "xml", 200, batch),
    ]


def _round(
    workers: dict[str, Worker],
    order: Sequence[str],
    load: Workload,
    offset: int,
    cells: dict[tuple[str, str], Cell],
) -> dict[str, dict[str, float]]:
    """One round: each client's requests in `SLICES` parts, the clients taking turns part by
    part; their CPU, wall and paired CPU summed over the parts. A client that fails gets its
    cell's error and no sample."""
    totals: dict[str, dict[str, float]] = {key: {} for key in order}
    step = max(1, -(-load.requests // SLICES))
    for start in range(0, load.requests, step):
        for key in order:
            cell = cells[(key, load.name)]
            if cell.error:
                continue
            answer = workers[key].call(
                op="run",
                fmt=load.fmt,
                k=load.recipients,
                n=min(step, load.requests - start),
                offset=offset + start * load.recipients,
            )
            if "error" in answer:
                cell.error = answer["error"]
                continue
            total = totals[key]
            for name in ("cpu", "wall", "pair_cpu"):
                if name in answer:
                    total[name] = total.get(name, 0.0) + answer[name]
            total["rss_kb"] = answer["rss_kb"]
    return {key: total for key, total in totals.items() if not cells[(key, load.name)].error}


def run_rounds(
    keys: Sequence[str],
    base_url: str,
    loads: Sequence[Workload],
    rounds: int,
    env: dict[str, str],
    log: Callable[[str], None],
) -> dict[tuple[str, str], Cell]:
    """Every workload, `rounds` times, all clients interleaved; the floor must be in `keys`."""
    cells: dict[tuple[str, str], Cell] = {}
    block = 2_500_000  # numbers per workload: every request of every round gets new ones
    workers = {key: Worker(key, base_url, env) for key in keys}
    try:
        for number, load in enumerate(loads):
            first = number * block + 1
            active: list[str] = []
            for key in keys:
                cell = cells[(key, load.name)] = Cell(key, load)
                if load.fmt not in CLIENTS[key].formats:
                    cell.error = CLIENTS[key].note or f"no {load.fmt.upper()} support"
                    continue
                warm_n = max(2, min(100, load.requests // 10))
                answer = workers[key].call(
                    op="warm",
                    fmt=load.fmt,
                    k=load.recipients,
                    n=warm_n,
                    offset=first + block - 100_000,
                )
                if "error" in answer:
                    cell.error = answer["error"]
                    log(f"  {key} {load.name}: {cell.error}")
                else:
                    active.append(key)
            for r in range(rounds):
                order = active[r % len(active) :] + active[: r % len(active)] if active else []
                offset = first + r * load.requests * load.recipients
                samples = _round(workers, order, load, offset, cells)
                for key, sample in samples.items():
                    cell = cells[(key, load.name)]
                    cell.cpu_us.append(sample["cpu"] / load.requests * 1e6)
                    cell.wall_us.append(sample["wall"] / load.requests * 1e6)
                    if "pair_cpu" in sample:
                        cell.pair_cpu_us.append(sample["pair_cpu"] / load.requests * 1e6)
                    cell.rss_mb = sample["rss_kb"] / 1024
                floor = samples.get("floor")
                for key, sample in samples.items():
                    if floor and floor["cpu"] > 0:
                        cells[(key, load.name)].cpu_ratio.append(sample["cpu"] / floor["cpu"])
                        cells[(key, load.name)].wall_ratio.append(sample["wall"] / floor["wall"])
            log(f"  {load.title}: done")
    finally:
        for worker in workers.values():
            worker.close()
    return cells
