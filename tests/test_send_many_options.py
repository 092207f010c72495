"""`send_many` takes every option `send` takes: the spec's fields, and how a request travels."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from clickatell_sms import Client
from clickatell_sms.errors import ValidationError
from clickatell_sms.sandbox import Sandbox


def test_send_many_with_the_http_integration_sends_every_row_by_get() -> None:
    numbers = [f"2782555{i:04d}" for i in range(250)]
    with Sandbox(api_keys=["k"]) as sb, Client("k", base_url=sb.base_url) as client:
        summary = client.send_many(numbers, "hi", integration="http", concurrency=2)
        records = sb.messages()
    assert summary.accepted == 250
    assert {r.format for r in records} == {"http"}
    assert sorted(r.to for r in records) == numbers


def test_send_many_passes_the_spec_fields_to_every_request() -> None:
    numbers = [f"2782666{i:04d}" for i in range(210)]
    with Sandbox(api_keys=["k"]) as sb, Client("k", base_url=sb.base_url) as client:
        summary = client.send_many(numbers, "hi", validity_period=90, charset="ascii")
        records = sb.messages()
    assert summary.accepted == 210
    assert {(r.validity_period, r.charset) for r in records} == {(90, "ASCII")}


# -- one definition of the keywords (BulkOptions) serves every entry point -------------------

USER_CODE = """\
from clickatell_sms import AsyncClient, Client
from clickatell_sms.bulk import BulkSummary, send_many


def good(client: Client) -> BulkSummary:
    return client.send_many(["+27821234567"], "hi", concurrency=2, stop_after=None, validity_period=90)


def bad_keyword(client: Client) -> None:
    client.send_many(["+27821234567"], "hi", concurency=2)


def bad_type(client: Client) -> None:
    send_many(client, ["+27821234567"], "hi", validity_period="6 hours")


async def bad_async(client: AsyncClient) -> None:
    await client.send_many(["+27821234567"], "hi", stop_after="3")
"""


def test_mypy_strict_catches_a_wrong_keyword_or_type_in_a_users_send_many(tmp_path: Path) -> None:
    """The keywords are `**Unpack[BulkOptions]`, not `**Any`: a type checker still sees each one."""
    script = tmp_path / "user.py"
    script.write_text(USER_CODE, encoding="utf-8")
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-executable",
            sys.executable,
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--config-file",
            "",
            str(script),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert errors == [
        'user.py:10: error: Unexpected keyword argument "concurency" for "send_many" of "Client";'
        ' did you mean "concurrency"?  [call-arg]',
        'user.py:14: error: Argument "validity_period" to "send_many" has incompatible type'
        ' "str"; expected "timedelta | int"  [arg-type]',
        'user.py:18: error: Argument "stop_after" to "send_many" of "AsyncClient" has'
        ' incompatible type "str"; expected "int | None"  [arg-type]',
    ], checked.stdout


def test_an_unknown_keyword_is_a_type_error_naming_it_on_both_clients() -> None:
    from clickatell_sms import AsyncClient

    async def on_the_loop(base_url: str) -> None:
        async with AsyncClient("k", base_url=base_url) as client:
            with pytest.raises(TypeError, match="colour"):
                await client.send_many(["27820000001"], "hi", colour="red")  # type: ignore[call-arg]

    with Sandbox(api_keys=["k"]) as sb, Client("k", base_url=sb.base_url) as client:
        with pytest.raises(TypeError, match="unexpected keyword arguments: colour"):
            client.send_many(["27820000001"], "hi", colour="red")  # type: ignore[call-arg]
        asyncio.run(on_the_loop(sb.base_url))
        assert sb.messages() == []


# -- the options are checked once, before anything is sent -------------------------------------


@pytest.mark.parametrize(
    ("options", "field", "problem"),
    [
        ({"validity_period": 0}, "validity_period", "is 0 minutes; must be from 1 to 10080"),
        ({"charset": "EBCDIC"}, "charset", "must be one of"),
        ({"from_": "not a number"}, "from_", ""),
        ({"integration": "http", "validity_period": 5}, "validity_period", "GET send"),
        ({"integration": "ftp"}, "integration", "'rest' (POST) or 'http' (GET)"),
        ({"timeout": -1}, "timeout", "> 0"),
        ({"retries": -1}, "max_retries", "negative"),
        ({"extra_headers": {"X-Trace": "a\nb"}}, "extra_headers['X-Trace']", "line breaks"),
    ],
)
def test_a_bad_option_is_refused_before_any_request(
    options: dict[str, Any], field: str, problem: str
) -> None:
    """As `Client.send` refuses it: otherwise every request, so every row, fails the same way."""
    from clickatell_sms import AsyncClient

    async def on_the_loop(base_url: str) -> None:
        async with AsyncClient("k", base_url=base_url) as client:
            with pytest.raises(ValidationError) as raised:
                await client.send_many(["27820000001"], "hi", **options)
            assert raised.value.field == field and problem in raised.value.problem

    with Sandbox(api_keys=["k"]) as sb, Client("k", base_url=sb.base_url) as client:
        with pytest.raises(ValidationError) as raised:
            client.send_many(["27820000001", "27820000002"], "hi", **options)
        assert raised.value.field == field and problem in raised.value.problem
        with pytest.raises(ValidationError) as sent_alone:
            client.send(["27820000001"], "hi", **options)
        assert sent_alone.value.field == field  # the same check as a single send's
        asyncio.run(on_the_loop(sb.base_url))
        assert sb.requests_seen == 0  # not one request, from either client
