"""Clickatell's own Python SDK (`clickatell-platform`) against the default sandbox, unmodified.

The SDK only speaks `https://` to `Transport.endpoint`, so the sandbox is put behind a small TLS
front on loopback (certificates from trustme, trusted through httplib2's documented
`HTTPLIB2_CA_CERTS` variable) and the SDK's `endpoint` attribute, meant to be set, points at it.
Nothing of the SDK or of httplib2 is patched: it runs in a subprocess, as a user's program would.

What it must show: its sends with extra keys (its `extra` dict is merged into the
body as it is) are taken, 202, and the extra keys recorded as unknown; its GET send's known bug,
the recipient list written into the URL as a Python list, gets a 105 per piece, as the live API
would answer such numbers.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clickatell_sms.sandbox import Sandbox

pytest.importorskip("clickatell.rest", reason="clickatell-platform is in the dev extra")
trustme = pytest.importorskip("trustme")

_SDK_RUN = """
import json, sys
from clickatell.http import Http
from clickatell.rest import Rest

endpoint, key = sys.argv[1], sys.argv[2]
rest = Rest(key)
rest.endpoint = endpoint
http = Http(key)
http.endpoint = endpoint
answers = {
    "rest": rest.sendMessage(
        ["27821234567", "+27821234568"],
        "hello from clickatell-platform",
        {"clientMessageId": "cp-1", "callback": 7, "userPriorityQueue": True},
    ),
    "http": http.sendMessage(["27821234569", "27821234570"], "hello by GET"),
}
print(json.dumps(answers))
"""


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy until the source ends, then end the sink's writing side (a closed TLS session or a
    reset connection end it too)."""
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


class _TlsFront(socketserver.ThreadingTCPServer):
    """Terminates TLS on loopback and passes each connection's bytes to a plain HTTP server."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int], context: ssl.SSLContext) -> None:
        self.upstream = upstream
        self.context = context
        super().__init__(("127.0.0.1", 0), _Forward)


class _Forward(socketserver.BaseRequestHandler):
    server: _TlsFront

    def handle(self) -> None:
        self.request.settimeout(10)
        with (
            self.server.context.wrap_socket(self.request, server_side=True) as tls,
            socket.create_connection(self.server.upstream, timeout=10) as plain,
        ):
            back = threading.Thread(target=_pump, args=(plain, tls), daemon=True)
            back.start()
            _pump(tls, plain)
            back.join(10)


@pytest.fixture
def behind_tls(tmp_path: Path) -> Iterator[tuple[Sandbox, str, dict[str, str]]]:
    """A default sandbox, the `host:port` of its TLS front, and the env that trusts the front."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    with Sandbox() as sandbox:
        front = _TlsFront(("127.0.0.1", sandbox.port), context)
        threading.Thread(target=front.serve_forever, kwargs={"poll_interval": 0.05}).start()
        try:
            env = {**os.environ, "HTTPLIB2_CA_CERTS": str(ca_file)}
            yield sandbox, f"127.0.0.1:{front.server_address[1]}", env
        finally:
            front.shutdown()
            front.server_close()


def _run_sdk(endpoint: str, key: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _SDK_RUN, endpoint, key],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers: dict[str, Any] = json.loads(done.stdout)
    return answers


def test_clickatell_platform_sends_with_extra_keys_and_its_get_bug_meets_105(
    behind_tls: tuple[Sandbox, str, dict[str, str]],
) -> None:
    sandbox, endpoint, env = behind_tls
    answers = _run_sdk(endpoint, sandbox.api_key, env)

    # REST: the extra keys go into the body as they are; the sandbox takes the send (202),
    # answers both recipients, records the keys it does not know, and says so.
    rest = answers["rest"]
    assert rest["status"] == "202"
    assert rest["error"] is None
    assert [(m["to"], m["accepted"]) for m in rest["messages"]] == [
        ("27821234567", True),
        ("27821234568", True),
    ]
    assert rest["x-sandbox-warning"].startswith("unknown-field (inferred): ")
    records = sandbox.messages()
    assert [r.to for r in records] == ["27821234567", "27821234568"]
    for record in records:
        assert record.client_message_id == "cp-1"
        assert dict(record.unknown) == {"callback": 7, "userPriorityQueue": True}
        assert record.notes == (rest["x-sandbox-warning"],)

    # GET: `urlencode` without `doseq` writes the list as its repr, `['2782...', '2782...']`;
    # split at the comma, neither piece is a number: one 105 each, nothing sent.
    http = answers["http"]
    assert http["status"] == "202"
    assert [(m["to"], m["accepted"], m["errorCode"]) for m in http["messages"]] == [
        ("['27821234569'", False, 105),
        (" '27821234570']", False, 105),
    ]
    assert len(sandbox.messages()) == 2
    assert sandbox.refusals() == {"recipient": 2}
