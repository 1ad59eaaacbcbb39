"""The registry as read models: organisations, members, households, contracted land,
homesteads and certificates, their pages and their histories. Rows list their fields as the
table models in ``contracts`` declare them; ids are party UUIDs or registry codes."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from api.http.wire.records import ProvenRecord, Record, SignedCheckpoint


class OrganisationKey(msgspec.Struct, forbid_unknown_fields=True):
    """One of an organisation's ledger keys: the seq that added it and the one that revoked it."""

    key_id: str
    public_key: str
    added_seq: int
    revoked_seq: int | None


class Organisation(msgspec.Struct, forbid_unknown_fields=True):
    """A registered organisation, with its key history."""

    id: str
    name: str
    type: str
    parent: str | None
    registered_seq: int
    keys: list[OrganisationKey]


class OrganisationPage(msgspec.Struct, forbid_unknown_fields=True):
    items: list[Organisation]
    next: str | None


class Membership(msgspec.Struct, forbid_unknown_fields=True):
    """A person's current (or last) membership of a collective (成员资格)."""

    party_id: str
    collective_id: str
    household_id: str | None
    status: str
    basis: str
    notice_end: date
    admitted_seq: int
    status_seq: int
    ended_reason: str | None
    rights_retained_until: date | None


class MembershipPage(msgspec.Struct, forbid_unknown_fields=True):
    items: list[Membership]
    next: str | None


class HouseholdMember(msgspec.Struct, forbid_unknown_fields=True):
    """A person's place in a household."""

    party_id: str
    household_id: str
    relation: str
    joined_seq: int


class Member(Membership):
    """A membership with the person's place in a household (null: in none)."""

    household_member: HouseholdMember | None


class MemberStatus(msgspec.Struct, forbid_unknown_fields=True):
    collective_id: str
    status: str


class HouseholdMemberStatus(HouseholdMember):
    """A household member with the status of their membership (null: none)."""

    membership: MemberStatus | None


class Household(msgspec.Struct, forbid_unknown_fields=True):
    """A household (户) of a collective."""

    id: str
    collective_id: str
    head_party: str
    status: str
    house_given_up: bool
    registered_seq: int


class HouseholdDetail(Household):
    """A household with its members, by party id."""

    members: list[HouseholdMemberStatus]


class HouseholdPage(msgspec.Struct, forbid_unknown_fields=True):
    items: list[Household]
    next: str | None


class LandContract(msgspec.Struct, forbid_unknown_fields=True):
    """A household's land contract (土地承包经营权)."""

    id: str
    collective_id: str
    household_id: str
    certificate_no: str
    term_start: date
    term_end: date
    status: str
    issued_seq: int
    returned_on: date | None


class Parcel(msgspec.Struct, forbid_unknown_fields=True):
    """A contracted parcel: its 19-digit code, area in m², land class and 四至 (per side, the
    neighbouring parcel's code or a feature)."""

    code: str
    contract_id: str
    area_m2: int
    land_class: str
    boundaries: dict[str, str]


class ManagementTransfer(msgspec.Struct, forbid_unknown_fields=True):
    """A transfer of a contract's management right (lease, sub-contract or shares)."""

    id: str
    contract_id: str
    mode: str
    transferee: str
    transferee_name: str | None
    parcels: list[str]
    term_start: date
    term_end: date
    filed_seq: int


class LandContractDetail(LandContract):
    """A contract with its parcels, their total area and its management transfers."""

    area_m2: int
    parcels: list[Parcel]
    management_transfers: list[ManagementTransfer]


class LandContractPage(msgspec.Struct, forbid_unknown_fields=True):
    items: list[LandContract]
    next: str | None


class ManagementTransferPage(msgspec.Struct, forbid_unknown_fields=True):
    items: list[ManagementTransfer]
    next: str | None


class Homestead(msgspec.Struct, forbid_unknown_fields=True):
    """A household's homestead (宅基地使用权), held or withdrawn (with its compensation)."""

    id: str
    collective_id: str
    household_id: str
    plot_code: str
    area_m2: int
    zone: str
    certificate_no: str
    status: str
    granted_seq: int
    withdrawn_seq: int | None
    compensation: str | None
    compensation_fen: int | None
    for_reclamation: bool


class HomesteadPage(msgspec.Struct, forbid_unknown_fields=True):
    items: list[Homestead]
    next: str | None


class Certificate(msgspec.Struct, forbid_unknown_fields=True):
    """A membership certificate (集体成员资格证明), a transfer filing certificate (转移备案证书)
    or a share certificate: the persons it lists and the rights it names (``land_contracts``
    and ``homesteads``, ids; or ``shares``, units by holder)."""

    id: str
    kind: str
    issuer_id: str
    collective_id: str
    household_id: str
    scope: str
    persons: list[str]
    rights: dict[str, Any]
    issued_seq: int
    valid_until: date | None
    membership_certificate: str | None


class CertificatePage(msgspec.Struct, forbid_unknown_fields=True):
    items: list[Certificate]
    next: str | None


class CertificateDetail(msgspec.Struct, forbid_unknown_fields=True):
    """A certificate, the persons' membership statuses right after it was issued, the record
    that issued it with its inclusion proof, and the checkpoint the proof leads to."""

    certificate: Certificate
    statuses: dict[str, str]
    record: Record
    inclusion_proof: list[str]
    checkpoint: SignedCheckpoint


# Histories: every record that touched an entity, each with its inclusion proof in the
# checkpoint given, so that a page verifies on its own; ``next`` is the ``after`` of the next.


class PartyHistory(msgspec.Struct, forbid_unknown_fields=True):
    party: str
    checkpoint: SignedCheckpoint
    items: list[ProvenRecord]
    next: int | None


class HouseholdHistory(msgspec.Struct, forbid_unknown_fields=True):
    household: str
    checkpoint: SignedCheckpoint
    items: list[ProvenRecord]
    next: int | None


class LandContractHistory(msgspec.Struct, forbid_unknown_fields=True):
    contract: str
    checkpoint: SignedCheckpoint
    items: list[ProvenRecord]
    next: int | None


class ParcelHistory(msgspec.Struct, forbid_unknown_fields=True):
    parcel: str
    checkpoint: SignedCheckpoint
    items: list[ProvenRecord]
    next: int | None


class HomesteadHistory(msgspec.Struct, forbid_unknown_fields=True):
    homestead: str
    checkpoint: SignedCheckpoint
    items: list[ProvenRecord]
    next: int | None


class CertificateHistory(msgspec.Struct, forbid_unknown_fields=True):
    certificate: str
    checkpoint: SignedCheckpoint
    items: list[ProvenRecord]
    next: int | None
