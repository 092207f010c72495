"""OpenAPI Generator's python client, generated from spec/openapi.yaml at bench time.

`openapi-generator-cli generate -g python` (PyPI `openapi-generator-cli`, needs Java) runs into a
temporary folder, which is then moved to `.bench-cache/openapi-generator/<spec sha256>/` (git-
ignored), so reruns on an unchanged spec skip the JVM. Nothing generated is ever committed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .procs import ROOT

SPEC = ROOT / "spec" / "openapi.yaml"
CACHE = ROOT / ".bench-cache" / "openapi-generator"
PACKAGE = "clickatell_og"
_OPTIONS = ("--package-name", PACKAGE)


@dataclass
class Generated:
    path: Path | None
    seconds: float | None
    cached: bool
    error: str | None = None


def _cli() -> str | None:
    local = Path(sys.executable).with_name("openapi-generator-cli")
    return str(local) if local.exists() else shutil.which("openapi-generator-cli")


def generate(force: bool = False) -> Generated:
    """The generated project's folder (holding `clickatell_og/`), from the cache when it can."""
    digest = hashlib.sha256(SPEC.read_bytes()).hexdigest()[:16]
    target = CACHE / digest
    if (target / PACKAGE / "__init__.py").exists() and not force:
        return Generated(target, None, cached=True)
    cli = _cli()
    if cli is None:
        return Generated(None, None, False, "openapi-generator-cli is not installed")
    if shutil.which("java") is None:
        return Generated(
            None, None, False, "Java is not installed (openapi-generator-cli needs it)"
        )
    with tempfile.TemporaryDirectory(prefix="bench-og-") as tmp:
        out = Path(tmp) / "out"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [cli, "generate", "-g", "python", "-i", str(SPEC), "-o", str(out), *_OPTIONS],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            lines = (proc.stdout + proc.stderr).strip().splitlines()
            errors = [line for line in lines if "ERROR" in line or "Exception" in line]
            reason = " | ".join((errors or lines)[-5:])[:600]
            return Generated(None, seconds, False, f"generation failed: {reason}")
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(out), str(target))
    return Generated(target, seconds, cached=False)
