"""The OpenAPI schemas' object properties, flattened into what the tables and the contract check
compare: kind, constraints, XML name, description.

Written by hand because the check needs the spec's own constraints side by side with the XSD's,
which neither generator exposes: `$ref` and `allOf` are followed and merged, and everything this
project's contract does not use is refused with the place named, not guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .spec_reader import SpecError, resolve_ref

__all__ = ["FieldSpec", "object_fields", "resolve"]

_KINDS = ("string", "integer", "number", "boolean", "array", "object")


@dataclass(frozen=True)
class FieldSpec:
    """One property of an object schema, with every constraint the contract puts on it."""

    json_name: str
    xml_name: str
    kind: str  # one of _KINDS
    nullable: bool
    required: bool
    description: str
    enum: tuple[str, ...] = ()
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    client_pattern: str | None = None  # x-client-pattern: a client's rule the server does not apply
    min_items: int | None = None
    max_items: int | None = None
    xml_wrapped: bool = False
    value: str | None = None  # x-value: what the value means beyond its type (datetime...)
    ref: str | None = None  # the schema an object (or an array's items) refers to
    item: FieldSpec | None = None  # an array's items


def resolve(doc: dict[str, Any], node: Any, where: str) -> tuple[dict[str, Any], str | None]:
    """A schema with `$ref`s followed and `allOf` members merged (the outer keys win), and the
    name of the components/schemas entry it came from, if it is one."""
    name = None
    siblings: dict[str, Any] = {}
    if isinstance(node, dict) and "$ref" in node:
        ref = str(node["$ref"])
        prefix = "#/components/schemas/"
        name = ref[len(prefix) :] if ref.startswith(prefix) else None
        # OpenAPI 3.1: keywords beside a $ref apply too (a property's own xml name, say).
        siblings = {key: value for key, value in node.items() if key != "$ref"}
    node = resolve_ref(doc, node)
    if siblings:
        merged_ref, _ = resolve(doc, node, where)
        merged_ref.update(siblings)
        return merged_ref, name
    if not isinstance(node, dict):
        raise SpecError(f"{where}: a schema must be an object")
    if "allOf" not in node:
        return dict(node), name
    merged: dict[str, Any] = {}
    for member in node["allOf"]:
        part, _ = resolve(doc, member, where)
        merged.update(part)
    merged.update({key: value for key, value in node.items() if key != "allOf"})
    return merged, name


def _kind(schema: dict[str, Any], where: str) -> tuple[str, bool]:
    kind = schema.get("type")
    nullable = False
    if isinstance(kind, list):
        nullable = "null" in kind
        rest = [k for k in kind if k != "null"]
        if len(rest) != 1:
            raise SpecError(f"{where}: one type (and optionally null) per field, not {kind}")
        kind = rest[0]
    if kind is None and "enum" in schema:
        kind = "string"
    if kind not in _KINDS:
        raise SpecError(f"{where}: type {kind!r} is not supported")
    return str(kind), nullable


def _client_pattern(schema: dict[str, Any], where: str) -> str | None:
    """`x-client-pattern`: what a client refuses before sending, which the server takes (and
    answers in its own way), so it cannot be the schema's `pattern`."""
    value = schema.get("x-client-pattern")
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise SpecError(f"{where}: x-client-pattern must be a regular expression (a string)")
    if "pattern" in schema:
        raise SpecError(f"{where}: a pattern and an x-client-pattern; a value has one rule")
    try:
        re.compile(value)
    except re.error as exc:
        raise SpecError(f"{where}: x-client-pattern is not a regular expression: {exc}") from None
    return value


def _field(doc: dict[str, Any], name: str, node: Any, required: bool, where: str) -> FieldSpec:
    schema, ref = resolve(doc, node, where)
    kind, nullable = _kind(schema, where)
    xml = schema.get("xml", {}) if isinstance(schema.get("xml"), dict) else {}
    item = None
    if kind == "array":
        item = _field(doc, name, schema.get("items", {}), False, f"{where}[]")
        ref = item.ref
    return FieldSpec(
        json_name=name,
        xml_name=str(xml.get("name", name)),
        kind=kind,
        nullable=nullable,
        required=required,
        description=" ".join(str(schema.get("description", "")).split()),
        enum=tuple(str(v) for v in schema.get("enum", ()) if v is not None),
        default=schema.get("default"),
        minimum=schema.get("minimum"),
        maximum=schema.get("maximum"),
        min_length=schema.get("minLength"),
        max_length=schema.get("maxLength"),
        pattern=schema.get("pattern"),
        client_pattern=_client_pattern(schema, where),
        min_items=schema.get("minItems"),
        max_items=schema.get("maxItems"),
        xml_wrapped=bool(xml.get("wrapped", False)),
        value=schema.get("x-value"),
        ref=ref if kind in ("object", "array") else None,
        item=item,
    )


def object_fields(doc: dict[str, Any], schema_name: str) -> list[FieldSpec]:
    """The properties of `components/schemas/<schema_name>`, in the spec's order."""
    where = f"components/schemas/{schema_name}"
    schemas = doc.get("components", {}).get("schemas", {})
    if schema_name not in schemas:
        raise SpecError(f"{where} does not exist")
    schema, _ = resolve(doc, schemas[schema_name], where)
    required = set(schema.get("required", ()))
    return [
        _field(doc, name, node, name in required, f"{where}.{name}")
        for name, node in schema.get("properties", {}).items()
    ]
