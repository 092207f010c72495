"""One client in its own process: `python -m benchmarks.worker CLIENT BASE_URL`.

Reads one JSON command per line on stdin and answers one JSON line on stdout:
  {"op": "warm", "fmt": "json", "k": 200, "n": 10}  -> {"ok": true} after checking the answers
  {"op": "run", "fmt": "json", "k": 1, "n": 2000}   -> {"cpu": s, "wall": s, "rss_kb": peak}
Any failure answers {"error": "..."}; the orchestrator reports it in the row instead of a number.
CPU is this process's own user+sys time (`time.process_time`), so the server's does not count.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any

from .clients import CLIENTS, Adapter
from .procs import peak_rss_kb


def recipients(k: int, start: int = 1) -> list[str]:
    """k distinct South African mobile numbers (bare international digits), from `start`."""
    return [f"2782{(start + i) % 10_000_000:07d}" for i in range(k)]


def batches(k: int, n: int, offset: int, repeat: bool) -> list[list[str]]:
    """The `to` of n requests: the same list each time, or new numbers in every request.

    New numbers are the default: a client may cache work per number (the facade caches
    normalised numbers), and a bulk send never repeats them. Built before the clock starts.
    """
    if repeat:
        return [recipients(k, offset)] * n
    return [recipients(k, offset + i * k) for i in range(n)]


SLICES = 10
"""A paired run's slices: each client's requests go in this many turns, alternating."""


class Runner:
    def __init__(self, key: str, base_url: str) -> None:
        self.spec = CLIENTS[key]
        self.base_url = base_url
        self.adapters: dict[tuple[str, str], Adapter] = {}

    def adapter(self, fmt: str, key: str | None = None) -> Adapter:
        spec = self.spec if key is None else CLIENTS[key]
        if (spec.label, fmt) not in self.adapters:
            self.adapters[(spec.label, fmt)] = spec.factory(self.base_url, fmt)
        return self.adapters[(spec.label, fmt)]

    def pair(self, fmt: str) -> Adapter | None:
        """The paired client's adapter in this process, if the spec names one for `fmt`."""
        key = self.spec.paired
        return None if key is None or fmt not in CLIENTS[key].formats else self.adapter(fmt, key)

    def warm(self, fmt: str, k: int, n: int, offset: int) -> dict[str, Any]:
        pair = self.pair(fmt)
        for adapter in (self.adapter(fmt), *([pair] if pair else [])):
            for to in batches(k, n, offset, self.spec.repeat):
                rows = adapter.send(to)
            accepted = [row for row in rows if row[2] is True]
            if len(rows) != k or len(accepted) != k or str(rows[-1][0]).lstrip("+") != to[-1]:
                return {"error": f"expected {k} accepted recipients, read {rows[:2]!r}..."}
        return {"ok": True}

    def run(self, fmt: str, k: int, n: int, offset: int) -> dict[str, Any]:
        """`n` requests: CPU and wall seconds, peak RSS. With a paired client, both clients'
        requests go in alternating slices (which one starts alternates too), and the paired
        one's CPU comes back as `pair_cpu`: a difference taken in one process, whose memory
        layout and moments on the machine both share, moves far less than one taken between
        two processes, each with a layout of its own."""
        adapter, pair = self.adapter(fmt), self.pair(fmt)
        lists = batches(k, n, offset, self.spec.repeat)
        clock = time.perf_counter
        cpu = time.process_time
        if pair is None:
            w0, c0 = clock(), cpu()
            adapter.run_many(lists)
            c1, w1 = cpu(), clock()
            return {"cpu": c1 - c0, "wall": w1 - w0, "rss_kb": peak_rss_kb()}
        spent = {"cpu": 0.0, "wall": 0.0, "pair_cpu": 0.0}
        step = max(1, -(-n // SLICES))
        for number, start in enumerate(range(0, n, step)):
            part = lists[start : start + step]
            turns = (("cpu", adapter), ("pair_cpu", pair))
            for name, runner in turns if number % 2 == 0 else turns[::-1]:
                w0, c0 = clock(), cpu()
                runner.run_many(part)
                c1, w1 = cpu(), clock()
                spent[name] += c1 - c0
                if runner is adapter:
                    spent["wall"] += w1 - w0
        return {**spent, "rss_kb": peak_rss_kb()}

    def close(self) -> None:
        for adapter in self.adapters.values():
            adapter.close()


def main() -> None:
    key, base_url = sys.argv[1], sys.argv[2]
    out = sys.stdout
    sys.stdout = sys.stderr  # a client that prints must not corrupt the protocol
    runner = Runner(key, base_url)
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        if op == "quit":
            break
        try:
            answer = runner.warm(**command) if op == "warm" else runner.run(**command)
        except Exception as exc:  # reported in the table, never fatal to the whole run
            traceback.print_exc()
            answer = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    runner.close()


if __name__ == "__main__":
    main()
