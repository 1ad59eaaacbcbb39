"""The county policy numbers in force for an organisation, and the records that set them."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from api.http.dependencies import Db
from api.http.routes.paging import ID_PATTERN
from api.http.wire.policy import CountyPolicyInForce, PolicyNumber
from api.reads.policy import policy_in_force

OrgParam = Annotated[str, QueryParameter(pattern=ID_PATTERN, description="any organisation of a county")]


class PolicyController(Controller):
    path = "/v1/policy"
    tags = ["policy"]

    @get("/", operation_id="getPolicy", summary="The county policy numbers in force for an organisation")
    async def policy(self, db: Db, org: OrgParam) -> CountyPolicyInForce:
        found = await db.run_sync(policy_in_force, org)
        return CountyPolicyInForce(
            org=found.org,
            county=found.county,
            numbers={
                name: PolicyNumber(value=n.value, default=n.default, set_seq=n.set_seq)
                for name, n in found.numbers.items()
            },
        )
