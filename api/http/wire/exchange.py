"""The exchange's public reads (农村产权交易): the announcement board, a listing with its full
history and proofs, the results (成交公示), and a bidder's own registration for its exchange.

In every public shape a bidder is ``"竞买人 N"`` (and its number N): never a party id, a
credit code or a name; nor is anything of the holder shown but the right itself. Amounts are
integer fen; areas integer m², with 亩 (m² × 15 / 10,000) as a decimal string to two places;
times RFC 3339 UTC, dates China Standard Time.
"""

from __future__ import annotations

from datetime import date

import msgspec

from api.http.wire.records import SignedCheckpoint


class LandTerms(msgspec.Struct, forbid_unknown_fields=True, tag="land_management"):
    """A land management right: the contract, the parcels listed, their area, the mode (lease,
    subcontract, shares) and the term; the land stays in agricultural use."""

    contract: str
    parcels: list[str]
    area_m2: int
    area_mu: str
    mode: str
    term_start: date
    term_end: date


class SharesTerms(msgspec.Struct, forbid_unknown_fields=True, tag="shares"):
    """Collective shares (income rights) of a collective, in units; to its members only."""

    collective: str
    units: int


class HomesteadTerms(msgspec.Struct, forbid_unknown_fields=True, tag="homestead"):
    """A homestead use right, to a qualifying member household of the same collective."""

    homestead: str
    area_m2: int
    area_mu: str


class AssetTerms(msgspec.Struct, forbid_unknown_fields=True, tag="collective_asset"):
    """A collective operating asset's lease, on the members' meeting's decision."""

    collective: str
    asset: str
    category: str
    term_start: date
    term_end: date


class QuotaTerms(msgspec.Struct, forbid_unknown_fields=True, tag="land_quota"):
    """A confirmed building-land quota (地票) from reclaimed collective building land, in m²."""

    quota: str
    area_m2: int
    area_mu: str


ListedTerms = LandTerms | SharesTerms | HomesteadTerms | AssetTerms | QuotaTerms


class BidderQualifications(msgspec.Struct, forbid_unknown_fields=True):
    """Who may register: members of the collective only, with agricultural capacity, entities
    of these types (none listed: any)."""

    members_only: bool
    agricultural_capacity: bool
    entity_types: list[str]


class HighBid(msgspec.Struct, forbid_unknown_fields=True):
    """The current high bid (or opened quote): its bidder, amount in the listing's unit, and
    the seq and time of the step that made it."""

    number: int
    bidder: str
    amount_fen: int
    seq: int | None
    at: str | None


class ListingResult(msgspec.Struct, forbid_unknown_fields=True):
    """The award (成交): the winner, the price in the listing's unit, the whole deal's value and
    the award's date."""

    number: int
    winner: str
    price_fen: int
    value_fen: int
    awarded_on: date


class ListingSummary(msgspec.Struct, forbid_unknown_fields=True):
    """A listing on the board (挂牌公告): the right and its public terms, reserve (in
    ``price_unit``: per_mu_year or total), increment, deposit, method (auction or sealed),
    priority model, the announcement's end and the bidding window as it stands now (late bids
    and holds move it); its status and, while announced, its ``phase`` (announcement, bidding,
    closed, held) and the seconds to the close by the service's clock (null when held or no
    longer announced); the registered bidders, the high bid, and the result once awarded."""

    id: str
    exchange: str
    township: str
    village: str
    right_type: str
    right: ListedTerms
    qualifications: BidderQualifications
    reserve_fen: int
    price_unit: str
    increment_fen: int
    deposit_fen: int
    method: str
    priority_model: str
    listed_seq: int
    listed_on: date
    announcement_ends: date
    bidding_opens_at: str
    bidding_closes_at: str
    status: str
    phase: str | None
    held: bool
    round: int
    relisting_of: str | None
    relisted_as: str | None
    bidders: int
    high_bid: HighBid | None
    closes_in_seconds: int | None
    result: ListingResult | None


class BoardPage(msgspec.Struct, forbid_unknown_fields=True):
    """Listings in id order; ``next`` is the ``after`` of the next page (null: the last)."""

    items: list[ListingSummary]
    next: str | None


class ProvenStep(msgspec.Struct, forbid_unknown_fields=True):
    """One act on the listing: its record's seq, kind and time, the bidder it concerned and
    its amount (a bid, a deposit, a price); with the record's leaf hash and its inclusion proof
    in the response's checkpoint (the record itself: ``GET /v1/entries/{seq}``)."""

    seq: int
    kind: str
    at: str
    number: int | None
    bidder: str | None
    amount_fen: int | None
    leaf_hash: str
    inclusion_proof: list[str]


class ListingDetail(ListingSummary):
    """A listing as of the last record of the checkpoint given, with every step of its history,
    each provable against that checkpoint without trusting the server."""

    as_of: int
    checkpoint: SignedCheckpoint
    steps: list[ProvenStep]


class ExchangeResult(msgspec.Struct, forbid_unknown_fields=True):
    """A listing's outcome (成交公示, or its failure or withdrawal): ``outcome`` awarded,
    failed or withdrawn, the record that decided it (``seq``, ``at``, its China date), the
    listing's status now and, when awarded, the result."""

    id: str
    exchange: str
    township: str
    village: str
    right_type: str
    right: ListedTerms
    reserve_fen: int
    price_unit: str
    outcome: str
    seq: int
    at: str
    date: date
    status: str
    result: ListingResult | None


class ResultPage(msgspec.Struct, forbid_unknown_fields=True):
    """Outcomes in the order they were recorded; ``next`` is the ``after`` of the next page."""

    items: list[ExchangeResult]
    next: int | None


class BidderDeposit(msgspec.Struct, forbid_unknown_fields=True):
    """A bidder's deposit: none, held, refunded, credited (toward the price) or forfeited
    (with the coded reason), the bank reference hash and the seqs that received and settled it."""

    state: str
    amount_fen: int
    bank_reference: str | None
    received_seq: int | None
    settled_seq: int | None
    forfeit_reason: str | None


class BidderAct(msgspec.Struct, forbid_unknown_fields=True):
    """A step of the listing that concerned the bidder: registration, deposit, bid, sealed or
    opened quote, priority match, award, default, refund."""

    seq: int
    kind: str
    at: str
    amount_fen: int | None


class BidderRegistration(msgspec.Struct, forbid_unknown_fields=True):
    """A bidder's registration as stored, for the listing's exchange centre: who it is (a party
    id, or an entity's credit code and registered name), its household, its priority right,
    its deposit, its best valid amount, its sealed quote's commitment, and every act of its."""

    listing: str
    number: int
    bidder: str
    kind: str
    party: str | None
    credit_code: str | None
    name: str | None
    household: str | None
    priority: bool
    registered_seq: int
    deposit: BidderDeposit
    best_fen: int | None
    best_seq: int | None
    sealed_commitment: str | None
    sealed_seq: int | None
    matched: bool
    acts: list[BidderAct]
