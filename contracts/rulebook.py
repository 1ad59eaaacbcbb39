"""The rulebook: every entry kind's rule, by (kind, version), listed here and nowhere else.

A ledger keeps signed entries and every replay re-runs the rules on them, so a rule a ledger may
have used is never edited: a change is a new ``Rule`` of the same kind with a higher version,
beside the old one, and the ledger adopts that version by a ``rules.adopted`` entry signed by
the root organisation. From the adoption's own seq on, the appender and the verifier admit
every record under the version it names; before any adoption, version 1 is in force. Under
version N a kind's rule is its highest version not above N; a kind whose first version is above
N does not exist yet.

Each area lists its projection tables and its rules. Version 2 fixes what was found by trying
the rules from outside: land contracts and homestead grants only to a household with a member
in force; homestead transfers only to a household living in the village; no pledge of a
holding with income rights only; no membership decision by a meeting nobody attended; no
inheritance by the deceased themself. Version 3 brings the county's working-day calendar and
the rural property rights exchange (``contracts.exchange``), and revises ``org.registered`` so
that an exchange centre registers the bidding entities that sign their own bids; land a
household returned may be contracted again once the return took effect, and a parcel under a
running lease is not exchanged (so no lease is ever bypassed). While a right is under an open
listing, the registry's own kinds do not move it (``contracts.exchange.freeze``): listed share
units are neither transferred nor pledged, a listed homestead is neither transferred nor
withdrawn, listed parcels are neither leased for an overlapping term nor exchanged, and their
contract is neither transferred nor returned. Version 4 brings house vouchers
(``contracts.vouchers``: price schedules, the developer pool, issuance or cash once per given-up
homestead, redemption with the bonus, staged settlement, transfer, expiry and cash-out) and land
quotas (``contracts.quotas``: reclamation to a confirmed quota, its proceeds split and its use
once), and revises ``exchange.listed`` and ``exchange.certificate_issued`` so that a confirmed
quota is listed and moved to its buyer like any other right.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from contracts import (
    assets,
    calendar,
    certificates,
    dividends,
    exchange,
    homesteads,
    households,
    land,
    membership,
    orgs,
    parties,
    policy,
    quotas,
    shares,
    vouchers,
)
from contracts.errors import RuleViolation
from contracts.exchange import freeze
from contracts.registry import Payload, RecordContext, Rule, Signers, rule
from contracts.state import Change, Put, State, make
from ledger.errors import Category

VERSION_BEFORE_ADOPTION = 1
RULES_ROW = 1  # the one row of ``rules_in_force``


class RulesInForce(SQLModel, table=True):
    """The rule version in force and the seq of the entry that adopted it (absent: version 1)."""

    __tablename__ = "rules_in_force"
    id: int = Field(primary_key=True)
    version: int
    adopted_seq: int = Field(sa_type=BigInteger)


class RulesAdopted(Payload, frozen=True):
    version: Annotated[int, msgspec.Meta(ge=1, le=10_000)]


def version_in_force(state: State) -> int:
    row = state.get(RulesInForce, RULES_ROW)
    return row.version if row is not None else VERSION_BEFORE_ADOPTION


@rule(
    "rules.adopted",
    RulesAdopted,
    prefetch=lambda p, rec: [(RulesInForce, (RULES_ROW,))],
    signed_by=Signers(("county",), "the root organisation"),
)
def adopt_rules(state: State, rec: RecordContext, p: RulesAdopted) -> list[Change]:
    """The root organisation moves the ledger to a later rule version, from this seq on."""
    actor = state.get(orgs.Org, rec.actor)
    if actor is None or actor.parent_id is not None:
        raise RuleViolation(
            "rules.not_root", "only the root organisation adopts rule versions", category=Category.FORBIDDEN
        )
    if p.version not in RULEBOOK.versions:
        raise RuleViolation(
            "rules.unknown_version",
            f"no rule version {p.version}; this rulebook has versions {list(RULEBOOK.versions)}",
        )
    current = version_in_force(state)
    if p.version <= current:
        raise RuleViolation(
            "rules.not_newer",
            f"version {current} is in force; a ledger only moves to a later version, never back",
        )
    return [Put(make(RulesInForce, id=RULES_ROW, version=p.version, adopted_seq=rec.seq))]


@dataclass(frozen=True, slots=True)
class Area:
    """One area of the rules: its projection tables and every version of its kinds' rules."""

    name: str
    tables: tuple[type[SQLModel], ...]
    rules: tuple[Rule[Any], ...]


AREAS = (
    Area("rules", (RulesInForce,), (adopt_rules,)),
    Area(
        "orgs",
        (orgs.Org, orgs.OrgKey),
        (orgs.register_org, orgs.register_org_v3, orgs.add_key, orgs.revoke_key),
    ),
    Area("policy", (policy.CountyPolicy,), (policy.set_policy,)),
    Area("parties", (parties.Party, parties.PartyIdentity), (parties.register_party,)),
    Area(
        "households",
        (households.Household, households.HouseholdMember),
        (
            households.register_household,
            households.add_member,
            households.remove_member,
            households.split_household,
        ),
    ),
    Area(
        "membership",
        (membership.Membership,),
        (
            membership.admit_member,
            membership.admit_member_v2,
            membership.file_objection,
            membership.resolve_objection,
            membership.confirm_member,
            membership.change_membership,
        ),
    ),
    Area(
        "land",
        (land.LandContract, land.Parcel, land.ManagementTransfer),
        (
            land.issue_contract,
            land.issue_contract_v2,
            land.issue_contract_v3,
            land.extend_contract,
            land.transfer_management,
            freeze.transfer_management_v3,
            land.transfer_contracting_right,
            freeze.transfer_contracting_right_v3,
            land.exchange_contracts,
            land.exchange_contracts_v3,
            land.return_land,
            freeze.return_land_v3,
        ),
    ),
    Area(
        "homesteads",
        (homesteads.Homestead,),
        (
            homesteads.grant_homestead,
            homesteads.grant_homestead_v2,
            homesteads.transfer_homestead,
            homesteads.transfer_homestead_v2,
            freeze.transfer_homestead_v3,
            homesteads.withdraw_homestead,
            freeze.withdraw_homestead_v3,
        ),
    ),
    Area(
        "certificates",
        (certificates.Certificate,),
        (certificates.issue_membership_certificate, certificates.file_transfer),
    ),
    Area("assets", (assets.AssetVerification,), (assets.verify_assets,)),
    Area(
        "shares",
        (shares.ShareScheme, shares.ShareHolding, shares.SharePledge, shares.ShareBuyback),
        (
            shares.quantify,
            shares.transfer_shares,
            freeze.transfer_shares_v3,
            shares.buy_back,
            freeze.buy_back_v3,
            shares.inherit_shares,
            shares.inherit_shares_v2,
            shares.pledge_shares,
            shares.pledge_shares_v2,
            freeze.pledge_shares_v3,
            shares.release_pledge,
            shares.issue_share_certificate,
        ),
    ),
    Area("dividends", (dividends.Dividend,), (dividends.declare_dividend,)),
    Area("calendar", (calendar.WorkingCalendar,), (calendar.declare_calendar,)),
    Area("exchange", exchange.TABLES, exchange.RULES),
    Area("vouchers", vouchers.TABLES, vouchers.RULES),
    Area("quotas", quotas.TABLES, quotas.RULES),
)


class Rulebook:
    """Rules keyed by (kind, version), and which rule each version puts in force."""

    def __init__(self, areas: Iterable[Area]) -> None:
        self.areas = tuple(areas)
        self.rules: dict[tuple[str, int], Rule[Any]] = {}
        for area in self.areas:
            for r in area.rules:
                if (r.kind, r.version) in self.rules:
                    raise RuntimeError(f"two rules for {r.kind} version {r.version}")
                if r.signed_by is not None and not set(r.signed_by.types) <= set(orgs.ORG_TYPES):
                    raise RuntimeError(
                        f"{r.kind} version {r.version} is signed by unknown {r.signed_by.types}"
                    )
                self.rules[(r.kind, r.version)] = r
        self.versions = tuple(sorted({VERSION_BEFORE_ADOPTION} | {v for _, v in self.rules}))
        self.tables = tuple(model for area in self.areas for model in area.tables)
        # version -> kind -> the rule in force: each kind's highest version not above it.
        self._in_force: dict[int, dict[str, Rule[Any]]] = {}
        for version in self.versions:
            found: dict[str, Rule[Any]] = {}
            for (kind, v), r in sorted(self.rules.items()):
                if v <= version:
                    found[kind] = r
            self._in_force[version] = found

    @property
    def current(self) -> int:
        """The latest version: what a new ledger adopts."""
        return self.versions[-1]

    def in_force(self, kind: str, version: int) -> Rule[Any] | None:
        """The rule for ``kind`` under ``version``; ``None`` when the kind has none then."""
        return self.kinds(version).get(kind)

    def kinds(self, version: int) -> dict[str, Rule[Any]]:
        """Every kind in force under ``version``, with its rule."""
        found = self._in_force.get(version)  # a version of this rulebook: every admission's case
        if found is None:
            found = self._in_force[max(v for v in self.versions if v <= version)]
        return found

    def first_version(self, kind: str) -> int | None:
        """The version a kind first appears in, if any."""
        versions = [v for k, v in self.rules if k == kind]
        return min(versions) if versions else None


RULEBOOK = Rulebook(AREAS)
PROJECTION_MODELS = RULEBOOK.tables
