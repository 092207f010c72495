"""The generator: deterministic, checked, driven by the spec, and its output is clean code.

These tests run the real pipeline (datamodel-code-generator, xsdata, jinja2, ruff) on temporary
copies of the project, so they never touch the checked-in generated/.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT


def _copy_project(dest: Path) -> Path:
    for name in ("pyproject.toml",):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "spec", dest / "spec")
    shutil.copytree(
        ROOT / "generated", dest / "generated", ignore=shutil.ignore_patterns("__pycache__")
    )
    return dest


def _codegen(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Run from the real checkout so `codegen` is importable; --root points it at the copy.
    return subprocess.run(
        [sys.executable, "-m", "codegen", "--root", str(root), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _digest(tree: Path) -> dict[str, str]:
    return {
        p.relative_to(tree).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(tree.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _edit_spec(root: Path, change: object) -> None:
    path = root / "spec" / "openapi.yaml"
    doc = yaml.safe_load(path.read_text())
    change(doc)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


def _add_xsd_element(root: Path, name: str, base: str, low: int, high: int) -> None:
    """An optional element of SendMessageRequest with inclusive bounds, after Charset."""
    path = root / "spec" / "messages.xsd"
    text = path.read_text()
    anchor = '<xs:element name="Charset" type="Charset" minOccurs="0"/>'
    assert anchor in text
    element = (
        f'<xs:element name="{name}" minOccurs="0"><xs:simpleType><xs:restriction base="{base}">'
        f'<xs:minInclusive value="{low}"/><xs:maxInclusive value="{high}"/>'
        "</xs:restriction></xs:simpleType></xs:element>"
    )
    path.write_text(text.replace(anchor, anchor + "\n        " + element))


def test_checked_in_generated_code_is_what_the_spec_makes() -> None:
    result = _codegen(ROOT, "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_regenerating_twice_gives_identical_bytes(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    first = _codegen(project)
    assert first.returncode == 0, first.stderr
    once = _digest(project / "generated")
    second = _codegen(project)
    assert second.returncode == 0, second.stderr
    assert _digest(project / "generated") == once
    # and both equal the checked-in tree, byte for byte
    assert once == _digest(ROOT / "generated")


@pytest.mark.parametrize("name", ["transport.py", "xml/codec.py", "MANIFEST.json"])
def test_check_catches_a_hand_edit_of_any_generated_file(tmp_path: Path, name: str) -> None:
    """No file carries the spec's hash any more, so --check compares whole files: an edit to
    the code, the XML codec or the manifest is caught as surely as a stale tree."""
    project = _copy_project(tmp_path)
    path = project / "generated" / "clickatell_wire" / name
    path.write_text(path.read_text().replace("e", "E", 1))
    check = _codegen(project, "--check")
    assert check.returncode == 1, check.stdout + check.stderr
    assert f"generated/clickatell_wire/{name} (checked in)" in check.stdout
    assert "generated/ is stale" in check.stderr


def test_generated_files_have_a_fixed_header_and_the_spec_hash_only_in_the_manifest() -> None:
    import json

    package = ROOT / "generated" / "clickatell_wire"
    manifest = json.loads((package / "MANIFEST.json").read_text())
    hashes = set(manifest["inputs"].values())
    for path in sorted(package.rglob("*.py")):
        text = path.read_text()
        source = "spec/messages.xsd" if "xml" in path.parts else "spec/openapi.yaml"
        assert (
            text.splitlines()[0] == f"# generated from {source} by python -m codegen, do not edit"
        )
        assert not any(h in text for h in hashes), path


def test_a_tool_at_another_version_than_its_pin_is_named_with_both_versions(
    tmp_path: Path,
) -> None:
    """A release of a generator must not read as "generated/ is stale": the spec did not change."""
    project = _copy_project(tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"ruff==0.17.6"', '"ruff==0.0.1"'))
    result = _codegen(project, "--check")
    assert result.returncode == 2
    assert "ruff 0.17.6 is installed, the pin is 0.0.1" in result.stderr
    assert "requirements/dev.lock" in result.stderr
    assert "stale" not in result.stdout + result.stderr


def test_the_manifest_records_exactly_the_pinned_tools() -> None:
    """Only what shapes the emitted bytes, each at its pin: a runtime library's new release
    (msgspec, urllib3) must not change generated/."""
    import json
    import tomllib

    manifest = json.loads((ROOT / "generated" / "clickatell_wire" / "MANIFEST.json").read_text())
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["codegen"]
    pins = {
        re.split(r"[\[=]", entry, maxsplit=1)[0].lower(): entry.rsplit("==", 1)[1]
        for entry in extra
    }
    assert manifest["tools"] == pins
    assert "msgspec" not in manifest["tools"]


def test_every_generated_file_says_where_it_came_from_and_has_no_timestamp() -> None:
    for path in sorted((ROOT / "generated").rglob("*.py")):
        first = path.read_text().splitlines()[0]
        assert first.startswith("# generated from spec/"), path
        assert first.endswith(", do not edit"), path
        comments = [line for line in path.read_text().splitlines() if line.lstrip().startswith("#")]
        # datamodel-codegen's own header carries "#   timestamp: <when>"; ours must not.
        assert not any(
            re.search(r"timestamp|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", c) for c in comments
        ), path
    manifest = (ROOT / "generated" / "clickatell_wire" / "MANIFEST.json").read_text()
    for tool in ("datamodel-code-generator", "xsdata", "ruff", "jinja2"):
        assert f'"{tool}"' in manifest


def test_a_new_field_makes_check_fail_and_appears_in_the_models(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)

    def add_field(doc: dict) -> None:  # type: ignore[type-arg]
        props = doc["components"]["schemas"]["SendMessageRequest"]["properties"]
        props["priorityLane"] = {
            "type": "integer",
            "minimum": 0,
            "maximum": 9,
            "description": "A test field.",
            "xml": {"name": "PriorityLane"},
        }

    _edit_spec(project, add_field)
    _add_xsd_element(project, "PriorityLane", "xs:int", 0, 9)
    check = _codegen(project, "--check")
    assert check.returncode == 1, check.stderr
    assert "priority_lane" in check.stdout  # the readable diff names the new field
    assert "generated/ is stale" in check.stderr
    assert _codegen(project).returncode == 0
    models = (project / "generated" / "clickatell_wire" / "models.py").read_text()
    assert "priority_lane:" in models and 'name="priorityLane"' in models
    assert _codegen(project, "--check").returncode == 0


def test_a_new_operation_becomes_a_new_function(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)

    def add_operation(doc: dict) -> None:  # type: ignore[type-arg]
        doc["paths"]["/public-client/coverage"] = {
            "get": {
                "operationId": "getCoverage",
                "summary": "Whether a number can be reached",
                "description": "A test operation.",
                "parameters": [
                    {
                        "name": "msisdn",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ErrorResponse"}
                            }
                        },
                    }
                },
            }
        }

    _edit_spec(project, add_operation)
    assert _codegen(project).returncode == 0
    operations = (project / "generated" / "clickatell_wire" / "operations.py").read_text()
    assert "def get_coverage(" in operations
    assert "def decode_get_coverage(" in operations
    assert "'/public-client/coverage'" in operations or '"/public-client/coverage"' in operations
    assert 'query.append("msisdn=" + quote(msisdn, safe=""))' in operations


def test_no_template_holds_a_long_stretch_of_python_no_spec_value_shapes() -> None:
    """The templates are short because urllib3 and aiohttp do the HTTP: what the spec does not
    shape comes in small modules, each with one job."""
    for path in sorted((ROOT / "codegen" / "templates").glob("*.jinja")):
        run = longest = 0
        for line in path.read_text().splitlines():
            run = 0 if re.search(r"\{[{%#]", line) else run + 1
            longest = max(longest, run)
        assert longest <= 100, f"{path.name}: {longest} lines in a row without a template tag"


def test_no_transport_of_the_sdk_uses_the_standard_librarys_http_client() -> None:
    """Every sync path is urllib3 (whose connections reach the standard library's response
    class through `response_class`): no module imports http.client or names it in code."""
    import ast

    for folder in ("clickatell_sms", "generated"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [f"{node.module}.{alias.name}" for alias in node.names]
                elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    names = [f"{node.value.id}.{node.attr}"]
                used = [n for n in names if n == "http.client" or n.startswith("http.client.")]
                assert not used, f"{path}:{getattr(node, 'lineno', '?')}: {used}"


def test_a_client_pattern_reaches_the_tables_and_the_client_and_no_schema(tmp_path: Path) -> None:
    """`x-client-pattern` is a client's rule, not the server's: codegen puts it in the tables,
    where the client reads it, and in no schema; beside a `pattern` it is refused."""
    project = _copy_project(tmp_path)
    tighter = "^\\+?27[0-9]{9}$"  # South African numbers only

    def tighten(doc: dict) -> None:  # type: ignore[type-arg]
        doc["components"]["schemas"]["PhoneNumber"]["x-client-pattern"] = tighter

    _edit_spec(project, tighten)
    assert _codegen(project).returncode == 0
    generated = project / "generated" / "clickatell_wire"
    assert "27[0-9]{9}" not in (generated / "models.py").read_text()
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "from clickatell_wire.tables import send_field\n"
            "print(send_field('to').client_pattern, send_field('to').pattern)\n"
            "from clickatell_sms.errors import ValidationError\n"
            "from clickatell_sms.numbers import normalize_number\n"
            "from clickatell_sms.numbers import normalize_many\n"
            "print(normalize_number('+27 82 123 4567'))\n"
            "for numbers in (['+44 7700 900123'], ['447700900123'], ['27821234567'] * 20 + ['447700900123']):\n"
            "    try:\n"
            "        normalize_many(numbers)\n"
            "    except ValidationError as exc:\n"
            "        print(exc)\n",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": f"{generated.parent}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    table, taken, *refused = check.stdout.splitlines()
    assert table == f"{tighter} None"
    assert taken == "27821234567"
    # Written with spaces, bare, and among numbers the fast path would have taken whole.
    assert [line.split(":")[0] for line in refused] == ["to[0]", "to[0]", "to[20]"]
    assert all("does not match the contract's rule for numbers ^" in line for line in refused)

    def both(doc: dict) -> None:  # type: ignore[type-arg]
        doc["components"]["schemas"]["PhoneNumber"]["pattern"] = "^[0-9]+$"

    _edit_spec(project, both)
    refused_spec = _codegen(project)
    assert refused_spec.returncode != 0
    assert "PhoneNumber" in refused_spec.stderr or "to[]" in refused_spec.stderr
    assert "x-client-pattern" in refused_spec.stderr


def test_generated_code_passes_ruff_and_mypy_strict() -> None:
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "generated"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ruff.returncode == 0, ruff.stdout
    fmt = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "generated"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "generated/clickatell_wire"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert mypy.returncode == 0, mypy.stdout
