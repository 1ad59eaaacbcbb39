"""What is in force on this ledger, read from the committed projection tables through the same
``State`` the rules read: the rule version, and a county's policy numbers with the seq of the
``policy.set`` record that last set each one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Connection, select

from api.service.projections import SqlReader
from contracts.orgs import Org
from contracts.policy import DEFAULT_POLICY, CountyPolicy, county_of, policy_for
from contracts.rulebook import RULES_ROW, VERSION_BEFORE_ADOPTION, RulesInForce
from contracts.state import StagedState, State
from ledger.errors import Category, Rejection
from ledger.schema import records


def committed_state(conn: Connection) -> State:
    """The committed projection rows, as a rule sees them (no cache across calls)."""
    return StagedState(SqlReader(conn, {}))


@dataclass(frozen=True)
class RulesVersion:
    version: int
    adopted_seq: int | None  # None: nothing adopted, version 1 since genesis


def rules_version(conn: Connection) -> RulesVersion:
    row = committed_state(conn).get(RulesInForce, RULES_ROW)
    if row is None:
        return RulesVersion(VERSION_BEFORE_ADOPTION, None)
    return RulesVersion(row.version, row.adopted_seq)


@dataclass(frozen=True)
class PolicyNumber:
    value: Any
    default: Any
    set_seq: int | None  # the policy.set record that last set it; None while it is the default


@dataclass(frozen=True)
class PolicyInForce:
    org: str
    county: str
    numbers: dict[str, PolicyNumber]


def policy_in_force(conn: Connection, org_id: str) -> PolicyInForce:
    """The policy numbers in force for ``org_id``'s county; ``org.not_found`` for an unknown
    organisation, ``policy.no_county`` for one under no county (both not found)."""
    state = committed_state(conn)
    if state.get(Org, org_id) is None:
        raise Rejection("org.not_found", f"no organisation {org_id}", category=Category.NOT_FOUND)
    county = county_of(state, org_id)
    if county is None:
        raise Rejection(
            "policy.no_county", f"organisation {org_id} is in no county", category=Category.NOT_FOUND
        )
    values = msgspec.to_builtins(policy_for(state, org_id))
    defaults = msgspec.to_builtins(DEFAULT_POLICY)
    row = state.get(CountyPolicy, county)
    set_by = _set_by(conn, county, row.set_seq) if row is not None else {}
    return PolicyInForce(
        org_id,
        county,
        {name: PolicyNumber(values[name], defaults[name], set_by.get(name)) for name in defaults},
    )


def _set_by(conn: Connection, county: str, up_to: int) -> dict[str, int]:
    """Each number's last setter among the county's ``policy.set`` records up to ``up_to``
    (the seq its projection row was written at, so records and row agree however many were
    appended since the row was read)."""
    query = (
        select(records.c.seq, records.c.body)
        .where(records.c.kind == "policy.set", records.c.actor == county, records.c.seq <= up_to)
        .order_by(records.c.seq)
    )
    set_by: dict[str, int] = {}
    for seq, body in conn.execute(query):
        for name in msgspec.json.decode(body)["entry"]["payload"]["numbers"]:
            set_by[name] = seq
    return set_by
