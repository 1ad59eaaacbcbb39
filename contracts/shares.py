"""Share quantification (折股量化) and the powers of shares: transfer inside the collective,
paid exit by buy-back, inheritance, pledge.

Only members (active or settled in town) at the scheme date receive shares; the allocation
sums exactly to the total issued; static management by default (births and deaths change
nothing). Shares move only inside the collective; one holder stays within the county's cap;
buy-backs stay within the annual cap and retire the units; pledged units cannot move until
released; a non-member heir gets income rights only. Total units change only by
quantification and buy-back.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from contracts.assets import AssetVerification
from contracts.certificates import Certificate
from contracts.errors import RuleViolation
from contracts.households import Household, HouseholdMember, household_of, require_collective
from contracts.identifiers import InvalidIdentifier, validate_credit_code
from contracts.land import ContractId
from contracts.membership import Membership
from contracts.parties import Sha256Hex, Uuid, require_party
from contracts.policy import Policy, policy_for
from contracts.registry import Payload, RecordContext, Signers, revision, rule
from contracts.state import Change, Put, State, Where, make
from ledger.errors import Category

COLLECTIVE_HOLDER = "collective"  # the holder id of the collective share (集体股)
Units = Annotated[int, msgspec.Meta(ge=0, le=10**12)]
PositiveUnits = Annotated[int, msgspec.Meta(ge=1, le=10**12)]
MEMBER_STATUSES = frozenset({"active", "settled_in_town"})


class ShareScheme(SQLModel, table=True):
    __tablename__ = "share_schemes"
    collective_id: str = Field(primary_key=True)
    id: str
    verification_id: str
    scheme_date: date
    management: str  # static | dynamic
    issued_units: int = Field(sa_type=BigInteger)
    total_units: int = Field(sa_type=BigInteger)  # issued less units bought back
    collective_units: int = Field(sa_type=BigInteger)
    basic_units_per_member: int = Field(sa_type=BigInteger)
    labour_units_per_year: int = Field(sa_type=BigInteger)
    quantified_seq: int = Field(sa_type=BigInteger)


class ShareHolding(SQLModel, table=True):
    __tablename__ = "share_holdings"
    collective_id: str = Field(primary_key=True)
    holder: str = Field(primary_key=True)  # a party id, or "collective"
    household_id: str | None = Field(default=None, index=True)
    units: int = Field(sa_type=BigInteger)
    pledged_units: int = Field(sa_type=BigInteger)
    income_only: bool = False  # a non-member heir: income rights only


class SharePledge(SQLModel, table=True):
    __tablename__ = "share_pledges"
    id: str = Field(primary_key=True)
    collective_id: str = Field(index=True)
    holder: str
    units: int = Field(sa_type=BigInteger)
    pledgee: str
    status: str  # pledged | released
    pledged_seq: int = Field(sa_type=BigInteger)


class ShareBuyback(SQLModel, table=True):
    """Units a collective bought back in a calendar year (for the annual cap)."""

    __tablename__ = "share_buybacks"
    collective_id: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    units: int = Field(sa_type=BigInteger)


TABLES = (ShareScheme, ShareHolding, SharePledge, ShareBuyback)

# Who signs every share kind.
SHARES_COLLECTIVE = Signers(("village_collective",), "the collective whose shares they are")


class Allocation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    party: Uuid
    household: Uuid
    basic_units: Units
    labour_years: Annotated[int, msgspec.Meta(ge=0, le=100)]
    labour_units: Units


class SharesQuantified(Payload, frozen=True):
    scheme: ContractId
    verification: ContractId
    scheme_date: date
    basic_units_per_member: Units
    labour_units_per_year: Units
    collective_units: Units
    total_units: PositiveUnits
    allocations: Annotated[list[Allocation], msgspec.Meta(min_length=1, max_length=20_000)]
    management: Literal["static", "dynamic"] = "static"


class SharesTransferred(Payload, frozen=True):
    holder: Uuid
    to: Uuid
    units: PositiveUnits
    price_fen: Units
    agreement: Sha256Hex


class SharesBoughtBack(Payload, frozen=True):
    holder: Uuid
    units: PositiveUnits
    price_fen: Units
    agreement: Sha256Hex


class SharesInherited(Payload, frozen=True):
    deceased: Uuid
    heir: Uuid
    units: PositiveUnits
    evidence: Sha256Hex


class SharesPledged(Payload, frozen=True):
    pledge: ContractId
    holder: Uuid
    units: PositiveUnits
    pledgee: str  # the lender's unified social credit code (a bank, never a person)
    contract: Sha256Hex


class PledgeReleased(Payload, frozen=True):
    pledge: ContractId


def scheme_of(state: State, collective_id: str) -> ShareScheme:
    scheme = state.get(ShareScheme, collective_id)
    if scheme is None:
        raise RuleViolation("shares.not_quantified", f"{collective_id} has not quantified shares")
    return scheme


def holding_of(state: State, collective_id: str, holder: str) -> ShareHolding:
    h = state.get(ShareHolding, collective_id, holder)
    if h is None or h.units == 0:
        raise RuleViolation("shares.no_holding", f"{holder} holds no shares of {collective_id}")
    return h


def is_member(state: State, party: str, collective_id: str) -> bool:
    m = state.get(Membership, party)
    return m is not None and m.collective_id == collective_id and m.status in MEMBER_STATUSES


def take_units(h: ShareHolding, units: int) -> ShareHolding:
    """``h`` less ``units`` free (unpledged) units, or the violation that forbids it."""
    if units > h.units:
        raise RuleViolation("shares.insufficient_units", f"{h.holder} holds {h.units} units")
    if units > h.units - h.pledged_units:
        raise RuleViolation(
            "shares.units_pledged",
            f"{h.pledged_units} of {h.holder}'s {h.units} units are pledged; "
            "pledged units cannot move until released",
        )
    return h.model_copy(update={"units": h.units - units})


def give_units(
    state: State, scheme: ShareScheme, policy: Policy, to: str, units: int, *, income_only: bool
) -> ShareHolding:
    """The receiving holding, within the per-holder cap."""
    current = state.get(ShareHolding, scheme.collective_id, to)
    held = current.units if current else 0
    if (held + units) * 10_000 > policy.holder_share_cap_bp * scheme.total_units:
        raise RuleViolation(
            "shares.over_holder_cap",
            f"{to} would hold {held + units} of {scheme.total_units} units, over "
            f"the {policy.holder_share_cap_bp / 100:g}% cap",
        )
    household = state.get(HouseholdMember, to)
    if current is None:
        return make(
            ShareHolding,
            collective_id=scheme.collective_id,
            holder=to,
            household_id=household.household_id if household else None,
            units=units,
            pledged_units=0,
            income_only=income_only,
        )
    return current.model_copy(
        update={"units": held + units, "income_only": current.income_only and income_only}
    )


def _check_allocation(state: State, p: SharesQuantified, collective_id: str) -> None:
    seen: set[str] = set()
    for a in p.allocations:
        if a.party in seen:
            raise RuleViolation("shares.duplicate_holder", f"{a.party} is allocated twice")
        seen.add(a.party)
        m = state.get(Membership, a.party)
        if (
            m is None
            or m.collective_id != collective_id
            or m.status not in MEMBER_STATUSES
            or m.notice_end > p.scheme_date
        ):
            raise RuleViolation(
                "shares.not_a_member", f"{a.party} was not a member of {collective_id} on {p.scheme_date}"
            )
        hm = state.get(HouseholdMember, a.party)
        if hm is None or hm.household_id != a.household:
            raise RuleViolation("household.not_a_member", f"{a.party} is not in {a.household}")
        if a.basic_units != p.basic_units_per_member:
            raise RuleViolation(
                "shares.basic_units_unequal",
                f"every member's basic share is {p.basic_units_per_member} units",
            )
        if a.labour_units != a.labour_years * p.labour_units_per_year:
            raise RuleViolation(
                "shares.labour_rule_mismatch",
                f"{a.labour_years} labour years give "
                f"{a.labour_years * p.labour_units_per_year} units, not {a.labour_units}",
            )
    allocated = sum(a.basic_units + a.labour_units for a in p.allocations) + p.collective_units
    if allocated != p.total_units:
        raise RuleViolation(
            "shares.allocation_mismatch",
            f"allocations and the collective share sum to {allocated}, not the {p.total_units} issued",
        )


@rule(
    "shares.quantified",
    SharesQuantified,
    prefetch=lambda p, rec: [
        (ShareScheme, (rec.actor,)),
        (AssetVerification, (p.verification,)),
        *((Membership, (a.party,)) for a in p.allocations),
        *((HouseholdMember, (a.party,)) for a in p.allocations),
    ],
    signed_by=SHARES_COLLECTIVE,
)
def quantify(state: State, rec: RecordContext, p: SharesQuantified) -> list[Change]:
    """The collective quantifies its net operating assets into shares (折股量化) held by its members."""
    require_collective(state, rec.actor)
    if state.get(ShareScheme, rec.actor) is not None:
        raise RuleViolation("shares.already_quantified", f"{rec.actor} has quantified shares")
    verification = state.get(AssetVerification, p.verification)
    if verification is None or verification.collective_id != rec.actor:
        raise RuleViolation("assets.unknown", f"no asset verification {p.verification}")
    if verification.superseded_by is not None:
        raise RuleViolation(
            "shares.verification_superseded",
            f"{p.verification} was superseded by {verification.superseded_by}",
        )
    if verification.net_operating_fen <= 0:
        raise RuleViolation("shares.no_operating_assets", "no net operating assets to quantify")
    if p.scheme_date > rec.local_date:
        raise RuleViolation("shares.future_scheme_date", "the scheme date is in the future")
    policy = policy_for(state, rec.actor)
    if p.collective_units * 10_000 > policy.collective_share_cap_bp * p.total_units:
        raise RuleViolation(
            "shares.collective_share_over_cap",
            f"the collective share may be at most {policy.collective_share_cap_bp / 100:g}% of the total",
        )
    _check_allocation(state, p, rec.actor)
    changes: list[Change] = [
        Put(
            make(
                ShareScheme,
                collective_id=rec.actor,
                id=p.scheme,
                verification_id=p.verification,
                scheme_date=p.scheme_date,
                management=p.management,
                issued_units=p.total_units,
                total_units=p.total_units,
                collective_units=p.collective_units,
                basic_units_per_member=p.basic_units_per_member,
                labour_units_per_year=p.labour_units_per_year,
                quantified_seq=rec.seq,
            )
        )
    ]
    if p.collective_units:
        changes.append(
            Put(
                make(
                    ShareHolding,
                    collective_id=rec.actor,
                    holder=COLLECTIVE_HOLDER,
                    household_id=None,
                    units=p.collective_units,
                    pledged_units=0,
                    income_only=False,
                )
            )
        )
    for a in p.allocations:
        changes.append(
            Put(
                make(
                    ShareHolding,
                    collective_id=rec.actor,
                    holder=a.party,
                    household_id=a.household,
                    units=a.basic_units + a.labour_units,
                    pledged_units=0,
                    income_only=False,
                )
            )
        )
    return changes


@rule(
    "shares.transferred",
    SharesTransferred,
    prefetch=lambda p, rec: [
        (ShareScheme, (rec.actor,)),
        (Membership, (p.to,)),
        (HouseholdMember, (p.to,)),
        (ShareHolding, (rec.actor, p.holder)),
        (ShareHolding, (rec.actor, p.to)),
    ],
    signed_by=SHARES_COLLECTIVE,
)
def transfer_shares(state: State, rec: RecordContext, p: SharesTransferred) -> list[Change]:
    """A holder transfers shares to another member of the collective, within the holder cap."""
    require_collective(state, rec.actor)
    scheme = scheme_of(state, rec.actor)
    if p.holder == p.to:
        raise RuleViolation("shares.same_holder", "a transfer is between two holders")
    if not is_member(state, p.to, rec.actor):
        raise RuleViolation(
            "shares.transferee_not_member", "shares are transferred only to members of the same collective"
        )
    source = take_units(holding_of(state, rec.actor, p.holder), p.units)
    target = give_units(state, scheme, policy_for(state, rec.actor), p.to, p.units, income_only=False)
    return [Put(source), Put(target)]


@rule(
    "shares.bought_back",
    SharesBoughtBack,
    prefetch=lambda p, rec: [(ShareScheme, (rec.actor,)), (ShareHolding, (rec.actor, p.holder))],
    signed_by=SHARES_COLLECTIVE,
)
def buy_back(state: State, rec: RecordContext, p: SharesBoughtBack) -> list[Change]:
    """The collective buys back a holder's shares (paid exit) within the annual cap, retiring the units."""
    require_collective(state, rec.actor)
    scheme = scheme_of(state, rec.actor)
    source = take_units(holding_of(state, rec.actor, p.holder), p.units)
    year = rec.local_date.year
    so_far = state.get(ShareBuyback, rec.actor, year)
    bought = (so_far.units if so_far else 0) + p.units
    cap_bp = policy_for(state, rec.actor).buyback_cap_bp_per_year
    if bought * 10_000 > cap_bp * scheme.issued_units:
        raise RuleViolation(
            "shares.buyback_over_annual_cap",
            f"buy-backs in {year} would reach {bought} units, over "
            f"{cap_bp / 100:g}% of the {scheme.issued_units} issued",
        )
    return [
        Put(source),
        Put(scheme.model_copy(update={"total_units": scheme.total_units - p.units})),
        Put(make(ShareBuyback, collective_id=rec.actor, year=year, units=bought)),
    ]


@rule(
    "shares.inherited",
    SharesInherited,
    prefetch=lambda p, rec: [
        (Membership, (p.deceased,)),
        (ShareHolding, (rec.actor, p.deceased)),
        (ShareHolding, (rec.actor, p.heir)),
        (HouseholdMember, (p.heir,)),
    ],
    signed_by=SHARES_COLLECTIVE,
)
def inherit_shares(state: State, rec: RecordContext, p: SharesInherited) -> list[Change]:
    """A deceased member's shares pass to an heir; a non-member heir gets income rights only."""
    require_collective(state, rec.actor)
    scheme = scheme_of(state, rec.actor)
    m = state.get(Membership, p.deceased)
    if m is None or m.ended_reason != "death":
        raise RuleViolation("shares.holder_not_deceased", f"{p.deceased}'s membership did not end by death")
    require_party(state, p.heir)
    source = take_units(holding_of(state, rec.actor, p.deceased), p.units)
    target = give_units(
        state,
        scheme,
        policy_for(state, rec.actor),
        p.heir,
        p.units,
        income_only=not is_member(state, p.heir, rec.actor),
    )
    return [Put(source), Put(target)]


@revision(inherit_shares, version=2, signed_by=SHARES_COLLECTIVE)
def inherit_shares_v2(state: State, rec: RecordContext, p: SharesInherited) -> list[Change]:
    """Version 2: an heir is someone other than the deceased (under version 1 naming the
    deceased as heir added the units to their own holding, beyond the total issued)."""
    if p.heir == p.deceased:
        raise RuleViolation("shares.same_holder", "the heir cannot be the deceased")
    return list(inherit_shares.apply(state, rec, p))


@rule(
    "shares.pledged",
    SharesPledged,
    prefetch=lambda p, rec: [(SharePledge, (p.pledge,)), (ShareHolding, (rec.actor, p.holder))],
    signed_by=SHARES_COLLECTIVE,
)
def pledge_shares(state: State, rec: RecordContext, p: SharesPledged) -> list[Change]:
    """A holder pledges free units to a lender; they cannot move until the pledge is released."""
    require_collective(state, rec.actor)
    try:
        validate_credit_code(p.pledgee)
    except InvalidIdentifier as e:
        raise RuleViolation("payload.invalid", f"pledgee: {e}", category=Category.INVALID) from e
    if state.get(SharePledge, p.pledge) is not None:
        raise RuleViolation("shares.pledge_exists", f"pledge {p.pledge} exists")
    h = holding_of(state, rec.actor, p.holder)
    take_units(h, p.units)  # the units must be free
    return [
        Put(h.model_copy(update={"pledged_units": h.pledged_units + p.units})),
        Put(
            make(
                SharePledge,
                id=p.pledge,
                collective_id=rec.actor,
                holder=p.holder,
                units=p.units,
                pledgee=p.pledgee,
                status="pledged",
                pledged_seq=rec.seq,
            )
        ),
    ]


@revision(pledge_shares, version=2, signed_by=SHARES_COLLECTIVE)
def pledge_shares_v2(state: State, rec: RecordContext, p: SharesPledged) -> list[Change]:
    """Version 2: a holding with income rights only (a non-member heir's) receives dividends
    and may be sold to a member or bought back by the collective; it is never pledged."""
    changes = list(pledge_shares.apply(state, rec, p))
    if holding_of(state, rec.actor, p.holder).income_only:
        raise RuleViolation(
            "shares.income_only",
            f"{p.holder} holds income rights only: such a holding is never pledged",
        )
    return changes


@rule(
    "shares.pledge_released",
    PledgeReleased,
    prefetch=lambda p, rec: [(SharePledge, (p.pledge,))],
    signed_by=SHARES_COLLECTIVE,
)
def release_pledge(state: State, rec: RecordContext, p: PledgeReleased) -> list[Change]:
    """A pledge is released and its units are free again."""
    pledge = state.get(SharePledge, p.pledge)
    if pledge is None or pledge.collective_id != rec.actor or pledge.status != "pledged":
        raise RuleViolation("shares.no_pledge", f"no open pledge {p.pledge}")
    h = holding_of(state, rec.actor, pledge.holder)
    return [
        Put(h.model_copy(update={"pledged_units": h.pledged_units - pledge.units})),
        Put(pledge.model_copy(update={"status": "released"})),
    ]


class ShareCertificateIssued(Payload, frozen=True):
    certificate: ContractId
    household: Uuid
    holdings: dict[str, Units]


def household_holdings(state: State, collective_id: str, household_id: str) -> dict[str, int]:
    return {
        h.holder: h.units
        for h in state.find(ShareHolding, household_id=household_id)
        if h.collective_id == collective_id and h.units > 0
    }


@rule(
    "shares.certificate_issued",
    ShareCertificateIssued,
    prefetch=lambda p, rec: [
        (Certificate, (p.certificate,)),
        (Household, (p.household,)),
        Where(ShareHolding, "household_id", p.household),
    ],
    signed_by=SHARES_COLLECTIVE,
)
def issue_share_certificate(state: State, rec: RecordContext, p: ShareCertificateIssued) -> list[Change]:
    """A household's share certificate: the holdings it lists must be what the ledger holds."""
    require_collective(state, rec.actor)
    household_of(state, p.household, rec.actor)
    held = household_holdings(state, rec.actor, p.household)
    if dict(p.holdings) != held:
        raise RuleViolation(
            "shares.certificate_mismatch",
            f"the certificate lists {dict(p.holdings)}; the ledger holds {held}",
        )
    if state.get(Certificate, p.certificate) is not None:
        raise RuleViolation("certificate.exists", f"certificate {p.certificate} exists")
    return [
        Put(
            make(
                Certificate,
                id=p.certificate,
                kind="shares",
                issuer_id=rec.actor,
                collective_id=rec.actor,
                household_id=p.household,
                scope="household",
                persons=sorted(held),
                rights={"shares": held},
                issued_seq=rec.seq,
                valid_until=None,
                membership_certificate=None,
            )
        )
    ]
