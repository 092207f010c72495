"""The package stays readable in small pieces: no hand-written function longer than a screen,
and one home for the command line (argparse is built only in `clickatell_sms/cli/`)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "clickatell_sms"
LONGEST = 60
"""Lines from a function's `def` to its last line, its signature and comments included; its
docstring aside, which is the function's reference documentation (the docs site renders it)
rather than code to read through, and is as long as what it must say."""


def _functions(path: Path) -> Iterator[tuple[str, int, int]]:
    """(qualified name, first line, number of lines) of every function and method in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def visit(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                assert child.end_lineno is not None
                length = child.end_lineno - child.lineno + 1 - _docstring_lines(child)
                yield name, child.lineno, length
                yield from visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, f"{prefix}{child.name}.")
            else:
                yield from visit(child, prefix)

    yield from visit(tree, "")


def _docstring_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = function.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)):
        return 0
    if not isinstance(first.value.value, str) or first.end_lineno is None:
        return 0
    return first.end_lineno - first.lineno + 1


def _too_long(package: Path) -> list[str]:
    return [
        f"{path.relative_to(package.parent)}:{line} {name} is {length} lines"
        for path in sorted(package.rglob("*.py"))
        for name, line, length in _functions(path)
        if length > LONGEST
    ]


def test_no_function_in_the_package_is_longer_than_60_lines() -> None:
    too_long = _too_long(PACKAGE)
    assert too_long == [], "\n".join(too_long)


def test_the_length_test_finds_a_long_function_and_counts_all_but_its_docstring(
    tmp_path: Path,
) -> None:
    body = "\n".join(f"    x{n} = {n}" for n in range(LONGEST - 1))
    doc = '    """Doc.\n\n    More.\n    """\n'
    (tmp_path / "fits.py").write_text(f"def fits():\n{doc}{body}\n")
    indented = body.replace("    ", "        ")
    (tmp_path / "long.py").write_text(
        f"class A:\n    async def long(self):\n        # why\n{indented}\n"
    )
    found = _too_long(tmp_path)
    assert len(found) == 1 and found[0].endswith("A.long is 61 lines"), found


def test_argparse_parsers_are_built_only_in_the_cli_package() -> None:
    builders = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "argparse.ArgumentParser(" in path.read_text(encoding="utf-8")
    )
    assert builders, "the search finds nothing: has the CLI moved?"
    assert [path for path in builders if not path.startswith("cli/")] == []


def test_building_the_command_line_loads_no_server_stack() -> None:
    """Every `clickatell-sms` run builds every command's options, the sandbox's defaults
    included; the server itself (asyncio, the wire code) loads only when one starts."""
    code = (
        "import sys\n"
        "from clickatell_sms.cli import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = ('clickatell_sms.sandbox.server', 'clickatell_sms.sandbox.app', 'asyncio')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
