"""The callback listener under abuse: forged callbacks, slow clients, floods, few descriptors.

`clickatell-sms listen` runs in its own process (its threads, memory and descriptors are its
own, as in production) and is attacked over real loopback sockets. Each test asserts a bound:
connections closed within the timeout, a real callback answered within 1 s while under attack,
threads and memory that do not grow with the attackers.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import resource
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import urllib3

from clickatell_sms.callbacks import CallbackReceiver, StatusCallback
from clickatell_sms.callbacks.listener import CallbackServer, ListenerLimits

SECRET = "hostile-test-secret-0123456789"
TIMEOUT = 2.0  # the listener's head and body timeouts in these tests
SLACK = 1.0  # what a loaded two-core machine may add to a deadline
STATUS_QUERY = "messageId={id}&statusCode=4&status=RECEIVED_BY_RECIPIENT&to=27821234567"


def _raise_descriptor_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"needs {wanted} file descriptors; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class ListenProcess:
    """`clickatell-sms listen` in a child process, optionally under a lower descriptor limit.

    The secret comes from CLICKATELL_CALLBACK_SECRET (`secret_env`; None: no variable)."""

    secret_env: str | None = SECRET

    def __init__(self, *args: str, nofile: int | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}
        env["PYTHONUNBUFFERED"] = "1"
        if self.secret_env is not None:
            env["CLICKATELL_CALLBACK_SECRET"] = self.secret_env
        prelude = (
            f"import resource; resource.setrlimit(resource.RLIMIT_NOFILE, ({nofile}, "
            f"resource.getrlimit(resource.RLIMIT_NOFILE)[1]));"
            if nofile
            else ""
        )
        code = f"{prelude}import sys; from clickatell_sms.cli import main; sys.exit(main())"
        command = [sys.executable, "-c", code, "listen", "--port", "0", *args]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self.events: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []
        threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True).start()
        header: list[str] = []
        for line in self.process.stderr:
            header.append(line)
            if line.startswith("waiting for callbacks"):
                break
        self.header = "".join(header)
        listening = [line for line in header if line.startswith("listening for callbacks on ")]
        assert listening, self.header
        self.base = listening[0].split()[-1]  # http://127.0.0.1:PORT/
        host, _, port = self.base.removeprefix("http://").rstrip("/").rpartition(":")
        self.address = (host, int(port))
        threading.Thread(target=self._collect, args=(self.process.stderr,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.events.put(line.rstrip("\n"))

    def _collect(self, stream: IO[str]) -> None:
        for line in stream:
            self.errors.append(line)

    def status(self, field: str) -> int:
        """A number from /proc/PID/status (`VmRSS` and `VmHWM` in kB, `Threads`)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name == field:
                return int(value.split()[0])
        raise KeyError(field)

    def open_descriptors(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def events_so_far(self) -> list[str]:
        taken: list[str] = []
        while True:
            try:
                taken.append(self.events.get_nowait())
            except queue.Empty:
                return taken

    def stop(self) -> str:
        """Stop it with SIGTERM; what it wrote to stderr after its header."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        time.sleep(0.05)  # the collector thread reads the last lines
        return "".join(self.errors)


@pytest.fixture
def listen() -> Iterator[type[ListenProcess]]:
    started: list[ListenProcess] = []

    class Started(ListenProcess):
        def __init__(self, *args: str, nofile: int | None = None) -> None:
            super().__init__(*args, nofile=nofile)
            started.append(self)

    yield Started
    for process in started:
        process.stop()
        for stream in (process.process.stdout, process.process.stderr):
            if stream is not None:
                stream.close()


def _timeouts() -> list[str]:
    return ["--head-timeout", str(TIMEOUT), "--body-timeout", str(TIMEOUT)]


def _callback(
    address: tuple[str, int], message_id: str, *, token: str = SECRET
) -> tuple[int, float]:
    """One signed status callback on a new connection: (HTTP status, seconds it took)."""
    query = STATUS_QUERY.format(id=message_id) + f"&token={token}"
    request = f"GET /cb?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    started = time.monotonic()
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    took = time.monotonic() - started
    return int(answer.split(b" ", 2)[1]) if answer else 0, took


def _watch(socks: list[socket.socket]) -> selectors.BaseSelector:
    selector = selectors.DefaultSelector()
    for sock in socks:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    return selector


def _reads(selector: selectors.BaseSelector, limit: float) -> Iterator[tuple[socket.socket, bytes]]:
    """Each read from the watched sockets as it comes (b"" when one is closed or reset), until
    none is watched (the caller unregisters them) or `limit` seconds have passed."""
    deadline = time.monotonic() + limit
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(0.2):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                yield sock, sock.recv(65536)
            except ConnectionResetError:
                yield sock, b""
    selector.close()


def _wait_until_all_closed(socks: list[socket.socket], limit: float) -> tuple[int, float]:
    """Read every socket until the server closes it, for at most `limit` seconds: how many are
    still open, and the `time.monotonic()` at which the last one closed."""
    selector = _watch(socks)
    remaining, last = len(socks), 0.0
    for sock, data in _reads(selector, limit):
        if data:
            continue  # a 408 answer; its end of stream follows
        selector.unregister(sock)
        remaining -= 1
        last = time.monotonic()
    return remaining, last


def _close_all(socks: list[socket.socket]) -> None:
    for sock in socks:
        sock.close()


# -- forged callbacks --------------------------------------------------------------------------


def test_forged_callbacks_to_listen_get_401_and_print_nothing(
    listen: type[ListenProcess],
) -> None:
    listener = listen(*_timeouts())
    assert _callback(listener.address, "forged-1", token="guessed-" + SECRET)[0] == 401
    unsigned = (
        b"POST /cb HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 35\r\nConnection: close\r\n\r\n"
        b'{"messageId":"forged-2","status":4}'
    )
    with socket.create_connection(listener.address, timeout=5) as sock:
        sock.sendall(unsigned)
        assert sock.recv(4096).startswith(b"HTTP/1.1 401 ")
    assert _callback(listener.address, "real-1")[0] == 200
    deadline = time.monotonic() + 5
    printed: list[str] = []
    while not printed and time.monotonic() < deadline:
        printed += listener.events_so_far()
        time.sleep(0.02)
    time.sleep(0.1)
    printed += listener.events_so_far()
    assert [line.split()[1] for line in printed] == ["real-1"]  # the forged ones never arrived
    errors = listener.stop()
    assert "without the right secret" in errors and SECRET not in errors


# -- slow clients ------------------------------------------------------------------------------


def test_1000_half_sent_requests_are_closed_in_time_and_a_callback_still_gets_through(
    listen: type[ListenProcess],
) -> None:
    _raise_descriptor_limit(4096)  # 1,000 attackers and the listener's own, with room
    listener = listen(*_timeouts())
    base_threads = listener.status("Threads")
    attackers: list[socket.socket] = []
    try:
        for _ in range(1000):
            sock = socket.create_connection(listener.address, timeout=5)
            sock.sendall(b"POST /cb HTTP/1.1\r\nHost: x\r\nContent-Le")  # and never the rest
            attackers.append(sock)
        opened = time.monotonic()
        status, took = _callback(listener.address, "during-attack")
        assert status == 200 and took < 1.0
        rss_kb, threads = listener.status("VmRSS"), listener.status("Threads")
        remaining, last_closed = _wait_until_all_closed(attackers, TIMEOUT + 10)
        closed_after = last_closed - opened
    finally:
        _close_all(attackers)
    assert remaining == 0
    assert closed_after <= TIMEOUT + SLACK
    assert threads <= base_threads + 4 + 1  # the worker pool, not a thread per connection
    assert rss_kb < 100_000
    errors = listener.stop()
    assert "Traceback" not in errors


@pytest.mark.parametrize("part", ["head", "body"])
def test_a_request_dripped_a_byte_a_second_is_cut_at_its_deadline(
    listen: type[ListenProcess], part: str
) -> None:
    listener = listen(*_timeouts())
    body = b'{"messageId":"m1","statusCode":4}'
    head = (
        f"POST /cb?token={SECRET} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    drip, sent_first = (head, b"") if part == "head" else (body, head)
    with socket.create_connection(listener.address, timeout=10) as sock:
        sock.sendall(sent_first)
        started = time.monotonic()
        answer = b""
        for byte in drip:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.settimeout(1.0)
            try:
                answer = sock.recv(4096)
            except TimeoutError:
                continue
            break
        cut_after = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert TIMEOUT - 0.5 <= cut_after <= TIMEOUT + SLACK
    assert listener.events_so_far() == []


def test_800_sequential_connects_are_quick_and_the_callback_after_them_too(
    listen: type[ListenProcess],
) -> None:
    _raise_descriptor_limit(4096)
    listener = listen(*_timeouts())
    held: list[socket.socket] = []
    slowest = 0.0
    started = time.monotonic()
    try:
        for _ in range(800):
            one = time.monotonic()
            held.append(socket.create_connection(listener.address, timeout=5))
            slowest = max(slowest, time.monotonic() - one)
        connecting = time.monotonic() - started
        status, took = _callback(listener.address, "after-800")
    finally:
        _close_all(held)
    # A listen backlog of 5 made the kernel drop SYNs here: 129 s, with 1 s and 3 s retries.
    assert slowest < 0.5 and connecting < 5.0
    assert status == 200 and took < 1.0
    answers = [_callback(listener.address, f"seq-{n}")[0] for n in range(200)]
    assert answers == [200] * 200


# -- descriptors -------------------------------------------------------------------------------


def test_near_the_descriptor_limit_connections_are_capped_and_callbacks_still_answered(
    listen: type[ListenProcess],
) -> None:
    _raise_descriptor_limit(4096)
    listener = listen(*_timeouts(), nofile=256)
    assert "at most 224 connections" in listener.header  # 256 less a reserve of 32
    idle: list[socket.socket] = []
    try:
        for _ in range(600):
            idle.append(socket.create_connection(listener.address, timeout=5))
        time.sleep(0.3)  # the listener accepts them all, closing the oldest to stay capped
        assert listener.open_descriptors() <= 256 - 16
        status, took = _callback(listener.address, "near-limit")
        assert status == 200 and took < 1.0
    finally:
        _close_all(idle)
    errors = listener.stop()
    assert "Traceback" not in errors and len(errors) < 2000
    assert "longest-waiting" in errors


ACCEPT_STARVED = r"""
import os, socket, sys, threading, time
from clickatell_sms.callbacks import CallbackReceiver
from clickatell_sms.callbacks.listener import CallbackServer

leaked = []
def leak(event):  # a handler that uses up every descriptor, then gives them back
    try:
        while True:
            leaked.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        pass
    def release():
        time.sleep(2.0)
        for fd in leaked:
            os.close(fd)
        leaked.clear()
        print("released", flush=True)
    threading.Thread(target=release, daemon=True).start()

receiver = CallbackReceiver(on_status=leak, secret=sys.argv[1])
with CallbackServer(receiver) as server:
    print(server.url, flush=True)
    sys.stdin.read()
"""


def test_running_out_of_descriptors_is_a_quiet_pause_not_a_flood_of_tracebacks() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    prelude = "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))\n"
    child = subprocess.Popen(
        [sys.executable, "-c", prelude + ACCEPT_STARVED, SECRET],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None and child.stdin is not None
    try:
        url = child.stdout.readline().strip()
        host, _, port = url.removeprefix("http://").rstrip("/").rpartition(":")
        address = (host, int(port))
        assert _callback(address, "leaky")[0] == 200  # the handler now holds every descriptor
        starved_at = time.monotonic()
        waiting = [socket.create_connection(address, timeout=5) for _ in range(20)]
        time.sleep(1.0)  # accept() fails with EMFILE meanwhile
        assert child.stdout.readline().strip() == "released"
        _close_all(waiting)
        status, _ = _callback(address, "after-release")
        recovered_after = time.monotonic() - starved_at
    finally:
        child.stdin.close()
        child.wait(timeout=10)
    errors = child.stderr.read() if child.stderr else ""
    assert status == 200 and recovered_after < 2.0 + 1.0 + 1.0 + SLACK  # release, retry delay
    assert "Traceback" not in errors
    lines = [line for line in errors.splitlines() if "could not accept" in line]
    assert 1 <= len(lines) <= 2 and "Too many open files" in lines[0]


# -- the server's own refusals, in process -----------------------------------------------------


@pytest.fixture
def server() -> Iterator[tuple[CallbackServer, list[StatusCallback]]]:
    seen: list[StatusCallback] = []
    receiver = CallbackReceiver(on_status=seen.append, secret=SECRET)
    limits = ListenerLimits(head_timeout=TIMEOUT, body_timeout=TIMEOUT, max_head_bytes=4096)
    with CallbackServer(receiver, limits=limits) as running:
        yield running, seen


def _raw(server: CallbackServer, data: bytes) -> bytes:
    host, _, port = server.url.removeprefix("http://").rstrip("/").rpartition(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        answer = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
        return answer


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /cb HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n", 431),
        (b"POST /cb HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n", 413),
        (b"POST /cb HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
        (b"GET /cb HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 501),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),  # TLS to a plain-HTTP port
        (b"GET /cb HTTP/1.1\r\n Host: folded\r\n\r\n", 400),
    ],
)
def test_malformed_or_oversized_requests_are_refused_by_the_server(
    server: tuple[CallbackServer, list[StatusCallback]], request_bytes: bytes, status: int
) -> None:
    running, seen = server
    answer = _raw(running, request_bytes)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:80]
    assert b"Connection: close" in answer
    assert seen == []


def test_a_chunked_body_past_the_limit_is_cut(
    server: tuple[CallbackServer, list[StatusCallback]],
) -> None:
    running, seen = server
    chunk = b"4000\r\n" + b"a" * 0x4000 + b"\r\n"
    head = f"POST /cb?token={SECRET} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = _raw(running, head.encode() + chunk * 5)  # 80 KiB against 64 KiB
    assert answer.startswith(b"HTTP/1.1 413 ") and seen == []


def test_the_pool_is_bounded_and_a_full_queue_answers_503() -> None:
    release = threading.Event()
    entered = threading.Semaphore(0)

    def slow(event: StatusCallback) -> None:
        entered.release()
        release.wait(10)

    receiver = CallbackReceiver(on_status=slow, secret=SECRET)
    limits = ListenerLimits(workers=2, max_queued=1)
    with CallbackServer(receiver, limits=limits) as running:
        host, _, port = running.url.removeprefix("http://").rstrip("/").rpartition(":")
        address = (host, int(port))
        results: list[int] = []
        threads = [
            threading.Thread(target=lambda n=n: results.append(_callback(address, f"b{n}")[0]))
            for n in range(3)
        ]
        for thread in threads:
            thread.start()
        assert entered.acquire(timeout=5) and entered.acquire(timeout=5)  # both workers busy
        time.sleep(0.2)  # the third is queued
        status, took = _callback(address, "over")
        assert status == 503 and took < 1.0
        answer = _raw(running, f"GET /?token={SECRET}&messageId=x HTTP/1.0\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 1" in answer
        release.set()
        for thread in threads:
            thread.join(10)
        assert sorted(results) == [200, 200, 200]
        assert running.stats().rejected == 2


def test_connections_from_outside_the_allow_list_are_closed_before_reading() -> None:
    seen: list[StatusCallback] = []
    receiver = CallbackReceiver(on_status=seen.append, secret=SECRET)
    with CallbackServer(receiver, allowed_sources=["192.0.2.0/24"]) as running:
        answer = _raw(running, b"")  # sent nothing: the answer comes at accept, unasked
        assert answer.startswith(b"HTTP/1.1 403 ") and seen == []
        answer = _raw(running, f"GET /?token={SECRET}&{STATUS_QUERY} HTTP/1.1\r\n\r\n".encode())
        assert seen == []
        assert running.stats().refused_source == 2
    with CallbackServer(receiver, allowed_sources=["127.0.0.0/8", "::1"]) as running:
        query = STATUS_QUERY.format(id="ok")
        answer = _raw(running, f"GET /?token={SECRET}&{query} HTTP/1.0\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 200 ") and len(seen) == 1


# -- the listen command's guard ------------------------------------------------------------------


def test_listen_makes_a_strong_secret_when_given_none_and_prints_the_portal_url(
    listen: type[ListenProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ListenProcess, "secret_env", None)
    listener = listen()
    url = next(
        line.removeprefix("callback URL: ")
        for line in listener.header.splitlines()
        if line.startswith("callback URL: ")
    )
    token = url.rpartition("?token=")[2]
    assert len(token) >= 43 and token != SECRET
    assert (
        "made for this run" in listener.header and "CLICKATELL_CALLBACK_SECRET" in listener.header
    )
    basic = f"http://clickatell:{token}@{listener.base.removeprefix('http://')}"
    assert basic in listener.header
    assert _callback(listener.address, "with-generated", token=token)[0] == 200
    assert _callback(listener.address, "with-the-test-secret")[0] == 401


def test_listen_without_a_secret_must_be_asked_for_and_says_so(
    listen: type[ListenProcess],
) -> None:
    listener = listen("--no-secret")
    assert "trusts anyone" in listener.header
    assert f"callback URL: {listener.base}\n" in listener.header
    query = STATUS_QUERY.format(id="open-door")
    with socket.create_connection(listener.address, timeout=5) as sock:
        sock.sendall(f"GET /?{query} HTTP/1.0\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")


def test_listen_warns_when_the_secret_would_cross_the_network_in_clear(
    listen: type[ListenProcess],
) -> None:
    plain = listen("--public-url", "http://callbacks.example.com/clickatell")
    assert f"callback URL: http://callbacks.example.com/clickatell?token={SECRET}" in plain.header
    assert "plain http://" in plain.header
    tls = listen("--public-url", "https://callbacks.example.com/clickatell")
    assert "plain http://" not in tls.header


def test_listen_allow_list_closes_other_sources(listen: type[ListenProcess]) -> None:
    elsewhere = listen("--allow", "192.0.2.0/24", "--allow", "2001:db8::/32")
    assert _callback(elsewhere.address, "from-loopback")[0] == 403
    here = listen("--allow", "127.0.0.0/8")
    assert _callback(here.address, "from-loopback")[0] == 200
    time.sleep(0.2)
    assert elsewhere.events_so_far() == [] and len(here.events_so_far()) == 1


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--secret", "too-short"], None, "--secret: is 9 characters long"),
        ([], "has a space in it, 16+", "CLICKATELL_CALLBACK_SECRET: may hold only"),
        (["--allow", "10.0.0.0/33"], None, "--allow: '10.0.0.0/33' is not an IP"),
        (["--head-timeout", "0"], None, "--head-timeout: must be a positive"),
        (["--max-connections", "-5"], None, "--max-connections: must be a positive"),
        (["--public-url", "ftp://example.com/"], None, "--public-url: must be an http://"),
        (["--public-url", "https://u:p@example.com/"], None, "--public-url: already carries"),
    ],
)
def test_listen_refuses_bad_guard_settings_by_name(
    args: list[str],
    env: str | None,
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from clickatell_sms.cli import main

    if env is None:
        monkeypatch.delenv("CLICKATELL_CALLBACK_SECRET", raising=False)
    else:
        monkeypatch.setenv("CLICKATELL_CALLBACK_SECRET", env)
    assert main(["listen", "--port", "0", *args]) == 2
    err = capsys.readouterr().err
    assert f"error: {named}" in err and "Traceback" not in err


def test_the_secret_variable_has_one_name() -> None:
    from clickatell_sms.callbacks.access import SECRET_ENV
    from clickatell_sms.cli.listen import SECRET_ENV as CLI_SECRET_ENV

    assert SECRET_ENV == CLI_SECRET_ENV == "CLICKATELL_CALLBACK_SECRET"


def test_a_client_that_never_reads_its_answers_is_disconnected() -> None:
    def big(environ: object, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [b"x" * 65536]

    with CallbackServer(big) as running:
        host, _, port = running.url.removeprefix("http://").rstrip("/").rpartition(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, int(port)))
        try:
            with contextlib.suppress(OSError):  # the server may close while we still write
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 2000)
            deadline = time.monotonic() + 10
            while running.stats().open_connections and time.monotonic() < deadline:
                time.sleep(0.05)
            stats = running.stats()
        finally:
            sock.close()
    assert stats.open_connections == 0
    assert stats.answered < 200  # it stopped answering long before the 2,000 it was sent


# -- answered from the head: a forger's body is never read -------------------------------------


def _answers_to_heads(
    address: tuple[str, int], head: bytes, count: int, body_part: bytes = b""
) -> tuple[list[bytes], float, list[socket.socket]]:
    """`count` connections each sending `head` (and `body_part`), then waiting: the first
    line each gets, and the longest wait for one. The sockets stay open (the caller closes)."""
    socks: list[socket.socket] = []
    sent: dict[socket.socket, float] = {}
    for _ in range(count):
        sock = socket.create_connection(address, timeout=5)
        with contextlib.suppress(OSError):
            sock.sendall(head + body_part)
        sent[sock] = time.monotonic()
        socks.append(sock)
    selector = _watch(socks)
    firsts: list[bytes] = []
    longest = 0.0
    for sock, data in _reads(selector, 60):
        firsts.append(data.split(b"\r\n", 1)[0])
        longest = max(longest, time.monotonic() - sent[sock])
        selector.unregister(sock)
    return firsts, longest, socks


@pytest.mark.parametrize("body_sent", [0, 30000], ids=["no-body", "half-a-body"])
def test_listen_answers_401_from_the_head_without_reading_the_declared_body(
    listen: type[ListenProcess], body_sent: int
) -> None:
    """800 POSTs without the secret, each declaring 60,000 bytes and sending none (or half):
    all get 401 at once, long before the body could time out, and the bodies never pile up."""
    _raise_descriptor_limit(4096)
    listener = listen("--body-timeout", "60")  # a 408 could not come in time
    before_kb = listener.status("VmRSS")
    head = b"POST /cb HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += b"Content-Length: 60000\r\n\r\n"
    firsts, longest, socks = _answers_to_heads(listener.address, head, 800, b"[" * body_sent)
    try:
        time.sleep(0.3)  # the listener lets go of what it read
        grown_kb = listener.status("VmRSS") - before_kb
        status, took = _callback(listener.address, "after-the-flood")
    finally:
        _close_all(socks)
    assert firsts == [b"HTTP/1.1 401 Unauthorized"] * 800
    assert longest < 10.0  # without reading the body; 60 s had it waited for one
    assert grown_kb < 12_000, f"RSS grew {grown_kb} kB"  # 800 x 30 kB held would be 24 MB
    assert status == 200 and took < 1.0
    errors = listener.stop()
    assert "Traceback" not in errors and "without the right secret" in errors


def test_a_client_still_sending_its_body_reads_the_401_not_a_reset(
    server: tuple[CallbackServer, list[StatusCallback]],
) -> None:
    """The server stops writing and drains after an early 401: a client that sends its whole
    body before reading (urllib3 does) gets the answer."""
    running, seen = server
    http = urllib3.PoolManager(retries=False)
    body = b'{"messageId":"forged","status":4,"pad":"' + b"a" * 60000 + b'"}'
    for _ in range(20):
        answer = http.request("POST", running.url + "cb", body=body)
        assert answer.status == 401
    signed = http.request("POST", running.url + f"cb?token={SECRET}", body=body)
    assert signed.status == 200 and [event.api_message_id for event in seen] == ["forged"]
    assert running.stats().refused_early == 20


def test_a_screen_that_fails_is_a_500_and_the_server_goes_on() -> None:
    def broken(environ: Any) -> None:
        raise RuntimeError("bug in the screen")

    receiver = CallbackReceiver(on_status=lambda event: None, secret=SECRET)
    with CallbackServer(receiver, screen=broken) as running:
        answer = _raw(running, b"GET /cb HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 500 ")
        assert running.stats().refused_early == 0


# -- a body nested too deeply --------------------------------------------------------------------

NESTED = b"[" * 30000 + b"]" * 30000  # 60,000 bytes: under the 64 KiB body limit


def test_a_deeply_nested_body_is_a_validation_error_for_the_parser_and_the_receiver() -> None:
    from wsgiref.util import setup_testing_defaults

    from clickatell_sms.callbacks import parse_callback_request, parse_status_callback
    from clickatell_sms.errors import ValidationError

    for content_type in ("application/json", None):
        with pytest.raises(ValidationError, match="nested too deeply"):
            parse_callback_request("POST", b"", NESTED, content_type)
    with pytest.raises(ValidationError, match="nested too deeply"):
        parse_status_callback(NESTED)
    deep: list[Any] = []
    for _ in range(5000):  # as a framework might hand over a parsed document
        deep = [deep]
    with pytest.raises(ValidationError, match="nested too deeply"):
        parse_status_callback({"messageId": "m", "statusCode": 4, "pad": deep})

    receiver = CallbackReceiver(on_status=lambda event: None, secret=SECRET)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "QUERY_STRING": f"token={SECRET}",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(NESTED)),
        "wsgi.input": io.BytesIO(NESTED),
    }
    setup_testing_defaults(environ)
    started: list[str] = []
    body = b"".join(receiver(environ, lambda status, headers: started.append(status)))
    assert started == ["400 Bad Request"] and body.startswith(b"bad callback: body: ")


def test_a_deeply_nested_body_is_a_400_from_the_server_and_from_listen(
    server: tuple[CallbackServer, list[StatusCallback]], listen: type[ListenProcess]
) -> None:
    head = f"POST /cb?token={SECRET} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    request = f"{head}Content-Length: {len(NESTED)}\r\nConnection: close\r\n\r\n".encode()
    running, seen = server
    assert _raw(running, request + NESTED).startswith(b"HTTP/1.1 400 ") and seen == []
    listener = listen()
    answer = _raw_to(listener.address, request + NESTED)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"nested too deeply" in answer
    errors = listener.stop()
    assert "Traceback" not in errors and "RecursionError" not in errors


def _raw_to(address: tuple[str, int], data: bytes) -> bytes:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer
