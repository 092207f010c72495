"""Describes the xsdata-generated XML classes for the codec template.

Run in a child process (`python -m codegen.xml_view STAGING MODULE`) so the freshly generated
package is imported from the staging folder, never from an installed copy. The description comes
from xsdata's own metadata (XmlContext), so the codec and xsdata's models read the XSD the same way.
"""

from __future__ import annotations

import enum
import importlib
import json
import sys
from dataclasses import is_dataclass
from typing import Any

SCALARS = {str: "str", int: "int", bool: "bool", float: "float"}


def describe(module_name: str) -> dict[str, Any]:
    from xsdata.formats.dataclass.context import XmlContext

    module = importlib.import_module(module_name)
    context = XmlContext()
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
            continue
        if not (isinstance(obj, type) and is_dataclass(obj)):
            continue
        meta = context.build(obj)
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
        "roots": roots,
    }


def main() -> None:
    staging, module_name = sys.argv[1], sys.argv[2]
    # An editable install of the project must not shadow the staging copy.
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
    sys.path.insert(0, staging)
    json.dump(describe(module_name), sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
