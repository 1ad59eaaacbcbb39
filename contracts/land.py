"""Contracted land (土地承包经营权): ownership stays with the collective, the contracting right
with the household, and the management right may be transferred.

Kinds: ``land.contract_issued``, ``land.contract_extended``, ``land.management_transferred``
(lease, sub-contract or contribution as shares; filed with the collective; term within the
remaining contract term; agricultural use unchanged), ``land.contracting_right_transferred``
and ``land.contracts_exchanged`` (only between member households of the same collective, with
its consent), ``land.returned`` (voluntary, with written notice).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from sqlalchemy import BigInteger
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from contracts.errors import RuleViolation
from contracts.households import Household, HouseholdMember, household_of, require_collective
from contracts.identifiers import InvalidIdentifier, validate_credit_code, validate_parcel_code
from contracts.membership import HOLDING, IN_FORCE, Membership
from contracts.parties import Party, Sha256Hex, Uuid
from contracts.policy import policy_for
from contracts.registry import Payload, RecordContext, Signers, revision, rule
from contracts.state import Change, Put, State, Where, make

Area = Annotated[int, msgspec.Meta(ge=1, le=10_000_000)]  # square metres
ContractId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
# A certificate number is a code: ASCII letters, digits and separators, or the real-estate register's
# form 鲁(2020)文登区不动产权第0001234号 (province, year, county-level area, serial); never free text.
CertificateNo = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(?:[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}"
        r"|[\u4e00-\u9fff]\([0-9]{4}\)[\u4e00-\u9fff]{1,12}[区县市]不动产权第[0-9]{7,10}号)$"
    ),
]
# A side of a parcel's 四至: the neighbouring parcel's 19-digit code or a feature, never free text
# (a written 四至 often names the neighbour, and the log cannot be erased).
BOUNDARY_FEATURES = ("road", "ditch", "river", "hill", "collective_land", "village_border", "other")
Boundary = Annotated[str, msgspec.Meta(pattern=rf"^(?:[0-9]{{19}}|{'|'.join(BOUNDARY_FEATURES)})$")]


class LandContract(SQLModel, table=True):
    __tablename__ = "land_contracts"
    id: str = Field(primary_key=True)
    collective_id: str = Field(index=True)
    household_id: str = Field(index=True)
    certificate_no: str
    term_start: date
    term_end: date
    status: str = "active"  # active | returned
    issued_seq: int = Field(sa_type=BigInteger)
    returned_on: date | None = None


class Parcel(SQLModel, table=True):
    __tablename__ = "parcels"
    code: str = Field(primary_key=True)  # 19 digits under the village code
    contract_id: str = Field(index=True)
    area_m2: int
    land_class: str
    boundaries: dict[str, Any] = Field(sa_type=JSONB)


class ManagementTransfer(SQLModel, table=True):
    __tablename__ = "management_transfers"
    id: str = Field(primary_key=True)
    contract_id: str = Field(index=True)
    mode: str  # lease | subcontract | shares
    transferee: str  # a party id, or an entity's unified social credit code
    transferee_name: str | None = None  # an entity's registered name (never a person's)
    parcels: list[str] = Field(sa_type=JSONB)
    term_start: date
    term_end: date
    filed_seq: int = Field(sa_type=BigInteger)


TABLES = (LandContract, Parcel, ManagementTransfer)

# Who signs every land kind: the collective owns the land and files every change of its contracts.
CONTRACTING_COLLECTIVE = Signers(("village_collective",), "the village collective that contracts the land")


class Boundaries(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    east: Boundary
    south: Boundary
    west: Boundary
    north: Boundary


class ParcelSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: str
    area_m2: Area
    land_class: Literal["arable", "garden", "forest", "grassland", "other"]
    boundaries: Boundaries


class ContractIssued(Payload, frozen=True):
    contract: ContractId
    household: Uuid
    certificate_no: CertificateNo
    term_start: date
    term_end: date
    parcels: Annotated[list[ParcelSpec], msgspec.Meta(min_length=1, max_length=200)]


class ContractExtended(Payload, frozen=True):
    contract: ContractId
    term_end: date


class PartyTransferee(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="party"):
    """A registered person (by party id: a person's name never enters the ledger)."""

    party: Uuid


class EntityTransferee(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="entity"):
    """A cooperative, family farm or company, by its unified social credit code."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    credit_code: str


class ManagementTransferred(Payload, frozen=True):
    transfer: ContractId
    contract: ContractId
    mode: Literal["lease", "subcontract", "shares"]
    transferee: PartyTransferee | EntityTransferee
    parcels: Annotated[list[str], msgspec.Meta(min_length=1, max_length=200)]
    term_start: date
    term_end: date
    agricultural_use: bool
    written_contract: Sha256Hex
    household_consent: Sha256Hex


class ContractingRightTransferred(Payload, frozen=True):
    contract: ContractId
    to_household: Uuid
    consent: Sha256Hex


class ContractsExchanged(Payload, frozen=True):
    contract: ContractId
    parcels: Annotated[list[str], msgspec.Meta(min_length=1)]
    other_contract: ContractId
    other_parcels: Annotated[list[str], msgspec.Meta(min_length=1)]
    consent: Sha256Hex


class LandReturned(Payload, frozen=True):
    contract: ContractId
    notice_date: date
    effective_date: date


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    for day in (d.day, 30, 29, 28):
        try:
            return d.replace(year=d.year + y, month=m + 1, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def contract_of(state: State, contract_id: str, collective_id: str) -> LandContract:
    c = state.get(LandContract, contract_id)
    if c is None or c.collective_id != collective_id:
        raise RuleViolation("land.unknown_contract", f"no contract {contract_id} issued by {collective_id}")
    if c.status != "active":
        raise RuleViolation("land.contract_not_active", f"contract {contract_id} is {c.status}")
    return c


def is_member_household(state: State, household_id: str) -> bool:
    """True when at least one person of the household is a member of its collective."""
    household = state.get(Household, household_id)
    if household is None or household.status != "active":
        return False
    for person in state.find(HouseholdMember, household_id=household_id):
        m = state.get(Membership, person.party_id)
        if m is not None and m.collective_id == household.collective_id and m.status in HOLDING:
            return True
    return False


def memberships_in_force(state: State, household_id: str) -> list[Membership]:
    """The memberships in force (active, or settled in town with rights retained) that the
    household's people hold in the household's own collective. Rule version 2 and later."""
    household = state.get(Household, household_id)
    if household is None or household.status != "active":
        return []
    found = []
    for person in state.find(HouseholdMember, household_id=household_id):
        m = state.get(Membership, person.party_id)
        if m is not None and m.collective_id == household.collective_id and m.status in IN_FORCE:
            found.append(m)
    return found


def require_member_in_force(state: State, household_id: str, code: str, what: str) -> list[Membership]:
    """The household's memberships in force; ``code`` when it has none (``what`` names the act)."""
    found = memberships_in_force(state, household_id)
    if not found:
        raise RuleViolation(code, f"{what} goes only to a household with at least one member in force")
    return found


def household_reads(household_id: str) -> list[Where]:
    """Prefetch hints for ``memberships_in_force``: the household's people (their memberships
    are read by key once the people are known)."""
    return [Where(HouseholdMember, "household_id", household_id)]


def member_household(
    state: State, household_id: str, collective_id: str, refusal: RuleViolation
) -> Household:
    """The household, if it is a member household of ``collective_id``; else ``refusal``."""
    household = state.get(Household, household_id)
    if (
        household is None
        or household.collective_id != collective_id
        or not is_member_household(state, household_id)
    ):
        raise refusal
    return household


def parcels_of(state: State, contract_id: str, codes: list[str]) -> list[Parcel]:
    found = []
    for code in codes:
        parcel = state.get(Parcel, code)
        if parcel is None or parcel.contract_id != contract_id:
            raise RuleViolation(
                "land.parcel_not_in_contract", f"parcel {code} is not in contract {contract_id}"
            )
        found.append(parcel)
    return found


@rule(
    "land.contract_issued",
    ContractIssued,
    prefetch=lambda p, rec: [
        (LandContract, (p.contract,)),
        (Household, (p.household,)),
        Where(LandContract, "household_id", p.household),
        *((Parcel, (x.code,)) for x in p.parcels),
    ],
    signed_by=CONTRACTING_COLLECTIVE,
)
def issue_contract(state: State, rec: RecordContext, p: ContractIssued) -> list[Change]:
    """The collective contracts land to a household: the contract, its term, its parcels and their 四至."""
    collective = require_collective(state, rec.actor)
    household_of(state, p.household, rec.actor)
    if state.get(LandContract, p.contract) is not None:
        raise RuleViolation("land.contract_exists", f"contract {p.contract} exists")
    policy = policy_for(state, rec.actor)
    if p.term_end <= p.term_start:
        raise RuleViolation("land.bad_term", "a term ends after it starts")
    arable = any(x.land_class == "arable" for x in p.parcels)
    if arable and p.term_end > add_years(p.term_start, policy.arable_contract_years):
        raise RuleViolation(
            "land.term_too_long", f"arable land is contracted for {policy.arable_contract_years} years"
        )
    for old in state.find(LandContract, household_id=p.household):
        if old.status == "returned" and old.term_end > rec.local_date:
            raise RuleViolation(
                "land.returned_no_new_land",
                f"the household returned {old.id}; no new land before {old.term_end}",
            )
    changes: list[Change] = [
        Put(
            make(
                LandContract,
                id=p.contract,
                collective_id=rec.actor,
                household_id=p.household,
                certificate_no=p.certificate_no,
                term_start=p.term_start,
                term_end=p.term_end,
                status="active",
                issued_seq=rec.seq,
                returned_on=None,
            )
        )
    ]
    for spec in p.parcels:
        try:
            validate_parcel_code(spec.code, collective.area_code or "")
        except InvalidIdentifier as e:
            raise RuleViolation("land.invalid_parcel_code", str(e)) from e
        held = state.get(Parcel, spec.code)
        if held is not None:
            raise RuleViolation(
                "land.parcel_taken", f"parcel {spec.code} is under contract {held.contract_id}"
            )
        changes.append(
            Put(
                make(
                    Parcel,
                    code=spec.code,
                    contract_id=p.contract,
                    area_m2=spec.area_m2,
                    land_class=spec.land_class,
                    boundaries=msgspec.to_builtins(spec.boundaries),
                )
            )
        )
    if len({x.code for x in p.parcels}) != len(p.parcels):
        raise RuleViolation("land.parcel_taken", "a parcel is listed twice")
    return changes


@revision(
    issue_contract,
    version=2,
    reads=lambda p, rec: household_reads(p.household),
    signed_by=CONTRACTING_COLLECTIVE,
)
def issue_contract_v2(state: State, rec: RecordContext, p: ContractIssued) -> list[Change]:
    """Version 2: land is contracted only to a household with at least one member in force."""
    changes = list(issue_contract.apply(state, rec, p))
    require_member_in_force(state, p.household, "land.household_without_members", "a land contract")
    return changes


@rule(
    "land.contract_extended",
    ContractExtended,
    prefetch=lambda p, rec: [(LandContract, (p.contract,))],
    signed_by=CONTRACTING_COLLECTIVE,
)
def extend_contract(state: State, rec: RecordContext, p: ContractExtended) -> list[Change]:
    """A land contract's term is extended, by at most the county's extension years."""
    c = contract_of(state, p.contract, rec.actor)
    years = policy_for(state, rec.actor).contract_extension_years
    if not c.term_end < p.term_end <= add_years(c.term_end, years):
        raise RuleViolation(
            "land.bad_extension", f"an extension runs past {c.term_end} by at most {years} years"
        )
    return [Put(c.model_copy(update={"term_end": p.term_end}))]


@rule(
    "land.management_transferred",
    ManagementTransferred,
    prefetch=lambda p, rec: [
        (LandContract, (p.contract,)),
        (ManagementTransfer, (p.transfer,)),
        Where(ManagementTransfer, "contract_id", p.contract),
        *((Parcel, (code,)) for code in p.parcels),
    ],
    signed_by=CONTRACTING_COLLECTIVE,
)
def transfer_management(state: State, rec: RecordContext, p: ManagementTransferred) -> list[Change]:
    """The management right of contracted parcels is leased, sub-contracted or contributed as shares,
    filed with the collective."""
    c = contract_of(state, p.contract, rec.actor)
    if state.get(ManagementTransfer, p.transfer) is not None:
        raise RuleViolation("land.transfer_exists", f"transfer {p.transfer} exists")
    if not p.agricultural_use:
        raise RuleViolation(
            "land.use_change_forbidden", "a management-right transfer keeps the land in agricultural use"
        )
    if not p.term_start < p.term_end:
        raise RuleViolation("land.bad_term", "a term ends after it starts")
    if p.term_end > c.term_end:
        raise RuleViolation(
            "land.term_exceeds_contract",
            f"the transfer ends {p.term_end}, after the contract term ({c.term_end})",
        )
    parcels_of(state, p.contract, p.parcels)
    transferee, transferee_name = _transferee(state, p.transferee)
    for other in state.find(ManagementTransfer, contract_id=p.contract):
        overlap = set(other.parcels) & set(p.parcels)
        if overlap and other.term_start < p.term_end and p.term_start < other.term_end:
            raise RuleViolation(
                "land.parcel_already_transferred",
                f"{sorted(overlap)} are under transfer {other.id} until {other.term_end}",
            )
    return [
        Put(
            make(
                ManagementTransfer,
                id=p.transfer,
                contract_id=p.contract,
                mode=p.mode,
                transferee=transferee,
                transferee_name=transferee_name,
                parcels=list(p.parcels),
                term_start=p.term_start,
                term_end=p.term_end,
                filed_seq=rec.seq,
            )
        )
    ]


def _transferee(state: State, t: PartyTransferee | EntityTransferee) -> tuple[str, str | None]:
    if isinstance(t, PartyTransferee):
        if state.get(Party, t.party) is None:
            raise RuleViolation("land.unknown_transferee", f"party {t.party} is not registered")
        return t.party, None
    try:
        return validate_credit_code(t.credit_code), t.name
    except InvalidIdentifier as e:
        raise RuleViolation("land.unknown_transferee", f"transferee's credit code: {e}") from e


@rule("land.contracting_right_transferred", ContractingRightTransferred, signed_by=CONTRACTING_COLLECTIVE)
def transfer_contracting_right(
    state: State, rec: RecordContext, p: ContractingRightTransferred
) -> list[Change]:
    """A land contract passes to another member household of the same collective, with its consent."""
    c = contract_of(state, p.contract, rec.actor)
    target = member_household(
        state,
        p.to_household,
        rec.actor,
        RuleViolation(
            "land.transferee_not_member",
            "the contracting right passes only to a member household of the same collective",
        ),
    )
    if target.id == c.household_id:
        raise RuleViolation("land.same_household", "the household already holds this contract")
    return [Put(c.model_copy(update={"household_id": p.to_household}))]


@rule(
    "land.contracts_exchanged",
    ContractsExchanged,
    prefetch=lambda p, rec: [
        (LandContract, (p.contract,)),
        (LandContract, (p.other_contract,)),
        *((Parcel, (code,)) for code in [*p.parcels, *p.other_parcels]),
    ],
    signed_by=CONTRACTING_COLLECTIVE,
)
def exchange_contracts(state: State, rec: RecordContext, p: ContractsExchanged) -> list[Change]:
    """Two member households of the collective exchange parcels between their contracts."""
    a = contract_of(state, p.contract, rec.actor)
    b = contract_of(state, p.other_contract, rec.actor)
    if a.household_id == b.household_id:
        raise RuleViolation("land.same_household", "an exchange is between two households")
    if not (is_member_household(state, a.household_id) and is_member_household(state, b.household_id)):
        raise RuleViolation("land.transferee_not_member", "both households must be members")
    moved = [x.model_copy(update={"contract_id": b.id}) for x in parcels_of(state, a.id, p.parcels)]
    moved += [x.model_copy(update={"contract_id": a.id}) for x in parcels_of(state, b.id, p.other_parcels)]
    return [Put(x) for x in moved]


@rule("land.returned", LandReturned, signed_by=CONTRACTING_COLLECTIVE)
def return_land(state: State, rec: RecordContext, p: LandReturned) -> list[Change]:
    """A household voluntarily returns its contracted land, on written notice."""
    c = contract_of(state, p.contract, rec.actor)
    months = policy_for(state, rec.actor).land_return_notice_months
    if p.effective_date < add_months(p.notice_date, months):
        raise RuleViolation(
            "land.return_notice_too_short", f"a return takes effect {months} months after written notice"
        )
    if p.notice_date > rec.local_date:
        raise RuleViolation("land.bad_notice_date", "the notice cannot be dated in the future")
    return [Put(c.model_copy(update={"status": "returned", "returned_on": p.effective_date}))]


class ReturnedParcelsFreed:
    """The state as ``land.contract_issued`` version 3 reads it: a parcel of a contract
    returned on or before the record's date is free to contract again (version 1 saw it taken
    forever, since the returned contract's ``Parcel`` rows still name it)."""

    def __init__(self, state: State, rec: RecordContext) -> None:
        self.state, self.rec = state, rec

    def get(self, model: type[Any], *key: Any) -> Any:
        row = self.state.get(model, *key)
        if model is Parcel and row is not None:
            contract = self.state.get(LandContract, row.contract_id)
            if (
                contract is not None
                and contract.status == "returned"
                and (contract.returned_on is None or contract.returned_on <= self.rec.local_date)
            ):
                return None
        return row

    def find(self, model: type[Any], **where: Any) -> list[Any]:
        return self.state.find(model, **where)


@revision(
    issue_contract_v2,
    version=3,
    signed_by=CONTRACTING_COLLECTIVE,
)
def issue_contract_v3(state: State, rec: RecordContext, p: ContractIssued) -> list[Change]:
    """Version 3: land a household returned is contracted again, to another household, once the
    return took effect."""
    return list(issue_contract_v2.apply(ReturnedParcelsFreed(state, rec), rec, p))


def _listing_reads(contract_id: str) -> list[Where]:
    from contracts.exchange.freeze import land_key, listing_reads  # see exchange_contracts_v3

    return listing_reads(land_key(contract_id))


@revision(
    exchange_contracts,
    version=3,
    reads=lambda p, rec: [
        Where(ManagementTransfer, "contract_id", p.contract),
        Where(ManagementTransfer, "contract_id", p.other_contract),
        *_listing_reads(p.contract),
        *_listing_reads(p.other_contract),
    ],
    signed_by=CONTRACTING_COLLECTIVE,
)
def exchange_contracts_v3(state: State, rec: RecordContext, p: ContractsExchanged) -> list[Change]:
    """Version 3: a parcel under a management transfer that has not ended is not exchanged, so
    a lease always stays filed under the contract that holds the parcel (version 1 let the
    parcel move and be leased again for the same years); nor is a parcel under an open listing
    on the exchange."""
    # contracts.exchange reads land, so this module imports it only when the rule runs.
    from contracts.exchange.freeze import require_parcels_unlisted

    changes = list(exchange_contracts.apply(state, rec, p))
    require_parcels_unlisted(state, p.contract, list(p.parcels))
    require_parcels_unlisted(state, p.other_contract, list(p.other_parcels))
    for contract, codes in ((p.contract, p.parcels), (p.other_contract, p.other_parcels)):
        for t in state.find(ManagementTransfer, contract_id=contract):
            leased = sorted(set(t.parcels) & set(codes))
            if leased and t.term_end >= rec.local_date:
                raise RuleViolation(
                    "land.parcel_under_transfer",
                    f"{leased} are under transfer {t.id} until {t.term_end}: not exchanged before it ends",
                )
    return changes
