"""The facade's public-API diff: griffe's breaking-change check, narrowed to what users import.

griffe (`find_breaking_changes`) finds removed objects and parameters, parameters that moved,
changed kind or default, became required, and incompatible returns. It walks every non-underscore
module, but this project's contract is narrower: the public API is exactly what
`clickatell_sms/__init__.py` exports (its `__all__`, or its non-underscore names), so griffe's
findings are mapped onto those names and the rest are reported as internal. griffe does not report
*additions*, nor annotation changes; the surface comparison here adds those, because additions
decide a minor release and a changed annotation deserves a human look.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import griffe

from .findings import Finding, Level, Section
from .project import PACKAGE

KEPT_DUNDERS = frozenset(
    {"__init__", "__call__", "__enter__", "__exit__", "__iter__", "__len__", "__getitem__"}
)


def _load(tree: Path, package: str) -> griffe.Module | None:
    """The package as griffe sees it, statically (no code at the ref is imported)."""
    if not (tree / package / "__init__.py").is_file():
        return None
    logger = logging.getLogger("griffe")
    level = logger.level
    logger.setLevel(logging.ERROR)  # unresolvable annotations are not this report's business
    try:
        obj = griffe.load(
            package,
            search_paths=[tree],
            try_relative_path=False,
            allow_inspection=False,
            submodules=True,
        )
    finally:
        logger.setLevel(level)
    return obj if isinstance(obj, griffe.Module) else None


def exported_names(pkg: griffe.Module) -> dict[str, griffe.Object | griffe.Alias]:
    """What `from clickatell_sms import X` can name: `__all__`, else the non-underscore names."""
    if pkg.exports is not None:
        names = [str(e) for e in pkg.exports]
    else:
        names = [
            n
            for n, m in pkg.members.items()
            if (not n.startswith("_") or n == "__version__") and (m.is_alias or not m.is_module)
        ]
    return {n: pkg.members[n] for n in names if n in pkg.members}


def _target(member: griffe.Object | griffe.Alias) -> griffe.Object | griffe.Alias:
    """The object an alias stands for, or the alias itself when it points outside the package."""
    if member.is_alias:
        try:
            return member.final_target  # type: ignore[union-attr]
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            return member
    return member


def _canonical(member: griffe.Object | griffe.Alias) -> str:
    if isinstance(member, griffe.Alias):
        return member.target_path
    return member.path


def _is_public_member(name: str) -> bool:
    return not name.startswith("_") or name in KEPT_DUNDERS


def _param_text(p: griffe.Parameter) -> str:
    prefix = {"variadic positional": "*", "variadic keyword": "**"}.get(
        p.kind.value if p.kind else "", ""
    )
    text = f"{prefix}{p.name}"
    if p.annotation is not None:
        text += f": {p.annotation}"
    if p.default is not None:
        text += f" = {p.default}"
    return text


def signature(obj: griffe.Object | griffe.Alias) -> str:
    """A one-line description of an API object, compared across refs and shown in the report."""
    if isinstance(obj, griffe.Function):
        params = ", ".join(_param_text(p) for p in obj.parameters)
        returns = f" -> {obj.returns}" if obj.returns is not None else ""
        return f"def ({params}){returns}"
    if isinstance(obj, griffe.Class):
        return f"class ({', '.join(str(b) for b in obj.bases)})"
    if isinstance(obj, griffe.Attribute):
        text = "attribute"
        if obj.annotation is not None:
            text += f": {obj.annotation}"
        if obj.parent is not None and obj.parent.is_class and obj.value is not None:
            text += f" = {obj.value}"  # class attributes: enum values, dataclass defaults
        return text
    if isinstance(obj, griffe.Module):
        return "module"
    return f"alias to {_canonical(obj)}"


def surface(pkg: griffe.Module) -> dict[str, griffe.Object | griffe.Alias]:
    """Public path -> object, for every exported name and the public members of classes."""
    out: dict[str, griffe.Object | griffe.Alias] = {}

    def walk(obj: griffe.Object | griffe.Alias, path: str, depth: int) -> None:
        out[path] = obj
        if depth > 4 or not isinstance(obj, (griffe.Class, griffe.Module)):
            return
        try:
            members = obj.all_members if isinstance(obj, griffe.Class) else obj.members
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            members = obj.members
        for name, member in sorted(members.items()):
            if not _is_public_member(name):
                continue
            if isinstance(obj, griffe.Module) and not member.is_public:
                continue
            walk(_target(member), f"{path}.{name}", depth + 1)

    for name, member in exported_names(pkg).items():
        walk(_target(member), f"{pkg.name}.{name}", 0)
    return out


@dataclass
class _Mapper:
    """Maps griffe's canonical paths (`clickatell_sms.client.Client.send`) to public ones."""

    roots: dict[str, str]  # canonical prefix -> public prefix

    def public(self, path: str) -> str | None:
        best: tuple[int, str] | None = None
        for canonical, public in self.roots.items():
            if (path == canonical or path.startswith(canonical + ".")) and (
                best is None or len(canonical) > best[0]
            ):
                best = (len(canonical), public + path[len(canonical) :])
        return None if best is None else best[1]


def _mapper(*pkgs: griffe.Module) -> _Mapper:
    roots: dict[str, str] = {}
    for pkg in pkgs:
        for name, member in exported_names(pkg).items():
            public = f"{pkg.name}.{name}"
            roots[public] = public
            roots.setdefault(_canonical(member), public)
    return _Mapper(roots)


def _location(obj: griffe.Object | griffe.Alias, tree: Path) -> str:
    try:
        filepath = obj.filepath
        lineno = obj.lineno
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return ""
    if isinstance(filepath, list):
        return ""
    try:
        rel = filepath.relative_to(tree)
    except ValueError:
        rel = filepath
    return f"{rel}:{lineno}" if lineno else str(rel)


def _param_name(value: object) -> str:
    return value.name if isinstance(value, griffe.Parameter) else str(value)


def _describe(b: griffe.Breakage) -> str:
    kind = b.kind
    old, new = b.old_value, b.new_value
    if kind is griffe.BreakageKind.PARAMETER_REMOVED:
        return f"argument `{_param_name(old)}` removed"
    if kind is griffe.BreakageKind.PARAMETER_ADDED_REQUIRED:
        return f"required argument `{_param_name(new)}` added"
    if kind is griffe.BreakageKind.PARAMETER_CHANGED_REQUIRED:
        return f"argument `{_param_name(old)}` became required"
    if kind is griffe.BreakageKind.PARAMETER_MOVED:
        return f"argument `{_param_name(old)}` moved ({b.details})"
    if kind is griffe.BreakageKind.PARAMETER_CHANGED_KIND:
        assert isinstance(old, griffe.Parameter) and isinstance(new, griffe.Parameter)
        before, after = old.kind.value if old.kind else "?", new.kind.value if new.kind else "?"
        return f"argument `{old.name}` changed kind: {before} -> {after}"
    if kind is griffe.BreakageKind.PARAMETER_CHANGED_DEFAULT:
        assert isinstance(old, griffe.Parameter) and isinstance(new, griffe.Parameter)
        return f"argument `{old.name}` default changed: {old.default} -> {new.default}"
    if kind is griffe.BreakageKind.OBJECT_REMOVED:
        return "removed"
    if kind is griffe.BreakageKind.OBJECT_CHANGED_KIND:
        return f"changed kind: {old} -> {new}"
    return f"{kind.value}: {old} -> {new}"


def _rule(b: griffe.Breakage) -> str:
    return "api-" + b.kind.name.lower().replace("_", "-")


def _renames(
    old_pkg: griffe.Module, breakages: list[griffe.Breakage]
) -> dict[tuple[str, str], str]:
    """(function path, old argument) -> new argument, for a removed argument whose slot was
    taken by a new one: griffe reports that as "removed" plus "added", users read it as a rename.
    """
    renames: dict[tuple[str, str], str] = {}
    for b in breakages:
        if b.kind is not griffe.BreakageKind.PARAMETER_REMOVED:
            continue
        new_fn = b.obj
        if not isinstance(new_fn, griffe.Function) or not isinstance(b.old_value, griffe.Parameter):
            continue
        try:
            old_fn = old_pkg[new_fn.path.split(".", 1)[1]]
        except (KeyError, ValueError, IndexError, griffe.AliasResolutionError):
            continue
        if not isinstance(old_fn, griffe.Function):
            continue
        old_names = [p.name for p in old_fn.parameters]
        new_names = [p.name for p in new_fn.parameters]
        index = old_names.index(b.old_value.name)
        fresh = [n for n in new_names if n not in old_names]
        if index < len(new_names) and new_names[index] in fresh:
            renames[(new_fn.path, b.old_value.name)] = new_names[index]
        elif len(fresh) == 1:
            renames[(new_fn.path, b.old_value.name)] = fresh[0]
    return renames


def _griffe_findings(
    old_pkg: griffe.Module, new_pkg: griffe.Module, old_tree: Path, new_tree: Path
) -> tuple[list[Finding], set[str]]:
    """griffe's breakages as findings (public ones breaking), and the public paths they cover."""
    for pkg in (old_pkg, new_pkg):
        for member in exported_names(pkg).values():
            member.public = True  # so griffe checks re-exported names even without `__all__`
    mapper = _mapper(old_pkg, new_pkg)
    breakages = list(griffe.find_breaking_changes(old_pkg, new_pkg))
    renames = _renames(old_pkg, breakages)
    renamed_to = {(path, new) for (path, _), new in renames.items()}
    findings: list[Finding] = []
    covered: set[str] = set()
    for b in breakages:
        path = b.obj.path
        public = mapper.public(path)
        tree = old_tree if b.kind is griffe.BreakageKind.OBJECT_REMOVED else new_tree
        loc = _location(b.obj, tree)
        if (
            b.kind is griffe.BreakageKind.PARAMETER_ADDED_REQUIRED
            and (path, _param_name(b.new_value)) in renamed_to
        ):
            continue  # reported with its removed twin as one rename
        if (
            b.kind is griffe.BreakageKind.PARAMETER_REMOVED
            and (path, _param_name(b.old_value)) in renames
        ):
            new_name = renames[(path, _param_name(b.old_value))]
            text = (
                f"argument `{_param_name(b.old_value)}` renamed to `{new_name}`"
                f" (callers passing `{_param_name(b.old_value)}=` break)"
            )
            rule = "api-parameter-renamed"
        else:
            text, rule = _describe(b), _rule(b)
        if public is None:
            findings.append(
                Finding(
                    rule,
                    Level.INFO,
                    path,
                    f"`{path}`: {text} (internal: not exported by the package's __init__)",
                    (loc,) if loc else (),
                )
            )
            continue
        covered.add(public)
        findings.append(
            Finding(rule, Level.BREAKING, public, f"`{public}`: {text}", (loc,) if loc else ())
        )
    return findings, covered


def _parent(path: str) -> str:
    return path.rsplit(".", 1)[0]


def _surface_findings(
    old_pkg: griffe.Module, new_pkg: griffe.Module, covered: set[str]
) -> Iterator[Finding]:
    """Additions, removals griffe cannot see (a name dropped from `__all__`), annotation changes."""
    old, new = surface(old_pkg), surface(new_pkg)
    for path in old:
        parent_gone = _parent(path) in old and _parent(path) not in new
        if path in new or path in covered or parent_gone:
            continue  # kept, or already said by griffe, or said by its removed parent
        if path.count(".") == 1:
            text = f"`{path}` is no longer exported by {path.split('.')[0]}/__init__.py"
            yield Finding("api-export-removed", Level.BREAKING, path, text)
        else:
            yield Finding("api-removed", Level.BREAKING, path, f"`{path}` removed")
    for path, obj in new.items():
        if path not in old:
            if _parent(path) in new and _parent(path) not in old and path.count(".") > 1:
                continue  # a member of something added: the parent's entry says it
            yield Finding("api-added", Level.COMPATIBLE, path, f"`{path}` added: {signature(obj)}")
            continue
        before = old[path]
        if signature(before) == signature(obj) or path in covered:
            continue
        if isinstance(before, griffe.Function) and isinstance(obj, griffe.Function):
            old_params = {p.name: p for p in before.parameters}
            added = [p for p in obj.parameters if p.name not in old_params and not p.required]
            for p in added:
                text = f"`{path}`: optional argument `{_param_text(p)}` added"
                yield Finding("api-optional-parameter-added", Level.COMPATIBLE, path, text)
            changed = [
                (old_params[p.name], p)
                for p in obj.parameters
                if p.name in old_params and str(old_params[p.name].annotation) != str(p.annotation)
            ]
            for o, n in changed:
                text = f"`{path}`: argument `{n.name}` annotation {o.annotation} -> {n.annotation}"
                yield Finding("api-parameter-annotation-changed", Level.WARNING, path, text)
            if str(before.returns) != str(obj.returns):
                text = f"`{path}`: return annotation {before.returns} -> {obj.returns}"
                yield Finding("api-return-annotation-changed", Level.WARNING, path, text)
        elif isinstance(before, griffe.Class) and isinstance(obj, griffe.Class):
            text = f"`{path}`: bases {signature(before)[6:]} -> {signature(obj)[6:]}"
            yield Finding("api-class-bases-changed", Level.WARNING, path, text)
        else:
            text = f"`{path}`: {signature(before)} -> {signature(obj)}"
            yield Finding("api-changed", Level.WARNING, path, text)


def diff_api(old_tree: Path, new_tree: Path, package: str = PACKAGE) -> Section:
    """The facade section: griffe's breakages mapped to public names, plus the surface diff.

    If griffe cannot load or compare the code, the section says so as a warning instead of
    passing silently: an API diff that did not happen must not read as "no change".
    """
    section = Section(
        f"Facade public API ({package}/__init__.py exports, via griffe {_griffe_version()})"
    )
    try:
        _diff_api(section, old_tree.resolve(), new_tree.resolve(), package)
    except Exception as exc:  # griffe on arbitrary code at arbitrary refs: report, don't crash
        section.findings = [
            Finding(
                "api-diff-failed",
                Level.WARNING,
                package,
                f"the API diff could not be made ({type(exc).__name__}: {exc}); review by hand",
            )
        ]
    return section


def _diff_api(section: Section, old_tree: Path, new_tree: Path, package: str) -> None:
    old_pkg, new_pkg = _load(old_tree, package), _load(new_tree, package)
    if old_pkg is None and new_pkg is None:
        section.skipped = f"no {package}/__init__.py at either ref, so no public API to compare"
        return
    if new_pkg is None:
        section.findings.append(
            Finding("api-package-removed", Level.BREAKING, package, f"{package} is gone at NEW")
        )
        return
    if old_pkg is None:
        section.notes.append(f"no {package} at OLD: every exported name is new")
        for path, obj in surface(new_pkg).items():
            if path.count(".") == 1:
                section.findings.append(
                    Finding(
                        "api-added", Level.COMPATIBLE, path, f"`{path}` added: {signature(obj)}"
                    )
                )
        return
    if old_pkg.exports is None or new_pkg.exports is None:
        section.notes.append(
            "an __init__.py without __all__: its non-underscore names are taken as the public API"
        )
    findings, covered = _griffe_findings(old_pkg, new_pkg, old_tree, new_tree)
    section.findings = findings + list(_surface_findings(old_pkg, new_pkg, covered))


def _griffe_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("griffe")
    except PackageNotFoundError:
        return "?"
