"""Every refusal the sandbox implements: status, Clickatell error code, texts, and a spec-valid body.

Each case is a real request over loopback. Refused requests must record nothing and charge
nothing, which every request-level case checks too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from clickatell_sms.sandbox import CATALOGUE, Sandbox
from clickatell_sms.sandbox.codes import ApiError
from tests.test_sandbox import (
    KEY,
    ROOT,
    assert_conforms,
    body_json,
    call,
    send_json,
    xsd_valid,
)

TWO_WAY = "27830000001"
VALID = {"content": "Hello", "to": ["27821234567"]}


@pytest.fixture
def one_way() -> Iterator[Sandbox]:
    with Sandbox(balance=Decimal("100")) as sb:
        yield sb


@pytest.fixture
def two_way() -> Iterator[Sandbox]:
    with Sandbox(two_way_numbers=[f"+{TWO_WAY}"]) as sb:
        yield sb


def assert_refused(
    sb: Sandbox,
    response: Any,
    status: int,
    code: int | None,
    error: str,
    description: str | None = None,
    *,
    method: str = "POST",
    path: str = "/messages",
    envelope: bool = True,
) -> dict[str, Any]:
    """A request-level refusal: status, code and texts as documented; nothing recorded/charged."""
    assert response.status == status, response.data
    assert_conforms(response, method, path)
    document: dict[str, Any] = body_json(response)
    assert document["errorCode"] == code
    assert document["error"] == error
    if description is not None:
        assert document["errorDescription"] == description
    else:
        assert document["errorDescription"]
    if envelope:
        assert document["messages"] == []
    else:
        assert "messages" not in document
    assert sb.messages() == []
    assert sb.balance == Decimal("100")
    return document


# ------------------------------------------------------------------------------------------------
# Authentication (108)


@pytest.mark.parametrize("key", [None, "wrong-key", f"Bearer {KEY}", ""])
def test_a_missing_or_wrong_key_is_401_with_108(one_way: Sandbox, key: str | None) -> None:
    response = send_json(one_way, VALID, key=key)
    assert_refused(
        one_way,
        response,
        401,
        108,
        "Invalid or missing integration API Key.",
        "The integration API key is either incorrect or has not been included in the API call.",
    )


def test_a_wrong_key_on_an_xml_request_is_answered_in_xml(one_way: Sandbox) -> None:
    body = b"<SendMessageRequest><Content>hi</Content><To>27821234567</To></SendMessageRequest>"
    response = call(one_way, "POST", "/messages", body, content_type="application/xml", key="nope")
    assert response.status == 401
    assert response.headers["Content-Type"] == "application/xml"
    assert xsd_valid(response.data)
    assert b"<Messages></Messages><ErrorCode>108</ErrorCode>" in response.data
    assert b"<Error>Invalid or missing integration API Key.</Error>" in response.data


def test_the_other_operations_check_the_key_too(one_way: Sandbox) -> None:
    for path in ("/public-client/balance", "/public-client/message/status?messageId=abc"):
        response = call(one_way, "GET", path, key="wrong", content_type=None)
        assert_refused(
            one_way,
            response,
            401,
            108,
            "Invalid or missing integration API Key.",
            method="GET",
            path=path.split("?")[0],
            envelope=False,
        )
    # The GET send reads the key from the query string only (its security scheme).
    response = call(
        one_way, "GET", "/messages/http/send?to=27821234567&content=hi", content_type=None
    )
    assert_refused(
        one_way,
        response,
        401,
        108,
        "Invalid or missing integration API Key.",
        method="GET",
        path="/messages/http/send",
    )


# ------------------------------------------------------------------------------------------------
# Media types (167, 166) and malformed documents (100)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_an_unsupported_content_type_is_415_with_167(
    one_way: Sandbox, content_type: str | None
) -> None:
    response = call(one_way, "POST", "/messages", json.dumps(VALID), content_type=content_type)
    assert_refused(
        one_way,
        response,
        415,
        167,
        "Invalid or no content-type specified",
        "Content-Type must be application/json or application/xml.",
    )


@pytest.mark.parametrize("accept", ["text/html", "application/json;q=0", ""])
def test_an_accept_without_json_or_xml_is_400_with_166(one_way: Sandbox, accept: str) -> None:
    response = send_json(one_way, VALID, accept=accept)
    assert_refused(one_way, response, 400, 166, "Invalid accept header specified")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"content": "hi", "to": ["27821234567"]', "application/json"),
        (b"", "application/json"),
        (b'["not", "an", "object"]', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"<SendMessageRequest><Content>hi</Content>", "application/xml"),
        (b"<Other><Content>hi</Content></Other>", "application/xml"),
        (b'{"content": "hi"}', "application/xml"),
    ],
)
def test_a_malformed_document_is_400_with_100(
    one_way: Sandbox, body: bytes, content_type: str
) -> None:
    response = call(
        one_way, "POST", "/messages", body, content_type=content_type, accept="application/json"
    )
    document = assert_refused(one_way, response, 400, 100, "Data malformed")
    assert document["errorDescription"].startswith("The ")


def test_a_malformed_xml_document_is_answered_in_xml(one_way: Sandbox) -> None:
    response = call(one_way, "POST", "/messages", b"<oops", content_type="application/xml")
    assert response.status == 400
    assert xsd_valid(response.data)
    assert b"<ErrorCode>100</ErrorCode><Error>Data malformed</Error>" in response.data


# ------------------------------------------------------------------------------------------------
# Missing and invalid fields (101, 102, 107)

INVALID_FIELDS = [
    pytest.param({"to": ["27821234567"]}, 101, "content parameter is required", id="no-content"),
    pytest.param({"content": "hi"}, 101, "to parameter is required", id="no-to"),
    pytest.param({"content": "hi", "to": []}, 101, "length >= 1", id="empty-to"),
    pytest.param({"content": "", "to": ["27821234567"]}, 107, "empty", id="empty-content"),
    pytest.param({**VALID, "colour": "red"}, 101, "Unknown field(s): colour", id="unknown-field"),
    pytest.param(
        {"content": "hi", "to": ["27821234567", "27821234567"]}, 101, "only once", id="duplicate"
    ),
    pytest.param({**VALID, "userDataHeader": "0605040B8423F"}, 102, "userDataHeader", id="udh-odd"),
    pytest.param({**VALID, "userDataHeader": "zz"}, 102, "userDataHeader", id="udh-not-hex"),
    pytest.param(
        {**VALID, "userDataHeader": "0705040B8423F0"}, 102, "userDataHeader", id="udh-len"
    ),
    pytest.param({**VALID, "validityPeriod": 0}, 101, "validityPeriod", id="validity-low"),
    pytest.param({**VALID, "validityPeriod": 10081}, 101, "validityPeriod", id="validity-high"),
    pytest.param(
        {**VALID, "scheduledDeliveryTime": "2017-02-27T14:30:00+02:00"},
        101,
        "scheduledDeliveryTime",
        id="schedule-colon",
    ),
    pytest.param(
        {**VALID, "scheduledDeliveryTime": "2017-13-45T14:30:00+0200"},
        101,
        "not a real time",
        id="schedule-impossible",
    ),
    pytest.param({**VALID, "charset": "latin-1"}, 101, "charset", id="charset"),
    pytest.param({**VALID, "clientMessageId": "has space"}, 101, "clientMessageId", id="ref-space"),
    pytest.param({**VALID, "binary": "yes"}, 101, "binary", id="binary-type"),
    pytest.param(
        {"content": "not hex", "to": ["27821234567"], "binary": True}, 101, "hex", id="binary-hex"
    ),
    pytest.param({"content": "hi", "to": ["x" * 33]}, 101, "to[0]", id="number-too-long"),
]


@pytest.mark.parametrize(("document", "code", "hint"), INVALID_FIELDS)
def test_missing_or_invalid_fields(
    one_way: Sandbox, document: dict[str, Any], code: int, hint: str
) -> None:
    texts = {
        101: "Invalid or missing parameters",
        102: "Invalid user data header",
        107: "Empty message",
    }
    response = send_json(one_way, document)
    answer = assert_refused(one_way, response, 400, code, texts[code])
    assert hint in answer["errorDescription"]


@pytest.mark.parametrize(
    ("body", "code", "hint"),
    [
        (b"<SendMessageRequest><To>27821234567</To></SendMessageRequest>", 101, "Content"),
        (
            b"<SendMessageRequest><Content></Content><To>27821234567</To></SendMessageRequest>",
            107,
            "empty",
        ),
        (b"<SendMessageRequest><Content>hi</Content></SendMessageRequest>", 101, "length >= 1"),
        (
            b"<SendMessageRequest><Content>hi</Content><To>27821234567</To><Colour>red</Colour>"
            b"</SendMessageRequest>",
            101,
            "Colour",
        ),
        (
            b"<SendMessageRequest><Content>hi</Content><To>27821234567</To>"
            b"<ValidityPeriod>soon</ValidityPeriod></SendMessageRequest>",
            101,
            "not an integer",
        ),
        (
            b"<SendMessageRequest><Content>hi</Content><To>27821234567</To>"
            b"<UserDataHeader>XYZ</UserDataHeader></SendMessageRequest>",
            102,
            "userDataHeader",
        ),
    ],
)
def test_missing_or_invalid_xml_elements(
    one_way: Sandbox, body: bytes, code: int, hint: str
) -> None:
    response = call(
        one_way,
        "POST",
        "/messages",
        body,
        content_type="application/xml",
        accept="application/json",
    )
    answer = assert_refused(one_way, response, 400, code, answer_text(code))
    assert hint in answer["errorDescription"]


def answer_text(code: int) -> str:
    return {
        101: "Invalid or missing parameters",
        102: "Invalid user data header",
        107: "Empty message",
    }[code]


# ------------------------------------------------------------------------------------------------
# Limits: 200 recipients (101), 35 parts (113)


def test_more_than_200_recipients_is_its_own_101(one_way: Sandbox) -> None:
    numbers = [f"2782{n:07d}" for n in range(201)]
    response = send_json(one_way, {"content": "hi", "to": numbers})
    assert_refused(
        one_way,
        response,
        400,
        101,
        "Invalid or missing parameters",
        "Too many recipients: 201 given, at most 200 are allowed per request.",
    )
    xml = (
        "<SendMessageRequest><Content>hi</Content>"
        + "".join(f"<To>{n}</To>" for n in numbers)
        + "</SendMessageRequest>"
    )
    response = call(one_way, "POST", "/messages", xml, content_type="application/xml")
    assert response.status == 400
    assert b"<ErrorCode>101</ErrorCode>" in response.data
    assert b"Too many recipients: 201 given" in response.data
    # Exactly 200 is fine.
    assert send_json(one_way, {"content": "hi", "to": numbers[:200]}).status == 202


@pytest.mark.parametrize(
    ("content", "binary", "parts"),
    [
        ("a" * (153 * 35 + 1), False, 36),  # GSM-7: 153 per concatenated part
        ("€" * (76 * 35 + 1), False, 36),  # extension characters count twice
        ("ж" * (67 * 35 + 1), False, 36),  # UCS-2: 67 per part
        ("ab" * (134 * 35 + 1), True, 36),  # binary: 134 octets per part
    ],
)
def test_more_than_35_parts_is_400_with_113(
    one_way: Sandbox, content: str, binary: bool, parts: int
) -> None:
    document = {"content": content, "to": ["27821234567"], "binary": binary}
    response = send_json(one_way, document)
    answer = assert_refused(one_way, response, 400, 113, "Maximum message parts exceeded")
    assert f"needs {parts} parts" in answer["errorDescription"]


def test_exactly_35_parts_is_accepted(one_way: Sandbox) -> None:
    response = send_json(one_way, {"content": "a" * (153 * 35), "to": ["27821234567"]})
    assert response.status == 202
    assert one_way.messages()[0].parts == 35
    assert one_way.balance == Decimal("100") - Decimal("3.5")


# ------------------------------------------------------------------------------------------------
# Methods and paths (160, 161)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/messages", "POST"),
        ("PUT", "/messages", "POST"),
        ("DELETE", "/messages", "POST"),
        ("PATCH", "/messages", "POST"),
        ("POST", "/public-client/balance", "GET"),
        ("DELETE", "/public-client/message/status", "GET"),
        ("POST", "/messages/http/send", "GET"),
    ],
)
def test_a_wrong_method_is_405_with_160_and_allow(
    one_way: Sandbox, method: str, path: str, allowed: str
) -> None:
    response = call(one_way, method, path, json.dumps(VALID))
    assert response.status == 405
    assert response.headers["Allow"] == allowed
    document = body_json(response)
    assert (document["errorCode"], document["error"]) == (
        160,
        "HTTP method is not supported on this resource",
    )
    if path == "/messages":
        # The spec lists 405 under POST /messages; the body has that operation's error shape.
        assert_conforms(response, "POST", "/messages")
        assert document["messages"] == []
    assert one_way.messages() == []


def test_a_wrong_method_on_messages_conforms_to_the_spec(one_way: Sandbox) -> None:
    response = call(one_way, "GET", "/messages", accept="application/xml")
    assert response.status == 405
    assert xsd_valid(response.data)
    assert b"<ErrorCode>160</ErrorCode>" in response.data


def test_an_unknown_path_is_404_with_161(one_way: Sandbox) -> None:
    response = call(one_way, "GET", "/messages/nope")
    assert response.status == 404
    document = body_json(response)
    assert document == {
        "errorCode": 161,
        "error": "Resource does not exist",
        "errorDescription": "The requested resource does not exist.",
    }


# ------------------------------------------------------------------------------------------------
# The `from` rule (607, 106)


def test_from_on_a_one_way_integration_is_400_with_607(one_way: Sandbox) -> None:
    response = send_json(one_way, {**VALID, "from": TWO_WAY})
    assert_refused(
        one_way,
        response,
        400,
        607,
        "Invalid FROM number.",
        "User specified FROM number, but integration isn't two-way.",
    )


@pytest.mark.parametrize("sender", [None, "27830000002"])
def test_a_two_way_integration_needs_its_own_from_else_106(
    two_way: Sandbox, sender: str | None
) -> None:
    document = dict(VALID) if sender is None else {**VALID, "from": sender}
    response = send_json(two_way, document)
    assert_refused(
        two_way,
        response,
        400,
        106,
        "Invalid FROM number.",
        "You should specify correct FROM number.",
    )
    for owned in (TWO_WAY, f"+{TWO_WAY}"):
        assert send_json(two_way, {**VALID, "from": owned}).status == 202


# ------------------------------------------------------------------------------------------------
# Per recipient (105, 114, 121, 122) inside a 202


def test_bad_and_magic_recipients_are_refused_one_by_one(one_way: Sandbox) -> None:
    to = [
        "+27821234567",
        "0821234567",
        "0027821234567",
        "12345",
        "2782abc4567",
        "27829999114",
        "27829999121",
        "27829999122",
    ]
    response = send_json(one_way, {"content": "hi", "to": to})
    assert response.status == 202
    assert_conforms(response, "POST", "/messages")
    messages = body_json(response)["messages"]
    assert [m["to"] for m in messages] == [n.removeprefix("+") for n in to]
    assert [m["errorCode"] for m in messages] == [None, 105, 105, 105, 105, 114, 121, 122]
    assert messages[1] == {
        "apiMessageId": None,
        "accepted": False,
        "to": "0821234567",
        "errorCode": 105,
        "error": "Invalid destination address",
        "errorDescription": "The number must be in international format: country code first,"
        " 6 to 19 digits.",
    }
    assert [m["error"] for m in messages[5:]] == [
        "Cannot route message",
        "Destination mobile number blocked",
        "Destination mobile opted out",
    ]
    assert [r.to for r in one_way.messages()] == ["27821234567"]
    assert one_way.balance == Decimal("99.9")


def test_per_recipient_refusals_in_xml(one_way: Sandbox) -> None:
    body = "<SendMessageRequest><Content>hi</Content><To>27821234567</To><To>nope</To></SendMessageRequest>"
    response = call(one_way, "POST", "/messages", body, content_type="application/xml")
    assert response.status == 202
    assert xsd_valid(response.data)
    assert (
        b"<Message><Accepted>false</Accepted><To>nope</To><ErrorCode>105</ErrorCode>"
        b"<Error>Invalid destination address</Error>" in response.data
    )


def test_control_characters_in_an_echoed_recipient_stay_valid_xml(one_way: Sandbox) -> None:
    response = send_json(one_way, {"content": "hi", "to": ["12\u0004"]}, accept="application/xml")
    assert response.status == 202
    assert xsd_valid(response.data)
    assert "<To>12\ufffd</To>".encode() in response.data


# ------------------------------------------------------------------------------------------------
# The look-ups (109, 103, 101)


def test_status_look_up_errors(one_way: Sandbox) -> None:
    path = "/public-client/message/status"
    cases = [
        ("", 400, 109, "Missing message ID"),
        ("?messageId=", 400, 109, "Missing message ID"),
        ("?messageId=0123456789abcdef0123456789abcdef", 404, 103, "Unknown API message ID"),
        ("?messageId=not%20valid", 400, 101, "Invalid or missing parameters"),
        ("?messageId=" + "a" * 65, 400, 101, "Invalid or missing parameters"),
    ]
    for query, status, code, error in cases:
        response = call(one_way, "GET", path + query, content_type=None)
        assert_refused(
            one_way, response, status, code, error, method="GET", path=path, envelope=False
        )


def test_http_get_send_errors(one_way: Sandbox) -> None:
    path = "/messages/http/send"
    cases = [
        ("?to=27821234567", 101, "Invalid or missing parameters"),
        ("?content=hi", 101, "Invalid or missing parameters"),
        ("?to=27821234567&content=", 107, "Empty message"),
        ("?to=27821234567,27821234567&content=hi", 101, "Invalid or missing parameters"),
        ("?to=27821234567&content=hi&from=27830000001", 607, "Invalid FROM number."),
    ]
    for query, code, error in cases:
        response = call(one_way, "GET", f"{path}{query}&apiKey={KEY}", key=None, content_type=None)
        assert_refused(one_way, response, 400, code, error, method="GET", path=path)


# ------------------------------------------------------------------------------------------------
# Sandbox headers


def test_an_unknown_sandbox_header_value_is_refused(one_way: Sandbox) -> None:
    for header in (
        {"X-Sandbox-Fault": "explode"},
        {"X-Sandbox-Quirks": "grumpy"},
        {"X-Sandbox-Latency": "soon"},
    ):
        response = send_json(one_way, VALID, headers=header)
        answer = assert_refused(one_way, response, 400, 101, "Invalid or missing parameters")
        assert "X-Sandbox-" in answer["errorDescription"]


# ------------------------------------------------------------------------------------------------
# The documentation lists every code


def test_readme_table_lists_every_implemented_error() -> None:
    text = (ROOT / "README.md").read_text()
    table_codes = set(re.findall(r"^\| (\d+|—) \|", text, flags=re.MULTILINE))
    implemented: set[str] = {str(e.code) if e.code is not None else "—" for e in CATALOGUE}
    assert implemented <= table_codes
    for error in CATALOGUE:
        assert error.error in text, error


def test_the_catalogue_is_consistent() -> None:
    assert all(isinstance(e, ApiError) for e in CATALOGUE)
    for error in CATALOGUE:
        assert error.when
        assert (error.status == 202) == error.per_recipient
