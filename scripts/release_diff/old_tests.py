"""OLD's facade tests run against NEW's code: the break users would actually feel.

A signature diff misses behaviour (a default that now raises, a result shaped differently); the
previous release's own facade tests do not. OLD's `tests/` directory is exported into a temporary
directory (so its conftest and helpers come along) and only its facade tests
(`tests/test_client*.py`, `tests/test_facade*.py`) are run, with NEW's source tree first on
`sys.path`. Tests that fail are re-run against OLD's code: one that failed there too is a
pre-existing failure, not a break.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatch
from importlib.metadata import entry_points
from pathlib import Path

from .findings import Finding, Level, Section
from .gitio import list_files, read_text

FACADE_TEST_GLOBS = ("test_client*.py", "test_facade*.py")
SUMMARY_LINE = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$")
COLLECT_HEADER = re.compile(r"^_+ ERROR collecting (\S+) _+$")
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")


def facade_test_files(repo: Path, sha: str) -> list[str]:
    """OLD's facade test files, by the project's naming convention."""
    return [
        p
        for p in list_files(repo, sha, "tests")
        if any(fnmatch(Path(p).name, g) for g in FACADE_TEST_GLOBS)
    ]


@dataclass
class PytestRun:
    """What one pytest process said: counts, failing node ids with reasons, and its exit code."""

    returncode: int | None  # None: timed out
    counts: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # node id -> first line of reason
    errors: set[str] = field(default_factory=set)  # node ids that errored rather than failed
    tail: str = ""
    imported_from: str = ""


def _pytest_ini(repo: Path, sha: str) -> str:
    """OLD's pytest settings minus `addopts`/`testpaths`, which point at the real tree."""
    lines = ["[pytest]"]
    text = read_text(repo, sha, "pyproject.toml")
    if text is None:
        return "\n".join(lines) + "\n"
    try:
        options = tomllib.loads(text).get("tool", {}).get("pytest", {}).get("ini_options", {})
    except tomllib.TOMLDecodeError:
        return "\n".join(lines) + "\n"
    for key, value in options.items():
        if key in ("addopts", "testpaths", "minversion", "required_plugins"):
            continue
        if isinstance(value, list):
            lines.append(f"{key} =")
            lines += [f"    {v}" for v in value]
        else:
            lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else value}")
    return "\n".join(lines) + "\n"


def _export_tests(repo: Path, sha: str, dest: Path) -> None:
    """OLD's tests/ (and a root conftest.py) into `dest`, straight from git."""
    data = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", sha, "tests"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    conftest = read_text(repo, sha, "conftest.py")
    if conftest is not None:
        (dest / "conftest.py").write_text(conftest)


def _plugin_args(code_tree: Path) -> list[str]:
    """Explicit `-p` options standing in for pytest's plugin autoload.

    Autoload would import the *installed* project's pytest11 plugin (the sandbox fixture), which
    may not exist in the tree under test; so autoload is off, third-party plugins are named one by
    one, and the project's own plugins are taken from `code_tree`'s pyproject.toml when their
    module exists there.
    """
    args: list[str] = []
    for ep in entry_points(group="pytest11"):
        dist = (ep.dist.name if ep.dist else "").replace("_", "-").lower()
        if dist != "clickatell-sms":
            args += ["-p", ep.module]
    pyproject = code_tree / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text())
        except tomllib.TOMLDecodeError:
            data = {}
        own = data.get("project", {}).get("entry-points", {}).get("pytest11", {})
        for value in own.values():
            module = str(value).split(":", 1)[0]
            rel = Path(*module.split("."))
            if (code_tree / rel.with_suffix(".py")).is_file() or (
                code_tree / rel / "__init__.py"
            ).is_file():
                args += ["-p", module]
    return args


def _env(code_tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(code_tree), str(code_tree / "generated")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["COLUMNS"] = "300"  # pytest cuts the short summary's reasons to the terminal width
    env.pop("PYTEST_ADDOPTS", None)
    return env


def run_pytest(workdir: Path, files: list[str], code_tree: Path, timeout: float) -> PytestRun:
    """Run `files` (relative to `workdir`) with `code_tree` first on sys.path."""
    env = _env(code_tree)
    probe = subprocess.run(
        [sys.executable, "-c", "import clickatell_sms as p; print(list(p.__path__)[0])"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-rfE",
        "--no-header",
        "-p",
        "no:cacheprovider",
        "-c",
        str(workdir / "pytest.ini"),
        "--continue-on-collection-errors",
        *_plugin_args(code_tree),
        "--rootdir",
        str(workdir),
        *files,
    ]
    try:
        proc = subprocess.run(
            cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return PytestRun(None, tail=out[-2000:])
    origin = probe.stdout.strip()
    if probe.returncode != 0:
        lines_err = probe.stderr.strip().splitlines()
        origin = "import failed: " + (lines_err[-1] if lines_err else f"exit {probe.returncode}")
    run = PytestRun(proc.returncode, imported_from=origin)
    lines = proc.stdout.splitlines()
    collect_reasons: dict[str, str] = {}  # the summary line of a collection error has no reason
    current: str | None = None
    for line in lines:
        header = COLLECT_HEADER.match(line)
        if header:
            current = header.group(1)
        elif current and line.startswith("E   "):
            collect_reasons.setdefault(current, line[4:].strip())
        m = SUMMARY_LINE.match(line)
        if m:
            node = m.group(2)
            reason = (m.group(3) or collect_reasons.get(node) or m.group(1).lower()).strip()
            run.failures[node] = reason if len(reason) <= 200 else reason[:197] + "..."
            if m.group(1) == "ERROR":
                run.errors.add(node)
    if lines:
        for n, word in COUNT.findall(lines[-1]):
            run.counts[word.rstrip("s") if word.startswith("error") else word] = int(n)
    run.tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
    return run


def run_old_tests(
    repo: Path, old_sha: str, old_tree: Path, new_tree: Path, timeout: float
) -> Section:
    """The section: OLD's facade tests against NEW, with pre-existing failures told apart."""
    section = Section("OLD's facade tests against NEW's code")
    files = facade_test_files(repo, old_sha)
    if not files:
        section.skipped = "OLD has no facade tests (tests/test_client*.py, tests/test_facade*.py)"
        return section
    with tempfile.TemporaryDirectory(prefix="release-diff-tests-") as tmp:
        work = Path(tmp)
        _export_tests(repo, old_sha, work)
        (work / "pytest.ini").write_text(_pytest_ini(repo, old_sha))
        run = run_pytest(work, files, new_tree, timeout)
        if run.returncode is None:
            section.findings.append(
                Finding(
                    "old-tests-timeout",
                    Level.WARNING,
                    "tests",
                    f"OLD's facade tests did not finish within {timeout:g}s against NEW",
                )
            )
            return section
        if not run.imported_from.startswith(("import failed", str(new_tree))):
            section.findings.append(
                Finding(
                    "old-tests-wrong-code",
                    Level.WARNING,
                    "tests",
                    f"clickatell_sms was imported from {run.imported_from}, not from NEW's tree: "
                    "these results may not be about NEW",
                )
            )
        counts = ", ".join(f"{n} {w}" for w, n in run.counts.items()) or "no result line"
        section.notes.append(f"against NEW: {counts} (pytest exit {run.returncode})")
        section.notes.append(f"ran {len(files)} file(s): {', '.join(files)}")
        if run.returncode == 5:
            section.notes.append("pytest collected no test from these files")
            return section
        if run.returncode not in (0, 1) and not run.failures:
            section.findings.append(
                Finding(
                    "old-tests-not-run",
                    Level.WARNING,
                    "tests",
                    f"pytest could not run OLD's facade tests (exit {run.returncode}): "
                    + (run.tail.splitlines()[-1] if run.tail else "no output"),
                )
            )
            section.notes.append("pytest output (tail):\n" + run.tail)
            return section
        baseline: dict[str, str] = {}
        baseline_ok = True
        if run.failures:
            base = run_pytest(work, files, old_tree, timeout)
            baseline = base.failures
            baseline_ok = base.returncode in (0, 1) or bool(base.failures)
            if not baseline_ok:
                section.notes.append("the same tests could not be run against OLD for comparison")
        for node, reason in run.failures.items():
            if not baseline_ok:
                section.findings.append(
                    Finding(
                        "old-test-failed",
                        Level.BREAKING,
                        node,
                        f"{node} fails against NEW (OLD baseline unavailable): {reason}",
                    )
                )
            elif node in baseline:
                section.findings.append(
                    Finding(
                        "old-test-failed-before",
                        Level.INFO,
                        node,
                        f"{node} fails against NEW but failed against OLD too: {reason}",
                    )
                )
            else:
                if node not in run.errors:
                    what = "passed against OLD and fails against NEW"
                elif "::" in node:
                    what = "passed against OLD and errors against NEW"
                else:
                    what = "cannot be collected against NEW (it could against OLD)"
                section.findings.append(
                    Finding("old-test-failed", Level.BREAKING, node, f"{node} {what}: {reason}")
                )
    return section
