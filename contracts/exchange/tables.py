"""The exchange's projection tables: listings, their registered bidders and every step."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

# A listing's status. ``announced``: open for registration and (from its window) bids;
# ``awarded``, ``contracted``, ``paid``: the deal on its way to the certificate; ``certified``:
# the right moved; ``failed`` (流拍, a relisting may follow) and ``withdrawn``: ended unsold.
OPEN = frozenset({"announced", "awarded", "contracted", "paid"})
ENDED = frozenset({"certified", "failed", "withdrawn"})


class Listing(SQLModel, table=True):
    """A listing (挂牌) and where it stands. Times are RFC 3339 UTC strings, as the ledger's clock
    writes them; dates are China Standard Time."""

    __tablename__ = "exchange_listings"
    id: str = Field(primary_key=True)
    exchange_id: str = Field(index=True)
    county_id: str = Field(index=True)
    township_id: str = Field(index=True)
    collective_id: str = Field(index=True)
    right_type: str = Field(index=True)  # land_management | shares | homestead | collective_asset
    right_key: str = Field(index=True)  # the right listed: contract, holding, homestead or asset
    right: dict[str, Any] = Field(sa_type=JSONB)
    holder: str  # a household id, a party id, or the collective's org id
    consent: str
    quantity: int = Field(sa_type=BigInteger)  # m² of land or homestead, share units, 1 asset
    term_start: date | None = None
    term_end: date | None = None
    reserve_fen: int = Field(sa_type=BigInteger)
    price_unit: str  # per_mu_year | total
    increment_fen: int = Field(sa_type=BigInteger)
    deposit_fen: int = Field(sa_type=BigInteger)
    method: str  # auction | sealed
    priority_model: str  # in_auction_match | tie | post_close_match
    qualifications: dict[str, Any] = Field(sa_type=JSONB)
    priority_collective: str | None = None  # its members in force have priority
    priority_tenant: str | None = None  # the sitting tenant (party id or credit code)
    lottery_seed: str
    listed_seq: int = Field(sa_type=BigInteger)
    listed_on: date
    announce_ends: date
    opens_at: str
    closes_at: str  # moved by late bids and by holds
    extension_minutes: int
    extensions: int = 0  # announcement cycles added for want of bidders
    status: str = Field(index=True)
    held_at: str | None = None
    hold_document: str | None = None
    round: int = 1
    relisting_of: str | None = None
    relisted_as: str | None = None
    barred: list[str] = Field(default_factory=list, sa_type=JSONB)  # bidders barred (defaulters)
    bidders: int = 0
    bids: int = 0
    first_bid_seq: int | None = Field(default=None, sa_type=BigInteger)
    high_bidder: int | None = None  # 竞买人 number
    high_fen: int | None = Field(default=None, sa_type=BigInteger)
    high_at: str | None = None
    high_priority: bool = False
    match_until: str | None = None  # in-auction matching: the response window of the last outside bid
    winner: int | None = None
    price_fen: int | None = Field(default=None, sa_type=BigInteger)  # in the listing's unit
    value_fen: int | None = Field(default=None, sa_type=BigInteger)  # the whole deal
    buyer_fee_fen: int | None = Field(default=None, sa_type=BigInteger)
    seller_fee_fen: int | None = Field(default=None, sa_type=BigInteger)
    awarded_on: date | None = None
    contract_due: date | None = None
    contract_document: str | None = None
    payment_due: date | None = None
    refunds_due: date | None = None
    paid_seq: int | None = Field(default=None, sa_type=BigInteger)
    certificate_no: str | None = None
    certificate_seq: int | None = Field(default=None, sa_type=BigInteger)
    ended_seq: int | None = Field(default=None, sa_type=BigInteger)


class ListingBidder(SQLModel, table=True):
    """A bidder registered and qualified for one listing, shown in public as 竞买人 ``number``."""

    __tablename__ = "exchange_bidders"
    listing_id: str = Field(primary_key=True)
    number: int = Field(primary_key=True)
    bidder: str = Field(index=True)  # a party id, or an entity's unified social credit code
    bidder_kind: str  # party | entity
    bidder_name: str | None = None  # an entity's registered name (never a person's)
    household_id: str | None = None
    priority: bool = False
    registered_seq: int = Field(sa_type=BigInteger)
    deposit: str = "none"  # none | held | refunded | credited | forfeited
    deposit_fen: int = Field(default=0, sa_type=BigInteger)
    deposit_ref: str | None = None
    deposit_seq: int | None = Field(default=None, sa_type=BigInteger)
    settled_seq: int | None = Field(default=None, sa_type=BigInteger)  # refund, credit or forfeit
    forfeit_reason: str | None = None
    best_fen: int | None = Field(default=None, sa_type=BigInteger)  # its best valid bid or quote
    best_seq: int | None = Field(default=None, sa_type=BigInteger)
    sealed: str | None = None  # a sealed quote's commitment
    sealed_seq: int | None = Field(default=None, sa_type=BigInteger)
    matched: bool = False  # it exercised its priority at ``best_fen``


class ListingStep(SQLModel, table=True):
    """Every entry that acted on a listing, in seq order: its history and the certificate's
    evidence."""

    __tablename__ = "exchange_steps"
    listing_id: str = Field(primary_key=True)
    seq: int = Field(primary_key=True, sa_type=BigInteger)
    kind: str
    at: str
    bidder: int | None = None
    amount_fen: int | None = Field(default=None, sa_type=BigInteger)


TABLES = (Listing, ListingBidder, ListingStep)
