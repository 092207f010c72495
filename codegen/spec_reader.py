"""Reads the OpenAPI document into the few facts the templates need, and nothing more.

Written by hand because no maintained library turns OpenAPI operations into a template-friendly
list (datamodel-code-generator covers schemas only); it stays small by refusing what it does not
understand instead of guessing.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any

JSON = "application/json"
XML = "application/xml"
SUPPORTED_MEDIA = (JSON, XML)


class SpecError(ValueError):
    """The spec uses something this generator does not handle; the message says where."""


@dataclass(frozen=True)
class Parameter:
    name: str  # as on the wire
    py_name: str  # keyword argument name
    location: str  # "query" or "header"
    required: bool
    is_array: bool
    explode: bool
    description: str
    enum: tuple[str, ...] = ()

    @property
    def annotation(self) -> str:
        if self.enum:
            base = "Literal[" + ", ".join(repr(v) for v in self.enum) + "]"
        else:
            base = "Sequence[str]" if self.is_array else "str"
        return base if self.required else f"{base} | None"


@dataclass(frozen=True)
class ResponseSpec:
    status: str  # "202", "4XX", "default"
    media: dict[str, str]  # media type -> schema name (models class)
    description: str


@dataclass(frozen=True)
class Operation:
    operation_id: str
    py_name: str
    method: str
    path: str
    summary: str
    description: str
    security: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    body_schema: str | None  # schema name of the request body, if any
    body_media: tuple[str, ...]  # request media types, the first is the default
    body_required: bool
    responses: tuple[ResponseSpec, ...]
    media_types: tuple[str, ...] = field(default=())

    @property
    def response_schemas(self) -> dict[str, list[str]]:
        """Media type -> the distinct schema names any response may carry in it, in spec order."""
        out: dict[str, list[str]] = {}
        for response in self.responses:
            for media, schema in response.media.items():
                names = out.setdefault(media, [])
                if schema not in names:
                    names.append(schema)
        return out


@dataclass(frozen=True)
class SecurityScheme:
    name: str
    location: str  # "header" or "query"
    param: str


@dataclass(frozen=True)
class Spec:
    title: str
    version: str
    default_base_url: str
    security_schemes: tuple[SecurityScheme, ...]
    operations: tuple[Operation, ...]
    xml_roots: dict[str, str]  # schema name -> XML element name, for bodies sent/read as XML


def snake(name: str) -> str:
    """`sendMessageHttp` -> `send_message_http`; a Python keyword gets a trailing underscore."""
    out = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).replace("-", "_").lower()
    return out + "_" if keyword.iskeyword(out) else out


def resolve_ref(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise SpecError(f"only local $ref is supported, not {ref!r}")
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _schema_name(node: Any, where: str) -> str:
    if not isinstance(node, dict) or "$ref" not in node:
        raise SpecError(f"{where}: bodies must $ref a named schema under components/schemas")
    ref: str = node["$ref"]
    prefix = "#/components/schemas/"
    if not ref.startswith(prefix):
        raise SpecError(f"{where}: {ref!r} is not a components/schemas reference")
    return ref[len(prefix) :]


def _parameter(doc: dict[str, Any], raw: Any, where: str) -> Parameter:
    p = resolve_ref(doc, raw)
    location = p["in"]
    if location not in ("query", "header"):
        raise SpecError(f"{where}: parameters in {location!r} are not supported")
    schema = resolve_ref(doc, p.get("schema", {}))
    is_array = schema.get("type") == "array"
    if is_array:
        schema = resolve_ref(doc, schema.get("items", {}))
    style = p.get("style", "form")
    if style != "form" and location == "query":
        raise SpecError(f"{where}: query style {style!r} is not supported")
    enum = tuple(str(v) for v in schema.get("enum", ()))
    return Parameter(
        name=p["name"],
        py_name=snake(p["name"]),
        location=location,
        required=bool(p.get("required", False)),
        is_array=is_array,
        explode=bool(p.get("explode", style == "form")),
        description=" ".join(str(p.get("description", "")).split()),
        enum=enum,
    )


def read(doc: dict[str, Any]) -> Spec:
    """Turn a parsed OpenAPI document into the generator's view of it."""
    schemes = tuple(
        SecurityScheme(name, s["in"], s["name"])
        for name, s in sorted(doc.get("components", {}).get("securitySchemes", {}).items())
        if s.get("type") == "apiKey"
    )
    default_security = tuple(next(iter(r)) for r in doc.get("security", []) if r)
    operations: list[Operation] = []
    xml_roots: dict[str, str] = {}
    schemas = doc.get("components", {}).get("schemas", {})
    for path, item in doc.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in ("get", "put", "post", "delete", "patch"):
            op = item.get(method)
            if op is None:
                continue
            where = f"{method.upper()} {path}"
            params = tuple(
                _parameter(doc, raw, where) for raw in [*shared, *op.get("parameters", [])]
            )
            body_schema = None
            body_media: tuple[str, ...] = ()
            body_required = False
            if "requestBody" in op:
                body = resolve_ref(doc, op["requestBody"])
                body_required = bool(body.get("required", False))
                media = {k: v for k, v in body["content"].items() if k in SUPPORTED_MEDIA}
                if not media:
                    raise SpecError(f"{where}: no supported request media type")
                names = {_schema_name(v.get("schema"), where) for v in media.values()}
                if len(names) != 1:
                    raise SpecError(f"{where}: one schema for every request media type, please")
                body_schema = names.pop()
                body_media = tuple(media)
            responses = []
            media_types: list[str] = list(body_media)
            for status, raw in op.get("responses", {}).items():
                response = resolve_ref(doc, raw)
                content = {}
                for media_type, content_item in response.get("content", {}).items():
                    if media_type in SUPPORTED_MEDIA:
                        content[media_type] = _schema_name(
                            content_item.get("schema"), f"{where} {status}"
                        )
                        if media_type not in media_types:
                            media_types.append(media_type)
                responses.append(
                    ResponseSpec(str(status), content, " ".join(response["description"].split()))
                )
            for media_name in [body_schema, *(n for r in responses for n in r.media.values())]:
                if media_name and XML in media_types:
                    xml_name = schemas.get(media_name, {}).get("xml", {}).get("name", media_name)
                    xml_roots[media_name] = xml_name
            security = op.get("security")
            names_used = (
                tuple(next(iter(r)) for r in security if r)
                if security is not None
                else default_security
            )
            operations.append(
                Operation(
                    operation_id=op["operationId"],
                    py_name=snake(op["operationId"]),
                    method=method.upper(),
                    path=path,
                    summary=" ".join(str(op.get("summary", "")).split()),
                    description=str(op.get("description", "")).strip(),
                    security=names_used,
                    parameters=params,
                    body_schema=body_schema,
                    body_media=body_media,
                    body_required=body_required,
                    responses=tuple(responses),
                    media_types=tuple(media_types),
                )
            )
    servers = doc.get("servers") or [{"url": "http://localhost"}]
    return Spec(
        title=doc["info"]["title"],
        version=str(doc["info"]["version"]),
        default_base_url=servers[0]["url"],
        security_schemes=schemes,
        operations=tuple(sorted(operations, key=lambda o: o.py_name)),
        xml_roots=dict(sorted(xml_roots.items())),
    )
