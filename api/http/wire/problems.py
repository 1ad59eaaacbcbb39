"""RFC 9457 problem details, as every refusal is sent (``application/problem+json``)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from api.http.wire import one_of


class Problem(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """A refusal: ``code`` is stable and machine-readable (``title`` repeats it, ``type`` is its
    URN), ``detail`` says in words what was expected and what was found, ``status`` is the HTTP
    status. Some problems carry one extra member: ``retry_after`` (seconds, with 503), ``errors``
    (the parameters found invalid, with 400 ``request.invalid_parameters``), ``results`` (per
    entry, with 503 ``receipts.unavailable``), ``existing_party`` (the party a resident ID number
    already belongs to, shown to an organisation that governs that person)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    existing_party: str | None = None
    retry_after: int | None = None
    errors: list[dict[str, Any]] | None = None
    # Each a Refusal or a StoredSeq (see ``one_of``; this schema is msgspec's, which merges it).
    results: (
        Annotated[list[Any], msgspec.Meta(extra_json_schema={"items": one_of(Refusal, StoredSeq)})] | None
    ) = None


class Refusal(msgspec.Struct, forbid_unknown_fields=True):
    """One entry of a list submission that was refused, with its problem."""

    error: Problem


class StoredSeq(msgspec.Struct, forbid_unknown_fields=True):
    """An entry stored at ``seq`` whose receipt could not be read."""

    seq: int
