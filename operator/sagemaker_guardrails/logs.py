"""Process-wide logging for ``sagemaker-guardrails run``: text for people, JSON for log pipelines.

kopf's own formatter is used for both, so every record logged through a handler's ``logger``
carries the object reference (``{"object": {"namespace": ..., "name": ...}}`` in JSON). Three
sources of noise are turned down on purpose: kopf's "Handler 'enqueue' succeeded." line (kopf
only hands every watch event to the work queue, so it would log one line per event: every status
write of every object, and the whole list at start-up), the access log of every liveness probe,
and botocore's debug chatter, which would otherwise drown ``--verbose``.
"""

from __future__ import annotations

import logging

import kopf

__all__ = ["configure_logging"]

_QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "aiohttp.access")


_ENQUEUED = "Handler 'enqueue' succeeded."


class _DropEnqueueSuccess(logging.Filter):
    """Drops kopf's per-event success message of the handler that feeds the work queue."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno <= logging.INFO and record.getMessage() == _ENQUEUED)


def configure_logging(log_format: str = "text", level: str = "INFO", *, verbose: bool = False) -> None:
    """Configure the root logger once, at start-up (never on import)."""
    kopf.configure(
        verbose=verbose,
        log_format=kopf.LogFormat.JSON if log_format == "json" else kopf.LogFormat.FULL,
        log_prefix=None,  # "[namespace/name]" in text; an "object" field in JSON instead
        log_refkey="object",
    )
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else level)
    for handler in root.handlers:
        if not any(isinstance(f, _DropEnqueueSuccess) for f in handler.filters):
            handler.addFilter(_DropEnqueueSuccess())
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
