"""The live API's oddities, each switchable, and each still readable with the generated code."""

from __future__ import annotations

import msgspec
import pytest
from clickatell_wire import models
from clickatell_wire.xml import codec

from clickatell_sms.sandbox import Quirks, Sandbox
from tests.test_sandbox import assert_conforms, body_json, call, send_json, xsd_valid

VALID = {"content": "Hello", "to": ["27821234567", "bad"]}


def test_errors_with_200_turns_request_level_errors_into_200() -> None:
    with Sandbox(quirks=Quirks(errors_with_200=True), one_way=True) as sb:
        response = send_json(sb, {**VALID, "from": "27830000001"})
        assert response.status == 200
        assert_conforms(response, "POST", "/messages")  # the spec's RequestFailedWithOk
        document = body_json(response)
        assert (document["messages"], document["errorCode"]) == ([], 607)
        unauthorised = send_json(sb, VALID, key="wrong", accept="application/xml")
        assert unauthorised.status == 200
        assert xsd_valid(unauthorised.data)
        assert b"<ErrorCode>108</ErrorCode>" in unauthorised.data
        get_send = call(
            sb, "GET", "/messages/http/send?to=27821234567&apiKey=sandbox-key", key=None
        )
        assert get_send.status == 200
        assert body_json(get_send)["errorCode"] == 101
        # Routing errors, faults and the look-ups keep their real status.
        assert call(sb, "GET", "/messages").status == 405
        assert call(sb, "GET", "/nowhere").status == 404
        assert send_json(sb, VALID, headers={"X-Sandbox-Fault": "503"}).status == 503
        assert call(sb, "GET", "/public-client/balance", key="wrong").status == 401
        # Success is unchanged.
        assert send_json(sb, VALID).status == 202


def test_omit_top_level_error_keys_on_success_only() -> None:
    with Sandbox(quirks=Quirks(omit_top_level_error_keys=True)) as sb:
        response = send_json(sb, VALID)
        assert response.status == 202
        assert_conforms(response, "POST", "/messages")
        document = body_json(response)
        assert set(document) == {"messages"}
        assert document["messages"][1]["errorCode"] == 105  # per message keys stay
        decoded = msgspec.json.decode(response.data, type=models.SendMessagesResponse)
        assert decoded.error_code is msgspec.UNSET
        refused = send_json(sb, {"content": "hi"})
        assert body_json(refused)["errorCode"] == 101


def test_extra_fields_in_json_and_unknown_elements_in_xml() -> None:
    with Sandbox(quirks=Quirks(extra_fields=True)) as sb:
        response = send_json(sb, VALID)
        assert_conforms(response, "POST", "/messages")  # unknown keys are allowed by the spec
        document = body_json(response)
        assert len(document["requestId"]) == 32 and document["sandbox"] is True
        assert all(m["sandbox"] is True for m in document["messages"])
        decoded = msgspec.json.decode(response.data, type=models.SendMessagesResponse)
        assert isinstance(decoded.messages, list) and decoded.messages[0].accepted is True

        xml = send_json(sb, VALID, accept="application/xml")
        assert b"<Sandbox>true</Sandbox></Message>" in xml.data
        assert b"<RequestId>" in xml.data
        assert not xsd_valid(xml.data)  # on purpose: the XSD names no such elements
        parsed = codec.decode_send_messages_response(xml.data)  # the tolerant reader skips them
        assert parsed.messages is not None and len(parsed.messages.message) == 2

        balance = call(sb, "GET", "/public-client/balance")
        assert_conforms(balance, "GET", "/public-client/balance")
        assert body_json(balance)["sandbox"] is True


def test_legacy_string_errors_drop_codes_and_descriptions() -> None:
    with Sandbox(quirks=Quirks(legacy_string_errors=True)) as sb:
        response = send_json(sb, VALID)
        assert_conforms(response, "POST", "/messages")
        document = body_json(response)
        assert document["error"] is None and "errorCode" not in document
        rejected = document["messages"][1]
        assert rejected == {
            "apiMessageId": None,
            "accepted": False,
            "to": "bad",
            "error": "Invalid destination address",
        }
        refused = send_json(sb, VALID, key="wrong")
        assert body_json(refused) == {
            "messages": [],
            "error": "Invalid or missing integration API Key.",
        }
        xml = send_json(sb, VALID, key="wrong", accept="application/xml")
        assert b"<ErrorCode>" not in xml.data and b"<Error>Invalid or missing" in xml.data
        assert xsd_valid(xml.data)


@pytest.mark.parametrize(
    ("header", "check"),
    [
        ("errors-with-200", lambda r: r.status == 200),
        ("extra_fields", lambda r: "sandbox" in body_json(r)),
        ("legacy-string-errors, errors-with-200", lambda r: "errorCode" not in body_json(r)),
    ],
)
def test_quirks_can_be_chosen_per_request(header: str, check: object) -> None:
    with Sandbox() as sb:
        response = send_json(sb, VALID, key="wrong", headers={"X-Sandbox-Quirks": header})
        assert check(response)  # type: ignore[operator]
        plain = send_json(sb, VALID, key="wrong")
        assert plain.status == 401 and body_json(plain)["errorCode"] == 108


def test_set_quirks_switches_at_run_time() -> None:
    with Sandbox() as sb:
        sb.set_quirks(Quirks(errors_with_200=True))
        assert send_json(sb, VALID, key="wrong").status == 200
        sb.set_quirks(None)
        assert send_json(sb, VALID, key="wrong").status == 401
