"""County policy numbers (``policy.set``): every number DOMAIN.md marks as policy, with its
defaults until a county sets it. Rules read them with ``policy_for``; none is a constant."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from sqlalchemy import BigInteger
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from contracts.errors import RuleViolation
from contracts.orgs import Org
from contracts.registry import Payload, RecordContext, Signers, rule
from contracts.state import Change, Put, State, make
from ledger.errors import Category

Count = Annotated[int, msgspec.Meta(ge=0, le=10**12)]
BasisPoints = Annotated[int, msgspec.Meta(ge=0, le=10_000)]  # 1 bp = 0.01 %
Minutes = Annotated[int, msgspec.Meta(ge=0, le=7 * 24 * 60)]  # at most a week
WorkingDayCount = Annotated[int, msgspec.Meta(ge=0, le=250)]  # at most about a year


class FeeTier(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Marginal fee rate ``rate_bp`` on the part of a deal value up to ``up_to_fen``
    (``None``: no upper bound)."""

    up_to_fen: Count | None
    rate_bp: BasisPoints


SettlementStage = Literal["contract", "registration", "handover"]


class Targets(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The county's targets that monitoring shows its figures against (``None``: none set)."""

    vouchers_issued_fen: Count | None = None
    vouchers_redeemed_fen: Count | None = None
    quota_confirmed_m2: Count | None = None
    quota_traded_m2: Count | None = None
    quota_used_m2: Count | None = None
    people_settled_in_town: Count | None = None


class Policy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A county's policy numbers. Defaults: Shandong rules and the Weihai practice."""

    membership_notice_days: Count = 7
    homestead_cap_m2: dict[str, Count] = msgspec.field(
        default_factory=lambda: {
            "suburb": 166,
            "plain": 200,
            "plain_saline": 264,
            "hilly_flat": 132,
            "hilly_slope": 264,
        }
    )
    arable_contract_years: Count = 30
    contract_extension_years: Count = 30
    land_return_notice_months: Count = 6
    membership_certificate_valid_days: Count = 180
    collective_share_cap_bp: BasisPoints = 3000
    holder_share_cap_bp: BasisPoints = 500
    buyback_cap_bp_per_year: BasisPoints = 500
    listing_notice_working_days: Count = 7
    listing_max_days: Count = 183
    bid_increment_fen: Count = 100_00
    exchange_fee_tiers: tuple[FeeTier, ...] = (
        FeeTier(500_000_00, 130),
        FeeTier(1_000_000_00, 120),
        FeeTier(5_000_000_00, 100),
        FeeTier(10_000_000_00, 80),
        FeeTier(20_000_000_00, 50),
        FeeTier(None, 30),
    )
    exchange_fee_min_fen: Count = 200_00
    exchange_deposit_min_bp: BasisPoints = 1000  # of the deal value at the reserve
    exchange_deposit_max_bp: BasisPoints = 6000
    late_bid_extension_minutes: Minutes = 5
    # Which priority model the county's exchanges follow: in_auction_match (A), tie (B) or
    # post_close_match (C).
    priority_model: Literal["in_auction_match", "tie", "post_close_match"] = "tie"
    priority_response_minutes: Minutes = 10
    priority_match_working_days: WorkingDayCount = 3
    sealed_opening_minutes: Minutes = 120
    no_bidder_extension_working_days: WorkingDayCount = 5
    relist_reserve_step_bp: BasisPoints = 2000
    contract_working_days: WorkingDayCount = 3
    payment_working_days: WorkingDayCount = 5
    refund_working_days: WorkingDayCount = 5
    voucher_validity_months: Count = 24
    voucher_bonus_bp_by_month: tuple[tuple[Count, BasisPoints], ...] = ((12, 500), (24, 200))
    voucher_transfers_allowed: Count = 1  # 0: never; otherwise once (never again after)
    voucher_transfer_floor_m2_per_person: Count = 35  # the floor area the household keeps per person
    voucher_par_share_bp: BasisPoints = 8500  # used at least this share of face: remainder at par
    # How the county pays a developer for a redemption: each stage's share of its value.
    voucher_settlement_stages: tuple[tuple[SettlementStage, BasisPoints], ...] = (
        ("contract", 3000),
        ("registration", 4000),
        ("handover", 3000),
    )
    land_quota_household_share_bp: BasisPoints = 8500  # a withdrawn homestead's quota proceeds
    land_quota_site_household_share_bp: BasisPoints = 0  # a collective site's: all to the collective
    monitoring_targets: Targets = Targets()

    def __post_init__(self) -> None:
        stages = [name for name, _ in self.voucher_settlement_stages]
        if not stages or len(set(stages)) != len(stages):
            raise ValueError("voucher_settlement_stages name one or more stages, each once")
        if sum(bp for _, bp in self.voucher_settlement_stages) != 10_000:
            raise ValueError("voucher_settlement_stages' shares sum to 10000 bp")


DEFAULT_POLICY = Policy()


class CountyPolicy(SQLModel, table=True):
    """The policy numbers a county has set, merged over the defaults."""

    __tablename__ = "county_policies"
    county_id: str = Field(primary_key=True)
    numbers: dict[str, Any] = Field(sa_type=JSONB)
    set_seq: int = Field(sa_type=BigInteger)


TABLES = (CountyPolicy,)


class PolicySet(Payload, frozen=True):
    """The numbers to change; those not given keep their current value."""

    numbers: dict[str, Any]


def county_of(state: State, org_id: str) -> str | None:
    """The county an organisation belongs to (itself, for a county)."""
    current: str | None = org_id
    for _ in range(16):
        org = state.get(Org, current) if current else None
        if org is None:
            return None
        if org.type == "county":
            return org.id
        current = org.parent_id
    return None


def policy_for(state: State, org_id: str) -> Policy:
    """The policy in force for ``org_id``'s county."""
    county = county_of(state, org_id)
    row = state.get(CountyPolicy, county) if county else None
    return msgspec.convert(row.numbers, Policy) if row else DEFAULT_POLICY


@rule(
    "policy.set",
    PolicySet,
    prefetch=lambda p, rec: [(CountyPolicy, (rec.actor,))],
    signed_by=Signers(("county",), "the county, for itself"),
)
def set_policy(state: State, rec: RecordContext, p: PolicySet) -> list[Change]:
    """A county sets some of its policy numbers; those not given keep their value."""
    actor = state.get(Org, rec.actor)
    if actor is None or actor.type != "county":
        raise RuleViolation(
            "policy.not_a_county", "only a county sets policy numbers", category=Category.FORBIDDEN
        )
    unknown = set(p.numbers) - set(Policy.__struct_fields__)
    if unknown:
        raise RuleViolation("policy.unknown_number", f"no policy number named {sorted(unknown)}")
    current = msgspec.to_builtins(policy_for(state, rec.actor))
    try:
        merged = msgspec.convert({**current, **p.numbers}, Policy, strict=True)
    except msgspec.ValidationError as e:
        raise RuleViolation("policy.invalid", f"policy numbers: {e}") from e
    numbers = msgspec.json.decode(msgspec.json.encode(merged))  # plain JSON, as stored
    return [Put(make(CountyPolicy, county_id=rec.actor, numbers=numbers, set_seq=rec.seq))]
