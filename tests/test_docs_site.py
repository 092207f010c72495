"""The docs site's configuration: repository links reach their pages, and every page is in the
nav. (scripts/test builds the site itself with `mkdocs build --strict`.)"""

from __future__ import annotations

import importlib.util
import tomllib
from types import ModuleType

import pytest
import yaml

from .conftest import ROOT

DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "tools/mkdocs_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def point(hooks: ModuleType, markdown: str, page: str) -> str:
    result: str = hooks.point_links(markdown, page, ROOT, DOCS)
    return result


def test_a_guide_linking_the_readme_reaches_its_page(hooks: ModuleType) -> None:
    text = "codes: [table](../README.md#sandbox-error-codes)."
    assert point(hooks, text, "sandbox.md") == (
        "codes: [table](project/readme.md#sandbox-error-codes)."
    )
    nested = "see [errors](../../README.md) and [usage](../usage.md#install)"
    assert point(hooks, nested, "reference/errors.md") == (
        "see [errors](../project/readme.md) and [usage](../usage.md#install)"
    )


def test_the_readme_links_to_the_guides_and_the_project_files(hooks: ModuleType) -> None:
    text = (
        "[usage](docs/usage.md) [how](CONTRIBUTING.md) [bench](benchmarks/RESULTS.md)"
        ' [log](CHANGELOG.md "the changes")'
    )
    assert point(hooks, text, "project/readme.md") == (
        "[usage](../usage.md) [how](contributing.md) [bench](benchmarks.md)"
        ' [log](changelog.md "the changes")'
    )


def test_links_to_anything_else_are_left_for_mkdocs_to_report(hooks: ModuleType) -> None:
    text = (
        "[spec](../spec/openapi.yaml) [gone](missing.md) [web](https://example.org/a.md)"
        " [here](#top) [mail](mailto:x@example.org)"
    )
    assert point(hooks, text, "usage.md") == text


def test_every_page_is_in_the_nav_and_every_repository_page_exists(hooks: ModuleType) -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)

    def pages(nav: object) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        if isinstance(nav, dict):
            return [page for value in nav.values() for page in pages(value)]
        assert isinstance(nav, list)
        return [page for item in nav for page in pages(item)]

    in_nav = set(pages(config["nav"]))
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    generated = set(hooks.REPOSITORY_PAGES.values())
    assert in_nav == on_disk | generated
    for source in hooks.REPOSITORY_PAGES:
        assert (ROOT / source).is_file(), source


def test_the_docs_tools_are_an_extra_that_the_dev_extra_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    docs = project["optional-dependencies"]["docs"]
    assert {d.split(">")[0].split("[")[0] for d in docs} >= {"mkdocs", "mkdocs-material"}
    assert any("mkdocstrings[python]" in d for d in docs)
    assert any("docs" in d for d in project["optional-dependencies"]["dev"] if "[" in d)
    lock = (ROOT / "requirements/dev.lock").read_text().splitlines()
    assert any(line.startswith("mkdocs-material==") for line in lock)
    assert "mkdocs build --strict" in (ROOT / "scripts/test").read_text()
