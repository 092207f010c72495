"""Where this project keeps the things release-diff compares, read per ref.

The generator's inputs are named once, in pyproject.toml's `[tool.clickatell-codegen]`
(`spec`, `xsd`); reading them from each ref keeps release-diff right if they ever move.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from .gitio import read_text

PACKAGE = "clickatell_sms"
VERSION_FILE = f"{PACKAGE}/_version.py"
DEFAULT_SPEC = "spec/openapi.yaml"
DEFAULT_XSD = "spec/messages.xsd"


def spec_paths(repo: Path, sha: str) -> tuple[str, str]:
    """The OpenAPI and XSD paths at `sha`: `[tool.clickatell-codegen]`, else the defaults."""
    text = read_text(repo, sha, "pyproject.toml")
    if text is None:
        return DEFAULT_SPEC, DEFAULT_XSD
    try:
        cfg = tomllib.loads(text).get("tool", {}).get("clickatell-codegen", {})
    except tomllib.TOMLDecodeError:
        return DEFAULT_SPEC, DEFAULT_XSD
    return str(cfg.get("spec", DEFAULT_SPEC)), str(cfg.get("xsd", DEFAULT_XSD))
