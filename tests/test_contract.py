"""The hand-written contract: the spec and the XSD are valid, and they agree with the API's own examples."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from xml.etree.ElementTree import canonicalize

import msgspec
import pytest
import xmlschema
import yaml
from clickatell_wire import models
from clickatell_wire.xml import codec
from clickatell_wire.xml.messages import SendMessageRequest, SendMessagesResponse
from openapi_spec_validator import validate
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig
from xsdata.formats.dataclass.serializers import XmlSerializer

from .conftest import ROOT

SPEC = ROOT / "spec" / "openapi.yaml"
XSD = ROOT / "spec" / "messages.xsd"


def _c14n(data: bytes | str) -> str:
    """Canonical XML with the whitespace between elements dropped, for equality by meaning."""
    text = data.decode() if isinstance(data, bytes) else data
    return canonicalize(text, strip_text=True)


@pytest.fixture(scope="module")
def spec() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(SPEC.read_text())
    return loaded


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def test_openapi_document_is_valid(spec: dict[str, object]) -> None:
    validate(spec)  # raises on the first problem


# The documents as published on Clickatell's send-message page, byte for byte: a copy edited by
# mistake (or "tidied") stops being evidence of what the API sends.
SEED_SHA256 = {
    "send-request.json": "fe09ecbabb7e624f7f995dc06df5473e8b4915937b6e03d64a338f928545e7ea",
    "send-request.xml": "4dc02ad966bf2e15716a0122e68b44b728ac42593d28d9b2b8c633b2e8188a17",
    "send-response.json": "059beb41490df3c8c335e58f9c0e1612eea06a99249a33b54b482dc964b90e66",
    "send-response.xml": "da21d7c215f03d8bb6538e145a5d8f9163ed55df7ed1e1c5c2f3c07a6df19730",
}


def test_spec_example_files_are_the_seed_documents_unedited(seeds: Path) -> None:
    found = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in seeds.iterdir()}
    assert found == SEED_SHA256


def test_inline_json_examples_equal_the_seeds(spec: dict[str, object], seeds: Path) -> None:
    post = spec["paths"]["/messages"]["post"]  # type: ignore[index]
    request = post["requestBody"]["content"]["application/json"]["examples"]["documented"]["value"]
    response = post["responses"]["202"]["content"]["application/json"]["examples"]["documented"][
        "value"
    ]
    assert request == json.loads((seeds / "send-request.json").read_text())
    assert response == json.loads((seeds / "send-response.json").read_text())


def test_xml_examples_point_at_the_seed_copies(spec: dict[str, object]) -> None:
    post = spec["paths"]["/messages"]["post"]  # type: ignore[index]
    req = post["requestBody"]["content"]["application/xml"]["examples"]["documented"]
    res = post["responses"]["202"]["content"]["application/xml"]["examples"]["documented"]
    assert req["externalValue"] == "examples/send-request.xml"
    assert res["externalValue"] == "examples/send-response.xml"


@pytest.mark.parametrize("name", ["send-request.xml", "send-response.xml"])
def test_seed_xml_validates_against_the_xsd(
    schema: xmlschema.XMLSchema, seeds: Path, name: str
) -> None:
    schema.validate(str(seeds / name))


def test_xsd_refuses_what_the_contract_forbids(schema: xmlschema.XMLSchema) -> None:
    too_many = "".join(f"<To>2782{i:07d}</To>" for i in range(201))
    bad = [
        "<SendMessageRequest><To>27821234567</To></SendMessageRequest>",  # no Content
        "<SendMessageRequest><Content>x</Content></SendMessageRequest>",  # no To
        f"<SendMessageRequest><Content>x</Content>{too_many}</SendMessageRequest>",
        "<SendMessageRequest><Content>x</Content><To>1</To><UserDataHeader>0G</UserDataHeader></SendMessageRequest>",
        "<SendMessageRequest><Content>x</Content><To>1</To><ValidityPeriod>0</ValidityPeriod></SendMessageRequest>",
        "<SendMessageRequest><Content>x</Content><To>1</To><Charset>EBCDIC</Charset></SendMessageRequest>",
        "<SendMessageRequest><Content>x</Content><To>1</To>"
        "<ScheduledDeliveryTime>2017-02-27T14:30:00+02:00</ScheduledDeliveryTime></SendMessageRequest>",
    ]
    for doc in bad:
        assert not schema.is_valid(doc), doc


def test_recipients_are_any_string_and_the_client_rule_is_an_extension(
    spec: dict[str, object], schema: xmlschema.XMLSchema
) -> None:
    """The API answers any string in `to` with 202, refusing a bad number in its own entry
    (105): the request schemas say so, and the client's rule is `x-client-pattern`, which
    codegen puts in the tables."""
    from clickatell_wire.tables import send_field

    phone = spec["components"]["schemas"]["PhoneNumber"]  # type: ignore[index]
    assert "pattern" not in phone
    rule = phone["x-client-pattern"]
    assert (send_field("to").pattern, send_field("to").client_pattern) == (None, rule)
    odd = ["not-a-number", "0821234567", "", "+"]
    document = {"content": "x", "to": odd}
    decoded = msgspec.json.decode(json.dumps(document), type=models.SendMessageRequest)
    assert decoded.to == odd
    recipients = "".join(f"<To>{number}</To>" for number in odd)
    assert schema.is_valid(
        f"<SendMessageRequest><Content>x</Content>{recipients}</SendMessageRequest>"
    )


# --- round trips through the generated code -----------------------------------------------------


def test_json_request_seed_round_trips(seeds: Path) -> None:
    raw = (seeds / "send-request.json").read_bytes()
    model = msgspec.json.decode(raw, type=models.SendMessageRequest)
    assert model.from_ == "380671234567"
    assert model.to == ["+380976543211", "380976543212"]
    assert model.validity_period == 1
    assert json.loads(msgspec.json.encode(model)) == json.loads(raw)


def test_json_response_seed_round_trips(seeds: Path) -> None:
    raw = (seeds / "send-response.json").read_bytes()
    model = msgspec.json.decode(raw, type=models.SendMessagesResponse)
    assert isinstance(model.messages, list)
    assert [m.api_message_id for m in model.messages] == [
        "af750c2dc53e4e4c88c39b3b48756d3a",
        "abcdec2dc53e4e4c88c39b3b48756d3a",
    ]
    assert json.loads(msgspec.json.encode(model)) == json.loads(raw)


def test_json_response_models_are_tolerant() -> None:
    # No top-level error keys, errorCode as a string, an old string-only error, unknown fields.
    raw = (
        b'{"messages":[{"apiMessageId":null,"accepted":false,"to":"27111111111",'
        b'"error":"Invalid destination address.","surprise":{"x":1}}],"requestId":"r1",'
        b'"errorCode":"105"}'
    )
    model = msgspec.json.decode(raw, type=models.SendMessagesResponse, strict=False)
    assert model.error_code == 105
    assert isinstance(model.messages, list)
    assert model.messages[0].error == "Invalid destination address."
    assert model.messages[0].error_code is msgspec.UNSET


def test_xml_request_seed_round_trips_through_the_codec(seeds: Path) -> None:
    raw = (seeds / "send-request.xml").read_bytes()
    model = codec.decode_send_message_request(raw)
    assert model.from_value == "380671234567"
    assert model.to == ["+380685555555"]
    assert _c14n(codec.encode_send_message_request(model)) == _c14n(raw)


def test_xml_response_seed_round_trips_through_the_codec(seeds: Path) -> None:
    raw = (seeds / "send-response.xml").read_bytes()
    model = codec.decode_send_messages_response(raw)
    assert model.messages is not None
    assert model.messages.message[0].api_message_id == "174319bc027f45d989728093cc170107"
    assert model.messages.message[0].accepted is True
    assert _c14n(codec.encode_send_messages_response(model)) == _c14n(raw)


@pytest.mark.parametrize(
    ("name", "cls"),
    [("send-request.xml", SendMessageRequest), ("send-response.xml", SendMessagesResponse)],
)
def test_codec_agrees_with_xsdata_itself(seeds: Path, name: str, cls: type[object]) -> None:
    """The emitted codec is a faster path to xsdata's models, not a different reading of the XSD."""
    raw = (seeds / name).read_bytes()
    parser = XmlParser(config=ParserConfig(fail_on_unknown_properties=False))
    by_xsdata = parser.from_bytes(raw, cls)
    decode = (
        codec.decode_send_message_request
        if cls is SendMessageRequest
        else codec.decode_send_messages_response
    )
    assert decode(raw) == by_xsdata
    encoded = XmlSerializer().render(by_xsdata)
    assert _c14n(encoded) == _c14n(raw)


def test_codec_output_validates_against_the_xsd(schema: xmlschema.XMLSchema, seeds: Path) -> None:
    request = codec.decode_send_message_request((seeds / "send-request.xml").read_bytes())
    request.to = [f"2782{i:07d}" for i in range(200)]
    request.content = 'a <b> & "c" \r\n é € 😀'
    encoded = codec.encode_send_message_request(request)
    schema.validate(encoded.decode())
    again = codec.decode_send_message_request(encoded)
    assert again == request  # the carriage return and markup survive the trip


def test_xml_codec_is_tolerant_when_reading() -> None:
    doc = (
        b"<SendMessagesResponse><Messages><Message><Accepted>false</Accepted><To>1</To>"
        b"<Unknown>x</Unknown><ErrorCode> 105 </ErrorCode></Message></Messages>"
        b"<RequestId>abc</RequestId></SendMessagesResponse>"
    )
    model = codec.decode_send_messages_response(doc)
    assert model.messages is not None
    (message,) = model.messages.message
    assert (message.accepted, message.to, message.error_code, message.api_message_id) == (
        False,
        "1",
        105,
        None,
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("false", False), ("1", True), ("0", False), (" true\n", True), ("", None)],
)
def test_xml_codec_reads_every_boolean_form_the_xsd_allows(text: str, value: bool | None) -> None:
    # "true" is read with no call; every other form by the full check (xs:boolean, trimmed).
    doc = (
        b"<SendMessagesResponse><Messages><Message><Accepted>%s</Accepted>"
        b"</Message></Messages></SendMessagesResponse>" % text.encode()
    )
    if value is None:
        with pytest.raises(codec.XmlDecodeError, match="Message/Accepted"):
            codec.decode_send_messages_response(doc)
        return
    model = codec.decode_send_messages_response(doc)
    assert model.messages is not None
    assert [m.accepted for m in model.messages.message] == [value]


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        (b"<SendMessagesResponse><Messages>", "not well-formed"),
        (b"<Other/>", "expected a <SendMessagesResponse>"),
        (
            b"<SendMessagesResponse><ErrorCode>x1</ErrorCode></SendMessagesResponse>",
            "SendMessagesResponse/ErrorCode",
        ),
        (
            b"<SendMessagesResponse><Messages><Message><Accepted>yes</Accepted></Message></Messages></SendMessagesResponse>",
            "SendMessagesResponse/Messages/Message/Accepted",
        ),
    ],
)
def test_xml_codec_names_what_is_wrong(doc: bytes, problem: str) -> None:
    with pytest.raises(codec.XmlDecodeError, match=problem):
        codec.decode_send_messages_response(doc)


def test_xml_codec_escapes_each_list_item_that_is_not_letters_and_digits_alone() -> None:
    # A recipient of letters and digits alone (every number) is written as it is; anything
    # else goes through the full check and escaping, as a single value does.
    request = SendMessageRequest(content="x", to=["27821234567", "a&b<c>\r", "٣٤", "+2782"])
    encoded = codec.encode_send_message_request(request)
    assert b"<To>27821234567</To><To>a&amp;b&lt;c&gt;&#13;</To>" in encoded
    assert codec.decode_send_message_request(encoded).to == request.to
    with pytest.raises(codec.XmlEncodeError, match="SendMessageRequest/To"):
        codec.encode_send_message_request(SendMessageRequest(content="x", to=["1", "bell \x07"]))


def test_xml_codec_refuses_to_write_what_xml_cannot_carry() -> None:
    request = SendMessageRequest(content="bell \x07", to=["1"])
    with pytest.raises(codec.XmlEncodeError, match="SendMessageRequest/Content"):
        codec.encode_send_message_request(request)


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE SendMessagesResponse><SendMessagesResponse/>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE SendMessagesResponse>'
        "<SendMessagesResponse/>".encode("utf-16"),
        '<!DOCTYPE SendMessagesResponse [<!ENTITY a "b">]><SendMessagesResponse/>',
    ],
    ids=["utf-8", "utf-16", "str"],
)
def test_the_codec_refuses_a_doctype_in_any_encoding(document: bytes | str) -> None:
    """(UTF-8 answers are scanned for `<!DOCTYPE` and parsed by the C tree builder; anything
    else by a builder that stops at the DOCTYPE event: both refuse it.)"""
    with pytest.raises(codec.XmlDecodeError, match="declares a DOCTYPE"):
        codec.decode_send_messages_response(document)


def test_the_word_doctype_in_a_comment_is_not_a_doctype() -> None:
    document = b"<SendMessagesResponse><!-- <!DOCTYPE x> --><Error>e</Error></SendMessagesResponse>"
    assert codec.decode_send_messages_response(document).error == "e"
