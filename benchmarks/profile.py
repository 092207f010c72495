"""Where a client's time goes: `python -m benchmarks.profile facade json200 [--top 25]`.

Runs one adapter in this process against the canned server (its own process) under cProfile and
prints the functions with the most own time, in µs per request. cProfile slows Python code down
several times, so read the shares, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

from .clients import CLIENTS
from .measure import workloads
from .procs import CannedServer
from .worker import batches


def main() -> None:
    loads = {load.name: load for load in workloads(2000, 200)}
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    parser.add_argument("client", choices=list(CLIENTS))
    parser.add_argument("workload", choices=list(loads))
    parser.add_argument("--requests", type=int, help="default: the full run's count")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--repeat", action="store_true", help="same recipients every request")
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    args = parser.parse_args()
    load = loads[args.workload]
    n = args.requests or load.requests
    warm = batches(load.recipients, max(10, n // 10), 5_000_000, args.repeat)
    lists = batches(load.recipients, n, 1, args.repeat)
    with CannedServer() as server:
        adapter = CLIENTS[args.client].factory(server.base_url, load.fmt)
        for to in warm:
            adapter.send(to)
        profiler = cProfile.Profile()
        profiler.enable()
        for to in lists:
            adapter.send(to)
        profiler.disable()
        adapter.close()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"{args.client} {load.title}: {total / n * 1e6:.1f} µs/request under cProfile")
    print(f"{'own µs/req':>10} {'cum µs/req':>10} {'calls/req':>9}  function")
    rows = []
    for (path, line, name), (_cc, calls, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((tt, ct, calls, f"{name} ({path.rsplit('/', 2)[-1]}:{line})"))
    index = 0 if args.sort == "tottime" else 1
    for tt, ct, calls, where in sorted(rows, key=lambda r: r[index], reverse=True)[: args.top]:
        print(f"{tt / n * 1e6:10.1f} {ct / n * 1e6:10.1f} {calls / n:9.1f}  {where}")


if __name__ == "__main__":
    main()
