"""House vouchers (房票) and land quotas (地票) as read models: vouchers by holder, household,
developer or county; a voucher's statement as of any seq, every movement with its proof; a
developer's redemptions and what the county has settled of them; price schedules and the
developer pool; the county's and each township's totals against its targets; and land quotas
with the records that made each.

Public like the exchange board: entries are public, holders are party ids and households
household ids. Amounts are integer fen; areas integer m², with 亩 (m² × 15 / 10,000) as a
decimal string to two places; dates China Standard Time."""

from __future__ import annotations

from datetime import date

import msgspec

from api.http.wire.monitoring import Region
from api.http.wire.records import Evidence, ProvenRecord, SignedCheckpoint


class BonusTier(msgspec.Struct, forbid_unknown_fields=True):
    """Redemptions in months 1 to ``up_to_month`` of the voucher's life (after the tiers before
    it) add ``bonus_bp`` of the amount used; beyond every tier, none."""

    up_to_month: int
    bonus_bp: int


class SettlementShare(msgspec.Struct, forbid_unknown_fields=True):
    """A settlement stage (contract, registration, handover) and its share of a redemption's
    value."""

    stage: str
    share_bp: int


class VoucherTerms(msgspec.Struct, forbid_unknown_fields=True):
    """The terms copied from the county's policy when the voucher was issued (a later policy
    never alters them; a split child has its parent's): the bonus tiers, how many transfers
    (0: never; otherwise once), the share of the face that, used, pays the remainder at par at
    expiry, the floor area per person the household keeps for a transfer, the settlement
    stages."""

    bonus_tiers: list[BonusTier]
    transfers_allowed: int
    par_share_bp: int
    floor_m2_per_person: int
    settlement_stages: list[SettlementShare]


class Voucher(msgspec.Struct, forbid_unknown_fields=True):
    """A house voucher: where it comes from (the homestead, its household, the county, township
    and village), its real-name holders, its face (area × the schedule's price for the zone +
    the house's appraised value), what was used of it and the bonus granted on that, what was
    transferred out, the balance (face − used − transferred), its validity and status (active,
    spent, transferred, expired, cashed_out), the cash due at expiry, and its terms.
    ``parent`` is the voucher it was split from (generation 1)."""

    id: str
    county: str
    township: str
    village: str
    household: str
    homestead: str
    holders: list[str]
    parent: str | None
    generation: int
    schedule: str
    zone: str
    area_m2: int
    price_fen_per_m2: int
    appraisal: str
    appraisal_fen: int
    face_fen: int
    used_fen: int
    bonus_fen: int
    transferred_fen: int
    balance_fen: int
    issued_seq: int
    issued_on: date
    valid_until: date
    status: str
    cash_due_fen: int | None
    ended_seq: int | None
    redemptions: int
    terms: VoucherTerms


class VoucherPage(msgspec.Struct, forbid_unknown_fields=True):
    """Vouchers in id order; ``next`` is the ``after`` of the next page (null: the last)."""

    items: list[Voucher]
    next: str | None


class ProvenMovement(msgspec.Struct, forbid_unknown_fields=True):
    """One record that changed the voucher: its seq and kind (voucher.issued, voucher.redeemed,
    voucher.transferred out of the parent or into a child, voucher.expired,
    voucher.cashed_out), the amount it moved, the bonus it granted, the balance it left, what
    it refers to (a redemption, a child voucher, the parent), and the record's leaf hash and
    inclusion proof in the response's checkpoint (the record: ``GET /v1/entries/{seq}``)."""

    seq: int
    kind: str
    amount_fen: int
    bonus_fen: int
    balance_fen: int
    ref: str | None
    leaf_hash: str
    inclusion_proof: list[str]


class LineageVoucher(msgspec.Struct, forbid_unknown_fields=True):
    """A voucher of the same line (the parent it was split from, or a child split from it) as
    of the statement's seq, with the evidence of the record that last changed it."""

    id: str
    generation: int
    holders: list[str]
    face_fen: int
    balance_fen: int
    status: str
    evidence: Evidence


class Lineage(msgspec.Struct, forbid_unknown_fields=True):
    parent: LineageVoucher | None
    children: list[LineageVoucher]


class StageSettlement(msgspec.Struct, forbid_unknown_fields=True):
    """A settlement stage of a redemption: its share, the fen it pays (the stages' cumulative
    shares of the value, each rounded down, differenced: they sum to the value), and whether
    the county has paid it, by which record (``seq``, with its evidence when given)."""

    stage: str
    share_bp: int
    amount_fen: int
    settled: bool
    seq: int | None
    evidence: Evidence | None


class VoucherRedemption(msgspec.Struct, forbid_unknown_fields=True):
    """A redemption: the voucher spent with a developer's project against a purchase contract
    (its hash, the unit, the price), the amount used, the month of the voucher's life it fell
    in and that month's bonus, the value applied (amount + bonus), and its settlement to the
    developer stage by stage."""

    id: str
    voucher: str
    developer: str
    project: str
    county: str
    holder: str
    purchase_contract: str
    unit: str
    price_fen: int
    amount_fen: int
    month_of_voucher: int
    bonus_bp: int
    bonus_fen: int
    value_fen: int
    redeemed_seq: int
    redeemed_on: date
    settled_fen: int
    due_fen: int
    stages: list[StageSettlement]
    evidence: Evidence


class VoucherStatement(msgspec.Struct, forbid_unknown_fields=True):
    """A voucher as of ``as_of`` (its balance, what was used, the bonus granted), with the
    evidence of the record that last changed it; on ``as_of_date`` (the China date of record
    ``as_of``), the month of its life it was in and the bonus a redemption that day added
    (null unless it was redeemable); its lineage; every movement up to ``as_of`` and every
    redemption of it, each provable against the checkpoint given; ``expiry_cash_fen`` is the
    cash its remainder is (or, expiring as it stands, would be) paid in: at par when at least
    the par share of the face was used, otherwise less the bonus granted pro rata."""

    as_of: int
    as_of_date: date
    checkpoint: SignedCheckpoint
    voucher: Voucher
    evidence: Evidence
    month_of_voucher: int | None
    bonus_bp: int | None
    expiry_cash_fen: int
    lineage: Lineage
    movements: list[ProvenMovement]
    redemptions: list[VoucherRedemption]


class RedemptionTotals(msgspec.Struct, forbid_unknown_fields=True):
    """Every redemption of the developer as of the seq (not only the page's): their count, the
    amounts used, the bonus, the value applied, what the county has settled and what is due."""

    count: int
    amount_fen: int
    bonus_fen: int
    value_fen: int
    settled_fen: int
    due_fen: int


class PoolStanding(msgspec.Struct, forbid_unknown_fields=True):
    """A developer's place in its county's voucher pool: in_pool or left, and when."""

    county: str
    status: str
    admitted_seq: int
    left_seq: int | None


class DeveloperRedemptions(msgspec.Struct, forbid_unknown_fields=True):
    """A developer's redemption and settlement report as of ``as_of``: its pool standing, its
    redemptions in id order (``next``: the ``after`` of the next page) and their totals."""

    developer: Region
    as_of: int
    checkpoint: SignedCheckpoint
    pool: PoolStanding | None
    totals: RedemptionTotals
    items: list[VoucherRedemption]
    next: str | None


class ZonePrice(msgspec.Struct, forbid_unknown_fields=True):
    zone: str
    fen_per_m2: int


class PriceSchedule(msgspec.Struct, forbid_unknown_fields=True):
    """A county's construction-land quota prices per zone from ``effective_from``;
    ``in_force``: the county's schedule with the latest ``effective_from`` on or before the
    service's date, the one an issuance today uses."""

    id: str
    county: str
    effective_from: date
    prices: list[ZonePrice]
    published_seq: int
    in_force: bool


class PriceSchedulePage(msgspec.Struct, forbid_unknown_fields=True):
    """Schedules by county, then effective date; ``today`` is the service's date (China
    Standard Time)."""

    today: date
    items: list[PriceSchedule]


class PoolProject(msgspec.Struct, forbid_unknown_fields=True):
    """A developer's housing project in the pool, by its presale permit number and the area
    code where it lies (a voucher is spent only on a project in its own county)."""

    id: str
    presale_permit: str
    area_code: str
    registered_seq: int


class PoolDeveloper(msgspec.Struct, forbid_unknown_fields=True):
    """A developer admitted to a county's pool (in_pool, or left: it redeems nothing since),
    with its projects."""

    developer: str
    county: str
    status: str
    admitted_seq: int
    left_seq: int | None
    projects: list[PoolProject]


class PoolPage(msgspec.Struct, forbid_unknown_fields=True):
    """Developers in id order; ``next`` is the ``after`` of the next page."""

    items: list[PoolDeveloper]
    next: str | None


class CountFen(msgspec.Struct, forbid_unknown_fields=True):
    count: int
    fen: int


class RedeemedFigures(msgspec.Struct, forbid_unknown_fields=True):
    """Redemptions: how many, the amounts used, the bonus granted and the value applied."""

    count: int
    fen: int
    bonus_fen: int
    value_fen: int


class CountArea(msgspec.Struct, forbid_unknown_fields=True):
    count: int
    m2: int
    mu: str


class QuotaFigures(msgspec.Struct, forbid_unknown_fields=True):
    """Land quotas by status now, and cumulatively: confirmed (every quota confirmed, traded or
    used since), traded (traded or used since; the deal values), used; the proceeds split so
    far between households and collectives."""

    by_status: dict[str, int]
    confirmed: CountArea
    traded: CountArea
    traded_fen: int
    used: CountArea
    proceeds_household_fen: int
    proceeds_collective_fen: int


class VoucherFigures(msgspec.Struct, forbid_unknown_fields=True):
    """Vouchers issued (generation 0: count and face), redeemed, outstanding (active: count and
    balance), transferred (parents: count and fen passed on), expired with the cash still due,
    cashed out; cash compensations instead of a voucher; land quotas; people settled in town
    (membership status)."""

    issued: CountFen
    redeemed: RedeemedFigures
    outstanding: CountFen
    transferred: CountFen
    expired: CountFen
    cashed_out: CountFen
    cash_compensations: CountFen
    quotas: QuotaFigures
    people_settled_in_town: int


class TargetFigure(msgspec.Struct, forbid_unknown_fields=True):
    """A figure beside the county's target for it (``Policy.monitoring_targets``, set ones
    only): ``share_bp`` is actual over target in basis points, rounded down (null for a zero
    target)."""

    name: str
    target: int
    actual: int
    share_bp: int | None
    reached: bool


class VoucherRegionFigures(msgspec.Struct, forbid_unknown_fields=True):
    org: Region
    figures: VoucherFigures


class VoucherMonitoring(msgspec.Struct, forbid_unknown_fields=True):
    """The voucher and quota figures of a county or township as of ``as_of``, with each child
    organisation's (a county's townships, a township's villages), and the scope's figures
    beside its county's targets in force at that seq."""

    org: Region
    county: str
    as_of: int
    checkpoint: SignedCheckpoint
    figures: VoucherFigures
    targets: list[TargetFigure]
    children: list[VoucherRegionFigures]


class LandQuota(msgspec.Struct, forbid_unknown_fields=True):
    """A land quota (增减挂钩节余指标 / 地票): the reclaimed site (a withdrawn homestead or a
    collective building site), its area, who holds the quota (the household or collective, after
    the trade the buyer: a party id or a credit code), its status (applied, approved, accepted,
    confirmed, traded, used), the consents and documents by hash, the area measured at
    acceptance and the quota confirmed (m², and 亩), the exchange listing that traded it and the
    deal value, the proceeds' split, and the city zone it was used in (落地); each step's seq."""

    id: str
    county: str
    township: str
    village: str
    source: str
    site: str
    household: str | None
    site_area_m2: int
    holder: str
    holder_kind: str
    status: str
    holder_consent: str
    collective_consent: str
    project_document: str | None
    acceptance_document: str | None
    measured_m2: int | None
    quota_m2: int | None
    quota_mu: str | None
    listing: str | None
    value_fen: int | None
    household_fen: int | None
    collective_fen: int | None
    used_zone: str | None
    applied_seq: int
    approved_seq: int | None
    accepted_seq: int | None
    confirmed_seq: int | None
    traded_seq: int | None
    split_seq: int | None
    used_seq: int | None


class LandQuotaPage(msgspec.Struct, forbid_unknown_fields=True):
    """Quotas in id order; ``next`` is the ``after`` of the next page."""

    items: list[LandQuota]
    next: str | None


class LandQuotaDetail(LandQuota):
    """A quota as of ``as_of`` and every record up to there that changed it (application,
    approval, acceptance, confirmation, the exchange's certificate, the split, the use), each
    with its inclusion proof in the checkpoint given."""

    as_of: int
    checkpoint: SignedCheckpoint
    records: list[ProvenRecord]
