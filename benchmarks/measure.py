"""Rounds: every client runs every workload, interleaved round by round, ratios per round.

In each round the clients run one after another (their order rotates from round to round), each
in its own process, against the same canned server; so drift on a noisy machine hits them all
alike. A client's ratio is its CPU (or wall) per request divided by the floor's in the same
round; the table reports the median over rounds and the spread.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .clients import CLIENTS
from .procs import Worker


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
                samples: dict[str, dict[str, float]] = {}
                for key in order:
                    cell = cells[(key, load.name)]
                    if cell.error:
                        continue
                    offset = first + r * load.requests * load.recipients
                    answer = workers[key].call(
                        op="run", fmt=load.fmt, k=load.recipients, n=load.requests, offset=offset
                    )
                    if "error" in answer:
                        cell.error = answer["error"]
                        continue
                    samples[key] = answer
                    cell.cpu_us.append(answer["cpu"] / load.requests * 1e6)
                    cell.wall_us.append(answer["wall"] / load.requests * 1e6)
                    if "pair_cpu" in answer:
                        cell.pair_cpu_us.append(answer["pair_cpu"] / load.requests * 1e6)
                    cell.rss_mb = answer["rss_kb"] / 1024
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
