"""What the collective clerk's pages read: the collective's households and their members, its
memberships (with the notice still to run), its land, homestead and share registers, and the
people it may name.

Names are personal data (``personal_data``, apart from the ledger): a read here names a
person only when the person is this collective's — registered by it, in one of its households,
or admitted by it. Every query takes the collective's id; none reads another's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.console.collective_paging import PAGE_ROWS

# A listed page reads one row more than it shows: whether a next page exists.
PAGE_LIMIT = PAGE_ROWS + 1
CHOICES = 100  # the people a form's select offers at most (the household form has six selects)

# The people this collective may name: registered by it, in its households, or its members.
_OURS = """
    SELECT pd.party_id FROM personal_data pd WHERE pd.registered_by = :c
    UNION SELECT hm.party_id FROM household_members hm JOIN households h ON h.id = hm.household_id
      WHERE h.collective_id = :c
    UNION SELECT m.party_id FROM memberships m WHERE m.collective_id = :c
"""


@dataclass(frozen=True)
class Person:
    """A person as this collective's pages show them: the party id and, for its own people,
    the name (None when the ledger holds no personal fields for them here)."""

    party_id: str
    name: str | None
    id_tail: str | None = None  # the last four characters of the ID number, to tell namesakes apart
    household_id: str | None = None

    @property
    def label(self) -> str:
        if self.name is None:
            return self.party_id
        return f"{self.name}（…{self.id_tail}）" if self.id_tail else self.name


async def _rows(db: AsyncConnection, sql: str, **params: Any) -> Sequence[Row[Any]]:
    return (await db.execute(text(sql), params)).all()


async def households(
    db: AsyncConnection, collective: str, skip: int = 0, limit: int = 500
) -> Sequence[Row[Any]]:
    """The collective's households, newest first, ``limit`` from the ``skip``-th."""
    return await _rows(
        db,
        """SELECT h.id, h.status, h.head_party, h.registered_seq, pd.name AS head_name,
                  (SELECT count(*) FROM household_members hm WHERE hm.household_id = h.id) AS size
           FROM households h LEFT JOIN personal_data pd ON pd.party_id = h.head_party
           WHERE h.collective_id = :c ORDER BY h.registered_seq DESC LIMIT :n OFFSET :o""",
        c=collective,
        n=limit,
        o=skip,
    )


async def household(db: AsyncConnection, collective: str, household_id: str) -> Row[Any] | None:
    return (
        await db.execute(
            text(
                "SELECT id, collective_id, status, head_party, registered_seq FROM households WHERE id = :h"
            ),
            {"h": household_id},
        )
    ).one_or_none()


async def household_members(db: AsyncConnection, household_id: str) -> Sequence[Row[Any]]:
    return await _rows(
        db,
        """SELECT hm.party_id, hm.relation, hm.joined_seq, pd.name, pd.sex, pd.birth_date,
                  m.status AS membership, m.notice_end
           FROM household_members hm
           LEFT JOIN personal_data pd ON pd.party_id = hm.party_id
           LEFT JOIN memberships m ON m.party_id = hm.party_id
           WHERE hm.household_id = :h ORDER BY hm.joined_seq, hm.party_id""",
        h=household_id,
    )


async def people(db: AsyncConnection, collective: str, skip: int = 0, limit: int = 1000) -> list[Person]:
    """This collective's people, newest first: the choices of its forms, or a page of them."""
    rows = await _rows(
        db,
        f"""SELECT pd.party_id, pd.name, right(pd.id_number, 4) AS tail, hm.household_id
            FROM personal_data pd LEFT JOIN household_members hm ON hm.party_id = pd.party_id
            WHERE pd.party_id IN ({_OURS}) ORDER BY pd.created_at DESC, pd.party_id LIMIT :n OFFSET :o""",
        c=collective,
        n=limit,
        o=skip,
    )
    return [Person(r.party_id, r.name, r.tail, r.household_id) for r in rows]


async def choices(
    db: AsyncConnection,
    collective: str,
    *,
    homeless: bool = False,
    unadmitted: bool = False,
    posted: Sequence[str] = (),
) -> list[Person]:
    """The people a form offers, newest first and at most ``CHOICES`` (a form page stays under
    100 KB in a large village): with ``homeless``, those in no household yet (a new household's
    head and members); with ``unadmitted``, those holding no membership in force or in notice
    (an admission's person). Anyone further down is found by the people page. ``posted`` are
    the people a submitted form names: each of them that is this collective's own is offered
    too, whatever the filters (the rules judge the rest; a form sent twice still names the
    people its first submit placed), and no one else's ever is."""
    rows = await _rows(
        db,
        f"""SELECT pd.party_id, pd.name, right(pd.id_number, 4) AS tail, hm.household_id
            FROM personal_data pd LEFT JOIN household_members hm ON hm.party_id = pd.party_id
            WHERE pd.party_id IN ({_OURS})
              AND ((NOT :homeless OR hm.household_id IS NULL)
                   AND (NOT :unadmitted OR NOT EXISTS (
                        SELECT 1 FROM memberships m WHERE m.party_id = pd.party_id
                        AND m.status IN ('in_notice', 'suspended', 'active', 'settled_in_town')))
                   OR pd.party_id = ANY(CAST(:posted AS text[])))
            ORDER BY pd.party_id = ANY(CAST(:posted AS text[])) DESC, pd.created_at DESC, pd.party_id
            LIMIT :n""",
        c=collective,
        homeless=homeless,
        unadmitted=unadmitted,
        posted=list(posted),
        n=CHOICES + len(posted),
    )
    return [Person(r.party_id, r.name, r.tail, r.household_id) for r in rows]


async def memberships(
    db: AsyncConnection, collective: str, skip: int = 0, limit: int = PAGE_LIMIT
) -> Sequence[Row[Any]]:
    return await _rows(
        db,
        """SELECT m.party_id, m.status, m.basis, m.notice_end, m.household_id, m.admitted_seq, pd.name
           FROM memberships m LEFT JOIN personal_data pd ON pd.party_id = m.party_id
           WHERE m.collective_id = :c ORDER BY m.admitted_seq DESC, m.party_id LIMIT :n OFFSET :o""",
        c=collective,
        n=limit,
        o=skip,
    )


async def find(db: AsyncConnection, collective: str, *, name: str = "", blind: str = "") -> list[Person]:
    """This collective's people by name (a part of it) or by the blind index of an ID number."""
    if blind:
        rows = await _rows(
            db,
            f"""SELECT pd.party_id, pd.name, right(pd.id_number, 4) AS tail
                FROM party_identities pi JOIN personal_data pd ON pd.party_id = pi.party_id
                WHERE pi.blind_index = :b AND pd.party_id IN ({_OURS})""",
            b=blind,
            c=collective,
        )
    else:
        pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await _rows(
            db,
            f"""SELECT pd.party_id, pd.name, right(pd.id_number, 4) AS tail
                FROM personal_data pd WHERE pd.name LIKE :n AND pd.party_id IN ({_OURS})
                ORDER BY pd.name LIMIT 100""",
            n=pattern,
            c=collective,
        )
    return [Person(r.party_id, r.name, r.tail) for r in rows]


async def registers(
    db: AsyncConnection, collective: str, skips: dict[str, int]
) -> dict[str, Sequence[Row[Any]]]:
    """A page of each register (``skips``: the rows to skip of ``land``, ``homesteads`` and
    ``shares``): the land contracts (with their parcels' area), homesteads and share holdings."""
    land = await _rows(
        db,
        """SELECT lc.id, lc.household_id, lc.certificate_no, lc.term_start, lc.term_end, lc.status,
                  (SELECT coalesce(sum(p.area_m2), 0) FROM parcels p WHERE p.contract_id = lc.id) AS area_m2,
                  (SELECT count(*) FROM parcels p WHERE p.contract_id = lc.id) AS parcels
           FROM land_contracts lc WHERE lc.collective_id = :c
           ORDER BY lc.issued_seq, lc.id LIMIT :n OFFSET :o""",
        c=collective,
        n=PAGE_LIMIT,
        o=skips.get("land", 0),
    )
    homesteads = await _rows(
        db,
        """SELECT id, household_id, plot_code, area_m2, zone, certificate_no, status
           FROM homesteads WHERE collective_id = :c ORDER BY granted_seq, id LIMIT :n OFFSET :o""",
        c=collective,
        n=PAGE_LIMIT,
        o=skips.get("homesteads", 0),
    )
    shares = await _rows(
        db,
        """SELECT sh.holder, sh.household_id, sh.units, sh.pledged_units, sh.income_only, pd.name
           FROM share_holdings sh LEFT JOIN personal_data pd ON pd.party_id = sh.holder
           WHERE sh.collective_id = :c ORDER BY sh.household_id NULLS FIRST, sh.holder LIMIT :n OFFSET :o""",
        c=collective,
        n=PAGE_LIMIT,
        o=skips.get("shares", 0),
    )
    return {"land": land, "homesteads": homesteads, "shares": shares}
