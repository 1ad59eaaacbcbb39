"""The body of ``POST /v1/entries`` in the OpenAPI document: one signed entry (with optional
``personal`` and ``note`` beside it) or ``{"entries": [...]}``, each entry one of the kinds in
force, told apart by ``kind``, with that kind's payload schema from ``contracts.catalogue``.

The route reads the raw bytes itself (``api.http.body``: media type, nesting, repeated keys),
so the schema documents the body without Litestar ever decoding it. The entry's fields are
those ``ledger.entry`` checks, with its own patterns; payload definitions are the catalogue's,
renamed ``Payload.<name>`` so that they cannot meet a wire shape's name.
"""

from __future__ import annotations

from typing import Any

import msgspec

from api.http.wire import COMPONENTS
from api.service.notes import MAX_NOTE_LENGTH
from api.service.personal import PersonalFields
from contracts.catalogue import DEFS, REF_PREFIX, payload_schemas
from contracts.rulebook import RULEBOOK
from ledger.entry import ACTOR_PATTERN, ENTRY_VERSION, KEY_ID_PATTERN, RFC3339_UTC, UUID_PATTERN

Schema = dict[str, Any]

PAYLOAD = "Payload."
SUBMISSION = "Submission"
ENTRY = "Entry"
# 64 signature bytes in the one canonical base64 (the last character's padding bits zero).
SIGNATURE_PATTERN = r"^[A-Za-z0-9+/]{85}[AQgw]==$"


def ref(name: str) -> Schema:
    return {"$ref": COMPONENTS + name}


def _renamed(value: Any) -> Any:
    """``value`` with the catalogue's ``#/$defs/X`` references pointing at ``Payload.X``."""
    if isinstance(value, dict):
        return {
            k: COMPONENTS + PAYLOAD + v.removeprefix(REF_PREFIX)
            if k == "$ref" and isinstance(v, str) and v.startswith(REF_PREFIX)
            else _renamed(v)
            for k, v in value.items()
            if k != DEFS
        }
    if isinstance(value, list):
        return [_renamed(v) for v in value]
    return value


def entry_of_kind(kind: str, payload: Schema) -> Schema:
    return {
        "title": f"{ENTRY}.{kind}",
        "type": "object",
        "required": ["v", "ledger", "id", "kind", "actor", "key", "signed_at", "payload"],
        "properties": {
            "v": {"const": ENTRY_VERSION},
            "ledger": {"type": "string", "minLength": 1, "description": "this ledger's origin"},
            "id": {
                "type": "string",
                "pattern": UUID_PATTERN.pattern,
                "description": "chosen by the client: resubmitting the same entry returns its receipt",
            },
            "kind": {"const": kind},
            "actor": {"type": "string", "pattern": ACTOR_PATTERN.pattern, "description": "the signer's id"},
            "key": {
                "type": "string",
                "pattern": KEY_ID_PATTERN.pattern,
                "description": "the signing key's id",
            },
            "signed_at": {"type": "string", "pattern": RFC3339_UTC.pattern, "description": "RFC 3339, UTC"},
            "payload": payload,
            "user": {
                "type": "string",
                "pattern": UUID_PATTERN.pattern,
                "description": "optional: the pseudonymous id of the organisation's user who acted",
            },
        },
        "additionalProperties": False,
    }


def submission_components(version: int = RULEBOOK.current) -> dict[str, Schema]:
    """The component schemas of the body: ``Submission`` and what it refers to."""
    from api.http.routes.entries import MAX_ENTRIES_PER_REQUEST  # the route declares this body

    catalogue = payload_schemas(version)
    components: dict[str, Schema] = {PAYLOAD + name: _renamed(d) for name, d in catalogue.defs.items()}
    kinds = {kind: f"{ENTRY}.{kind}" for kind in catalogue.kinds}
    for kind, name in kinds.items():
        components[name] = entry_of_kind(kind, _renamed(catalogue.kinds[kind]))
    components[ENTRY] = {
        "title": ENTRY,
        "description": f"An entry of one of the kinds in force under rule version {version}, told apart by "
        "`kind`; `GET /v1/kinds` gives the ledger's own version, signers and examples. It is signed as "
        "Ed25519 over `rural-ledger/entry/v1\\n` and its RFC 8785 canonical bytes.",
        "oneOf": [ref(name) for name in kinds.values()],
        "discriminator": {"propertyName": "kind", "mapping": {k: COMPONENTS + n for k, n in kinds.items()}},
    }
    personal, personal_defs = msgspec.json.schema_components(
        [PersonalFields], ref_template=COMPONENTS + "{name}"
    )
    components.update(personal_defs)
    components["EntrySubmission"] = {
        "title": "EntrySubmission",
        "description": "One signed entry, with a party's personal fields beside a `party.registered` entry "
        "(kept apart, erasable; checked against its commitment) and an optional free-text note "
        "(never hashed or recorded; kept erasable if the entry is admitted).",
        "type": "object",
        "required": ["entry", "sig"],
        "properties": {
            "entry": ref(ENTRY),
            "sig": {
                "type": "string",
                "pattern": SIGNATURE_PATTERN,
                "description": "Ed25519, standard base64",
            },
            "personal": personal[0],
            "note": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE_LENGTH},
        },
        "additionalProperties": False,
    }
    components["EntryBatch"] = {
        "title": "EntryBatch",
        "description": "Signed entries answered one by one, in order: a refused entry leaves no trace and "
        "the others are stored.",
        "type": "object",
        "required": ["entries"],
        "properties": {
            "entries": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_ENTRIES_PER_REQUEST,
                "items": ref("EntrySubmission"),
            }
        },
        "additionalProperties": False,
    }
    components[SUBMISSION] = {"title": SUBMISSION, "oneOf": [ref("EntrySubmission"), ref("EntryBatch")]}
    return components


def submission_body() -> tuple[Schema, dict[str, Schema]]:
    """The request body of ``POST /v1/entries`` and the components it refers to."""
    body = {
        "required": True,
        "description": "`application/json` (or `application/*+json`, UTF-8): no key repeated in any "
        "object, nesting at most 64 levels deep.",
        "content": {"application/json": {"schema": ref(SUBMISSION)}},
    }
    return body, submission_components()
