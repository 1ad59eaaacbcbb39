"""Exchange scenarios through the real HTTP API: an exchange centre under the county, a village
whose seller household holds a land contract, member households who bid, entities, and a
listing taken through registration, deposits, bids and its outcome as the ledger's clock moves.

Every act is an entry signed by the exchange centre and submitted to ``POST /v1/entries``;
``act`` returns the receipt (and raises ``SubmitError`` on a refusal), ``submit`` the raw
response, for tests that expect a refusal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from contracts.exchange.bidding import quote_commitment
from contracts.exchange.outcome import months_between
from ledger.entry import format_time, parse_time
from ledger.signing import KeyFile
from tests.registry_support import Village, hexdigest, village
from tests.support import LedgerFixture, credit_code

CST = timedelta(hours=8)
BOUNDS = {"east": "road", "south": "ditch", "west": "collective_land", "north": "river"}


def entity(serial: int, name: str = "文登丰收果蔬专业合作社") -> dict[str, Any]:
    """An entity bidder (a cooperative) with a valid unified social credit code."""
    return {
        "type": "entity",
        "name": name,
        "credit_code": credit_code("93", "371003", serial),
        "entity_type": "cooperative",
    }


def deal_value_fen(payload: dict[str, Any], area_m2: int) -> int:
    """The whole deal at the listing's reserve (``contracts.exchange.outcome.deal_value``)."""
    if payload["price_unit"] == "total":
        return int(payload["reserve_fen"])
    right = payload["right"]
    months = months_between(date.fromisoformat(right["term_start"]), date.fromisoformat(right["term_end"]))
    numerator, denominator = payload["reserve_fen"] * area_m2 * 15 * months, 10_000 * 12
    return int((2 * numerator + denominator) // (2 * denominator))


@dataclass
class ExchangeHttp:
    """One village with an exchange centre over it, a seller household's contract, and member
    parties of another household who can bid."""

    fx: LedgerFixture
    v: Village
    exchange: str
    seller: str  # the seller household
    contract: str
    parcels: list[str]
    area_m2: int  # of all the contract's parcels
    buyers: list[str]  # member parties, not of the seller's household
    numbers: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # bidders per listing
    payloads: dict[str, dict[str, Any]] = field(default_factory=dict)  # listing payloads
    parcel_m2: int = 2000  # the area of each parcel of the contract

    @classmethod
    async def build(
        cls, fx: LedgerFixture, name: str, *, buyers: int = 3, parcels: int = 2, parcel_m2: int = 2000
    ) -> ExchangeHttp:
        v = await village(fx, f"t-{name}", f"v-{name}")
        exchange = f"x-{name}"
        await fx.register("county", exchange, "exchange_center")
        seller, _ = await v.members(2)
        codes = [v.parcel(n + 1) for n in range(parcels)]
        contract = f"C-{name}"
        await v.append(
            "land.contract_issued",
            {
                "contract": contract,
                "household": seller,
                "certificate_no": f"CERT-{name}",
                "term_start": "2018-01-01",
                "term_end": "2047-12-31",
                "parcels": [
                    {"code": c, "area_m2": parcel_m2, "land_class": "arable", "boundaries": BOUNDS}
                    for c in codes
                ],
            },
        )
        _, people = await v.members(buyers)
        return cls(
            fx,
            v,
            exchange,
            seller,
            contract,
            codes,
            parcels * parcel_m2,
            [p.party for p in people],
            parcel_m2=parcel_m2,
        )

    @property
    def key(self) -> KeyFile:
        return self.fx.keys[self.exchange]

    def now(self) -> datetime:
        return self.fx.clock()

    def today(self) -> date:
        return (self.now() + CST).date()

    def move_to(self, when: datetime | str) -> None:
        """Set the ledger's clock to ``when`` (never back)."""
        at = parse_time(when) if isinstance(when, str) else when
        clock: Any = self.fx.clock
        clock.now = max(clock.now, at)

    def local(self, days: int, hour: int = 9) -> datetime:
        """``hour`` o'clock China time, ``days`` after the ledger's date, as a UTC instant."""
        d = self.today() + timedelta(days=days)
        return datetime(d.year, d.month, d.day, hour, tzinfo=UTC) - CST

    async def act(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Submit an entry signed by the exchange centre; its receipt."""
        return await self.fx.client.append(self.key, kind, payload)

    async def submit(self, kind: str, payload: dict[str, Any]) -> Any:
        """The raw response, for a refusal."""
        return await self.fx.submit(self.key, kind, payload)

    # Listing

    def listing_payload(self, listing: str, **over: Any) -> dict[str, Any]:
        """A lease of the whole contract (``right={..., "parcels": [...]}`` lists fewer), per 亩
        per year, bidding two hours from 09:00 China time 14 days on, the deposit 20% of the
        deal at the reserve."""
        opens = self.local(14)
        payload: dict[str, Any] = {
            "listing": listing,
            "right": {
                "type": "land_management",
                "contract": self.contract,
                "parcels": self.parcels,
                "mode": "lease",
                "term_start": (self.today() + timedelta(days=60)).isoformat(),
                "term_end": "2036-12-31",
                "agricultural_use": True,
            },
            "consent": hexdigest(f"consent {listing}"),
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
            area = len(payload["right"].get("parcels", ())) * self.parcel_m2
            payload["deposit_fen"] = deal_value_fen(payload, area) // 5
        return payload

    async def list(self, listing: str, **over: Any) -> dict[str, Any]:
        payload = self.listing_payload(listing, **over)
        receipt = await self.act("exchange.listed", payload)
        self.payloads[listing] = payload
        return receipt

    # Bidders

    async def register(
        self,
        listing: str,
        party: str | None = None,
        *,
        bidder: dict[str, Any] | None = None,
        deposit: bool = True,
    ) -> int:
        """Register a party (or ``bidder``, an entity) and receive its deposit; its number."""
        await self.act(
            "exchange.bidder_registered",
            {
                "listing": listing,
                "bidder": bidder or {"type": "party", "party": party},
                "application": hexdigest(f"application {listing}"),
                "agricultural_capacity": hexdigest("capacity"),
            },
        )
        self.numbers[listing] += 1
        number = self.numbers[listing]
        if deposit:
            await self.deposit(listing, number)
        return number

    async def deposit(self, listing: str, number: int) -> dict[str, Any]:
        return await self.act(
            "exchange.deposit_received",
            {
                "listing": listing,
                "bidder": number,
                "amount_fen": self.payloads[listing]["deposit_fen"],
                "bank_reference": hexdigest(f"deposit {listing} {number}"),
            },
        )

    # Bidding and outcome

    def open_bidding(self, listing: str, minutes: int = 0) -> None:
        self.move_to(parse_time(self.payloads[listing]["bidding_opens_at"]) + timedelta(minutes=minutes))

    async def bid(self, listing: str, number: int, amount_fen: int) -> dict[str, Any]:
        return await self.act(
            "exchange.bid", {"listing": listing, "bidder": number, "amount_fen": amount_fen}
        )

    async def seal(self, listing: str, number: int, amount_fen: int, salt: str = "ab" * 16) -> dict[str, Any]:
        commitment = quote_commitment(listing, number, amount_fen, salt)
        return await self.act(
            "exchange.quote_sealed", {"listing": listing, "bidder": number, "commitment": commitment}
        )

    async def open_quote(
        self, listing: str, number: int, amount_fen: int, salt: str = "ab" * 16
    ) -> dict[str, Any]:
        return await self.act(
            "exchange.quote_opened",
            {"listing": listing, "bidder": number, "amount_fen": amount_fen, "salt": salt},
        )

    async def award(self, listing: str, number: int, amount_fen: int) -> dict[str, Any]:
        return await self.act(
            "exchange.awarded", {"listing": listing, "bidder": number, "amount_fen": amount_fen}
        )

    async def fail(self, listing: str) -> dict[str, Any]:
        return await self.act("exchange.failed", {"listing": listing})

    async def withdraw(self, listing: str) -> dict[str, Any]:
        return await self.act(
            "exchange.withdrawn",
            {"listing": listing, "reason": "holder_request", "document": hexdigest(f"withdraw {listing}")},
        )

    async def hold(self, listing: str) -> dict[str, Any]:
        return await self.act(
            "exchange.held",
            {"listing": listing, "reason": "ownership_dispute", "document": hexdigest(f"hold {listing}")},
        )
