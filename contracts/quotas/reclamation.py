"""From a site to a quota: ``quota.applied`` (the collective applies to reclaim a withdrawn
homestead or a disused collective site, with the holder's and its own consent),
``quota.project_approved`` (the reclamation project), ``quota.accepted`` (joint acceptance, the
reclaimed area measured, 验收) and ``quota.confirmed`` (the quota in m², listable on the
exchange). Each step follows the one before, once.
"""

from __future__ import annotations

from typing import Any

import msgspec

from contracts.errors import RuleViolation
from contracts.homesteads import Homestead
from contracts.identifiers import InvalidIdentifier, validate_parcel_code
from contracts.land import Area, ContractId, Parcel
from contracts.orgs import Org
from contracts.parties import Sha256Hex
from contracts.policy import county_of
from contracts.quotas.common import (
    QUOTA_COLLECTIVE,
    QUOTA_COUNTY,
    county_quota,
    quota_reads,
    require_status,
)
from contracts.quotas.tables import LandQuota
from contracts.registry import Payload, RecordContext, rule
from contracts.state import Change, Put, State, Where, make
from contracts.vouchers.terms import VOUCHER_VERSION
from ledger.errors import Category


class HomesteadSite(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="homestead"):
    homestead: ContractId


class CollectiveSite(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="collective_site"):
    parcel_code: str
    area_m2: Area


class QuotaApplied(Payload, frozen=True):
    quota: ContractId
    site: HomesteadSite | CollectiveSite
    holder_consent: Sha256Hex  # the household's, or for a collective site the members' meeting's
    collective_consent: Sha256Hex


class ProjectApproved(Payload, frozen=True):
    quota: ContractId
    project_document: Sha256Hex


class QuotaAccepted(Payload, frozen=True):
    quota: ContractId
    measured_m2: Area
    acceptance_document: Sha256Hex


class QuotaConfirmed(Payload, frozen=True):
    quota: ContractId
    quota_m2: Area


def _application_reads(p: QuotaApplied, rec: RecordContext) -> list[Any]:
    hints: list[Any] = quota_reads(p.quota)
    if isinstance(p.site, HomesteadSite):
        return [*hints, (Homestead, (p.site.homestead,)), Where(LandQuota, "site", p.site.homestead)]
    code = p.site.parcel_code
    return [*hints, Where(Homestead, "plot_code", code), (Parcel, (code,)), Where(LandQuota, "site", code)]


def _not_reclaimable(message: str) -> RuleViolation:
    return RuleViolation("quota.site_not_reclaimable", message)


@rule(
    "quota.applied",
    QuotaApplied,
    prefetch=_application_reads,
    signed_by=QUOTA_COLLECTIVE,
    version=VOUCHER_VERSION,
)
def apply_for_quota(state: State, rec: RecordContext, p: QuotaApplied) -> list[Change]:
    """A village collective applies to reclaim a withdrawn homestead or a disused collective
    site to farmland (复垦), with the holder's and its own consent: the quota's first record."""
    collective = state.get(Org, rec.actor)
    if collective is None or collective.type != "village_collective":
        raise RuleViolation(
            "quota.not_collective", f"{rec.actor} is not a village collective", category=Category.FORBIDDEN
        )
    if state.get(LandQuota, p.quota) is not None:
        raise RuleViolation("quota.exists", f"land quota {p.quota} exists")
    household: str | None = None
    if isinstance(p.site, HomesteadSite):
        h = state.get(Homestead, p.site.homestead)
        if h is None:
            raise _not_reclaimable(f"no homestead {p.site.homestead}")
        if h.collective_id != rec.actor:
            raise RuleViolation(
                "quota.not_collective",
                f"homestead {h.id} is {h.collective_id}'s",
                category=Category.FORBIDDEN,
            )
        if h.status != "withdrawn" or not h.for_reclamation:
            raise _not_reclaimable(f"homestead {h.id} is {h.status}, not withdrawn for reclamation")
        # A collective site's quota on the homestead's plot would be the same land again.
        sites, household, area = [h.id, h.plot_code], h.household_id, h.area_m2
        source, holder, holder_kind = "homestead", h.household_id, "household"
    else:
        code = p.site.parcel_code
        try:
            validate_parcel_code(code, collective.area_code or "")
        except InvalidIdentifier as e:
            raise RuleViolation("quota.invalid_parcel_code", str(e)) from e
        homesteads = state.find(Homestead, plot_code=code)
        if homesteads:
            raise _not_reclaimable(
                f"plot {code} is homestead {homesteads[0].id}'s: a withdrawn homestead is applied for "
                "as the homestead"
            )
        if state.get(Parcel, code) is not None:
            raise _not_reclaimable(f"parcel {code} is contracted farmland, not building land")
        sites, area = [code], p.site.area_m2
        source, holder, holder_kind = "collective_site", rec.actor, "collective"
    taken = [q for site in sites for q in state.find(LandQuota, site=site)]
    if taken:
        raise RuleViolation("quota.site_applied", f"the site is land quota {taken[0].id}'s")
    row = make(
        LandQuota,
        id=p.quota,
        county_id=county_of(state, rec.actor) or rec.actor,
        township_id=collective.parent_id or rec.actor,
        collective_id=rec.actor,
        source=source,
        site=sites[0],
        household_id=household,
        site_area_m2=area,
        holder=holder,
        holder_kind=holder_kind,
        status="applied",
        applied_seq=rec.seq,
        holder_consent=p.holder_consent,
        collective_consent=p.collective_consent,
    )
    return [Put(row)]


@rule(
    "quota.project_approved",
    ProjectApproved,
    prefetch=lambda p, rec: quota_reads(p.quota),
    signed_by=QUOTA_COUNTY,
    version=VOUCHER_VERSION,
)
def approve_project(state: State, rec: RecordContext, p: ProjectApproved) -> list[Change]:
    """The county approves the site's reclamation project (复垦项目)."""
    quota = county_quota(state, rec, p.quota)
    require_status(quota, "applied")
    update = {"status": "approved", "project_document": p.project_document, "approved_seq": rec.seq}
    return [Put(quota.model_copy(update=update))]


@rule(
    "quota.accepted",
    QuotaAccepted,
    prefetch=lambda p, rec: quota_reads(p.quota),
    signed_by=QUOTA_COUNTY,
    version=VOUCHER_VERSION,
)
def accept_reclamation(state: State, rec: RecordContext, p: QuotaAccepted) -> list[Change]:
    """The county's joint acceptance (验收) of the reclaimed land, with the area measured."""
    quota = county_quota(state, rec, p.quota)
    require_status(quota, "approved")
    if p.measured_m2 > quota.site_area_m2:
        raise RuleViolation(
            "quota.measured_over_site",
            f"{p.measured_m2} m² measured on a site of {quota.site_area_m2} m²",
        )
    update = {
        "status": "accepted",
        "measured_m2": p.measured_m2,
        "acceptance_document": p.acceptance_document,
        "accepted_seq": rec.seq,
    }
    return [Put(quota.model_copy(update=update))]


@rule(
    "quota.confirmed",
    QuotaConfirmed,
    prefetch=lambda p, rec: quota_reads(p.quota),
    signed_by=QUOTA_COUNTY,
    version=VOUCHER_VERSION,
)
def confirm_quota(state: State, rec: RecordContext, p: QuotaConfirmed) -> list[Change]:
    """The county confirms the building-land quota (节余指标), in m², as measured: it may now be
    listed on the exchange."""
    quota = county_quota(state, rec, p.quota)
    require_status(quota, "accepted")
    if p.quota_m2 != quota.measured_m2:
        raise RuleViolation(
            "quota.area_mismatch", f"the acceptance measured {quota.measured_m2} m², not {p.quota_m2} m²"
        )
    update = {"status": "confirmed", "quota_m2": p.quota_m2, "confirmed_seq": rec.seq}
    return [Put(quota.model_copy(update=update))]


RULES = (apply_for_quota, approve_project, accept_reclamation, confirm_quota)
