"""Workflow rule criteria: ``{"columns": [...], "criteria_string": "1 AND (2 OR 3)"}``.

Zoho's JSON for rule criteria is UNCONFIRMED (the OAS types ``rule`` as a bare object).
This follows the shape its UI builds: numbered columns, each a field, a comparator and a
value, combined by a criteria string of indexes, AND, OR and parentheses (all columns
ANDed when the string is absent). Validation happens when a rule is saved, so matching
a change never fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from zbooks.sandbox.errors import invalid_value

_TOKENS = re.compile(r"\s*(\d+|AND|OR|\(|\))", re.I)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def _compare(actual: Any, expected: Any) -> int | None:
    """-1/0/1 comparing numbers when both are numeric, else case-insensitive text."""
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return (left > right) - (left < right)
    if actual is None:
        return None
    a, b = str(actual).lower(), str(expected).lower()
    return (a > b) - (a < b)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _text(value: Any) -> str:
    return "" if value is None else str(value).lower()


COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equal": lambda a, b: _compare(a, b) == 0,
    "not_equal": lambda a, b: _compare(a, b) != 0,
    "greater_than": lambda a, b: _compare(a, b) == 1,
    "greater_equal": lambda a, b: _compare(a, b) in (0, 1),
    "less_than": lambda a, b: _compare(a, b) == -1,
    "less_equal": lambda a, b: _compare(a, b) in (-1, 0),
    "contains": lambda a, b: _text(b) in _text(a),
    "not_contains": lambda a, b: _text(b) not in _text(a),
    "starts_with": lambda a, b: _text(a).startswith(_text(b)),
    "ends_with": lambda a, b: _text(a).endswith(_text(b)),
    "is_empty": lambda a, b: _empty(a),
    "is_not_empty": lambda a, b: not _empty(a),
}
_ALIASES = {
    "is": "equal",
    "equals": "equal",
    "is_not": "not_equal",
    "not_equals": "not_equal",
    "greater_than_or_equal": "greater_equal",
    "less_than_or_equal": "less_equal",
    "startswith": "starts_with",
    "endswith": "ends_with",
    "empty": "is_empty",
    "not_empty": "is_not_empty",
}


def _comparator(name: Any) -> str | None:
    if not isinstance(name, str):
        return None
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in COMPARATORS else None


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKENS.match(text, pos)
        if match is None:
            raise ValueError(f"unexpected text at {pos}")
        tokens.append(match.group(1).upper())
        pos = match.end()
    return tokens


def _evaluate(tokens: list[str], truth: Mapping[int, bool]) -> bool:
    """Recursive descent over ``expr := term (OR term)*; term := atom (AND atom)*``."""
    pos = 0

    def atom() -> bool:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError("unexpected end")
        token = tokens[pos]
        pos += 1
        if token == "(":
            value = expr()
            if pos >= len(tokens) or tokens[pos] != ")":
                raise ValueError("missing )")
            pos += 1
            return value
        if token.isdigit():
            if int(token) not in truth:
                raise ValueError(f"no column {token}")
            return truth[int(token)]
        raise ValueError(f"unexpected {token}")

    def term() -> bool:
        nonlocal pos
        value = atom()
        while pos < len(tokens) and tokens[pos] == "AND":
            pos += 1
            value = atom() and value
        return value

    def expr() -> bool:
        nonlocal pos
        value = term()
        while pos < len(tokens) and tokens[pos] == "OR":
            pos += 1
            value = term() or value
        return value

    result = expr()
    if pos != len(tokens):
        raise ValueError("trailing tokens")
    return result


def normalise_rule(rule: Any) -> dict[str, Any] | None:
    """Validate a rule as sent (400 ``rule`` when malformed); None means "always"."""
    if rule in (None, {}, ""):
        return None
    if not isinstance(rule, dict):
        raise invalid_value("rule")
    columns = rule.get("columns") or []
    if not isinstance(columns, list):
        raise invalid_value("rule")
    cleaned: list[dict[str, Any]] = []
    for position, column in enumerate(columns, start=1):
        if not isinstance(column, dict):
            raise invalid_value("rule")
        field = column.get("field") or column.get("field_name")
        comparator = _comparator(column.get("comparator"))
        if not isinstance(field, str) or not field or comparator is None:
            raise invalid_value("rule")
        index = column.get("index", position)
        if isinstance(index, bool) or not isinstance(index, int | str) or not str(index).isdigit():
            raise invalid_value("rule")
        cleaned.append(
            {
                "index": int(index),
                "field": field,
                "comparator": comparator,
                "value": column.get("value"),
            }
        )
    criteria = rule.get("criteria_string")
    if criteria not in (None, ""):
        if not isinstance(criteria, str):
            raise invalid_value("rule")
        try:
            _evaluate(_tokens(criteria), {c["index"]: True for c in cleaned})
        except ValueError:
            raise invalid_value("rule") from None
    return {**rule, "columns": cleaned, "criteria_string": criteria or ""}


def rule_matches(rule: Mapping[str, Any] | None, record: Mapping[str, Any] | None) -> bool:
    if not rule:
        return True
    if record is None:
        return False
    columns = rule.get("columns") or []
    if not columns:
        return True
    truth: dict[int, bool] = {}
    for position, column in enumerate(columns, start=1):
        # Stored rules are normalised; tolerate raw ones all the same.
        comparator = _comparator(column.get("comparator"))
        field = column.get("field") or column.get("field_name") or ""
        index = int(column.get("index", position))
        truth[index] = comparator is not None and COMPARATORS[comparator](
            _field(record, str(field)), column.get("value")
        )
    criteria = str(rule.get("criteria_string") or "")
    if not criteria:
        return all(truth.values())
    return _evaluate(_tokens(criteria), truth)


def _field(record: Mapping[str, Any], path: str) -> Any:
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node
