"""The operator's one error taxonomy.

Every error that crosses a port (``aws/ports.py``) is one of these classes, so the reconciler
decides on meaning ("not there", "busy, come back later", "AWS is slowing us down", "this request
can never succeed") and never on a ``ClientError`` code or message. The AWS adapters translate
into this tree in exactly one place (``aws.translate``), and ``handlers.py`` maps it onto kopf's
retry semantics in exactly one place.

SageMaker surprises that shaped the tree:

- A missing endpoint is a ``ValidationException`` whose message starts with
  ``Could not find endpoint``, not a ``ResourceNotFound``: hence :class:`NotFound` is decided by
  message prefix as well as by code.
- Mutating an endpoint while it is ``Creating``/``Updating``/... is also a
  ``ValidationException`` (``Cannot update in-progress endpoint``): :class:`Busy` is not a
  failure, the reconciler waits and tries again.
- Throttling and 5xx never fail a resource: they are :class:`Retryable` and only slow the
  operator down.

::

    OperatorError
     ├── NotFound
     ├── AlreadyExists
     ├── Busy
     ├── Retryable           (retry_after)
     │    └── Throttled
     ├── InvalidRequest      (the request can never succeed as sent)
     ├── AccessDenied
     ├── InvalidSpec         (field)
     └── Terminal
"""

from __future__ import annotations

# The names are part of the project contract (short, kopf-style: NotFound, Busy, ...).
# ruff: noqa: N818

__all__ = [
    "AccessDenied",
    "AlreadyExists",
    "Busy",
    "InvalidRequest",
    "InvalidSpec",
    "NotFound",
    "OperatorError",
    "Retryable",
    "Terminal",
    "Throttled",
]


class OperatorError(Exception):
    """Base of every error the operator raises on purpose.

    ``code`` is the AWS error code when the error came from AWS (``ValidationException``,
    ``ThrottlingException``, ...), and ``operation`` the API operation (``UpdateEndpoint``);
    both are ``None`` for errors raised by the operator itself.
    """

    def __init__(self, message: str, *, code: str | None = None, operation: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.operation = operation

    def __str__(self) -> str:
        if self.operation and self.code:
            return f"{self.operation}: {self.code}: {self.message}"
        if self.code:
            return f"{self.code}: {self.message}"
        return self.message


class NotFound(OperatorError):
    """The resource does not exist (endpoint, endpoint config, model, tagged ARN)."""


class AlreadyExists(OperatorError):
    """A create found the name taken; for content-hash names this means "already done"."""


class Busy(OperatorError):
    """The endpoint is in progress (``Cannot update in-progress endpoint``); try again later."""


class Retryable(OperatorError):
    """A transient failure: 5xx, network trouble, expired credentials being refreshed.

    ``retry_after`` is a hint in seconds; ``None`` lets the caller use its own poll interval.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        operation: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, operation=operation)
        self.retry_after = retry_after


class Throttled(Retryable):
    """AWS refused the call for rate reasons (after botocore's own retries gave up)."""


class InvalidRequest(OperatorError):
    """AWS rejected the request as sent (a ``ValidationException`` that is not one of the above,
    a quota); sending it again unchanged cannot succeed."""


class AccessDenied(OperatorError):
    """The operator's credentials lack a permission, or there are no credentials at all."""


class InvalidSpec(OperatorError):
    """The resource does not pass the API model; ``field`` is the dotted path of the culprit."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class Terminal(OperatorError):
    """Nothing the operator can do until the user changes something (e.g. endpoint ``Failed``)."""
