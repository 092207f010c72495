"""The send's JSON answer is read straight into entries (`wire._read_as`): the same outcome as
reading it with the generated model, for good answers and bad ones alike."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clickatell_wire import operations
from clickatell_wire.http_types import Response, WireDecodeError

from clickatell_sms import wire

from .conftest import SEEDS

ENTRY = {"apiMessageId": "af750c2dc53e4e4c88c39b3b48756d3a", "accepted": True, "to": "27821234567"}
GOOD: list[Any] = [
    json.loads((SEEDS / "send-response.json").read_text()),
    {"messages": [ENTRY, {**ENTRY, "to": "27821234568"}]},
    {"messages": [{"accepted": True, "to": "27821234567"}]},  # no ID, no error fields
    {"messages": [{"accepted": False, "to": None, "errorCode": 105, "error": "Invalid"}]},
    {"messages": [{"errorCode": "105", "errorDescription": "a number as a string"}]},
    {"messages": []},
    {"error": "Authentication failed", "errorCode": 1, "errorDescription": "Invalid key"},
    {"messages": [ENTRY], "unknownField": {"ignored": True}},
    {},
]
BAD: list[Any] = [
    {"messages": [{**ENTRY, "accepted": None}]},  # accepted is not nullable
    {"messages": [{**ENTRY, "accepted": "yes"}]},
    {"messages": {"to": "27821234567"}},
    {"errorCode": "not a number"},
    {"messages": None},
    [ENTRY],
]


def _generated(response: Response) -> wire.Envelope:
    decoded = operations.decode_send_message(response)
    return wire._from_json(decoded)  # type: ignore[arg-type]


def _answer(document: Any) -> Response:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return Response(202, {"Content-Type": "application/json; charset=utf-8"}, body)


@pytest.mark.parametrize("document", GOOD)
def test_a_good_answer_reads_as_the_generated_model_reads_it(document: Any) -> None:
    response = _answer(document)
    assert wire.read_envelope(response) == _generated(response)


@pytest.mark.parametrize("document", [*BAD, b"{not json", b""])
def test_a_bad_answer_is_refused_as_the_generated_model_refuses_it(document: Any) -> None:
    response = _answer(document)
    with pytest.raises(WireDecodeError) as generated:
        _generated(response)
    with pytest.raises(WireDecodeError) as read:
        wire.read_envelope(response)
    assert str(read.value) == str(generated.value)
    assert read.value.response is response
