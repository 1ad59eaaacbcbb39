"""RFC 8785 (JCS) canonical JSON bytes for ledger entries and records.

Ledger values are JSON trees of ``dict`` (str keys), ``list``/``tuple``, ``str``, ``int``,
``bool`` and ``None``.  Floats are refused: money is in integer fen, areas in integer square
metres.  Integers must lie within ±(2**53-1), where JCS's ECMAScript number form is exact.

Within that domain ``msgspec``'s sorted encoder writes exactly the bytes of the reference
``rfc8785.dumps`` (same escapes, UTF-8 output, no whitespace), except for object keys with
characters outside the Basic Multilingual Plane: JCS sorts keys by UTF-16 code units, and
there a surrogate pair sorts before U+E000..U+FFFF while code-point order puts it after.
Values with such keys, which are rare, are encoded by ``rfc8785`` itself.
"""

from __future__ import annotations

import re

import msgspec
import rfc8785

from ledger.errors import MalformedError

__all__ = ["MAX_SAFE_INTEGER", "canonical_bytes"]

MAX_SAFE_INTEGER = 2**53 - 1

_ENCODER = msgspec.json.Encoder(order="sorted")
_OUTSIDE_BMP = re.compile("[\U00010000-\U0010ffff]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Rejected(Exception):
    """Internal: a value with no canonical form; ``path`` is filled in while unwinding."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []


def canonical_bytes(value: object) -> bytes:
    """The RFC 8785 canonical JSON encoding of ``value``, as UTF-8 bytes.

    Precondition: ``value`` is a tree of ``dict`` with ``str`` keys, ``list``, ``tuple``,
    ``str``, ``int`` within ±(2**53-1), ``bool`` and ``None`` (exact types, no subclasses).
    Anything else, and strings that are not valid Unicode (lone surrogates), raise
    ``MalformedError`` naming the JSON path of the offending value, e.g. ``$.payload.area``.
    """
    try:
        keys_outside_bmp = _check(value)
    except _Rejected as rejected:
        path = "$" + "".join(reversed(rejected.path))
        raise MalformedError(f"no canonical JSON at {path}: {rejected.reason}") from None
    try:
        if keys_outside_bmp:
            return rfc8785.dumps(value)  # type: ignore[arg-type]  # _check vetted it
        return _ENCODER.encode(value)
    except (UnicodeEncodeError, rfc8785.CanonicalizationError) as e:
        path = _path_of_invalid_string(value) or "$"
        raise MalformedError(
            f"no canonical JSON at {path}: string is not valid Unicode (lone surrogate)"
        ) from e


def _check(value: object) -> bool:
    """Raise ``_Rejected`` unless ``value`` is in the domain; True if a key lies outside the BMP.

    Scalars inside containers are checked inline: this walk runs twice per appended entry.
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return False
    if kind is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:  # type: ignore[operator]
            return False
        raise _Rejected(f"integer {value} is outside ±(2**53-1)")
    outside_bmp = False
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                raise _Rejected(f"object key {key!r} is not a str")
            if not key.isascii() and _OUTSIDE_BMP.search(key):
                outside_bmp = True
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if kind is int and -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            try:
                outside_bmp |= _check(item)
            except _Rejected as rejected:
                rejected.path.append(f".{key}" if _IDENTIFIER.fullmatch(key) else f"[{key!r}]")
                raise
        return outside_bmp
    if kind is list or kind is tuple:
        for index, item in enumerate(value):  # type: ignore[arg-type]
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if kind is int and -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            try:
                outside_bmp |= _check(item)
            except _Rejected as rejected:
                rejected.path.append(f"[{index}]")
                raise
        return outside_bmp
    if kind is float:
        raise _Rejected(f"float {value!r} is not allowed; use an integer unit")
    raise _Rejected(f"{kind.__name__} is not a JSON type")


def _path_of_invalid_string(value: object, path: str = "$") -> str | None:
    """The JSON path of the first string (key or value) that cannot be UTF-8 encoded."""
    if isinstance(value, str):
        return None if _encodes(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            if not _encodes(key):
                return path
            found = _path_of_invalid_string(item, f"{path}[{key!r}]")
            if found:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _path_of_invalid_string(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
