"""Exchange scenarios through the real HTTP API: an exchange centre under the county, a village
whose seller household holds a land contract, member households who bid, entities, and a
listing taken through registration, deposits, bids and its outcome as the ledger's clock moves.

Every act is an entry signed by the exchange centre and submitted to ``POST /v1/entries``;
``act`` returns the receipt (and raises ``SubmitError`` on a refusal), ``submit`` the raw
response, for tests that expect a refusal.
"""

from __future__ import annotations

import socket
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import asyncpg
import httpx
import uvicorn

from api.client import LedgerClient
from api.home import Home
from api.http.app import Settings, create_app
from api.service.database import asyncpg_url
from api.service.genesis import init_ledger
from contracts.exchange.bidding import quote_commitment
from contracts.exchange.outcome import months_between
from contracts.rulebook import RULEBOOK
from ledger.entry import format_time, parse_time
from ledger.signing import KeyFile
from tests.registry_support import Village, hexdigest, village
from tests.support import LedgerFixture, credit_code, owner_connection

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


# The whole market, for the rules tests: beside the seller's contract, a household that settled
# in town keeping its homestead and its shares, a member who already holds shares up to the
# cap, a member household that holds a homestead, a registered person who is no member, an
# exchange centre of another township (no jurisdiction over the village), and reads of the
# projection so that a test can show a refused entry changed nothing.

EXCHANGE_TABLES = ("exchange_listings", "exchange_bidders", "exchange_steps")
RIGHT_TABLES = ("management_transfers", "share_holdings", "homesteads", "households", "county_policies")
LENDER = "91371003000008801N"  # a bank, by its unified social credit code
SHARE_UNITS = 120  # each holder's units (100 basic, 2 labour years): 360 in all, so 18 fit the 5% cap


@dataclass
class Snapshot:
    """What a refused entry must leave as it was: the log (size and checkpoint) and every row
    of the exchange's tables and of the rights they move."""

    size: int
    checkpoint: str
    rows: dict[str, list[tuple[Any, ...]]]
    listing: tuple[int, Any] | None  # the public read of the listing acted on: status and body


@dataclass
class Market(ExchangeHttp):
    settled: str = ""  # a household settled in town that kept its homestead and shares
    homestead: str = ""  # the settled household's
    holders: list[str] = field(default_factory=list)  # its two members; the second pledged all but 5 units
    rich: str = ""  # a member holding shares: no listed units fit under the holder cap
    homesteader: str = ""  # a member living in the village whose household holds a homestead
    homesteader_homestead: str = ""
    outsider: str = ""  # a registered person, member of no collective
    far_exchange: str = ""  # an exchange centre under another township
    free_parcels: list[str] = field(default_factory=list)  # parcels no test listed yet
    serial: int = 1000
    db: asyncpg.Connection | None = None

    @classmethod
    async def open(
        cls, fx: LedgerFixture, name: str, *, parcels: int = 200, buyers: int = 4, full: bool = True
    ) -> Market:
        """The market over ``fx`` (without the settled household and the rest when not
        ``full``); ``close`` it at the end (it holds a database connection)."""
        m = cast(Market, await cls.build(fx, name, buyers=buyers, parcels=parcels))
        m.free_parcels = list(m.parcels)
        if full:
            await m._furnish(name)
        m.db = await owner_connection(fx.url)
        return m

    async def close(self) -> None:
        if self.db is not None:
            await self.db.close()

    async def _furnish(self, name: str) -> None:
        v, fx = self.v, self.fx
        settled, people = await v.members(2)
        rich_household, (rich,) = await v.members(1)
        homesteader_household, (homesteader,) = await v.members(1)
        self.settled, self.holders = settled, [p.party for p in people]
        self.rich, self.homesteader = rich.party, homesteader.party
        self.outsider = (await v.person()).party
        self.homestead, self.homesteader_homestead = f"H-{name}", f"H2-{name}"
        for household, homestead, plot in (
            (settled, self.homestead, 900),
            (homesteader_household, self.homesteader_homestead, 901),
        ):
            await v.append(
                "homestead.granted",
                {
                    "homestead": homestead,
                    "household": household,
                    "plot_code": v.parcel(plot),
                    "area_m2": 160,
                    "zone": "plain",
                    "certificate_no": f"ZJ-{homestead}",
                },
            )
        await v.append(
            "assets.verified",
            {
                "verification": f"AV-{name}",
                "as_of": "2025-12-31",
                "operating_assets": [{"category": "factory_rental", "value_fen": 80_000_000}],
                "liabilities_fen": 20_000_000,
                "resource_assets": [],
                "non_operating_assets": [],
                "audit_statement": hexdigest("audit"),
            },
        )
        holders = [(settled, p) for p in self.holders] + [(rich_household, self.rich)]
        await v.append(
            "shares.quantified",
            {
                "scheme": f"S-{name}",
                "verification": f"AV-{name}",
                "scheme_date": self.today().isoformat(),
                "basic_units_per_member": 100,
                "labour_units_per_year": 10,
                "collective_units": 0,
                "total_units": SHARE_UNITS * len(holders),
                "allocations": [
                    {"party": p, "household": h, "basic_units": 100, "labour_years": 2, "labour_units": 20}
                    for h, p in holders
                ],
            },
        )
        await v.append(
            "shares.pledged",
            {
                "pledge": f"P-{name}",
                "holder": self.holders[1],
                "units": SHARE_UNITS - 5,
                "pledgee": LENDER,
                "contract": hexdigest("pledge"),
            },
        )
        rights = {"land_contracts": [], "homesteads": [self.homestead]}
        await v.append(
            "certificate.membership_issued",
            {"certificate": f"MC-{name}", "household": settled, "persons": self.holders, "rights": rights},
        )
        await v.append(
            "certificate.transfer_filed",
            {
                "certificate": f"TF-{name}",
                "village": v.village,
                "scope": "household",
                "household": settled,
                "persons": self.holders,
                "membership_certificate": f"MC-{name}",
                "rights": rights,
            },
            key=fx.keys[v.township],
        )
        await fx.register("county", f"t2-{name}", "township")
        self.far_exchange = f"x2-{name}"
        await fx.register(f"t2-{name}", self.far_exchange, "exchange_center")

    # Rights and listings

    def take_parcels(self, n: int = 1) -> list[str]:
        """``n`` parcels of the seller's contract that no listing named yet."""
        taken, self.free_parcels = self.free_parcels[:n], self.free_parcels[n:]
        assert len(taken) == n, "the market's contract has no parcels left to list"
        return taken

    def land_right(self, parcels: list[str] | None = None, **over: Any) -> dict[str, Any]:
        return {
            "type": "land_management",
            "contract": self.contract,
            "parcels": parcels if parcels is not None else self.take_parcels(),
            "mode": "lease",
            "term_start": (self.today() + timedelta(days=30)).isoformat(),
            "term_end": "2040-12-31",
            "agricultural_use": True,
            **over,
        }

    def shares_right(self, holder: str | None = None, units: int = 10) -> dict[str, Any]:
        return {
            "type": "shares",
            "collective": self.v.village,
            "holder": holder or self.holders[0],
            "units": units,
        }

    def homestead_right(self, homestead: str | None = None) -> dict[str, Any]:
        return {"type": "homestead", "homestead": homestead or self.homestead}

    def lot_payload(self, listing: str, right: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
        """A listing of one fresh parcel (or of ``right``, at a total price when it is no land)."""
        right = right or self.land_right()
        if right["type"] != "land_management":
            over.setdefault("price_unit", "total")
            over.setdefault("reserve_fen", 1_000_000)
        return self.listing_payload(listing, right=right, **over)

    async def lot(self, listing: str, right: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
        """List ``lot_payload``; the payload."""
        payload = self.lot_payload(listing, right, **over)
        await self.act("exchange.listed", payload)
        self.payloads[listing] = payload
        return payload

    async def bidding(
        self, listing: str, right: dict[str, Any] | None = None, *, bidders: int = 2, **over: Any
    ) -> list[int]:
        """A listing with ``bidders`` entity bidders who paid the deposit (member buyers instead
        for shares and homesteads), and the clock at its opening; their numbers."""
        payload = await self.lot(listing, right, **over)
        members = payload["right"]["type"] in ("shares", "homestead")
        numbers = [
            await self.register(listing, self.buyers[i]) if members else await self.register_entity(listing)
            for i in range(bidders)
        ]
        self.open_bidding(listing)
        return numbers

    def new_entity(self, **over: Any) -> dict[str, Any]:
        self.serial += 1
        return {**entity(self.serial, f"文登第{self.serial}农业专业合作社"), **over}

    async def register_entity(self, listing: str, *, deposit: bool = True, **over: Any) -> int:
        return await self.register(listing, bidder=self.new_entity(**over), deposit=deposit)

    def registration(
        self, listing: str, bidder: dict[str, Any] | str, *, capacity: bool = True
    ) -> dict[str, Any]:
        """An ``exchange.bidder_registered`` payload for a party id or an entity."""
        payload: dict[str, Any] = {
            "listing": listing,
            "bidder": {"type": "party", "party": bidder} if isinstance(bidder, str) else bidder,
            "application": hexdigest(f"application {listing}"),
        }
        if capacity:
            payload["agricultural_capacity"] = hexdigest("capacity")
        return payload

    # The acts the builder above has no method for

    async def extend(self, listing: str) -> dict[str, Any]:
        return await self.act("exchange.extended", {"listing": listing})

    async def lift(self, listing: str) -> dict[str, Any]:
        return await self.act(
            "exchange.hold_lifted", {"listing": listing, "document": hexdigest(f"lift {listing}")}
        )

    async def match(self, listing: str, number: int, amount_fen: int) -> dict[str, Any]:
        return await self.act(
            "exchange.priority_matched", {"listing": listing, "bidder": number, "amount_fen": amount_fen}
        )

    async def sign_contract(self, listing: str) -> dict[str, Any]:
        return await self.act(
            "exchange.contract_signed", {"listing": listing, "contract": hexdigest(f"contract {listing}")}
        )

    def default_payload(self, listing: str, number: int, reason: str) -> dict[str, Any]:
        return {"listing": listing, "bidder": number, "reason": reason, "document": hexdigest(reason)}

    async def default(self, listing: str, number: int, reason: str) -> dict[str, Any]:
        return await self.act("exchange.defaulted", self.default_payload(listing, number, reason))

    async def payment_due(self, listing: str) -> int:
        """What the winner pays in: the deal less its deposit plus the buyer's fee."""
        row = await self.listing_row(listing)
        winner = await self.bidder_row(listing, row["winner"])
        return int(row["value_fen"] - winner["deposit_fen"] + row["buyer_fee_fen"])

    def payment(self, listing: str, amount_fen: int) -> dict[str, Any]:
        return {"listing": listing, "amount_fen": amount_fen, "bank_reference": hexdigest(f"pay {listing}")}

    async def pay(self, listing: str) -> dict[str, Any]:
        return await self.act(
            "exchange.payment_confirmed", self.payment(listing, await self.payment_due(listing))
        )

    def refund_payload(self, listing: str, number: int) -> dict[str, Any]:
        return {
            "listing": listing,
            "bidder": number,
            "bank_reference": hexdigest(f"refund {listing} {number}"),
        }

    async def refund(self, listing: str, number: int) -> dict[str, Any]:
        return await self.act("exchange.deposit_refunded", self.refund_payload(listing, number))

    async def certify(self, listing: str) -> dict[str, Any]:
        return await self.act(
            "exchange.certificate_issued", {"listing": listing, "certificate_no": f"JY-{listing}"}
        )

    async def set_policy(self, **numbers: Any) -> dict[str, Any]:
        return await self.fx.client.append(self.fx.keys["county"], "policy.set", {"numbers": numbers})

    async def after_close(self, listing: str, minutes: float = 1) -> None:
        """The clock past the listing's close as it stands now (late bids move it)."""
        self.move_to(parse_time((await self.listing_row(listing))["closes_at"]) + timedelta(minutes=minutes))

    async def awarded(self, listing: str, amounts: tuple[int, ...] = (80_000, 90_000)) -> list[int]:
        """A listing of a fresh parcel bid on by entities (one bid each, in order) and awarded to
        the last; the bidders' numbers."""
        numbers = await self.bidding(listing, bidders=len(amounts))
        for number, amount in zip(numbers, amounts, strict=True):
            await self.bid(listing, number, amount)
        await self.after_close(listing)
        await self.award(listing, numbers[-1], amounts[-1])
        return numbers

    # Reads of the projection, and the refusal check

    async def listing_row(self, listing: str) -> dict[str, Any]:
        assert self.db is not None
        row = await self.db.fetchrow("SELECT * FROM exchange_listings WHERE id = $1", listing)
        assert row is not None, f"no listing {listing}"
        return dict(row)

    async def bidder_row(self, listing: str, number: int) -> dict[str, Any]:
        assert self.db is not None
        row = await self.db.fetchrow(
            "SELECT * FROM exchange_bidders WHERE listing_id = $1 AND number = $2", listing, number
        )
        assert row is not None, f"no 竞买人 {number} on {listing}"
        return dict(row)

    async def snapshot(self, listing: str | None = None) -> Snapshot:
        """The log, the projection, and ``GET /v1/exchange/listings/{listing}`` when named."""
        assert self.db is not None
        rows = {
            table: [tuple(r) for r in await self.db.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")]
            for table in (*EXCHANGE_TABLES, *RIGHT_TABLES)
        }
        http = self.fx.client.http
        checkpoint = (await http.get("/v1/checkpoint")).text
        read = None
        if listing is not None:
            r = await http.get(f"/v1/exchange/listings/{quote(listing, safe='')}")
            assert r.status_code in (200, 404), r.text
            read = (r.status_code, r.json())
        size = int(checkpoint.splitlines()[1])  # a signed note: origin, tree size, root hash
        return Snapshot(size, checkpoint, rows, read)

    async def refused(
        self, kind: str, payload: dict[str, Any], code: str, *, key: KeyFile | None = None, status: int = 422
    ) -> dict[str, Any]:
        """Submit ``payload`` (signed by the exchange unless ``key``) in a list; assert its
        per-entry answer is the problem ``code`` with ``status`` and that the log and the
        projection are as they were. The problem."""
        listing = payload.get("listing") if isinstance(payload.get("listing"), str) else None
        before = await self.snapshot(listing)
        item = self.fx.sign(key or self.key, kind, payload)
        r = await self.fx.client.http.post("/v1/entries", json={"entries": [item]})
        assert r.status_code == 200, r.text
        (answer,) = r.json()["results"]
        assert "error" in answer, f"{kind} was accepted at seq {answer.get('seq')}, expected {code}"
        problem = answer["error"]
        assert (problem["code"], problem["status"]) == (code, status), problem
        assert problem["type"] == f"urn:rural-ledger:problem:{code}" and problem["detail"]
        after = await self.snapshot(listing)
        assert (after.size, after.checkpoint) == (before.size, before.checkpoint), "the log moved"
        assert after.listing == before.listing, f"a refused {kind} changed the listing's public read"
        for table, rows in before.rows.items():
            assert after.rows[table] == rows, f"a refused {kind} changed {table}"
        return problem  # type: ignore[no-any-return]


@asynccontextmanager
async def served_ledger(
    url: str, home_dir: Path, clock: Callable[[], datetime], origin: str = "test.rural-ledger/exchange"
) -> AsyncIterator[LedgerFixture]:
    """A new ledger served by the real app under uvicorn on a free port of 127.0.0.1, in this
    process and event loop, so that the test's ``clock`` is the ledger's; its client speaks
    HTTP over sockets with enough connections for many concurrent requests (the in-process
    test client answers one request at a time)."""
    home = Home(home_dir)
    genesis = await init_ledger(
        asyncpg_url(url), home, origin, "county", "威海市文登区", clock, rules_version=RULEBOOK.current
    )
    app = create_app(Settings(home=home, database_url=asyncpg_url(url), clock=clock))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="on", log_level="warning")
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup(sockets=[sock])  # returns once the app's lifespan started and it listens
    assert server.started, "the ledger's app did not start"
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
            fx = LedgerFixture(url, home, genesis, LedgerClient(http=http, origin=origin, clock=clock), clock)
            fx.keys["county"] = home.org_key("county")
            yield fx
    finally:
        await server.shutdown(sockets=[sock])
        sock.close()
