"""No test may depend on how long the suite took to reach it.

A value read from the clock when a module is imported or its tests are collected (`now + 5
minutes` in a table of cases) has expired by the time its test runs on a loaded machine, minutes
later. The same holds for a clock value made once by a module- or session-wide fixture and used
by every test after it. This test reads every test module's syntax tree for such reads, so the
pattern cannot come back unnoticed.
"""

from __future__ import annotations

import ast

from .conftest import ROOT

# Functions that read the clock, by their last name (`datetime.now`, `time.monotonic`, ...).
CLOCK_READS = frozenset(
    {
        "now",
        "utcnow",
        "today",
        "time",
        "time_ns",
        "monotonic",
        "monotonic_ns",
        "perf_counter",
        "localtime",
        "gmtime",
    }
)
# Those that make a date or time value (a deadline kept inside a fixture's own wait is fine).
DATE_VALUES = frozenset({"now", "utcnow", "today"})
WIDE_SCOPES = frozenset({"session", "package", "module", "class"})


def _called_name(node: ast.Call) -> str | None:
    function = node.func
    if isinstance(function, ast.Attribute):
        return function.attr
    return function.id if isinstance(function, ast.Name) else None


def _wide_fixture(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`@pytest.fixture(scope="module")` and wider: made once, used by many tests later."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and _called_name(decorator) == "fixture":
            for keyword in decorator.keywords:
                value = keyword.value
                if keyword.arg == "scope" and isinstance(value, ast.Constant):
                    return value.value in WIDE_SCOPES
    return False


def clock_reads_before_the_test(source: str) -> list[tuple[int, str]]:
    """(line, expression) of each clock read that runs at import or collection (module level,
    class bodies, decorators such as `parametrize`, default values), and each date made by a
    fixture wider than one test."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, names: frozenset[str]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            for outer in [*node.decorator_list, *arguments.defaults, *arguments.kw_defaults]:
                if outer is not None:
                    visit(outer, CLOCK_READS)
            if _wide_fixture(node):
                for statement in node.body:
                    visit(statement, DATE_VALUES)
            return  # a test's own body runs when the test does
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Call) and _called_name(node) in names:
            found.append((node.lineno, ast.unparse(node)))
        for child in ast.iter_child_nodes(node):
            visit(child, names)

    visit(ast.parse(source), CLOCK_READS)
    return found


def test_no_test_module_reads_the_clock_before_its_tests_run() -> None:
    modules = sorted((ROOT / "tests").rglob("*.py"))
    assert len(modules) > 20  # the real test files, not an empty folder
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {expression}"
        for path in modules
        for line, expression in clock_reads_before_the_test(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "read the clock inside the test instead:\n" + "\n".join(offenders)


def test_the_finder_finds_each_way_of_reading_the_clock_too_early() -> None:
    source = """
import time
from datetime import datetime, timedelta
import pytest

LATER = datetime.now() + timedelta(minutes=5)
CASES = {"x": {"when": datetime.now(UTC)}}

class TestThing:
    started = time.monotonic()

@pytest.mark.parametrize("when", [datetime.today()])
def test_a(when, default=time.time()):
    inside = datetime.now()  # fine: read when the test runs

@pytest.fixture(scope="session")
def tomorrow():
    deadline = time.monotonic() + 5  # fine: a wait inside the fixture
    return datetime.utcnow() + timedelta(days=1)

@pytest.fixture
def fresh():
    return datetime.now()  # fine: made for each test
"""
    lines = [line for line, _ in clock_reads_before_the_test(source)]
    assert lines == [6, 7, 10, 12, 13, 19]
