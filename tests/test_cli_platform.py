"""`clickatell-sms balance | status | listen`, and the whole local loop: send, sandbox, callbacks."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO

import pytest
import urllib3

from clickatell_sms import Client
from clickatell_sms.cli import main
from clickatell_sms.sandbox import FAILS_DELIVERY_NUMBER, STAYS_AT_GATEWAY_NUMBER, Sandbox

KEY = "cli-platform-key-93c1"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(api_keys=(KEY,), balance="1267.92865", status_delays=(0.01, 0.01)) as sb:
        yield sb


def account(sb: Sandbox) -> list[str]:
    return ["--api-key", KEY, "--base-url", sb.base_url]


# -- balance ----------------------------------------------------------------------------------


def test_balance(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["balance", *account(sandbox)]) == 0
    assert capsys.readouterr().out == "1267.92865 ZAR\n"


def test_balance_json_keeps_every_digit(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["balance", "--json", *account(sandbox)]) == 0
    out = capsys.readouterr().out
    assert '"balance":1267.92865' in out  # a JSON number, written from the Decimal
    assert json.loads(out) == {"balance": 1267.92865, "currency": "ZAR", "sandbox": False}


def test_balance_reads_the_key_from_the_environment(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLICKATELL_API_KEY", KEY)
    monkeypatch.setenv("CLICKATELL_BASE_URL", sandbox.base_url)
    assert main(["balance"]) == 0
    assert capsys.readouterr().out == "1267.92865 ZAR\n"


def test_balance_without_an_account_asks_an_embedded_sandbox(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["balance", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["sandbox"] is True
    assert "sandbox: no account was asked" in captured.err


def test_balance_exit_statuses(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["balance", "--api-key", "wrong", "--base-url", sandbox.base_url]) == 3
    assert "authentication failed" in capsys.readouterr().err
    with Sandbox() as gone:
        url = gone.base_url
    assert main(["balance", "--api-key", KEY, "--base-url", url, "--timeout", "1"]) == 4
    assert "balance look-up" in capsys.readouterr().err


# -- status -----------------------------------------------------------------------------------


def _sent(sb: Sandbox, number: str = "27821234567") -> str:
    with Client(KEY, base_url=sb.base_url) as client:
        (result,) = client.send(number, "status me")
    assert result.api_message_id is not None
    return result.api_message_id


def test_status_of_a_delivered_message(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    message_id = _sent(sandbox)
    time.sleep(0.1)
    assert main(["status", message_id, *account(sandbox)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"message ID  {message_id}"
    assert lines[1] == "status      4 RECEIVED_BY_RECIPIENT: The handset confirmed receipt."
    assert lines[2] == "final       yes (delivered)"
    assert lines[3].startswith("updated     20") and lines[3].endswith("Z")


def test_status_json_of_a_failed_and_a_moving_message(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = _sent(sandbox, FAILS_DELIVERY_NUMBER)
    stuck = _sent(sandbox, STAYS_AT_GATEWAY_NUMBER)
    time.sleep(0.1)
    assert main(["status", failed, "--json", *account(sandbox)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["apiMessageId"] == failed
    assert (document["statusCode"], document["status"]) == (7, "ERROR_DELIVERING")
    assert (document["final"], document["success"], document["sandbox"]) == (True, False, False)
    assert document["timestamp"].endswith("Z")
    assert main(["status", stuck, *account(sandbox)]) == 0
    out = capsys.readouterr().out
    assert "3 DELIVERED_TO_GATEWAY" in out and "final       no (still moving)" in out


def test_status_exit_statuses(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "0123456789abcdef", *account(sandbox)]) == 3
    assert "103" in capsys.readouterr().err
    assert main(["status", "not an id!", *account(sandbox)]) == 2
    assert "error: the message ID: must be 1 to 64" in capsys.readouterr().err
    assert main(["status", "abc", "--api-key", "wrong", "--base-url", sandbox.base_url]) == 3


def test_status_without_an_account_asks_a_fresh_sandbox(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["status", "0123456789abcdef"]) == 3  # a fresh sandbox knows no message
    assert "sandbox: no account was asked" in capsys.readouterr().err


# -- send --integration http ------------------------------------------------------------------


def test_send_with_the_http_integration(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["send", "--to", "+27821234567", "--text", "a+b c", "--integration", "http"]
    assert main([*args, *account(sandbox)]) == 0
    (record,) = sandbox.messages()
    assert (record.content, record.format) == ("a+b c", "http")
    assert main([*args, "--client-message-id", "r1", *account(sandbox)]) == 2
    assert "--client-message-id: not supported" in capsys.readouterr().err


def test_send_takes_the_integration_from_the_environment(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLICKATELL_INTEGRATION", "http")
    args = ["send", "--to", "+27821234567", *account(sandbox)]
    assert main([*args, "--text", "by get"]) == 0
    assert main([*args, "--text", "by post", "--integration", "rest"]) == 0  # the option wins
    assert [(r.content, r.format) for r in sandbox.messages()] == [
        ("by get", "http"),
        ("by post", "json"),
    ]
    capsys.readouterr()
    monkeypatch.setenv("CLICKATELL_INTEGRATION", "soap")
    assert main([*args, "--text", "never sent"]) == 2
    err = capsys.readouterr().err
    assert "CLICKATELL_INTEGRATION: must be 'rest'" in err
    assert len(sandbox.messages()) == 2


# -- listen -----------------------------------------------------------------------------------


LISTEN_SECRET = "cli-platform-callback-secret"


class Listener:
    """`clickatell-sms listen` in its own process, its output read line by line as it comes.

    `url` is the callback URL it prints (secret included), `signed(path)` a URL on it."""

    def __init__(self, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}
        env["PYTHONUNBUFFERED"] = "1"
        env["CLICKATELL_CALLBACK_SECRET"] = LISTEN_SECRET
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clickatell_sms.cli", "listen", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None and self.process.stderr is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        self._reader.start()
        first = self.process.stderr.readline()
        assert first.startswith("listening for callbacks on http://"), first
        self.base = first.rsplit(" ", 1)[1].strip()
        line = ""
        while not line.startswith("callback URL: "):
            line = self.process.stderr.readline()
            assert line, "listen printed no callback URL"
        self.url = line.removeprefix("callback URL: ").strip()
        assert self.url == f"{self.base}?token={LISTEN_SECRET}"

    def signed(self, path_and_query: str) -> str:
        """A URL on the listener with the secret added as `token`."""
        separator = "&" if "?" in path_and_query else "?"
        return f"{self.base}{path_and_query}{separator}token={LISTEN_SECRET}"

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def take(self, count: int, timeout: float = 10.0) -> list[str]:
        taken: list[str] = []
        deadline = time.monotonic() + timeout
        while len(taken) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                taken.append(self.lines.get(timeout=remaining))
            except queue.Empty:
                break
        return taken

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str]:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=10)
        assert self.process.stderr is not None
        return code, self.process.stderr.read()


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    started: list[Listener] = []
    yield started
    for listener in started:
        if listener.process.poll() is None:
            listener.process.kill()
            listener.process.wait()
        for stream in (listener.process.stdout, listener.process.stderr):
            if stream is not None:
                stream.close()


def test_the_full_local_loop_send_sandbox_listen(listeners: list[Listener]) -> None:
    listener = Listener("--port", "0", "--json")
    listeners.append(listener)
    with (
        Sandbox(api_keys=(KEY,), callback_url=listener.url, status_delays=(0.02, 0.02)) as sb,
        Client(KEY, base_url=sb.base_url) as client,
    ):
        result = client.send(["27821234567", "27821234568"], "round trip", client_message_id="c1")
        assert sb.wait_for_callbacks(10)
        assert [d.status for d in sb.callbacks()] == [200] * 6
    events = [json.loads(line) for line in listener.take(6)]
    code, err = listener.stop()
    assert code == 0 and "stopped" in err
    for item in result:
        mine = [e for e in events if e["apiMessageId"] == item.api_message_id]
        assert [e["status"] for e in mine] == [
            "MESSAGE_QUEUED",
            "DELIVERED_TO_GATEWAY",
            "RECEIVED_BY_RECIPIENT",
        ]
        assert [e["final"] for e in mine] == [False, False, True]
        assert {e["to"] for e in mine} == {item.number}
        assert {e["clientMessageId"] for e in mine} == {"c1"}
        assert all(e["type"] == "status" and e["timestamp"].endswith("Z") for e in mine)


def test_listen_prints_lines_for_status_and_reply_callbacks_and_stops_on_ctrl_c(
    listeners: list[Listener],
) -> None:
    listener = Listener("--port", "0")
    listeners.append(listener)
    http = urllib3.PoolManager()
    status = http.request(
        "GET",
        listener.signed(
            "status?messageId=m1&statusCode=3&status=DELIVERED_TO_GATEWAY&to=27821234567"
            "&timestamp=1516217711000&newField=ignored"
        ),
    )
    reply = http.request(
        "POST",
        listener.signed("reply"),
        body=b"messageId=m1&replyMessageId=r1&fromNumber=27821234567&toNumber=27830000001"
        b"&text=%00h%00i%00%20%20%AC&charset=UTF-16BE&timestamp=1516217712000",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    unknown = http.request("GET", listener.signed("x?messageId=m2&statusCode=99&status=BRAND_NEW"))
    bad = http.request(
        "POST", listener.url, body=b"{}", headers={"Content-Type": "application/json"}
    )
    assert [status.status, reply.status, unknown.status, bad.status] == [200, 200, 200, 400]
    lines = listener.take(3)
    code, _ = listener.stop(signal.SIGINT)
    assert code == 0
    assert lines[0] == (
        "status  m1  3 DELIVERED_TO_GATEWAY  moving  to=27821234567  2018-01-17T19:35:11.000Z"
    )
    assert lines[1] == (
        'reply   m1  from=27821234567  to=27830000001  2018-01-17T19:35:12.000Z  "hi €"'
    )
    assert lines[2].startswith("status  m2  99 BRAND_NEW  moving  ")


def test_listen_on_a_port_in_use_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["listen", "--port", str(port)]) == 2
    assert "cannot listen on 127.0.0.1:" in capsys.readouterr().err


def test_listen_help_mentions_the_loop(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["listen", "--help"]) == 0
    assert "--port" in capsys.readouterr().out
