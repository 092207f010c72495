"""`clickatell-sms conformance`: the probes cannot deliver, the verdicts name each difference, and
a report teaches the sandbox what the live API does.

The "live API" here is always a server on loopback: the project's own sandbox (in a subprocess,
as a user starts it), a strict or quirky one, a purpose-built server that accepts everything, or
Prism (tests/test_prism.py). Nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from clickatell_sms.conformance import CATALOGUE, run, to_json
from clickatell_sms.conformance.probes import INVALID
from clickatell_sms.sandbox import Profile, Sandbox
from clickatell_sms.sandbox.billing import DEFAULT_BALANCE
from clickatell_sms.sandbox.rules import rule
from tests.test_sandbox import body_json, send_json

KEY = "conformance-secret-Zq81"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}
    return subprocess.run(
        [sys.executable, "-m", "clickatell_sms.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextmanager
def sandbox_process(*options: str) -> Iterator[str]:
    """`clickatell-sms sandbox` in its own process, as a user runs it; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "clickatell_sms.cli", "sandbox", "--api-key", KEY, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"listening on (http://\S+)", first)
        assert match, first + (proc.stderr.read() if proc.stderr else "")
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _conformance(base_url: str, tmp_path: Path, *extra: str) -> tuple[int, str, dict[str, Any]]:
    report = tmp_path / "report.json"
    done = _cli(
        "conformance", "--base-url", base_url, "--api-key", KEY, "--json", str(report),
        "--markdown", str(tmp_path / "report.md"), *extra,
    )  # fmt: skip
    assert report.exists(), done.stderr
    return done.returncode, done.stdout, json.loads(report.read_text())


def _verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {probe["name"]: probe["verdict"] for probe in report["probes"]}


# -- the catalogue ----------------------------------------------------------------------------


def test_no_probe_can_reach_a_handset() -> None:
    names = [probe.name for probe in CATALOGUE]
    assert len(names) == len(set(names))
    for probe in CATALOGUE:
        assert probe.question and probe.why_free, probe.name
        # No digit in any recipient: nothing a network could route, even with letters stripped.
        body = probe.body.decode()
        if probe.path == "/messages" and body.lstrip().startswith("{"):
            document = json.loads(body) if probe.name != "malformed-json" else {"to": []}
            for recipient in document.get("to", []):
                assert not re.search(r"[0-9]", recipient), (probe.name, recipient)
        for recipient in re.findall(r"<To>(.*?)</To>", body):
            assert not re.search(r"[0-9]", recipient), (probe.name, recipient)
        for name, value in probe.query:
            if name == "to":
                assert not re.search(r"[0-9]", value), probe.name
        if probe.rule is not None:
            rule(probe.rule)  # a rule the sandbox has


def test_every_probe_sent_to_a_recording_sandbox_accepts_no_recipient() -> None:
    """The "cannot deliver" guarantee, kept as a test: every probe, to a sandbox that records
    what it accepts, in both profiles."""
    for strict in (False, True):
        with Sandbox(api_keys=(KEY,), strict=strict) as target:
            outcome = run(target.base_url, KEY, StringIO(), timeout=10)
            assert target.messages() == []
            assert target.balance == DEFAULT_BALANCE  # nothing charged
        assert outcome.stopped is None and outcome.not_run == []
        assert len(outcome.results) == len(CATALOGUE)
        assert all(r.live.accepted == 0 and r.sandbox.accepted == 0 for r in outcome.results)


# -- against the project's own sandbox: all the same ------------------------------------------


def test_the_projects_own_sandbox_is_the_same_on_every_probe(tmp_path: Path) -> None:
    with sandbox_process() as url:
        status, out, report = _conformance(url, tmp_path)
        recorded = body_json(_get(url + "/_sandbox/messages"))
    assert status == 0, out[-3000:]
    assert set(_verdicts(report).values()) == {"same"}
    assert report["summary"] == {
        "same": len(CATALOGUE),
        "different": 0,
        "unexpected": 0,
        "not run": 0,
    }
    assert recorded == []  # no probe was accepted
    assert report["host"] == url.removeprefix("http://")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", report["date"])
    # Every request was printed before it was sent, and the key is nowhere.
    assert out.count("\n[") == len(CATALOGUE)
    for text in (out, (tmp_path / "report.json").read_text(), (tmp_path / "report.md").read_text()):
        assert KEY not in text
    assert "Authorization: <redacted>" in out and "apiKey=REDACTED" in out


def _get(url: str) -> Any:
    import urllib3

    return urllib3.PoolManager().request("GET", url, retries=False, timeout=5)


# -- against a strict or quirky sandbox: each difference named --------------------------------

STRICT_DIFFERENT = {
    "unknown-field",
    "unknown-element",
    "get-send-unknown-parameter",
    "schedule-z",
    "schedule-colon-offset",
    "validity-over-a-week",
    "validity-zero",
    "client-message-id-256",
    "bearer-key",
    "binary-not-hex",
    "null-field",
    "plus-duplicate",
    "from-number",
    "status-odd-id",
}
"""The probes whose request breaks an inferred rule: strict refuses them, the default does not."""


def test_a_strict_sandbox_differs_on_each_inferred_rule_by_name(tmp_path: Path) -> None:
    with sandbox_process("--strict") as url:
        status, _, report = _conformance(url, tmp_path)
    assert status == 1
    different = {name for name, verdict in _verdicts(report).items() if verdict != "same"}
    assert different == STRICT_DIFFERENT
    markdown = (tmp_path / "report.md").read_text()
    for name in different:
        assert f"### `{name}`: different" in markdown
        assert f"| `{name}` | different |" in markdown
    for probe in report["probes"]:
        if probe["name"] in different:
            assert probe["live"]["status"] in (400, 401) and probe["sandbox"]["status"] in (
                200,
                202,
                404,
            )
            assert any(line.startswith("status:") for line in probe["differences"])


@pytest.mark.parametrize("status", [200, 400], ids=["one-way", "one-way-with-400"])
def test_a_one_way_sandbox_differs_only_where_a_from_is_sent(tmp_path: Path, status: int) -> None:
    """The embedded sandbox plays an integration whose numbers it was not told, which takes a
    `from`; a one-way target refuses it (607, with 200 or the quirk's 400), and nothing else
    differs: with an empty content too, the document's error comes first on both."""
    quirk = ("--quirk", "from-errors-with-400") if status == 400 else ()
    with sandbox_process("--one-way", *quirk) as url:
        exit_status, _, report = _conformance(url, tmp_path)
    assert exit_status == 1
    different = {name for name, verdict in _verdicts(report).items() if verdict != "same"}
    assert different == {"from-number"}
    (probe,) = (p for p in report["probes"] if p["name"] == "from-number")
    assert f"status: live {status}, sandbox 202" in probe["differences"]
    assert "error code: live 607, sandbox None" in probe["differences"]
    (first,) = (p for p in report["probes"] if p["name"] == "from-and-empty-content")
    assert first["live"]["errorCode"] == first["sandbox"]["errorCode"] == 107


# -- the report teaches the sandbox -----------------------------------------------------------


def _as_if_live(report: Path) -> None:
    """Make `report` what a run against the live API would have written with the same answers:
    the API's host, and none of the sandbox's own headers. (Tests cannot reach the live API,
    and the sandbox rightly refuses a report of a sandbox on loopback as evidence.)"""
    document = json.loads(report.read_text())
    local, document["host"] = document["host"], "platform.clickatell.com"
    for seen in document["observations"]:
        seen["source"] = seen["source"].replace(local, document["host"])
    for probe in document["probes"]:
        headers = probe["live"]["headers"]
        for name in [n for n in headers if n == "server" or n.startswith("x-sandbox-")]:
            del headers[name]
    report.write_text(json.dumps(document))


def test_a_report_that_unknown_fields_are_refused_makes_the_sandbox_refuse_them(
    tmp_path: Path,
) -> None:
    with sandbox_process("--strict") as url:
        _conformance(url, tmp_path)
    report = tmp_path / "report.json"
    _as_if_live(report)
    observed = {o["rule"]: o for o in json.loads(report.read_text())["observations"]}
    assert observed["unknown-field"]["taken"] is False
    assert observed["unknown-field"]["errorCode"] == 101
    document = {"content": "hi", "to": ["27821234567"], "colour": "red"}

    # From the command line, as a user would.
    with sandbox_process("--observed", str(report)) as url:
        answer = _post(url, document)
    assert answer.status == 400 and body_json(answer)["errorCode"] == 101
    assert answer.headers["X-Sandbox-Rule"] == "unknown-field"
    listed = _cli("sandbox", "--rules", "--observed", str(report)).stdout
    (line,) = [row for row in listed.splitlines() if row.startswith("| `unknown-field` |")]
    assert "| observed: conformance report, platform.clickatell.com," in line
    assert "| refused |" in line

    # From Python (and so from the pytest fixture's marker, which passes it on).
    with Sandbox(observed=report) as sb:
        assert sb.profile.evidence(rule("unknown-field")) == "observed"
        refused = send_json(sb, document)
        assert refused.status == 400 and sb.messages() == []
        # What the report saw taken is taken without a warning: the live API takes it.
        taken = send_json(sb, {"content": "hi", "to": ["27821234567"], "validityPeriod": 5})
        assert taken.status == 202
    with Sandbox() as default:
        assert send_json(default, document).status == 202  # the default still takes them


def test_observations_that_settle_nothing_are_not_adopted(tmp_path: Path) -> None:
    # The baseline refused as a whole (here: a key the target does not know): every answer is
    # the key's refusal, which says nothing about the probed fields.
    with Sandbox(api_keys=("another-key",)) as target:
        outcome = run(target.base_url, KEY, StringIO(), timeout=10)
    assert not outcome.results[0].live.taken
    assert {o.rule for o in outcome.observations()} <= {
        "api-key",
        "path",
        "method",
        "message-id-unknown",
        "message-id-required",
        "message-id-format",
    }


def _post(url: str, document: dict[str, Any]) -> Any:
    import urllib3

    return urllib3.PoolManager().request(
        "POST",
        url + "/messages",
        body=json.dumps(document),
        headers={"Authorization": KEY, "Content-Type": "application/json"},
        retries=False,
        timeout=5,
    )


# -- guards -----------------------------------------------------------------------------------


def test_a_base_url_beyond_this_machine_needs_live() -> None:
    done = _cli("conformance", "--base-url", "https://platform.clickatell.com", "--api-key", KEY)
    assert done.returncode == 2
    assert "--live" in done.stderr and "[1/" not in done.stdout
    no_key = _cli("conformance", "--base-url", "http://127.0.0.1:9")
    assert no_key.returncode == 2 and "CLICKATELL_API_KEY" in no_key.stderr


def test_no_answer_at_all_stops_the_run() -> None:
    done = _cli("conformance", "--base-url", "http://127.0.0.1:9", "--api-key", KEY)
    assert done.returncode == 4
    assert "STOPPED: no answer from 127.0.0.1:9" in done.stdout
    assert done.stdout.count("\n[") == 1


class _AnswersEveryRequest(BaseHTTPRequestHandler):
    """A stand-in for the live API that answers every request with `answer()`, as JSON."""

    protocol_version = "HTTP/1.1"

    def answer(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        raise NotImplementedError

    def _respond(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, document, headers = self.answer()
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _respond

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` on a loopback port for the block; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _AcceptsEverything(_AnswersEveryRequest):
    """A server that claims to have sent every message it is given."""

    def answer(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        entry = {"apiMessageId": "f" * 32, "accepted": True, "to": INVALID, "errorCode": None}
        return 202, {"messages": [entry], "errorCode": None}, {}


def test_an_accepted_recipient_stops_the_run_at_once(tmp_path: Path) -> None:
    with _serving(_AcceptsEverything) as url:
        status, out, report = _conformance(url, tmp_path)
    assert status == 3
    assert len(report["probes"]) == 1 and report["probes"][0]["verdict"] == "unexpected"
    assert report["notRun"] == [probe.name for probe in CATALOGUE[1:]]
    assert "reported 1 accepted recipient(s)" in report["stopped"]
    assert "STOPPED:" in out and out.count("\n[") == 1
    assert "**Stopped:**" in (tmp_path / "report.md").read_text()


def test_the_catalogue_lists_itself() -> None:
    done = _cli("conformance", "--list")
    assert done.returncode == 0
    for probe in CATALOGUE:
        assert probe.name in done.stdout and probe.why_free in done.stdout


def test_the_rules_table_reflects_the_profile() -> None:
    default, strict = Profile(), Profile(strict=True)
    unknown = rule("unknown-field")
    assert default.action(unknown) == "warn" and strict.action(unknown) == "refuse"
    assert "| `unknown-field` |" in default.markdown_table()


def test_the_docs_list_every_probe_and_why_it_is_free() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "conformance.md").read_text()
    for probe in CATALOGUE:
        assert f"| `{probe.name}` | {probe.question} | {probe.why_free} |" in text, probe.name


# -- only the live API is evidence ----------------------------------------------------------


def _report_of_a_strict_sandbox(path: Path) -> dict[str, Any]:
    with Sandbox(api_keys=(KEY,), strict=True) as target:
        outcome = run(target.base_url, KEY, StringIO(), timeout=10)
    document = to_json(outcome)
    assert document["observations"]
    path.write_text(json.dumps(document))
    return document


def _refused_as_evidence(report: Path, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        Profile.from_report(report)
    with pytest.raises(ValueError, match=re.escape(words)):
        Sandbox(observed=report)


def test_a_report_of_this_machine_is_refused_as_evidence(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    document = _report_of_a_strict_sandbox(report)
    assert document["host"].startswith("127.0.0.1:")
    for rules in ((), ("--rules",)):
        done = _cli("sandbox", *rules, "--observed", str(report))
        assert done.returncode == 2 and done.stdout == "", done.stdout
        assert "Traceback" not in done.stderr
        assert f"the report was made against {document['host']}, this machine" in done.stderr
    _refused_as_evidence(report, "this machine")
    for host in ("localhost:8080", "[::1]:80", "0.0.0.0:9", "127.1.2.3", "LOCALHOST"):
        report.write_text(json.dumps({**document, "host": host}))
        _refused_as_evidence(report, f"the report was made against {host}, this machine")


def test_a_report_whose_answers_came_from_a_sandbox_is_refused_as_evidence(
    tmp_path: Path,
) -> None:
    report = tmp_path / "report.json"
    document = _report_of_a_strict_sandbox(report)
    # A sandbox reached under another name (or beyond loopback) still says what it is.
    sandbox_heard = {**document, "host": "sms-test.example.com"}
    report.write_text(json.dumps(sandbox_heard))
    done = _cli("sandbox", "--observed", str(report))
    assert done.returncode == 2 and "came from a clickatell-sms sandbox" in done.stderr
    _refused_as_evidence(report, "came from a clickatell-sms sandbox")
    for probe in sandbox_heard["probes"]:  # X-Sandbox-* headers alone say so too
        probe["live"]["headers"].pop("server", None)
    report.write_text(json.dumps(sandbox_heard))
    _refused_as_evidence(report, "came from a clickatell-sms sandbox")
    # What the live API would have answered the same way, from its own host, is adopted.
    _as_if_live(report)
    assert Profile.from_report(report).observed


# -- the key in the report ----------------------------------------------------------------


def test_a_short_key_changes_no_verdict() -> None:
    """The key "K" is in "API Key": masking every K of the answers would make them differ."""
    with Sandbox(api_keys=("K",)) as target:
        outcome = run(target.base_url, "K", StringIO(), timeout=10)
    assert outcome.stopped is None
    assert {r.probe.name: r.verdict for r in outcome.results if r.verdict != "same"} == {}
    refused = [r for r in outcome.results if r.live.error_code == 108]
    assert refused and all(
        r.live.error == "Invalid or missing integration API Key." for r in refused
    )
    assert all("***" not in r.live.body for r in outcome.results)


class _EchoesTheKey(_AnswersEveryRequest):
    """A server that refuses every request and quotes its key and request line back, in the
    body and in a header a report keeps."""

    def answer(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        key = self.headers.get("Authorization")
        document = {
            "messages": [],
            "errorCode": 108,
            "error": "Invalid or missing integration API Key.",
            "errorDescription": f"Key {key!r} is not known ({self.requestline})",
        }
        return 401, document, {"X-RateLimit-Key": str(key)}


@pytest.mark.parametrize("key", ["K", "an-Echoed/key+with=signs=="])
def test_a_key_the_server_echoes_is_masked_where_it_stands(key: str) -> None:
    from urllib.parse import quote

    from clickatell_sms.conformance import to_markdown

    out = StringIO()
    with _serving(_EchoesTheKey) as url:
        outcome = run(url, key, out, timeout=10)
    texts = (out.getvalue(), json.dumps(to_json(outcome)), to_markdown(outcome))
    echoed = [r.live for r in outcome.results if r.probe.key in ("header", "bearer")]
    shown = ("Key '***'", "Key 'Bearer ***'")
    assert echoed and all(a.description and a.description.startswith(shown) for a in echoed)
    assert all(a.headers["x-ratelimit-key"] in ("***", "Bearer ***") for a in echoed)
    in_query = [r.live for r in outcome.results if r.probe.key == "query"]
    assert in_query and all("apiKey=***" in (a.description or "") for a in in_query)
    for text in texts:
        assert f"'{key}'" not in text and f"={quote(key, safe='')}" not in text
        assert "API Key." in text  # the key's letters elsewhere are left alone
        if len(key) > 1:
            assert key not in text and quote(key, safe="") not in text
