"""A bidding entity's own bid through the HTTP API: the exchange centre registers a cooperative
as its bidding entity (``org.registered``, rule version 3) and as an entity bidder on a listing
under the same credit code; the cooperative signs its bid with its own key to
``POST /v1/entries``, is refused (403 ``exchange.not_the_bidder``) when it signs for the
member, and wins."""

from __future__ import annotations

from typing import Any

from ledger.signing import KeyFile, SigningKey, b64
from tests.exchange_http import Market
from tests.support import LedgerFixture

LISTING = "L-entity"
COOP = "coop-entity-bids"


def bid(bidder: int, amount_fen: int) -> dict[str, Any]:
    return {"listing": LISTING, "bidder": bidder, "amount_fen": amount_fen}


async def test_a_bidding_entity_signs_its_own_bid_and_wins(ledger: LedgerFixture) -> None:
    m = await Market.open(ledger, "entity-bids", parcels=2, buyers=1, full=False)
    try:
        coop = m.new_entity()
        key = KeyFile(COOP, SigningKey.generate())
        registered = {
            "id": COOP,
            "name": coop["name"],
            "type": "bidding_entity",
            "parent": m.exchange,
            "public_keys": [b64(key.key.public_key)],
            "credit_code": coop["credit_code"],
        }
        await ledger.client.append(m.key, "org.registered", registered)
        await m.lot(LISTING)
        member = await m.register(LISTING, m.buyers[0])
        own = await m.register(LISTING, bidder=coop)
        m.open_bidding(LISTING)
        await m.bid(LISTING, member, 80_000)  # the exchange, on the member's behalf

        await m.refused("exchange.bid", bid(member, 90_000), "exchange.not_the_bidder", key=key, status=403)
        receipt = await ledger.client.append(key, "exchange.bid", bid(own, 90_000))

        page = await ledger.client.get("/v1/entries", after=receipt["seq"] - 1, limit=1)
        (record,) = page["items"]
        assert (record["entry"]["actor"], record["entry"]["key"]) == (COOP, key.key.key_id)
        assert (record["entry"]["kind"], record["entry"]["payload"]) == ("exchange.bid", bid(own, 90_000))
        row = await m.listing_row(LISTING)
        assert (row["high_bidder"], row["high_fen"]) == (own, 90_000)

        # The entity reads its own registration and bids with its own key, and no one else's.
        http = ledger.client.http
        mine = await http.get(
            f"/v1/exchange/listings/{LISTING}/bidders/{own}", auth=ledger.client.signed_by(key)
        )
        assert mine.status_code == 200, mine.text
        assert [a["amount_fen"] for a in mine.json()["acts"] if a["kind"] == "exchange.bid"] == [90_000]
        assert mine.json()["credit_code"] == coop["credit_code"]
        for number in (member, 99):
            other = await http.get(
                f"/v1/exchange/listings/{LISTING}/bidders/{number}", auth=ledger.client.signed_by(key)
            )
            assert (other.status_code, other.json()["code"]) == (403, "auth.forbidden")

        await m.after_close(LISTING)
        await m.award(LISTING, own, 90_000)
        read = (await ledger.client.http.get(f"/v1/exchange/listings/{LISTING}")).json()
        assert read["status"] == "awarded"
        steps = [
            (s["kind"], s["number"], s["amount_fen"]) for s in read["steps"] if s["kind"] != "exchange.listed"
        ]
        assert steps[-3:] == [
            ("exchange.bid", member, 80_000),
            ("exchange.bid", own, 90_000),
            ("exchange.awarded", own, 90_000),
        ]
    finally:
        await m.close()
