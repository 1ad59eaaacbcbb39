"""A right under an open listing is frozen, through ``POST /v1/entries``: the village's
withdrawal of a listed homestead is refused (``homestead.listed``) and changes nothing; once
the listing is withdrawn the homestead is withdrawn as before."""

from __future__ import annotations

from typing import Any

from tests.exchange_http import Market
from tests.registry_support import hexdigest
from tests.support import LedgerFixture


def withdrawal(homestead: str) -> dict[str, Any]:
    return {
        "homestead": homestead,
        "compensation": "cash",
        "compensation_fen": 3_000_000,
        "agreement": hexdigest("withdrawal"),
    }


async def test_a_listed_homestead_is_not_withdrawn(ledger: LedgerFixture) -> None:
    m = await Market.open(ledger, "freeze", parcels=2, buyers=1)
    try:
        await m.lot("L-freeze", m.homestead_right())
        village = ledger.keys[m.v.village]
        problem = await m.refused(
            "homestead.withdrawn", withdrawal(m.homestead), "homestead.listed", key=village
        )
        assert "L-freeze" in problem["detail"]
        assert (await m.listing_row("L-freeze"))["status"] == "announced"
        await m.withdraw("L-freeze")
        await m.v.append("homestead.withdrawn", withdrawal(m.homestead))
        assert m.db is not None
        status = await m.db.fetchval("SELECT status FROM homesteads WHERE id = $1", m.homestead)
        assert status == "withdrawn"
    finally:
        await m.close()
