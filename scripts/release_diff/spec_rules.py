"""OpenAPI diff rules: the core of oasdiff's breaking-change checks, over the parsed YAML.

oasdiff (the reference for these rules) needs a Go toolchain this project's machines cannot
install, so its core checks are re-implemented here over `yaml.safe_load` output, with local
`$ref`s resolved. Direction matters: a request schema that accepts *less* breaks clients that
send, a response schema that returns *more* (or differently) breaks clients that read. Rule ids
and levels follow oasdiff, except where the project is deliberately stricter (removing a request
property or an optional response property, and changing a request pattern, are `breaking`).

Not covered (reviewed by hand): security schemes, callbacks and webhooks, response headers, links,
servers, and external (non-`#/`) `$ref`s, which are reported as a note rather than followed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .findings import Finding, Level, Section, merge_duplicates, whole_file_section

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
IGNORED_HEADERS = {"accept", "content-type", "authorization"}  # OAS: described elsewhere

# JSON Schema bounds: an upper bound that drops, or a lower bound that rises, accepts less.
UPPER_BOUNDS = {
    "maxLength": "max-length",
    "maximum": "max",
    "exclusiveMaximum": "exclusive-max",
    "maxItems": "max-items",
    "maxProperties": "max-properties",
}
LOWER_BOUNDS = {
    "minLength": "min-length",
    "minimum": "min",
    "exclusiveMinimum": "exclusive-min",
    "minItems": "min-items",
    "minProperties": "min-properties",
}


def escape(token: str) -> str:
    """RFC 6901 escaping, so pointers stay valid for paths like `/messages`."""
    return token.replace("~", "~0").replace("/", "~1")


class Resolver:
    """Follows local `$ref`s in one document; records the ones it cannot follow."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.notes: list[str] = []

    def deref(self, node: Any) -> tuple[Any, str | None]:
        """The node a `$ref` chain ends at, and the last component name on the way (for text)."""
        name: str | None = None
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref: str = node["$ref"]
            if not ref.startswith("#/"):
                note = f"external $ref not followed: {ref}"
                if note not in self.notes:
                    self.notes.append(note)
                return node, name
            if ref in seen:
                return node, name
            seen.add(ref)
            target: Any = self.root
            for raw in ref[2:].split("/"):
                token = raw.replace("~1", "/").replace("~0", "~")
                if isinstance(target, dict) and token in target:
                    target = target[token]
                else:
                    note = f"dangling $ref: {ref}"
                    if note not in self.notes:
                        self.notes.append(note)
                    return {}, name
            name = ref.rsplit("/", 1)[-1]
            node = target
        return node, name

    def effective(self, node: Any) -> Any:
        """The schema with `allOf` folded in, so composed objects compare by their properties."""
        node, _ = self.deref(node)
        if not isinstance(node, dict) or "allOf" not in node:
            return node
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        props: dict[str, Any] = dict(merged.get("properties") or {})
        required: list[str] = list(merged.get("required") or [])
        for part in node.get("allOf") or []:
            sub = self.effective(part)
            if not isinstance(sub, dict):
                continue
            for k, v in sub.items():
                if k == "properties":
                    for pk, pv in (v or {}).items():
                        props.setdefault(pk, pv)
                elif k == "required":
                    required += [r for r in v or [] if r not in required]
                else:
                    merged.setdefault(k, v)
        if props:
            merged["properties"] = props
        if required:
            merged["required"] = required
        return merged

    def signature(self, node: Any) -> str:
        """A comparable text form of a schema (refs by name), used to spot renamed properties."""
        node, name = self.deref(node)
        if name is not None:
            return f"$ref:{name}"
        return json.dumps(node, sort_keys=True, default=str)


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a schema admits; empty means "any". Handles 3.0 `nullable` and 3.1 lists."""
    raw = schema.get("type")
    types: set[str] = set()
    if isinstance(raw, str):
        types.add(raw)
    elif isinstance(raw, list):
        types.update(str(t) for t in raw)
    if not types:
        if "properties" in schema:
            types.add("object")
        elif "items" in schema:
            types.add("array")
    if schema.get("nullable") is True:
        types.add("null")
    return types


def _covers(wide: set[str], narrow: set[str]) -> bool:
    """Whether every value of types `narrow` is also valid under `wide` (integer ⊂ number)."""
    if not wide:
        return True
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _fmt_types(types: set[str]) -> str:
    return "|".join(sorted(types)) if types else "any"


def _enum(schema: dict[str, Any]) -> list[Any] | None:
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return None


def _number(value: Any) -> float | None:
    """A numeric bound, or None (3.0's boolean exclusiveMaximum is not a bound)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


@dataclass
class _Walk:
    """State for comparing the schemas under one root (one body or parameter, one direction)."""

    old: Resolver
    new: Resolver
    where: str
    side: str  # "request" (the SDK sends it), "response" or "webhook" (the SDK reads it)
    root_label: str
    root_subject: str
    out: list[Finding]
    xml: bool = False  # the schema is served as XML, so its `xml` keywords shape the wire
    stack: set[tuple[int, int]] = field(default_factory=set)

    @property
    def request(self) -> bool:
        """Whether the SDK writes documents of this schema (else it reads them)."""
        return self.side == "request"

    def add(self, rule: str, level: Level, text: str, pointer: str) -> None:
        self.out.append(Finding(rule, level, self.where, text, (pointer,)))

    def subject(self, path: str) -> str:
        if not path:
            return self.root_subject
        return f"{self.side}-property"

    def what(self, path: str) -> str:
        if not path:
            return self.root_label
        if path == "[]":
            return f"the items of {self.root_label}"
        return f"property `{path}` of {self.root_label}"

    def compare(self, old_raw: Any, new_raw: Any, ptr: str, path: str) -> None:
        """Compare two schemas at the same logical place, recursing into properties and items."""
        o_node, _ = self.old.deref(old_raw)
        n_node, _ = self.new.deref(new_raw)
        key = (id(o_node), id(n_node))
        if key in self.stack:  # recursive schema: this pair is already being compared above
            return
        self.stack.add(key)
        try:
            self._compare(self.old.effective(o_node), self.new.effective(n_node), ptr, path)
        finally:
            self.stack.discard(key)

    def _compare(self, o: Any, n: Any, ptr: str, path: str) -> None:
        subj, what = self.subject(path), self.what(path)
        if not isinstance(o, dict) or not isinstance(n, dict):
            if o != n:  # boolean schemas (3.1): true/false
                level = Level.BREAKING if (self.request and n is False) else Level.WARNING
                self.add(f"{subj}-schema-changed", level, f"{what}: schema {o!r} -> {n!r}", ptr)
            return
        if not self._types(o, n, ptr, subj, what):
            return  # an incompatible type change makes the finer rules below noise
        self._format(o, n, ptr, subj, what)
        self._enums(o, n, ptr, subj, what)
        self._bounds(o, n, ptr, subj, what)
        self._pattern(o, n, ptr, subj, what)
        if not o.get("deprecated") and n.get("deprecated"):
            self.add(f"{subj}-deprecated", Level.COMPATIBLE, f"{what} is now deprecated", ptr)
        if self.xml:
            self._xml_names(o, n, ptr, subj, what)
        self._properties(o, n, ptr, path)
        self._additional(o, n, ptr, subj, what)
        if "items" in o and "items" in n:
            self.compare(o["items"], n["items"], f"{ptr}/items", f"{path}[]")
        for kw in ("oneOf", "anyOf"):
            self._variants(kw, o, n, ptr, path, subj, what)

    def _types(self, o: dict[str, Any], n: dict[str, Any], ptr: str, subj: str, what: str) -> bool:
        """Type and nullability rules; False when the type changed incompatibly."""
        ot, nt = _types(o), _types(n)
        o_core, n_core = ot - {"null"}, nt - {"null"}
        if o_core != n_core:
            ok = (
                _covers(n_core, o_core) if self.request else (not o_core or _covers(o_core, n_core))
            )
            how = (
                "widened"
                if _covers(n_core, o_core)
                else "narrowed"
                if _covers(o_core, n_core)
                else "changed"
            )
            text = f"{what}: type {how} from {_fmt_types(o_core)} to {_fmt_types(n_core)}"
            self.add(f"{subj}-type-changed", Level.COMPATIBLE if ok else Level.BREAKING, text, ptr)
            if not ok:
                return False
        o_null, n_null = "null" in ot, "null" in nt
        if o_null and not n_null:
            level = Level.BREAKING if self.request else Level.INFO
            self.add(f"{subj}-became-not-nullable", level, f"{what} no longer accepts null", ptr)
        elif n_null and not o_null:
            level = Level.COMPATIBLE if self.request else Level.BREAKING
            self.add(f"{subj}-became-nullable", level, f"{what} may now be null", ptr)
        return True

    def _xml_names(
        self, o: dict[str, Any], n: dict[str, Any], ptr: str, subj: str, what: str
    ) -> None:
        """In an XML body the `xml` keyword is the wire name: changing it is a rename."""
        ox: dict[str, Any] = o.get("xml") or {}
        nx: dict[str, Any] = n.get("xml") or {}
        for key in ("name", "namespace", "prefix", "attribute", "wrapped"):
            if ox.get(key) != nx.get(key):
                text = f"{what}: XML {key} {ox.get(key)!r} -> {nx.get(key)!r}"
                self.add(f"{subj}-xml-{key}-changed", Level.BREAKING, text, ptr)

    def _format(self, o: dict[str, Any], n: dict[str, Any], ptr: str, subj: str, what: str) -> None:
        of, nf = o.get("format"), n.get("format")
        if of == nf:
            return
        text = f"{what}: format {of or 'none'} -> {nf or 'none'}"
        if self.request:
            level = Level.COMPATIBLE if nf is None else Level.BREAKING
        else:
            level = Level.INFO if of is None else Level.WARNING
        self.add(f"{subj}-format-changed", level, text, ptr)

    def _enums(self, o: dict[str, Any], n: dict[str, Any], ptr: str, subj: str, what: str) -> None:
        oe, ne = _enum(o), _enum(n)
        if oe is None and ne is None:
            return
        if oe is not None and ne is not None:
            removed = [v for v in oe if v not in ne]
            added = [v for v in ne if v not in oe]
            if removed:
                text = f"{what}: enum value(s) removed: {', '.join(map(repr, removed))}"
                if not self.request:
                    text += " (clients simply stop receiving them)"
                level = Level.BREAKING if self.request else Level.INFO
                self.add(f"{subj}-enum-value-removed", level, text, ptr)
            if added:
                text = f"{what}: enum value(s) added: {', '.join(map(repr, added))}"
                if not self.request:
                    text += (
                        " (breaks clients that switch exhaustively; the SDK's response models"
                        " are tolerant, so compatible)"
                    )
                self.add(f"{subj}-enum-value-added", Level.COMPATIBLE, text, ptr)
        elif ne is not None:
            text = f"{what}: now restricted to {', '.join(map(repr, ne))}"
            self.add(
                f"{subj}-enum-added", Level.BREAKING if self.request else Level.INFO, text, ptr
            )
        else:
            text = f"{what}: no longer restricted to an enum"
            self.add(
                f"{subj}-enum-removed",
                Level.COMPATIBLE if self.request else Level.WARNING,
                text,
                ptr,
            )

    def _bounds(self, o: dict[str, Any], n: dict[str, Any], ptr: str, subj: str, what: str) -> None:
        for table, upper in ((UPPER_BOUNDS, True), (LOWER_BOUNDS, False)):
            for key, slug in table.items():
                ov, nv = _number(o.get(key)), _number(n.get(key))
                if ov == nv:
                    continue
                if ov is None:
                    tighter, verb = True, "set"
                elif nv is None:
                    tighter, verb = False, "removed"
                else:
                    tighter = nv < ov if upper else nv > ov
                    verb = "decreased" if nv < ov else "increased"
                text = f"{what}: {key} {o.get(key, 'none')} -> {n.get(key, 'none')}"
                if self.request:
                    level = Level.BREAKING if tighter else Level.COMPATIBLE
                else:
                    level = Level.INFO if tighter else Level.WARNING
                self.add(f"{subj}-{slug}-{verb}", level, text, ptr)

    def _pattern(
        self, o: dict[str, Any], n: dict[str, Any], ptr: str, subj: str, what: str
    ) -> None:
        op, np_ = o.get("pattern"), n.get("pattern")
        if op == np_:
            return
        verb = "added" if op is None else "removed" if np_ is None else "changed"
        text = f"{what}: pattern {op!r} -> {np_!r}"
        if self.request:
            level = Level.COMPATIBLE if verb == "removed" else Level.BREAKING
        else:
            level = Level.INFO
        self.add(f"{subj}-pattern-{verb}", level, text, ptr)

    def _properties(self, o: dict[str, Any], n: dict[str, Any], ptr: str, path: str) -> None:
        op: dict[str, Any] = o.get("properties") or {}
        np_: dict[str, Any] = n.get("properties") or {}
        oreq = set(o.get("required") or [])
        nreq = set(n.get("required") or [])
        removed = [p for p in op if p not in np_]
        added = [p for p in np_ if p not in op]
        sigs_added = {p: self.new.signature(np_[p]) for p in added}
        renamed_to: dict[str, str] = {}
        for p in removed:
            sig = self.old.signature(op[p])
            twins = [a for a, s in sigs_added.items() if s == sig and a not in renamed_to.values()]
            if len(twins) == 1:
                renamed_to[p] = twins[0]
        renamed_from = {v: k for k, v in renamed_to.items()}
        prefix = f"{path}." if path else ""
        where_text = self.root_label
        for p in removed:
            full = f"{prefix}{p}"
            hint = f" (looks renamed to `{prefix}{renamed_to[p]}`)" if p in renamed_to else ""
            pptr = f"{ptr}/properties/{escape(p)}"
            if self.request:
                text = f"removed property `{full}` from {where_text}{hint}"
                self.add("request-property-removed", Level.BREAKING, text, pptr)
            else:
                kind = "required" if p in oreq else "optional"
                text = f"removed {kind} property `{full}` from {where_text}{hint}"
                self.add(f"{self.side}-{kind}-property-removed", Level.BREAKING, text, pptr)
        for p in added:
            full = f"{prefix}{p}"
            hint = f" (looks renamed from `{prefix}{renamed_from[p]}`)" if p in renamed_from else ""
            pptr = f"{ptr}/properties/{escape(p)}"
            if self.request:
                if p in nreq:
                    target, _ = self.new.deref(np_[p])
                    if isinstance(target, dict) and "default" in target:
                        text = f"added required property `{full}` with a default to {where_text}"
                        rule, level = "new-required-request-property-with-default", Level.COMPATIBLE
                    else:
                        text = f"added required property `{full}` to {where_text}{hint}"
                        rule, level = "new-required-request-property", Level.BREAKING
                else:
                    text = f"added optional property `{full}` to {where_text}{hint}"
                    rule, level = "new-optional-request-property", Level.COMPATIBLE
            else:
                kind = "required" if p in nreq else "optional"
                text = f"added {kind} property `{full}` to {where_text}{hint}"
                rule, level = f"{self.side}-{kind}-property-added", Level.COMPATIBLE
            self.add(rule, level, text, pptr)
        for p in op:
            if p not in np_:
                continue
            full = f"{prefix}{p}"
            pptr = f"{ptr}/properties/{escape(p)}"
            if p in nreq and p not in oreq:
                if self.request:
                    text = f"property `{full}` of {where_text} became required"
                    self.add("request-property-became-required", Level.BREAKING, text, pptr)
                else:
                    text = f"property `{full}` of {where_text} is now always present"
                    self.add("response-property-became-required", Level.INFO, text, pptr)
            elif p in oreq and p not in nreq:
                if self.request:
                    text = f"property `{full}` of {where_text} became optional"
                    self.add("request-property-became-optional", Level.COMPATIBLE, text, pptr)
                else:
                    text = f"property `{full}` of {where_text} became optional (may be absent)"
                    self.add("response-property-became-optional", Level.BREAKING, text, pptr)
            self.compare(op[p], np_[p], pptr, full)

    def _additional(
        self, o: dict[str, Any], n: dict[str, Any], ptr: str, subj: str, what: str
    ) -> None:
        oa, na = o.get("additionalProperties"), n.get("additionalProperties")
        if oa is not False and na is False and self.request:
            text = f"{what}: additional properties are no longer accepted"
            self.add(f"{subj}-additional-properties-disallowed", Level.BREAKING, text, ptr)
        elif oa is False and na is not False and not self.request:
            text = f"{what}: may now carry additional properties"
            self.add(f"{subj}-additional-properties-allowed", Level.INFO, text, ptr)

    def _variants(
        self,
        kw: str,
        o: dict[str, Any],
        n: dict[str, Any],
        ptr: str,
        path: str,
        subj: str,
        what: str,
    ) -> None:
        ol: list[Any] = o.get(kw) or []
        nl: list[Any] = n.get(kw) or []
        if not ol and not nl:
            return
        slug = "one-of" if kw == "oneOf" else "any-of"
        o_names = [self.old.deref(v)[1] or f"#{i}" for i, v in enumerate(ol)]
        n_names = [self.new.deref(v)[1] or f"#{i}" for i, v in enumerate(nl)]
        for i, name in enumerate(o_names):
            if name in n_names:
                j = n_names.index(name)
                self.compare(ol[i], nl[j], f"{ptr}/{kw}/{i}", path)
            else:
                level = Level.BREAKING if self.request else Level.INFO
                self.add(
                    f"{subj}-{slug}-removed", level, f"{what}: {kw} variant {name} removed", ptr
                )
        for name in n_names:
            if name not in o_names:
                level = Level.COMPATIBLE if self.request else Level.WARNING
                self.add(f"{subj}-{slug}-added", level, f"{what}: {kw} variant {name} added", ptr)


def _norm_path(path: str) -> str:
    """`/messages/{id}` and `/messages/{messageId}` are the same endpoint."""
    return re.sub(r"\{[^}/]+\}", "{}", path)


def _operations(
    doc: dict[str, Any], res: Resolver
) -> dict[tuple[str, str], tuple[str, dict[str, Any], dict[str, Any]]]:
    """(normalised path, method) -> (path as written, path item, operation)."""
    ops: dict[tuple[str, str], tuple[str, dict[str, Any], dict[str, Any]]] = {}
    for path, raw_item in (doc.get("paths") or {}).items():
        item, _ = res.deref(raw_item)
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                ops[(_norm_path(str(path)), method)] = (str(path), item, op)
    return ops


def _parameters(
    res: Resolver, item: dict[str, Any], op: dict[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Effective parameters of an operation (operation-level overrides path-level)."""
    params: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in list(item.get("parameters") or []) + list(op.get("parameters") or []):
        p, _ = res.deref(raw)
        if not isinstance(p, dict) or "name" not in p:
            continue
        if p.get("in") == "header" and str(p["name"]).lower() in IGNORED_HEADERS:
            continue
        params[(str(p.get("in")), str(p["name"]))] = p
    return params


def _content(res: Resolver, holder: Any) -> dict[str, Any]:
    node, _ = res.deref(holder)
    if not isinstance(node, dict):
        return {}
    content = node.get("content") or {}
    return {str(k).strip().lower(): v for k, v in content.items()}


def _has_schema(media: Any) -> bool:
    return isinstance(media, dict) and "schema" in media


def _compare_operation(
    old: Resolver,
    new: Resolver,
    where: str,
    optr: str,
    o_item: dict[str, Any],
    o_op: dict[str, Any],
    n_item: dict[str, Any],
    n_op: dict[str, Any],
) -> list[Finding]:
    out: list[Finding] = []

    def add(rule: str, level: Level, text: str, ptr: str) -> None:
        out.append(Finding(rule, level, where, text, (ptr,)))

    if not o_op.get("deprecated") and n_op.get("deprecated"):
        add("endpoint-deprecated", Level.COMPATIBLE, f"{where} is now deprecated", optr)

    # Parameters.
    o_params, n_params = _parameters(old, o_item, o_op), _parameters(new, n_item, n_op)
    for key, p in o_params.items():
        label = f"{key[0]} parameter `{key[1]}`"
        pptr = f"{optr}/parameters/{escape(key[1])}"
        if key not in n_params:
            add("request-parameter-removed", Level.WARNING, f"removed {label}", pptr)
            continue
        q = n_params[key]
        if q.get("required") and not p.get("required"):
            add(
                "request-parameter-became-required",
                Level.BREAKING,
                f"{label} became required",
                pptr,
            )
        elif p.get("required") and not q.get("required"):
            add(
                "request-parameter-became-optional",
                Level.COMPATIBLE,
                f"{label} became optional",
                pptr,
            )
        if "schema" in p and "schema" in q:
            _Walk(old, new, where, "request", label, "request-parameter", out).compare(
                p["schema"], q["schema"], f"{pptr}/schema", ""
            )
    for key, q in n_params.items():
        if key in o_params:
            continue
        label = f"{key[0]} parameter `{key[1]}`"
        pptr = f"{optr}/parameters/{escape(key[1])}"
        if q.get("required"):
            add("new-required-request-parameter", Level.BREAKING, f"added required {label}", pptr)
        else:
            add("new-optional-request-parameter", Level.COMPATIBLE, f"added optional {label}", pptr)

    # Request body.
    o_body, _ = old.deref(o_op.get("requestBody"))
    n_body, _ = new.deref(n_op.get("requestBody"))
    bptr = f"{optr}/requestBody"
    if isinstance(o_body, dict) and not isinstance(n_body, dict):
        add("request-body-removed", Level.WARNING, "the request body was removed", bptr)
    elif isinstance(n_body, dict) and not isinstance(o_body, dict):
        if n_body.get("required"):
            add(
                "request-body-added-required",
                Level.BREAKING,
                "a required request body was added",
                bptr,
            )
        else:
            add(
                "request-body-added-optional",
                Level.COMPATIBLE,
                "an optional request body was added",
                bptr,
            )
    elif isinstance(o_body, dict) and isinstance(n_body, dict):
        if n_body.get("required") and not o_body.get("required"):
            add(
                "request-body-became-required",
                Level.BREAKING,
                "the request body became required",
                bptr,
            )
        oc, nc = _content(old, o_body), _content(new, n_body)
        for mt in oc:
            mptr = f"{bptr}/content/{escape(mt)}"
            if mt not in nc:
                add(
                    "request-body-media-type-removed",
                    Level.BREAKING,
                    f"request media type {mt} removed",
                    mptr,
                )
            elif _has_schema(oc[mt]) and _has_schema(nc[mt]):
                _Walk(
                    old, new, where, "request", "the request body", "request-body", out, "xml" in mt
                ).compare(oc[mt]["schema"], nc[mt]["schema"], f"{mptr}/schema", "")
        for mt in nc:
            if mt not in oc:
                mptr = f"{bptr}/content/{escape(mt)}"
                add(
                    "request-body-media-type-added",
                    Level.COMPATIBLE,
                    f"request media type {mt} added",
                    mptr,
                )

    # Responses.
    o_resps: dict[str, Any] = {str(k): v for k, v in (o_op.get("responses") or {}).items()}
    n_resps: dict[str, Any] = {str(k): v for k, v in (n_op.get("responses") or {}).items()}
    for status, o_raw in o_resps.items():
        rptr = f"{optr}/responses/{escape(status)}"
        success = status.startswith("2")
        if status not in n_resps:
            if success:
                add(
                    "response-success-status-removed",
                    Level.BREAKING,
                    f"response {status} removed",
                    rptr,
                )
            else:
                add(
                    "response-non-success-status-removed",
                    Level.INFO,
                    f"response {status} removed",
                    rptr,
                )
            continue
        oc, nc = _content(old, o_raw), _content(new, n_resps[status])
        label = "the response body"  # the status goes in the pointer: merged findings list them
        for mt in oc:
            mptr = f"{rptr}/content/{escape(mt)}"
            if mt not in nc:
                add(
                    "response-media-type-removed",
                    Level.BREAKING,
                    f"{status} response media type {mt} removed",
                    mptr,
                )
            elif _has_schema(oc[mt]) and _has_schema(nc[mt]):
                _Walk(
                    old, new, where, "response", label, "response-body", out, "xml" in mt
                ).compare(oc[mt]["schema"], nc[mt]["schema"], f"{mptr}/schema", "")
        for mt in nc:
            if mt not in oc:
                mptr = f"{rptr}/content/{escape(mt)}"
                add(
                    "response-media-type-added",
                    Level.COMPATIBLE,
                    f"{status} response media type {mt} added",
                    mptr,
                )
    for status in n_resps:
        if status not in o_resps:
            rptr = f"{optr}/responses/{escape(status)}"
            rule = (
                "response-success-status-added"
                if status.startswith("2")
                else "response-non-success-status-added"
            )
            add(rule, Level.COMPATIBLE, f"response {status} added", rptr)
    return out


def _webhooks(doc: dict[str, Any], res: Resolver) -> dict[tuple[str, str], dict[str, Any]]:
    """(webhook name, method) -> operation, for the callbacks Clickatell posts to users."""
    hooks: dict[tuple[str, str], dict[str, Any]] = {}
    for name, raw_item in (doc.get("webhooks") or {}).items():
        item, _ = res.deref(raw_item)
        if isinstance(item, dict):
            for method in METHODS:
                if isinstance(item.get(method), dict):
                    hooks[(str(name), method)] = item[method]
    return hooks


def _compare_webhooks(old: Resolver, new: Resolver, out: list[Finding]) -> None:
    """Webhook bodies are *read* by the SDK's users: a removed field breaks them, like a response.

    oasdiff does not check webhooks; these use the response rules on the callback body, since
    Clickatell writes it and the application (through the SDK's callback parsing) reads it.
    """
    o_hooks, n_hooks = _webhooks(old.root, old), _webhooks(new.root, new)
    for key, o_op in o_hooks.items():
        where = f"WEBHOOK {key[0]} ({key[1].upper()})"
        hptr = f"#/webhooks/{escape(key[0])}/{key[1]}"
        if key not in n_hooks:
            text = f"callback {key[0]} is no longer described (Clickatell stops sending it?)"
            out.append(Finding("webhook-removed", Level.WARNING, where, text, (hptr,)))
            continue
        oc = _content(old, o_op.get("requestBody"))
        nc = _content(new, n_hooks[key].get("requestBody"))
        for mt in oc:
            mptr = f"{hptr}/requestBody/content/{escape(mt)}"
            if mt not in nc:
                text = f"callback media type {mt} removed"
                out.append(
                    Finding("webhook-media-type-removed", Level.BREAKING, where, text, (mptr,))
                )
            elif _has_schema(oc[mt]) and _has_schema(nc[mt]):
                label = f"the {key[0]} callback body"
                walk = _Walk(old, new, where, "webhook", label, "webhook-body", out, "xml" in mt)
                walk.compare(oc[mt]["schema"], nc[mt]["schema"], f"{mptr}/schema", "")
        for mt in nc:
            if mt not in oc:
                mptr = f"{hptr}/requestBody/content/{escape(mt)}"
                text = f"callback media type {mt} added"
                out.append(
                    Finding("webhook-media-type-added", Level.COMPATIBLE, where, text, (mptr,))
                )
    for key in n_hooks:
        if key not in o_hooks:
            where = f"WEBHOOK {key[0]} ({key[1].upper()})"
            hptr = f"#/webhooks/{escape(key[0])}/{key[1]}"
            text = f"callback {key[0]} added"
            out.append(Finding("webhook-added", Level.COMPATIBLE, where, text, (hptr,)))


def diff_documents(
    old_doc: dict[str, Any], new_doc: dict[str, Any]
) -> tuple[list[Finding], list[str]]:
    """All findings between two parsed OpenAPI documents, plus notes (unfollowed refs)."""
    old, new = Resolver(old_doc), Resolver(new_doc)
    out: list[Finding] = []
    o_ops, n_ops = _operations(old_doc, old), _operations(new_doc, new)
    n_paths = {p for p, _ in n_ops}
    for key, (path, o_item, o_op) in o_ops.items():
        where = f"{key[1].upper()} {path}"
        optr = f"#/paths/{escape(path)}/{key[1]}"
        if key not in n_ops:
            deprecated = bool(o_op.get("deprecated"))
            if key[0] not in n_paths:
                rule = (
                    "api-path-removed-with-deprecation"
                    if deprecated
                    else "api-path-removed-without-deprecation"
                )
                text = f"path {path} removed ({where})"
            else:
                rule = (
                    "api-removed-with-deprecation"
                    if deprecated
                    else "api-removed-without-deprecation"
                )
                text = f"operation {where} removed"
            level = Level.WARNING if deprecated else Level.BREAKING
            out.append(Finding(rule, level, where, text, (optr,)))
            continue
        n_path, n_item, n_op = n_ops[key]
        where = f"{key[1].upper()} {n_path}"
        out += _compare_operation(old, new, where, optr, o_item, o_op, n_item, n_op)
    for key, (path, _, _) in n_ops.items():
        if key not in o_ops:
            where = f"{key[1].upper()} {path}"
            out.append(
                Finding(
                    "endpoint-added",
                    Level.COMPATIBLE,
                    where,
                    f"operation {where} added",
                    (f"#/paths/{escape(path)}/{key[1]}",),
                )
            )
    _compare_webhooks(old, new, out)
    o_ver = (old_doc.get("info") or {}).get("version")
    n_ver = (new_doc.get("info") or {}).get("version")
    if o_ver != n_ver:
        out.append(
            Finding(
                "api-version-changed",
                Level.INFO,
                "info.version",
                f"info.version {o_ver!r} -> {n_ver!r}",
                ("#/info/version",),
            )
        )
    notes = [f"OLD: {n}" for n in old.notes] + [f"NEW: {n}" for n in new.notes]
    return [_with_statuses(f) for f in merge_duplicates(out)], notes


def _with_statuses(finding: Finding) -> Finding:
    """Name the response statuses a merged finding applies to (one schema, many statuses)."""
    statuses: list[str] = []
    for ptr in finding.pointers:
        m = re.search(r"/responses/([^/]+)/", ptr)
        if m and m.group(1) not in statuses:
            statuses.append(m.group(1))
    if not statuses or "response body" not in finding.text:
        return finding
    text = f"{finding.text} (status {', '.join(statuses)})"
    return Finding(finding.id, finding.level, finding.where, text, finding.pointers)


def _parse(text: str, side: str) -> dict[str, Any]:
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise ValueError(f"{side} spec is not a mapping")
    return doc


def diff_openapi(old_text: str | None, new_text: str | None, path: str) -> Section:
    """The OpenAPI section of the report for `path`, read at both refs (None = absent)."""
    early = whole_file_section(f"OpenAPI ({path})", "spec", old_text, new_text, path)
    if early is not None:
        return early
    assert old_text is not None and new_text is not None
    section = Section(f"OpenAPI ({path})")
    try:
        old_doc = _parse(old_text, "OLD")
        new_doc = _parse(new_text, "NEW")
    except (yaml.YAMLError, ValueError) as exc:
        section.findings.append(
            Finding(
                "spec-unparseable",
                Level.BREAKING,
                path,
                f"cannot parse the spec: {exc}".splitlines()[0],
            )
        )
        return section
    section.findings, section.notes = diff_documents(old_doc, new_doc)
    if not section.findings:
        section.notes.append(
            "changed, but not in anything these rules compare (descriptions, examples, ...)"
        )
    return section
