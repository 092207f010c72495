"""The `generated/` diff: what changed per file, and whether the spec explains every change.

`generated/` is a function of `spec/`, the generator (`codegen/`) and its settings (the
`[tool.clickatell-codegen]` table and the pinned `codegen` extra in pyproject.toml). A change there
with none of those changed was made by hand or by a different generator — a red flag. Where a ref
has `codegen/`, `python -m codegen --check` is run in a worktree of it, which proves that ref's
`generated/` is exactly what its spec regenerates to (with the generator versions installed here).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .gitio import ChangedFile, changed_files, read_text
from .project import spec_paths


@dataclass
class RegenCheck:
    """The outcome of `python -m codegen --check` at one ref."""

    side: str  # OLD | NEW
    status: str  # reproduced | STALE | could not run | skipped
    detail: str = ""


@dataclass
class GeneratedReport:
    """Per-file changes under generated/, what explains them, and the regeneration checks."""

    files: list[tuple[ChangedFile, str]] = field(default_factory=list)  # (file, explanation)
    causes: list[str] = field(default_factory=list)
    checks: list[RegenCheck] = field(default_factory=list)
    red_flags: list[str] = field(default_factory=list)


def _codegen_settings(text: str | None) -> Any:
    """The parts of pyproject.toml that shape generated/ (None when absent or unreadable)."""
    if text is None:
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return text
    return (
        data.get("tool", {}).get("clickatell-codegen"),
        data.get("project", {}).get("optional-dependencies", {}).get("codegen"),
    )


def causes(repo: Path, old: str, new: str) -> dict[str, str]:
    """What changed between the refs that may legitimately change generated/: cause -> scope.

    Only the generator's inputs count: the OpenAPI file (scope `json`: everything but the XML
    bindings), the XSD (scope `xml`: the XML bindings), codegen/ and its settings (scope `all`).
    Other files under spec/ (examples, notes) do not feed the generator.
    """
    found: dict[str, str] = {}
    changed = {f.path for f in changed_files(repo, old, new)} | {
        f.old_path for f in changed_files(repo, old, new) if f.old_path
    }
    (old_spec, old_xsd), (new_spec, new_xsd) = spec_paths(repo, old), spec_paths(repo, new)
    for path in dict.fromkeys((old_spec, new_spec)):
        if path in changed:
            found[path] = "json"
    for path in dict.fromkeys((old_xsd, new_xsd)):
        if path in changed:
            found[path] = "xml"
    if any(p.startswith("codegen/") for p in changed):
        found["codegen/"] = "all"
    old_cfg = _codegen_settings(read_text(repo, old, "pyproject.toml"))
    new_cfg = _codegen_settings(read_text(repo, new, "pyproject.toml"))
    if old_cfg != new_cfg:
        found["codegen settings in pyproject.toml"] = "all"
    return found


def _scope_of(path: str) -> str:
    """Which spec a generated file comes from: the XML bindings from the XSD, the rest from
    OpenAPI; package-level files (MANIFEST.json, __init__.py at the top) from both."""
    parts = path.split("/")
    if "xml" in parts[:-1]:
        return "xml"
    if len(parts) <= 3 and parts[-1] in ("MANIFEST.json", "__init__.py", "py.typed"):
        return "any"
    return "json"


def explain(path: str, found: dict[str, str]) -> list[str]:
    """The causes that explain a change to generated file `path`."""
    scope = _scope_of(path)
    return [c for c, s in found.items() if s == "all" or scope == "any" or s == scope]


def regen_check(tree: Path, side: str, timeout: float) -> RegenCheck:
    """Run the ref's own `python -m codegen --check` in its worktree."""
    if not (tree / "codegen" / "__main__.py").is_file():
        return RegenCheck(side, "skipped", f"no codegen at {side}; skipped")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tree), str(tree / "generated")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "codegen", "--check"],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return RegenCheck(side, "could not run", f"timed out after {timeout:g}s")
    output = (proc.stdout + proc.stderr).strip()
    last = output.splitlines()[-1] if output else ""
    if proc.returncode == 0:
        return RegenCheck(side, "reproduced", f"{side}'s spec regenerates {side}'s generated/")
    if "Traceback (most recent call last)" in output:
        return RegenCheck(side, "could not run", last)
    head = "\n".join(output.splitlines()[:8])
    return RegenCheck(side, "STALE", head or f"exit {proc.returncode}")


def summarize(
    repo: Path,
    old: str,
    new: str,
    old_tree: Path | None,
    new_tree: Path | None,
    timeout: float,
) -> GeneratedReport:
    """Build the generated/ section; trees are None when regeneration checks are disabled."""
    report = GeneratedReport()
    found = causes(repo, old, new)
    report.causes = list(found)
    if old_tree is None or new_tree is None:
        report.checks.append(RegenCheck("OLD/NEW", "skipped", "regeneration checks disabled"))
    else:
        old_check = regen_check(old_tree, "OLD", timeout)
        report.checks.append(old_check)
        relevant = changed_files(
            repo, old, new, "spec/", "codegen/", "generated/", "pyproject.toml"
        )
        if relevant:
            report.checks.append(regen_check(new_tree, "NEW", timeout))
        else:
            detail = "same spec, codegen and generated/ as OLD"
            report.checks.append(RegenCheck("NEW", old_check.status, detail))
    for check in report.checks:
        if check.status == "STALE":
            report.red_flags.append(
                f"{check.side}'s generated/ is not what its spec regenerates to "
                "(`python -m codegen --check` failed)"
            )
    both_reproduced = [c.status for c in report.checks] == ["reproduced", "reproduced"]
    for f in changed_files(repo, old, new, "generated/"):
        reasons = explain(f.path, found)
        if reasons:
            report.files.append((f, "explained by " + ", ".join(reasons)))
        elif both_reproduced:
            report.files.append((f, "explained: both refs regenerate from their own spec"))
        else:
            report.files.append((f, "UNEXPLAINED"))
            report.red_flags.append(
                f"{f.path} changed but no spec, codegen or codegen setting that makes it did"
            )
    return report
