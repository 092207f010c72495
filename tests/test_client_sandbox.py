"""The client against the sandbox: what reaches the wire, batching, faults and the API's quirks.

The sandbox reads requests with the generated models and records every accepted message, so
"what the sandbox recorded" is "what the API would have read". Faults are injected per request
(`X-Sandbox-Fault`) or by rate with a bound (`Faults(max_faults=...)`), which lets a test count
exactly how many times a message reached the server.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from clickatell_sms import (
    APIError,
    AuthenticationError,
    Client,
    OutcomeUnknownError,
    RateLimitError,
    RetryPolicy,
    ValidationError,
)
from clickatell_sms.config import Format
from clickatell_sms.sandbox import CANNOT_ROUTE_NUMBER, Faults, Quirks, Sandbox

KEY = "sandbox-test-key-8c1d2e"
TWO_WAY = "27830000001"
NUMBERS = [f"2782{i:07d}" for i in range(1000)]
FAST = RetryPolicy(max_retries=2, backoff_factor=0.0)
FORMATS: tuple[Format, ...] = ("json", "xml")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(api_keys=(KEY,), faults=Faults(retry_after=0)) as sb:
        yield sb


@pytest.fixture
def one_way() -> Iterator[Sandbox]:
    with Sandbox(api_keys=(KEY,), one_way=True) as sb:
        yield sb


@pytest.fixture
def two_way() -> Iterator[Sandbox]:
    with Sandbox(api_keys=(KEY,), two_way_numbers=(TWO_WAY,)) as sb:
        yield sb


def make(sb: Sandbox, fmt: Format = "json", **settings: Any) -> Client:
    options: dict[str, Any] = {"retries": FAST, "timeout": 5} | settings
    return Client(KEY, base_url=sb.base_url, format=fmt, **options)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_field_reaches_the_wire(two_way: Sandbox, fmt: Format) -> None:
    when = datetime.now(timezone(timedelta(hours=2))).replace(microsecond=0) + timedelta(days=1)
    with make(two_way, fmt) as client:
        result = client.send(
            ["+27 82 123 4567", "0027821234568"],
            "Hello {world} €",
            from_="+" + TWO_WAY,
            client_message_id=f"ref-{fmt}",
            scheduled_delivery_time=when,
            user_data_header=b"\x06\x05\x04\x0b\x84\x23\xf0",
            validity_period=timedelta(hours=2),
            charset="UTF-8",
        )
    assert result.all_accepted
    records = two_way.messages()
    assert [r.to for r in records] == ["27821234567", "27821234568"]
    assert [r.api_message_id for r in records] == [r.api_message_id for r in result]
    for record in records:
        assert record.format == fmt
        assert record.content == "Hello {world} €"
        assert record.from_ == TWO_WAY
        assert record.client_message_id == f"ref-{fmt}"
        assert record.scheduled_delivery_time == when.strftime("%Y-%m-%dT%H:%M:%S+0200")
        assert record.user_data_header == "0605040B8423F0"
        assert record.validity_period == 120
        assert record.charset == "UTF-8"
        assert record.binary is False


@pytest.mark.parametrize("fmt", FORMATS)
def test_binary_and_charset_reach_the_wire(sandbox: Sandbox, fmt: Format) -> None:
    with make(sandbox, fmt) as client:
        client.send("27821234567", "0A0B0C0D", binary=True, charset="ucs2-be", validity_period=5)
    (record,) = sandbox.messages()
    assert (record.binary, record.content, record.charset) == (True, "0A0B0C0D", "UCS2-BE")
    assert record.validity_period == 5


@pytest.mark.parametrize("fmt", FORMATS)
def test_450_recipients_are_three_requests_and_450_results(sandbox: Sandbox, fmt: Format) -> None:
    numbers = NUMBERS[:450]
    with make(sandbox, fmt) as client:
        result = client.send(numbers, "bulk")
    assert sandbox.requests_seen == 3
    assert len({r.request_id for r in sandbox.messages()}) == 3
    by_request: dict[str, int] = {}
    for record in sandbox.messages():
        by_request[record.request_id] = by_request.get(record.request_id, 0) + 1
    assert sorted(by_request.values(), reverse=True) == [200, 200, 50]
    assert len(result) == 450 and len(result.raw_responses) == 3
    assert [r.number for r in result] == numbers
    assert [r.index for r in result] == list(range(450))
    assert sorted(r.to for r in sandbox.messages()) == sorted(numbers)  # each exactly once
    recorded = {r.to: r.api_message_id for r in sandbox.messages()}
    assert all(r.api_message_id == recorded[r.number] for r in result)


def test_duplicates_are_reported_and_sent_once(sandbox: Sandbox) -> None:
    with make(sandbox) as client:
        result = client.send(["27821234567", "+27 82 123 4567", "27821234568"], "hi")
    assert [r.to for r in sandbox.messages()] == ["27821234567", "27821234568"]
    assert result[1].duplicate_of == 0 and not result[1].accepted


@pytest.mark.parametrize("fmt", FORMATS)
def test_rejected_recipients_come_back_per_recipient(two_way: Sandbox, fmt: Format) -> None:
    # The sandbox refuses numbers it cannot route; the rest of the request still goes.
    with make(two_way, fmt) as client:
        result = client.send(["27821234567", CANNOT_ROUTE_NUMBER], "hi", from_=TWO_WAY)
    first, second = result
    assert first.accepted
    assert not second.accepted and second.error_code == 114 and second.description


@pytest.mark.parametrize("fmt", FORMATS)
def test_wrong_key_is_an_authentication_error(sandbox: Sandbox, fmt: Format) -> None:
    made = Client("not-the-key", base_url=sandbox.base_url, format=fmt)
    with made as client, pytest.raises(AuthenticationError) as caught:
        client.send("27821234567", "hi")
    assert caught.value.status == 401 and caught.value.error_code == 108
    assert sandbox.messages() == []


# -- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["429", "503"])
def test_429_and_503_are_retried_and_sent_once(sandbox: Sandbox, fmt: Format, kind: str) -> None:
    rates: dict[str, Any] = {"rate_429": 1.0} if kind == "429" else {"rate_503": 1.0}
    sandbox.set_faults(Faults(max_faults=2, retry_after=0, **rates))
    with make(sandbox, fmt) as client:
        result = client.send("27821234567", "hi")
    assert result.all_accepted
    assert sandbox.requests_seen == 3 and sandbox.faults_injected == 2
    assert len(sandbox.messages()) == 1


def test_persistent_429_is_a_rate_limit_error_after_the_retries(sandbox: Sandbox) -> None:
    with make(sandbox) as client, pytest.raises(RateLimitError) as caught:
        client.send("27821234567", "hi", extra_headers={"X-Sandbox-Fault": "429"})
    assert caught.value.retry_after == 0 and caught.value.raw is not None
    assert sandbox.requests_seen == 3 and sandbox.messages() == []


def test_persistent_503_is_an_api_error_503(sandbox: Sandbox) -> None:
    with make(sandbox) as client, pytest.raises(APIError) as caught:
        client.send("27821234567", "hi", extra_headers={"X-Sandbox-Fault": "503"})
    assert caught.value.status == 503
    assert sandbox.requests_seen == 3 and sandbox.messages() == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_drop_after_body_is_outcome_unknown_and_sent_exactly_once(
    sandbox: Sandbox, fmt: Format
) -> None:
    with make(sandbox, fmt) as client, pytest.raises(OutcomeUnknownError) as caught:
        client.send(
            ["27821234567", "27821234568"],
            "hi",
            client_message_id="ref-9",
            extra_headers={"X-Sandbox-Fault": "drop-after-body"},
        )
    assert caught.value.recipients == ["27821234567", "27821234568"]
    assert caught.value.client_message_id == "ref-9"
    assert sandbox.requests_seen == 1
    assert [r.to for r in sandbox.messages()] == ["27821234567", "27821234568"]  # once, not twice


def test_drop_before_body_is_outcome_unknown_and_not_resent(sandbox: Sandbox) -> None:
    # Nothing was recorded, but the client cannot know that: it must not guess.
    with make(sandbox) as client, pytest.raises(OutcomeUnknownError):
        client.send("27821234567", "hi", extra_headers={"X-Sandbox-Fault": "drop-before-body"})
    assert sandbox.requests_seen == 1 and sandbox.messages() == []


def test_500_is_outcome_unknown_and_not_retried(sandbox: Sandbox) -> None:
    with make(sandbox) as client, pytest.raises(OutcomeUnknownError) as caught:
        client.send("27821234567", "hi", extra_headers={"X-Sandbox-Fault": "500"})
    assert caught.value.raw is not None and caught.value.raw.status == 500
    assert sandbox.requests_seen == 1


def test_a_slow_answer_past_the_read_timeout_is_outcome_unknown(sandbox: Sandbox) -> None:
    # The sandbox processes first and answers late: the message *was* sent.
    with make(sandbox) as client, pytest.raises(OutcomeUnknownError):
        client.send("27821234567", "hi", timeout=(2, 0.3), extra_headers={"X-Sandbox-Latency": "1"})
    assert sandbox.requests_seen == 1 and len(sandbox.messages()) == 1


def test_random_faults_never_send_anything_twice(sandbox: Sandbox) -> None:
    sandbox.set_faults(
        Faults(rate_429=0.2, rate_503=0.2, drop_after_body=0.1, retry_after=0), seed=7
    )
    sent_ok: list[str] = []
    unknown: list[str] = []
    with make(sandbox) as client:
        for number in NUMBERS[:60]:
            try:
                client.send(number, "hi")
                sent_ok.append(number)
            except OutcomeUnknownError as exc:
                unknown += exc.recipients
            except (RateLimitError, APIError):
                pass
    recorded = [r.to for r in sandbox.messages()]
    assert len(recorded) == len(set(recorded))  # nothing twice
    assert set(sent_ok) <= set(recorded) <= set(sent_ok) | set(unknown)
    assert sent_ok and unknown


def test_a_later_request_failing_keeps_the_earlier_results(sandbox: Sandbox) -> None:
    # 1st request passes, 2nd is dropped after processing; the 3rd is never sent.
    sandbox.set_faults(Faults(drop_after_body=0.5, max_faults=1), seed=_seed_failing_second())
    with make(sandbox) as client, pytest.raises(OutcomeUnknownError) as caught:
        client.send(NUMBERS[:450], "hi")
    error = caught.value
    assert error.partial is not None and [r.number for r in error.partial] == NUMBERS[:200]
    assert error.recipients == NUMBERS[200:400]
    recorded = [r.to for r in sandbox.messages()]
    assert sorted(recorded) == NUMBERS[:400]  # the third request never went


def _seed_failing_second() -> int:
    """A seed whose fault stream passes the first request and drops the second."""
    from clickatell_sms.sandbox.faults import FaultInjector

    for seed in range(1000):
        injector = FaultInjector(Faults(drop_after_body=0.5, max_faults=1), seed)
        if injector.decide(None, None).kind is None and injector.decide(None, None).kind:
            return seed
    raise AssertionError("no seed found")


# -- quirks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_request_level_error_with_http_200_raises(one_way: Sandbox, fmt: Format) -> None:
    one_way.set_quirks(Quirks(errors_with_200=True))
    with make(one_way, fmt) as client, pytest.raises(APIError) as caught:
        client.send("27821234567", "hi", from_="27831234567")  # not a two-way integration
    error = caught.value
    assert error.status == 200 and error.error_code == 607
    assert error.raw is not None and error.raw.status == 200
    assert one_way.messages() == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_legacy_string_errors_are_recognised(one_way: Sandbox, fmt: Format) -> None:
    one_way.set_quirks(Quirks(errors_with_200=True, legacy_string_errors=True))
    with make(one_way, fmt) as client, pytest.raises(APIError) as caught:
        client.send("27821234567", "hi", from_="27831234567")
    assert caught.value.error_code is None and caught.value.error


@pytest.mark.parametrize("fmt", FORMATS)
def test_extra_fields_and_missing_keys_do_not_break_parsing(sandbox: Sandbox, fmt: Format) -> None:
    sandbox.set_quirks(Quirks(extra_fields=True, omit_top_level_error_keys=True))
    with make(sandbox, fmt) as client:
        result = client.send(["27821234567", "27821234568"], "hi")
    assert result.all_accepted and len(sandbox.messages()) == 2


# -- validation happens before the wire -------------------------------------------------------


def test_a_schedule_in_the_past_sends_nothing(sandbox: Sandbox) -> None:
    with make(sandbox) as client, pytest.raises(ValidationError):
        client.send("27821234567", "hi", scheduled_delivery_time=datetime.now(UTC))
    assert sandbox.requests_seen == 0


@pytest.mark.parametrize("number", ["12345", "0821234567", "+0821234567", "1" * 20, "abc"])
def test_a_number_outside_the_client_rule_is_refused_before_anything_is_sent(
    sandbox: Sandbox, number: str
) -> None:
    """The server would take it (202, and 105 in its entry): the client's own rule, the spec's
    `x-client-pattern`, refuses it first."""
    with make(sandbox) as client, pytest.raises(ValidationError) as caught:
        client.send(["27821234567", number], "hi")
    assert caught.value.field == "to[1]"
    assert sandbox.requests_seen == 0


def test_retry_decisions_are_logged(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="clickatell_sms")
    sandbox.set_faults(Faults(rate_503=1.0, max_faults=1, retry_after=0))
    with make(sandbox) as client:
        client.send("27821234567", "hi")
    assert "retrying (retry 1 of 2): HTTP 503" in caplog.text
    assert KEY not in caplog.text


def test_sandbox_round_trip_is_fast(sandbox: Sandbox) -> None:
    with make(sandbox) as client:
        client.send("27821234567", "warm")
        started = time.perf_counter()
        for _ in range(20):
            client.send("27821234567", "hi")
    assert time.perf_counter() - started < 5


def test_a_refused_number_is_named_by_its_place_even_after_others_were_cached(
    sandbox: Sandbox,
) -> None:
    with make(sandbox) as client:
        client.send(NUMBERS[:3], "warm the number cache")
        with pytest.raises(ValidationError) as caught:
            client.send([NUMBERS[0], NUMBERS[1], "27 82 abc", NUMBERS[2]], "hello")
    assert caught.value.field == "to[2]"
    assert "letters" in caught.value.problem
    assert len(sandbox.messages()) == 3  # the refused request sent nothing


def test_debug_logging_times_a_look_up_only_when_it_is_on(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with make(sandbox) as client:
        caplog.set_level(logging.INFO, logger="clickatell_sms")  # whatever earlier tests left
        client.balance()
        assert "balance look-up: HTTP" not in caplog.text
        caplog.set_level(logging.DEBUG, logger="clickatell_sms")
        client.balance()
    assert re.search(r"balance look-up: HTTP 200, \d+ bytes in \d+\.\d ms", caplog.text)
