"""Prefetched finds (``Where`` hints) answer exactly what one query per find answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from api.service.database import asyncpg_url, make_engine
from api.service.projections import SqlReader
from contracts.households import HouseholdMember
from contracts.state import Put, StagedState, make
from tests.registry_support import village
from tests.support import LedgerFixture


def dumped(rows: list[Any]) -> list[dict[str, Any]]:
    return sorted((r.model_dump() for r in rows), key=lambda d: d["party_id"])


async def test_find_many_answers_as_load_where_does(ledger: LedgerFixture) -> None:
    v = await village(ledger, "prefetch-town", "prefetch-village")
    first, people = await v.household(3)
    second, _ = await v.household(2)
    absent = "00000000-0000-4000-8000-000000000000"
    engine = make_engine(asyncpg_url(ledger.url), pool_size=1)

    def check(conn: Connection) -> None:
        prefetched, plain = SqlReader(conn, {}), SqlReader(conn, {})
        prefetched.find_many(HouseholdMember, "household_id", [first, second, absent, None])
        assert len(prefetched.found) == 3  # None is left to load_where (IS NULL, not = ANY)
        for household, size in ((first, 3), (second, 2), (absent, 0)):
            hinted = prefetched.load_where(HouseholdMember, {"household_id": household})
            queried = plain.load_where(HouseholdMember, {"household_id": household})
            assert len(hinted) == size
            assert dumped(hinted) == dumped(queried)
        # Rows staged in the batch are overlaid on the prefetched answer.
        state = StagedState(prefetched)
        joined = make(
            HouseholdMember,
            party_id="11111111-1111-4111-8111-111111111111",
            household_id=first,
            relation="child",
            joined_seq=10**9,
        )
        state.stage([Put(joined)])
        found = state.find(HouseholdMember, household_id=first)
        assert {m.party_id for m in found} == {p.party for p in people} | {joined.party_id}

    try:
        async with engine.connect() as conn:
            await conn.run_sync(check)
    finally:
        await engine.dispose()
