"""Logging setup of `sagemaker-guardrails run`: JSON option, object references, quiet timer."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import kopf
import pytest

from sagemaker_guardrails.logs import configure_logging

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in ("botocore", "aiohttp.access")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in quiet.items():
        logging.getLogger(name).setLevel(value)


def object_logger() -> logging.LoggerAdapter[logging.Logger]:
    body = kopf.Body(
        {
            "apiVersion": "v1",
            "kind": "GuardedEndpoint",
            "metadata": {"name": "fraud", "namespace": "ml", "uid": "u-1"},
        }
    )
    return kopf.ObjectLogger(body=body, settings=kopf.OperatorSettings())


def test_json_lines_carry_the_object(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    object_logger().warning("Pass ended with %s", "Throttled")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    record = next(r for r in lines if r.get("message") == "Pass ended with Throttled")
    assert record["object"]["name"] == "fraud" and record["object"]["namespace"] == "ml"
    assert record["severity"] == "warn"


def test_text_lines_are_prefixed_with_the_object(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("text")
    object_logger().warning("hello")
    assert "[ml/fraud] hello" in capsys.readouterr().err


def test_the_enqueue_success_is_dropped_but_other_successes_stay(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("text")
    log = object_logger()
    log.info("Handler 'enqueue' succeeded.")
    log.info("Handler 'on-create' succeeded.")
    log.warning("Handler 'enqueue' succeeded.")  # never at WARNING, but not hidden if it were
    err = capsys.readouterr().err
    assert err.count("Handler 'enqueue' succeeded.") == 1
    assert "Handler 'on-create' succeeded." in err


def test_verbose_is_debug_but_botocore_stays_quiet() -> None:
    configure_logging("text", verbose=True)
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("botocore").level == logging.INFO
    configure_logging("text", "WARNING")
    assert logging.getLogger().level == logging.WARNING
    assert logging.getLogger("aiohttp.access").level == logging.WARNING
