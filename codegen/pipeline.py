"""spec/ -> generated/: run the generators, render the templates, format, stamp, write atomically.

Every step is deterministic: generator versions and options come from pyproject.toml, the
formatter is the pinned ruff run with the project's own configuration, file order is sorted, and
nothing records a time or a path of this machine.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2
import yaml

from . import contracts, spec_reader, tables

TEMPLATES = Path(__file__).parent / "templates"
RENDERED = (
    "__init__.py",
    "http_types.py",
    "transport_base.py",
    "deadline.py",
    "connection.py",
    "pool.py",
    "transport.py",
    "async_progress.py",
    "async_transport.py",
    "operations.py",
)
"""The modules rendered from templates/<name>.jinja with the spec alone (tables.py and the XML
codec also take the generators' output)."""
_PIN = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;]+)\s*$")


@dataclass(frozen=True)
class Settings:
    root: Path
    spec: Path
    xsd: Path
    output: Path
    package: str
    dmcg_options: Mapping[str, Any]
    xsdata_options: Mapping[str, Any]
    pins: Mapping[str, str]
    """The tools that shape the emitted bytes (the `codegen` extra), each at its exact version."""

    @classmethod
    def load(cls, root: Path) -> Settings:
        with (root / "pyproject.toml").open("rb") as f:
            project = tomllib.load(f)
        config = project["tool"]["clickatell-codegen"]
        return cls(
            root=root,
            spec=root / config["spec"],
            xsd=root / config["xsd"],
            output=root / config["output"],
            package=config["package"],
            dmcg_options=config.get("datamodel-codegen", {}),
            xsdata_options=config.get("xsdata", {}),
            pins=_pins(project["project"]["optional-dependencies"]["codegen"]),
        )

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _flags(options: Mapping[str, Any], *, negate_false: bool) -> list[str]:
    """pyproject options -> command-line flags, in the order written."""
    out: list[str] = []
    for key, value in options.items():
        if value is True:
            out.append(f"--{key}")
        elif value is False:
            if negate_false:
                out.append(f"--no-{key}")
        elif isinstance(value, list):
            out.extend([f"--{key}", *map(str, value)])
        else:
            out.extend([f"--{key}", str(value)])
    return out


def _run(args: list[str], cwd: Path) -> str:
    env = dict(os.environ)
    # Tools that shell out to a formatter (xsdata runs `ruff`) must find the pinned one.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONHASHSEED"] = "0"
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} ... failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def _pins(requirements: list[str]) -> dict[str, str]:
    """`name==version` entries of the codegen extra; anything looser is refused, because an
    unpinned generator would make the output depend on the day it was installed."""
    pins: dict[str, str] = {}
    for requirement in requirements:
        found = _PIN.match(requirement)
        if found is None:
            raise ValueError(
                "pyproject.toml: the codegen extra must pin every tool with ==, not"
                f" {requirement!r}"
            )
        pins[found.group(1).lower()] = found.group(2)
    return dict(sorted(pins.items()))


class MissingToolError(RuntimeError):
    """A generator or formatter is not installed in this interpreter."""


class ToolVersionError(RuntimeError):
    """A generator or formatter is installed at another version than its pin."""


_INSTALL_HINT = (
    "install the lock: pip install -c requirements/dev.lock -e '.[dev]' (scripts/test does)"
)


def require_tools(settings: Settings) -> None:
    """Fail early, naming each tool and both versions, unless every pinned tool is installed at
    exactly its pinned version: another version could emit other bytes for the same spec."""
    missing: list[str] = []
    wrong: list[str] = []
    for name, pinned in settings.pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        if installed != pinned:
            wrong.append(f"{name} {installed} is installed, the pin is {pinned}")
    if missing:
        raise MissingToolError(
            f"{sys.executable} lacks {', '.join(missing)}: {_INSTALL_HINT}, and run codegen"
            " with that Python"
        )
    if wrong:
        raise ToolVersionError(
            "the generators differ from their pins in pyproject.toml's codegen extra, so the"
            " output could differ for reasons other than the spec:\n  "
            + "\n  ".join(wrong)
            + f"\n{_INSTALL_HINT}"
        )


def _header(settings: Settings, source: Path) -> str:
    """The first line of every emitted module. Fixed: a spec change must not touch a file whose
    code it does not change, so the spec's hash lives in MANIFEST.json alone."""
    return f"# generated from {settings.relative(source)} by python -m codegen, do not edit"


def _python_repr(value: object) -> str:
    return repr(value)


def _docstring(text: str) -> str:
    """`text` as a triple-quoted string literal (for attribute docstrings)."""
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    return f'"""{body}"""'


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["pyrepr"] = _python_repr
    env.filters["docstring"] = _docstring
    env.filters["snake"] = spec_reader.snake
    env.globals.update(
        write_value=_write_value, read_value=_read_value, py_type=_py_type, query_code=_query_code
    )
    return env


def _query_code(param: spec_reader.Parameter) -> str:
    """The statement that adds one query parameter, encoded as its style and explode say."""
    name, value = repr(param.name + "="), param.py_name
    if param.is_array and param.explode:
        return f'query.extend({name} + quote(v, safe="") for v in {value})'
    if param.is_array:
        return f'query.append({name} + ",".join(quote(v, safe="") for v in {value}))'
    return f'query.append({name} + quote({value}, safe=""))'


def _py_type(field: Mapping[str, Any]) -> str:
    return str(field["target"] or field["kind"])


def _write_value(field: Mapping[str, Any], expr: str, item: bool = False) -> str:
    """The statement writing one value; `item`: one of a list's, written once per recipient."""
    tag, kind = field["tag"], field["kind"]
    if kind == "str":
        value = f'_esc({expr}, where, "{tag}")'
        if item:  # letters and digits alone (a number, the usual) need no escaping
            value = f"({expr} if {expr}.isalnum() else {value})"
        return f'out.append("<{tag}>" + {value} + "</{tag}>")'
    if kind == "enum":
        return f'out.append("<{tag}>" + _esc({expr}.value, where, "{tag}") + "</{tag}>")'
    if kind == "bool":
        return f'out.append("<{tag}>true</{tag}>" if {expr} else "<{tag}>false</{tag}>")'
    if kind in ("int", "float"):
        return f'out.append(f"<{tag}>{{{expr}!r}}</{tag}>")'
    target = spec_reader.snake(field["target"])
    return f'_write_{target}({expr}, out, where + "/{tag}", "{tag}")'


def _read_value(field: Mapping[str, Any]) -> str:
    kind = field["kind"]
    if kind == "str":
        return 'child.text or ""'
    if kind == "bool":  # "true", the usual value, read with no call
        return 'child.text == "true" or _bool(child, where)'
    if kind in ("int", "float"):
        return f"_{kind}(child, where)"
    if kind == "enum":
        return f"_enum({field['target']}, child, where)"
    target = spec_reader.snake(field["target"])
    return f'_read_{target}(child, where + "/{field["tag"]}")'


def _generate_models(settings: Settings, staging: Path) -> None:
    out = staging / "models.py"
    _run(
        [
            sys.executable,
            "-m",
            "datamodel_code_generator",
            "--input",
            str(settings.spec),
            "--output",
            str(out),
            *_flags(settings.dmcg_options, negate_false=False),
        ],
        cwd=staging,
    )
    # datamodel-codegen names the input file in its own header; ours replaces it.
    lines = out.read_text().splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    out.write_text(_header(settings, settings.spec) + "\n" + "".join(lines).lstrip("\n"))


def _generate_xml(settings: Settings, staging: Path) -> dict[str, Any]:
    work = staging.parent / "xsdata-work"
    work.mkdir()
    _run(
        [
            sys.executable,
            "-m",
            "xsdata",
            "generate",
            str(settings.xsd),
            "--package",
            f"{settings.package}.xml",
            *_flags(settings.xsdata_options, negate_false=True),
        ],
        cwd=work,
    )
    produced = work / settings.package / "xml"
    target = staging / "xml"
    shutil.copytree(produced, target)
    shutil.rmtree(work)
    header = _header(settings, settings.xsd)
    for path in sorted(target.glob("*.py")):
        path.write_text(header + "\n" + path.read_text())
    module = f"{settings.package}.xml.{settings.xsd.stem}"
    view: dict[str, Any] = json.loads(
        _run(
            [
                sys.executable,
                "-m",
                "codegen.introspect",
                str(staging.parent),
                settings.package,
                module,
            ],
            cwd=Path(__file__).parent.parent,
        )
    )
    return view


def _render(settings: Settings, staging: Path, view: Mapping[str, Any]) -> None:
    env = _environment()
    doc = yaml.safe_load(settings.spec.read_text())
    spec = spec_reader.read(doc)
    contracts.compare(
        doc,
        spec.xml_roots,
        view["xml"],
        openapi=settings.relative(settings.spec),
        xsd=settings.relative(settings.xsd),
    )
    openapi_header = _header(settings, settings.spec)
    for name in RENDERED:
        text = env.get_template(f"{name}.jinja").render(spec=spec, header=openapi_header)
        (staging / name).write_text(text)
    table_view = tables.build(doc, spec, view)
    text = env.get_template("tables.py.jinja").render(
        spec=spec, tables=table_view, header=openapi_header
    )
    (staging / "tables.py").write_text(text)
    xml_view = view["xml"]
    roots = {c["name"]: c for c in xml_view["classes"]}
    codec = env.get_template("xml_codec.py.jinja").render(
        view=xml_view, roots=roots, header=_header(settings, settings.xsd)
    )
    (staging / "xml" / "codec.py").write_text(codec)
    (staging / "py.typed").write_text("")


def _format(settings: Settings, staging: Path) -> None:
    config = str(settings.root / "pyproject.toml")
    ruff = [sys.executable, "-m", "ruff"]
    _run([*ruff, "check", "--config", config, "--fix-only", "--quiet", "--exit-zero", "."], staging)
    _run([*ruff, "format", "--config", config, "--quiet", "."], staging)


def _manifest(settings: Settings, staging: Path) -> None:
    files = {
        path.relative_to(staging).as_posix(): _sha256(path)
        for path in sorted(staging.rglob("*"))
        if path.is_file()
    }
    manifest = {
        "inputs": {
            settings.relative(settings.spec): _sha256(settings.spec),
            settings.relative(settings.xsd): _sha256(settings.xsd),
            "codegen/templates": hashlib.sha256(
                b"".join(p.read_bytes() for p in sorted(TEMPLATES.glob("*.jinja")))
            ).hexdigest(),
        },
        "tools": dict(settings.pins),
        "options": {
            "datamodel-codegen": dict(settings.dmcg_options),
            "xsdata": dict(settings.xsdata_options),
        },
        "files": files,
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (staging / "MANIFEST.json").write_text(text)


@contextmanager
def _staging(settings: Settings) -> Iterator[Path]:
    # Next to the output, so the final rename stays on one file system and is atomic.
    settings.output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".codegen-", dir=settings.output.parent) as tmp:
        staging = Path(tmp) / settings.package
        staging.mkdir()
        yield staging


def build(settings: Settings, staging: Path) -> None:
    """Generate everything into `staging` (an empty folder named after the package)."""
    require_tools(settings)
    _generate_models(settings, staging)
    view = _generate_xml(settings, staging)
    _render(settings, staging, view)
    for cache in staging.rglob("__pycache__"):
        shutil.rmtree(cache)
    _format(settings, staging)
    for cache in [*staging.rglob("__pycache__"), *staging.rglob(".ruff_cache")]:
        shutil.rmtree(cache)
    _manifest(settings, staging)


def regenerate(settings: Settings) -> list[Path]:
    """Rebuild generated/ and swap it in atomically; returns the files written."""
    with _staging(settings) as staging:
        build(settings, staging)
        old = staging.parent / "old"
        if settings.output.exists():
            settings.output.rename(old)
        staging.rename(settings.output)
    return sorted(p for p in settings.output.rglob("*") if p.is_file())


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def check(settings: Settings) -> str:
    """A unified diff between generated/ and a fresh build; empty when they are identical."""
    with _staging(settings) as staging:
        build(settings, staging)
        fresh = _tree(staging)
    current = _tree(settings.output) if settings.output.exists() else {}
    out: list[str] = []
    for name in sorted(set(fresh) | set(current)):
        a, b = current.get(name), fresh.get(name)
        if a == b:
            continue
        a_lines = (a or b"").decode("utf-8", "replace").splitlines(keepends=True)
        b_lines = (b or b"").decode("utf-8", "replace").splitlines(keepends=True)
        label = f"generated/{settings.package}/{name}"
        out.extend(
            difflib.unified_diff(a_lines, b_lines, f"{label} (checked in)", f"{label} (from spec)")
        )
        if a is None or b is None:
            out.append(f"{'missing' if a is None else 'not generated any more'}: {label}\n")
    return "".join(out)
