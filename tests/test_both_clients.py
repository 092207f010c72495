"""The same cases against `Client` and `AsyncClient`, and the open transport.

Validation, results, errors, the never-resend retry rule and key hygiene are one code path in
the SDK; these tests hold both clients to it by running each case on both. Then what only the
asyncio client has (cancellation, many requests on one thread, async bulk) and what both share
of the open transport: a proxy on loopback, a CA bundle and a client certificate, a pool or
session of the user's own, hooks, CLICKATELL_LOG.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from clickatell_sms import (
    Attempt,
    AuthenticationError,
    ClickatellError,
    ConnectionError,
    OutcomeUnknownError,
    RetryPolicy,
    ValidationError,
)
from clickatell_sms.sandbox import Faults, Sandbox

from .hostile import (
    KEY,
    Driver,
    Hostile,
    Relay,
    accepted_json,
    answer,
    hostile,
    read_request,
    serve_accepted,
)

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_KEY = "sandbox-key"
FAST = RetryPolicy(max_retries=2, backoff_factor=0.0)


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> Iterator[Driver]:
    made = Driver(request.param)
    yield made
    made.close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(balance=10**6) as made:
        yield made


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"2782{start + i:07d}" for i in range(count)]


# -- the same results ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_450_recipients_come_back_as_450_results_in_input_order(
    driver: Driver, sandbox: Sandbox, fmt: str
) -> None:
    to = numbers(450)[::-1]  # not sorted, so order is really kept
    to[10] = "+" + to[10]
    client = driver.client(sandbox.api_key, base_url=sandbox.base_url, format=fmt)
    result = driver.send(client, to, "hello")
    assert len(result) == 450 and result.all_accepted
    assert [r.to for r in result] == to
    assert [r.index for r in result] == list(range(450))
    assert len(result.raw_responses) == 3
    assert len(sandbox.messages()) == 450


def test_repeats_are_sent_once_and_reported(driver: Driver, sandbox: Sandbox) -> None:
    client = driver.client(sandbox.api_key, base_url=sandbox.base_url)
    result = driver.send(client, ["27821234567", "+27 82 123 4567", "27821234568"], "hi")
    assert [r.accepted for r in result] == [True, False, True]
    assert result[1].duplicate_of == 0 and len(sandbox.messages()) == 2


def test_balance_and_status_read_the_same(driver: Driver, sandbox: Sandbox) -> None:
    client = driver.client(sandbox.api_key, base_url=sandbox.base_url)
    (sent,) = driver.send(client, "27821234567", "hi")
    balance = driver.call(client, "balance")
    status = driver.call(client, "message_status", sent.api_message_id)
    assert balance.currency == "ZAR" and balance.amount < 10**6
    assert status.api_message_id == sent.api_message_id and status.status.code is not None


# -- the same validation ------------------------------------------------------------------------

BAD_CALLS: list[tuple[dict[str, Any], str, str]] = [
    ({"to": "not a number"}, "to[0]", ""),
    ({"to": "+27821234567,+27821234568"}, "to[0]", "one number per item"),
    ({"to": []}, "to", "no recipients"),
    ({"content": ""}, "content", "empty"),
    ({"validity_period": -3}, "validity_period", ""),
    ({"extra_headers": {"Host": "x"}}, "extra_headers['Host']", "writes itself"),
    ({"total_timeout": 0}, "total_timeout", "> 0"),
    ({"timeout": -1}, "timeout", "> 0"),
]


@pytest.mark.parametrize(("call", "field", "words"), BAD_CALLS)
def test_bad_input_is_refused_by_name_and_nothing_is_sent(
    driver: Driver, sandbox: Sandbox, call: dict[str, Any], field: str, words: str
) -> None:
    client = driver.client(sandbox.api_key, base_url=sandbox.base_url)
    arguments = {"to": "27821234567", "content": "hi", **call}
    with pytest.raises(ValidationError) as caught:
        driver.send(client, arguments.pop("to"), arguments.pop("content"), **arguments)
    assert caught.value.field == field and words in caught.value.problem
    assert sandbox.messages() == []


def test_an_unknown_option_is_a_type_error(driver: Driver, sandbox: Sandbox) -> None:
    client = driver.client(sandbox.api_key, base_url=sandbox.base_url)
    with pytest.raises(TypeError, match="colour"):
        driver.send(client, "27821234567", "hi", colour="red")


def test_no_settings_at_all_says_how_to_use_the_sandbox(driver: Driver) -> None:
    with pytest.raises(ValidationError) as caught:
        driver.client()
    assert caught.value.field == "api_key"
    assert "Sandbox()" in caught.value.problem and "base_url=sb.base_url" in caught.value.problem


# -- the same errors and the same retry rule ----------------------------------------------------


def test_a_wrong_key_is_an_authentication_error(driver: Driver, sandbox: Sandbox) -> None:
    client = driver.client("wrong-key", base_url=sandbox.base_url)
    with pytest.raises(AuthenticationError) as caught:
        driver.send(client, "27821234567", "hi")
    assert caught.value.status == 401 and "wrong-key" not in str(caught.value)


@pytest.mark.parametrize("fault", ["429", "503"])
def test_refusals_for_now_are_retried_and_sent_once(
    driver: Driver, sandbox: Sandbox, fault: str
) -> None:
    sandbox.set_faults(Faults(**{f"rate_{fault}": 1.0}, max_faults=1, retry_after=0))
    client = driver.client(sandbox.api_key, base_url=sandbox.base_url, retries=FAST)
    assert driver.send(client, "27821234567", "hi").all_accepted
    assert len(sandbox.messages()) == 1


@pytest.mark.parametrize("fault", ["drop-after-body", "500"])
def test_what_may_have_arrived_is_never_resent(
    driver: Driver, sandbox: Sandbox, fault: str
) -> None:
    client = driver.client(sandbox.api_key, base_url=sandbox.base_url, retries=FAST)
    with pytest.raises(OutcomeUnknownError) as caught:
        driver.send(client, ["27821234567"], "hi", extra_headers={"X-Sandbox-Fault": fault})
    assert caught.value.recipients == ["27821234567"]
    time.sleep(0.2)
    assert len(sandbox.messages()) <= 1  # never twice


def test_a_refused_connection_is_retried_then_a_connection_error(driver: Driver) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    attempts: list[Attempt] = []
    client = driver.client(
        KEY, base_url=f"http://127.0.0.1:{port}", retries=FAST, on_response=attempts.append
    )
    with pytest.raises(ConnectionError) as caught:
        driver.send(client, "27821234567", "hi")
    import builtins

    assert isinstance(caught.value, builtins.ConnectionError)  # the built-in catches it too
    assert "nothing was sent" in str(caught.value)
    assert [a.outcome for a in attempts] == ["retry", "retry", "failed"]


def test_a_later_request_failing_keeps_the_earlier_results(driver: Driver) -> None:
    def behaviour(conn: socket.socket, server: Hostile) -> None:
        buffer = bytearray()
        while (request := read_request(conn, buffer)) is not None:
            server.record(request)
            if len(server.requests) == 2:
                conn.sendall(answer("500 Internal Server Error", b"{}"))
            else:
                conn.sendall(answer("202 Accepted", accepted_json(request)))

    with hostile(behaviour) as server:
        client = driver.client(KEY, base_url=server.url, retries=FAST)
        with pytest.raises(OutcomeUnknownError) as caught:
            driver.send(client, numbers(300), "hi")
    assert caught.value.partial is not None and len(caught.value.partial) == 200
    assert len(caught.value.recipients) == 100 and len(server.requests) == 2


# -- the same key hygiene -----------------------------------------------------------------------


def test_the_key_never_appears_in_logs_errors_reprs_or_hooks(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    key = KEY.encode()
    script = [
        lambda r: answer("202 Accepted", accepted_json(r)),
        lambda r: answer("429 Too Many Requests", b"{}", "Retry-After: 0"),
        lambda r: answer("202 Accepted", accepted_json(r)),
        lambda r: answer("401 Unauthorized", b'{"errorCode": 108, "error": "bad key %s"}' % key),
        lambda r: answer("500 Internal Server Error", b"oops " + key),
        lambda r: answer("302 Found", b"", f"Location: https://x.example/?apiKey={KEY}"),
        lambda r: answer("202 Accepted", b"garbage " + key),
    ]

    def behaviour(conn: socket.socket, server: Hostile) -> None:
        buffer = bytearray()
        while (request := read_request(conn, buffer)) is not None:
            server.record(request)
            conn.sendall(script[min(len(server.requests), len(script)) - 1](request))

    with hostile(behaviour) as server:
        client = driver.client(
            KEY,
            base_url=server.url,
            retries=FAST,
            on_request=lambda a: seen.append(repr(a)),
            on_response=lambda a: seen.append(repr(a)),
        )
        seen += [repr(client), repr(client.config)]
        for integration in ("rest", "http", "rest", "rest", "rest", "rest"):
            try:
                seen.append(repr(driver.send(client, "27821234567", "hi", integration=integration)))
            except ClickatellError as exc:
                seen += [str(exc), repr(exc), repr(getattr(exc, "raw", None)), str(exc.__cause__)]
    everything = "\n".join(seen) + caplog.text
    assert "authentication failed" in everything and "redirects" in everything
    assert "/messages/http/send" in everything  # the GET send's path reached the hooks...
    assert KEY not in everything  # ...but never the key, in any form


# -- hooks --------------------------------------------------------------------------------------


def test_hooks_see_every_attempt_of_a_retried_request(driver: Driver) -> None:
    replies = [answer("503 Service Unavailable", b"{}", "Retry-After: 0")] * 2

    def behaviour(conn: socket.socket, server: Hostile) -> None:
        buffer = bytearray()
        while (request := read_request(conn, buffer)) is not None:
            server.record(request)
            n = len(server.requests)
            conn.sendall(
                replies[n - 1] if n <= 2 else answer("202 Accepted", accepted_json(request))
            )

    started: list[Attempt] = []
    ended: list[Attempt] = []

    def broken(attempt: Attempt) -> None:
        ended.append(attempt)
        raise RuntimeError("a metrics backend that is down")

    with hostile(behaviour) as server:
        client = driver.client(
            KEY, base_url=server.url, retries=FAST, on_request=started.append, on_response=broken
        )
        assert driver.send(
            client, "27821234567", "hi"
        ).all_accepted  # a broken hook changes nothing
    assert [a.attempt for a in started] == [1, 2, 3] and started[0].outcome is None
    assert [(a.status, a.outcome) for a in ended] == [
        (503, "retry"),
        (503, "retry"),
        (202, "answered"),
    ]
    assert {(a.operation, a.method, a.path) for a in ended} == {
        ("sendMessage", "POST", "/messages")
    }
    assert all(a.duration is not None and a.duration >= 0 for a in ended)


# -- the open transport -------------------------------------------------------------------------


class Proxy:
    """A forward HTTP proxy on loopback that wants Basic credentials (else 407)."""

    def __init__(self, user: str, password: str) -> None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.expected = f"Basic {token}"
        self.lines: list[str] = []
        self.refused = 0
        self.server = Hostile(self._behaviour)
        self.port = int(self.server.url.rsplit(":", 1)[1])

    def _behaviour(self, conn: socket.socket, server: Hostile) -> None:
        buffer = bytearray()
        while (request := read_request(conn, buffer)) is not None:
            if request.headers.get("proxy-authorization") != self.expected:
                self.refused += 1
                conn.sendall(answer("407 Proxy Authentication Required", b"{}"))
                continue
            method, target, version = request.line.split(" ")
            self.lines.append(f"{method} {target}")
            host_port, _, path = target.removeprefix("http://").partition("/")
            host, _, port = host_port.partition(":")
            kept = [
                line
                for line in request.head.split(b"\r\n")[1:]
                if not line.lower().startswith((b"proxy-", b"connection:"))
            ]
            upstream = socket.create_connection((host, int(port)))
            head = b"\r\n".join([f"{method} /{path} {version}".encode(), *kept])
            upstream.sendall(head + b"\r\nConnection: close\r\n\r\n" + request.body)
            reply = bytearray()
            while chunk := upstream.recv(65536):
                reply += chunk
            upstream.close()
            conn.sendall(bytes(reply).replace(b"Connection: close", b"Connection: keep-alive"))

    def close(self) -> None:
        self.server.close()


def test_both_clients_send_through_a_proxy_that_never_shows_its_password(
    driver: Driver, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "pr0xy-s3cret"
    proxy = Proxy("team", password)
    texts: list[str] = []
    try:
        url = f"http://team:{password}@127.0.0.1:{proxy.port}"
        client = driver.client(sandbox.api_key, base_url=sandbox.base_url, proxy_url=url)
        texts += [repr(client), repr(client.config)]
        assert driver.send(client, numbers(3), "via the proxy").all_accepted
        assert driver.call(client, "balance").currency == "ZAR"
        assert proxy.lines[0] == f"POST {sandbox.base_url}/messages" and proxy.refused == 0
        assert len(sandbox.messages()) == 3
        wrong = driver.client(
            sandbox.api_key, base_url=sandbox.base_url, proxy_url=url.replace(password, "nope")
        )
        with pytest.raises(ClickatellError) as refused:
            driver.send(wrong, "27821234567", "hi")
        texts += [str(refused.value), repr(refused.value)]
        assert proxy.refused == 1 and len(sandbox.messages()) == 3
    finally:
        proxy.close()
    gone = driver.client(sandbox.api_key, base_url=sandbox.base_url, proxy_url=url, retries=0)
    with pytest.raises(ConnectionError) as unreachable:
        driver.send(gone, "27821234567", "hi")
    texts += [str(unreachable.value), repr(unreachable.value), str(unreachable.value.__cause__)]
    assert "***@127.0.0.1" in repr(client)
    everything = "\n".join(texts) + caplog.text
    assert password not in everything
    assert base64.b64encode(f"team:{password}".encode()).decode() not in everything


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    client_cert = ca.issue_cert("client@example.org")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(folder / "client.pem"))
    client_cert.cert_chain_pems[0].write_to_path(str(folder / "client-cert.pem"))
    client_cert.private_key_pem.write_to_path(str(folder / "client-key.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    return {"folder": folder, "server": context}


def test_a_ca_bundle_and_a_client_certificate(driver: Driver, tls: dict[str, Any]) -> None:
    folder = tls["folder"]
    with hostile(serve_accepted, tls=tls["server"]) as server:
        client = driver.client(
            KEY,
            base_url=server.url,
            ca_bundle=folder / "ca.pem",
            client_cert=(folder / "client-cert.pem", folder / "client-key.pem"),
        )
        assert driver.send(client, "27821234567", "over TLS").all_accepted
        one_file = driver.client(
            KEY, base_url=server.url, ca_bundle=folder / "ca.pem", client_cert=folder / "client.pem"
        )
        assert driver.send(one_file, "27821234568", "again").all_accepted
        untrusted = driver.client(KEY, base_url=server.url, retries=0)
        with pytest.raises(ConnectionError, match="certificate was refused; nothing was sent"):
            driver.send(untrusted, "27821234569", "who are you")
    assert len(server.requests) == 2


def test_a_pool_manager_of_your_own_brings_its_tls_and_proxy_settings(
    tls: dict[str, Any],
) -> None:
    """The client's pool is made as the caller's PoolManager makes pools: its CA and client
    certificate apply, a ProxyManager's proxy carries the requests, and its own pools stay as
    they were (none: it was never used)."""
    import urllib3

    from clickatell_sms import Client

    folder = tls["folder"]
    trusting = urllib3.PoolManager(
        ca_certs=str(folder / "ca.pem"),
        cert_file=str(folder / "client-cert.pem"),
        key_file=str(folder / "client-key.pem"),
    )
    relay = Relay()
    forwarding = urllib3.ProxyManager(relay.url)
    try:
        with hostile(serve_accepted, tls=tls["server"]) as secure, hostile(serve_accepted) as plain:
            with Client(KEY, base_url=secure.url, http_client=trusting, retries=0) as client:
                assert client.send("27821234567", "over your TLS").all_accepted
            with Client(KEY, base_url=plain.url, http_client=forwarding, retries=0) as client:
                assert client.send("27821234568", "through your proxy").all_accepted
    finally:
        relay.close()
    assert len(secure.requests) == len(plain.requests) == 1
    assert relay.targets == [f"POST {plain.url}/messages"]
    assert len(trusting.pools) == len(forwarding.pools) == 0


def test_tls_files_are_checked_when_the_client_is_made(driver: Driver, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as missing:
        driver.client(KEY, ca_bundle=tmp_path / "nope.pem")
    assert missing.value.field == "ca_bundle"
    (tmp_path / "bad.pem").write_text("not a certificate")
    with pytest.raises(ValidationError) as unreadable:
        driver.client(KEY, client_cert=tmp_path / "bad.pem")
    assert unreadable.value.field == "client_cert"


def test_a_pool_or_session_of_your_own(driver: Driver, sandbox: Sandbox) -> None:
    if driver.kind == "sync":
        import urllib3

        own: Any = urllib3.PoolManager(maxsize=2)
        client = driver.client(sandbox.api_key, base_url=sandbox.base_url, http_client=own)
        assert driver.send(client, "27821234567", "mine").all_accepted
        client.close()
        assert own.request("GET", sandbox.base_url + "/public-client/balance").status == 401
    else:
        import aiohttp

        async def make() -> Any:
            return aiohttp.ClientSession()

        own = driver.run(make())
        client = driver.client(sandbox.api_key, base_url=sandbox.base_url, http_client=own)
        assert driver.send(client, "27821234567", "mine").all_accepted
        driver.run(client.close())
        assert not own.closed  # the session is the caller's to close
        driver.run(own.close())
    assert len(sandbox.messages()) == 1


def test_clickatell_log_turns_logging_on_without_code(sandbox: Sandbox) -> None:
    code = (
        "import sys; from clickatell_sms import Client\n"
        "Client(sys.argv[1], base_url=sys.argv[2]).send('27821234567', 'hi')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CLICKATELL_LOG": "debug"}
    proc = subprocess.run(
        [sys.executable, "-c", code, sandbox.api_key, sandbox.base_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert "DEBUG clickatell_sms: POST /messages (request 1 of 1, json)" in proc.stderr
    assert sandbox.api_key not in proc.stderr
    quiet = subprocess.run(
        [sys.executable, "-c", code, sandbox.api_key, sandbox.base_url],
        capture_output=True,
        text=True,
        env={**env, "CLICKATELL_LOG": ""},
        timeout=60,
        check=True,
    )
    assert quiet.stderr == ""


def test_importing_the_sdk_loads_nothing_async() -> None:
    code = (
        "import sys, clickatell_sms\n"
        "from clickatell_sms import Client, AsyncClient\n"
        "Client('k', base_url='http://127.0.0.1:9')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('asyncio', 'aiohttp')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_without_aiohttp_the_async_client_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['aiohttp'] = None\n"
        "from clickatell_sms import AsyncClient\n"
        "try:\n    AsyncClient('k', base_url='http://127.0.0.1:9')\n"
        "except ModuleNotFoundError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'clickatell-sms[async]'" in out.stdout


# -- what only the asyncio client has -----------------------------------------------------------


def test_100_concurrent_sends_with_half_a_second_of_latency_on_one_thread(
    sandbox: Sandbox,
) -> None:
    from clickatell_sms import AsyncClient

    sandbox.set_faults(Faults(latency=0.5))

    async def main() -> tuple[float, int]:
        async with AsyncClient(sandbox.api_key, base_url=sandbox.base_url) as client:
            threads = threading.active_count()
            started = time.monotonic()
            results = await asyncio.gather(
                *(client.send(number, "at once") for number in numbers(100))
            )
            elapsed = time.monotonic() - started
            assert all(r.all_accepted for r in results)
            return elapsed, threading.active_count() - threads

    elapsed, new_threads = asyncio.run(main())
    assert elapsed < 3.0, elapsed
    assert new_threads == 0
    assert len(sandbox.messages()) == 100


def test_a_task_cancelled_after_its_request_went_out_reports_it_unknown(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    from clickatell_sms import AsyncClient

    caplog.set_level(logging.WARNING, logger="clickatell_sms")
    sandbox.set_faults(Faults(latency=1.5))
    ended: list[Attempt] = []

    async def main() -> None:
        async with AsyncClient(
            sandbox.api_key, base_url=sandbox.base_url, on_response=ended.append
        ) as client:
            task = asyncio.create_task(
                client.send(["27821234567", "27821234568"], "hi", client_message_id="ref-7")
            )
            while not sandbox.requests_seen:  # the body is there: the sandbox has the request
                await asyncio.sleep(0.02)
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as stopped:
                await task
            # What Client.send's Ctrl-C carries: the request that was out, for the notice.
            unknown = stopped.value.outcome_unknown  # type: ignore[attr-defined]
            assert unknown.recipients == ["27821234567", "27821234568"]
            assert unknown.client_message_id == "ref-7"
            assert unknown.partial is None

    asyncio.run(main())
    time.sleep(1.8)  # past the sandbox's answer: nothing more arrives
    assert sandbox.requests_seen == 1  # never resent
    assert len(sandbox.messages()) == 2  # it did arrive: exactly why it is "unknown"
    assert [(a.outcome, a.maybe_sent) for a in ended] == [("cancelled", True)]
    warning = "\n".join(r.getMessage() for r in caplog.records)
    assert "cancelled after it went out: outcome unknown for 2 recipient(s)" in warning
    assert "ref-7" in warning


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_stop_while_a_request_is_out_leaves_the_same_outcome_unknown(
    sandbox: Sandbox, kind: str
) -> None:
    """Ctrl-C in the middle of a send of two requests, as the answer to the second comes in:
    the first request's results are known, the second's recipients are unknown, on both
    clients alike."""
    from clickatell_sms import AsyncClient, Client

    answered: list[Attempt] = []

    def stop_at_the_second_answer(attempt: Attempt) -> None:
        answered.append(attempt)
        if len(answered) == 2:
            raise KeyboardInterrupt

    to = numbers(250)
    settings: dict[str, Any] = {
        "base_url": sandbox.base_url,
        "on_response": stop_at_the_second_answer,
    }
    with pytest.raises(KeyboardInterrupt) as stopped:
        if kind == "sync":
            with Client(sandbox.api_key, **settings) as client:
                client.send(to, "hi", client_message_id="ref-8")
        else:

            async def main() -> None:
                async with AsyncClient(sandbox.api_key, **settings) as client:
                    await client.send(to, "hi", client_message_id="ref-8")

            asyncio.run(main())
    unknown = stopped.value.outcome_unknown  # type: ignore[attr-defined]
    assert unknown.recipients == to[200:]
    assert unknown.client_message_id == "ref-8"
    assert [r.to for r in unknown.partial] == to[:200]
    assert unknown.partial.all_accepted
    assert len(sandbox.messages()) == 250  # both reached it: none was resent


def test_async_bulk_matches_the_threaded_engine_and_resumes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    from clickatell_sms import AsyncClient, Client

    to = numbers(1000)
    to[500] = to[10]  # a repeat, reported once by both

    async def bulk(journal: Path, resume: bool) -> Any:
        async with AsyncClient(sandbox.api_key, base_url=sandbox.base_url) as client:
            return await client.send_many(to, "bulk", journal=journal, resume=resume)

    done = asyncio.run(bulk(tmp_path / "a.journal", False))
    with Client(sandbox.api_key, base_url=sandbox.base_url) as client:
        threads = client.send_many(to, "bulk 2", journal=tmp_path / "s.journal")
    for summary in (done, threads):
        assert (summary.accepted, summary.duplicates, summary.unknown) == (999, 1, 0)
    again = asyncio.run(bulk(tmp_path / "a.journal", True))
    assert again.earlier == 1000 and again.batches == 0
    assert len(sandbox.messages()) == 999 * 2  # the resume sent nothing


def test_cancelling_async_bulk_journals_the_batch_in_flight_as_unknown(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    from clickatell_sms import AsyncClient

    sandbox.set_faults(Faults(latency=2.0))
    journal = tmp_path / "run.journal"

    async def first() -> Any:
        async with AsyncClient(sandbox.api_key, base_url=sandbox.base_url) as client:
            task = asyncio.create_task(
                client.send_many(numbers(400), "bulk", journal=journal, concurrency=1)
            )
            while not sandbox.requests_seen:
                await asyncio.sleep(0.02)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError as exc:
                return exc.bulk_summary  # type: ignore[attr-defined]
            raise AssertionError("not cancelled")

    summary = asyncio.run(first())
    assert summary.unknown == 200 and summary.stopped == "interrupted"
    assert len(summary.unknown_batches) == 1
    time.sleep(2.2)
    sandbox.set_faults(Faults())

    async def resume() -> Any:
        async with AsyncClient(sandbox.api_key, base_url=sandbox.base_url) as client:
            return await client.send_many(numbers(400), "bulk", journal=journal, resume=True)

    resumed = asyncio.run(resume())
    # The batch that was out is never sent again; the one never started is.
    assert resumed.accepted == 200 and resumed.unknown == 200
    assert sandbox.requests_seen == 2
