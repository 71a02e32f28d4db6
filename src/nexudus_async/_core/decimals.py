"""Money: the one number policy. Every ``decimal`` field is a :class:`~decimal.Decimal`.

* From Python: a ``Decimal`` as it is; an ``int``; a ``float`` through its
  shortest repr (``12.3`` is ``Decimal("12.3")``, ``0.1 + 0.2`` is
  ``Decimal("0.30000000000000004")``). NaN and infinities are refused.
* From text (CSV cells, query strings): plain decimal notation only
  (``12.30``, ``-5``, ``1e3``); ``12,30``, ``abc``, ``1_000``, ``NaN`` are refused.
* On the wire: a JSON number with exactly the Decimal's digits (``12.30``),
  never through a float, in bodies and query strings (:func:`wire_text`).

No precision or range limit is added: the vendor's pages state none.

Kept free of cattrs, aiohttp and the request pipeline: the emulator imports it.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["NotADecimal", "from_python", "from_text", "json_dumps", "json_loads", "wire_text"]

_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class NotADecimal(ValueError):
    """A value no decimal field can take; ``str()`` is the problem."""


def from_python(value: Any) -> Decimal:
    """``value`` (a ``Decimal``, ``int`` or ``float``) as a finite ``Decimal``."""
    if isinstance(value, bool):
        raise NotADecimal("must be a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        number = Decimal(repr(float(value)))  # the digits the user typed, not the binary value
    elif isinstance(value, int):
        number = Decimal(int(value))
    else:
        raise NotADecimal("must be a number")
    if not number.is_finite():
        raise NotADecimal("must be a finite number")
    return number


def from_text(text: str) -> Decimal:
    """A decimal written as text, strictly (``Decimal()`` alone also takes ``1_000``, ``NaN``)."""
    stripped = text.strip()
    if not _TEXT.fullmatch(stripped):
        if stripped.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity"):
            raise NotADecimal("must be a finite number")
        raise NotADecimal("must be a number (digits and a decimal point, like 12.30)")
    try:
        return Decimal(stripped)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
        raise NotADecimal("must be a number") from None


def wire_text(value: Decimal) -> str:
    """The JSON number (and query value) for ``value``: its digits, without an exponent."""
    if not value.is_finite():
        raise ValueError(f"cannot send the number {value}")
    return format(value, "f")


# ---------------------------------------------------------------- JSON with Decimals


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_loads(data: bytes | str) -> Any:
    """Decode JSON with every non-integer number as a ``Decimal`` (exact digits)."""
    return json.loads(data, parse_float=Decimal, parse_constant=_refuse_constant)


# The standard encoder cannot write a raw number for a Decimal. Each one is
# written as a marker string holding a random per-process nonce, and the
# markers are then replaced by the digits: one pass of the C encoder.
_NONCE = secrets.token_hex(8)
_MARKER = re.compile(r'"\\u0000' + _NONCE + r'([-0-9.]+)\\u0000"')


def json_dumps(obj: Any, *, ensure_ascii: bool = True) -> str:
    """Compact JSON where each ``Decimal`` is a number carrying exactly its digits."""
    seen = 0

    def default(value: Any) -> Any:
        nonlocal seen
        if isinstance(value, Decimal):
            seen += 1
            return "\0" + _NONCE + wire_text(value) + "\0"
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=ensure_ascii, default=default)
    if not seen:
        return text
    out, replaced = _MARKER.subn(r"\1", text)
    if replaced != seen:  # pragma: no cover - a string held the nonce: encode the slow way
        return _encode(obj, ensure_ascii)
    return out


def _encode(obj: Any, ensure_ascii: bool) -> str:
    if isinstance(obj, Decimal):
        return wire_text(obj)
    if isinstance(obj, dict):
        items = (
            json.dumps(str(k), ensure_ascii=ensure_ascii) + ":" + _encode(v, ensure_ascii)
            for k, v in obj.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(_encode(v, ensure_ascii) for v in obj) + "]"
    return json.dumps(obj, ensure_ascii=ensure_ascii)
