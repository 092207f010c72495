"""Bulk: recipients per second and peak RSS of the facade's bulk path (`Client.send_many`).

The orchestrator (`run_bulk`) writes the recipient CSVs to a temporary folder (streamed, never
held in memory), starts the sandbox in its own process (`python -m benchmarks.bulk sandbox`) and
runs each case in a fresh child (`python -m benchmarks.bulk child ...`), whose own peak RSS
(VmHWM) is the figure reported: 100,000 recipients with 1, 4 and 8 connections, then
1,000,000 streamed from the CSV with 4, to show whether memory stays flat.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from .clients import API_KEY, CONTENT
from .procs import ROOT, CannedServer, ChildServer, child_env, peak_rss_kb


@dataclass
class BulkRun:
    recipients: int
    concurrency: int
    seconds: float = float("nan")
    cpu: float = float("nan")
    rss_mb: float = float("nan")
    accepted: int = 0
    server_cpu: float | None = None
    reader: str = ""
    error: str | None = None

    @property
    def rate(self) -> float:
        return self.recipients / self.seconds if self.seconds else float("nan")


@dataclass
class BulkResult:
    target: str
    runs: list[BulkRun]
    note: str | None = None


def bulk_available() -> str | None:
    """None when `Client.send_many` exists, else why not."""
    probe = "from clickatell_sms import Client; assert hasattr(Client, 'send_many')"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, env=child_env())
    if proc.returncode == 0:
        return None
    if b"AssertionError" in proc.stderr:
        return "not available yet: clickatell_sms.Client has no send_many"
    return "not available yet: clickatell_sms.Client cannot be imported"


def write_csv(path: Path, count: int) -> None:
    """`count` distinct numbers under a `to` header, written as generated (not held in memory).

    Sequential numbers never meet the sandbox's test numbers (Ofcom's drama range), so every
    row is one the sandbox accepts."""
    with path.open("w", buffering=1 << 20) as fh:
        fh.write("to\n")
        for i in range(1, count + 1):
            fh.write(f"2782{i:07d}\n")


def _stream(path: str) -> Iterator[str]:
    with open(path) as fh:
        next(fh)
        for line in fh:
            yield line.rstrip("\n")


def _source(path: str, stack: contextlib.ExitStack) -> tuple[Iterable[Any], str]:
    """The facade's own streaming CSV reader when it has one, else a plain line reader."""
    try:
        from clickatell_sms.bulk.csv_input import CSVSource
    except ImportError:
        return _stream(path), "lines"
    fh = stack.enter_context(open(path, "rb"))  # noqa: SIM115 (closed by the stack)
    return CSVSource(fh, name=path, column="to"), "clickatell_sms.bulk.csv_input.CSVSource"


def _consume(result: Any) -> int:
    """How many recipients were accepted: from a summary, or by counting results as they come."""
    accepted = getattr(result, "accepted", None)
    if isinstance(accepted, int):
        return accepted
    if hasattr(result, "__iter__") and not isinstance(result, str | bytes | dict):
        return sum(1 for item in result if getattr(item, "accepted", True))
    return -1


def _child(args: argparse.Namespace) -> None:
    from clickatell_sms import Client

    if args.engine == "async":
        _async_child(args)
        return
    connections = {"max_connections": args.connections} if args.connections else {}
    with (
        Client(
            api_key=API_KEY, base_url=args.base_url, format=args.format, **connections
        ) as client,
        contextlib.ExitStack() as stack,
    ):
        source, reader = _source(args.csv, stack)
        send_many: Callable[..., Any] = cast(Any, client).send_many
        kwargs: dict[str, Any] = {"concurrency": args.concurrency}
        positional: tuple[Any, ...] = (CONTENT,)
        if "content" in inspect.signature(send_many).parameters:
            kwargs["content"], positional = CONTENT, ()
        w0, c0 = time.perf_counter(), time.process_time()
        accepted = _consume(send_many(source, *positional, **kwargs))
        c1, w1 = time.process_time(), time.perf_counter()
    rss = peak_rss_kb()
    answer = {"seconds": w1 - w0, "cpu": c1 - c0, "rss_kb": rss, "accepted": accepted}
    print(json.dumps({**answer, "reader": reader}))


def _async_child(args: argparse.Namespace) -> None:
    """The same run on `AsyncClient.send_many` (one event loop, no thread per request)."""
    import asyncio
    import threading

    from clickatell_sms import AsyncClient

    async def run() -> dict[str, Any]:
        async with AsyncClient(
            api_key=API_KEY,
            base_url=args.base_url,
            format=args.format,
            max_connections=args.connections or args.concurrency,
        ) as client:
            with contextlib.ExitStack() as stack:
                source, reader = _source(args.csv, stack)
                w0, c0 = time.perf_counter(), time.process_time()
                summary = await client.send_many(source, CONTENT, concurrency=args.concurrency)
                c1, w1 = time.process_time(), time.perf_counter()
        return {
            "seconds": w1 - w0,
            "cpu": c1 - c0,
            "accepted": summary.accepted,
            "reader": reader,
            "threads": threading.active_count(),
        }

    answer = asyncio.run(run())
    print(json.dumps({**answer, "rss_kb": peak_rss_kb()}))


def _sandbox(latency: float = 0.0) -> None:
    from clickatell_sms.sandbox import Faults, Sandbox

    # Credit for every run of the full bench (the default 100 ZAR lasts 1,000 messages).
    faults = Faults(latency=latency) if latency else None
    with Sandbox(api_keys=(API_KEY,), balance=10**9, faults=faults) as sb:
        print(f"URL {sb.base_url}", flush=True)
        sys.stdin.buffer.read()


class _SandboxProc(ChildServer):
    """The sandbox in its own process, so its CPU is not the client's."""

    tag = "URL"
    stop_timeout = 10.0

    def __init__(self, latency: float = 0.0) -> None:
        super().__init__("benchmarks.bulk", "sandbox", "--latency", str(latency))

    def cpu(self) -> float | None:
        try:
            import psutil
        except ImportError:
            return None
        times = psutil.Process(self.proc.pid).cpu_times()
        return float(times.user + times.system)


def _run_case(
    base_url: str,
    csv: Path,
    run: BulkRun,
    fmt: str,
    timeout: float,
    engine: str = "threads",
    connections: int = 0,
) -> None:
    cmd = [sys.executable, "-m", "benchmarks.bulk", "child", "--base-url", base_url]
    cmd += ["--csv", str(csv), "--concurrency", str(run.concurrency), "--format", fmt]
    cmd += ["--engine", engine, "--connections", str(connections)]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        run.error = f"timed out after {timeout:.0f} s"
        return
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        run.error = (lines[-1] if lines else f"exit {proc.returncode}")[:300]
        return
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    run.seconds, run.cpu = answer["seconds"], answer["cpu"]
    run.rss_mb, run.accepted = answer["rss_kb"] / 1024, answer["accepted"]
    run.reader = answer["reader"]


def run_bulk(
    small: int,
    large: int,
    concurrencies: tuple[int, ...],
    log: Callable[[str], None],
    fmt: str = "json",
) -> BulkResult:
    """The bulk cases, or a result whose note says why they could not run."""
    missing = bulk_available()
    if missing:
        return BulkResult("-", [], missing)
    try:
        target: Any = _SandboxProc()
        name = "clickatell_sms.sandbox.Sandbox (own process)"
    except Exception as exc:  # the sandbox is not there (yet): the canned server stands in
        target = CannedServer()
        name = f"canned server (the sandbox did not start: {exc})"
    runs = [BulkRun(small, c) for c in concurrencies] + [BulkRun(large, 4)]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
            files = {small: Path(tmp) / "small.csv", large: Path(tmp) / "large.csv"}
            for count, path in files.items():
                write_csv(path, count)
            for run in runs:
                before = target.cpu() if isinstance(target, _SandboxProc) else None
                timeout = max(120.0, run.recipients / 2000)
                _run_case(target.base_url, files[run.recipients], run, fmt, timeout)
                after = target.cpu() if isinstance(target, _SandboxProc) else None
                if before is not None and after is not None:
                    run.server_cpu = after - before
                log(f"  bulk {run.recipients:,} x{run.concurrency}: {run.error or 'done'}")
    finally:
        target.close()
    return BulkResult(name, runs)


@dataclass
class LatencyRun:
    """One engine at one connection count against a sandbox that answers after `latency`."""

    engine: str
    connections: int
    recipients: int
    seconds: float = float("nan")
    cpu: float = float("nan")
    rss_mb: float = float("nan")
    accepted: int = 0
    error: str | None = None

    @property
    def rate(self) -> float:
        return self.recipients / self.seconds if self.seconds else float("nan")


def run_latency_bulk(
    recipients: int,
    latency: float,
    connections: tuple[int, ...],
    log: Callable[[str], None],
    rounds: int = 3,
) -> list[LatencyRun]:
    """Both engines, each connection count, interleaved `rounds` times; the median run kept.

    The sandbox answers every request after `latency` seconds, as a distant API would; each
    engine gets the same number of connections (`max_connections`) and as many requests in
    flight (`concurrency`): threads for `Client.send_many`, tasks on one loop for
    `AsyncClient.send_many`.
    """
    if bulk_available():
        return []
    samples: dict[tuple[str, int], list[LatencyRun]] = {}
    target = _SandboxProc(latency)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
            csv = Path(tmp) / "recipients.csv"
            write_csv(csv, recipients)
            for _ in range(rounds):
                for count in connections:
                    for engine in ("threads", "async"):
                        run = LatencyRun(engine, count, recipients)
                        proxy = BulkRun(recipients, count)
                        _run_case(target.base_url, csv, proxy, "json", 300.0, engine, count)
                        run.seconds, run.cpu, run.rss_mb = proxy.seconds, proxy.cpu, proxy.rss_mb
                        run.accepted, run.error = proxy.accepted, proxy.error
                        samples.setdefault((engine, count), []).append(run)
                        log(
                            f"  latency bulk {engine} x{count}: {run.error or f'{run.rate:,.0f}/s'}"
                        )
    finally:
        target.close()
    kept = []
    for runs in samples.values():
        good = sorted((r for r in runs if r.error is None), key=lambda r: r.seconds)
        kept.append(good[len(good) // 2] if good else runs[0])
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bulk")
    parser.add_argument("mode", choices=["child", "sandbox"])
    parser.add_argument("--base-url")
    parser.add_argument("--csv")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--connections", type=int, default=0)
    parser.add_argument("--engine", choices=["threads", "async"], default="threads")
    parser.add_argument("--format", default="json")
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    if args.mode == "sandbox":
        _sandbox(args.latency)
    else:
        _child(args)


if __name__ == "__main__":
    main()
