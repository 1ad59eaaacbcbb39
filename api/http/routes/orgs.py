"""Organisations and their keys, as the ledger has registered them."""

from __future__ import annotations

from litestar import Controller, get
from sqlmodel import col, select

from api.http.dependencies import Session
from api.http.problems import ApiProblem
from api.http.routes.paging import Id, IdFilter, Limit
from api.http.wire.registry import Organisation, OrganisationKey, OrganisationPage
from contracts.orgs import Org, OrgKey
from ledger.errors import Category


def org_json(org: Org, keys: list[OrgKey]) -> Organisation:
    return Organisation(
        id=org.id,
        name=org.name,
        type=org.type,
        parent=org.parent_id,
        registered_seq=org.registered_seq,
        keys=[
            OrganisationKey(
                key_id=k.key_id, public_key=k.public_key, added_seq=k.added_seq, revoked_seq=k.revoked_seq
            )
            for k in keys
            if k.org_id == org.id
        ],
    )


class OrgController(Controller):
    path = "/v1/orgs"
    tags = ["organisations"]

    @get("/", operation_id="listOrgs", summary="Registered organisations, filtered by type or parent")
    async def list_orgs(
        self,
        session: Session,
        type: IdFilter = None,
        parent: IdFilter = None,
        after: IdFilter = None,
        limit: Limit = 100,
    ) -> OrganisationPage:
        query = select(Org).order_by(col(Org.id)).limit(limit + 1)
        if type is not None:
            query = query.where(Org.type == type)
        if parent is not None:
            query = query.where(Org.parent_id == parent)
        if after is not None:
            query = query.where(col(Org.id) > after)
        orgs = list((await session.exec(query)).all())
        more = len(orgs) > limit
        orgs = orgs[:limit]
        keys = list(
            (
                await session.exec(
                    select(OrgKey)
                    .where(col(OrgKey.org_id).in_([o.id for o in orgs]))
                    .order_by(col(OrgKey.added_seq))
                )
            ).all()
        )
        return OrganisationPage([org_json(o, keys) for o in orgs], orgs[-1].id if more else None)

    @get("/{org_id:str}", operation_id="getOrg", summary="One organisation with its key history")
    async def get_org(self, session: Session, org_id: Id) -> Organisation:
        org = await session.get(Org, org_id)
        if org is None:
            raise ApiProblem(Category.NOT_FOUND, "org.not_found", f"no organisation {org_id}")
        keys = list(
            (
                await session.exec(
                    select(OrgKey).where(OrgKey.org_id == org_id).order_by(col(OrgKey.added_seq))
                )
            ).all()
        )
        return org_json(org, keys)
