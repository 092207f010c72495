"""The layout holds: the package's modules stand in layers, each importing only its own layer and
those below, with no import cycle; the environment is read in one place; every operation of the
spec reaches every layer; and what is cheap to import stays cheap."""

from __future__ import annotations

import ast
import inspect
import io
import keyword
import re
import subprocess
import sys
import tokenize
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


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {name: set(_imports(name, path, known)) for name, path in modules.items()}
    # A package's __init__ that only hands on its submodules' names is not a cycle with them.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    return graph


def test_no_import_cycle_among_the_facades_modules() -> None:
    assert _cycles(_graph()) == []


# The package's layers, from the ground up: a module imports modules of its own layer and of the
# layers below, never above (function-level imports included). A module belongs to the layer of
# the longest entry that names it or a package holding it; "__init__" is the package's own.
# CONTRIBUTING.md's "Layers" table says the same, and a test holds the two equal.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "values",
        (
            "_version", "_sqlite", "raw", "hooks", "redact", "loopback", "statuses", "results",
            "errors", "retry", "encoding", "numbers",
        ),
    ),
    ("settings", ("settings", "config")),
    ("messages", ("options", "wire", "callbacks.parsing")),
    ("exchange", ("answers", "matching", "exchange", "async_exchange")),
    (
        "storage",
        (
            "_postgres", "opt_outs", "bulk._account", "bulk._records", "bulk._scratch",
            "bulk.journal", "bulk._journal_base", "bulk.sqlite_journal", "bulk.postgres_journal",
            "bulk.delivery", "bulk._delivery_base", "bulk.sqlite_delivery", "bulk.postgres_delivery",
        ),
    ),
    ("engines", ("bulk", "callbacks")),
    ("clients", ("client", "async_client", "call_settings")),
    ("tools", ("report", "sandbox", "conformance", "pytest_plugin")),
    ("programs", ("cli", "worker", "__main__", "__init__", "sandbox.__main__")),
)  # fmt: skip


def _layer(module: str) -> int:
    """The index in LAYERS of the layer `module` belongs to."""
    relative = module.removeprefix("clickatell_sms").removeprefix(".") or "__init__"
    best: tuple[int, int] | None = None  # (length of the entry, layer)
    for index, (_, entries) in enumerate(LAYERS):
        for entry in entries:
            if relative == entry or relative.startswith(entry + "."):
                best = max(best or (-1, -1), (len(entry), index))
    assert best is not None, f"{module} is in no layer: add it to LAYERS and CONTRIBUTING.md"
    return best[1]


def _upward(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{name} ({LAYERS[_layer(name)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
        for name, targets in graph.items()
        for target in targets
        if _layer(target) > _layer(name)
    )


def test_no_module_imports_one_in_a_layer_above_it() -> None:
    assert _upward(_graph()) == []


def test_the_layer_check_finds_an_import_that_runs_back_up() -> None:
    graph = {
        "clickatell_sms.bulk.celery": {"clickatell_sms.client"},
        "clickatell_sms.client": {"clickatell_sms.bulk", "clickatell_sms.errors"},
    }
    assert _upward(graph) == [
        "clickatell_sms.bulk.celery (engines) imports clickatell_sms.client (clients)"
    ]
    assert _layer("clickatell_sms.bulk.journal") < _layer("clickatell_sms.bulk._engine")
    assert _layer("clickatell_sms") == _layer("clickatell_sms.cli.bulk") == len(LAYERS) - 1


def _package_imports(graph: dict[str, set[str]], package: str, other: str) -> list[str]:
    """Every import of a module of package `other` by a module of `package`."""

    def within(module: str, prefix: str) -> bool:
        return module == prefix or module.startswith(prefix + ".")

    return sorted(
        f"{name} imports {target}"
        for name, targets in graph.items()
        if within(name, package)
        for target in targets
        if within(target, other)
    )


def test_the_opt_out_store_imports_nothing_of_bulk() -> None:
    """The bulk engines check their batches against the opt-out store, so the store stands
    below all of `bulk`. The layers cannot say so (the store and the journals are one layer):
    what the two need alike, such as PostgreSQL's plumbing (`_postgres`), lives beneath both."""
    assert _package_imports(_graph(), "clickatell_sms.opt_outs", "clickatell_sms.bulk") == []
    back = {"clickatell_sms.opt_outs.postgres": {"clickatell_sms.bulk.journal"}}
    assert _package_imports(back, "clickatell_sms.opt_outs", "clickatell_sms.bulk") == [
        "clickatell_sms.opt_outs.postgres imports clickatell_sms.bulk.journal"
    ]


def test_contributing_maps_the_same_layers() -> None:
    """CONTRIBUTING.md's table lists the layers top down: `| **name** | modules | why |`."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| \*\*(\w+)\*\* \| (.+?) \| .+ \|$", section, flags=re.MULTILINE)
    documented = [
        (name, tuple(re.findall(r"`([^`]*)`", modules))) for name, modules in reversed(rows)
    ]
    declared = [(name, tuple(sorted(entries))) for name, entries in LAYERS]
    assert [(name, tuple(sorted(mods))) for name, mods in documented] == declared


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


def _environment_readers(tree: ast.AST) -> bool:
    """Whether the module reads the environment: `os.environ`, `os.getenv`, or either name
    imported from `os`."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ("environ", "getenv", "environb", "getenvb")
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ("environ", "getenv") for alias in node.names)
        ):
            return True
    return False


def test_the_environment_is_read_in_one_settings_module() -> None:
    readers = [
        name
        for name, path in _modules().items()
        if _environment_readers(ast.parse(path.read_text()))
    ]
    assert readers == ["clickatell_sms.settings"]
    assert _environment_readers(ast.parse("from os import getenv"))
    assert _environment_readers(ast.parse("import os\nos.environ.get('X')"))


def test_every_clickatell_variable_is_named_once_in_settings() -> None:
    """A variable's name is a string in `settings` alone (docstrings and messages aside), and
    stands there once."""
    name = re.compile(r"CLICKATELL_[A-Z_]+")
    found: dict[str, list[str]] = {}
    for module, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and name.fullmatch(node.value)
            ):
                found.setdefault(node.value, []).append(module)
    assert {module for modules in found.values() for module in modules} == {
        "clickatell_sms.settings"
    }
    assert all(len(modules) == 1 for modules in found.values()), found


# The sync and async twins: each holds only what differs, where it awaits. Their shared code
# lives once (client.BaseClient, answers.Call, matching.SendRun).
TWINS = (("client.py", "async_client.py"), ("exchange.py", "async_exchange.py"))
_RUN = 6
# An f-string is one STRING token up to Python 3.11, FSTRING_START ... FSTRING_END after.
_CONSTANT_TOKENS = (tokenize.STRING, tokenize.NUMBER, getattr(tokenize, "FSTRING_START", -1))


def _prose_and_imports(tree: ast.AST) -> set[int]:
    """The lines of docstrings and imports: blanked, any two have the same shape, so they say
    nothing about code written twice."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        prose = (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        if prose or isinstance(node, ast.Import | ast.ImportFrom):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _line_shapes(source: str) -> list[str]:
    """Each line of code with its names, strings and numbers blanked (keywords, `await`
    among them, and punctuation kept); comments, blank lines, docstrings and imports left
    out."""
    skipped = _prose_and_imports(ast.parse(source))
    shapes: dict[int, list[str]] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.start[0] in skipped:
            continue
        if token.type == tokenize.NAME:
            word = token.string if keyword.iskeyword(token.string) else "N"
        elif token.type in _CONSTANT_TOKENS:
            word = "C"
        elif token.type == tokenize.OP:
            word = token.string
        else:
            continue
        shapes.setdefault(token.start[0], []).append(word)
    return [" ".join(words) for _, words in sorted(shapes.items())]


class _Blank(ast.NodeTransformer):
    """Names, attributes, arguments and constants made alike, so a statement keeps its shape."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name("N", node.ctx), node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        return ast.copy_location(ast.Attribute(node.value, "N", node.ctx), node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.copy_location(ast.Constant("C"), node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        self.generic_visit(node)
        node.arg = "N"
        return node

    def visit_keyword(self, node: ast.keyword) -> ast.AST:
        self.generic_visit(node)
        node.arg = "N" if node.arg is not None else None
        return node


def _statement_shapes(source: str) -> list[str]:
    """Every statement in source order, blanked, without the bodies of compound statements
    (each statement of a body counts on its own); docstrings and imports left out."""
    shapes: list[str] = []
    skipped = _prose_and_imports(ast.parse(source))

    def visit(statements: list[ast.stmt]) -> None:
        for statement in statements:
            if statement.lineno in skipped:
                continue
            bodies = [
                getattr(statement, field)
                for field in ("body", "orelse", "finalbody", "handlers")
                if isinstance(getattr(statement, field, None), list)
            ]
            header = ast.dump(_Blank().visit(_without_bodies(statement)))
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                header = header.replace("name='" + statement.name + "'", "name='N'")
            shapes.append(header)
            for body in bodies:
                for item in body:
                    visit(item.body if isinstance(item, ast.ExceptHandler) else [item])

    visit(ast.parse(source).body)
    return shapes


def _without_bodies(statement: ast.stmt) -> ast.stmt:
    copy = ast.parse(ast.unparse(statement)).body[0]
    for field in ("body", "orelse", "finalbody", "handlers"):
        if isinstance(getattr(copy, field, None), list):
            setattr(copy, field, [])
    return copy


def _shared_runs(first: list[str], second: list[str], size: int = _RUN) -> set[tuple[str, ...]]:
    runs = {tuple(first[i : i + size]) for i in range(len(first) - size + 1)}
    return {tuple(second[i : i + size]) for i in range(len(second) - size + 1)} & runs


def test_the_sync_and_async_twins_share_no_run_of_six_lines_or_statements() -> None:
    for sync, asynchronous in TWINS:
        one, other = (PACKAGE / sync).read_text(), (PACKAGE / asynchronous).read_text()
        assert _shared_runs(_line_shapes(one), _line_shapes(other)) == set(), (sync, "lines")
        assert _shared_runs(_statement_shapes(one), _statement_shapes(other)) == set(), (
            sync,
            "statements",
        )


def test_the_twin_check_finds_a_loop_written_twice() -> None:
    sync = (
        "def send(self, request):\n"
        "    tries = Attempts(self._config, request)\n"
        "    while True:\n"
        "        tries.start()\n"
        "        try:\n"
        "            response = self.transport.send(request)\n"
        "        except RequestFailed as failure:\n"
        "            wait = tries.failed(failure)\n"
        "            if wait is None:\n"
        "                raise\n"
    )
    renamed = sync.replace("tries", "attempts").replace("self.transport", "self._session")
    assert _shared_runs(_line_shapes(sync), _line_shapes(renamed))
    assert _shared_runs(_statement_shapes(sync), _statement_shapes(renamed))
    awaited = sync.replace("response = self", "response = await self")
    assert not _shared_runs(_line_shapes(sync), _line_shapes(awaited))  # 10 lines, await in 6th


def test_every_bulk_engine_sends_through_the_same_pool_interface() -> None:
    """The threaded engine, the asyncio one and the dry run each give the run a pool of the
    same shape (`BatchPool`); nothing is swapped into a run after it is made."""
    from clickatell_sms.bulk import _async_engine, _engine, _sender, dry_run

    interface = {
        name: inspect.signature(member)
        for name, member in vars(_sender.BatchPool).items()
        if not name.startswith("_") and callable(member)
    }
    assert set(interface) == {"submit", "cancel", "close"}
    for pool in (_engine._Threads, _async_engine._LoopPool, dry_run._Inline):
        for name, signature in interface.items():
            assert inspect.signature(getattr(pool, name)).parameters.keys() == (
                signature.parameters.keys()
            ), (pool, name)
    bulk = PACKAGE / "bulk"
    for path in bulk.glob("*.py"):
        tree = ast.parse(path.read_text())
        if path.stem in ("_engine", "_async_engine", "_sender", "dry_run"):
            assert "type: ignore[assignment]" not in path.read_text(), path.name
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(base) for base in node.bases}
                assert not bases & {"KeyboardInterrupt", "BaseException"}, (path.name, node.name)
            if isinstance(node, ast.Raise) and node.exc is not None:
                assert "AssertionError" not in ast.unparse(node.exc), path.name
    engine = ast.parse((bulk / "_async_engine.py").read_text())
    assert not [n for n in ast.walk(engine) if isinstance(n, ast.Name) and n.id == "Any"]


# Which modules of the package may import which part of the generated code (wire.py's
# docstring says why). "" stands for every module.
WIRE_BOUNDARY: dict[str, tuple[str, ...]] = {
    "clickatell_wire.tables": ("",),
    "clickatell_wire.http_types": (
        "wire", "answers", "exchange", "async_exchange", "client", "async_client", "retry",
        "redact",
    ),
    "clickatell_wire.transport": ("exchange",),
    "clickatell_wire.async_transport": ("async_exchange",),
    "clickatell_wire.transport_base": ("exchange", "async_exchange", "config"),
    "clickatell_wire.models": ("wire", "sandbox"),
    "clickatell_wire.xml": ("wire", "sandbox"),
    "clickatell_wire.operations": ("wire",),
}  # fmt: skip


def _wire_imports(path: Path) -> Iterator[str]:
    """The generated modules a file imports (anywhere in it): `clickatell_wire.x`, or
    `clickatell_wire.x` for `from clickatell_wire import x`."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module == "clickatell_wire":
                names = [f"clickatell_wire.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        else:
            continue
        yield from (name for name in names if name.split(".")[0] == "clickatell_wire")


def _may_import(module: str, generated: str) -> bool:
    relative = module.removeprefix("clickatell_sms").removeprefix(".") or "__init__"
    part = ".".join(generated.split(".")[:2])
    allowed = WIRE_BOUNDARY.get(part)
    assert allowed is not None, f"{generated}: not in WIRE_BOUNDARY (and wire.py's docstring)"
    return any(
        entry == "" or relative == entry or relative.startswith(entry + ".") for entry in allowed
    )


def test_the_generated_code_is_imported_only_across_the_declared_boundary() -> None:
    crossing = sorted(
        f"{name} imports {generated}"
        for name, path in _modules().items()
        for generated in _wire_imports(path)
        if not _may_import(name, generated)
    )
    assert crossing == []
    assert not _may_import("clickatell_sms.bulk._engine", "clickatell_wire.models")
    assert _may_import("clickatell_sms.sandbox.documents", "clickatell_wire.xml.codec")
    documented = (PACKAGE / "wire.py").read_text()
    for generated in WIRE_BOUNDARY:
        assert f"`{generated}" in documented or f"`{generated.split('.')[1]}`" in documented


def test_the_client_knows_every_call_setting() -> None:
    """`send` takes the call's settings out of its keywords by `_CALL_SETTINGS`, written out so
    that importing the client does not make the TypedDicts."""
    from clickatell_sms import client
    from clickatell_sms.call_settings import CallSettings, SendSettings

    assert CallSettings.__annotations__.keys() == client._CALL_SETTINGS
    assert CallSettings.__annotations__.keys() <= SendSettings.__annotations__.keys()
    loaded = _fresh(
        "import sys\n"
        "from clickatell_sms import Client\n"
        "Client('k')\n"
        "print('clickatell_sms.call_settings' in sys.modules)"
    )
    assert loaded.strip() == "False"


def _unexplained_function_imports(path: Path) -> list[str]:
    """Function-level imports with no comment on their line, or above the run of imports they
    stand in."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for function in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            assert node.end_lineno is not None
            if any("#" in line for line in lines[node.lineno - 1 : node.end_lineno]):
                continue
            above = node.lineno - 2
            while above >= 0 and lines[above].strip().startswith(("from ", "import ", ")")):
                above -= 1  # the run of imports this one stands in
            if above < 0 or not lines[above].strip().startswith("#"):
                found.append(f"{path}:{node.lineno}")
    return found


def test_every_function_level_import_says_why_it_is_not_at_the_top() -> None:
    """(The command line's modules say it once, in `cli/__init__.py`: each command loads what it
    runs when it runs, so that `--help` loads no command's stack.)"""
    package = ROOT / "clickatell_sms"
    unexplained = [
        where
        for path in sorted(package.rglob("*.py"))
        if package / "cli" not in path.parents
        for where in _unexplained_function_imports(path)
    ]
    assert unexplained == []


def test_the_import_check_finds_an_import_without_a_reason(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "def explained():\n    # (loaded late: heavy)\n    import json\n    import csv\n\n"
        "def inline():\n    import json  # (heavy)\n\n"
        "def bare():\n    x = 1\n    import json\n"
    )
    assert _unexplained_function_imports(module) == [f"{module}:11"]
