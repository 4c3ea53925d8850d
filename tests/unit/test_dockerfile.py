"""What can be checked of the Dockerfile without a Docker engine: it is parsed with BuildKit's own
parser (the ``dockerfile`` package), and its build context is computed from .dockerignore."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import dockerfile
import pytest
import yaml

from sagemaker_guardrails.cli import SUBCOMMANDS

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SECRETISH = re.compile(r"(SECRET|PASSWORD|TOKEN|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL)", re.IGNORECASE)
AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")


@pytest.fixture(scope="module")
def commands() -> tuple[dockerfile.Command, ...]:
    return dockerfile.parse_file(str(REPO / "Dockerfile"))


def stages(commands: tuple[dockerfile.Command, ...]) -> list[list[dockerfile.Command]]:
    found: list[list[dockerfile.Command]] = []
    for command in commands:
        if command.cmd == "FROM":
            found.append([])
        if found:
            found[-1].append(command)
    return found


def build_args(commands: tuple[dockerfile.Command, ...]) -> dict[str, str]:
    args = {}
    for command in commands:
        if command.cmd == "ARG":
            name, _, default = command.value[0].partition("=")
            args[name] = default
        if command.cmd == "FROM":
            break
    return args


def test_multi_stage_build_on_a_pinned_slim_python(commands: tuple[dockerfile.Command, ...]) -> None:
    parts = stages(commands)
    assert len(parts) >= 2, "build and runtime stages"
    args = build_args(commands)
    for stage in parts:
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], stage[0].value[0])
        name, _, tag = image.partition(":")
        assert name == "python", image
        assert re.fullmatch(r"3\.11\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", tag), f"{image} is not pinned"
    runtime = parts[-1]
    assert any(c.cmd == "COPY" and "--from=build" in c.flags for c in runtime), "runtime copies the build"
    assert not any(c.cmd == "RUN" and "pip install" in c.original for c in runtime), (
        "nothing built at runtime"
    )


def test_dependencies_come_from_the_hash_pinned_lock_only(commands: tuple[dockerfile.Command, ...]) -> None:
    build = stages(commands)[0]
    installs = [
        c.original for c in build if c.cmd == "RUN" and "pip" in c.original and " install " in c.original
    ]
    assert installs, "the build stage installs something"
    for run in installs:
        for part in run.split("&&"):
            if " install " not in part:
                continue
            assert "--no-deps" in part, f"pip resolves nothing by itself: {part.strip()}"
            if " -r " in part:
                assert "--require-hashes" in part, part.strip()
                assert re.search(r"-r\s+requirements/(operator|build)\.lock", part), part.strip()
            else:
                assert "/tmp/wheels/" in part, f"only the lock or the operator's own wheel: {part.strip()}"
    text = " ".join(c.original for c in build if c.cmd == "RUN")
    assert "requirements/operator.lock" in text and "pip --python /opt/venv/bin/python check" in text
    assert "--without-pip" in text, "the runtime virtualenv has no pip"
    assert "--no-build-isolation" in text, "the wheel is built with the locked toolchain, not a fresh one"


def test_runtime_runs_as_the_charts_fixed_non_root_uid(commands: tuple[dockerfile.Command, ...]) -> None:
    runtime = stages(commands)[-1]
    users = [c.value[0] for c in runtime if c.cmd == "USER"]
    assert users, "the runtime stage sets USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0, "numeric UID, so runAsNonRoot can verify it"
    assert gid.isdigit() and int(gid) > 0
    values = yaml.safe_load((REPO / "charts" / "sagemaker-guardrails" / "values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == int(uid)
    assert values["podSecurityContext"]["runAsGroup"] == int(gid)
    assert runtime.index(next(c for c in runtime if c.cmd == "USER")) > max(
        i for i, c in enumerate(runtime) if c.cmd in ("RUN", "COPY")
    ), "USER comes after every RUN and COPY"


def test_entrypoint_runs_the_operator(commands: tuple[dockerfile.Command, ...]) -> None:
    runtime = stages(commands)[-1]
    (entrypoint,) = [c for c in runtime if c.cmd == "ENTRYPOINT"]
    (cmd,) = [c for c in runtime if c.cmd == "CMD"]
    assert entrypoint.json and cmd.json, "exec form: the operator is PID 1 and receives SIGTERM"
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert entrypoint.value == ("sagemaker-guardrails",)
    assert scripts["sagemaker-guardrails"] == "sagemaker_guardrails.cli:main"
    assert cmd.value[0] == "run" and "run" in SUBCOMMANDS
    env = " ".join(c.original for c in runtime if c.cmd == "ENV")
    assert "PYTHONUNBUFFERED=1" in env and "PYTHONDONTWRITEBYTECODE=1" in env
    assert "/opt/venv/bin" in env


def test_exposed_ports_are_the_charts(commands: tuple[dockerfile.Command, ...]) -> None:
    exposed = {int(p) for c in stages(commands)[-1] if c.cmd == "EXPOSE" for p in c.value}
    values = yaml.safe_load((REPO / "charts" / "sagemaker-guardrails" / "values.yaml").read_text())
    assert exposed == {values["health"]["port"], values["metrics"]["port"]}


def test_no_secrets_in_the_image_definition(commands: tuple[dockerfile.Command, ...]) -> None:
    for command in commands:
        if command.cmd in ("ENV", "ARG"):
            names = [v.split("=")[0] for v in command.value]
            assert not any(SECRETISH.search(n) for n in names), command.original
        assert not AWS_KEY_ID.search(command.original), command.original
        if command.cmd in ("COPY", "ADD"):
            assert not any(s in command.original for s in (".aws", ".kube", "kubeconfig", ".env")), (
                command.original
            )
        assert command.cmd != "ADD", "COPY only: ADD fetches URLs and unpacks archives"


def _glob(pattern: str) -> re.Pattern[str]:
    """Go's filepath.Match as .dockerignore uses it, plus ``**`` for any number of directories."""
    out = ""
    for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        out += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
    return re.compile(out)


def ignored(path: str, patterns: list[str]) -> bool:
    """The last matching pattern wins, ``!`` re-includes, and a pattern that matches a directory
    matches everything below it."""
    parents = [str(Path(*Path(path).parts[:i])) for i in range(1, len(Path(path).parts) + 1)]
    result = False
    for raw in patterns:
        if any(_glob(raw.lstrip("!").strip("/")).fullmatch(p) for p in parents):
            result = not raw.startswith("!")
    return result


def test_build_context_is_the_package_and_nothing_else() -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    context = {p for p in tracked if not ignored(p, patterns)}
    assert {"pyproject.toml", "README.md", "operator/sagemaker_guardrails/cli.py"} <= context
    assert {"requirements/operator.lock", "requirements/build.lock"} <= context
    top = ("pyproject.toml", "README.md", "requirements/operator.lock", "requirements/build.lock")
    assert all(p in top or p.startswith("operator/") for p in context), sorted(
        p for p in context if not p.startswith("operator/")
    )
    for leak in (
        ".venv/bin/python",
        ".git/config",
        "operator/x/__pycache__/a.pyc",
        "operator/.env",
        "kubeconfig",
    ):
        assert ignored(leak, patterns), leak
    assert not ignored("operator/sagemaker_guardrails/api/spec.py", patterns)
