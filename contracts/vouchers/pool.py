"""The county's developer pool: ``voucher.developer_admitted``, ``voucher.project_registered``
(a project by its presale permit) and ``voucher.developer_left``. Only a developer in the pool
redeems vouchers, on its own registered projects; once it left, it redeems nothing."""

from __future__ import annotations

from typing import Annotated

import msgspec

from contracts.errors import RuleViolation
from contracts.identifiers import AREA_CODE_LENGTHS, InvalidIdentifier, validate_area_code
from contracts.land import ContractId
from contracts.orgs import Org, OrgId
from contracts.registry import Payload, RecordContext, Signers, rule
from contracts.state import Change, Put, State, Where, make
from contracts.vouchers.common import COUNTY, forbidden, require_county
from contracts.vouchers.tables import PoolDeveloper, PoolProject
from contracts.vouchers.terms import VOUCHER_VERSION

IN_POOL = "in_pool"
LEFT = "left"

PresalePermit = Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Za-z][0-9A-Za-z-]{2,39}$")]
AreaCode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6,12}$")]


class DeveloperAdmitted(Payload, frozen=True):
    developer: OrgId


class ProjectRegistered(Payload, frozen=True):
    project: ContractId
    developer: OrgId
    presale_permit: PresalePermit
    area_code: AreaCode


class DeveloperLeft(Payload, frozen=True):
    developer: OrgId


def in_pool(state: State, developer_id: str, county_id: str) -> PoolDeveloper:
    """The developer's pool row, if it is in ``county_id``'s pool now."""
    row = state.get(PoolDeveloper, developer_id)
    if row is None or row.status != IN_POOL or row.county_id != county_id:
        raise RuleViolation(
            "voucher.developer_not_in_pool", f"{developer_id} is not in the voucher pool of {county_id}"
        )
    return row


@rule(
    "voucher.developer_admitted",
    DeveloperAdmitted,
    prefetch=lambda p, rec: [(Org, (p.developer,)), (PoolDeveloper, (p.developer,))],
    signed_by=COUNTY,
    version=VOUCHER_VERSION,
)
def admit_developer(state: State, rec: RecordContext, p: DeveloperAdmitted) -> list[Change]:
    """The county admits one of its registered developers to the voucher pool (again, after it left)."""
    county = require_county(state, rec)
    developer = state.get(Org, p.developer)
    if developer is None or developer.type != "developer" or developer.parent_id != county.id:
        raise RuleViolation("voucher.not_a_developer", f"{p.developer} is no developer of {county.id}")
    row = state.get(PoolDeveloper, p.developer)
    if row is not None and row.status == IN_POOL:
        raise RuleViolation(
            "voucher.already_in_pool", f"{p.developer} is in the pool since seq {row.admitted_seq}"
        )
    return [
        Put(
            make(
                PoolDeveloper,
                developer_id=p.developer,
                county_id=county.id,
                status=IN_POOL,
                admitted_seq=rec.seq,
                left_seq=None,  # when it left before is in its earlier entries
            )
        )
    ]


def _area_code(code: str) -> str:
    level = {length: level for level, length in AREA_CODE_LENGTHS.items()}.get(len(code))
    try:
        if level is None:
            raise InvalidIdentifier(f"an area code is 6, 9 or 12 digits, found {code!r}")
        return validate_area_code(code, level)
    except InvalidIdentifier as e:
        raise RuleViolation("voucher.invalid_area_code", str(e)) from e


@rule(
    "voucher.project_registered",
    ProjectRegistered,
    prefetch=lambda p, rec: [
        (PoolProject, (p.project,)),
        (PoolDeveloper, (p.developer,)),
        Where(PoolProject, "presale_permit", p.presale_permit),
    ],
    signed_by=COUNTY,
    version=VOUCHER_VERSION,
)
def register_project(state: State, rec: RecordContext, p: ProjectRegistered) -> list[Change]:
    """The county registers a pool developer's housing project by its presale permit and where it
    lies (a project outside the county takes none of this county's vouchers)."""
    county = require_county(state, rec)
    if state.get(PoolProject, p.project) is not None:
        raise RuleViolation("voucher.project_exists", f"project {p.project} exists")
    in_pool(state, p.developer, county.id)
    taken = state.find(PoolProject, presale_permit=p.presale_permit)
    if taken:
        raise RuleViolation(
            "voucher.permit_taken", f"presale permit {p.presale_permit} is project {taken[0].id}'s"
        )
    row = make(
        PoolProject,
        id=p.project,
        developer_id=p.developer,
        county_id=county.id,
        presale_permit=p.presale_permit,
        area_code=_area_code(p.area_code),
        registered_seq=rec.seq,
    )
    return [Put(row)]


@rule(
    "voucher.developer_left",
    DeveloperLeft,
    prefetch=lambda p, rec: [(PoolDeveloper, (p.developer,))],
    signed_by=Signers(("county", "developer"), "the county, or the developer itself"),
    version=VOUCHER_VERSION,
)
def leave_pool(state: State, rec: RecordContext, p: DeveloperLeft) -> list[Change]:
    """A developer leaves the county's voucher pool (the county removes it, or it leaves): it
    redeems nothing after this record."""
    actor = state.get(Org, rec.actor)
    if actor is not None and actor.type == "developer":
        if p.developer != actor.id:
            raise forbidden("voucher.not_developer", f"{actor.id} takes only itself out of the pool")
        row = state.get(PoolDeveloper, p.developer)
        county_id = row.county_id if row is not None else ""
    else:
        county_id = require_county(state, rec).id
    row = in_pool(state, p.developer, county_id)
    return [Put(row.model_copy(update={"status": LEFT, "left_seq": rec.seq}))]


RULES = (admit_developer, register_project, leave_pool)
