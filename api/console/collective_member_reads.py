"""What the admission page reads of one person of this collective: their membership (with the
name, since they are this collective's), and the acts recorded on it — the admission, the
objections filed and how each was resolved, the confirmation — each with its note (the free
text kept beside the entry, off the log).

The acts are read from the log's own records (by kind and actor: the collective signed each),
so the page shows exactly what the ledger holds; the notes from ``entry_notes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

MEMBER_KINDS = ("member.admitted", "member.objection_filed", "member.objection_resolved", "member.confirmed")


@dataclass(frozen=True)
class Act:
    """One recorded act on a membership: its seq, kind, the document's hash (an objection's or
    a decision's), whether an objection was upheld, and the note beside it."""

    seq: int
    kind: str
    document: str
    upheld: bool
    note: str | None

    @classmethod
    def of(cls, row: Row[Any]) -> Act:
        payload: dict[str, Any] = row.payload if isinstance(row.payload, dict) else {}
        # An objection's and a resolution's document hash (an admission's "decision" is the vote).
        document = (
            payload.get("objection") or payload.get("decision") if row.kind != "member.admitted" else ""
        )
        return cls(row.seq, row.kind, str(document or ""), payload.get("upheld") is True, row.note)


async def membership(db: AsyncConnection, collective: str, party: str) -> Row[Any] | None:
    """The person's membership of this collective, with their name; None when they hold none here."""
    return (
        await db.execute(
            text(
                """SELECT m.party_id, m.status, m.basis, m.notice_end, m.household_id, m.admitted_seq,
                          m.status_seq, pd.name
                   FROM memberships m LEFT JOIN personal_data pd ON pd.party_id = m.party_id
                   WHERE m.party_id = :p AND m.collective_id = :c"""
            ),
            {"p": party, "c": collective},
        )
    ).one_or_none()


async def acts(db: AsyncConnection, collective: str, party: str, since_seq: int) -> Sequence[Row[Any]]:
    """The membership acts on ``party`` this collective recorded from the admission on, oldest
    first, each with its payload and note."""
    return (
        await db.execute(
            text(
                """SELECT r.seq, r.kind, r.recorded_at, r.entry_id,
                          convert_from(r.body, 'UTF8')::jsonb -> 'entry' -> 'payload' AS payload,
                          n.text AS note
                   FROM records r LEFT JOIN entry_notes n ON n.entry_id = r.entry_id::text
                   WHERE r.actor = :c AND r.kind = ANY(:kinds) AND r.seq >= :s
                     AND convert_from(r.body, 'UTF8')::jsonb #>> '{entry,payload,party}' = :p
                   ORDER BY r.seq LIMIT 200"""
            ),
            {"c": collective, "kinds": list(MEMBER_KINDS), "s": since_seq, "p": party},
        )
    ).all()
