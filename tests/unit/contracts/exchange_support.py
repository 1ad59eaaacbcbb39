"""Listings in the in-memory harness: a settled household's land, a collective's members as
bidders, and payload builders for every exchange kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from contracts.exchange.bidding import quote_commitment
from contracts.exchange.outcome import months_between
from contracts.exchange.tables import Listing, ListingBidder
from ledger.entry import format_time, parse_time
from tests.registry_support import hexdigest
from tests.unit.contracts.harness import COOPERATIVE, Harness

CST = timedelta(hours=8)


def local(h: Harness, days: int, hour: int = 9) -> datetime:
    """``hour`` o'clock China time, ``days`` after the ledger's date, as a UTC instant."""
    d = h.today() + timedelta(days=days)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC) - CST


@dataclass
class Market:
    """One village, an exchange centre over it, a settled household's contract, and members
    who can bid."""

    h: Harness
    village: str = ""
    exchange: str = ""
    seller: str = ""
    seller_people: list[str] = field(default_factory=list)
    contract: str = ""
    parcels: list[str] = field(default_factory=list)
    buyers: list[str] = field(default_factory=list)  # member parties of other households

    @classmethod
    def build(cls, h: Harness, buyers: int = 3, **policy: Any) -> Market:
        m = cls(h)
        m.village = h.collective()
        m.exchange = h.exchange_center()
        if policy:
            h.set_policy(**policy)
        m.seller, m.seller_people = h.members(m.village, 2)
        _, m.contract, m.parcels = h.contracted(m.village, 2, household=m.seller)
        for _ in range(buyers):
            m.buyers.append(h.members(m.village, 1)[1][0])
        return m

    def listing_payload(self, listing: str = "L-1", **over: Any) -> dict[str, Any]:
        opens = local(self.h, 14)
        payload: dict[str, Any] = {
            "listing": listing,
            "right": {
                "type": "land_management",
                "contract": self.contract,
                "parcels": self.parcels,
                "mode": "lease",
                "term_start": (self.h.today() + timedelta(days=60)).isoformat(),
                "term_end": "2036-12-31",
                "agricultural_use": True,
            },
            "consent": hexdigest("consent"),
            "reserve_fen": 80_000,
            "price_unit": "per_mu_year",
            "increment_fen": 10_000,
            "deposit_fen": 0,
            "method": "auction",
            "bidding_opens_at": format_time(opens),
            "bidding_closes_at": format_time(opens + timedelta(hours=2)),
        }
        payload.update(over)
        if "deposit_fen" not in over:
            payload["deposit_fen"] = self.deposit_for(payload)
        return payload

    def deposit_for(self, payload: dict[str, Any], area_m2: int = 4000) -> int:
        """20% of the deal at the reserve (two parcels of 2,000 m² by default)."""
        if payload["price_unit"] == "total":
            return int(payload["reserve_fen"]) // 5
        right = payload["right"]
        months = months_between(
            date.fromisoformat(right["term_start"]), date.fromisoformat(right["term_end"])
        )
        value = (2 * payload["reserve_fen"] * area_m2 * 15 * months + 120_000) // 240_000
        return int(value) // 5

    def list(self, listing: str = "L-1", **over: Any) -> Listing:
        self.h.submit(self.exchange, "exchange.listed", self.listing_payload(listing, **over))
        return self.h.row(Listing, listing)

    def register(
        self, listing: str, party: str | None = None, entity: bool = False, deposit: bool = True
    ) -> int:
        bidder: dict[str, Any] = (
            {"type": "entity", **COOPERATIVE, "entity_type": "cooperative"}
            if entity
            else {
                "type": "party",
                "party": party,
            }
        )
        self.h.submit(
            self.exchange,
            "exchange.bidder_registered",
            {
                "listing": listing,
                "bidder": bidder,
                "application": hexdigest("application"),
                "agricultural_capacity": hexdigest("capacity"),
            },
        )
        number = self.h.row(Listing, listing).bidders
        if deposit:
            self.deposit(listing, number)
        return number

    def deposit(self, listing: str, number: int) -> None:
        amount = self.h.row(Listing, listing).deposit_fen
        self.h.submit(
            self.exchange,
            "exchange.deposit_received",
            {
                "listing": listing,
                "bidder": number,
                "amount_fen": amount,
                "bank_reference": hexdigest(f"dep{number}"),
            },
        )

    def open_bidding(self, listing: str) -> None:
        self.h.clock.set(max(self.h.clock(), _at(self.h.row(Listing, listing).opens_at)))

    def after_close(self, listing: str, minutes: int = 1) -> None:
        self.h.clock.set(_at(self.h.row(Listing, listing).closes_at) + timedelta(minutes=minutes))

    def bid(self, listing: str, number: int, amount: int) -> Any:
        return self.h.submit(
            self.exchange, "exchange.bid", {"listing": listing, "bidder": number, "amount_fen": amount}
        )

    def seal(self, listing: str, number: int, amount: int, salt: str = "ab" * 16) -> None:
        self.h.submit(
            self.exchange,
            "exchange.quote_sealed",
            {
                "listing": listing,
                "bidder": number,
                "commitment": quote_commitment(listing, number, amount, salt),
            },
        )

    def open_quote(self, listing: str, number: int, amount: int, salt: str = "ab" * 16) -> None:
        self.h.submit(
            self.exchange,
            "exchange.quote_opened",
            {"listing": listing, "bidder": number, "amount_fen": amount, "salt": salt},
        )

    def listing(self, listing: str = "L-1") -> Listing:
        return self.h.row(Listing, listing)

    def bidder(self, listing: str, number: int) -> ListingBidder:
        return self.h.row(ListingBidder, listing, number)


def _at(text: str) -> datetime:
    return parse_time(text)
