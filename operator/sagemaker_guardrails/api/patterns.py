"""SageMaker's (Java) regular expressions, rewritten to mean the same in RE2 and in Rust's regex.

botocore's service model carries SageMaker's input patterns as SageMaker's servers evaluate them:
Java ``Pattern.matches``, i.e. the whole value, with Java's default (ASCII, non-multiline) classes.
The CRD's OpenAPI ``pattern`` and CEL's ``matches`` are evaluated by the API server with Go's RE2,
and pydantic evaluates ``pattern`` with Rust's ``regex`` crate (its default engine, pinned in
:class:`~sagemaker_guardrails.api.base.CamelModel`). The three agree on most syntax but not on:

========================  =====================================  ==============================
construct                 Java (SageMaker)                       RE2 / Rust
========================  =====================================  ==============================
whole-value match         implicit (``matches``)                 search: needs ``^...$``
``\\d``                   ASCII digits                           RE2 ASCII, Rust *Unicode* digits
``\\s`` / ``\\S``         ``[ \\t\\n\\x0B\\f\\r]``               RE2 without ``\\x0B``, Rust Unicode
``.``                     not ``\\n \\r \\x85 \\u2028 \\u2029``  only not ``\\n``
lookaround                yes                                    no (neither engine)
========================  =====================================  ==============================

:func:`java_pattern` rewrites a botocore pattern into explicit classes, anchored, so that all three
accept exactly the same strings; a construct it cannot rewrite (a lookahead) raises ``ValueError``
and the field carries a hand-written equivalent instead (tests/unit/test_crd_botocore.py checks
every field's pattern against botocore's through this function). Python's ``re`` understands
neither ``\\p{...}`` nor ``\\x{...}``: it is used only for the SageMaker name pattern, which has
neither.
"""

from __future__ import annotations

__all__ = [
    "ANY_CHARACTER",
    "JAVA_DOT",
    "JAVA_LINE_TERMINATORS",
    "JAVA_NON_SPACE",
    "JAVA_OTHER_TERMINATORS",
    "JAVA_SPACE",
    "JAVA_SPACE_MEMBERS",
    "java_pattern",
]

# Java's \s, as the members of a character class.
JAVA_SPACE_MEMBERS = r" \t\n\x0B\f\r"
JAVA_SPACE = f"[{JAVA_SPACE_MEMBERS}]"
JAVA_NON_SPACE = f"[^{JAVA_SPACE_MEMBERS}]"
# Java's line terminators, which its ``.`` does not match (without DOTALL or UNIX_LINES).
JAVA_OTHER_TERMINATORS = r"\x{85}\x{2028}\x{2029}"  # besides \n and \r, which \s has
JAVA_LINE_TERMINATORS = r"\n\r" + JAVA_OTHER_TERMINATORS
JAVA_DOT = f"[^{JAVA_LINE_TERMINATORS}]"
ANY_CHARACTER = r"[\x{0}-\x{10FFFF}]"

_OUTSIDE = {r"\d": "[0-9]", r"\D": "[^0-9]", r"\s": JAVA_SPACE, r"\S": JAVA_NON_SPACE}
_INSIDE = {r"\d": "0-9", r"\s": JAVA_SPACE_MEMBERS}
_UNSUPPORTED = ("(?=", "(?!", "(?<", r"\b", r"\B", r"\w", r"\W", r"\z", r"\Z", r"\A", "*+", "++", "?+")


def java_pattern(pattern: str) -> str:
    """The anchored RE2/Rust equivalent of a Java pattern from botocore's SageMaker model."""
    for construct in _UNSUPPORTED:
        if construct in pattern:
            raise ValueError(f"{pattern!r}: {construct!r} has no RE2/Rust equivalent; write one by hand")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escape = pattern[i : i + 2]
            out.append(_OUTSIDE.get(escape, escape))
            i += 2
        elif char == "[":
            end = _class_end(pattern, i)
            out.append(_character_class(pattern[i + 1 : end]))
            i = end + 1
        elif char == ".":
            out.append(JAVA_DOT)
            i += 1
        else:
            out.append(char)
            i += 1
    return "^" + "".join(out) + "$"


def _class_end(pattern: str, start: int) -> int:
    i = start + 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "[":
            raise ValueError(f"{pattern!r}: nested character classes are not rewritten")
        if pattern[i] == "]":
            return i
        i += 1
    raise ValueError(f"{pattern!r}: unterminated character class")


def _character_class(body: str) -> str:
    """``[body]`` with Java's ``\\d``/``\\s`` spelt out; ``[\\S]`` and ``[\\S\\s]`` as wholes."""
    if body == r"\S":
        return JAVA_NON_SPACE
    if body in (r"\S\s", r"\s\S"):
        return ANY_CHARACTER
    if r"\S" in body or r"\D" in body:
        raise ValueError(f"[{body}]: a negated shorthand inside a class is not rewritten")
    out: list[str] = []
    i = 0
    while i < len(body):
        if body[i] == "\\":
            escape = body[i : i + 2]
            out.append(_INSIDE.get(escape, escape))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "[" + "".join(out) + "]"
