"""patterns.java_pattern: SageMaker's Java patterns as RE2/Rust patterns that accept the same strings."""

from __future__ import annotations

import pytest
from tests import crdkit

from sagemaker_guardrails.api.patterns import ANY_CHARACTER, JAVA_DOT, JAVA_NON_SPACE, java_pattern

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("java", "expected"),
    [
        (r"[a-z]+", r"^[a-z]+$"),
        (r"\d{12}", r"^[0-9]{12}$"),
        (r"[a-z\d_]+", r"^[a-z0-9_]+$"),
        (r"[\S]+", f"^{JAVA_NON_SPACE}+$"),
        (r"[\S\s]*", f"^{ANY_CHARACTER}*$"),
        (r"(https|s3)://([^/]+)/?(.*)", f"^(https|s3)://([^/]+)/?({JAVA_DOT}*)$"),
        (r"[a-zA-Z0-9_.-]+", r"^[a-zA-Z0-9_.-]+$"),
        (r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)", r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"),
    ],
)
def test_rewrites(java: str, expected: str) -> None:
    assert java_pattern(java) == expected


@pytest.mark.parametrize("java", [r"(?!\s*$).+", r"(?=a)b", r"\w+", r"a*+", r"[a[b]]", r"[\Sa]"])
def test_refuses_what_it_cannot_rewrite(java: str) -> None:
    with pytest.raises(ValueError, match=r"rewrit|equivalent"):
        java_pattern(java)


@pytest.mark.parametrize(
    ("java", "value", "accepted"),
    [
        (r"\d+", "0123456789", True),
        (r"\d+", "\u0661\u0662", False),  # Arabic-Indic digits: Java's \d is ASCII, Rust's is not
        (r"[\S]+", "a\x0bb", False),  # Java's \s has \x0B, RE2's does not
        (r"[\S]+", "a\u00a0b", True),  # Java's \s is ASCII, Rust's is not
        (r"(.*)", "a\rb", False),  # Java's . stops at every line terminator
        (r"(.*)", "a\u2028b", False),
        (r"(.*)", "a\tb", True),
        (r"[a-z]+", "abc\n", False),  # the whole value, not a line of it
    ],
)
def test_the_rewrite_means_what_java_means(java: str, value: str, accepted: bool) -> None:
    assert crdkit.matches(java_pattern(java), value) is accepted
