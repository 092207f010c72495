"""Child processes: the canned server and one worker per client, spoken to over pipes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for children: the repo on the path (for `-m benchmarks.*`), no buffering."""
    env = dict(os.environ)
    path = [str(ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(path)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for a child told to quit; kill it if it does not within `timeout` seconds."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ChildServer:
    """`python -m MODULE ...` serving until its stdin closes; its first line says where.

    The line is `TAG VALUE` (`PORT 8080`, `URL http://...`); `address(value)` turns VALUE into
    the base URL.
    """

    tag = ""
    stop_timeout = 5.0

    def __init__(self, *argv: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_env(),
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != self.tag:
            self.close()
            raise RuntimeError(f"{argv[0]} did not start: {line!r}")
        self.base_url = self.address(line[1])

    def address(self, value: str) -> str:
        return value

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            stop(self.proc, self.stop_timeout)

    def __enter__(self) -> ChildServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CannedServer(ChildServer):
    """`python -m benchmarks.server` in its own process."""

    tag = "PORT"

    def __init__(self) -> None:
        super().__init__("benchmarks.server")

    def address(self, value: str) -> str:
        return f"http://127.0.0.1:{value}"


class Worker:
    """`python -m benchmarks.worker KEY URL`: one client, driven one command at a time."""

    def __init__(self, key: str, base_url: str, env: dict[str, str] | None = None) -> None:
        self.key = key
        self.log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", key, base_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=child_env(env),
            cwd=ROOT,
        )

    def call(self, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write((json.dumps(command) + "\n").encode())
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except BrokenPipeError:
            line = b""
        if not line:
            return {"error": "worker died: " + self.stderr_tail()}
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stderr_tail(self, limit: int = 300) -> str:
        self.log.seek(0)
        text = self.log.read().decode(errors="replace").strip()
        return text[-limit:].replace("\n", " | ")

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(BrokenPipeError, ValueError):
                self.call(op="quit")
            stop(self.proc, 5.0)
        self.log.close()


def peak_rss_kb() -> int:
    """This process's peak resident set size in KiB (VmHWM).

    Not `ru_maxrss`: Linux carries it across `execve`, so a child started from a 25 MB parent
    would report at least 25 MB whatever it did. VmHWM belongs to the process's own memory map.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
