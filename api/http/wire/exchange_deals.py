"""The exchange's evidence reads: the transaction certificate (交易鉴证书) with its proof,
comparable deals for valuation, and the monitoring figures of deposits and deals.

Amounts are integer fen; areas integer m²; dates China Standard Time, times RFC 3339 UTC."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import msgspec

from api.http.wire.monitoring import Region
from api.http.wire.records import Record, SignedCheckpoint

RightType = Literal["land_management", "shares", "homestead", "collective_asset", "land_quota"]
# What a deal's unit price is per: land per 亩 per year, shares per unit, a homestead or a land quota per m²,
# a collective asset's lease per deal.
PriceBasis = Literal["per_mu_year", "per_unit", "per_m2", "per_deal"]


class CertifiedRight(msgspec.Struct, forbid_unknown_fields=True):
    """The right the certificate moved: its type, its key in the registry, the public terms it
    was listed on (the listing entry's ``right``) and its size (m² of land or homestead, share
    units, 1 asset)."""

    type: RightType
    key: str
    terms: dict[str, Any]
    quantity: int
    term_start: date | None
    term_end: date | None


class ExchangeTransferor(msgspec.Struct, forbid_unknown_fields=True):
    """Who held the right, as the ledger holds it: a household id (land, homestead), a
    party id (shares) or the collective's organisation id (a collective asset)."""

    kind: Literal["household", "party", "collective"]
    id: str


class ExchangeTransferee(msgspec.Struct, forbid_unknown_fields=True):
    """Who took the right, as the ledger holds it: a party id (with its household), or an
    entity's unified social credit code and registered name; ``bidder`` is its number on the
    listing (竞买人 N), ``priority`` whether it held a priority right."""

    kind: Literal["party", "entity"]
    id: str
    name: str | None
    household: str | None
    bidder: int
    priority: bool


class ExchangeCertificateSteps(msgspec.Struct, forbid_unknown_fields=True):
    """The seqs of the listing's steps, as of the checkpoint: ``bids`` holds bids, sealed
    quotes, their openings and priority matches; ``award`` and ``contract`` are those the
    certificate stands on; ``others`` holds the rest (extensions, holds, defaults, an award
    or contract superseded after a default); refunds may follow the certificate."""

    listing: int
    registrations: list[int]
    deposits: list[int]
    bids: list[int]
    award: int
    contract: int
    payment: int
    refunds: list[int]
    certificate: int
    others: list[int]


class ExchangeCertificate(msgspec.Struct, forbid_unknown_fields=True):
    """A transaction certificate (交易鉴证书): the deal (price in the listing's unit, the whole
    deal value, each side's fee), the parties, the steps that led to it, and the record that
    issued it with its inclusion proof in the checkpoint given, so that it verifies offline
    with the operator's key."""

    certificate_no: str
    listing: str
    relisting_of: str | None
    exchange: Region
    township: Region
    village: Region
    right: CertifiedRight
    transferor: ExchangeTransferor
    transferee: ExchangeTransferee
    method: str
    priority_model: str
    price_fen: int
    price_unit: str
    value_fen: int
    buyer_fee_fen: int
    seller_fee_fen: int
    awarded_on: date
    certified_at: str
    certified_on: date
    steps: ExchangeCertificateSteps
    record: Record
    inclusion_proof: list[str]
    checkpoint: SignedCheckpoint


class ComparableDeal(msgspec.Struct, forbid_unknown_fields=True):
    """A certified deal: what was traded, where, for how long and for how much; its unit
    price is ``unit_price_fen`` per ``price_basis``, rounded half up to the fen. The
    certificate, with its proof, is at ``/v1/exchange/certificates/{listing}``."""

    listing: str
    certificate_no: str
    certificate_seq: int
    certified_at: str
    certified_on: date
    right_type: RightType
    mode: str | None  # land: lease, subcontract or shares
    township: Region
    village: Region
    exchange: str
    area_m2: int | None
    units: int | None
    term_start: date | None
    term_end: date | None
    term_months: int | None
    method: str
    price_fen: int
    price_unit: str
    value_fen: int
    unit_price_fen: int
    price_basis: PriceBasis


class DealSummary(msgspec.Struct, forbid_unknown_fields=True):
    """The unit prices of every deal of one right type that matched (not only the page's):
    the mean is their sum over their count, and the median of an even count the mean of the
    two middle prices, each rounded half up to the fen."""

    right_type: RightType
    price_basis: PriceBasis
    count: int
    median_fen: int
    mean_fen: int
    min_fen: int
    max_fen: int
    total_value_fen: int


class ComparableDeals(msgspec.Struct, forbid_unknown_fields=True):
    """Certified deals in certificate order, as of the checkpoint; ``next`` is the ``after``
    of the next page; ``summaries`` covers every match, one per right type."""

    as_of: int
    checkpoint: SignedCheckpoint
    items: list[ComparableDeal]
    next: int | None
    summaries: list[DealSummary]


class CountAndFen(msgspec.Struct, forbid_unknown_fields=True):
    count: int
    fen: int


class DepositFigures(msgspec.Struct, forbid_unknown_fields=True):
    """Deposits by what became of them. ``received``, ``refunded`` and ``forfeited`` are the
    log's steps; ``credited`` (toward the winner's price) and ``outstanding`` (still held) the
    bidders' standing; ``balanced`` says whether received = refunded + credited + forfeited +
    outstanding, to the fen and in count, and ``difference_fen`` is received less the four."""

    received: CountAndFen
    refunded: CountAndFen
    credited: CountAndFen
    forfeited: CountAndFen
    outstanding: CountAndFen
    balanced: bool
    difference_fen: int


class ExchangeFigures(msgspec.Struct, forbid_unknown_fields=True):
    """Listings by status (and how many are held for a dispute), certified deals and their
    value, deposits, and deposits of non-winners still held after their listing's refund
    deadline."""

    listings_by_status: dict[str, int]
    listings_held: int
    deals_certified: CountAndFen
    deposits: DepositFigures
    refunds_overdue: CountAndFen


class ExchangeGroupFigures(msgspec.Struct, forbid_unknown_fields=True):
    org: Region
    figures: ExchangeFigures


class OverdueRefund(msgspec.Struct, forbid_unknown_fields=True):
    """A deposit to refund that is still held after the listing's deadline (竞买人 N)."""

    listing: str
    exchange: str
    township: str
    bidder: int
    amount_fen: int
    refunds_due: date
    days_overdue: int


class ExchangeMonitoring(msgspec.Struct, forbid_unknown_fields=True):
    """The exchange's figures for a county, township or exchange centre as of the checkpoint,
    per exchange centre and per township; refunds are overdue by the service's date
    ``today`` (China Standard Time). ``overdue`` lists the first 1,000 overdue refunds,
    oldest deadline first (``overdue_more``: there are more)."""

    org: Region
    as_of: int
    today: date
    checkpoint: SignedCheckpoint
    figures: ExchangeFigures
    exchanges: list[ExchangeGroupFigures]
    townships: list[ExchangeGroupFigures]
    overdue: list[OverdueRefund]
    overdue_more: bool
