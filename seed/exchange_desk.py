"""An exchange centre's acts on its listings as the seed makes them, and the seed's mirror of
each listing (its bidders, deposits, best amounts and window).

Each act is one entry signed by the centre that made the listing. The mirror exists so that the
seed names only what the rules compute: the winner and the price come from
``contracts.exchange.outcome.ranking`` over the mirrored bidders, the lottery from the listing
entry's own seed, the deal value and the buyer's fee from the rules' functions, so that every
award and payment is one the ledger accepts.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import configure_mappers

from contracts.exchange.bidding import quote_commitment
from contracts.exchange.common import lottery_seed
from contracts.exchange.outcome import deal_value, exchange_fee, ranking
from contracts.exchange.tables import Listing, ListingBidder
from contracts.policy import DEFAULT_POLICY
from contracts.registry import RecordContext
from ledger.entry import format_time
from seed.model import Household, Resident, Village

if TYPE_CHECKING:
    from seed.story import CountyStory, Intent

CST = timedelta(hours=8)
configure_mappers()  # the mirror's rows are built with model_construct, which needs them configured


def cst(day: date, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` China Standard Time on ``day``, as the ledger's UTC instant."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - CST


def document(*parts: object) -> str:
    """A stand-in hash of a paper the exchange keeps (consent, application, bank slip)."""
    return hashlib.sha256("\x1f".join(map(str, ("exchange", *parts))).encode()).hexdigest()


@dataclass(eq=False)
class SeedBidder:
    """A registered bidder (竞买人 ``number``) as the seed knows it."""

    number: int
    key: str  # the party id, or the entity's credit code
    priority: bool
    resident: Resident | None = None  # a member bidding (for a homestead: for its household)
    entity: str | None = None  # an entity's registered name
    deposit: str = "none"  # none | held | refunded | credited | forfeited
    best: int | None = None
    order: int = 0  # stands for the seq of the act that set ``best``
    matched: bool = False
    quote: tuple[int, str, int] | None = None  # a sealed quote: amount, salt, order sealed


@dataclass(eq=False)
class SeedListing:
    id: str
    exchange: str
    village: Village
    holder: Household | Resident  # the household (land, homestead) or the member (shares)
    right: dict[str, Any]
    quantity: int  # m², or share units
    reserve: int
    increment: int
    deposit: int
    price_unit: str
    method: str
    model: str  # the county's priority model when listed
    opens: datetime
    closes: datetime
    qualifications: dict[str, Any] = field(default_factory=dict)
    relisting_of: SeedListing | None = None
    entry_id: str = ""
    status: str = "announced"
    held_at: datetime | None = None
    bidders: list[SeedBidder] = field(default_factory=list)
    barred: set[str] = field(default_factory=set)
    winner: SeedBidder | None = None
    value: int = 0
    buyer_fee: int = 0
    announce_ends: date | None = None

    @property
    def right_type(self) -> str:
        return str(self.right["type"])

    @property
    def term(self) -> tuple[date, date] | None:
        if "term_start" not in self.right:
            return None
        return date.fromisoformat(self.right["term_start"]), date.fromisoformat(self.right["term_end"])

    def row(self) -> Listing:
        """What the rules' pure functions read of a listing."""
        term = self.term
        return Listing.model_construct(
            id=self.id,
            reserve_fen=self.reserve,
            price_unit=self.price_unit,
            quantity=self.quantity,
            term_start=term[0] if term else None,
            term_end=term[1] if term else None,
            barred=sorted(self.barred),
            lottery_seed=lottery_seed(
                RecordContext(0, "", self.entry_id, "exchange.listed", self.exchange, ""), self.id
            ),
        )

    def ranked(self) -> list[SeedBidder]:
        """The bidders in award order, as ``contracts.exchange.outcome.ranking`` orders them."""
        rows = [
            ListingBidder.model_construct(
                number=b.number,
                bidder=b.key,
                best_fen=b.best,
                best_seq=b.order,
                priority=b.priority,
                deposit=b.deposit,
            )
            for b in self.bidders
        ]
        by_number = {b.number: b for b in self.bidders}
        return [by_number[r.number] for r in ranking(self.row(), rows)]

    def value_at(self, price: int) -> int:
        return deal_value(self.row(), price)

    def held_deposits(self) -> list[SeedBidder]:
        return [b for b in self.bidders if b.deposit == "held"]


class Desk:
    """Emits the exchange's entries into the story's current tick and keeps the mirrors."""

    def __init__(self, story: CountyStory, seed: int, ids: random.Random) -> None:
        self.story, self.seed, self.ids = story, seed, ids
        self.orders = itertools.count(1)
        self.on_certified: Callable[[SeedListing, SeedBidder], None] = lambda listing, winner: None

    @property
    def now(self) -> datetime:
        assert self.story.tick is not None
        return self.story.tick.at

    def emit(self, listing: SeedListing, kind: str, payload: dict[str, Any]) -> Intent:
        return self.story.emit(listing.exchange, kind, {"listing": listing.id, **payload}, self.ids)

    # -- the listing as a whole -----------------------------------------------------------

    def announce(self, listing: SeedListing) -> None:
        payload: dict[str, Any] = {
            "right": listing.right,
            "consent": document(listing.id, "consent"),
            "reserve_fen": listing.reserve,
            "price_unit": listing.price_unit,
            "increment_fen": listing.increment,
            "deposit_fen": listing.deposit,
            "method": listing.method,
            "bidding_opens_at": format_time(listing.opens),
            "bidding_closes_at": format_time(listing.closes),
        }
        if listing.qualifications:
            payload["qualifications"] = listing.qualifications
        if listing.relisting_of is not None:
            payload["relisting_of"] = listing.relisting_of.id
            listing.barred = set(listing.relisting_of.barred)
        listing.entry_id = self.emit(listing, "exchange.listed", payload).id
        listing.village.counts.listings += 1

    def extend(self, listing: SeedListing, shift: timedelta, announce_ends: date) -> None:
        """No bidder came: the window moves with the announcement's new end."""
        self.emit(listing, "exchange.extended", {})
        listing.opens += shift
        listing.closes += shift
        listing.announce_ends = announce_ends

    def withdraw(self, listing: SeedListing) -> None:
        self.emit(
            listing, "exchange.withdrawn", {"reason": "holder_request", "document": document(listing.id, "w")}
        )
        listing.status = "withdrawn"

    def hold(self, listing: SeedListing, reason: str) -> None:
        self.emit(listing, "exchange.held", {"reason": reason, "document": document(listing.id, "dispute")})
        listing.held_at = self.now

    def lift(self, listing: SeedListing) -> None:
        """The dispute resolved: moments still ahead move by the time held."""
        assert listing.held_at is not None
        self.emit(listing, "exchange.hold_lifted", {"document": document(listing.id, "resolved")})
        shift = self.now - listing.held_at
        if listing.opens > listing.held_at:
            listing.opens += shift
        if listing.closes > listing.held_at:
            listing.closes += shift
        listing.held_at = None

    def fail(self, listing: SeedListing) -> None:
        self.emit(listing, "exchange.failed", {})
        listing.status = "failed"

    # -- bidders and bids -----------------------------------------------------------------

    def register(
        self, listing: SeedListing, bidder: dict[str, Any], key: str, priority: bool, **known: Any
    ) -> SeedBidder:
        b = SeedBidder(len(listing.bidders) + 1, key, priority, **known)
        payload: dict[str, Any] = {"bidder": bidder, "application": document(listing.id, key, "application")}
        if listing.right_type == "land_management":
            payload["agricultural_capacity"] = document(key, "agricultural capacity")
        self.emit(listing, "exchange.bidder_registered", payload)
        listing.bidders.append(b)
        return b

    def receive_deposit(self, listing: SeedListing, b: SeedBidder) -> None:
        self.emit(
            listing,
            "exchange.deposit_received",
            {
                "bidder": b.number,
                "amount_fen": listing.deposit,
                "bank_reference": document(listing.id, b.number, "deposit"),
            },
        )
        b.deposit = "held"

    def bid(self, listing: SeedListing, b: SeedBidder, amount: int) -> None:
        self.emit(listing, "exchange.bid", {"bidder": b.number, "amount_fen": amount})
        b.best, b.order, b.matched = amount, next(self.orders), False

    def match(self, listing: SeedListing, b: SeedBidder, amount: int) -> None:
        """A priority holder matches the high (or the final high) bid."""
        self.emit(listing, "exchange.priority_matched", {"bidder": b.number, "amount_fen": amount})
        b.best, b.order, b.matched = amount, next(self.orders), True

    def seal(self, listing: SeedListing, b: SeedBidder, amount: int) -> None:
        salt = hashlib.sha256(f"rural-ledger/seed-quote/v1\n{self.seed}\n{listing.id}\n{b.number}".encode())
        text = salt.hexdigest()[:32]
        commitment = quote_commitment(listing.id, b.number, amount, text)
        self.emit(listing, "exchange.quote_sealed", {"bidder": b.number, "commitment": commitment})
        b.quote = (amount, text, next(self.orders))

    def open_quote(self, listing: SeedListing, b: SeedBidder) -> None:
        assert b.quote is not None
        amount, salt, order = b.quote
        self.emit(listing, "exchange.quote_opened", {"bidder": b.number, "amount_fen": amount, "salt": salt})
        b.best, b.order = amount, order

    # -- from the award to the certificate ------------------------------------------------

    def award(self, listing: SeedListing) -> SeedBidder:
        """成交: to the bidder and at the price the rules rank first."""
        winner = listing.ranked()[0]
        assert winner.best is not None
        self.emit(listing, "exchange.awarded", {"bidder": winner.number, "amount_fen": winner.best})
        listing.status, listing.winner = "awarded", winner
        listing.value = listing.value_at(winner.best)
        listing.buyer_fee = exchange_fee(listing.value, DEFAULT_POLICY)
        return winner

    def refund(self, listing: SeedListing, b: SeedBidder) -> None:
        self.emit(
            listing,
            "exchange.deposit_refunded",
            {"bidder": b.number, "bank_reference": document(listing.id, b.number, "refund")},
        )
        b.deposit = "refunded"

    def refund_losers(self, listing: SeedListing, keep: SeedBidder | None = None) -> None:
        for b in listing.held_deposits():
            if b is not listing.winner and b is not keep:
                self.refund(listing, b)

    def sign_contract(self, listing: SeedListing) -> None:
        self.emit(listing, "exchange.contract_signed", {"contract": document(listing.id, "contract")})
        listing.status = "contracted"

    def confirm_payment(self, listing: SeedListing) -> None:
        """The price less the winner's deposit, plus the buyer's fee."""
        winner = listing.winner
        assert winner is not None
        amount = listing.value - listing.deposit + listing.buyer_fee
        self.emit(
            listing,
            "exchange.payment_confirmed",
            {"amount_fen": amount, "bank_reference": document(listing.id, "payment")},
        )
        winner.deposit, listing.status = "credited", "paid"

    def certify(self, listing: SeedListing, certificate_no: str) -> None:
        """交易鉴证书: the right moves to the winner."""
        assert listing.winner is not None
        self.emit(listing, "exchange.certificate_issued", {"certificate_no": certificate_no})
        listing.status = "certified"
        listing.village.counts.deals += 1
        self.on_certified(listing, listing.winner)

    def default(self, listing: SeedListing, b: SeedBidder, reason: str) -> None:
        """The deposit forfeited, the bidder barred from the relisting; a defaulting winner's
        award passes to the runner-up under tie priority, else the listing fails."""
        self.emit(
            listing,
            "exchange.defaulted",
            {"bidder": b.number, "reason": reason, "document": document(listing.id, b.number, reason)},
        )
        b.deposit = "forfeited"
        listing.barred.add(b.key)
        if listing.winner is b:
            listing.winner = None
            runner_up = listing.ranked()
            listing.status = "announced" if listing.model == "tie" and runner_up else "failed"
