"""The client against servers that misbehave on purpose, on every path a request can take.

Every server here is real: a raw socket on loopback (`tests/hostile.py`) that drips, inflates,
floods, redirects or contradicts itself. Each test runs on the four paths (`PATHS`: `Client`
directly, through a proxy and on a caller's PoolManager, and `AsyncClient`) and asserts a bound:
the deadline plus one second, RSS growth under 50 MB, one request and never two, nothing sent at
all. The memory tests run the client in a child process, so the figure is that process's own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from clickatell_sms import (
    ClickatellError,
    ClientConfig,
    OutcomeUnknownError,
    RateLimitError,
    RedirectError,
    TimeoutError,
    ValidationError,
)

from .hostile import (
    KEY,
    PATHS,
    Driver,
    Hostile,
    Relay,
    Request,
    accepted_json,
    answer,
    drip,
    hostile,
    read_request,
    serve_accepted,
)

ROOT = Path(__file__).resolve().parent.parent
FAST = {"retries": 0, "timeout": (2, 10)}
STUCK = {"retries": 5, "timeout": (30, 30)}


@pytest.fixture(params=PATHS)
def driver(request: pytest.FixtureRequest) -> Iterator[Driver]:
    made = Driver(request.param)
    yield made
    made.close()


def _serve_once(then: bytes) -> object:
    """A behaviour: read one request, answer `then`, keep the connection for the next."""

    def behaviour(conn: socket.socket, server: Hostile) -> None:
        buffer = bytearray()
        while (request := read_request(conn, buffer)) is not None:
            server.record(request)
            conn.sendall(then if then else answer("202 Accepted", accepted_json(request)))

    return behaviour


# -- a total deadline per request -------------------------------------------------------------


def _dripping(part: str, every: float = 0.2) -> object:
    """Headers or body sent one byte every `every` seconds, for far longer than any deadline."""

    def behaviour(conn: socket.socket, server: Hostile) -> None:
        request = read_request(conn, bytearray())
        if request is None:
            return
        server.record(request)
        body = accepted_json(request) + b" " * 5000
        head = (
            f"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Padding: {'x' * 5000}\r\n\r\n"
        ).encode()
        stop = threading.Event()
        if part == "headers":
            drip(conn, head + body, every, stop)
        else:
            conn.sendall(head)
            drip(conn, body, every, stop)

    return behaviour


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_dripping_answer_ends_by_the_call_deadline(driver: Driver, part: str) -> None:
    with hostile(_dripping(part)) as server:  # type: ignore[arg-type]
        client = driver.client(KEY, base_url=server.url, **FAST)
        started = time.monotonic()
        with pytest.raises(OutcomeUnknownError) as caught:
            driver.send(client, "27821234567", "hi", total_timeout=1.5)
        elapsed = time.monotonic() - started
        assert 1.3 <= elapsed < 1.5 + 1, elapsed
        assert "before the deadline" in str(caught.value)
        assert caught.value.recipients == ["27821234567"]
        time.sleep(0.3)
        assert len(server.requests) == 1  # never resent


def test_a_trickle_of_one_byte_a_second_ends_by_the_deadline(driver: Driver) -> None:
    # A read timeout of 10 s never fires when a byte comes every second: only the deadline ends
    # it (the body's reads are held to it by the dripping tests above, a byte every 0.2 s).
    with hostile(_dripping("headers", every=1.0)) as server:  # type: ignore[arg-type]
        client = driver.client(KEY, base_url=server.url, retries=0, timeout=(2, 10))
        started = time.monotonic()
        with pytest.raises(OutcomeUnknownError) as caught:
            driver.send(client, "27821234567", "hi", total_timeout=5)
        elapsed = time.monotonic() - started
    assert 4.8 <= elapsed < 6, elapsed
    assert "before the deadline" in str(caught.value)
    assert len(server.requests) == 1


def test_the_client_deadline_applies_to_every_request(driver: Driver) -> None:
    config = ClientConfig(KEY, base_url="http://127.0.0.1:9", total_timeout=1.0)
    assert config.total_timeout == 1.0
    with hostile(_dripping("body")) as server:  # type: ignore[arg-type]
        client = driver.client(KEY, base_url=server.url, total_timeout=1.0, **FAST)
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(OutcomeUnknownError):
                driver.send(client, "27821234567", "hi")
            assert time.monotonic() - started < 1.0 + 1
        assert len(server.requests) == 2


def test_retry_after_waits_count_against_the_deadline(driver: Driver) -> None:
    def behaviour(conn: socket.socket, server: Hostile) -> None:
        buffer = bytearray()
        request = read_request(conn, buffer)
        assert request is not None
        server.record(request)
        if len(server.requests) == 1:
            conn.sendall(answer("429 Too Many Requests", b"{}", "Retry-After: 1"))
            request = read_request(conn, buffer)
            if request is None:
                return
            server.record(request)
        conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 500\r\n\r\n")
        drip(conn, b" " * 500, 0.2, threading.Event())

    with hostile(behaviour) as server:
        client = driver.client(KEY, base_url=server.url, timeout=(2, 10), retries=3)
        started = time.monotonic()
        with pytest.raises(OutcomeUnknownError):
            driver.send(client, "27821234567", "hi", total_timeout=2.0)
        elapsed = time.monotonic() - started
        assert 1.8 <= elapsed < 2.0 + 1, elapsed  # a 1 s wait, then the second try's share
        assert len(server.requests) == 2


def test_a_retry_after_longer_than_the_deadline_is_not_waited(driver: Driver) -> None:
    with hostile(_serve_once(answer("429 Too Many Requests", b"{}", "Retry-After: 30"))) as server:  # type: ignore[arg-type]
        client = driver.client(KEY, base_url=server.url, retries=3, total_timeout=5)
        started = time.monotonic()
        with pytest.raises(RateLimitError) as caught:
            driver.send(client, "27821234567", "hi")
        assert time.monotonic() - started < 1
        assert caught.value.retry_after == 30 and len(server.requests) == 1


def test_a_deadline_that_passes_while_connecting_sent_nothing(driver: Driver) -> None:
    # A listener whose backlog is full never completes a handshake: connecting hangs.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = [socket.socket() for _ in range(3)]
    for filler in fillers:
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(listener.getsockname())
    try:
        base = f"http://127.0.0.1:{listener.getsockname()[1]}"
        if driver.kind == "proxy":  # there, it is the proxy that never answers
            client = driver.client(KEY, base_url="http://127.0.0.1:9", proxy_url=base, **STUCK)
        else:
            client = driver.client(KEY, base_url=base, **STUCK)
        started = time.monotonic()
        with pytest.raises(TimeoutError) as caught:
            driver.send(client, "27821234567", "hi", total_timeout=1.0)
        assert time.monotonic() - started < 1.0 + 1
        assert "nothing was sent" in str(caught.value)
        assert isinstance(caught.value, builtins_timeout())  # the built-in catches it too
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def builtins_timeout() -> type[BaseException]:
    import builtins

    return builtins.TimeoutError


def test_an_answer_that_closes_its_connection_is_read_whole(driver: Driver) -> None:
    """`Connection: close` makes the connection close its socket before the body is read: the
    deadline's reader keeps it open until the answer is in (and the next request reconnects)."""

    def behaviour(conn: socket.socket, server: Hostile) -> None:
        request = read_request(conn, bytearray())
        if request is not None:
            server.record(request)
            body = accepted_json(request) + b" " * 200_000  # more than one read
            conn.sendall(answer("202 Accepted", body, "Connection: close"))

    with hostile(behaviour) as server:
        client = driver.client(KEY, base_url=server.url, **FAST)
        first = driver.send(client, "27821234567", "one")
        second = driver.send(client, "27821234568", "two")
    assert first[0].api_message_id == "id-27821234567"
    assert second[0].api_message_id == "id-27821234568"
    assert server.connections == 2


# -- a cap on answers; no encoding the client did not ask for --------------------------------

_CHILD = """
import asyncio, json, sys, time
from clickatell_sms import AsyncClient, Client, ClickatellError
kind, url, proxy = sys.argv[1], sys.argv[2], sys.argv[3]
settings = {"retries": 0, "total_timeout": 60}
if kind == "proxy":
    settings["proxy_url"] = proxy
if kind == "manager":
    import urllib3
    settings["http_client"] = urllib3.PoolManager()
def status(name):
    for line in open("/proc/self/status"):
        if line.startswith(name + ":"):
            return int(line.split()[1])
async def run_async():
    async with AsyncClient("k", base_url=url, **settings) as client:
        await client.send("27821234567", "warm")
        before = status("VmRSS")
        try:
            await client.send("27821234567", "hi")
            outcome = "no error"
        except ClickatellError as exc:
            outcome = type(exc).__name__ + ": " + str(exc)
        return before, outcome
def run_sync():
    with Client("k", base_url=url, **settings) as client:
        client.send("27821234567", "warm")
        before = status("VmRSS")
        try:
            client.send("27821234567", "hi")
            outcome = "no error"
        except ClickatellError as exc:
            outcome = type(exc).__name__ + ": " + str(exc)
        return before, outcome
started = time.monotonic()
before, outcome = asyncio.run(run_async()) if kind == "async" else run_sync()
print(json.dumps({"growth_mb": (status("VmHWM") - before) / 1024, "outcome": outcome,
                  "seconds": time.monotonic() - started}))
"""


def _second_request_gets(payload_writer: object) -> object:
    """A behaviour: answer the first request normally, then write the second answer hugely."""

    def behaviour(conn: socket.socket, server: Hostile) -> None:
        buffer = bytearray()
        while (request := read_request(conn, buffer)) is not None:
            server.record(request)
            if len(server.requests) == 1:
                conn.sendall(answer("202 Accepted", accepted_json(request)))
                continue
            payload_writer(conn, server)  # type: ignore[operator]
            return

    return behaviour


def _in_child(kind: str, url: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    relay = Relay() if kind == "proxy" else None
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, kind, url, relay.url if relay else ""],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    finally:
        if relay is not None:
            relay.close()
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """About 500 KB of gzip that inflates to 500 MB of zeros."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(500)]
    parts.append(packer.flush())
    return b"".join(parts)


@pytest.mark.parametrize("kind", PATHS)
def test_a_gzip_bomb_is_refused_unread(kind: str, gzip_bomb: bytes) -> None:
    assert len(gzip_bomb) < 600_000

    def bomb(conn: socket.socket, server: Hostile) -> None:
        head = (
            "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
            f"Content-Encoding: gzip\r\nContent-Length: {len(gzip_bomb)}\r\n\r\n"
        )
        conn.sendall(head.encode() + gzip_bomb)
        time.sleep(0.5)

    with hostile(_second_request_gets(bomb)) as server:  # type: ignore[arg-type]
        found = _in_child(kind, server.url)
    assert str(found["outcome"]).startswith("OutcomeUnknownError")
    assert "compressed (gzip)" in str(found["outcome"])
    assert float(found["growth_mb"]) < 50  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", PATHS)
def test_a_50_mb_answer_is_refused_by_its_length_unread(kind: str) -> None:
    size = 50 * 1024 * 1024

    def huge(conn: socket.socket, server: Hostile) -> None:
        head = f"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        conn.sendall(head.encode())
        block = b" " * 65536
        for _ in range(size // len(block)):
            conn.sendall(block)
            server.sent_bytes += len(block)

    with hostile(_second_request_gets(huge)) as server:  # type: ignore[arg-type]
        found = _in_child(kind, server.url)
    assert "more than the 4,194,304-byte cap" in str(found["outcome"])
    assert float(found["growth_mb"]) < 50  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", PATHS)
def test_a_200_mb_chunked_answer_is_cut_at_the_cap(kind: str) -> None:
    def flood(conn: socket.socket, server: Hostile) -> None:
        conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n")
        conn.sendall(b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
        for _ in range(200 * 16):  # 200 MB in 64 KB chunks
            conn.sendall(chunk)
            server.sent_bytes += 65536
        conn.sendall(b"0\r\n\r\n")

    with hostile(_second_request_gets(flood)) as server:  # type: ignore[arg-type]
        found = _in_child(kind, server.url)
        time.sleep(0.2)
        sent = server.sent_bytes
    assert str(found["outcome"]).startswith("OutcomeUnknownError")
    assert "more than the 4,194,304-byte cap" in str(found["outcome"])
    assert float(found["growth_mb"]) < 50  # type: ignore[arg-type]
    assert sent < 100 * 1024 * 1024  # the client hung up long before the end


def test_an_answer_refused_unread_never_meets_the_next_request(driver: Driver) -> None:
    def behaviour(conn: socket.socket, server: Hostile) -> None:
        buffer = bytearray()
        while (request := read_request(conn, buffer)) is not None:
            server.record(request)
            if len(server.requests) == 1:
                # Over a 2 KB cap, and too big to be all in the client's socket buffer at once.
                conn.sendall(answer("202 Accepted", b"x" * (2 << 20)))
            else:
                conn.sendall(answer("202 Accepted", accepted_json(request)))

    with hostile(behaviour) as server:
        client = driver.client(KEY, base_url=server.url, max_response_bytes=2048, **FAST)
        with pytest.raises(OutcomeUnknownError, match="2,048-byte cap"):
            driver.send(client, "27821234567", "one")
        (result,) = driver.send(client, "27821234568", "two")
        assert result.accepted and result.api_message_id == "id-27821234568"
        assert server.connections == 2  # the refused answer's connection was closed


# -- credentials, clear text, headers ----------------------------------------------------------


@pytest.mark.parametrize("kind", PATHS)
def test_credentials_in_base_url_are_refused_without_showing_them(kind: str) -> None:
    driver = Driver(kind)
    try:
        with pytest.raises(ValidationError) as caught:
            driver.client(KEY, base_url="https://user:s3cret-pw@api.example.com")
    finally:
        driver.close()
    error = caught.value
    assert error.field == "base_url" and "credentials" in error.problem
    assert "s3cret-pw" not in f"{error} {error!r} {error.value}"
    assert error.value == "https://***@api.example.com"


def test_credentials_in_base_url_stay_off_the_cli_stderr() -> None:
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "clickatell_sms.cli", "send", "--to", "+27821234567"),
            *("--text", "hi", "--api-key", "k", "--base-url", "http://user:s3cret-pw@127.0.0.1:9"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert proc.returncode != 0
    assert "--base-url" in proc.stderr and "credentials" in proc.stderr
    assert "s3cret-pw" not in proc.stderr + proc.stdout


@pytest.mark.parametrize(
    "url", ["http://api.example.com", "http://10.0.0.7:8080", "http://[2001:db8::1]/"]
)
def test_plain_http_to_another_host_needs_an_explicit_opt_in(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ClientConfig(KEY, base_url=url)
    assert caught.value.field == "base_url" and "allow_insecure_http" in caught.value.problem
    assert ClientConfig(KEY, base_url=url, allow_insecure_http=True).base_url == url.rstrip("/")
    opted = ClientConfig.from_env(
        environ={"CLICKATELL_ALLOW_INSECURE_HTTP": "1"}, api_key=KEY, base_url=url
    )
    assert opted.allow_insecure_http


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://127.9.9.9", "http://localhost:1", "http://[::1]:2"]
)
def test_plain_http_to_this_machine_is_fine(url: str) -> None:
    assert ClientConfig(KEY, base_url=url).base_url == url


FRAMING = [
    {"Content-Length": "5"},
    {"Transfer-Encoding": "chunked"},
    {"Host": "evil.example"},
    {"Connection": "close"},
    {"Keep-Alive": "timeout=1"},
    {"TE": "trailers"},
    {"Upgrade": "h2c"},
    {"Expect": "100-continue"},
    {"content-type": "text/plain"},
    {"Accept-Encoding": "gzip"},
    {"Bad Name": "x"},
    {"X-Ok": "caf\u00e9\u2603"},
]


def test_framing_headers_are_refused_and_the_connection_stays_in_step(driver: Driver) -> None:
    with hostile(_serve_once(b"")) as server:  # type: ignore[arg-type]
        client = driver.client(KEY, base_url=server.url, **FAST)
        for headers in FRAMING:
            with pytest.raises(ValidationError) as caught:
                driver.send(client, "27821234567", "hi", extra_headers=headers)
            assert next(iter(headers)) in caught.value.field
        assert server.requests == []  # refused before anything left
        first = driver.send(client, "27821234567", "one")
        second = driver.send(client, "27821234568", "two")
        assert first[0].api_message_id == "id-27821234567"
        assert second[0].api_message_id == "id-27821234568"
        assert [json.loads(r.body)["content"] for r in server.requests] == ["one", "two"]
        assert server.connections == 1  # both on one pooled connection, in step
    with pytest.raises(ValidationError, match="Transfer-Encoding"):
        ClientConfig(KEY, headers={"Transfer-Encoding": "chunked"})


def test_a_key_a_header_cannot_carry_fails_when_the_client_is_made(driver: Driver) -> None:
    key = "sk-\u043a\u043b\u044e\u0447-9f"  # Cyrillic: not Latin-1
    started = time.monotonic()
    with pytest.raises(ValidationError) as caught:
        driver.client(key, base_url="http://127.0.0.1:9")
    assert time.monotonic() - started < 0.5
    assert caught.value.field == "api_key" and "Latin-1" in caught.value.problem
    assert key not in repr(caught.value) and caught.value.value is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/\r\nX-Evil: 1", "http://127.0.0.1:9\n"])
def test_a_base_url_with_a_line_break_fails_when_the_client_is_made(
    driver: Driver, url: str
) -> None:
    started = time.monotonic()
    with pytest.raises(ValidationError) as caught:
        driver.client(KEY, base_url=url)
    assert time.monotonic() - started < 0.5
    assert caught.value.field == "base_url" and "line breaks" in caught.value.problem


# -- redirects and answers that do not add up --------------------------------------------------


def test_a_redirect_is_named_with_its_target_and_never_followed(driver: Driver) -> None:
    target = f"https://user:pw123@elsewhere.example/messages?apiKey={KEY}&x=1"
    redirect = answer("307 Temporary Redirect", b"", f"Location: {target}")
    with hostile(_serve_once(redirect)) as server:  # type: ignore[arg-type]
        client = driver.client(KEY, base_url=server.url, **FAST)
        with pytest.raises(RedirectError) as caught:
            driver.send(client, "27821234567", "hi")
    error = caught.value
    assert error.status == 307 and error.location == "https://***@elsewhere.example/messages"
    assert "redirects to https://***@elsewhere.example/messages" in str(error)
    assert "pw123" not in str(error) and KEY not in str(error) + repr(error)
    assert len(server.requests) == 1


def test_a_redirect_on_a_look_up_is_named_too(driver: Driver) -> None:
    redirect = answer("301 Moved Permanently", b"", "Location: /elsewhere?token=t0k")
    with hostile(_serve_once(redirect)) as server:  # type: ignore[arg-type]
        client = driver.client(KEY, base_url=server.url, **FAST)
        with pytest.raises(RedirectError) as caught:
            driver.call(client, "balance")
    assert caught.value.location == "/elsewhere" and "t0k" not in str(caught.value)


def _odd_answer(request: Request) -> bytes:
    numbers = request.numbers()
    entries = [
        {"apiMessageId": "same-id", "accepted": True, "to": numbers[0]},
        {"apiMessageId": "same-id", "accepted": True, "to": numbers[1]},
        {"accepted": True, "to": numbers[2]},  # no apiMessageId
        {"apiMessageId": "stray-1", "accepted": True, "to": "27990000001"},  # never sent
        {"apiMessageId": "stray-2", "accepted": True, "to": "27990000002"},
    ]
    return answer("202 Accepted", json.dumps({"messages": entries}).encode())


def test_answers_that_do_not_add_up_are_flagged_and_logged(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="clickatell_sms")

    def behaviour(conn: socket.socket, server: Hostile) -> None:
        buffer = bytearray()
        while (request := read_request(conn, buffer)) is not None:
            server.record(request)
            conn.sendall(_odd_answer(request))

    numbers = ["27821234567", "27821234568", "27821234569"]
    with hostile(behaviour) as server:
        client = driver.client(KEY, base_url=server.url, **FAST)
        result = driver.send(client, numbers, "hi")
    assert result.has_anomalies
    kinds = sorted(a.kind for a in result.anomalies)
    assert kinds == ["accepted-without-id", "duplicate-id", "unexpected-entry", "unexpected-entry"]
    assert [r.anomaly for r in result] == [None, "duplicate-id", "accepted-without-id"]
    # An acceptance without an ID still counts as accepted: calling it rejected invites a resend.
    assert result.all_accepted and result[2].api_message_id is None
    assert len(result) == 3  # the stray entries belong to nobody and are not results
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("same apiMessageId 'same-id'" in w for w in warnings)
    assert any("accepted without an apiMessageId" in w for w in warnings)
    assert any("2 entries for numbers it did not carry" in w for w in warnings)
    assert "27821234567" not in caplog.text  # numbers masked unless asked


def test_every_request_asks_for_an_unencoded_answer_once(driver: Driver) -> None:
    # The urllib3 transport leaves the header to http.client, which writes the same one; the
    # aiohttp transport writes its own. Either way it goes out once, on every path.
    with hostile(serve_accepted) as server:
        client = driver.client(KEY, base_url=server.url, **FAST)
        driver.send(client, ["27821234567"], "hi")
        driver.send(client, ["27821234568"], "hi")
    assert len(server.requests) == 2
    for request in server.requests:
        named = [
            line
            for line in request.head.split(b"\r\n")
            if line.lower().startswith(b"accept-encoding:")
        ]
        assert named == [b"Accept-Encoding: identity"], (request.line, named)


_WRITES_CHILD = """
import json, sys
writes = []
def hook(event, args):
    if event == "http.client.send":  # every write http.client makes, urllib3's included
        writes.append(bytes(args[1]))
sys.addaudithook(hook)
from clickatell_sms import Client
kind, url, proxy, fmt = sys.argv[1:]
settings = {"retries": 0, "format": fmt}
if kind == "proxy":
    settings["proxy_url"] = proxy
if kind == "manager":
    import urllib3
    settings["http_client"] = urllib3.PoolManager()
with Client("k", base_url=url, **settings) as client:
    for number in ("27821234567", "27821234568"):
        client.send(number, "hi")
print(json.dumps([w.decode("latin-1") for w in writes]))
"""


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("kind", [p for p in PATHS if p != "async"])
def test_a_request_and_its_body_go_out_in_one_write(kind: str, fmt: str) -> None:
    # urllib3 writes the header block and the body apart; the connection class joins them, as
    # http.client does: one system call (one TCP segment, one TLS record) per request. The
    # child process's audit hook sees every write http.client makes.
    relay = Relay() if kind == "proxy" else None
    with hostile(serve_accepted) as server:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _WRITES_CHILD,
                kind,
                server.url,
                relay.url if relay else "",
                fmt,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    if relay is not None:
        relay.close()
    assert proc.returncode == 0, proc.stderr
    writes = [w.encode("latin-1") for w in json.loads(proc.stdout.strip().splitlines()[-1])]
    assert len(server.requests) == 2
    assert len(writes) == 2, [w[:40] for w in writes]
    for write, request in zip(writes, server.requests, strict=True):
        head, _, body = write.partition(b"\r\n\r\n")
        assert head.startswith(b"POST ") and head == request.head, head
        assert body == request.body and body.startswith(b"<?xml" if fmt == "xml" else b"{")


def test_a_clean_answer_has_no_anomalies(driver: Driver) -> None:
    with hostile(_serve_once(b"")) as server:  # type: ignore[arg-type]
        client = driver.client(KEY, base_url=server.url, **FAST)
        result = driver.send(client, ["27821234567", "27821234568"], "hi")
    assert not result.has_anomalies and result.anomalies == ()
    assert all(r.anomaly is None for r in result)


# -- the key in no exception's chain -----------------------------------------------------------


def _every_text_of(error: BaseException) -> tuple[str, list[type[BaseException]]]:
    """What a traceback printer or an error tracker can read from `error` and from every link
    of its `__cause__`/`__context__` chain (str, repr, args, request_info, attributes), and the
    type of each link."""
    texts = ["".join(traceback.format_exception(error))]
    kinds: list[type[BaseException]] = []
    stack, seen = [error], set()
    while stack:
        link = stack.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        kinds.append(type(link))
        texts += [str(link), repr(link), repr(link.args)]
        texts += [repr(getattr(link, "request_info", None)), repr(getattr(link, "__dict__", None))]
        stack += [e for e in (link.__cause__, link.__context__) if e is not None]
    return "\n".join(texts), kinds


def _echoes_the_request_as_its_status_line(conn: socket.socket, server: Hostile) -> None:
    """A garbage status line that quotes the request's head, Authorization included."""
    request = read_request(conn, bytearray())
    if request is not None:
        server.record(request)
        conn.sendall(b"HTTP/1.1 2x2 " + request.head.replace(b"\r\n", b" | ") + b"\r\n\r\n")


def _hangs_up_after_the_request(conn: socket.socket, server: Hostile) -> None:
    request = read_request(conn, bytearray())
    if request is not None:
        server.record(request)


_OWN_MODULES = ("clickatell_sms", "clickatell_wire", "builtins", "socket", "ssl")


@pytest.mark.parametrize("kind", [*PATHS, "async-proxy"])
def test_no_key_in_any_exception_chain_on_either_client(kind: str) -> None:
    driver = Driver("async" if kind == "async-proxy" else kind)
    relay = Relay() if kind == "async-proxy" else None
    proxy = {"proxy_url": relay.url} if relay is not None else {}
    behaviours = {
        "garbage status line": _echoes_the_request_as_its_status_line,
        "hang-up": _hangs_up_after_the_request,
        "deadline": _dripping("headers"),
    }
    caught: list[tuple[str, BaseException]] = []
    try:
        for name, behaviour in behaviours.items():
            with hostile(behaviour) as server:  # type: ignore[arg-type]
                client = driver.client(KEY, base_url=server.url, total_timeout=1.5, **proxy, **FAST)
                for call in ("send", "balance"):
                    args = ("27821234567", "hi") if call == "send" else ()
                    with pytest.raises(ClickatellError) as error:
                        driver.call(client, call, *args)
                    caught.append((f"{call}, {name}", error.value))
        gone = driver.client(KEY, base_url=f"http://127.0.0.1:{_closed_port()}", **proxy, **FAST)
        for call in ("send", "balance"):
            with pytest.raises(ClickatellError) as error:
                driver.call(gone, call, *(("27821234567", "hi") if call == "send" else ()))
            caught.append((f"{call}, refused", error.value))
    finally:
        driver.close()
        if relay is not None:
            relay.close()
    assert len(caught) == 8
    for what, error in caught:
        text, kinds = _every_text_of(error)
        assert KEY not in text, what
        foreign = [k for k in kinds if not k.__module__.startswith(_OWN_MODULES)]
        assert not foreign, (what, foreign)  # no library's exception, scrubbed or not
    garbage = dict(caught)["send, garbage status line"]
    assert isinstance(garbage, OutcomeUnknownError)
    assert "***" in str(garbage.__cause__)  # the library's words are kept, the key taken out


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Ten entities, each ten of the one before: 1,000 bytes of answer that would expand to 10^10.
_ENTITY_BOMB = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE SendMessagesResponse [\n'
    b'<!ENTITY e0 "lol">\n'
    + b"".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">\n'.encode() for i in range(1, 10))
    + b"]>\n<SendMessagesResponse><Message><ApiMessageId>&e9;</ApiMessageId>"
    b"<Accepted>true</Accepted><To>27821234567</To></Message></SendMessagesResponse>"
)
# One small entity, which expat would expand without complaint: refused all the same.
_ONE_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE SendMessagesResponse [<!ENTITY id "id-forged">]>'
    b"<SendMessagesResponse><Message><ApiMessageId>&id;</ApiMessageId>"
    b"<Accepted>true</Accepted><To>27821234567</To></Message></SendMessagesResponse>"
)


@pytest.mark.parametrize("body", [_ENTITY_BOMB, _ONE_ENTITY], ids=["expansion", "one-entity"])
def test_an_xml_answer_with_a_doctype_is_refused_before_any_entity_is_expanded(
    driver: Driver, body: bytes
) -> None:
    """A hostile server's XML answer that declares entities: the codec stops at the DOCTYPE,
    so nothing is expanded, and the caller gets a typed error that keeps the body as it came
    (a 202: the request was taken, so the outcome is unknown, not resent)."""

    def behaviour(conn: socket.socket, server: Hostile) -> None:
        buffer = bytearray()
        while (request := read_request(conn, buffer)) is not None:
            server.record(request)
            conn.sendall(answer("202 Accepted", body, media="application/xml"))

    with hostile(behaviour) as server:
        client = driver.client(KEY, base_url=server.url, format="xml", **FAST)
        with pytest.raises(OutcomeUnknownError) as caught:
            driver.send(client, ["27821234567"], "hi")
    assert len(server.requests) == 1 and b"<Content>hi</Content>" in server.requests[0].body
    error = caught.value
    assert "declares a DOCTYPE (<!DOCTYPE SendMessagesResponse), refused" in str(error), error
    assert error.raw is not None and error.raw.body == body  # kept whole, unexpanded
