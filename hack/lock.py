"""``make lock``: the image's hash-pinned requirements, resolved from ``pyproject.toml``.

Writes two files with ``uv pip compile --generate-hashes`` for Python 3.11 on Linux (the image's
base), each pin carrying the hashes of every file PyPI has for that version (any architecture):

- ``requirements/operator.lock``: ``[project].dependencies`` and everything they pull in; the
  image installs exactly this with ``pip install --require-hashes --no-deps``;
- ``requirements/build.lock``: ``[build-system].requires`` plus pip itself, the toolchain the
  image's build stage turns the package into a wheel with.

Pins already in a lock file are kept while they still satisfy pyproject (like pip-compile);
``--upgrade`` (``make lock-upgrade``) resolves everything to the newest versions again.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON_VERSION = "3.11"


def uv() -> str:
    for candidate in (os.environ.get("UV"), str(Path(sys.executable).parent / "uv"), shutil.which("uv")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise SystemExit("uv is needed for `make lock` (it is in the dev extra: make venv)")


def compile_lock(source: str, output: Path, *, upgrade: bool, stdin: str | None = None) -> None:
    command = [uv(), "pip", "compile", source, "--generate-hashes", "--quiet"]
    command += ["--python-version", PYTHON_VERSION, "--python-platform", "linux"]
    command += ["--custom-compile-command", "make lock", "--output-file", str(output.relative_to(REPO))]
    if upgrade:
        command.append("--upgrade")
    print("+", " ".join(command[1:]), file=sys.stderr)
    subprocess.run(command, cwd=REPO, check=True, input=stdin, text=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make lock", description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="resolve every pin anew")
    args = parser.parse_args(argv)
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    folder = REPO / "requirements"
    folder.mkdir(exist_ok=True)
    compile_lock("pyproject.toml", folder / "operator.lock", upgrade=args.upgrade)
    build = "\n".join([*pyproject["build-system"]["requires"], "pip"]) + "\n"
    compile_lock("-", folder / "build.lock", upgrade=args.upgrade, stdin=build)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
