"""Every refusal the sandbox implements: status, Clickatell error code, texts, and a spec-valid body,
and which profile makes it: the default refuses what Clickatell is known to refuse, and only
warns about this project's inferences, which `strict=True` refuses.

Each case is a real request over loopback. Refused requests must record nothing and charge
nothing, which every request-level case checks too; every refusal names its rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from clickatell_wire.tables import SEND_FIELDS

from clickatell_sms.sandbox import (
    BLOCKED_NUMBER,
    CANNOT_ROUTE_NUMBER,
    OPTED_OUT_NUMBER,
    RULES,
    Profile,
    Quirks,
    Sandbox,
)
from clickatell_sms.sandbox.validation import FACET_RULES
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
    with Sandbox(balance=Decimal("100"), one_way=True) as sb:
        yield sb


@pytest.fixture
def strict() -> Iterator[Sandbox]:
    with Sandbox(balance=Decimal("100"), strict=True) as sb:
        yield sb


@pytest.fixture
def two_way() -> Iterator[Sandbox]:
    with Sandbox(two_way_numbers=[f"+{TWO_WAY}"], balance=Decimal("100")) as sb:
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
    rule: str | None = None,
) -> dict[str, Any]:
    """A request-level refusal: status, code and texts as documented; nothing recorded/charged;
    the answer names the rule (`rule`, when given)."""
    assert response.status == status, response.data
    assert response.headers.get("X-Sandbox-Rule"), "a refusal names its rule"
    if rule is not None:
        assert response.headers["X-Sandbox-Rule"] == rule
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


@pytest.mark.parametrize("key", [None, "wrong-key", "Bearer wrong-key", ""])
def test_a_missing_or_wrong_key_is_401_with_108(one_way: Sandbox, key: str | None) -> None:
    response = send_json(one_way, VALID, key=key)
    assert_refused(
        one_way,
        response,
        401,
        108,
        "Invalid or missing integration API Key.",
        "The integration API key is either incorrect or has not been included in the API call.",
        rule="api-key",
    )


def test_bearer_before_a_valid_key_is_only_inferred_to_fail(
    one_way: Sandbox, strict: Sandbox
) -> None:
    # Never documented either way: the default takes it and says so; strict refuses it.
    response = send_json(one_way, VALID, key=f"Bearer {KEY}")
    assert response.status == 202
    assert response.headers["X-Sandbox-Warning"].startswith("bearer-prefix (inferred): ")
    assert one_way.messages()[0].notes[0].startswith("bearer-prefix (inferred): ")
    for path in ("/public-client/balance",):
        answer = call(one_way, "GET", path, key=f"bearer {KEY}", content_type=None)
        assert answer.status == 200 and "X-Sandbox-Warning" in answer.headers
    refused = send_json(strict, VALID, key=f"Bearer {KEY}")
    assert_refused(
        strict, refused, 401, 108, "Invalid or missing integration API Key.", rule="bearer-prefix"
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
def test_an_unsupported_content_type_is_400_with_167(
    one_way: Sandbox, content_type: str | None
) -> None:
    # 400: the legacy status table, the only evidence for statuses, has no 415.
    response = call(one_way, "POST", "/messages", json.dumps(VALID), content_type=content_type)
    assert_refused(
        one_way,
        response,
        400,
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
    pytest.param({"content": None, "to": ["27821234567"]}, 101, "required", id="null-content"),
    pytest.param({"content": "hi"}, 101, "to parameter is required", id="no-to"),
    pytest.param({"content": "hi", "to": []}, 101, "must not be empty", id="empty-to"),
    pytest.param({"content": "", "to": ["27821234567"]}, 107, "content", id="empty-content"),
    pytest.param(
        {"content": "hi", "to": ["27821234567", "27821234567"]}, 101, "only once", id="duplicate"
    ),
    pytest.param({**VALID, "userDataHeader": "0605040B8423F"}, 102, "userDataHeader", id="udh-odd"),
    pytest.param({**VALID, "userDataHeader": "zz"}, 102, "userDataHeader", id="udh-not-hex"),
    pytest.param(
        {**VALID, "userDataHeader": "0705040B8423F0"}, 102, "userDataHeader", id="udh-len"
    ),
    pytest.param({**VALID, "validityPeriod": "5"}, 101, "validityPeriod", id="validity-type"),
    pytest.param(
        {**VALID, "scheduledDeliveryTime": "2017-02-30T14:30:00+0200"},
        101,
        "not a real time",
        id="schedule-impossible",
    ),
    pytest.param(
        {**VALID, "scheduledDeliveryTime": "tomorrow"}, 101, "not a time", id="schedule-garbage"
    ),
    pytest.param({**VALID, "charset": "latin-1"}, 101, "charset", id="charset"),
    pytest.param({**VALID, "clientMessageId": "has space"}, 120, "whitespace", id="ref-space"),
    pytest.param({**VALID, "binary": "yes"}, 101, "binary", id="binary-type"),
    pytest.param({"content": "hi", "to": "27821234567"}, 101, "a list", id="to-not-a-list"),
    pytest.param({"content": "hi", "to": [27821234567]}, 101, "a list of strings", id="to-ints"),
]
TEXTS = {
    101: "Invalid or missing parameters",
    102: "Invalid user data header",
    107: "Empty message",
    120: "Invalid client message ID",
}


@pytest.mark.parametrize("sender", [None, TWO_WAY], ids=["no-from", "one-way-from"])
@pytest.mark.parametrize(("document", "code", "hint"), INVALID_FIELDS)
def test_what_clickatell_refuses_is_refused_by_default(
    one_way: Sandbox, document: dict[str, Any], code: int, hint: str, sender: str | None
) -> None:
    """With a `from` too: on a one-way integration the `from` rule (607) is the integration's,
    so it comes after every rule of the document."""
    if sender is not None:
        document = {**document, "from": sender}
    response = send_json(one_way, document)
    answer = assert_refused(one_way, response, 400, code, TEXTS[code])
    assert hint in answer["errorDescription"]
    assert one_way.refusals()["from-one-way"] == 0


def test_a_space_in_client_message_id_is_120_as_the_legacy_rest_list_says(
    one_way: Sandbox,
) -> None:
    response = send_json(one_way, {**VALID, "clientMessageId": "order 42"})
    assert_refused(
        one_way, response, 400, 120, "Invalid client message ID", rule="client-message-id-space"
    )


def test_an_unreadable_delivery_time_is_120_behind_a_quirk(one_way: Sandbox) -> None:
    # The legacy lists disagree on 120; the other reading is one quirk away.
    document = {**VALID, "scheduledDeliveryTime": "2030-02-30T10:00:00+0200"}
    plain = send_json(one_way, document)
    assert body_json(plain)["errorCode"] == 101
    quirk = send_json(one_way, document, headers={"X-Sandbox-Quirks": "delivery-time-120"})
    answer = assert_refused(one_way, quirk, 400, 120, "Invalid delivery time", rule="delivery-time")
    assert "not a real time" in answer["errorDescription"]


INFERRED = [
    pytest.param({**VALID, "colour": "red"}, "unknown-field", id="unknown-field"),
    pytest.param({**VALID, "validityPeriod": 0}, "validity-period", id="validity-low"),
    pytest.param({**VALID, "validityPeriod": 10081}, "validity-period", id="validity-high"),
    pytest.param(
        {**VALID, "scheduledDeliveryTime": "2030-02-27T14:30:00+02:00"},
        "delivery-time-offset",
        id="schedule-colon",
    ),
    pytest.param(
        {**VALID, "scheduledDeliveryTime": "2030-02-27T12:30:00Z"},
        "delivery-time-offset",
        id="schedule-z",
    ),
    pytest.param({**VALID, "clientMessageId": "x" * 256}, "client-message-id-length", id="ref-256"),
    pytest.param({**VALID, "clientMessageId": ""}, "client-message-id-length", id="ref-empty"),
    pytest.param(
        {"content": "not hex", "to": ["27821234567"], "binary": True}, "binary-hex", id="binary-hex"
    ),
    pytest.param({**VALID, "from": None}, "null-field", id="null-from"),
    pytest.param(
        {"content": "hi", "to": ["27821234567", "+27821234567"]},
        "to-unique-normalised",
        id="plus-duplicate",
    ),
]


@pytest.mark.parametrize(("document", "rule"), INFERRED)
def test_an_inferred_rule_warns_by_default_and_refuses_when_strict(
    one_way: Sandbox, strict: Sandbox, document: dict[str, Any], rule: str
) -> None:
    taken = send_json(one_way, document)
    assert taken.status == 202, taken.data
    assert_conforms(taken, "POST", "/messages")
    warning = taken.headers["X-Sandbox-Warning"]
    assert warning.startswith(f"{rule} (inferred): "), warning
    (record,) = one_way.messages()
    assert record.notes == (warning,)
    assert one_way.warnings() == {rule: 1} and not one_way.refusals()
    refused = send_json(strict, document)
    assert_refused(strict, refused, 400, 101, "Invalid or missing parameters", rule=rule)


def test_unknown_fields_are_recorded_with_their_values(one_way: Sandbox) -> None:
    # Clickatell's own Python SDK passes any extra key through: the default records them.
    send_json(one_way, {**VALID, "callback": 7, "mo": {"on": True}})
    (record,) = one_way.messages()
    assert dict(record.unknown) == {"callback": 7, "mo": {"on": True}}
    assert record.to_json()["unknown"] == {"callback": 7, "mo": {"on": True}}


def test_a_number_and_its_plus_form_are_recorded_and_charged_once(one_way: Sandbox) -> None:
    response = send_json(one_way, {"content": "hi", "to": ["27821234567", "+27821234567"]})
    assert [m["to"] for m in body_json(response)["messages"]] == ["27821234567"]
    assert [r.to for r in one_way.messages()] == ["27821234567"]
    assert one_way.balance == Decimal("99.9")


def test_warnings_cannot_inject_headers(one_way: Sandbox) -> None:
    # A warning quotes the request; a line break in a key must not start a new header line.
    response = send_json(one_way, {**VALID, "x\r\nSet-Cookie: a=b": 1, "é": 2})
    assert response.status == 202
    assert "Set-Cookie" not in response.headers
    warning = response.headers["X-Sandbox-Warning"]
    assert warning.isascii() and "\r" not in warning and "\n" not in warning
    assert "x??Set-Cookie: a=b" in warning


@pytest.mark.parametrize(
    ("body", "code", "hint"),
    [
        (b"<SendMessageRequest><To>27821234567</To></SendMessageRequest>", 101, "content"),
        (
            b"<SendMessageRequest><Content></Content><To>27821234567</To></SendMessageRequest>",
            107,
            "content",
        ),
        (b"<SendMessageRequest><Content>hi</Content></SendMessageRequest>", 101, "to parameter"),
        (
            b"<SendMessageRequest><Content>hi</Content><To>27821234567</To>"
            b"<ValidityPeriod>soon</ValidityPeriod></SendMessageRequest>",
            101,
            "must be an integer",
        ),
        (
            b"<SendMessageRequest><Content>hi</Content><To>27821234567</To>"
            b"<UserDataHeader>XYZ</UserDataHeader></SendMessageRequest>",
            102,
            "userDataHeader",
        ),
        (
            b"<SendMessageRequest><Content>hi</Content><Content>again</Content>"
            b"<To>27821234567</To></SendMessageRequest>",
            101,
            "only once",
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


def test_an_unknown_xml_element_is_recorded_by_default_and_refused_when_strict(
    one_way: Sandbox, strict: Sandbox
) -> None:
    body = (
        b"<SendMessageRequest><Content>hi</Content><To>27821234567</To><Colour>red</Colour>"
        b"</SendMessageRequest>"
    )
    taken = call(one_way, "POST", "/messages", body, content_type="application/xml")
    assert taken.status == 202 and xsd_valid(taken.data)
    assert taken.headers["X-Sandbox-Warning"].startswith("unknown-element (inferred)")
    assert dict(one_way.messages()[0].unknown) == {"Colour": "red"}
    refused = call(
        strict, "POST", "/messages", body, content_type="application/xml", accept="application/json"
    )
    answer = assert_refused(strict, refused, 400, 101, TEXTS[101], rule="unknown-element")
    assert "Colour" in answer["errorDescription"]


def test_xml_values_are_read_as_an_xml_parser_reads_them(one_way: Sandbox) -> None:
    # Tokens lose the whitespace an indented document puts around them; Content keeps its own.
    body = (
        b"<SendMessageRequest>\n  <Content>  two  spaces </Content>\n"
        b"  <To>\n    27821234567\n  </To>\n  <To/>\n"
        b"  <ValidityPeriod> 60 </ValidityPeriod>\n  <Binary> false </Binary>\n"
        b"  <Charset>\n UTF-8 </Charset>\n</SendMessageRequest>"
    )
    response = call(
        one_way,
        "POST",
        "/messages",
        body,
        content_type="application/xml",
        accept="application/json",
    )
    assert response.status == 202, response.data
    messages = body_json(response)["messages"]
    assert [(m["to"], m["accepted"], m["errorCode"]) for m in messages] == [
        ("27821234567", True, None),
        ("", False, 105),  # an empty <To/> is one bad recipient, as "" is in JSON
    ]
    (record,) = one_way.messages()
    assert (record.content, record.validity_period, record.charset) == (
        "  two  spaces ",
        60,
        "UTF-8",
    )
    json_answer = send_json(one_way, {"content": "hi", "to": ["27821234567", ""]})
    assert [m["errorCode"] for m in body_json(json_answer)["messages"]] == [None, 105]


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
# The `from` rule (607, 106): with 200, as the live API answered 106


def test_from_on_a_one_way_integration_is_607_with_200(one_way: Sandbox) -> None:
    response = send_json(one_way, {**VALID, "from": TWO_WAY})
    assert_refused(
        one_way,
        response,
        200,
        607,
        "Invalid FROM number.",
        "User specified FROM number, but integration isn't two-way.",
        rule="from-one-way",
    )


@pytest.mark.parametrize("sender", [None, "27830000002"])
def test_a_two_way_integration_needs_its_own_from_else_106_with_200(
    two_way: Sandbox, sender: str | None
) -> None:
    document = dict(VALID) if sender is None else {**VALID, "from": sender}
    response = send_json(two_way, document)
    assert_refused(
        two_way,
        response,
        200,
        106,
        "Invalid FROM number.",
        "You should specify correct FROM number.",
        rule="from-two-way",
    )
    for owned in (TWO_WAY, f"+{TWO_WAY}"):
        assert send_json(two_way, {**VALID, "from": owned}).status == 202


def test_the_legacy_status_for_from_errors_is_one_quirk_away(two_way: Sandbox) -> None:
    with Sandbox(quirks=Quirks(from_errors_with_400=True), one_way=True, balance=100) as sb:
        assert_refused(
            sb, send_json(sb, {**VALID, "from": TWO_WAY}), 400, 607, "Invalid FROM number."
        )
    answer = send_json(two_way, VALID, headers={"X-Sandbox-Quirks": "from-errors-with-400"})
    assert_refused(two_way, answer, 400, 106, "Invalid FROM number.")


def test_the_default_integration_takes_any_from_and_records_it() -> None:
    with Sandbox(balance=Decimal("100")) as sb:
        for sender in (TWO_WAY, f"+{TWO_WAY}", "380671234567"):
            response = send_json(sb, {**VALID, "from": sender})
            assert response.status == 202, response.data
            assert "X-Sandbox-Warning" not in response.headers
        assert send_json(sb, VALID).status == 202  # and needs none
        assert [r.from_ for r in sb.messages()] == [TWO_WAY, f"+{TWO_WAY}", "380671234567", None]
        assert sb.refusals() == {}


def test_an_integration_is_one_way_or_owns_two_way_numbers_not_both() -> None:
    with pytest.raises(ValueError, match="one-way or owns two-way numbers"):
        Sandbox(one_way=True, two_way_numbers=[TWO_WAY])


@pytest.mark.clickatell_sandbox(one_way=True)
def test_the_fixture_marker_makes_a_one_way_integration(clickatell_sandbox: Sandbox) -> None:
    response = send_json(clickatell_sandbox, {**VALID, "from": TWO_WAY})
    assert (response.status, body_json(response)["errorCode"]) == (200, 607)


def _with_from(param: Any, sender: str) -> Any:
    """One of the parametrised documents, with a `from` (left out of those that set their own)."""
    document, *rest = param.values
    return pytest.param({**document, "from": sender}, *rest, id=param.id)


@pytest.mark.parametrize(
    ("document", "rule"), [_with_from(p, "27830000009") for p in INFERRED if p.id != "null-from"]
)
@pytest.mark.parametrize("integration", ["one-way", "two-way"])
def test_when_strict_the_from_rules_come_after_every_inferred_rule_too(
    document: dict[str, Any], rule: str, integration: str
) -> None:
    """Strict refuses the inferred rules; they are rules of the document too, so they come
    before 607 (any `from` on a one-way integration) and 106 (a number it does not own)."""
    setting: dict[str, Any] = (
        {"one_way": True} if integration == "one-way" else {"two_way_numbers": [TWO_WAY]}
    )
    with Sandbox(strict=True, balance=Decimal("100"), **setting) as sb:
        refused = send_json(sb, document)
        assert_refused(sb, refused, 400, 101, "Invalid or missing parameters", rule=rule)


def test_the_get_send_checks_its_document_before_the_one_way_from_rule(one_way: Sandbox) -> None:
    query = f"/messages/http/send?to=27821234567&content=&from={TWO_WAY}&apiKey={KEY}"
    response = call(one_way, "GET", query, key=None, content_type=None)
    path = "/messages/http/send"
    assert_refused(one_way, response, 400, 107, "Empty message", method="GET", path=path)


def test_a_null_field_refused_when_strict_is_not_said_to_be_read_as_absent(
    one_way: Sandbox, strict: Sandbox
) -> None:
    document = {**VALID, "from": None}
    refused = send_json(strict, document)
    answer = assert_refused(
        strict, refused, 400, 101, "Invalid or missing parameters", rule="null-field"
    )
    assert "from is null" in answer["errorDescription"]
    assert "absent" not in answer["errorDescription"]
    # Where the request is taken, it was read as absent, and the warning says so.
    taken = send_json(one_way, document)
    assert taken.status == 202
    warning = taken.headers["X-Sandbox-Warning"]
    assert warning == "null-field (inferred): from is null; read as absent."


# ------------------------------------------------------------------------------------------------
# Per recipient (105, 114, 121, 122) inside a 202


def test_bad_recipients_and_test_numbers_are_refused_one_by_one(one_way: Sandbox) -> None:
    to = [
        "+27821234567",
        "0821234567",
        "0027821234567",
        "2782abc4567",
        "",
        CANNOT_ROUTE_NUMBER,
        BLOCKED_NUMBER,
        f"+{OPTED_OUT_NUMBER}",
    ]
    response = send_json(one_way, {"content": "hi", "to": to})
    assert response.status == 202
    assert_conforms(response, "POST", "/messages")
    assert "X-Sandbox-Warning" not in response.headers
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
        " digits only, no leading 0 or 00.",
    }
    assert [m["error"] for m in messages[5:]] == [
        "Cannot route message",
        "Destination mobile number blocked",
        "Destination mobile opted out",
    ]
    assert all(m["errorDescription"].startswith("Sandbox test number") for m in messages[5:])
    assert [r.to for r in one_way.messages()] == ["27821234567"]
    assert one_way.balance == Decimal("99.9")
    assert one_way.refusals() == {
        "recipient": 4,
        "test-number-114": 1,
        "test-number-121": 1,
        "test-number-122": 1,
    }


def test_sequential_test_data_meets_no_test_number(one_way: Sandbox) -> None:
    # 100,000 numbers from an ordinary start: the test numbers sit where such data never goes.
    numbers = [f"2782{n:07d}" for n in range(100_000)]
    assert {CANNOT_ROUTE_NUMBER, BLOCKED_NUMBER, OPTED_OUT_NUMBER}.isdisjoint(numbers)
    response = send_json(one_way, {"content": "hi", "to": ["27829999114", "27829999121"]})
    assert [m["accepted"] for m in body_json(response)["messages"]] == [True, True]


def test_a_short_number_warns_by_default_and_is_refused_when_strict(
    one_way: Sandbox, strict: Sandbox
) -> None:
    document = {"content": "hi", "to": ["12345", "27821234567"]}
    taken = send_json(one_way, document)
    assert [m["accepted"] for m in body_json(taken)["messages"]] == [True, True]
    assert taken.headers["X-Sandbox-Warning"].startswith("recipient-length (inferred): ")
    answer = send_json(strict, document)
    assert [m["errorCode"] for m in body_json(answer)["messages"]] == [105, None]
    assert strict.refusals() == {"recipient-length": 1}


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
        # No format is published: the default looks a strange ID up (and knows none).
        ("?messageId=not%20valid", 404, 103, "Unknown API message ID"),
        ("?messageId=" + "a" * 65, 404, 103, "Unknown API message ID"),
    ]
    for query, status, code, error in cases:
        response = call(one_way, "GET", path + query, content_type=None)
        assert_refused(
            one_way, response, status, code, error, method="GET", path=path, envelope=False
        )
    with Sandbox(strict=True, balance=Decimal("100")) as strict:
        for query in ("?messageId=not%20valid", "?messageId=" + "a" * 65):
            response = call(strict, "GET", path + query, content_type=None)
            assert_refused(
                strict,
                response,
                400,
                101,
                "Invalid or missing parameters",
                method="GET",
                path=path,
                envelope=False,
                rule="message-id-format",
            )


def test_http_get_send_errors(one_way: Sandbox) -> None:
    path = "/messages/http/send"
    cases = [
        ("?to=27821234567", 400, 101, "Invalid or missing parameters"),
        ("?content=hi", 400, 101, "Invalid or missing parameters"),
        ("?to=27821234567&content=", 400, 107, "Empty message"),
        ("?to=27821234567,27821234567&content=hi", 400, 101, "Invalid or missing parameters"),
        ("?to=27821234567&content=hi&from=27830000001", 200, 607, "Invalid FROM number."),
    ]
    for query, status, code, error in cases:
        response = call(one_way, "GET", f"{path}{query}&apiKey={KEY}", key=None, content_type=None)
        assert_refused(one_way, response, status, code, error, method="GET", path=path)


def test_http_get_send_records_unknown_parameters(one_way: Sandbox, strict: Sandbox) -> None:
    query = f"/messages/http/send?to=27821234567&content=hi&clientMessageId=a1&apiKey={KEY}"
    taken = call(one_way, "GET", query, key=None, content_type=None)
    assert taken.status == 202
    assert taken.headers["X-Sandbox-Warning"].startswith("unknown-parameter (inferred)")
    assert dict(one_way.messages()[0].unknown) == {"clientMessageId": "a1"}
    refused = call(strict, "GET", query, key=None, content_type=None)
    assert_refused(strict, refused, 400, 101, TEXTS[101], method="GET", path="/messages/http/send")


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
# Every rule names its evidence, and the documentation lists every rule


def test_every_rule_names_its_evidence() -> None:
    ids = [item.id for item in RULES]
    assert len(ids) == len(set(ids))
    for item in RULES:
        assert item.when and item.source, item.id
        assert item.evidence in ("documented", "observed", "legacy", "inferred", "sandbox")
        assert (item.error.status == 202) == item.error.per_recipient, item.id
        # The default refuses nothing that only this project infers; every inference can be
        # settled by an observation of the live API.
        assert item.enforced_by_default == (item.evidence != "inferred"), item.id
        if item.evidence == "inferred":
            assert item.waivable, item.id


def test_every_constraint_of_the_spec_has_a_rule_of_its_own() -> None:
    # A constraint under the catch-all `field-value` would take its evidence from nowhere.
    facets = ("enum", "minimum", "maximum", "min_length", "max_length", "pattern")
    for field in SEND_FIELDS:
        if field.json_name == "to":  # its items are checked per recipient
            continue
        for facet in facets:
            value = getattr(field, facet)
            if value not in (None, ()):
                assert (field.json_name, facet) in FACET_RULES, (field.json_name, facet)
    rule_ids = {item.id for item in RULES}
    assert set(FACET_RULES.values()) <= rule_ids


RULES_BEGIN = "<!-- rules: generated by `clickatell-sms sandbox --rules`; a test compares -->"
RULES_END = "<!-- rules: end -->"


def _tables_in(text: str) -> list[str]:
    found = re.findall(
        re.escape(RULES_BEGIN) + r"\n(.*?)" + re.escape(RULES_END), text, flags=re.DOTALL
    )
    return [table.strip() + "\n" for table in found]


def test_the_docs_list_every_rule_as_the_code_has_it() -> None:
    table = Profile().markdown_table()
    pages = [ROOT / "docs" / "sandbox.md", ROOT / "README.md"]
    found = {page.name: _tables_in(page.read_text()) for page in pages}
    assert found["sandbox.md"] == [table], (
        "docs/sandbox.md's rule table is stale: paste `clickatell-sms sandbox --rules`"
    )
    # Any other page that carries the table (the README) carries it as the code has it.
    for page, tables in found.items():
        assert all(t == table for t in tables), page
    for item in RULES:
        assert f"| `{item.id}` |" in table


def test_a_key_sent_in_an_unknown_field_is_not_recorded(tmp_path: Path) -> None:
    secret = "unknown-field-key-7Yh2"
    records = tmp_path / "records.sqlite"
    with Sandbox(api_keys=(secret,), store=records) as sb:
        document = {**VALID, "apiKey": secret, "meta": {"auth": f"Bearer {secret}"}}
        response = send_json(sb, document, key=secret)
        assert response.status == 202
        (record,) = sb.messages()
        assert dict(record.unknown) == {"apiKey": "***", "meta": {"auth": "Bearer ***"}}
    assert secret.encode() not in records.read_bytes()


def test_deeply_nested_unknown_values_are_named_not_kept(tmp_path: Path) -> None:
    # As deep as the JSON reader takes (it stops near Python's recursion limit): any walk of
    # the value from deeper in the stack (masking keys, writing SQLite) would overflow it.
    depth = 940
    body = (
        b'{"content": "hi", "to": ["27821234567"], "deep": '
        + b"[" * depth
        + b"]" * depth
        + b', "meta": {"x": 1}}'
    )
    with Sandbox(store=tmp_path / "records.sqlite") as sb:
        response = call(sb, "POST", "/messages", body)
        assert response.status == 202, response.data
        (record,) = sb.messages()
    deep = record.unknown["deep"]
    for _ in range(16):
        assert isinstance(deep, list) and len(deep) == 1
        deep = deep[0]
    assert deep == "(nested deeper than 16 levels: not recorded)"
    assert record.unknown["meta"] == {"x": 1}
