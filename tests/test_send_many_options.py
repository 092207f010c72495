"""`send_many` takes every option `send` takes: the spec's fields, and how a request travels."""

from __future__ import annotations

from clickatell_sms import Client
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
