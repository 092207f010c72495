"""Cold imports, code generation time, and the machine and versions the report names."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata

from .clients import CLIENTS
from .procs import ROOT, child_env

_IMPORT_PROBE = """\
import time
_t0 = time.perf_counter()
{stmt}
_t1 = time.perf_counter()
import sys
_xml = any(m == "xsdata" or m.startswith("clickatell_wire.xml") for m in sys.modules)
_hwm = [ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM:")]
print(_t1 - _t0, _hwm[0], int(_xml))
"""


_CLIENT = "Client; Client(api_key='k'{})"
READY_FACADE = "from clickatell_sms import " + _CLIENT.format("")
READY_HTTPX = "import httpx; httpx.Client()"
READY_PROBES = {
    "floor": [
        (
            "floor: import + HTTPConnectionPool()",
            "import urllib3, json; urllib3.HTTPConnectionPool('127.0.0.1', 9)",
        ),
    ],
    "facade": [
        ("facade: import + Client() (JSON)", READY_FACADE),
        (
            "facade: import + Client(format='xml')",
            "from clickatell_sms import " + _CLIENT.format(", format='xml'"),
        ),
        ("httpx: import + httpx.Client(), for comparison", READY_HTTPX),
    ],
}
"""Ready to send: the import and the object a first request needs (no connection is made)."""


@dataclass
class ReadyTime:
    """import + Client() of the facade against `import httpx; httpx.Client()`, interleaved."""

    facade_ms: float
    httpx_ms: float
    ratio: float  # median of the per-pair ratios


def measure_ready(repeats: int, log: Callable[[str], None]) -> ReadyTime | None:
    """The facade ready to send against httpx, in fresh interpreters taking turns (None when
    httpx is not installed: it comes with the `bench` extra)."""
    env = child_env()
    try:
        for stmt in (READY_FACADE, READY_HTTPX):
            _probe(stmt, env)  # compiles .pyc, surfaces errors
    except RuntimeError as exc:
        log(f"  import + Client() against httpx: not measured ({exc})")
        return None
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(repeats):
        ours.append(_probe(READY_FACADE, env)[0])
        theirs.append(_probe(READY_HTTPX, env)[0])
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    log("  import + Client() against httpx: done")
    return ReadyTime(statistics.median(ours), statistics.median(theirs), statistics.median(ratios))


@dataclass
class ImportTime:
    key: str
    stmt: str
    label: str = ""
    ms: float = float("nan")
    rss_mb: float = float("nan")
    xml_loaded: bool = False
    error: str | None = None


def _probe(stmt: str, env: dict[str, str]) -> tuple[float, float, bool]:
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE.format(stmt=stmt)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1][:300])
    seconds, rss_kb, xml = proc.stdout.split()
    return float(seconds) * 1000, int(rss_kb) / 1024, xml == "1"


def measure_imports(
    keys: Sequence[str], repeats: int, env: dict[str, str], log: Callable[[str], None]
) -> tuple[list[ImportTime], float]:
    """Median import time per client over `repeats` fresh interpreters, interleaved; .pyc warm.

    Also returns the peak RSS of `python -c pass` for reference.
    """
    full_env = child_env(env)
    generated = env.get("BENCH_OPENAPI_CLIENT")
    if generated:  # the OpenAPI Generator client is imported from where it was generated
        full_env["PYTHONPATH"] = os.pathsep.join([generated, full_env["PYTHONPATH"]])
    rows: list[ImportTime] = []
    for key in keys:  # one row per statement: the first client that imports it that way
        if all(row.stmt != CLIENTS[key].import_stmt for row in rows):
            rows.append(ImportTime(key, CLIENTS[key].import_stmt))
    for key in keys:
        rows += [ImportTime(key, stmt, label) for label, stmt in READY_PROBES.get(key, [])]
    samples: list[list[tuple[float, float, bool]]] = [[] for _ in rows]
    for row in rows:  # one warm run each: compiles .pyc, surfaces errors
        try:
            _probe(row.stmt, full_env)
        except RuntimeError as exc:
            row.error = str(exc)
    for _ in range(repeats):
        for row, found in zip(rows, samples, strict=True):
            if row.error is None:
                found.append(_probe(row.stmt, full_env))
    for row, found in zip(rows, samples, strict=True):
        if found:
            row.ms = statistics.median(s[0] for s in found)
            row.rss_mb = statistics.median(s[1] for s in found)
            row.xml_loaded = any(s[2] for s in found)
    baseline = statistics.median(_probe("pass", full_env)[1] for _ in range(3))
    log("  cold imports: done")
    return rows, baseline


@dataclass
class CodegenTime:
    seconds: list[float]
    returncode: int
    command: str


def measure_codegen(repeats: int = 3) -> CodegenTime:
    """Wall time of `python -m codegen --check` (a full regeneration into a temporary folder)."""
    command = [sys.executable, "-m", "codegen", "--check"]
    seconds: list[float] = []
    code = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, cwd=ROOT, env=child_env())
        seconds.append(time.perf_counter() - t0)
        code = code or proc.returncode
    return CodegenTime(seconds, code, "python -m codegen --check")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _os_name() -> str:
    try:
        with open("/etc/os-release") as fh:
            for line in fh:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def _git() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def _java() -> str:
    try:
        proc = subprocess.run(["java", "-version"], capture_output=True, text=True)
    except OSError:
        return "not installed"
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    return lines[0] if lines else "unknown"


PACKAGES = (
    "clickatell-sms",
    "urllib3",
    "msgspec",
    "xsdata",
    "requests",
    "httplib2",
    "clickatell-platform",
    "openapi-generator-cli",
    "pydantic",
    "python-dateutil",
    "psutil",
    "httpx",
    "aiohttp",
)


def machine() -> dict[str, str]:
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return {
        "date": now,
        "cpu": f"{_cpu_model()}, {os.cpu_count()} cores",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{_os_name()} ({platform.release()})",
        "java": _java(),
        "commit": _git(),
        "versions": ", ".join(versions),
    }
