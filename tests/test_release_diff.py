"""scripts/release-diff: built histories in throw-away git repos, and the rules one by one.

Each history is a tiny project (spec, XSD, facade, one facade test file, no codegen) committed
twice, so the report is checked end to end exactly as a release reviewer would run it.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from release_diff.bump import decide  # noqa: E402
from release_diff.cli import build_report, main  # noqa: E402
from release_diff.findings import Finding, Level, Section  # noqa: E402
from release_diff.report import Report, render_markdown, render_text  # noqa: E402
from release_diff.spec_rules import diff_documents  # noqa: E402
from release_diff.xsd_rules import diff_xsd  # noqa: E402

# One xdist worker runs this module: the git histories it builds once cost more than the rest.
pytestmark = pytest.mark.xdist_group("release-diff-histories")

SPEC = """\
openapi: 3.1.0
info: {title: tiny, version: 1.0.0}
paths:
  /messages:
    post:
      operationId: sendMessage
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/SendMessageRequest'}
      responses:
        '202':
          description: one entry per recipient
          content:
            application/json:
              schema: {$ref: '#/components/schemas/SendMessagesResponse'}
components:
  schemas:
    SendMessageRequest:
      type: object
      required: [content, to]
      properties:
        content: {type: string, minLength: 1}
        to: {type: array, items: {type: string}}
    SendMessagesResponse:
      type: object
      properties:
        messages:
          type: array
          items:
            type: object
            properties:
              apiMessageId: {type: string}
              accepted: {type: boolean}
              description: {type: string}
"""

XSD = """\
<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="SendMessageRequest">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Content" type="xs:string"/>
        <xs:element name="To" type="xs:string" maxOccurs="200"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""

INIT = """\
from ._version import __version__
from .client import Client, SendResult

__all__ = ["Client", "SendResult", "__version__"]
"""

CLIENT = """\
from dataclasses import dataclass


@dataclass
class SendResult:
    to: str
    accepted: bool


class Client:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def send(self, to: list[str], content: str) -> list[SendResult]:
        return [SendResult(to=n, accepted=True) for n in to]
"""

FACADE_TEST = """\
from clickatell_sms import Client


def test_send_accepts_every_recipient():
    results = Client("key").send(to=["27820000001", "27820000002"], content="hi")
    assert [r.accepted for r in results] == [True, True]


def test_send_keeps_recipient_order():
    results = Client("key").send(to=["27820000002", "27820000001"], content="hi")
    assert [r.to for r in results] == ["27820000002", "27820000001"]
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def write(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def commit(repo: Path, files: dict[str, str], message: str, tag: str | None = None) -> None:
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    if tag:
        git(repo, "tag", tag)


def new_repo(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    commit(
        path,
        {
            "spec/openapi.yaml": SPEC,
            "spec/messages.xsd": XSD,
            "clickatell_sms/__init__.py": INIT,
            "clickatell_sms/_version.py": '__version__ = "0.1.0"\n',
            "clickatell_sms/client.py": CLIENT,
            "tests/test_client.py": FACADE_TEST,
            "README.md": "tiny\n",
        },
        "0.1.0",
        tag="v0.1.0",
    )
    return path


def edit_spec(edit: Any) -> str:
    doc = yaml.safe_load(SPEC)
    edit(doc)
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Report]]:
    """Each scenario's repo and report, built once: the worktrees and pytest runs are the cost."""
    base = tmp_path_factory.mktemp("histories")
    out: dict[str, tuple[Path, Report]] = {}

    # 1. An optional request field, and the facade grows an optional argument for it.
    repo = new_repo(base / "optional")

    def add_optional(doc: dict[str, Any]) -> None:
        doc["components"]["schemas"]["SendMessageRequest"]["properties"]["clientMessageId"] = {
            "type": "string",
            "maxLength": 255,
        }

    commit(
        repo,
        {
            "spec/openapi.yaml": edit_spec(add_optional),
            "clickatell_sms/client.py": CLIENT.replace(
                "def send(self, to: list[str], content: str)",
                "def send(self, to: list[str], content: str, client_message_id: str | None = None)",
            ),
        },
        "clientMessageId",
    )
    out["optional"] = (repo, build_report(repo, "v0.1.0", "HEAD", timeout=60))

    # 2. A response field removed, and the facade's `to` renamed to `recipients`.
    repo = new_repo(base / "breaking")

    def drop_description(doc: dict[str, Any]) -> None:
        items = doc["components"]["schemas"]["SendMessagesResponse"]["properties"]["messages"]
        del items["items"]["properties"]["description"]

    commit(
        repo,
        {
            "spec/openapi.yaml": edit_spec(drop_description),
            "clickatell_sms/client.py": CLIENT.replace(
                "self, to: list[str]", "self, recipients: list[str]"
            ).replace("for n in to]", "for n in recipients]"),
        },
        "break",
    )
    out["breaking"] = (repo, build_report(repo, "v0.1.0", "HEAD", timeout=60))

    # 3. Same signatures, different behaviour: only OLD's facade tests can see it.
    repo = new_repo(base / "behaviour")
    commit(
        repo,
        {"clickatell_sms/client.py": CLIENT.replace("for n in to]", "for n in sorted(to)]")},
        "sort recipients",
    )
    out["behaviour"] = (repo, build_report(repo, "v0.1.0", "HEAD", timeout=60))

    # 4. Docs only.
    repo = new_repo(base / "docs")
    commit(repo, {"README.md": "tiny, documented\n"}, "docs")
    out["docs"] = (repo, build_report(repo, "v0.1.0", "HEAD", timeout=60))

    # 5. generated/ edited by hand, nothing that generates it changed; version bumped too little.
    repo = new_repo(base / "handmade")
    commit(repo, {"generated/clickatell_wire/models.py": "X = 1\n"}, "gen")
    commit(
        repo,
        {
            "generated/clickatell_wire/models.py": "X = 2\n",
            "clickatell_sms/_version.py": '__version__ = "0.1.1"\n',
            "clickatell_sms/client.py": CLIENT + "\n\ndef ping() -> None:\n    pass\n",
            "clickatell_sms/__init__.py": INIT.replace(
                "from .client import Client, SendResult",
                "from .client import Client, SendResult, ping",
            ).replace('"SendResult",', '"SendResult", "ping",'),
        },
        "hand edit",
    )
    out["handmade"] = (repo, build_report(repo, "HEAD~1", "HEAD", timeout=60))
    # 6. An exported name renamed: OLD's test module cannot even be imported.
    repo = new_repo(base / "export")
    commit(
        repo,
        {
            "clickatell_sms/__init__.py": INIT.replace(
                "from .client import Client, SendResult",
                "from .client import Client as SmsClient\nfrom .client import SendResult",
            ).replace('"Client"', '"SmsClient"')
        },
        "rename Client",
    )
    out["export"] = (repo, build_report(repo, "v0.1.0", "HEAD", timeout=60))

    # 7. A facade test that was already failing at OLD is not a break.
    repo = new_repo(base / "preexisting")
    commit(
        repo,
        {"tests/test_facade_broken.py": "def test_broken():\n    assert 1 == 2\n"},
        "broken test",
        tag="v0.1.1",
    )
    commit(repo, {"README.md": "tiny, documented\n"}, "docs")
    out["preexisting"] = (repo, build_report(repo, "v0.1.1", "HEAD", timeout=60))
    return out


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


def test_optional_request_field_is_compatible_and_minor(
    histories: dict[str, tuple[Path, Report]],
) -> None:
    _, report = histories["optional"]
    text = render_text(report)
    assert "[compatible] POST /messages: added optional property `clientMessageId`" in text
    assert "new-optional-request-property" in text
    assert "optional argument `client_message_id: str | None = None` added" in text
    assert "BREAKING" not in text
    assert "3b. OLD's facade tests against NEW's code: against NEW: 2 passed" in text
    assert "- **Breaking:**" not in report.changelog
    assert "### Added" in report.changelog and "clientMessageId" in report.changelog
    assert "## [0.2.0]" in report.changelog
    assert last_line(text) == "suggested bump: minor"


def test_removed_field_and_renamed_argument_are_breaking_and_major(
    histories: dict[str, tuple[Path, Report]],
) -> None:
    _, report = histories["breaking"]
    text = render_text(report)
    assert "[BREAKING] POST /messages: removed optional property `messages[].description`" in text
    assert "response-optional-property-removed" in text
    assert "`clickatell_sms.Client.send`: argument `to` renamed to `recipients`" in text
    assert "api-parameter-renamed" in text
    # OLD's tests call send(to=...): the rename is felt, and named by node id.
    assert "tests/test_client.py::test_send_accepts_every_recipient passed against OLD" in text
    assert "0.x version" in text  # the semver 0.x convention is spelled out
    assert "**Breaking:**" in report.changelog and "### Removed" in report.changelog
    assert last_line(text) == "suggested bump: major"


def test_old_facade_test_failing_against_new_code_is_reported(
    histories: dict[str, tuple[Path, Report]],
) -> None:
    _, report = histories["behaviour"]
    assert report.api.count(Level.BREAKING) == 0  # griffe sees nothing: signatures are the same
    failed = [f for f in report.tests.findings if f.id == "old-test-failed"]
    assert [f.where for f in failed] == ["tests/test_client.py::test_send_keeps_recipient_order"]
    assert "1 passed" in " ".join(report.tests.notes) and "1 failed" in " ".join(report.tests.notes)
    assert last_line(render_text(report)) == "suggested bump: major"


def test_removed_export_breaks_old_test_collection(
    histories: dict[str, tuple[Path, Report]],
) -> None:
    _, report = histories["export"]
    text = render_text(report)
    assert "[BREAKING] `clickatell_sms.Client`: removed" in text
    assert "`clickatell_sms.SmsClient` added" in text
    assert (
        "tests/test_client.py cannot be collected against NEW (it could against OLD): "
        "ImportError: cannot import name 'Client' from 'clickatell_sms'"
    ) in text
    assert last_line(text) == "suggested bump: major"


def test_failure_already_present_at_old_is_not_a_break(
    histories: dict[str, tuple[Path, Report]],
) -> None:
    _, report = histories["preexisting"]
    [finding] = report.tests.findings
    assert finding.id == "old-test-failed-before" and finding.level is Level.INFO
    assert finding.where == "tests/test_facade_broken.py::test_broken"
    assert last_line(render_text(report)) == "suggested bump: patch"


def test_generated_check_says_it_was_skipped_without_codegen(
    histories: dict[str, tuple[Path, Report]],
) -> None:
    _, report = histories["optional"]
    text = render_text(report)
    assert "regeneration OLD: skipped — no codegen at OLD; skipped" in text
    assert "regeneration NEW: skipped — no codegen at NEW; skipped" in text


def test_docs_only_change_is_a_patch(histories: dict[str, tuple[Path, Report]]) -> None:
    _, report = histories["docs"]
    assert not report.red_flags
    assert "Internal changes only" in report.changelog
    assert last_line(render_text(report)) == "suggested bump: patch"


def test_hand_edited_generated_file_is_a_red_flag(
    histories: dict[str, tuple[Path, Report]],
) -> None:
    _, report = histories["handmade"]
    text = render_text(report)
    assert "M generated/clickatell_wire/models.py  +1 -1  UNEXPLAINED" in text
    assert any("generated/clickatell_wire/models.py changed" in f for f in report.red_flags)
    # `ping` is a new export: minor, and 0.1.0 -> 0.1.1 is too small a step.
    assert "`clickatell_sms.ping` added" in text
    assert any("0.1.1 is a patch bump" in f for f in report.red_flags)
    assert last_line(text) == "suggested bump: minor"


def test_markdown_report_has_tables_and_the_same_last_line(
    histories: dict[str, tuple[Path, Report]],
) -> None:
    _, report = histories["breaking"]
    md = render_markdown(report)
    assert md.startswith("# Release diff `v0.1.0`..`HEAD`")
    assert (
        "| **breaking** | POST /messages: removed optional property `messages[].description`" in md
    )
    assert "```markdown\n## [1.0.0]" in md
    assert last_line(md) == "suggested bump: major"


def test_no_change_is_none_and_worktrees_are_cleaned(
    histories: dict[str, tuple[Path, Report]], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, _ = histories["docs"]
    assert main(["HEAD", "HEAD", "--repo", str(repo), "--no-tests"]) == 0
    out = capsys.readouterr().out
    assert last_line(out) == "suggested bump: none"
    worktrees = git(repo, "worktree", "list", "--porcelain").count("worktree ")
    assert worktrees == 1  # only the repository itself: every temporary worktree was removed


def test_shim_runs_and_fails_on_breaking_when_asked(
    histories: dict[str, tuple[Path, Report]],
) -> None:
    repo, _ = histories["breaking"]
    proc = subprocess.run(
        [
            str(ROOT / "scripts" / "release-diff"),
            "v0.1.0",
            "HEAD",
            "--no-tests",
            "--format",
            "markdown",
            "--fail-on-breaking",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert last_line(proc.stdout) == "suggested bump: major"


def test_bad_ref_is_a_tool_failure(
    histories: dict[str, tuple[Path, Report]], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, _ = histories["docs"]
    assert main(["v9.9.9", "HEAD", "--repo", str(repo)]) == 2
    assert "'v9.9.9' is not a commit" in capsys.readouterr().err


# ------------------------------------------------------------------ OpenAPI rules, one by one


def spec_findings(edit: Any) -> dict[str, Finding]:
    old = yaml.safe_load(SPEC)
    new = copy.deepcopy(old)
    edit(new)
    findings, _ = diff_documents(old, new)
    return {f.id: f for f in findings}


def req(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["components"]["schemas"]["SendMessageRequest"]
    return result


def resp_item(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["components"]["schemas"]["SendMessagesResponse"]["properties"][
        "messages"
    ]["items"]
    return result


def op(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["paths"]["/messages"]["post"]
    return result


@pytest.mark.parametrize(
    ("edit", "rule", "level"),
    [
        (lambda d: req(d)["properties"].pop("content"), "request-property-removed", Level.BREAKING),
        (
            lambda d: (
                req(d)["properties"].update(charset={"type": "string"}),
                req(d)["required"].append("charset"),
            ),
            "new-required-request-property",
            Level.BREAKING,
        ),
        (
            lambda d: req(d)["properties"]["content"].update(type="integer"),
            "request-property-type-changed",
            Level.BREAKING,
        ),
        (
            lambda d: req(d)["properties"]["content"].update(maxLength=10),
            "request-property-max-length-set",
            Level.BREAKING,
        ),
        (
            lambda d: req(d)["properties"]["content"].update(pattern="^a"),
            "request-property-pattern-added",
            Level.BREAKING,
        ),
        (
            lambda d: req(d)["properties"]["content"].update(minLength=0),
            "request-property-min-length-decreased",
            Level.COMPATIBLE,
        ),
        (
            lambda d: resp_item(d)["properties"]["accepted"].update(type=["boolean", "null"]),
            "response-property-became-nullable",
            Level.BREAKING,
        ),
        (
            lambda d: resp_item(d).update(required=["accepted"]),
            "response-property-became-required",
            Level.INFO,
        ),
        (
            lambda d: op(d)["requestBody"]["content"].update(
                {"application/xml": op(d)["requestBody"]["content"]["application/json"]}
            ),
            "request-body-media-type-added",
            Level.COMPATIBLE,
        ),
        (
            lambda d: (
                op(d)["responses"]["202"]["content"].update({"application/xml": {}})
                or op(d)["responses"]["202"]["content"].pop("application/json")
            ),
            "response-media-type-removed",
            Level.BREAKING,
        ),
        (
            lambda d: d["paths"].pop("/messages"),
            "api-path-removed-without-deprecation",
            Level.BREAKING,
        ),
        (
            lambda d: d["paths"].update(
                {"/balance": {"get": {"responses": {"200": {"description": "ok"}}}}}
            ),
            "endpoint-added",
            Level.COMPATIBLE,
        ),
        (
            lambda d: op(d).update(
                parameters=[
                    {"name": "trace", "in": "query", "required": True, "schema": {"type": "string"}}
                ]
            ),
            "new-required-request-parameter",
            Level.BREAKING,
        ),
    ],
)
def test_openapi_rule(edit: Any, rule: str, level: Level) -> None:
    found = spec_findings(edit)
    assert rule in found, sorted(found)
    assert found[rule].level is level


def test_enum_narrowed_in_request_breaks_and_widened_in_response_is_compatible() -> None:
    def edit_old(doc: dict[str, Any]) -> None:
        req(doc)["properties"]["charset"] = {"type": "string", "enum": ["ASCII", "UTF-8"]}
        resp_item(doc)["properties"]["status"] = {"type": "string", "enum": ["queued"]}

    old = yaml.safe_load(SPEC)
    edit_old(old)
    new = copy.deepcopy(old)
    req(new)["properties"]["charset"]["enum"] = ["UTF-8"]
    resp_item(new)["properties"]["status"]["enum"] = ["queued", "delivered"]
    found = {f.id: f for f in diff_documents(old, new)[0]}
    assert found["request-property-enum-value-removed"].level is Level.BREAKING
    assert "'ASCII'" in found["request-property-enum-value-removed"].text
    assert found["response-property-enum-value-added"].level is Level.COMPATIBLE
    assert "tolerant" in found["response-property-enum-value-added"].text


def test_renamed_property_is_named_both_ways() -> None:
    def rename(doc: dict[str, Any]) -> None:
        props = resp_item(doc)["properties"]
        props["statusDescription"] = props.pop("description")

    found = spec_findings(rename)
    assert (
        "(looks renamed to `messages[].statusDescription`)"
        in found["response-optional-property-removed"].text
    )


def test_recursive_schema_terminates() -> None:
    old = yaml.safe_load(SPEC)
    old["components"]["schemas"]["SendMessageRequest"]["properties"]["next"] = {
        "$ref": "#/components/schemas/SendMessageRequest"
    }
    new = copy.deepcopy(old)
    req(new)["properties"]["content"]["maxLength"] = 5
    found = {f.id for f in diff_documents(old, new)[0]}
    assert "request-property-max-length-set" in found


# ---------------------------------------------------------------------- XSD rules, one by one


def xsd_ids(new_xsd: str) -> dict[str, Finding]:
    return {f.id: f for f in diff_xsd(XSD, new_xsd, "spec/messages.xsd").findings}


@pytest.mark.parametrize(
    ("old", "new", "rule", "level"),
    [
        (
            '<xs:element name="Content" type="xs:string"/>',
            "",
            "xsd-element-removed",
            Level.BREAKING,
        ),
        (
            '<xs:element name="Content" type="xs:string"/>',
            '<xs:element name="Content" type="xs:string"/><xs:element name="From" type="xs:string" minOccurs="0"/>',
            "xsd-optional-element-added",
            Level.COMPATIBLE,
        ),
        (
            '<xs:element name="Content" type="xs:string"/>',
            '<xs:element name="Content" type="xs:string"/><xs:element name="From" type="xs:string"/>',
            "xsd-required-element-added",
            Level.BREAKING,
        ),
        ('maxOccurs="200"', 'maxOccurs="100"', "xsd-max-occurs-decreased", Level.BREAKING),
        (
            '<xs:element name="Content" type="xs:string"/>',
            '<xs:element name="Content" type="xs:int"/>',
            "xsd-type-changed",
            Level.BREAKING,
        ),
        (
            '<xs:element name="Content" type="xs:string"/>',
            '<xs:element name="Content" type="xs:string" minOccurs="2"/>',
            "xsd-min-occurs-increased",
            Level.BREAKING,
        ),
    ],
)
def test_xsd_rule(old: str, new: str, rule: str, level: Level) -> None:
    found = xsd_ids(XSD.replace(old, new))
    assert rule in found, sorted(found)
    assert found[rule].level is level


def test_xsd_enumeration_narrowed_through_a_named_type() -> None:
    def with_charset(values: list[str]) -> str:
        enum = "".join(f'<xs:enumeration value="{v}"/>' for v in values)
        simple = (
            f'<xs:simpleType name="Charset"><xs:restriction base="xs:string">{enum}'
            "</xs:restriction></xs:simpleType>"
        )
        return XSD.replace(
            '<xs:element name="To"',
            '<xs:element name="Charset" type="Charset" minOccurs="0"/><xs:element name="To"',
        ).replace("</xs:schema>", simple + "</xs:schema>")

    findings = diff_xsd(with_charset(["ASCII", "UTF-8"]), with_charset(["UTF-8"]), "x.xsd").findings
    assert [(f.id, f.level, f.where) for f in findings] == [
        ("xsd-enumeration-value-removed", Level.BREAKING, "SendMessageRequest/Charset")
    ]


# ------------------------------------------------------------------------------- the bump


def test_zero_x_breaking_change_names_both_versions() -> None:
    section = Section(
        "OpenAPI", [Finding("request-property-removed", Level.BREAKING, "POST /m", "x")]
    )
    decision = decide([section], True, "0.3.1", "0.3.1")
    assert decision.bump == "major" and decision.next_version == "1.0.0"
    assert any("0.3.1 -> 0.4.0" in n for n in decision.notes)
    assert any("still 0.3.1" in n for n in decision.notes)


# ------------------------------------------------------------------ the project's own files


@pytest.mark.skipif(not (ROOT / "spec" / "openapi.yaml").is_file(), reason="no spec yet")
def test_real_spec_compares_clean_with_itself_and_sees_a_callback_change() -> None:
    doc = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())
    assert diff_documents(doc, copy.deepcopy(doc)) == ([], [])
    new = copy.deepcopy(doc)
    callbacks = [
        name
        for name, s in new["components"]["schemas"].items()
        if name.endswith("Callback") and "properties" in s
    ]
    if not callbacks:
        pytest.skip("the spec has no callback schemas")
    props = new["components"]["schemas"][callbacks[0]]["properties"]
    props.pop(next(iter(props)))
    ids = {f.id for f in diff_documents(doc, new)[0]}
    assert ids & {"webhook-optional-property-removed", "webhook-required-property-removed"}


def test_real_history_last_change(capsys: pytest.CaptureFixture[str]) -> None:
    """release-diff HEAD~1 HEAD on this repository: runs, and its spec verdict matches git."""
    probe = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", "-q", "HEAD~1"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip("the repository has fewer than two commits (or is a shallow clone)")
    assert main(["HEAD~1", "HEAD", "--repo", str(ROOT), "--no-tests", "--no-regen"]) == 0
    out = capsys.readouterr().out
    assert last_line(out) in {f"suggested bump: {b}" for b in ("major", "minor", "patch", "none")}
    spec_changed = git(ROOT, "diff", "--name-only", "HEAD~1", "HEAD", "--", "spec/openapi.yaml")
    assert ("1a. OpenAPI (spec/openapi.yaml): unchanged" in out) is (not spec_changed)
