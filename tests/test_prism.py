"""The facade against an independent implementation of the spec: Stoplight Prism in mock mode.

Prism reads spec/openapi.yaml on its own and validates every request against it (mock mode
validates requests by default; a violation is answered with the operation's 4xx response and an
`sl-violations` header). Requests go through a small recording proxy, so each test sees both the
exact bytes the facade sent and Prism's verdict on them.

What is checked, and what is not:

* JSON: everything Prism validates: method, path, the `Authorization` security scheme, the
  `Accept` and `Content-Type` headers, and the body against `SendMessageRequest` (required
  fields, no unknown fields, patterns, lengths, enums, bounds). A request passes when Prism
  answers 2xx without `sl-violations`.
* XML: Prism cannot validate XML bodies (stoplight/prism#2050: it reads them as text and reports
  "Request body must be object"). So for XML the test accepts exactly that one body violation and
  requires no other (method, path, security and headers are still checked by Prism), and
  validates the recorded body against spec/messages.xsd with xmlschema instead.
* Prism's 202 answers are the spec's static examples, whose numbers are not the ones sent, so the
  facade reports them as outcome unknown (a recipient without an entry); the tests that ask for
  the 202 look at the raw answer, not at the results. Left to itself, Prism answers a send with
  its lowest 2xx, the 200 of a request-level error: the spec's example of it is the live API's
  own answer (106), coherent, which the client reads as one typed error.

Prism comes from tools/npm (the version pinned in tools/npm/package.json); when that is not
installed, it is installed once into ~/.cache/clickatell-sms/npm. Skipped only without Node.js.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import urllib3
import xmlschema

from clickatell_sms import (
    APIError,
    ClickatellError,
    Client,
    OutcomeUnknownError,
    RawResponse,
    RetryPolicy,
)

from .conftest import ROOT

# One xdist worker runs this module: Prism starts once for all of it.
pytestmark = [
    pytest.mark.npm,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.xdist_group("prism"),
]

SPEC = ROOT / "spec" / "openapi.yaml"
XSD = ROOT / "spec" / "messages.xsd"
TOOLS = ROOT / "tools" / "npm"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "clickatell-sms" / "npm"
XML_BODY_VIOLATION = {"location": ["request", "body"], "code": "type"}


def _prism_binary() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js (node and npm) is not installed: Prism cannot run")
    for folder in (TOOLS, CACHE):
        binary = folder / "node_modules" / ".bin" / "prism"
        if binary.exists():
            return binary
    version = json.loads((TOOLS / "package.json").read_text())["devDependencies"][
        "@stoplight/prism-cli"
    ]
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "npm",
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(CACHE),
            f"@stoplight/prism-cli@{version}",
        ],
        check=True,
        timeout=240,
        capture_output=True,
    )
    return CACHE / "node_modules" / ".bin" / "prism"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def prism() -> Iterator[str]:
    binary = _prism_binary()
    port = _free_port()
    process = subprocess.Popen(
        [str(binary), "mock", str(SPEC), "-p", str(port), "-h", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"prism exited early ({process.returncode}):\n{output[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("prism did not start listening within 90 s")
        # Keep draining its log so a chatty Prism never blocks on a full pipe.
        threading.Thread(
            target=lambda: process.stdout and process.stdout.read(), daemon=True
        ).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class Recorder:
    """A loopback proxy in front of Prism that keeps each request body and Prism's answer."""

    def __init__(self, upstream: str) -> None:
        self.bodies: list[bytes] = []
        pool = urllib3.PoolManager()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.bodies.append(body)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                # Ask for the 202 example: Prism would otherwise pick the spec's 200 response.
                headers["Prefer"] = "code=202"
                answer = pool.request(
                    "POST", upstream + self.path, body=body, headers=headers, retries=False
                )
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "connection", "keep-alive"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.data)))
                self.end_headers()
                self.wfile.write(answer.data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recorder(prism: str) -> Iterator[Recorder]:
    proxy = Recorder(prism)
    yield proxy
    proxy.close()


def _raw_answer(client: Client, to: list[str], content: str, **options: Any) -> RawResponse:
    """Prism's answer to what the facade sent, whether the facade liked the answer or not."""
    try:
        result = client.send(to, content, **options)
    except ClickatellError as exc:
        raw = getattr(exc, "raw", None)
        assert isinstance(raw, RawResponse), f"no answer from Prism: {exc!r}"
        return raw
    return result.raw_responses[0]


def _violations(raw: RawResponse) -> list[dict[str, Any]]:
    header = raw.headers.get("sl-violations")
    return [] if header is None else list(json.loads(header))


@dataclass(frozen=True)
class FromNow:
    """A scheduled time read from the clock when the test runs, never when the module is
    collected: on a loaded machine a suite takes minutes to reach a test."""

    delay: timedelta
    zone: tzinfo = UTC

    def when(self) -> datetime:
        return datetime.now(self.zone) + self.delay


NUMBERS = [f"2782{i:07d}" for i in range(200)]
CASES: dict[str, tuple[list[str], str, dict[str, Any]]] = {
    "minimal": (["+27 82 123 4567"], "Hello", {}),
    "every option": (
        ["27821234567", "447911123456"],
        "Hello {there} €",
        {
            "from_": "+380671234567",
            "client_message_id": "order-42",
            "scheduled_delivery_time": FromNow(timedelta(days=1), timezone(timedelta(hours=2))),
            "user_data_header": "0605040B8423F0",
            "validity_period": timedelta(hours=2),
            "charset": "UCS2-BE",
        },
    ),
    "binary": (
        ["27821234567"],
        "C0FFEE" * 20,
        {"binary": True, "user_data_header": b"\x02\x00\x00"},
    ),
    "unicode, many parts": (["27821234567"], "Привет 😀 " * 60, {"validity_period": 10080}),
    "200 recipients": (
        NUMBERS,
        "bulk",
        {"scheduled_delivery_time": FromNow(timedelta(minutes=5))},
    ),
}


def _case(name: str) -> tuple[list[str], str, dict[str, Any]]:
    """A case's recipients, text and options, its times read from the clock now."""
    to, content, options = CASES[name]
    now = {
        key: value.when() if isinstance(value, FromNow) else value for key, value in options.items()
    }
    return to, content, now


@pytest.mark.parametrize("case", list(CASES))
def test_prism_accepts_every_json_request(recorder: Recorder, case: str) -> None:
    to, content, options = _case(case)
    with Client("prism-key", base_url=recorder.url, retries=RetryPolicy(max_retries=0)) as client:
        raw = _raw_answer(client, to, content, **options)
    assert _violations(raw) == [], recorder.bodies[-1][:500]
    assert raw.status == 202
    assert json.loads(recorder.bodies[-1])["to"] == [n.replace(" ", "").lstrip("+") for n in to]


@pytest.mark.parametrize("case", list(CASES))
def test_prism_accepts_every_xml_request_but_its_body(recorder: Recorder, case: str) -> None:
    to, content, options = _case(case)
    with Client(
        "prism-key", base_url=recorder.url, format="xml", retries=RetryPolicy(max_retries=0)
    ) as client:
        raw = _raw_answer(client, to, content, **options)
    violations = _violations(raw)
    assert [{k: v[k] for k in ("location", "code")} for v in violations] == [XML_BODY_VIOLATION], (
        "Prism should object to nothing but the XML body it cannot read (prism#2050)"
    )
    # The body Prism could not check, checked against the XSD instead.
    xmlschema.XMLSchema(str(XSD)).validate(recorder.bodies[-1].decode())


@pytest.mark.parametrize(
    ("fmt", "integration", "code"),
    [("json", "rest", 106), ("json", "http", 106), ("xml", "rest", 100)],
    ids=["post-json", "get-send", "post-xml"],
)
def test_prism_static_answers_a_send_with_one_typed_error(
    prism: str, fmt: str, integration: str, code: int
) -> None:
    """Never OutcomeUnknownError: the answer is a coherent document (empty `messages`, a code).

    JSON and the GET send get the spec's example of a 200 error, the live API's 106. An XML body
    gets Prism's 400 (it cannot read XML bodies, stoplight/prism#2050), still a typed error.
    """
    client = Client(
        "prism-key",
        base_url=prism,
        format=fmt,  # type: ignore[arg-type]
        integration=integration,  # type: ignore[arg-type]
        retries=RetryPolicy(max_retries=0),
    )
    with client, pytest.raises(ClickatellError) as caught:
        client.send(["27821234567"], "Hello")
    error = caught.value
    assert not isinstance(error, OutcomeUnknownError), error
    assert isinstance(error, APIError) and error.error_code == code, error
    assert error.raw is not None
    if code == 106:
        assert error.raw.status == 200
        document = json.loads(error.raw.body) if fmt == "json" else None
        assert document == {
            "messages": [],
            "errorCode": 106,
            "error": "Invalid FROM number.",
            "errorDescription": "You should specify correct FROM number.",
        }


def test_prism_static_answers_xml_with_the_xml_example(prism: str) -> None:
    answer = urllib3.PoolManager().request(
        "POST",
        prism + "/messages",
        body=json.dumps({"content": "Hello", "to": ["27821234567"]}),
        headers={
            "Authorization": "k",
            "Content-Type": "application/json",
            "Accept": "application/xml",
        },
        retries=False,
    )
    assert answer.status == 200
    xmlschema.XMLSchema(str(XSD)).validate(answer.data.decode())
    assert b"<Messages></Messages><ErrorCode>106</ErrorCode>" in answer.data


def test_the_conformance_probe_completes_against_prism_and_classifies_every_probe(
    prism: str,
) -> None:
    """An independent server of the spec: no crash, no stop, a verdict for every probe.

    Prism answers each probe from the spec alone: 4xx to what breaks a schema, and its lowest
    2xx (the request-level error example) to the rest, a recipient without a digit among them
    (the spec's `to` takes any string). It does not answer an unterminated JSON body at all: a
    verdict still, `unexpected`.
    """
    from io import StringIO

    from clickatell_sms.conformance import CATALOGUE, run, to_json, to_markdown

    out = StringIO()
    outcome = run(prism, "prism-key", out, timeout=5)
    assert outcome.stopped is None, outcome.stopped
    assert [r.probe.name for r in outcome.results] == [p.name for p in CATALOGUE]
    assert {r.verdict for r in outcome.results} <= {"same", "different", "unexpected"}
    answered = [r for r in outcome.results if r.live.status is not None]
    assert len(answered) >= len(CATALOGUE) - 1
    assert all(r.live.accepted == 0 for r in outcome.results)
    report = to_json(outcome)
    assert sum(report["summary"].values()) == len(CATALOGUE)
    assert to_markdown(outcome).count("| `") >= len(CATALOGUE)


def test_prism_really_validates(prism: str) -> None:
    """A guard: the acceptances above mean something only if Prism refuses a bad request."""
    answer = urllib3.PoolManager().request(
        "POST",
        prism + "/messages",
        body=json.dumps({"content": "", "to": ["1"], "validityPeriod": 0, "extra": 1}),
        headers={
            "Authorization": "k",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        retries=False,
    )
    codes = {v["code"] for v in json.loads(answer.headers["sl-violations"])}
    assert answer.status == 400
    assert {"minLength", "additionalProperties", "minimum"} <= codes
