"""The sandbox as a server under abuse: idle and slow clients, too many connections, pipelining
without reading, running out of file descriptors, and requests that are odd on purpose.

Every test uses real loopback sockets against a real sandbox, and asserts a bound: how soon a
connection is closed, how many stay open, how long a normal request waits, how much memory the
sandbox process holds. The sandbox runs in this process (with short limits) where only its
behaviour is measured, and as `clickatell-sms sandbox` in its own process where its memory or its
file descriptors are.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clickatell_sms.sandbox import Sandbox, ServerLimits

KEY = "sandbox-key"
BODY = b'{"content":"hi","to":["27821234567"]}'
NESTING = 100_000


def _request(body: bytes = BODY, *extra: str, end: str = "\r\n") -> bytes:
    lines = [
        "POST /messages HTTP/1.1",
        "Host: sandbox",
        f"Authorization: {KEY}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *extra,
    ]
    return (end.join(lines) + end + end).encode() + body


_BALANCE = (
    f"GET /public-client/balance HTTP/1.1\r\nHost: s\r\nAuthorization: {KEY}\r\n\r\n".encode()
)


def _connect(port: int, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def _read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes (EOF or reset), and when that happened
    (seconds from now); fails if it is still open after `limit` seconds."""
    started = time.monotonic()
    sock.settimeout(0.05)
    received = bytearray()
    while time.monotonic() - started < limit:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return bytes(received), time.monotonic() - started
        if not chunk:
            return bytes(received), time.monotonic() - started
        received += chunk
    pytest.fail(f"the connection was still open after {limit} s (got {bytes(received)[:80]!r})")


def _is_open(sock: socket.socket) -> bool:
    """True while the server has neither closed nor reset the connection (nothing is read)."""
    sock.settimeout(0)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def _silent(sock: socket.socket) -> bool:
    """True while the server has sent nothing more and not closed the connection."""
    sock.settimeout(0)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def _drip(sock: socket.socket, data: bytes, interval: float, limit: float) -> None:
    """Send `data` a byte every `interval` seconds until the server answers or closes, or
    `limit` seconds have passed."""
    started = time.monotonic()
    for byte in data:
        if not _silent(sock) or time.monotonic() - started > limit:
            return
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return
        time.sleep(interval)


def _timed_send(port: int) -> float:
    """One normal send on a fresh connection; seconds until its whole 202 answer was in."""
    started = time.monotonic()
    with _connect(port, timeout=10) as sock:
        sock.sendall(_request(BODY, "Connection: close"))
        answer, _ = _read_until_closed(sock, 10)
    assert answer.startswith(b"HTTP/1.1 202 Accepted\r\n"), answer[:200]
    return time.monotonic() - started


def _wait_for(condition: Callable[[], bool], limit: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if condition():
            return time.monotonic() - started
        time.sleep(0.01)
    pytest.fail(f"not within {limit} s")


# ------------------------------------------------------------------------------------------------
# Timeouts


@pytest.mark.parametrize(
    "field", ["idle_timeout", "header_timeout", "body_timeout", "write_timeout", "max_connections"]
)
def test_limits_refuse_values_that_would_switch_them_off(field: str) -> None:
    for value in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=f"ServerLimits.{field} must be a finite number"):
            ServerLimits(**{field: value})
    for wrong in ("10", True, None):
        with pytest.raises(TypeError, match=f"ServerLimits.{field} must be a number"):
            ServerLimits(**{field: wrong})
    if field == "max_connections":
        with pytest.raises(TypeError, match="must be a whole number"):
            ServerLimits(max_connections=2.5)  # type: ignore[arg-type]


def test_idle_connections_are_closed_after_the_idle_timeout_and_busy_ones_are_not() -> None:
    limits = ServerLimits(idle_timeout=0.4)
    with Sandbox(limits=limits) as sb:
        busy_answers: list[bytes] = []
        busy_open = threading.Event()

        def busy_client() -> None:  # a request every 0.2 s: never idle for 0.4 s
            with _connect(sb.port) as sock:
                for _ in range(7):
                    sock.sendall(_BALANCE)
                    busy_answers.append(sock.recv(65536))
                    time.sleep(0.2)
                if _is_open(sock):
                    busy_open.set()

        busy = threading.Thread(target=busy_client)
        busy.start()
        opened = []
        idle = []
        for _ in range(100):
            idle.append(_connect(sb.port))
            opened.append(time.monotonic())
        closed = []
        for sock in idle:
            _read_until_closed(sock, opened[0] + 0.4 + 1.0 - time.monotonic())
            closed.append(time.monotonic())
            sock.close()
        busy.join()
        assert closed[0] - opened[0] >= 0.4 - 0.02  # not before its time
        assert max(c - o for c, o in zip(closed, opened, strict=True)) <= 0.4 + 1.0
        assert len(busy_answers) == 7
        assert all(a.startswith(b"HTTP/1.1 200 OK\r\n") for a in busy_answers)
        assert busy_open.is_set()
        # A client that only sends empty lines has not started a request: still idle.
        with _connect(sb.port) as blank_lines:
            started = time.monotonic()
            _drip(blank_lines, b"\r\n" * 20, 0.05, 0.4 + 1.0)
            _read_until_closed(blank_lines, 0.5)
            assert time.monotonic() - started <= 0.4 + 1.0
        _wait_for(lambda: sb.connections_open == 0, 1)


def test_the_sdk_client_reconnects_quietly_after_its_idle_connection_was_closed() -> None:
    from clickatell_sms import Client

    with Sandbox(limits=ServerLimits(idle_timeout=0.3)) as sb:
        client = Client(KEY, base_url=sb.base_url)
        try:
            for _ in range(3):
                assert client.send(to=["27821234567"], content="hi").accepted
                _wait_for(lambda: sb.connections_open == 0, 0.3 + 1.0)  # closed for idling
        finally:
            client.close()
        assert len(sb.messages()) == 3 and sb.requests_seen == 3  # none lost, none twice


def test_a_head_sent_a_byte_at_a_time_is_cut_off_with_408_after_the_header_timeout() -> None:
    with Sandbox(limits=ServerLimits(header_timeout=0.5)) as sb, _connect(sb.port) as sock:
        started = time.monotonic()
        _drip(sock, _request()[: -len(BODY)] * 2, 0.02, 0.5 + 1.0)  # never ends within 0.5 s
        answer, _ = _read_until_closed(sock, 1.0)
        elapsed = time.monotonic() - started
        assert 0.5 <= elapsed <= 0.5 + 1.0
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert b"Connection: close" in answer and b"within 0.5 s" in answer
        assert sb.requests_seen == 0


def test_a_body_sent_slowly_is_cut_off_with_408_after_the_body_timeout_and_not_recorded() -> None:
    limits = ServerLimits(header_timeout=0.3, body_timeout=0.6)
    with Sandbox(limits=limits) as sb, _connect(sb.port) as sock:
        sock.sendall(_request()[: -len(BODY)])  # the whole head at once
        started = time.monotonic()
        _drip(sock, BODY[:-1], 0.05, 0.6 + 1.0)  # then the body, each byte well within 0.3 s
        answer, _ = _read_until_closed(sock, 1.5)
        elapsed = time.monotonic() - started
        assert 0.6 <= elapsed <= 0.6 + 1.0
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert sb.messages() == []


def test_a_client_that_never_reads_its_answers_is_disconnected_after_the_write_timeout() -> None:
    limits = ServerLimits(write_timeout=0.5)
    with Sandbox(limits=limits) as sb, _connect(sb.port) as sock:
        _wait_for(lambda: sb.connections_open == 1, 2)
        sock.setblocking(False)
        stalled_at = None
        started = time.monotonic()
        pipeline = _BALANCE * 200
        sent = 0
        while time.monotonic() - started < 10:
            try:  # whole requests only: a broken one would be refused (400), not timed out
                sent += sock.send(pipeline[sent % len(pipeline) :])
                stalled_at = None
            except BlockingIOError:  # the sandbox stopped reading: it is not being read
                stalled_at = stalled_at or time.monotonic()
                time.sleep(0.01)
            except OSError:
                break  # reset: the sandbox gave up on it
            if sb.connections_open == 0:
                break
        assert stalled_at is not None
        assert sb.connections_open == 0
        assert time.monotonic() - stalled_at <= 0.5 + 1.0


# ------------------------------------------------------------------------------------------------
# The connection cap


def test_the_cap_holds_and_the_longest_idle_connections_make_room() -> None:
    with Sandbox(limits=ServerLimits(max_connections=20)) as sb:
        clients = []
        for _ in range(50):
            clients.append(_connect(sb.port))
            assert sb.connections_open <= 20
        _wait_for(lambda: sum(not _is_open(c) for c in clients) == 30, 3)
        assert sb.connections_open == 20
        assert not any(_is_open(c) for c in clients[:30])  # the oldest went first
        assert all(_is_open(c) for c in clients[30:])
        assert _timed_send(sb.port) < 1.0  # a normal request still gets in
        assert sb.connections_open <= 20
        for sock in clients:
            sock.close()


def test_the_cap_never_cuts_a_request_under_way_the_newcomer_waits_instead() -> None:
    with Sandbox(limits=ServerLimits(max_connections=4)) as sb:
        slow = [_connect(sb.port) for _ in range(4)]
        for sock in slow:  # processed now, answered in 0.8 s: not to be cut
            sock.sendall(_request(BODY, "X-Sandbox-Latency: 0.8"))
        _wait_for(lambda: sb.requests_seen == 4, 2)
        waited = _timed_send(sb.port)
        for sock in slow:
            assert sock.recv(65536).startswith(b"HTTP/1.1 202 Accepted\r\n")
            sock.close()
        assert 0.5 <= waited <= 0.8 + 1.0
        assert len(sb.messages()) == 5


# ------------------------------------------------------------------------------------------------
# Backpressure


def test_pipelining_without_reading_stops_the_reading_and_loses_no_answer() -> None:
    with Sandbox() as sb, _connect(sb.port) as sock:
        sock.setblocking(False)
        sent = 0
        pipeline = _BALANCE * 1000
        blocked_since = None
        started = time.monotonic()
        while time.monotonic() - started < 10:
            try:
                sent += sock.send(pipeline[sent % len(pipeline) :])
                blocked_since = None
            except BlockingIOError:
                blocked_since = blocked_since or time.monotonic()
                if time.monotonic() - blocked_since >= 0.5:
                    break
                time.sleep(0.02)
        assert blocked_since is not None, "the sandbox kept reading a client that reads nothing"
        # The client has been unable to send for 0.5 s: the sandbox stopped reading, and does
        # not take more requests while it waits.
        seen = sb.requests_seen
        time.sleep(0.3)
        assert sb.requests_seen == seen
        assert sent < 32 * 1024 * 1024  # kernel buffers, not all the client would send

        # Now read: every request sent is answered, in order, none lost.
        expected = -(-sent // len(_BALANCE))  # a partly sent request is finished below
        rest = len(_BALANCE) * expected - sent
        sock.setblocking(True)
        sock.settimeout(10)
        received = bytearray()
        finisher = threading.Thread(
            target=sock.sendall, args=(_BALANCE[len(_BALANCE) - rest :] if rest else b"",)
        )
        finisher.start()
        while received.count(b"HTTP/1.1 200 OK\r\n") < expected:
            chunk = sock.recv(1 << 20)
            assert chunk, "closed before every answer came"
            received += chunk
        finisher.join()
        assert received.count(b"HTTP/1.1 ") == expected
        assert sb.requests_seen == expected


# ------------------------------------------------------------------------------------------------
# Odd requests


def test_deeply_nested_json_is_malformed_100_not_a_server_error() -> None:
    with Sandbox() as sb:
        for document in (
            b"[" * NESTING + b"]" * NESTING,
            b'{"content":"hi","to":' + b"[" * NESTING + b"]" * NESTING + b"}",
            b'{"a":' * NESTING + b"1" + b"}" * NESTING,
        ):
            with _connect(sb.port) as sock:
                sock.sendall(_request(document, "Connection: close"))
                answer, _ = _read_until_closed(sock, 5)
            assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer[:100]
            body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
            assert body["errorCode"] == 100 and "nested too deeply" in body["errorDescription"]
        xml = b"<SendMessageRequest>" + b"<a>" * NESTING + b"</a>" * NESTING
        xml += b"</SendMessageRequest>"
        with _connect(sb.port) as sock:
            sock.sendall(
                _request(xml, "Connection: close").replace(b"application/json", b"application/xml")
            )
            answer, _ = _read_until_closed(sock, 5)
        assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer[:100]
        assert _timed_send(sb.port) < 1.0


def test_bare_lf_line_endings_in_the_head_are_read_and_a_stray_cr_is_refused() -> None:
    with Sandbox() as sb:
        with _connect(sb.port) as sock:  # a bare-LF request, then a CRLF one, pipelined
            sock.sendall(_request(end="\n") + _request(BODY, "Connection: close"))
            answer, _ = _read_until_closed(sock, 2)
        assert answer.count(b"HTTP/1.1 202 Accepted\r\n") == 2
        assert len(sb.messages()) == 2

        with _connect(sb.port) as sock:
            sock.sendall(_request(BODY, "X-Odd: a\rb"))
            answer, _ = _read_until_closed(sock, 2)
        assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        assert b"CR not followed by LF" in answer

        # Chunked framing stays strict, and says so at once (not after the body timeout).
        chunked = _request(b"", "Transfer-Encoding: chunked").replace(b"Content-Length: 0\r\n", b"")
        with _connect(sb.port) as sock:
            started = time.monotonic()
            sock.sendall(chunked + b"5\nhello\n0\n\n")
            answer, _ = _read_until_closed(sock, 2)
        assert time.monotonic() - started < 1.0
        assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        assert b"must end with CRLF" in answer
        assert len(sb.messages()) == 2


# ------------------------------------------------------------------------------------------------
# The sandbox in its own process: memory and file descriptors


@contextlib.contextmanager
def _sandbox_process(*args: str, fd_limit: int | None = None) -> Iterator[tuple[int, int]]:
    """`clickatell-sms sandbox` in a process of its own; yields (pid, port)."""

    def limit_descriptors() -> None:
        import resource  # POSIX only, as is this helper

        if fd_limit is not None:
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, hard))

    process = subprocess.Popen(
        [sys.executable, "-m", "clickatell_sms.cli", "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=limit_descriptors,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    assert first.startswith("Clickatell sandbox listening on "), (first, process.stderr.read())
    try:
        yield process.pid, int(first.rsplit(":", 1)[1])
    finally:
        process.terminate()
        _, err = process.communicate(timeout=15)
        _SANDBOX_STDERR[process.pid] = err
    assert process.returncode == 0, err


_SANDBOX_STDERR: dict[int, str] = {}


def _memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process, in MB, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    now = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    return now / 1024, peak / 1024


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.fixture
def enough_descriptors() -> Iterator[None]:
    """1,000 connections need 1,000 descriptors on each side: raise this process's soft limit
    (its children inherit it) as far as the hard limit allows, and put it back after."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    if wanted < 2200:
        pytest.skip(f"the hard descriptor limit ({hard}) is below the 2,200 this test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


pytestmark_linux = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="reads memory and descriptors from /proc"
)


@pytestmark_linux
def test_1000_idle_connections_and_a_pipelining_client_leave_it_answering_in_under_1s(
    enough_descriptors: None,
) -> None:
    with _sandbox_process() as (pid, port):
        baseline, _ = _memory_mb(pid)
        base_fds = _descriptors(pid)
        idle = [_connect(port) for _ in range(1000)]
        _wait_for(lambda: _descriptors(pid) >= base_fds + 1000, 5)  # all accepted, all held

        stop = threading.Event()
        pushed = [0]

        def pipeline_without_reading() -> None:
            sock = _connect(port)
            sock.setblocking(False)
            pipeline = _request() * 500
            while not stop.is_set():
                try:  # from where the last send stopped, so the stream stays whole requests
                    pushed[0] += sock.send(pipeline[pushed[0] % len(pipeline) :])
                except BlockingIOError:
                    time.sleep(0.005)
            sock.close()

        pipeliner = threading.Thread(target=pipeline_without_reading)
        pipeliner.start()
        try:
            time.sleep(2.0)  # without backpressure, this alone would cost the sandbox ~50 MB
            waits = [_timed_send(port) for _ in range(20)]
            time.sleep(1.0)
            now, peak = _memory_mb(pid)
        finally:
            stop.set()
            pipeliner.join()
            for sock in idle:
                sock.close()
    waits.sort()
    print(
        f"\nsandbox under abuse: RSS {baseline:.1f} MB at rest, {now:.1f} MB with 1,000 idle"
        f" connections and a pipelining client (peak {peak:.1f} MB); normal request median"
        f" {waits[len(waits) // 2] * 1000:.1f} ms, worst {waits[-1] * 1000:.1f} ms;"
        f" the pipelining client could push {pushed[0] / 1e6:.1f} MB of requests"
    )
    assert waits[-1] < 1.0
    assert peak < 100
    assert pushed[0] < 32 * 1024 * 1024  # what kernel buffers hold; the sandbox stopped reading


@pytestmark_linux
def test_running_out_of_descriptors_is_one_warning_and_service_comes_back() -> None:
    # 64 descriptors and a connection cap far above that: accept() meets EMFILE.
    with _sandbox_process("--max-connections", "1000", fd_limit=64) as (pid, port):
        held = [_connect(port) for _ in range(150)]  # queued by the kernel, more than fit
        # While they are held, the sandbox closes the longest-idle to make room.
        assert _timed_send(port) < 2.0
        for sock in held:
            sock.close()
        time.sleep(0.5)
        waits = [_timed_send(port) for _ in range(5)]
        assert max(waits) < 1.0
        assert _descriptors(pid) < 64
    err = _SANDBOX_STDERR[pid]
    assert "Traceback" not in err
    assert "Too many open files" in err
    assert len(err.splitlines()) <= 2, err[:2000]


@pytestmark_linux
def test_a_body_in_thousands_of_tiny_chunks_is_read_in_linear_time() -> None:
    # 80,000 one-byte chunks in 800 packets: were every packet to re-read the chunks before it,
    # that would be millions of chunk reads (seconds of CPU) instead of 80,000. The sandbox runs
    # in its own process, so its CPU time is its own.
    document = BODY + b" " * (80_000 - len(BODY))  # JSON allows the trailing spaces
    chunks = [b"1\r\n" + document[i : i + 1] + b"\r\n" for i in range(len(document))]
    head = _request(b"", "Transfer-Encoding: chunked", "Connection: close")
    head = head.replace(b"Content-Length: 0\r\n", b"")
    with _sandbox_process() as (pid, port), _connect(port) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(head)
        cpu_before = _cpu_seconds(pid)
        for i in range(0, len(chunks), 100):
            sock.sendall(b"".join(chunks[i : i + 100]))
            time.sleep(0.002)  # one packet, one read
        sock.sendall(b"0\r\n\r\n")
        answer, _ = _read_until_closed(sock, 60)
        cpu = _cpu_seconds(pid) - cpu_before
    print(f"\nsandbox CPU for a body of 80,000 one-byte chunks: {cpu:.2f} s")
    assert answer.startswith(b"HTTP/1.1 202 Accepted\r\n")
    assert cpu < 0.6  # about 0.1 s; re-reading the chunks at every packet took 1.6 s


_ENTITY_BOMB = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b"<!DOCTYPE SendMessageRequest ["
    b'<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
    b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'
    b'&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>'
    b"<SendMessageRequest><Content>&e;</Content><To>27821234567</To></SendMessageRequest>"
)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_ENTITY_BOMB, id="entity-expansion"),
        pytest.param(
            _ENTITY_BOMB.decode().replace("UTF-8", "UTF-16").encode("utf-16"), id="utf-16"
        ),
        pytest.param(
            b'<!DOCTYPE SendMessageRequest [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<SendMessageRequest><Content>&x;</Content><To>27821234567</To></SendMessageRequest>",
            id="external-entity",
        ),
        pytest.param(
            # Its internal subset is not even well-formed: refused as a DOCTYPE all the same,
            # so the refusal came where the declaration began, before anything in it was read.
            b"<!DOCTYPE SendMessageRequest [<!ENTITY a 'x'> <!BROKEN ]>"
            b"<SendMessageRequest><Content>&a;</Content><To>27821234567</To></SendMessageRequest>",
            id="broken-subset",
        ),
        pytest.param(
            b"<!DOCTYPE SendMessageRequest>"
            b"<SendMessageRequest><Content>hi</Content><To>27821234567</To></SendMessageRequest>",
            id="bare-doctype",
        ),
    ],
)
def test_an_xml_doctype_is_refused_with_100_before_any_entity_is_expanded(body: bytes) -> None:
    from clickatell_wire.xml import codec

    from tests.test_sandbox import call

    assert len(body) < 1100  # the bomb would be 300,000 characters of content once expanded
    with Sandbox() as sb:
        response = call(sb, "POST", "/messages", body, content_type="application/xml")
        assert response.status == 400, response.data
        assert response.headers["X-Sandbox-Rule"] == "xml-doctype"
        answer = codec.decode_send_messages_response(response.data)
        assert answer.error_code == 100 and answer.error == "Data malformed"
        assert answer.error_description is not None
        assert "DOCTYPE" in answer.error_description and "aaa" not in answer.error_description
        assert len(response.data) < 1000
        assert sb.messages() == [] and sb.refusals() == {"xml-doctype": 1}
        assert _timed_send(sb.port) < 1.0
