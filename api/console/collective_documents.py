"""A written document a clerk's act rests on: an objection, a decision on it, or a farmer's
consent when the clerk acts on the farmer's behalf (a share transfer, a buy-back).

The ledger records the document by its SHA-256 only (the payload's ``objection``, ``decision``
or ``agreement``): the clerk types the hash of the scanned document, or uploads the scan and the
console hashes it (the file itself is not kept). The document's number and date and any remark
are free text that could name a person, so they never enter the log: they travel beside the
entry as its note (``entry_notes``, erasable), shown only to the collective's own clerks.

``Unfit`` (made by ``unfit``) is what every collective form's payload builder raises when what
was typed cannot make the act: the refusal to show beside its field.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from litestar.datastructures import UploadFile

from api.console.acting import FormRefusal
from api.console.forms import Filled, Form, FormField

HEX64 = re.compile(r"^[0-9a-f]{64}$")
NOTE_FIELD = "note"
MAX_NOTE = 1500  # the note's free text; the service takes 2,000 characters with the number and date
# What a note may not hold: control characters other than a line feed or a tab (the service's rule).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class Unfit(Exception):
    """What was typed cannot make the act: the refusal to show beside its field."""

    def __init__(self, refusal: FormRefusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def unfit(code: str, field: str | None, message: str) -> Unfit:
    return Unfit(FormRefusal(code, message, field))


def document_fields(prefix: str, label: str, note: str = NOTE_FIELD) -> tuple[FormField, ...]:
    """The fields of a document named ``prefix`` (``consent``, ``objection`` ...): its number,
    date, SHA-256 or scan, and the remark (the note, the field ``note``)."""
    return (
        FormField(f"{prefix}.number", f"{label}.number", required=False),
        FormField(f"{prefix}.date", f"{label}.date", "date", required=False),
        FormField(
            f"{prefix}.sha256", f"{label}.sha256", required=False, hint="collective.document.sha256_hint"
        ),
        FormField(
            f"{prefix}.file", f"{label}.file", "file", required=False, hint="collective.document.file_hint"
        ),
        FormField(note, "collective.document.note", "textarea", required=False),
    )


async def document_hash(filled: Filled, data: Mapping[str, Any], prefix: str) -> str:
    """The document's SHA-256: of the uploaded scan, or as typed; both given must agree."""
    typed = filled[f"{prefix}.sha256"].lower()
    if typed and not HEX64.match(typed):
        raise unfit("form.bad_hash", f"{prefix}.sha256", f"{typed!r} is not a SHA-256 hex digest")
    upload = data.get(f"{prefix}.file")
    scanned = None
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read()
        if content:
            scanned = hashlib.sha256(content).hexdigest()
    if scanned and typed and scanned != typed:
        raise unfit(
            "collective.document.hash_differs", f"{prefix}.sha256", "the scan's hash is not the one typed"
        )
    found = scanned or typed
    if not found:
        raise unfit(
            "collective.document.missing", f"{prefix}.sha256", "the document's hash or scan is required"
        )
    return found


def document_note(filled: Filled, prefix: str, title: str, note: str = NOTE_FIELD) -> str | None:
    """The note beside the entry: the document's number, date and the remark (None: nothing)."""
    remark = filled[note].replace("\r\n", "\n").replace("\r", "\n")
    number = filled[f"{prefix}.number"]
    when = filled[f"{prefix}.date"]
    for name, value in ((note, remark), (f"{prefix}.number", number)):
        if CONTROL.search(value):
            raise unfit("form.control_character", name, f"{name} holds a control character")
    if len(remark) > MAX_NOTE or len(number) > 100:
        raise unfit("form.too_long", note if len(remark) > MAX_NOTE else f"{prefix}.number", "too long")
    if when:
        try:
            when = date.fromisoformat(when).isoformat()
        except ValueError as e:
            raise unfit("form.not_a_date", f"{prefix}.date", f"{when!r} is not a date") from e
    lines = [f"{title}编号：{number}" if number else "", f"{title}日期：{when}" if when else "", remark]
    text = "\n".join(line for line in lines if line).strip()
    return text or None


def visible(refusal: FormRefusal | None, form: Form) -> FormRefusal | None:
    """``refusal`` shown above the form when the field it names is hidden (an id made when the
    form opened, say), where no one would see it beside the field."""
    if refusal is not None and any(f.input == "hidden" and f.concerns(refusal.field) for f in form.fields):
        return replace(refusal, field=None)
    return refusal


def beside_note(note: str | None) -> dict[str, Any] | None:
    return {"note": note} if note else None
