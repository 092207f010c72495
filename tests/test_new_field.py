"""One optional field added to the two contracts, `python -m codegen`, and nothing else edited:
the field reaches the client (JSON and XML), validation, `send_many`, both CLI commands and the
sandbox. A field added to one contract only makes codegen fail, naming it.

Everything runs in a temporary copy of the project, with that copy first on the import path,
so the checked-in tree is never touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

pytestmark = pytest.mark.slow

FIELD = "priorityLane"
ELEMENT = "PriorityLane"


def _copy_project(dest: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("spec", "generated", "codegen", "clickatell_sms"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=skip)
    return dest


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".git" not in p.parts
    }


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def _add_to_openapi(root: Path) -> None:
    path = root / "spec" / "openapi.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["components"]["schemas"]["SendMessageRequest"]["properties"][FIELD] = {
        "type": "integer",
        "minimum": 1,
        "maximum": 3,
        "description": "How urgently to deliver, 1 (first) to 3.",
        "xml": {"name": ELEMENT},
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


def _add_to_xsd(root: Path) -> None:
    path = root / "spec" / "messages.xsd"
    text = path.read_text()
    anchor = '<xs:element name="Charset" type="Charset" minOccurs="0"/>'
    element = (
        f'<xs:element name="{ELEMENT}" minOccurs="0"><xs:simpleType>'
        '<xs:restriction base="xs:int"><xs:minInclusive value="1"/>'
        '<xs:maxInclusive value="3"/></xs:restriction></xs:simpleType></xs:element>'
    )
    assert anchor in text
    path.write_text(text.replace(anchor, f"{anchor}\n        {element}"))


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "generated")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for name in ("CLICKATELL_API_KEY", "CLICKATELL_BASE_URL", "CLICKATELL_INTEGRATION"):
        env.pop(name, None)
    return env


def _codegen(root: Path) -> subprocess.CompletedProcess[str]:
    # The copy's own codegen, run from the copy.
    return subprocess.run(
        [sys.executable, "-m", "codegen"],
        cwd=root,
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=180,
    )


# What the copy must do once regenerated; run with the copy first on the import path.
_SCENARIO = textwrap.dedent(
    """
    import json, os, subprocess, sys, tempfile
    from pathlib import Path

    import clickatell_sms, clickatell_wire
    from clickatell_sms import Client, ValidationError
    from clickatell_sms.sandbox import Sandbox
    from clickatell_sms import wire
    from clickatell_sms.options import check_message

    root = Path(sys.argv[1])
    assert Path(clickatell_sms.__file__).is_relative_to(root), clickatell_sms.__file__
    assert Path(clickatell_wire.__file__).is_relative_to(root), clickatell_wire.__file__
    report = {}

    with Sandbox(api_keys=["k"]) as sb:
        # 1. On the wire, in JSON and in XML (the sandbox parses the body it got).
        for fmt in ("json", "xml"):
            with Client("k", base_url=sb.base_url, format=fmt) as client:
                message = check_message(client.config, "hi", {"priority_lane": 2})
                body = wire.build_request(fmt, message, ["27821234567"])
                if fmt == "json":
                    import msgspec
                    encoded = msgspec.json.encode(body).decode()
                    assert '"priorityLane":2' in encoded, encoded
                else:
                    from clickatell_wire.xml.codec import encode_send_message_request
                    encoded = encode_send_message_request(body).decode()
                    assert "<PriorityLane>2</PriorityLane>" in encoded, encoded
                result = client.send("27821234567", "hi", priority_lane=2)
                assert result.all_accepted
        records = sb.messages()
        assert [(r.format, r.options.get("priorityLane"), r.priority_lane) for r in records] == [
            ("json", 2, 2), ("xml", 2, 2)
        ], records
        report["wire"] = "json and xml recorded priorityLane=2"

        # 2. Out of bounds: refused by name before anything is sent.
        with Client("k", base_url=sb.base_url) as client:
            for bad in (0, 4, "2", True):
                try:
                    client.send("27821234567", "hi", priority_lane=bad)
                except ValidationError as exc:
                    assert exc.field == "priority_lane", exc
                else:
                    raise AssertionError(f"priority_lane={bad!r} was not refused")
        assert len(sb.messages()) == 2, "an out-of-bounds send reached the sandbox"
        report["bounds"] = str(ValidationError("priority_lane", "x"))

        # 3. send_many carries it to every request.
        with Client("k", base_url=sb.base_url) as client:
            summary = client.send_many(
                [f"2782123{i:04d}" for i in range(450)], "hi", priority_lane=3, concurrency=2
            )
        assert summary.accepted == 450, summary
        bulk_records = sb.messages()[2:]
        assert len(bulk_records) == 450
        assert {r.priority_lane for r in bulk_records} == {3}
        report["send_many"] = summary.accepted

        # 4. The CLI: send and bulk both take --priority-lane.
        cli = [sys.executable, "-m", "clickatell_sms.cli"]
        common = ["--api-key", "k", "--base-url", sb.base_url]
        done = subprocess.run(
            [*cli, "send", "--to", "27831234567", "--text", "hi", "--priority-lane", "2", *common],
            capture_output=True, text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert sb.messages()[-1].priority_lane == 2
        with tempfile.TemporaryDirectory() as folder:
            csv = Path(folder) / "people.csv"
            csv.write_text("to\\n27841234567\\n27841234568\\n")
            done = subprocess.run(
                [*cli, "bulk", "--csv", str(csv), "--content", "hi", "--priority-lane", "1",
                 "--progress", "none", *common],
                capture_output=True, text=True,
            )
        assert done.returncode == 0, done.stdout + done.stderr
        assert [r.priority_lane for r in sb.messages()[-2:]] == [1, 1]
        refused = subprocess.run(
            [*cli, "send", "--to", "27831234567", "--text", "hi", "--priority-lane", "9", *common],
            capture_output=True, text=True,
        )
        assert refused.returncode == 2 and "--priority-lane: is 9; must be from 1 to 3" in refused.stderr, refused.stderr
        report["cli"] = "send and bulk"

        # 5. The sandbox takes the field from any client, records it, and refuses it out of bounds.
        import urllib3
        http = urllib3.PoolManager()
        ok = http.request("POST", sb.base_url + "/messages", headers={"Authorization": "k",
            "Content-Type": "application/json"},
            body=json.dumps({"content": "hi", "to": ["27851234567"], "priorityLane": 3}))
        assert ok.status == 202, ok.data
        assert sb.messages()[-1].to_json()["priorityLane"] == 3
        bad = http.request("POST", sb.base_url + "/messages", headers={"Authorization": "k",
            "Content-Type": "application/json"},
            body=json.dumps({"content": "hi", "to": ["27851234568"], "priorityLane": 9}))
        assert bad.status == 400 and json.loads(bad.data)["errorCode"] == 101, bad.data
        report["sandbox"] = "records it; refuses 9 with 101"
    print(json.dumps(report))
    """
)


@dataclass(frozen=True)
class Regenerated:
    """The project copied, the field added to both contracts, and `python -m codegen` run."""

    root: Path
    changed: set[str]  # every file whose bytes changed, relative to the copy's root
    before: dict[str, bytes]  # generated/ as it was


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Regenerated:
    project = _copy_project(tmp_path_factory.mktemp("new-field"))
    before = _tree_digest(project)
    texts = {
        name: (project / name).read_bytes() for name in before if name.startswith("generated/")
    }
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "before")
    _add_to_openapi(project)
    _add_to_xsd(project)
    generated = _codegen(project)
    assert generated.returncode == 0, generated.stderr
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "the field")
    after = _tree_digest(project)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    return Regenerated(project, changed, texts)


# The files whose code a new optional field changes: the JSON models, the tables, the XML
# bindings and their codec; and the manifest, the one place the spec's hash lives.
MAY_CHANGE = {"models.py", "tables.py", "xml/messages.py", "xml/codec.py", "MANIFEST.json"}


def test_a_field_added_to_both_contracts_changes_only_the_files_it_changes(
    regenerated: Regenerated,
) -> None:
    prefix = "generated/clickatell_wire/"
    changed = {n.removeprefix(prefix) for n in regenerated.changed if n.startswith(prefix)}
    assert changed <= MAY_CHANGE, changed - MAY_CHANGE
    assert {"models.py", "tables.py", "xml/messages.py", "MANIFEST.json"} <= changed
    for name in sorted(changed - {"MANIFEST.json"}):
        old = regenerated.before[prefix + name].decode().splitlines()
        new = (regenerated.root / prefix / name).read_text().splitlines()
        assert old[0] == new[0], name  # the header is fixed
        assert old[1:] != new[1:], f"{name} changed in its header alone"
    manifest = json.loads((regenerated.root / prefix / "MANIFEST.json").read_text())
    spec_hash = manifest["inputs"]["spec/openapi.yaml"]
    hashed = [
        p for p in (regenerated.root / "generated").rglob("*.py") if spec_hash in p.read_text()
    ]
    assert hashed == []  # the spec's hash is in MANIFEST.json alone


def test_the_release_diff_of_a_field_shows_only_the_files_it_changes(
    regenerated: Regenerated,
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts")}
    command = [sys.executable, "-m", "release_diff", "--repo", str(regenerated.root)]
    run = subprocess.run(
        [*command, "HEAD~1", "HEAD", "--no-tests", "--no-regen"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    section = run.stdout.split("2. generated/ diff:", 1)[1].split("\n3a.", 1)[0]
    listed = {
        line.split()[1].removeprefix("generated/clickatell_wire/")
        for line in section.splitlines()
        if line.startswith("  M ")
    }
    assert section.startswith(f" {len(listed)} file(s) changed"), section
    assert listed and listed <= MAY_CHANGE, section
    assert "UNEXPLAINED" not in section


def test_a_field_added_to_both_contracts_reaches_every_layer_with_no_other_edit(
    regenerated: Regenerated,
) -> None:
    project = regenerated.root
    # Hand edits: the two contracts. Everything else that changed, codegen wrote.
    assert {n for n in regenerated.changed if not n.startswith("generated/")} == {
        "spec/openapi.yaml",
        "spec/messages.xsd",
    }
    tables = (project / "generated" / "clickatell_wire" / "tables.py").read_text()
    assert "priority_lane: int" in tables

    run = subprocess.run(
        [sys.executable, "-c", _SCENARIO, str(project)],
        cwd=project.parent,
        env=_env(project),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(report) == {"wire", "bounds", "send_many", "cli", "sandbox"}


@pytest.mark.parametrize("only", ["openapi", "xsd"])
def test_a_field_in_one_contract_only_fails_codegen_naming_it(tmp_path: Path, only: str) -> None:
    project = _copy_project(tmp_path)
    generated_before = _tree_digest(project / "generated")
    if only == "openapi":
        _add_to_openapi(project)
    else:
        _add_to_xsd(project)
    result = _codegen(project)
    assert result.returncode == 1
    err = result.stderr
    assert "the two contracts disagree" in err
    assert (FIELD if only == "openapi" else ELEMENT) in err
    assert "spec/openapi.yaml" in err and "spec/messages.xsd" in err
    assert _tree_digest(project / "generated") == generated_before  # nothing was written


def test_a_bound_that_differs_between_the_contracts_fails_codegen(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    _add_to_openapi(project)
    _add_to_xsd(project)
    xsd = project / "spec" / "messages.xsd"
    xsd.write_text(
        xsd.read_text().replace('<xs:maxInclusive value="3"/>', '<xs:maxInclusive value="5"/>')
    )
    result = _codegen(project)
    assert result.returncode == 1
    assert f"SendMessageRequest.{FIELD}: maximum / maxInclusive is 3" in result.stderr
    assert "but 5 in spec/messages.xsd" in result.stderr


def test_an_operation_added_to_the_spec_is_noticed_by_every_layer_that_lacks_it(
    tmp_path: Path,
) -> None:
    """The structure test and the sandbox both refuse a spec operation nobody implemented."""
    project = _copy_project(tmp_path)
    path = project / "spec" / "openapi.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["paths"]["/public-client/coverage"] = {
        "get": {
            "operationId": "getCoverage",
            "summary": "Whether a number can be reached",
            "responses": {
                "200": {
                    "description": "The answer.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ErrorResponse"}
                        }
                    },
                }
            },
        }
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    assert _codegen(project).returncode == 0
    probe = textwrap.dedent(
        """
        from clickatell_wire.tables import OPERATIONS
        from clickatell_sms import Client, cli
        from clickatell_sms.sandbox import Sandbox
        spec = {op.operation_id for op in OPERATIONS}
        print("client lacks", sorted(spec - set(Client.OPERATIONS)))
        commands = {op for f in cli.FAMILIES for op in getattr(f, "OPERATIONS", {})}
        print("cli lacks", sorted(spec - commands))
        try:
            Sandbox().start()
        except NotImplementedError as exc:
            print("sandbox:", exc)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], env=_env(project), capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "client lacks ['getCoverage']" in run.stdout
    assert "cli lacks ['getCoverage']" in run.stdout
    assert (
        "sandbox: the sandbox has no handler for the spec's operations: getCoverage" in run.stdout
    )
