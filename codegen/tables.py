"""The facts the hand-written layers read as data, gathered from the spec for `tables.py.jinja`:
the send request's fields, the operations, the API's error codes and a message's statuses.

Each field carries every name it has (Python keyword, JSON key, XML element, the JSON model's and
the XML class's attribute), its kind and constraints and its description, so the facade, the
CLI, the bulk engine and the sandbox can validate, build, parse and record a field they have
never heard of. The Python annotation of each keyword is decided here, from the field's kind and
its `x-value` (what the value means beyond its JSON type), because that is the one Python-specific
choice the spec cannot make.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .schemas import FieldSpec, object_fields
from .spec_reader import Spec, SpecError, snake

__all__ = ["ErrorCodeRow", "FieldRow", "MessageStatusRow", "OperationRow", "Tables", "build"]

SEND_SCHEMA = "SendMessageRequest"

# x-value -> the annotation the facade accepts (it converts to the wire's type itself).
_VALUE_TYPES: Mapping[str, str] = {
    "datetime": "datetime",
    "minutes": "timedelta | int",
    "octets": "bytes | str",
    "phone-number": "str",
}
# x-value -> what the keyword's docstring adds about the Python value.
_VALUE_HINTS: Mapping[str, str] = {
    "datetime": "Pass a timezone-aware datetime; the SDK writes the API's format.",
    "minutes": "Pass a timedelta of whole minutes, or the minutes as an int.",
    "octets": "Pass bytes, or the octets as a hex string.",
    "phone-number": "Written as recipients may be; the SDK normalises it.",
}
_KIND_TYPES: Mapping[str, str] = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
}
_ERROR_KEYS = ("code", "error", "description", "status", "scope", "kind", "evidence", "source")
_SCOPES = ("request", "recipient")
_EVIDENCE = ("documented", "observed", "legacy", "inferred")
_STATUS_KEYS = ("code", "name", "description", "kind", "reached_gateway", "evidence", "source")
_STATUS_KINDS = (
    "unknown",
    "queued",
    "scheduled",
    "gateway",
    "received",
    "failed",
    "expired",
    "cancelled",
)


@dataclass(frozen=True)
class FieldRow:
    name: str
    json_name: str
    xml_element: str
    model_attr: str
    xml_attr: str
    xml_enum: str | None
    kind: str
    value: str | None
    required: bool
    enum: tuple[str, ...]
    default: Any
    minimum: float | None
    maximum: float | None
    min_length: int | None
    max_length: int | None
    pattern: str | None
    client_pattern: str | None
    min_items: int | None
    max_items: int | None
    carried_by: tuple[str, ...]
    description: str
    annotation: str
    python_doc: str


@dataclass(frozen=True)
class OperationRow:
    operation_id: str
    name: str
    method: str
    path: str
    summary: str
    security: str | None
    request_media: tuple[str, ...]
    response_media: tuple[str, ...]


@dataclass(frozen=True)
class ErrorCodeRow:
    code: int
    error: str
    description: str
    status: int
    scope: str
    kind: str
    evidence: str
    source: str


@dataclass(frozen=True)
class MessageStatusRow:
    code: int
    name: str
    description: str
    kind: str
    reached_gateway: bool
    evidence: str
    source: str


@dataclass(frozen=True)
class Tables:
    send_fields: tuple[FieldRow, ...]
    operations: tuple[OperationRow, ...]
    error_codes: tuple[ErrorCodeRow, ...]
    error_kinds: tuple[str, ...]
    message_statuses: tuple[MessageStatusRow, ...]
    status_kinds: tuple[str, ...] = _STATUS_KINDS


def _annotation(spec: FieldSpec) -> str:
    if spec.value is not None:
        if spec.value not in _VALUE_TYPES:
            raise SpecError(
                f"{SEND_SCHEMA}.{spec.json_name}: x-value {spec.value!r} is not one of"
                f" {', '.join(_VALUE_TYPES)}"
            )
        return _VALUE_TYPES[spec.value]
    if spec.enum:
        return "Literal[" + ", ".join(repr(v) for v in spec.enum) + "]"
    if spec.kind == "array":
        assert spec.item is not None
        return f"list[{_KIND_TYPES[spec.item.kind]}]"
    if spec.kind not in _KIND_TYPES:
        raise SpecError(f"{SEND_SCHEMA}.{spec.json_name}: a {spec.kind} cannot be a send option")
    return _KIND_TYPES[spec.kind]


def _send_fields(doc: dict[str, Any], spec: Spec, view: Mapping[str, Any]) -> tuple[FieldRow, ...]:
    attrs: Mapping[str, str] = view["models"][SEND_SCHEMA]
    element = spec.xml_roots.get(SEND_SCHEMA, SEND_SCHEMA)
    xml_class = next(c for c in view["xml"]["classes"] if c["element"] == element)
    xml_by_tag = {f["tag"]: f for f in xml_class["fields"]}
    carriers: dict[str, list[str]] = {}
    for op in spec.operations:
        for param in op.parameters:
            if param.location == "query":
                carriers.setdefault(param.name, []).append(op.operation_id)
    sends = [op.operation_id for op in spec.operations if op.body_schema == SEND_SCHEMA]
    rows = []
    for field in object_fields(doc, SEND_SCHEMA):
        xml = xml_by_tag[field.xml_name]  # the contract check has made sure it exists
        item = field.item
        rows.append(
            FieldRow(
                name=snake(field.json_name),
                json_name=field.json_name,
                xml_element=field.xml_name,
                model_attr=attrs[field.json_name],
                xml_attr=xml["attr"],
                xml_enum=xml["target"] if xml["kind"] == "enum" else None,
                kind=field.kind,
                value=field.value,
                required=field.required,
                enum=field.enum,
                default=field.default,
                minimum=field.minimum,
                maximum=field.maximum,
                min_length=field.min_length if item is None else item.min_length,
                max_length=field.max_length if item is None else item.max_length,
                pattern=field.pattern if item is None else item.pattern,
                client_pattern=field.client_pattern if item is None else item.client_pattern,
                min_items=field.min_items,
                max_items=field.max_items,
                carried_by=tuple(sorted([*sends, *carriers.get(field.json_name, [])])),
                description=field.description,
                annotation=_annotation(field),
                python_doc=" ".join(
                    part
                    for part in (field.description, _VALUE_HINTS.get(field.value or "", ""))
                    if part
                ),
            )
        )
    return tuple(rows)


def _operations(spec: Spec) -> tuple[OperationRow, ...]:
    return tuple(
        OperationRow(
            operation_id=op.operation_id,
            name=op.py_name,
            method=op.method,
            path=op.path,
            summary=op.summary,
            security=op.security[0] if op.security else None,
            request_media=op.body_media,
            response_media=tuple(op.response_schemas),
        )
        for op in spec.operations
    )


def _error_codes(doc: dict[str, Any]) -> tuple[tuple[ErrorCodeRow, ...], tuple[str, ...]]:
    raw = doc.get("x-error-codes")
    if not isinstance(raw, list) or not raw:
        raise SpecError("x-error-codes: the spec must list the API's error codes")
    rows: list[ErrorCodeRow] = []
    seen: set[int] = set()
    for index, entry in enumerate(raw):
        where = f"x-error-codes[{index}]"
        if not isinstance(entry, dict) or set(entry) != set(_ERROR_KEYS):
            raise SpecError(f"{where}: needs exactly the keys {', '.join(_ERROR_KEYS)}")
        code = entry["code"]
        if not isinstance(code, int) or code in seen:
            raise SpecError(f"{where}: code must be an integer listed once, not {code!r}")
        seen.add(code)
        if entry["scope"] not in _SCOPES:
            raise SpecError(f"{where}: scope must be one of {', '.join(_SCOPES)}")
        if entry["evidence"] not in _EVIDENCE:
            raise SpecError(f"{where}: evidence must be one of {', '.join(_EVIDENCE)}")
        rows.append(
            ErrorCodeRow(
                code=code,
                error=str(entry["error"]),
                description=" ".join(str(entry["description"]).split()),
                status=int(entry["status"]),
                scope=str(entry["scope"]),
                kind=str(entry["kind"]),
                evidence=str(entry["evidence"]),
                source=" ".join(str(entry["source"]).split()),
            )
        )
    rows.sort(key=lambda row: row.code)
    return tuple(rows), tuple(sorted({row.kind for row in rows}))


def _message_statuses(doc: dict[str, Any]) -> tuple[MessageStatusRow, ...]:
    raw = doc.get("x-message-statuses")
    if not isinstance(raw, list) or not raw:
        raise SpecError("x-message-statuses: the spec must list a message's statuses")
    rows: list[MessageStatusRow] = []
    seen: set[int] = set()
    for index, entry in enumerate(raw):
        where = f"x-message-statuses[{index}]"
        if not isinstance(entry, dict) or set(entry) != set(_STATUS_KEYS):
            raise SpecError(f"{where}: needs exactly the keys {', '.join(_STATUS_KEYS)}")
        code = entry["code"]
        if not isinstance(code, int) or isinstance(code, bool) or code in seen:
            raise SpecError(f"{where}: code must be an integer listed once, not {code!r}")
        seen.add(code)
        if entry["kind"] not in _STATUS_KINDS:
            raise SpecError(f"{where}: kind must be one of {', '.join(_STATUS_KINDS)}")
        if not isinstance(entry["reached_gateway"], bool):
            raise SpecError(f"{where}: reached_gateway must be true or false")
        if entry["evidence"] not in _EVIDENCE:
            raise SpecError(f"{where}: evidence must be one of {', '.join(_EVIDENCE)}")
        rows.append(
            MessageStatusRow(
                code=code,
                name=str(entry["name"]),
                description=" ".join(str(entry["description"]).split()),
                kind=str(entry["kind"]),
                reached_gateway=entry["reached_gateway"],
                evidence=str(entry["evidence"]),
                source=" ".join(str(entry["source"]).split()),
            )
        )
    rows.sort(key=lambda row: row.code)
    return tuple(rows)


def build(doc: dict[str, Any], spec: Spec, view: Mapping[str, Any]) -> Tables:
    """Everything `tables.py.jinja` renders."""
    codes, kinds = _error_codes(doc)
    return Tables(
        send_fields=_send_fields(doc, spec, view),
        operations=_operations(spec),
        error_codes=codes,
        error_kinds=kinds,
        message_statuses=_message_statuses(doc),
    )
