"""`python -m codegen [--check]`: regenerate generated/ from spec/, or prove it is up to date."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .contracts import ContractMismatch
from .pipeline import MissingToolError, Settings, ToolVersionError, check, regenerate
from .spec_reader import SpecError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary folder and fail with a diff if generated/ is stale",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path.cwd(),
        help="the project folder holding pyproject.toml (default: the current folder)",
    )
    args = parser.parse_args(argv)
    settings = Settings.load(args.root.resolve())
    started = time.perf_counter()
    try:
        return _run(settings, check_only=args.check, started=started)
    except MissingToolError as exc:
        venv = settings.root / ".venv"
        venv_python = venv / "bin" / "python"
        if venv_python.exists() and Path(sys.prefix).resolve() != venv.resolve():
            # The pinned generators live in the project's venv (scripts/test makes it): use it.
            sys.stderr.write(
                f"codegen: {Path(sys.executable).name} lacks the generators; using {venv_python}\n"
            )
            sys.stderr.flush()
            os.execv(venv_python, [str(venv_python), "-m", "codegen", *sys.argv[1:]])
        sys.stderr.write(f"codegen: {exc}\n")
        return 2
    except ToolVersionError as exc:
        sys.stderr.write(f"codegen: {exc}\n")
        return 2
    except ContractMismatch as exc:
        sys.stderr.write(
            f"codegen: the two contracts disagree ({len(exc.problems)}); nothing was written:\n"
        )
        sys.stderr.writelines(f"  {line}\n" for line in exc.problems)
        return 1
    except SpecError as exc:
        sys.stderr.write(f"codegen: the spec uses something codegen cannot read: {exc}\n")
        return 1


def _run(settings: Settings, *, check_only: bool, started: float) -> int:
    if check_only:
        diff = check(settings)
        if diff:
            sys.stdout.write(diff)
            sys.stderr.write("generated/ is stale: run `python -m codegen` and commit the result\n")
            return 1
        print(f"generated/ is up to date ({time.perf_counter() - started:.2f} s)")
        return 0
    written = regenerate(settings)
    print(
        f"wrote {len(written)} files to {settings.output} in {time.perf_counter() - started:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
