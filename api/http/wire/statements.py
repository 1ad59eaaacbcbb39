"""Retained-rights statements: what a person or a household holds as of a seq, each claim with
the evidence of the record that left it so."""

from __future__ import annotations

import msgspec

from api.http.wire.parties import RegisteredParty
from api.http.wire.records import Evidence, SignedCheckpoint
from api.http.wire.registry import (
    Certificate,
    Homestead,
    Household,
    HouseholdMember,
    LandContract,
    ManagementTransfer,
    Membership,
    Parcel,
)


class ClaimedParty(RegisteredParty):
    evidence: Evidence


class ClaimedMembership(Membership):
    evidence: Evidence


class ClaimedHouseholdMember(HouseholdMember):
    evidence: Evidence


class ClaimedHousehold(Household):
    evidence: Evidence


class PartyHousehold(ClaimedHousehold):
    """The person's household, their relation in it and since when they are in it."""

    relation: str
    member_since: ClaimedHouseholdMember


class HouseholdMemberClaim(ClaimedHouseholdMember):
    membership: ClaimedMembership | None


class ClaimedParcel(Parcel):
    evidence: Evidence


class ClaimedManagementTransfer(ManagementTransfer):
    evidence: Evidence


class ClaimedLandContract(LandContract):
    """An active contract with its parcels, their total area and its management transfers."""

    evidence: Evidence
    area_m2: int
    parcels: list[ClaimedParcel]
    management_transfers: list[ClaimedManagementTransfer]


class ClaimedHomestead(Homestead):
    evidence: Evidence


class ClaimedCertificate(Certificate):
    evidence: Evidence


class PartyStatement(msgspec.Struct, forbid_unknown_fields=True):
    """Everything a person holds as of ``as_of``: their registration, membership, household
    and that household's active land contracts, held homestead and certificates."""

    party: str
    as_of: int
    checkpoint: SignedCheckpoint
    registered: ClaimedParty
    membership: ClaimedMembership | None
    household: PartyHousehold | None
    land_contracts: list[ClaimedLandContract]
    land_area_m2: int
    homestead: ClaimedHomestead | None
    homestead_area_m2: int
    certificates: list[ClaimedCertificate]


class HouseholdStatement(msgspec.Struct, forbid_unknown_fields=True):
    """Everything a household holds as of ``as_of``: its members with their memberships, its
    active land contracts, held homestead and certificates."""

    as_of: int
    checkpoint: SignedCheckpoint
    household: ClaimedHousehold
    members: list[HouseholdMemberClaim]
    land_contracts: list[ClaimedLandContract]
    land_area_m2: int
    homestead: ClaimedHomestead | None
    homestead_area_m2: int
    certificates: list[ClaimedCertificate]
