"""MkDocs hooks: the repository's own Markdown joins the site, and repository links reach it.

The pages are written to be read in a clone or on a forge, so they link by repository path
(`../README.md#sandbox-error-codes`, `docs/usage.md`, `CONTRIBUTING.md`). MkDocs knows only the
files under docs/, and `mkdocs build --strict` fails on a link it cannot place. So the few
Markdown files outside docs/ that pages link to are added as pages under `project/`, and every
link that names one of the site's files by its repository path is pointed at its page. A link to
anything else is left alone, so MkDocs still reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Final

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

__all__ = ["REPOSITORY_PAGES", "on_files", "on_page_markdown", "point_links"]

REPOSITORY_PAGES: Final = {
    "README.md": "project/readme.md",
    "CONTRIBUTING.md": "project/contributing.md",
    "CHANGELOG.md": "project/changelog.md",
    "benchmarks/RESULTS.md": "project/benchmarks.md",
}
"""Markdown outside docs/ that the site includes: repository path -> page in the site."""

# An inline link or image target: ](target) or ](target "title").
_LINK: Final = re.compile(r"\]\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    root = _root(config)
    for source, uri in REPOSITORY_PAGES.items():
        path = root / source
        if path.is_file():
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return point_links(markdown, page.file.src_uri, _root(config), Path(config.docs_dir))


def point_links(markdown: str, page_uri: str, root: Path, docs: Path) -> str:
    """`markdown` of the page at `page_uri` with repository-path links pointed at site pages."""
    here = _repository_path(page_uri, root, docs)

    def point(match: re.Match[str]) -> str:
        target = match["target"]
        if target.startswith(("#", "/")) or ":" in target:  # anchors, absolute, URLs
            return match[0]
        path, hash_, anchor = target.partition("#")
        uri = _site_uri((here.parent / path).resolve(), root, docs)
        if uri is None:
            return match[0]  # not a page of the site: MkDocs reports it
        relative = posixpath.relpath(uri, posixpath.dirname(page_uri) or ".")
        return f"]({relative}{hash_}{anchor}{match['title'] or ''})"

    return _LINK.sub(point, markdown)


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def _repository_path(page_uri: str, root: Path, docs: Path) -> Path:
    for source, uri in REPOSITORY_PAGES.items():
        if uri == page_uri:
            return root / source
    return docs.resolve() / page_uri


def _site_uri(path: Path, root: Path, docs: Path) -> str | None:
    if path.suffix != ".md":
        return None
    if path.is_relative_to(docs.resolve()):
        return path.relative_to(docs.resolve()).as_posix()
    if path.is_relative_to(root):
        return REPOSITORY_PAGES.get(path.relative_to(root).as_posix())
    return None
