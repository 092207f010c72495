"""XSD diff rules (xml.etree): does a document valid under OLD's schema stay valid under NEW's?

The XSD describes documents that flow both ways (SendMessageRequest out, SendMessagesResponse
back), so the rules take the document's side rather than a direction: anything that makes an
OLD-valid document invalid, or takes away something a reader relied on, is breaking — an element
or attribute removed, minOccurs raised, maxOccurs lowered, a new required element or attribute,
a type or facet narrowed, a sequence reordered. Optional additions are compatible.

Every global element is flattened into paths (`SendMessageRequest/to`, `.../@version`) through named
and anonymous types, `ref`, groups, attribute groups and `complexContent` extension, so a change in
a shared named type is reported at each place a document would feel it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .findings import Finding, Level, Section, merge_duplicates, whole_file_section

XS = "{http://www.w3.org/2001/XMLSchema}"
UNBOUNDED = 1_000_000  # maxOccurs="unbounded"
MAX_DEPTH = 25

UPPER_FACETS = ("maxLength", "maxInclusive", "maxExclusive", "totalDigits", "fractionDigits")
LOWER_FACETS = ("minLength", "minInclusive", "minExclusive")


def _local(qname: str | None) -> str | None:
    """`tns:Foo` -> `Foo`; namespace prefixes differ between files without meaning anything."""
    if qname is None:
        return None
    return qname.rsplit(":", 1)[-1]


def _occurs(value: str | None, default: int = 1) -> int:
    if value is None:
        return default
    return UNBOUNDED if value == "unbounded" else int(value)


@dataclass
class Node:
    """One element or attribute of a document, at a flattened path, with what constrains it."""

    path: str
    kind: str  # element | attribute | any
    type_name: str | None  # declared named type (local name), None for anonymous
    base: str  # builtin base of the text content, "complex" for element-only content
    min: int
    max: int
    index: int  # position among its siblings, to detect reordering
    facets: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    fixed: str | None = None


class _Schema:
    """Indexes of one XSD's top-level components and the flattener over them."""

    def __init__(self, root: ET.Element) -> None:
        self.root = root
        self.elements = self._index("element")
        self.complex = self._index("complexType")
        self.simple = self._index("simpleType")
        self.groups = self._index("group")
        self.attr_groups = self._index("attributeGroup")
        self.nodes: dict[str, Node] = {}

    def _index(self, tag: str) -> dict[str, ET.Element]:
        return {str(el.get("name")): el for el in self.root.findall(f"{XS}{tag}") if el.get("name")}

    def simple_info(
        self, type_name: str | None, inline: ET.Element | None, seen: frozenset[str] = frozenset()
    ) -> tuple[str, dict[str, str | tuple[str, ...]]]:
        """Builtin base and merged facets of a simple type (named or inline), following bases."""
        el = inline
        if el is None and type_name is not None:
            el = self.simple.get(type_name)
        if el is None:
            return (type_name or "anyType"), {}
        facets: dict[str, str | tuple[str, ...]] = {}
        restriction = el.find(f"{XS}restriction")
        if restriction is None:
            if el.find(f"{XS}list") is not None:
                return "list", {}
            if el.find(f"{XS}union") is not None:
                return "union", {}
            return "anyType", {}
        base_name = _local(restriction.get("base"))
        base: str = "anyType"
        inherited: dict[str, str | tuple[str, ...]] = {}
        if base_name is not None and base_name not in seen:
            base, inherited = self.simple_info(base_name, None, seen | {base_name})
        else:
            inner = restriction.find(f"{XS}simpleType")
            if inner is not None:
                base, inherited = self.simple_info(None, inner, seen)
        facets.update(inherited)
        enums = tuple(str(e.get("value")) for e in restriction.findall(f"{XS}enumeration"))
        if enums:
            facets["enumeration"] = enums
        patterns = tuple(str(p.get("value")) for p in restriction.findall(f"{XS}pattern"))
        if patterns:
            facets["pattern"] = patterns
        for facet in (*UPPER_FACETS, *LOWER_FACETS, "length", "whiteSpace"):
            f = restriction.find(f"{XS}{facet}")
            if f is not None and f.get("value") is not None:
                facets[facet] = str(f.get("value"))
        return base, facets

    def flatten(self) -> dict[str, Node]:
        """Every global element's document tree as flat paths."""
        for i, (name, el) in enumerate(self.elements.items()):
            self._element(el, name, i, 1, 1, (), 0)
        return self.nodes

    def _element(
        self,
        el: ET.Element,
        path: str,
        index: int,
        min_: int,
        max_: int,
        stack: tuple[str, ...],
        depth: int,
    ) -> None:
        type_name = _local(el.get("type"))
        inline_complex = el.find(f"{XS}complexType")
        inline_simple = el.find(f"{XS}simpleType")
        node = Node(path, "element", type_name, "anyType", min_, max_, index, fixed=el.get("fixed"))
        self.nodes[path] = node
        if depth > MAX_DEPTH:
            return
        complex_el = inline_complex
        if complex_el is None and type_name in self.complex:
            if type_name in stack:
                node.base = f"complex:{type_name} (recursive)"
                return
            complex_el = self.complex[type_name]
            stack = (*stack, type_name)
        if complex_el is not None:
            node.base = "complex"
            self._complex(complex_el, node, path, stack, depth)
        else:
            node.base, node.facets = self.simple_info(
                type_name if inline_simple is None else None, inline_simple
            )

    def _complex(
        self, ct: ET.Element, node: Node, path: str, stack: tuple[str, ...], depth: int
    ) -> None:
        counter = [0]
        for child in ct:
            self._content(child, node, path, stack, depth, False, False, counter)

    def _content(
        self,
        child: ET.Element,
        node: Node,
        path: str,
        stack: tuple[str, ...],
        depth: int,
        optional: bool,
        repeated: bool,
        counter: list[int],
    ) -> None:
        """One piece of a complex type's content model, with inherited optionality/repetition."""
        tag = child.tag.removeprefix(XS)
        if tag in ("sequence", "choice", "all"):
            mn, mx = _occurs(child.get("minOccurs")), _occurs(child.get("maxOccurs"))
            opt = optional or mn == 0 or tag == "choice"
            rep = repeated or mx > 1
            for sub in child:
                self._content(sub, node, path, stack, depth, opt, rep, counter)
        elif tag == "element":
            ref = _local(child.get("ref"))
            name = ref or child.get("name") or "?"
            mn, mx = _occurs(child.get("minOccurs")), _occurs(child.get("maxOccurs"))
            target = self.elements.get(ref) if ref else child
            if target is None:
                target = child
            counter[0] += 1
            self._element(
                target,
                f"{path}/{name}",
                counter[0],
                0 if optional else mn,
                UNBOUNDED if repeated and mx > 0 else mx,
                stack,
                depth + 1,
            )
        elif tag == "group" and child.get("ref"):
            group = self.groups.get(str(_local(child.get("ref"))))
            if group is not None:
                for sub in group:
                    self._content(sub, node, path, stack, depth, optional, repeated, counter)
        elif tag == "any":
            counter[0] += 1
            mn, mx = _occurs(child.get("minOccurs")), _occurs(child.get("maxOccurs"))
            self.nodes[f"{path}/*"] = Node(
                f"{path}/*", "any", None, "any", 0 if optional else mn, mx, counter[0]
            )
        elif tag == "attribute":
            ref = _local(child.get("ref"))
            name = ref or child.get("name") or "?"
            type_name = _local(child.get("type"))
            base, facets = self.simple_info(
                type_name if child.find(f"{XS}simpleType") is None else None,
                child.find(f"{XS}simpleType"),
            )
            required = 1 if child.get("use") == "required" else 0
            apath = f"{path}/@{name}"
            self.nodes[apath] = Node(
                apath, "attribute", type_name, base, required, 1, 0, facets, child.get("fixed")
            )
        elif tag == "attributeGroup" and child.get("ref"):
            group = self.attr_groups.get(str(_local(child.get("ref"))))
            if group is not None:
                for sub in group:
                    self._content(sub, node, path, stack, depth, optional, repeated, counter)
        elif tag in ("complexContent", "simpleContent"):
            for deriv in child:
                dtag = deriv.tag.removeprefix(XS)
                if dtag not in ("extension", "restriction"):
                    continue
                base_name = _local(deriv.get("base"))
                inherits = tag == "complexContent" and dtag == "extension"
                if inherits and base_name in self.complex and base_name not in stack:
                    base_ct = self.complex[base_name]
                    for sub in base_ct:
                        self._content(
                            sub,
                            node,
                            path,
                            (*stack, base_name),
                            depth,
                            optional,
                            repeated,
                            counter,
                        )
                if tag == "simpleContent":
                    base, facets = self.simple_info(base_name, None)
                    node.base, node.facets = f"complex+{base}", facets
                for sub in deriv:
                    self._content(sub, node, path, stack, depth, optional, repeated, counter)


def _fmt_occurs(n: int) -> str:
    return "unbounded" if n >= UNBOUNDED else str(n)


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _num(value: str | tuple[str, ...] | None) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _compare_facets(o: Node, n: Node, out: list[Finding]) -> None:
    where = o.path

    def add(rule: str, level: Level, text: str) -> None:
        out.append(Finding(rule, level, where, f"{where}: {text}"))

    oe, ne = o.facets.get("enumeration"), n.facets.get("enumeration")
    if isinstance(oe, tuple) and isinstance(ne, tuple):
        removed = [v for v in oe if v not in ne]
        added = [v for v in ne if v not in oe]
        if removed:
            add(
                "xsd-enumeration-value-removed",
                Level.BREAKING,
                f"enumeration value(s) removed: {', '.join(removed)}",
            )
        if added:
            add(
                "xsd-enumeration-value-added",
                Level.COMPATIBLE,
                f"enumeration value(s) added: {', '.join(added)}",
            )
    elif ne is not None and oe is None:
        add("xsd-enumeration-added", Level.BREAKING, "now restricted to an enumeration")
    elif oe is not None and ne is None:
        add("xsd-enumeration-removed", Level.COMPATIBLE, "no longer restricted to an enumeration")
    if o.facets.get("pattern") != n.facets.get("pattern"):
        level = Level.COMPATIBLE if n.facets.get("pattern") is None else Level.BREAKING
        add(
            "xsd-pattern-changed",
            level,
            f"pattern {o.facets.get('pattern')} -> {n.facets.get('pattern')}",
        )
    for facet in (*UPPER_FACETS, *LOWER_FACETS, "length"):
        ov, nv = _num(o.facets.get(facet)), _num(n.facets.get(facet))
        if ov == nv:
            continue
        if ov is None:
            tighter = True
        elif nv is None:
            tighter = False
        elif facet == "length":
            tighter = True
        else:
            tighter = nv < ov if facet in UPPER_FACETS else nv > ov
        text = f"{facet} {o.facets.get(facet, 'none')} -> {n.facets.get(facet, 'none')}"
        add(f"xsd-{facet}-changed", Level.BREAKING if tighter else Level.COMPATIBLE, text)


def diff_nodes(old: dict[str, Node], new: dict[str, Node]) -> list[Finding]:
    """Findings between two flattened schemas."""
    out: list[Finding] = []
    # Only the top-most change of a subtree is reported: its children come and go with it.
    removed = [p for p in old if p not in new and (_parent(p) in new or "/" not in p)]
    added = [p for p in new if p not in old and (_parent(p) in old or "/" not in p)]

    def sig(node: Node) -> tuple[str, str, str | None]:
        return (node.kind, node.base, node.type_name)

    for p in removed:
        o = old[p]
        twins = [a for a in added if _parent(a) == _parent(p) and sig(new[a]) == sig(o)]
        hint = f" (looks renamed to {twins[0].rsplit('/', 1)[-1]})" if len(twins) == 1 else ""
        if "/" not in p:
            out.append(
                Finding(
                    "xsd-global-element-removed", Level.BREAKING, p, f"global element {p} removed"
                )
            )
        else:
            rule = "xsd-attribute-removed" if o.kind == "attribute" else "xsd-element-removed"
            out.append(Finding(rule, Level.BREAKING, p, f"{o.kind} {p} removed{hint}"))
    for p in added:
        n = new[p]
        if "/" not in p:
            out.append(
                Finding(
                    "xsd-global-element-added", Level.COMPATIBLE, p, f"global element {p} added"
                )
            )
            continue
        twins = [r for r in removed if _parent(r) == _parent(p) and sig(old[r]) == sig(n)]
        hint = f" (looks renamed from {twins[0].rsplit('/', 1)[-1]})" if len(twins) == 1 else ""
        if n.min > 0:
            rule = (
                "xsd-required-attribute-added"
                if n.kind == "attribute"
                else "xsd-required-element-added"
            )
            out.append(Finding(rule, Level.BREAKING, p, f"required {n.kind} {p} added{hint}"))
        else:
            rule = (
                "xsd-optional-attribute-added"
                if n.kind == "attribute"
                else "xsd-optional-element-added"
            )
            out.append(Finding(rule, Level.COMPATIBLE, p, f"optional {n.kind} {p} added{hint}"))

    for p, o in old.items():
        if p not in new:
            continue
        n = new[p]
        if o.kind == "attribute" and n.min != o.min:
            if n.min > o.min:
                text = f"{p}: attribute became required"
                out.append(Finding("xsd-attribute-became-required", Level.BREAKING, p, text))
            else:
                text = f"{p}: attribute became optional"
                out.append(Finding("xsd-attribute-became-optional", Level.COMPATIBLE, p, text))
        elif n.min > o.min:
            text = f"{p}: minOccurs {o.min} -> {n.min}"
            out.append(Finding("xsd-min-occurs-increased", Level.BREAKING, p, text))
        elif n.min < o.min:
            text = f"{p}: minOccurs {o.min} -> {n.min}"
            out.append(Finding("xsd-min-occurs-decreased", Level.COMPATIBLE, p, text))
        if n.max < o.max:
            text = f"{p}: maxOccurs {_fmt_occurs(o.max)} -> {_fmt_occurs(n.max)}"
            out.append(Finding("xsd-max-occurs-decreased", Level.BREAKING, p, text))
        elif n.max > o.max:
            text = f"{p}: maxOccurs {_fmt_occurs(o.max)} -> {_fmt_occurs(n.max)}"
            out.append(Finding("xsd-max-occurs-increased", Level.COMPATIBLE, p, text))
        if o.base != n.base:
            text = f"{p}: type changed from {o.type_name or o.base} to {n.type_name or n.base}"
            out.append(Finding("xsd-type-changed", Level.BREAKING, p, text))
            continue
        if o.type_name != n.type_name:
            before, after = o.type_name or "(anonymous)", n.type_name or "(anonymous)"
            text = f"{p}: declared type {before} -> {after} (same content)"
            out.append(Finding("xsd-type-renamed", Level.INFO, p, text))
        if o.fixed != n.fixed:
            text = f"{p}: fixed value {o.fixed!r} -> {n.fixed!r}"
            out.append(
                Finding(
                    "xsd-fixed-value-changed",
                    Level.BREAKING if n.fixed is not None else Level.COMPATIBLE,
                    p,
                    text,
                )
            )
        _compare_facets(o, n, out)

    # Sequence order: common children must keep their relative order.
    parents = {_parent(p) for p in old if "/" in p}
    for parent in sorted(parents):
        common = [
            p
            for p in old
            if _parent(p) == parent
            and p in new
            and old[p].kind == "element"
            and new[p].kind == "element"
        ]
        by_old = sorted(common, key=lambda p: old[p].index)
        by_new = sorted(common, key=lambda p: new[p].index)
        if by_old != by_new:
            names = ", ".join(p.rsplit("/", 1)[-1] for p in by_new)
            out.append(
                Finding(
                    "xsd-element-order-changed",
                    Level.BREAKING,
                    parent,
                    f"{parent}: child elements reordered to {names}",
                )
            )
    return merge_duplicates(out)


def diff_xsd(old_text: str | None, new_text: str | None, path: str) -> Section:
    """The XSD section of the report for `path` (None = absent at that ref)."""
    early = whole_file_section(f"XSD ({path})", "XSD", old_text, new_text, path)
    if early is not None:
        return early
    assert old_text is not None and new_text is not None
    section = Section(f"XSD ({path})")
    try:
        old_root = ET.fromstring(old_text)
        new_root = ET.fromstring(new_text)
    except ET.ParseError as exc:
        section.findings.append(
            Finding("xsd-unparseable", Level.BREAKING, path, f"cannot parse the XSD: {exc}")
        )
        return section
    o_ns, n_ns = old_root.get("targetNamespace"), new_root.get("targetNamespace")
    if o_ns != n_ns:
        section.findings.append(
            Finding(
                "xsd-namespace-changed",
                Level.BREAKING,
                path,
                f"targetNamespace {o_ns!r} -> {n_ns!r}",
            )
        )
    o_form, n_form = (
        old_root.get("elementFormDefault", "unqualified"),
        new_root.get("elementFormDefault", "unqualified"),
    )
    if o_form != n_form:
        section.findings.append(
            Finding(
                "xsd-element-form-changed",
                Level.BREAKING,
                path,
                f"elementFormDefault {o_form} -> {n_form}",
            )
        )
    section.findings += diff_nodes(_Schema(old_root).flatten(), _Schema(new_root).flatten())
    if not section.findings:
        section.notes.append("changed, but not in anything these rules compare (annotations, ...)")
    return section
