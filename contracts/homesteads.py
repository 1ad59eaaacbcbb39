"""Homesteads (宅基地使用权): one household, one homestead, within the county's area cap for
the zone; transfer only to a qualifying member household of the same collective; voluntary
paid withdrawal (有偿退出) to the collective, the route for settled farmers."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from contracts.errors import RuleViolation
from contracts.households import Household, household_of, require_collective
from contracts.identifiers import InvalidIdentifier, validate_parcel_code
from contracts.land import (
    Area,
    CertificateNo,
    ContractId,
    household_reads,
    member_household,
    memberships_in_force,
    require_member_in_force,
)
from contracts.membership import LIVES_IN_VILLAGE
from contracts.parties import Sha256Hex, Uuid
from contracts.policy import policy_for
from contracts.registry import Payload, RecordContext, Signers, revision, rule
from contracts.state import Change, Put, State, Where, make

Zone = Literal["suburb", "plain", "plain_saline", "hilly_flat", "hilly_slope"]


class Homestead(SQLModel, table=True):
    __tablename__ = "homesteads"
    id: str = Field(primary_key=True)
    collective_id: str = Field(index=True)
    household_id: str = Field(index=True)
    plot_code: str = Field(index=True)
    area_m2: int
    zone: str
    certificate_no: str
    status: str = "held"  # held | withdrawn
    granted_seq: int = Field(sa_type=BigInteger)
    withdrawn_seq: int | None = Field(default=None, sa_type=BigInteger)
    compensation: str | None = None  # cash | voucher
    compensation_fen: int | None = Field(default=None, sa_type=BigInteger)
    for_reclamation: bool = False


TABLES = (Homestead,)

# Who signs every homestead kind.
HOMESTEAD_COLLECTIVE = Signers(("village_collective",), "the village collective of the homestead")


class HomesteadGranted(Payload, frozen=True):
    homestead: ContractId
    household: Uuid
    plot_code: str
    area_m2: Area
    zone: Zone
    certificate_no: CertificateNo


class HomesteadTransferred(Payload, frozen=True):
    homestead: ContractId
    to_household: Uuid
    agreement: Sha256Hex


class HomesteadWithdrawn(Payload, frozen=True):
    homestead: ContractId
    compensation: Literal["cash", "voucher"]
    compensation_fen: Annotated[int, msgspec.Meta(ge=0, le=10**13)]
    agreement: Sha256Hex


def held_homestead(state: State, household_id: str) -> Homestead | None:
    held = [h for h in state.find(Homestead, household_id=household_id) if h.status == "held"]
    return held[0] if held else None


def homestead_of(state: State, homestead_id: str, collective_id: str) -> Homestead:
    h = state.get(Homestead, homestead_id)
    if h is None or h.collective_id != collective_id or h.status != "held":
        raise RuleViolation("homestead.unknown", f"no held homestead {homestead_id} in {collective_id}")
    return h


def _no_homestead_yet(state: State, household: Household) -> None:
    if household.house_given_up:
        raise RuleViolation(
            "homestead.house_given_up",
            "a household that sold, rented out or gave away its house gets no new homestead",
        )
    held = held_homestead(state, household.id)
    if held is not None:
        raise RuleViolation("homestead.already_has_one", f"one household, one homestead: it holds {held.id}")


@rule(
    "homestead.granted",
    HomesteadGranted,
    prefetch=lambda p, rec: [
        (Homestead, (p.homestead,)),
        (Household, (p.household,)),
        Where(Homestead, "household_id", p.household),
        Where(Homestead, "plot_code", p.plot_code),
    ],
    signed_by=HOMESTEAD_COLLECTIVE,
)
def grant_homestead(state: State, rec: RecordContext, p: HomesteadGranted) -> list[Change]:
    """The collective grants a household its one homestead (宅基地), within the zone's area cap."""
    collective = require_collective(state, rec.actor)
    household = household_of(state, p.household, rec.actor)
    if state.get(Homestead, p.homestead) is not None:
        raise RuleViolation("homestead.exists", f"homestead {p.homestead} exists")
    try:
        validate_parcel_code(p.plot_code, collective.area_code or "")
    except InvalidIdentifier as e:
        raise RuleViolation("homestead.invalid_plot_code", str(e)) from e
    if any(h.status == "held" for h in state.find(Homestead, plot_code=p.plot_code)):
        raise RuleViolation("homestead.plot_taken", f"plot {p.plot_code} is already granted")
    cap = policy_for(state, rec.actor).homestead_cap_m2.get(p.zone)
    if cap is None or p.area_m2 > cap:
        raise RuleViolation("homestead.over_cap", f"{p.area_m2} m² exceeds the {p.zone} cap of {cap} m²")
    _no_homestead_yet(state, household)
    return [
        Put(
            make(
                Homestead,
                id=p.homestead,
                collective_id=rec.actor,
                household_id=p.household,
                plot_code=p.plot_code,
                area_m2=p.area_m2,
                zone=p.zone,
                certificate_no=p.certificate_no,
                status="held",
                granted_seq=rec.seq,
                withdrawn_seq=None,
                compensation=None,
                compensation_fen=None,
                for_reclamation=False,
            )
        )
    ]


@rule("homestead.transferred", HomesteadTransferred, signed_by=HOMESTEAD_COLLECTIVE)
def transfer_homestead(state: State, rec: RecordContext, p: HomesteadTransferred) -> list[Change]:
    """A homestead passes to another member household of the same collective; the seller's household gave
    up its house."""
    h = homestead_of(state, p.homestead, rec.actor)
    target = member_household(
        state,
        p.to_household,
        rec.actor,
        RuleViolation(
            "homestead.transferee_not_member",
            "a homestead passes only to a member household of the same collective; urban residents "
            "may not buy",
        ),
    )
    if target.id == h.household_id:
        raise RuleViolation("homestead.same_household", "the household already holds it")
    _no_homestead_yet(state, target)
    seller = household_of(state, h.household_id, rec.actor)
    return [
        Put(h.model_copy(update={"household_id": target.id})),
        Put(seller.model_copy(update={"house_given_up": True})),
    ]


@revision(
    grant_homestead,
    version=2,
    reads=lambda p, rec: household_reads(p.household),
    signed_by=HOMESTEAD_COLLECTIVE,
)
def grant_homestead_v2(state: State, rec: RecordContext, p: HomesteadGranted) -> list[Change]:
    """Version 2: a homestead is granted only to a household with at least one member in force."""
    changes = list(grant_homestead.apply(state, rec, p))
    require_member_in_force(state, p.household, "homestead.household_without_members", "a homestead")
    return changes


@revision(
    transfer_homestead,
    version=2,
    reads=lambda p, rec: household_reads(p.to_household),
    signed_by=HOMESTEAD_COLLECTIVE,
)
def transfer_homestead_v2(state: State, rec: RecordContext, p: HomesteadTransferred) -> list[Change]:
    """Version 2: a homestead passes only to a member household that lives in the village, not
    to one whose members in force have all settled in town."""
    changes = list(transfer_homestead.apply(state, rec, p))
    if not any(m.status == LIVES_IN_VILLAGE for m in memberships_in_force(state, p.to_household)):
        raise RuleViolation(
            "homestead.transferee_not_resident",
            "a homestead passes only to a member household living in the village; every member "
            "in force of this one has settled in town",
        )
    return changes


@rule(
    "homestead.withdrawn",
    HomesteadWithdrawn,
    prefetch=lambda p, rec: [(Homestead, (p.homestead,))],
    signed_by=HOMESTEAD_COLLECTIVE,
)
def withdraw_homestead(state: State, rec: RecordContext, p: HomesteadWithdrawn) -> list[Change]:
    """A homestead is withdrawn voluntarily for pay (有偿退出), in cash or a house voucher, and marked for
    reclamation."""
    h = homestead_of(state, p.homestead, rec.actor)
    household = household_of(state, h.household_id, rec.actor)
    return [
        Put(
            h.model_copy(
                update={
                    "status": "withdrawn",
                    "withdrawn_seq": rec.seq,
                    "compensation": p.compensation,
                    "compensation_fen": p.compensation_fen,
                    "for_reclamation": True,
                }
            )
        ),
        Put(household.model_copy(update={"house_given_up": True})),
    ]
