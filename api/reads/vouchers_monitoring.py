"""The house vouchers' and land quotas' monitoring figures (信息管理系统) of a county or a
township as of any seq, with each child organisation's (a county's townships, a township's
villages), and the scope's figures beside its county's targets (``Policy.monitoring_targets``)
as they stood at that seq.

Vouchers: issued (generation 0, their face; a split child is a transfer, not an issuance),
redeemed (amount, bonus, value applied), outstanding (active vouchers' balance), transferred
(the parents' balance passed on), expired with their cash still due, cashed out; homesteads
compensated in cash instead. Quotas: by status, and cumulatively confirmed, traded and used
(a traded quota was confirmed, a used one traded), with the proceeds split so far. People
settled in town is the membership status, as ``api.reads.monitoring`` counts it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from api.reads.exchange_board import area_mu
from api.reads.exchange_monitoring import region
from api.reads.history import row_as_of, rows_as_of
from api.reads.monitoring import scope_of
from contracts.homesteads import Homestead
from contracts.membership import Membership
from contracts.policy import DEFAULT_POLICY, CountyPolicy, Policy
from contracts.quotas.tables import LandQuota
from contracts.quotas.trade import TRADED
from contracts.vouchers.tables import CASHED_OUT, EXPIRED, TRANSFERRED, HomesteadCompensation, Voucher
from ledger.errors import Category, Rejection

SCOPES = ("county", "township")
QUOTA_CONFIRMED = ("confirmed", "traded", "used")


@dataclass
class Tally:
    count: int = 0
    amount: int = 0

    def add(self, amount: int, count: int = 1) -> None:
        self.count += count
        self.amount += amount


@dataclass
class Figures:
    issued: Tally = field(default_factory=Tally)
    redeemed: Tally = field(default_factory=Tally)
    bonus_fen: int = 0
    outstanding: Tally = field(default_factory=Tally)
    transferred: Tally = field(default_factory=Tally)
    expired: Tally = field(default_factory=Tally)
    cashed_out: Tally = field(default_factory=Tally)
    cash_compensations: Tally = field(default_factory=Tally)
    quotas_by_status: Counter[str] = field(default_factory=Counter)
    quota_confirmed: Tally = field(default_factory=Tally)
    quota_traded: Tally = field(default_factory=Tally)
    quota_traded_fen: int = 0
    quota_used: Tally = field(default_factory=Tally)
    proceeds_household_fen: int = 0
    proceeds_collective_fen: int = 0
    people_settled_in_town: int = 0

    def add(self, other: Figures) -> None:
        for name, value in vars(other).items():
            mine = getattr(self, name)
            if isinstance(value, Tally):
                mine.add(value.amount, value.count)
            elif isinstance(value, Counter):
                mine.update(value)
            else:
                setattr(self, name, mine + value)

    def voucher(self, v: Voucher) -> None:
        if v.generation == 0:
            self.issued.add(v.face_fen)
        self.redeemed.add(v.used_fen, v.redemptions)
        self.bonus_fen += v.bonus_fen
        if v.status == "active":
            self.outstanding.add(v.balance_fen)
        elif v.status == TRANSFERRED:
            self.transferred.add(v.transferred_fen)
        elif v.status == EXPIRED:
            self.expired.add(v.cash_due_fen or 0)
        elif v.status == CASHED_OUT:
            self.cashed_out.add(v.cash_due_fen or 0)

    def quota(self, q: LandQuota) -> None:
        self.quotas_by_status[q.status] += 1
        area = q.quota_m2 or 0
        if q.status in QUOTA_CONFIRMED:
            self.quota_confirmed.add(area)
        if q.status in TRADED:
            self.quota_traded.add(area)
            self.quota_traded_fen += q.value_fen or 0
        if q.status == "used":
            self.quota_used.add(area)
        self.proceeds_household_fen += q.household_fen or 0
        self.proceeds_collective_fen += q.collective_fen or 0

    def json(self) -> dict[str, Any]:
        def fen(t: Tally) -> dict[str, int]:
            return {"count": t.count, "fen": t.amount}

        def area(t: Tally) -> dict[str, Any]:
            return {"count": t.count, "m2": t.amount, "mu": area_mu(t.amount)}

        return {
            "issued": fen(self.issued),
            "redeemed": {
                **fen(self.redeemed),
                "bonus_fen": self.bonus_fen,
                "value_fen": self.redeemed.amount + self.bonus_fen,
            },
            "outstanding": fen(self.outstanding),
            "transferred": fen(self.transferred),
            "expired": fen(self.expired),
            "cashed_out": fen(self.cashed_out),
            "cash_compensations": fen(self.cash_compensations),
            "quotas": {
                "by_status": dict(sorted(self.quotas_by_status.items())),
                "confirmed": area(self.quota_confirmed),
                "traded": area(self.quota_traded),
                "traded_fen": self.quota_traded_fen,
                "used": area(self.quota_used),
                "proceeds_household_fen": self.proceeds_household_fen,
                "proceeds_collective_fen": self.proceeds_collective_fen,
            },
            "people_settled_in_town": self.people_settled_in_town,
        }

    def actual(self, target: str) -> int:
        """The figure ``Targets.<target>`` is set for."""
        return {
            "vouchers_issued_fen": self.issued.amount,
            "vouchers_redeemed_fen": self.redeemed.amount,
            "quota_confirmed_m2": self.quota_confirmed.amount,
            "quota_traded_m2": self.quota_traded.amount,
            "quota_used_m2": self.quota_used.amount,
            "people_settled_in_town": self.people_settled_in_town,
        }[target]


def total(parts: Iterable[Figures]) -> Figures:
    out = Figures()
    for part in parts:
        out.add(part)
    return out


def against_targets(figures: Figures, policy: Policy) -> list[dict[str, Any]]:
    """The figures the county has set a target for, beside it."""
    out = []
    for name, target in msgspec.structs.asdict(policy.monitoring_targets).items():
        if target is None:
            continue
        actual = figures.actual(name)
        out.append(
            {
                "name": name,
                "target": target,
                "actual": actual,
                "share_bp": actual * 10_000 // target if target else None,
                "reached": actual >= target,
            }
        )
    return out


async def policy_as_of(conn: AsyncConnection, county: str, as_of: int) -> Policy:
    found = await row_as_of(conn, CountyPolicy, (county,), as_of)
    return msgspec.convert(found.row.numbers, Policy) if found else DEFAULT_POLICY


async def village_figures(conn: AsyncConnection, villages: list[str], as_of: int) -> dict[str, Figures]:
    """Each village's figures as of ``as_of``."""
    figures = {v: Figures() for v in villages}
    if not villages:
        return figures
    where = {"collective_id": villages}
    for v in await rows_as_of(conn, Voucher, as_of, where=where):
        figures[v.row.collective_id].voucher(v.row)
    for q in await rows_as_of(conn, LandQuota, as_of, where=where):
        figures[q.row.collective_id].quota(q.row)
    for m in await rows_as_of(conn, Membership, as_of, where={**where, "status": "settled_in_town"}):
        figures[m.row.collective_id].people_settled_in_town += 1
    homesteads = {
        h.row.id: h.row.collective_id for h in await rows_as_of(conn, Homestead, as_of, where=where)
    }
    if homesteads:
        paid = await rows_as_of(
            conn, HomesteadCompensation, as_of, where={"homestead_id": list(homesteads), "choice": "cash"}
        )
        for c in paid:
            figures[homesteads[c.row.homestead_id]].cash_compensations.add(c.row.amount_fen)
    return figures


async def voucher_monitoring(conn: AsyncConnection, org_id: str, requested: int | None) -> dict[str, Any]:
    """``VoucherMonitoring``'s fields for a county or township as of seq ``requested``."""
    scope = await scope_of(conn, org_id, requested)
    snap, as_of, org, parts = scope.snap, scope.as_of, scope.org, scope.parts
    if org.type not in SCOPES:
        raise Rejection(
            "monitoring.not_a_voucher_scope",
            f"{org_id} is a {org.type}; vouchers and quotas are monitored for a county or a township",
            category=Category.INVALID,
        )
    county = org.id if org.type == "county" else org.parent_id or org.id
    figures = await village_figures(conn, [v for _, vs in parts for v in vs], as_of)
    overall = total(figures.values())
    return {
        "org": region(org),
        "county": county,
        "as_of": as_of,
        "checkpoint": snap.json(),
        "figures": overall.json(),
        "targets": against_targets(overall, await policy_as_of(conn, county, as_of)),
        "children": [
            {"org": region(child), "figures": total(figures[v] for v in vs).json()} for child, vs in parts
        ],
    }
