"""The layout holds: no import cycle among the facade's modules, every operation of the spec
reaches every layer, and what is cheap to import stays cheap."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from clickatell_wire.tables import OPERATIONS

from clickatell_sms import Client, cli
from clickatell_sms.async_client import AsyncClient
from clickatell_sms.sandbox.app import SandboxApp

from .conftest import ROOT

PACKAGE = ROOT / "clickatell_sms"

# Operations a layer leaves out on purpose, with the reason (CONTRIBUTING.md says how to add one).
NOT_IN_CLIENT: dict[str, str] = {}
NOT_IN_CLI: dict[str, str] = {}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """Every module of the package that `name` imports, anywhere in the file (function-level
    and TYPE_CHECKING imports included: a cycle hidden in a function is still a cycle)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            # `from . import x` names a module when x is one; else the name lives in origin.
            targets = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in known else origin
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target in known and target != name:
                yield target


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_the_facades_modules() -> None:
    modules = _modules()
    known = set(modules)
    graph = {name: set(_imports(name, path, known)) for name, path in modules.items()}
    # A package's __init__ that only hands on its submodules' names is not a cycle with them.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_operation_has_a_client_method_a_sandbox_route_and_a_cli_command() -> None:
    spec = {op.operation_id for op in OPERATIONS}
    client = dict(Client.OPERATIONS)
    assert spec - client.keys() == set(NOT_IN_CLIENT), "operations without a Client method"
    assert client.keys() <= spec, "Client names operations the spec does not have"
    for method in client.values():
        assert callable(getattr(Client, method)), method
        # AsyncClient carries the same operations under the same names, awaited.
        assert inspect.iscoroutinefunction(getattr(AsyncClient, method)), method

    assert set(SandboxApp.HANDLERS) == spec, "operations without a sandbox handler"
    for method in SandboxApp.HANDLERS.values():
        assert callable(getattr(SandboxApp, method)), method

    commands = {
        op: cmd for family in cli.FAMILIES for op, cmd in getattr(family, "OPERATIONS", {}).items()
    }
    assert spec - commands.keys() == set(NOT_IN_CLI), "operations without a CLI command"
    parser = cli.build_parser()
    (subparsers,) = [a for a in parser._actions if a.dest == "==SUPPRESS==" or a.choices]
    assert set(commands.values()) <= set(subparsers.choices), "a CLI command that does not exist"


def _fresh(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def test_the_pytest_plugin_loads_no_server_stack() -> None:
    """Installed SDK, any pytest run: the plugin must not import the sandbox until used."""
    loaded = _fresh(
        "import sys, clickatell_sms.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith(('clickatell_sms.sandbox', 'urllib3', 'asyncio'))))"
    )
    assert loaded.strip() == "[]"


def test_the_facade_imports_no_xsdata_even_for_xml() -> None:
    """xsdata is a codegen tool: the XML path runs on its generated dataclasses and our codec."""
    loaded = _fresh(
        "import sys\n"
        "from clickatell_sms import Client\n"
        "from clickatell_sms.sandbox import Sandbox\n"
        "with Sandbox(api_keys=['k']) as sb, Client('k', base_url=sb.base_url, format='xml') as c:\n"
        "    assert c.send('27821234567', 'hi').all_accepted\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'xsdata'))"
    )
    assert loaded.strip() == "[]"


def test_the_http_stack_loads_with_the_first_request_not_with_the_import() -> None:
    loaded = _fresh(
        "import sys\n"
        "from clickatell_sms import Client, ClientConfig, ConnectionError, parse_status_callback\n"
        "def stack(): return ['http.client' in sys.modules, 'urllib3' in sys.modules]\n"
        "seen = stack()\n"
        "Client.estimate('hi')\n"
        "client = Client('k', base_url='http://127.0.0.1:9', retries=0)\n"
        "seen += stack()\n"
        "try:\n"
        "    client.send('27821234567', 'hi')\n"
        "except ConnectionError:\n"
        "    pass\n"
        "print(*seen, *stack())"
    )
    # Nothing of the HTTP stack for the import or Client(); urllib3 (and with it the standard
    # library's http.client) with the first request.
    assert loaded.split() == ["False"] * 4 + ["True"] * 2
