"""Read-only access to a git repository at given refs.

Everything release-diff knows about OLD and NEW comes through here: files are read with
`git show REF:path` and trees with `git ls-tree`, so the user's work tree (and its uncommitted
edits) is never touched. Code that must *run* at a ref gets a throw-away detached worktree that is
always removed again.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path


class GitError(RuntimeError):
    """A git command failed; release-diff cannot produce a trustworthy report without it."""


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` and return stdout; raise GitError with git's own message on failure."""
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def toplevel(path: Path) -> Path:
    """The repository root containing `path`, so refs and paths mean the same from any cwd."""
    return Path(git(path, "rev-parse", "--show-toplevel").strip())


def resolve_commit(repo: Path, ref: str) -> str:
    """Full sha of the commit `ref` names; a tag, branch, `HEAD~1` or sha are all accepted."""
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except GitError as exc:
        raise GitError(f"{ref!r} is not a commit in {repo}") from exc


def read_file(repo: Path, sha: str, path: str) -> bytes | None:
    """Bytes of `path` at commit `sha`, or None when the file does not exist there."""
    proc = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "blob", f"{sha}:{path}"],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        return None
    return proc.stdout


def read_text(repo: Path, sha: str, path: str) -> str | None:
    """Text of `path` at `sha` (UTF-8), or None when absent."""
    data = read_file(repo, sha, path)
    return None if data is None else data.decode("utf-8", errors="replace")


def list_files(repo: Path, sha: str, prefix: str = "") -> list[str]:
    """Paths of all files under `prefix` at `sha` (recursive, repository-relative)."""
    args = ["ls-tree", "-r", "--name-only", sha]
    if prefix:
        args += ["--", prefix]
    return [line for line in git(repo, *args).splitlines() if line]


@dataclass(frozen=True)
class ChangedFile:
    """One file changed between two commits, as `git diff --numstat` and `--name-status` see it."""

    status: str  # A, M, D, R (rename), T (type change)
    path: str  # the NEW path (the OLD one for deletions)
    old_path: str | None  # set for renames
    added: int | None  # None for binary files
    deleted: int | None


def changed_files(repo: Path, old: str, new: str, *pathspec: str) -> list[ChangedFile]:
    """Files that differ between `old` and `new`, with line counts, renames detected."""
    spec = ["--", *pathspec] if pathspec else []
    status_out = git(repo, "diff", "--name-status", "-M", "-z", old, new, *spec)
    numstat_out = git(repo, "diff", "--numstat", "-M", "-z", old, new, *spec)

    counts: dict[str, tuple[int | None, int | None]] = {}
    parts = numstat_out.split("\0")
    i = 0
    while i < len(parts):
        head = parts[i]
        if not head:
            i += 1
            continue
        added_s, deleted_s, name = head.split("\t", 2)
        if name == "":  # rename: the next two NUL fields are old and new path
            name = parts[i + 2]
            i += 3
        else:
            i += 1
        added = None if added_s == "-" else int(added_s)
        deleted = None if deleted_s == "-" else int(deleted_s)
        counts[name] = (added, deleted)

    result: list[ChangedFile] = []
    fields = [f for f in status_out.split("\0")]
    i = 0
    while i < len(fields):
        code = fields[i]
        if not code:
            i += 1
            continue
        letter = code[0]
        if letter in "RC":
            old_path, path = fields[i + 1], fields[i + 2]
            i += 3
        else:
            old_path, path = None, fields[i + 1]
            i += 2
        added, deleted = counts.get(path, (None, None))
        result.append(ChangedFile(letter, path, old_path, added, deleted))
    return result


@contextmanager
def worktree(repo: Path, sha: str) -> Iterator[Path]:
    """A detached checkout of `sha` in a temporary directory, removed on exit whatever happens."""
    parent = Path(tempfile.mkdtemp(prefix="release-diff-"))
    path = parent / "tree"
    try:
        git(repo, "worktree", "add", "--detach", "--quiet", str(path), sha)
        yield path
    finally:
        try:
            git(repo, "worktree", "remove", "--force", str(path))
        except GitError:
            shutil.rmtree(path, ignore_errors=True)
            with suppress(GitError):
                git(repo, "worktree", "prune")
        shutil.rmtree(parent, ignore_errors=True)
