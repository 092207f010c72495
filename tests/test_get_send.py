"""The HTTP integration's GET send: the query on the wire, the round trip, and the key's hygiene.

The key travels in the URL here, so every place a URL can surface is checked: the exception and
its chain (urllib3's exceptions quote the URL), tracebacks, urllib3's own DEBUG and WARNING log
lines, our logs, reprs, and raw answers from a server that echoes the request line back.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from clickatell_sms import (
    APIError,
    AuthenticationError,
    ClickatellError,
    Client,
    ClientConfig,
    ConnectionError,
    OutcomeUnknownError,
    RateLimitError,
    RetryPolicy,
    ValidationError,
)
from clickatell_sms.sandbox import CANNOT_ROUTE_NUMBER, Faults, Sandbox

from .test_platform import Canned, serve_canned

KEY = "s3cr3t+K3y/with=odd&chars"  # every character quote() must encode, to test both forms
QUOTED_KEY = quote(KEY, safe="")
FAST = RetryPolicy(max_retries=2, backoff_factor=0.0)
ACCEPTED = {
    "messages": [{"apiMessageId": "a1", "accepted": True, "to": "27821234567"}],
    "errorCode": None,
    "error": None,
    "errorDescription": None,
}


@pytest.fixture
def canned() -> Iterator[Canned]:
    with serve_canned() as state:
        yield state


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(api_keys=(KEY,), faults=Faults(retry_after=0)) as sb:
        yield sb


def make(base_url: str, **settings: Any) -> Client:
    options: dict[str, Any] = {"retries": FAST, "timeout": 5, "integration": "http"} | settings
    return Client(KEY, base_url=base_url, **options)


def assert_clean(text: str) -> None:
    assert KEY not in text
    assert QUOTED_KEY not in text


# -- what goes on the wire ----------------------------------------------------------------------


def test_the_query_is_exactly_what_the_spec_says(canned: Canned) -> None:
    canned.answer(
        {
            "messages": [
                {"apiMessageId": "a1", "accepted": True, "to": "27821234567"},
                {"apiMessageId": "a2", "accepted": True, "to": "447911123456"},
            ]
        },
        202,
    )
    with make(canned.url) as client:
        result = client.send(
            ["+27 82 123 4567", "+44 7911 123456"],
            "a b+c,d&e=f?g#h%i/€😀\nend",
            from_="+27 83 000 0001",
        )
    assert [item.api_message_id for item in result] == ["a1", "a2"]
    assert canned.request_lines == [
        "GET /messages/http/send"
        "?to=27821234567,447911123456"  # style form, explode false: one value, literal commas
        "&content=a%20b%2Bc%2Cd%26e%3Df%3Fg%23h%25i%2F%E2%82%AC%F0%9F%98%80%0Aend"
        "&from=27830000001"
        f"&apiKey={QUOTED_KEY} HTTP/1.1"
    ]
    headers = canned.headers[0]
    assert "Authorization" not in headers  # the key travels once, in the query
    assert headers["Accept"] == "application/json"


def test_one_recipient_is_one_to_value_never_a_list_repr(canned: Canned) -> None:
    canned.answer(ACCEPTED, 202)
    with make(canned.url) as client:
        client.send("27821234567", "x")
    (line,) = canned.request_lines
    query = line.split(" ")[1].split("?", 1)[1]
    assert query.startswith("to=27821234567&content=x&apiKey=")
    for sign in ("[", "]", "'", "%5B", "%27", "+"):
        assert sign not in query.replace(QUOTED_KEY, "")


@pytest.mark.parametrize(
    "content",
    [
        "plus + sign, and a comma",
        "a & b = c; d?e#f",
        "€ ~ ^ { } [ ] \\ |",
        "emoji 😀👍🏽 and ж",
        "line one\nline two\r\nthree\ttab",
        "%20 is not a space, %2B is not a plus",
        "  leading and trailing spaces  ",
        "+",
    ],
)
def test_content_round_trips_exactly_through_the_sandbox(sandbox: Sandbox, content: str) -> None:
    with make(sandbox.base_url) as client:
        result = client.send(["27821234567", "27821234568"], content)
    assert result.all_accepted
    records = sandbox.messages()
    assert [r.content for r in records] == [content, content]
    assert [r.to for r in records] == ["27821234567", "27821234568"]
    assert {r.format for r in records} == {"http"}


def test_from_reaches_a_two_way_sandbox() -> None:
    with Sandbox(api_keys=(KEY,), two_way_numbers=["27830000001"]) as sb, make(sb.base_url) as c:
        assert c.send("27821234567", "hi", from_="+27830000001").all_accepted
        assert sb.messages()[0].from_ == "27830000001"


# -- same behaviour as the POST ------------------------------------------------------------------


def test_results_duplicates_and_batches_are_those_of_the_post(sandbox: Sandbox) -> None:
    numbers = [f"2782{i:07d}" for i in range(250)]
    with make(sandbox.base_url) as client:
        result = client.send([*numbers, CANNOT_ROUTE_NUMBER, numbers[0]], "batch")
    assert len(result) == 252
    assert len(result.raw_responses) == 2  # 251 distinct numbers: 200 + 51
    assert result[250].accepted is False and result[250].error_code == 114
    assert result[251].duplicate_of == 0
    assert len(sandbox.messages()) == 250
    assert all(r.format == "http" for r in sandbox.messages())


def test_a_503_is_retried_and_a_429_becomes_a_rate_limit_error(sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(rate_503=1.0, max_faults=2, retry_after=0))
    with make(sandbox.base_url) as client:
        assert client.send("27821234567", "retried").all_accepted
        assert sandbox.faults_injected == 2
        with pytest.raises(RateLimitError) as caught:
            client.send("27821234567", "x", extra_headers={"X-Sandbox-Fault": "429"})
    assert caught.value.status == 429
    assert len(sandbox.messages()) == 1


def test_a_refused_request_is_a_typed_error_with_its_code() -> None:
    with (
        Sandbox(api_keys=(KEY,), one_way=True) as sb,
        make(sb.base_url) as client,
        pytest.raises(APIError) as caught,
    ):
        client.send("27821234567", "x", from_="27830000001")  # one-way integration
    assert caught.value.error_code == 607


def test_integration_is_a_client_setting_with_a_per_call_override(sandbox: Sandbox) -> None:
    with Client(KEY, base_url=sandbox.base_url) as client:
        assert client.integration == "rest"
        client.send("27821234567", "post")
        client.send("27821234567", "get", integration="http")
    with make(sandbox.base_url, format="xml") as client:  # format only shapes the POST
        assert client.integration == "http"
        client.send("27821234567", "get again")
        client.send("27821234567", "posted as xml", integration="rest")
    assert [(r.content, r.format) for r in sandbox.messages()] == [
        ("post", "json"),
        ("get", "http"),
        ("get again", "http"),
        ("posted as xml", "xml"),
    ]


@pytest.mark.parametrize("value", ["HTTP", "get", "", None, 1])
def test_an_unknown_integration_is_refused(value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        Client(KEY, base_url="http://127.0.0.1:9", integration=value)
    assert caught.value.field == "integration"


def test_integration_is_a_config_setting(sandbox: Sandbox) -> None:
    config = ClientConfig(api_key=KEY, base_url=sandbox.base_url, integration="http")
    with Client(config=config) as client:
        assert client.config is config and client.integration == "http"
        assert "integration='http'" in repr(config) and "integration='http'" in repr(client)
        client.send("27821234567", "get")
        client.send("27821234567", "post", integration="rest")  # the per-call override stays
    assert ClientConfig(api_key=KEY).integration == "rest"
    assert config.replace(integration="rest").integration == "rest"
    assert [(r.content, r.format) for r in sandbox.messages()] == [
        ("get", "http"),
        ("post", "json"),
    ]


def test_the_integration_argument_wins_over_the_config(sandbox: Sandbox) -> None:
    config = ClientConfig(api_key=KEY, base_url=sandbox.base_url, integration="http")
    with Client(config=config, integration="rest") as client:
        assert client.integration == "rest" and client.config.integration == "rest"
        assert client.config.replace(integration="http") == config  # nothing else changed
        client.send("27821234567", "post")
    with Client(config=config, integration="http") as client:
        assert client.config is config  # the same setting: the same object
    with pytest.raises(ValidationError) as caught:
        Client(config=config, integration=None)  # type: ignore[arg-type]
    assert caught.value.field == "integration"
    assert [r.format for r in sandbox.messages()] == ["json"]


@pytest.mark.parametrize("value", ["HTTP", "get", " http", "1", None, 1])
def test_a_config_with_an_unknown_integration_is_refused(value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        ClientConfig(api_key=KEY, integration=value)
    assert caught.value.field == "integration"
    assert caught.value.value == value


def test_integration_is_read_from_the_environment(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLICKATELL_INTEGRATION", "http")
    assert ClientConfig.from_env(api_key=KEY).integration == "http"
    assert ClientConfig.from_env(api_key=KEY, integration="rest").integration == "rest"
    assert ClientConfig(api_key=KEY).integration == "rest"  # only from_env reads the environment
    with Client(KEY, base_url=sandbox.base_url) as client:
        assert client.integration == "http"
        client.send("27821234567", "get")
    with Client(KEY, base_url=sandbox.base_url, integration="rest") as client:
        assert client.integration == "rest"  # an argument wins over the environment
        client.send("27821234567", "post")
    monkeypatch.setenv("CLICKATELL_INTEGRATION", "")  # empty: as if unset
    with Client(KEY, base_url=sandbox.base_url) as client:
        assert client.integration == "rest"
    assert [(r.content, r.format) for r in sandbox.messages()] == [
        ("get", "http"),
        ("post", "json"),
    ]


@pytest.mark.parametrize("value", ["HTTP", "get", "rest,http", "none"])
def test_an_unknown_integration_in_the_environment_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CLICKATELL_INTEGRATION", value)
    for make_it in (
        lambda: ClientConfig.from_env(api_key=KEY),
        lambda: Client(KEY, base_url="http://127.0.0.1:9"),
    ):
        with pytest.raises(ValidationError) as caught:
            make_it()
        assert caught.value.field == "integration"
        assert caught.value.value == value
        assert "CLICKATELL_INTEGRATION" in str(caught.value)
    # An explicit argument means the variable is never read, so it cannot fail.
    with Client(KEY, base_url="http://127.0.0.1:9", integration="http") as client:
        assert client.integration == "http"


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"binary": True}, "binary"),
        ({"client_message_id": "ref-1"}, "client_message_id"),
        ({"validity_period": 60}, "validity_period"),
        ({"charset": "ASCII"}, "charset"),
        ({"user_data_header": "0605040B8423F0"}, "user_data_header"),
        ({"client_message_id": "r", "charset": "ASCII"}, "client_message_id, charset"),
    ],
)
def test_options_the_get_send_cannot_carry_are_refused_by_name(
    canned: Canned, options: dict[str, Any], named: str
) -> None:
    canned.answer(ACCEPTED, 202)
    with make(canned.url) as client, pytest.raises(ValidationError) as caught:
        client.send("27821234567", "x", **options)
    assert caught.value.field == named
    assert "only content, to and from_" in str(caught.value)
    assert canned.request_lines == []  # nothing was sent


def test_options_at_the_contracts_default_change_nothing_so_the_get_send_takes_them(
    canned: Canned,
) -> None:
    """binary=False and charset="UTF-8" are what the API does anyway: nothing to refuse."""
    canned.answer(ACCEPTED, 202)
    with make(canned.url) as client:
        client.send("27821234567", "x", binary=False, charset="utf-8")
    (line,) = canned.request_lines
    assert "binary" not in line and "charset" not in line


def test_scheduled_delivery_is_refused_too(canned: Canned) -> None:
    from datetime import UTC, datetime, timedelta

    canned.answer(ACCEPTED, 202)
    with make(canned.url) as client, pytest.raises(ValidationError) as caught:
        client.send(
            "27821234567", "x", scheduled_delivery_time=datetime.now(UTC) + timedelta(days=1)
        )
    assert caught.value.field == "scheduled_delivery_time"


def test_text_utf8_cannot_carry_is_refused(canned: Canned) -> None:
    canned.answer(ACCEPTED, 202)
    with make(canned.url) as client, pytest.raises(ValidationError) as caught:
        client.send("27821234567", "lone \ud800 surrogate")
    assert caught.value.field == "content" and "U+D800" in str(caught.value)
    assert canned.request_lines == []


# -- the key ------------------------------------------------------------------------------------


def _everything_about(error: BaseException) -> str:
    """Every text a traceback printer or an error tracker could take from the exception."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    raw = getattr(error, "raw", None)
    if raw is not None:
        texts += [repr(raw), raw.body.decode("latin-1"), repr(dict(raw.headers))]
    link = error.__cause__ or error.__context__
    while link is not None:
        texts += [str(link), repr(link)]
        link = link.__cause__ or link.__context__
    return "\n".join(texts)


def _failures(
    sandbox: Sandbox, closed_url: str, **settings: Any
) -> list[tuple[str, ClickatellError]]:
    """Provoke every kind of failure of a GET send, and collect the errors."""
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("refused", {}, closed_url),
        ("drop-before-body", {"X-Sandbox-Fault": "drop-before-body"}, sandbox.base_url),
        ("drop-after-body", {"X-Sandbox-Fault": "drop-after-body"}, sandbox.base_url),
        ("500", {"X-Sandbox-Fault": "500"}, sandbox.base_url),
        ("503", {"X-Sandbox-Fault": "503"}, sandbox.base_url),
        ("429", {"X-Sandbox-Fault": "429"}, sandbox.base_url),
        ("read-timeout", {"X-Sandbox-Latency": "1"}, sandbox.base_url),
    ]
    found: list[tuple[str, ClickatellError]] = []
    for name, headers, url in cases:
        with make(url, timeout=(2, 0.3), **settings) as client:
            try:
                client.send(["27821234567"], "x", extra_headers=headers)
            except ClickatellError as exc:
                found.append((name, exc))
            else:
                pytest.fail(f"{name}: no error")
    return found


def test_the_key_is_in_no_error_cause_traceback_or_raw_answer(sandbox: Sandbox) -> None:
    with Sandbox() as gone:
        closed_url = gone.base_url
    failures = _failures(sandbox, closed_url)
    kinds = {name: type(error) for name, error in failures}
    assert kinds["refused"] is ConnectionError
    assert kinds["drop-after-body"] is OutcomeUnknownError
    assert kinds["read-timeout"] is OutcomeUnknownError
    assert kinds["429"] is RateLimitError
    for name, error in failures:
        assert_clean(_everything_about(error))
        if name in ("refused", "drop-before-body", "drop-after-body", "read-timeout"):
            # No urllib3 exception (whose text quotes the URL) hangs off the error.
            assert error.__cause__ is None and error.__context__ is None, name


def test_a_wrong_key_is_not_repeated_back(sandbox: Sandbox) -> None:
    wrong = "wrong+key/0123"
    with (
        Client(wrong, base_url=sandbox.base_url, integration="http") as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.send("27821234567", "x")
    text = _everything_about(caught.value)
    assert wrong not in text and quote(wrong, safe="") not in text


def test_a_url_echoed_in_the_answer_is_scrubbed_from_raw_and_errors(canned: Canned) -> None:
    canned.echo = True
    canned.answer(
        b'{"messages": [], "errorCode": 101, "error": "Invalid or missing parameters",'
        b' "errorDescription": "bad request: ECHO"}',
        400,
    )
    canned.answer(
        b'{"messages": [{"apiMessageId": "a1", "accepted": true, "to": "27821234567",'
        b' "errorDescription": "ECHO"}]}',
        202,
    )
    with make(canned.url) as client:
        with pytest.raises(APIError) as caught:
            client.send("27821234567", "x")
        assert caught.value.error_code == 101
        raw = caught.value.raw
        assert raw is not None and b"apiKey=***" in raw.body
        assert "apiKey=***" in raw.headers["X-Echo"]  # still case-insensitive headers
        assert_clean(_everything_about(caught.value))
        (accepted,) = client.send("27821234567", "y")
    assert accepted.accepted and accepted.raw is not None
    assert_clean(accepted.raw.body.decode() + repr(dict(accepted.raw.headers)))
    assert_clean(repr(accepted) + repr(accepted.description))


@pytest.mark.parametrize("through", ["direct", "urllib3"])
def test_the_key_is_in_no_log_line_at_debug(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture, through: str
) -> None:
    # Directly, the client's own connections log nothing of the URL; through urllib3 (a pool of
    # the caller's own, or a proxy), urllib3 logs every request line, and the guard masks it.
    import urllib3

    caplog.set_level(logging.DEBUG)
    with Sandbox() as gone:
        closed_url = gone.base_url
    pool: dict[str, Any] = {"http_client": urllib3.PoolManager()} if through == "urllib3" else {}
    with make(sandbox.base_url, **pool) as client:
        client.send(["27821234567", "27821234568"], "logged")
    _failures(sandbox, closed_url, **pool)
    records = caplog.records
    urllib3_lines = [r.getMessage() for r in records if r.name.startswith("urllib3")]
    if through == "urllib3":
        # Not vacuous: urllib3 did log the request lines (the retries too), with the URL...
        assert sum("GET /messages/http/send?to=" in line for line in urllib3_lines) > 2
        # ...and the key's place in them is masked.
        assert any("apiKey=***" in line for line in urllib3_lines)
    assert any(r.name == "clickatell_sms.retry" and "retrying" in r.getMessage() for r in records)
    assert_clean(caplog.text)
    for record in records:
        assert_clean(record.getMessage())
    assert any(
        r.name == "clickatell_sms" and "GET /messages/http/send" in r.getMessage() for r in records
    )


def test_a_handler_on_urllib3_itself_sees_no_key(sandbox: Sandbox) -> None:
    import urllib3

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    target = logging.getLogger("urllib3.connectionpool")
    level = target.level
    target.addHandler(handler)
    target.setLevel(logging.DEBUG)
    try:
        with make(sandbox.base_url, http_client=urllib3.PoolManager()) as client:
            client.send("27821234567", "direct")
    finally:
        target.removeHandler(handler)
        target.setLevel(level)
    assert any("/messages/http/send" in line for line in seen)
    for line in seen:
        assert_clean(line)


def test_long_texts_put_fewer_recipients_in_each_get_request() -> None:
    """The GET send keeps its URL under 8 KB: a long text means smaller batches, never a
    refused request (or a truncated URL) at a proxy."""
    text = "€" * 600  # 5,400 bytes once URL-encoded, 8 GSM-7 parts
    numbers = [f"2782{i:07d}" for i in range(200)]
    with Sandbox(api_keys=(KEY,), balance=10**6) as sandbox, make(sandbox.base_url) as client:
        result = client.send(numbers, text)
    assert len(result.raw_responses) == 2  # 200 recipients no longer fit one URL
    assert [r.number for r in result] == numbers
    assert result.all_accepted
    recorded = sandbox.messages()
    assert sorted(m.to for m in recorded) == numbers
    assert {m.content for m in recorded} == {text}


def test_a_text_too_long_for_any_url_is_refused_before_sending(sandbox: Sandbox) -> None:
    with make(sandbox.base_url) as client, pytest.raises(ValidationError) as caught:
        client.send(["27820000001"], "€" * 1000)  # 9,000 bytes once encoded
    assert caught.value.field == "content"
    assert "integration='rest'" in caught.value.problem
    assert sandbox.messages() == []
