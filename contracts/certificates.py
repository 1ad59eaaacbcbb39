"""Settlement certificates.

- Membership certificate (集体成员资格证明), by the collective: the persons, their membership
  status and the rights their household holds, as of the record's seq. The rights listed are
  checked against the ledger's state, so a signed certificate never claims what is not held.
- Transfer filing certificate (转移备案证书), by the township of hukou origin over one of its
  villages: whole household (every member listed) or individual; it references a membership
  certificate still valid, lists the retained rights and changes each person's membership to
  "settled in town, rights retained". Every retained right stays enforceable afterwards.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

import msgspec
from sqlalchemy import BigInteger
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from contracts.errors import RuleViolation
from contracts.homesteads import Homestead
from contracts.households import (
    Household,
    HouseholdMember,
    household_of,
    members_of,
    require_collective,
)
from contracts.land import ContractId, LandContract
from contracts.membership import Membership, membership_at
from contracts.orgs import Org, OrgId
from contracts.parties import Uuid
from contracts.policy import policy_for
from contracts.registry import Payload, RecordContext, Signers, rule
from contracts.state import Change, Put, State, Where, make
from ledger.errors import Category

Persons = Annotated[list[Uuid], msgspec.Meta(min_length=1, max_length=64)]


class Certificate(SQLModel, table=True):
    __tablename__ = "certificates"
    id: str = Field(primary_key=True)
    kind: str  # membership | transfer_filing
    issuer_id: str = Field(index=True)
    collective_id: str = Field(index=True)
    household_id: str = Field(index=True)
    scope: str  # household | individual
    persons: list[str] = Field(sa_type=JSONB)
    rights: dict[str, Any] = Field(sa_type=JSONB)
    issued_seq: int = Field(sa_type=BigInteger)
    valid_until: date | None = None
    membership_certificate: str | None = None


TABLES = (Certificate,)


class Rights(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    land_contracts: list[ContractId] = []
    homesteads: list[ContractId] = []


class MembershipCertificateIssued(Payload, frozen=True):
    certificate: ContractId
    household: Uuid
    persons: Persons
    rights: Rights


class TransferFilingCertificateIssued(Payload, frozen=True):
    certificate: ContractId
    village: OrgId
    scope: Literal["household", "individual"]
    household: Uuid
    persons: Persons
    membership_certificate: ContractId
    rights: Rights


def household_reads(household_id: str) -> list[Where]:
    """The finds a certificate makes: the household's members, contracts and homesteads."""
    return [
        Where(HouseholdMember, "household_id", household_id),
        Where(LandContract, "household_id", household_id),
        Where(Homestead, "household_id", household_id),
    ]


def rights_held(state: State, household_id: str) -> dict[str, list[str]]:
    """The household's active land contracts and held homesteads, sorted."""
    return {
        "land_contracts": sorted(
            c.id for c in state.find(LandContract, household_id=household_id) if c.status == "active"
        ),
        "homesteads": sorted(
            h.id for h in state.find(Homestead, household_id=household_id) if h.status == "held"
        ),
    }


def check_rights(state: State, household_id: str, claimed: Rights) -> dict[str, list[str]]:
    held = rights_held(state, household_id)
    listed = {"land_contracts": sorted(claimed.land_contracts), "homesteads": sorted(claimed.homesteads)}
    if listed != held:
        raise RuleViolation(
            "certificate.rights_mismatch", f"the certificate lists {listed}; the household holds {held}"
        )
    return held


def _check_persons_in_household(state: State, household_id: str, persons: list[str]) -> set[str]:
    members = {m.party_id for m in members_of(state, household_id)}
    if len(set(persons)) != len(persons):
        raise RuleViolation("certificate.duplicate_person", "a person is listed twice")
    strangers = set(persons) - members
    if strangers:
        raise RuleViolation(
            "household.not_a_member", f"{sorted(strangers)} are not in household {household_id}"
        )
    return members


@rule(
    "certificate.membership_issued",
    MembershipCertificateIssued,
    prefetch=lambda p, rec: [
        (Certificate, (p.certificate,)),
        (Household, (p.household,)),
        *((Membership, (x,)) for x in p.persons),
        *household_reads(p.household),
    ],
    signed_by=Signers(("village_collective",), "the household's village collective"),
)
def issue_membership_certificate(
    state: State, rec: RecordContext, p: MembershipCertificateIssued
) -> list[Change]:
    """The collective certifies persons' membership and the rights their household holds
    (集体成员资格证明)."""
    require_collective(state, rec.actor)
    household_of(state, p.household, rec.actor)
    if state.get(Certificate, p.certificate) is not None:
        raise RuleViolation("certificate.exists", f"certificate {p.certificate} exists")
    members = _check_persons_in_household(state, p.household, p.persons)
    for person in p.persons:
        m = membership_at(state, person, rec.actor)
        if m.status not in ("active", "settled_in_town"):
            raise RuleViolation(
                "certificate.not_a_member", f"party {person} is not a confirmed member ({m.status})"
            )
    rights = check_rights(state, p.household, p.rights)
    days = policy_for(state, rec.actor).membership_certificate_valid_days
    scope = "household" if set(p.persons) == members else "individual"
    return [
        Put(
            make(
                Certificate,
                id=p.certificate,
                kind="membership",
                issuer_id=rec.actor,
                collective_id=rec.actor,
                household_id=p.household,
                scope=scope,
                persons=sorted(p.persons),
                rights=rights,
                issued_seq=rec.seq,
                valid_until=rec.local_date + timedelta(days=days),
                membership_certificate=None,
            )
        )
    ]


@rule(
    "certificate.transfer_filed",
    TransferFilingCertificateIssued,
    prefetch=lambda p, rec: [
        (Certificate, (p.certificate,)),
        (Certificate, (p.membership_certificate,)),
        (Org, (p.village,)),
        (Household, (p.household,)),
        *((Membership, (x,)) for x in p.persons),
        *household_reads(p.household),
    ],
    signed_by=Signers(("township",), "the township of the household's village"),
)
def file_transfer(state: State, rec: RecordContext, p: TransferFilingCertificateIssued) -> list[Change]:
    """The township of origin files persons' move to town (转移备案证书): settled in town, rights retained."""
    township = state.get(Org, rec.actor)
    if township is None or township.type != "township":
        raise RuleViolation(
            "certificate.not_a_township",
            "a transfer filing certificate is issued by a township",
            category=Category.FORBIDDEN,
        )
    village = state.get(Org, p.village)
    if village is None or village.type != "village_collective" or village.parent_id != rec.actor:
        raise RuleViolation(
            "certificate.outside_jurisdiction",
            f"village {p.village} is not under township {rec.actor}",
            category=Category.FORBIDDEN,
        )
    if state.get(Certificate, p.certificate) is not None:
        raise RuleViolation("certificate.exists", f"certificate {p.certificate} exists")
    household_of(state, p.household, p.village)
    members = _check_persons_in_household(state, p.household, p.persons)
    if p.scope == "household" and set(p.persons) != members:
        raise RuleViolation(
            "certificate.household_incomplete",
            f"a whole-household certificate lists every member; missing {sorted(members - set(p.persons))}",
        )
    if p.scope == "individual" and len(p.persons) != 1:
        raise RuleViolation(
            "certificate.individual_is_one_person", "an individual certificate lists one person"
        )
    basis = state.get(Certificate, p.membership_certificate)
    if basis is None or basis.kind != "membership" or basis.collective_id != p.village:
        raise RuleViolation(
            "certificate.no_membership_certificate",
            f"{p.membership_certificate} is not a membership certificate of {p.village}",
        )
    if basis.valid_until is not None and rec.local_date > basis.valid_until:
        raise RuleViolation(
            "certificate.membership_certificate_expired",
            f"membership certificate {basis.id} expired on {basis.valid_until}",
        )
    if not set(p.persons) <= set(basis.persons):
        raise RuleViolation(
            "certificate.persons_not_certified",
            f"{sorted(set(p.persons) - set(basis.persons))} are not on {basis.id}",
        )
    rights = check_rights(state, p.household, p.rights)
    changes: list[Change] = []
    for person in p.persons:
        m: Membership = membership_at(state, person, p.village)
        if m.status != "active":
            raise RuleViolation(
                "certificate.not_a_member", f"party {person} is not an active member ({m.status})"
            )
        changes.append(Put(m.model_copy(update={"status": "settled_in_town", "status_seq": rec.seq})))
    changes.append(
        Put(
            make(
                Certificate,
                id=p.certificate,
                kind="transfer_filing",
                issuer_id=rec.actor,
                collective_id=p.village,
                household_id=p.household,
                scope=p.scope,
                persons=sorted(p.persons),
                rights=rights,
                issued_seq=rec.seq,
                valid_until=None,
                membership_certificate=basis.id,
            )
        )
    )
    return changes
