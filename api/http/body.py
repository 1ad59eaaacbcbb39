"""Request bodies: JSON only, one value per key, bounded nesting; checked before anything
decodes (msgspec's decoder recurses, and a repeated key would let two readers of the same
bytes see different entries)."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import msgspec
from litestar import Request

from api.http.problems import ApiProblem
from ledger.errors import Category

MAX_DEPTH = 64
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_MEDIA_TYPE = re.compile(r"application/(?:json|[!#$&^_.+\-0-9a-z]+\+json)")

T = TypeVar("T")


def require_json(content_type: str | None) -> None:
    """``application/json`` or ``application/*+json``, with at most ``charset=utf-8``."""
    media, *params = (content_type or "").split(";")
    if not _MEDIA_TYPE.fullmatch(media.strip().lower()):
        raise ApiProblem(
            Category.UNSUPPORTED,
            "request.unsupported_media_type",
            f"the body must be application/json, found {content_type or 'none'!r}",
        )
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() != "charset" or value.strip().strip('"').lower() != "utf-8":
            raise ApiProblem(
                Category.UNSUPPORTED,
                "request.unsupported_media_type",
                f"only charset=utf-8 is accepted, found {param.strip()!r}",
            )


def _outside_strings(raw: bytes) -> bytes:
    """The bytes of ``raw`` outside its strings: escapes dropped first, so that every quote
    left opens or closes a string."""
    return b"".join(raw.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')[::2])


def _too_deep(outside_strings: bytes) -> bool:
    """Whether the brackets nest deeper than ``MAX_DEPTH``: each pass removes the innermost
    pairs, so a document of depth d is empty after d passes."""
    shape = outside_strings.translate(None, _NOT_BRACKETS)
    for _ in range(MAX_DEPTH):
        reduced = shape.replace(b"[]", b"").replace(b"{}", b"")
        if reduced == shape:
            return False
        shape = reduced
    return bool(shape)


def _colons(raw: bytes) -> int:
    """Colons in JSON text, those written as escapes included (a literal backslash before
    ``u003a`` is counted too: counting too many only sends a body to the exact check)."""
    return raw.count(b":") + raw.count(b"\\u003a") + raw.count(b"\\u003A")


def _repeated_key(raw: bytes) -> str | None:
    """The first key repeated within one object, exactly (slower: only for suspect bodies)."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        found.extend(k for i, k in enumerate(keys) if k in keys[:i])
        return dict(items)

    json.loads(raw, object_pairs_hook=pairs)
    return found[0] if found else None


def decode_json(raw: bytes, schema: type[T] | None = None) -> T | Any:
    """Decode a JSON body, refusing excessive nesting and repeated keys with their problems.

    Decoding keeps one value per key, dropping the earlier pair with its colon, and strings
    decode and re-encode with as many colons as they had; so re-encoding the decoded value
    gives as many colons as the body only if no key was repeated. A body with fewer colons
    re-encoded is checked exactly."""
    if _too_deep(_outside_strings(raw)):
        raise ApiProblem(Category.MALFORMED, "request.too_deep", f"JSON nests deeper than {MAX_DEPTH} levels")
    try:
        doc = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError) as e:
        raise ApiProblem(Category.MALFORMED, "request.malformed_json", f"the body is not JSON: {e}") from e
    if _colons(raw) != _colons(msgspec.json.encode(doc)):
        repeated = _repeated_key(raw)
        if repeated is not None:
            raise ApiProblem(
                Category.MALFORMED,
                "request.duplicate_key",
                f"the key {repeated!r} appears twice in one object",
            )
    return doc if schema is None else msgspec.convert(doc, type=schema)


async def json_body(request: Request[Any, Any, Any], schema: type[T] | None = None) -> T | Any:
    """The request's JSON body, after its media type, nesting and keys are checked."""
    require_json(request.headers.get("content-type"))
    return decode_json(await request.body(), schema)
