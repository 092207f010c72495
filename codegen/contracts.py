"""The two contracts must say the same thing: every XML document's schema in spec/openapi.yaml
against its element in spec/messages.xsd, field by field.

The OpenAPI side is read from the YAML (`schemas.object_fields`); the XSD side from the xsdata
classes generated from it (`introspect`), so this compares what each generator will actually
emit. A field, a type, an enum value, a bound, a length, a pattern or an occurrence that is in
one contract and not in the other fails codegen, naming the field and both files; without this,
a field added to one file only regenerates cleanly and the JSON and XML clients quietly differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .schemas import FieldSpec, object_fields

__all__ = ["ContractMismatch", "compare"]

# OpenAPI kind -> the xsdata kinds that carry it.
_KINDS: Mapping[str, tuple[str, ...]] = {
    "string": ("str", "enum"),
    "integer": ("int",),
    "number": ("float",),
    "boolean": ("bool",),
    "object": ("class",),
}
# OpenAPI keyword -> xsdata facet, for values (arrays' occurrences are compared apart).
_FACETS: Mapping[str, str] = {
    "minimum": "min_inclusive",
    "maximum": "max_inclusive",
    "min_length": "min_length",
    "max_length": "max_length",
    "pattern": "pattern",
}
_OPENAPI_WORDS: Mapping[str, str] = {
    "minimum": "minimum",
    "maximum": "maximum",
    "min_length": "minLength",
    "max_length": "maxLength",
    "pattern": "pattern",
}
_XSD_WORDS: Mapping[str, str] = {
    "min_inclusive": "minInclusive",
    "max_inclusive": "maxInclusive",
    "min_length": "minLength",
    "max_length": "maxLength",
    "pattern": "pattern",
}


class ContractMismatch(ValueError):
    """The contracts disagree; `problems` has one line per difference."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class _Comparison:
    def __init__(
        self, doc: dict[str, Any], xml_view: Mapping[str, Any], openapi: str, xsd: str
    ) -> None:
        self.doc = doc
        self.classes = {c["name"]: c for c in xml_view["classes"]}
        self.by_element = {c["element"]: c for c in xml_view["classes"]}
        self.enums: Mapping[str, list[str]] = xml_view.get("enum_values", {})
        self.openapi = openapi
        self.xsd = xsd
        self.problems: list[str] = []
        self.seen: set[tuple[str, str]] = set()

    def differ(self, where: str, xml_where: str, what: str, ours: object, theirs: object) -> None:
        self.problems.append(
            f"{where}: {what} is {_show(ours)} in {self.openapi} but {_show(theirs)} in"
            f" {self.xsd} ({xml_where})"
        )

    def objects(self, schema_name: str, xml_class: Mapping[str, Any], xml_where: str) -> None:
        if (schema_name, xml_class["name"]) in self.seen:
            return
        self.seen.add((schema_name, xml_class["name"]))
        fields = object_fields(self.doc, schema_name)
        by_tag = {f["tag"]: f for f in xml_class["fields"]}
        for spec in fields:
            where = f"{schema_name}.{spec.json_name}"
            found = by_tag.pop(spec.xml_name, None)
            if found is None:
                self.problems.append(
                    f"{where}: in {self.openapi} but {self.xsd} has no element"
                    f" {xml_where}/{spec.xml_name}"
                )
                continue
            self.field(spec, found, where, f"{xml_where}/{spec.xml_name}")
        for tag in by_tag:
            self.problems.append(
                f"{xml_where}/{tag}: in {self.xsd} but {self.openapi} has no property of"
                f" {schema_name} named (or xml-named) {tag!r}"
            )

    def field(self, spec: FieldSpec, xml: Mapping[str, Any], where: str, xml_where: str) -> None:
        if spec.kind == "array":
            self.array(spec, xml, where, xml_where)
            return
        if xml["is_list"]:
            self.differ(where, xml_where, "the number of values", "one", "a list")
            return
        self.required(spec.required, xml, where, xml_where)
        self.value(spec, xml, xml["facets"], where, xml_where)

    def required(self, required: bool, xml: Mapping[str, Any], where: str, xml_where: str) -> None:
        xml_required = bool(xml["required"]) or xml["facets"].get("min_occurs", 0) >= 1
        if required != xml_required:
            self.differ(
                where,
                xml_where,
                "whether it is required",
                "required" if required else "optional",
                "required" if xml_required else "optional",
            )

    def array(self, spec: FieldSpec, xml: Mapping[str, Any], where: str, xml_where: str) -> None:
        item = spec.item
        assert item is not None
        if spec.xml_wrapped:
            # <Messages><Message/>...</Messages>: a wrapper element holding the repeated item.
            if xml["kind"] != "class":
                self.differ(where, xml_where, "the XML shape", "a wrapped list", xml["kind"])
                return
            self.required(spec.required, xml, where, xml_where)
            wrapper = self.classes[xml["target"]]
            if len(wrapper["fields"]) != 1 or not wrapper["fields"][0]["is_list"]:
                self.differ(
                    where, xml_where, "the wrapper", "one repeated element", "something else"
                )
                return
            inner = wrapper["fields"][0]
            self.occurrences(spec, inner["facets"], where, f"{xml_where}/{inner['tag']}")
            self.value(item, inner, inner["facets"], f"{where}[]", f"{xml_where}/{inner['tag']}")
            return
        if not xml["is_list"]:
            self.differ(where, xml_where, "the number of values", "a list", "one")
            return
        facets = xml["facets"]
        xml_required = facets.get("min_occurs", 0) >= 1
        if spec.required != xml_required:
            self.differ(
                where,
                xml_where,
                "whether it is required",
                "required" if spec.required else "optional",
                "required" if xml_required else "optional",
            )
        self.occurrences(spec, facets, where, xml_where)
        self.value(item, xml, facets, f"{where}[]", xml_where)

    def occurrences(
        self, spec: FieldSpec, facets: Mapping[str, Any], where: str, xml_where: str
    ) -> None:
        low = spec.min_items if spec.min_items is not None else 0
        xml_low = facets.get("min_occurs", 0)
        if spec.required and low == 0:
            low = 1 if xml_low >= 1 else 0  # "required" alone asks for the key, not an item
        if low != xml_low:
            self.differ(where, xml_where, "minItems / minOccurs", low, xml_low)
        high = spec.max_items
        xml_high = facets.get("max_occurs")
        if xml_high is not None and xml_high >= 2**31 - 1:
            xml_high = None  # unbounded
        if high != xml_high:
            self.differ(where, xml_where, "maxItems / maxOccurs", high, xml_high)

    def value(
        self,
        spec: FieldSpec,
        xml: Mapping[str, Any],
        facets: Mapping[str, Any],
        where: str,
        xml_where: str,
    ) -> None:
        kinds = _KINDS.get(spec.kind, ())
        if xml["kind"] not in kinds:
            self.differ(where, xml_where, "the type", spec.kind, xml["kind"])
            return
        if spec.kind == "object":
            if spec.ref is None:
                self.problems.append(f"{where}: objects must $ref a named schema")
                return
            self.objects(spec.ref, self.classes[xml["target"]], xml_where)
            return
        xml_enum = tuple(self.enums.get(xml["target"], ())) if xml["kind"] == "enum" else ()
        if sorted(spec.enum) != sorted(xml_enum):
            self.differ(where, xml_where, "the enum", list(spec.enum), list(xml_enum))
        for ours, theirs in _FACETS.items():
            mine = getattr(spec, ours)
            other = facets.get(theirs)
            if ours == "pattern":
                mine = _unanchored(mine)
            if mine != other and not (
                isinstance(mine, int | float) and isinstance(other, int | float) and mine == other
            ):
                self.differ(
                    where, xml_where, f"{_OPENAPI_WORDS[ours]} / {_XSD_WORDS[theirs]}", mine, other
                )


def compare(
    doc: dict[str, Any],
    xml_roots: Mapping[str, str],
    xml_view: Mapping[str, Any],
    *,
    openapi: str,
    xsd: str,
) -> None:
    """Raise `ContractMismatch` unless every schema sent or read as XML (`xml_roots`: schema
    name -> root element) says in the OpenAPI document exactly what the XSD says."""
    comparison = _Comparison(doc, xml_view, openapi, xsd)
    for schema_name, element in sorted(xml_roots.items()):
        xml_class = comparison.by_element.get(element)
        if xml_class is None:
            comparison.problems.append(
                f"{schema_name}: {openapi} sends or reads it as <{element}>, which {xsd} does"
                " not declare"
            )
            continue
        comparison.objects(schema_name, xml_class, element)
    if comparison.problems:
        raise ContractMismatch(comparison.problems)


def _unanchored(pattern: str | None) -> str | None:
    """XSD patterns match the whole value; OpenAPI's need `^...$` for that."""
    if pattern is None:
        return None
    return pattern.removeprefix("^").removesuffix("$")


def _show(value: object) -> str:
    return "not set" if value is None else repr(value)
