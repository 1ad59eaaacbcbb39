"""A county's exchange with deals done, through the real HTTP API (``tests.exchange_http``):
two townships, a county exchange centre over each and a township's own centre, six listings
ending every way the evidence reads care about, and the numbers a reader should find.

Timeline (China Standard Time; no calendar is declared, so Monday to Friday are working days):
every listing is announced on Monday 2026-04-20 and bids from Monday 2026-05-04 09:00.

- L-1 (east, auction, land per 亩 per year, 6 亩 for 10 years): 竞买人 1 (a member, priority),
  2 (a cooperative) and 3 (a member) pay 960,000 fen each; 2 wins at 100,000 fen per 亩 per
  year (deal 6,000,000 fen); 1 is refunded; 3's deposit stays held (refunds due 2026-05-11).
  Certified 2026-05-04.
- L-2 (east, agreement, 3 亩 for 5 years, total price): 1,050,000 fen, i.e. 70,000 per 亩 per
  year. Certified 2026-05-05.
- S-1 (east, agreement, 60 share units): 660,000 fen, 11,000 per unit. Certified 2026-05-05.
- L-3 (west, the township's centre, agreement, 3 亩 for 7 years): 1,000,000 fen, i.e. 47,619
  per 亩 per year (47,619.05 rounded). Certified at 2026-05-05T17:00Z, which is 2026-05-06 in
  China.
- L-4 (west, the county's centre, still announced): one bidder withdrew after qualifying (its
  90,000 fen forfeited), a cooperative's 90,000 fen held.
- L-5 (west, the township's centre): withdrawn on 2026-04-21 with its one deposit of 100,000
  fen still held: refunds were due by 2026-04-28.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.exchange_http import ExchangeHttp, entity
from tests.registry_support import hexdigest
from tests.support import LedgerFixture

LISTING_DAY = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)  # Monday 09:00 China time
CERTIFIED_EAST = datetime(2026, 5, 5, 2, 0, tzinfo=UTC)
CERTIFIED_WEST = datetime(2026, 5, 5, 17, 0, tzinfo=UTC)  # 2026-05-06 01:00 China time
COOPERATIVE = entity(41, "文登绿野农机专业合作社")
WEST_COOPERATIVE = entity(42, "文登西岭果业专业合作社")


def land(e: ExchangeHttp, parcels: list[str], start: str, end: str) -> dict[str, Any]:
    return {
        "type": "land_management",
        "contract": e.contract,
        "parcels": parcels,
        "mode": "lease",
        "term_start": start,
        "term_end": end,
        "agricultural_use": True,
    }


@dataclass
class Deals:
    fx: LedgerFixture
    east: ExchangeHttp  # county centre x-deals-east over v-deals-east
    west: ExchangeHttp  # county centre x-deals-west over v-deals-west
    west_town: ExchangeHttp  # the township's centre xt-deals-west, same village
    shares_seller: str  # party


async def act(e: ExchangeHttp, kind: str, listing: str, **payload: Any) -> dict[str, Any]:
    return await e.act(kind, {"listing": listing, **payload})


async def settle(e: ExchangeHttp, listing: str, payment_fen: int) -> None:
    """Contract signed and payment confirmed (value less the winner's deposit plus the fee)."""
    await act(e, "exchange.contract_signed", listing, contract=hexdigest(f"contract {listing}"))
    await act(
        e,
        "exchange.payment_confirmed",
        listing,
        amount_fen=payment_fen,
        bank_reference=hexdigest(f"payment {listing}"),
    )


async def certify(e: ExchangeHttp, listing: str, number: str) -> dict[str, Any]:
    return await act(e, "exchange.certificate_issued", listing, certificate_no=number)


async def shares_scheme(e: ExchangeHttp) -> str:
    """The east village quantifies its shares over the seller household (120 units each, 60
    for the collective); the county lets a holder hold half; returns the head's party id."""
    fx, v = e.fx, e.v
    household = await fx.client.get(f"/v1/households/{e.seller}")
    members = [m["party_id"] for m in household["members"]]
    await fx.client.append(fx.keys["county"], "policy.set", {"numbers": {"holder_share_cap_bp": 5000}})
    await v.append(
        "assets.verified",
        {
            "verification": "AV-deals",
            "as_of": "2025-12-31",
            "operating_assets": [{"category": "factory_rental", "value_fen": 80_000_000}],
            "liabilities_fen": 0,
            "resource_assets": [],
            "non_operating_assets": [],
            "audit_statement": hexdigest("audit"),
        },
    )
    today = e.today().isoformat()
    await v.append(
        "shares.quantified",
        {
            "scheme": "S-deals",
            "verification": "AV-deals",
            "scheme_date": today,
            "basic_units_per_member": 100,
            "labour_units_per_year": 10,
            "collective_units": 60,
            "total_units": 120 * len(members) + 60,
            "allocations": [
                {"party": p, "household": e.seller, "basic_units": 100, "labour_years": 2, "labour_units": 20}
                for p in members
            ],
        },
    )
    return str(household["head_party"])


async def build_deals(fx: LedgerFixture) -> Deals:
    east = await ExchangeHttp.build(fx, "deals-east", buyers=3, parcels=3)
    west = await ExchangeHttp.build(fx, "deals-west", buyers=2, parcels=3)
    await fx.register(west.v.township, "xt-deals-west", "exchange_center")
    west_town = dataclasses.replace(west, exchange="xt-deals-west")
    d = Deals(fx, east, west, west_town, await shares_scheme(east))
    east.move_to(LISTING_DAY)
    await list_everything(d)
    await bid_and_certify(d)
    return d


async def list_everything(d: Deals) -> None:
    east, west, town = d.east, d.west, d.west_town
    p = east.parcels
    await east.list(
        "L-1", right=land(east, p[:2], "2026-07-01", "2036-07-01"), reserve_fen=80_000, deposit_fen=960_000
    )
    await east.list(
        "L-2",
        right=land(east, p[2:], "2026-07-01", "2031-07-01"),
        price_unit="total",
        reserve_fen=1_000_000,
        deposit_fen=200_000,
    )
    shares = {"type": "shares", "collective": east.v.village, "holder": d.shares_seller, "units": 60}
    await east.list("S-1", right=shares, price_unit="total", reserve_fen=600_000, deposit_fen=120_000)
    w = west.parcels
    await town.list(
        "L-3",
        right=land(west, w[:1], "2026-07-01", "2033-07-01"),
        price_unit="total",
        reserve_fen=900_000,
        deposit_fen=180_000,
    )
    await west.list(
        "L-4", right=land(west, w[1:2], "2026-07-01", "2029-07-01"), reserve_fen=50_000, deposit_fen=90_000
    )
    await town.list(
        "L-5",
        right=land(west, w[2:], "2026-07-01", "2031-07-01"),
        price_unit="total",
        reserve_fen=500_000,
        deposit_fen=100_000,
    )
    a, c, dd = east.buyers
    assert await east.register("L-1", a) == 1
    assert await east.register("L-1", bidder=COOPERATIVE) == 2
    assert await east.register("L-1", c) == 3
    await east.register("L-2", dd)
    await east.register("S-1", a)
    e1, e2 = west.buyers
    await town.register("L-3", e1)
    await west.register("L-4", e2)
    await west.register("L-4", bidder=WEST_COOPERATIVE)
    await town.register("L-5", e1)
    east.move_to(datetime(2026, 4, 21, 2, 0, tzinfo=UTC))
    await act(
        west,
        "exchange.defaulted",
        "L-4",
        bidder=1,
        reason="withdrawal_after_qualification",
        document=hexdigest("withdrawal L-4"),
    )
    await town.withdraw("L-5")


async def bid_and_certify(d: Deals) -> None:
    east, town = d.east, d.west_town
    east.open_bidding("L-1", minutes=1)
    await east.bid("L-1", 2, 80_000)
    await east.bid("L-1", 1, 90_000)
    await east.bid("L-1", 2, 100_000)
    for e, listing, amount in ((east, "L-2", 1_050_000), (east, "S-1", 660_000), (town, "L-3", 1_000_000)):
        await e.bid(listing, 1, amount)
        await e.award(listing, 1, amount)
    deposits = {"L-2": 200_000, "S-1": 120_000, "L-3": 180_000}
    for e, listing in ((east, "L-2"), (east, "S-1"), (town, "L-3")):
        # each of these deals is under 20,000 fen of fee at 1.3%: the minimum fee applies
        value = {"L-2": 1_050_000, "S-1": 660_000, "L-3": 1_000_000}[listing]
        await settle(e, listing, value - deposits[listing] + 20_000)
    east.open_bidding("L-1", minutes=121)  # the close, 11:00, and no late bid moved it
    await east.award("L-1", 2, 100_000)
    await settle(east, "L-1", 6_000_000 - 960_000 + 78_000)  # fee: 1.3% of 6,000,000
    await act(east, "exchange.deposit_refunded", "L-1", bidder=1, bank_reference=hexdigest("refund L-1 1"))
    await certify(east, "L-1", "JY-2026-0001")
    east.move_to(CERTIFIED_EAST)
    await certify(east, "L-2", "JY-2026-0002")
    await certify(east, "S-1", "JY-2026-0003")
    east.move_to(CERTIFIED_WEST)
    await certify(town, "L-3", "JYX-2026-0001")
