"""Describes the freshly generated code for the templates and the contract check.

Run in a child process (`python -m codegen.introspect STAGING PACKAGE XML_MODULE`) so the
generated package is imported from the staging folder, never from an installed copy. It reports:

* the xsdata XML classes, from xsdata's own metadata (XmlContext), so the codec and xsdata's
  models read the XSD the same way, with each field's facets (lengths, bounds, pattern,
  occurrences) and each enum's values, which codegen holds against the OpenAPI schemas;
* the JSON models' attribute names (datamodel-code-generator's snake_case, keyword escapes), so
  the tables never guess how a wire name became a Python one.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
import os
import sys
from dataclasses import is_dataclass
from typing import Any

# xsdata's field metadata keys that restrict a value (the rest name the element).
_FACETS = (
    "min_length",
    "max_length",
    "length",
    "min_inclusive",
    "max_inclusive",
    "min_exclusive",
    "max_exclusive",
    "pattern",
    "min_occurs",
    "max_occurs",
)

SCALARS = {str: "str", int: "int", bool: "bool", float: "float"}


def describe(module_name: str) -> dict[str, Any]:
    from xsdata.formats.dataclass.context import XmlContext

    module = importlib.import_module(module_name)
    context = XmlContext()
    enum_values: dict[str, list[str]] = {}
    classes: list[dict[str, Any]] = []
    enums: list[str] = []
    roots: list[str] = []
    referenced: set[str] = set()
    for name in sorted(vars(module)):
        obj = getattr(module, name)
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        if isinstance(obj, type) and issubclass(obj, enum.Enum):
            enums.append(name)
            enum_values[name] = [str(member.value) for member in obj]
            continue
        if not (isinstance(obj, type) and is_dataclass(obj)):
            continue
        meta = context.build(obj)
        metadata = {f.name: dict(f.metadata) for f in dataclasses.fields(obj)}
        fields = []
        for var in meta.get_all_vars():
            if not var.is_element:
                raise SystemExit(f"{name}.{var.name}: only element fields are supported")
            (tp,) = var.types
            if isinstance(tp, type) and issubclass(tp, enum.Enum):
                kind, target = "enum", tp.__name__
            elif is_dataclass(tp):
                kind, target = "class", tp.__name__
                referenced.add(tp.__name__)
            elif tp in SCALARS:
                kind, target = SCALARS[tp], ""
            else:
                raise SystemExit(f"{name}.{var.name}: type {tp!r} is not supported")
            fields.append(
                {
                    "attr": var.name,
                    "tag": var.local_name,
                    "kind": kind,
                    "target": target,
                    "is_list": bool(var.list_element),
                    "required": bool(var.required) and not var.list_element,
                    "min_occurs": 1 if var.required else 0,
                    "facets": {
                        key: metadata[var.name][key] for key in _FACETS if key in metadata[var.name]
                    },
                }
            )
        classes.append({"name": name, "element": meta.qname, "fields": fields})
    for cls in classes:
        if cls["name"] not in referenced:
            roots.append(cls["name"])
    return {
        "module": module_name.rsplit(".", 1)[-1],
        "classes": classes,
        "enums": enums,
        "enum_values": enum_values,
        "roots": roots,
    }


def model_attributes(package: str) -> dict[str, dict[str, str]]:
    """Each JSON model's wire names -> attribute names (`from` -> `from_`)."""
    import msgspec

    models = importlib.import_module(f"{package}.models")
    out: dict[str, dict[str, str]] = {}
    for name in sorted(vars(models)):
        obj = getattr(models, name)
        if isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj is not msgspec.Struct:
            out[name] = {f.encode_name: f.name for f in msgspec.structs.fields(obj)}
    return out


def main() -> None:
    staging, package, module_name = sys.argv[1], sys.argv[2], sys.argv[3]
    # Neither an editable install nor another copy on the path (PYTHONPATH) may shadow the
    # staging copy, which has no __init__.py yet and so would lose to any regular package.
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
    sys.path[:] = [staging, *(p for p in sys.path if not os.path.isdir(os.path.join(p, package)))]
    view = {"xml": describe(module_name), "models": model_attributes(package)}
    json.dump(view, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
