"""A reference of house vouchers (房票) written from the specification (issue 14 and its design
notes' "Arithmetic" and "Kinds" sections), never from ``contracts.vouchers``: nothing of it is
imported or called here, the month arithmetic included.

``Reference`` is a small state machine over the plain acts a county's vouchers see (a price
schedule, the developer pool, issuance and cash compensation, redemption, staged settlement,
split transfer, expiry, cash-out), each with the ledger's date. Every act returns the refusal
codes the specification gives it, in the order the design lists them; an empty list means the
act is admitted, and the reference then applies it. The property test compares that verdict with
the rules' act by act, and the reference's figures (balance, bonus, expiry cash, stage amounts)
with the rows the rules wrote.

The arithmetic, re-derived from the text:

- ``add_months(d, m)``: the same day ``m`` calendar months later, clamped to the month's last day;
- a voucher is valid through ``add_months(issued_on, validity) - 1 day``;
- the month of a voucher on ``today`` is one plus the largest ``m >= 0`` with
  ``add_months(issued_on, m) <= today`` (found here by trying every ``m``);
- a redemption of ``a`` fen in month ``n`` earns ``a * bp // 10000`` fen, ``bp`` the first tier
  (by bound) whose bound is at least ``n``, else 0;
- the balance is face less what was used and transferred out;
- expiry pays the balance ``B`` at par when the used ``U`` is at least the par share of the face
  ``F`` (``U * 10000 >= par_bp * F``), else ``B - G * B // F`` with ``G`` the bonus granted;
- stage ``i`` of a redemption of value ``V`` pays ``V * c_i // 10000 - V * c_(i-1) // 10000``,
  ``c_i`` the stages' cumulative basis points.

Where several codes apply the specification fixes no precedence; the list keeps the design's order
and the property test accepts any of them (an act the reference admits must be admitted, one it
refuses must be refused with one of its codes).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

STAGE_NAMES = ("contract", "registration", "handover")


@dataclass(frozen=True)
class VoucherTerms:
    """The county's voucher policy as a voucher copies it at issuance."""

    validity_months: int = 24
    tiers: tuple[tuple[int, int], ...] = ((12, 500), (24, 200))
    transfers_allowed: int = 1
    par_share_bp: int = 8500
    floor_m2_per_person: int = 35
    stages: tuple[tuple[str, int], ...] = (("contract", 3000), ("registration", 4000), ("handover", 3000))


# The arithmetic


def add_months(d: date, months: int) -> date:
    """The same day ``months`` calendar months later, or the month's last day if it is shorter."""
    year, month0 = divmod(d.year * 12 + d.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


def valid_until(issued_on: date, validity_months: int) -> date:
    return add_months(issued_on, validity_months) - timedelta(days=1)


def month_of_voucher(issued_on: date, today: date) -> int:
    """1 + the largest ``m >= 0`` with ``add_months(issued_on, m) <= today``, by trying each ``m``."""
    assert issued_on <= today
    span = (today.year - issued_on.year) * 12 + today.month - issued_on.month + 2
    return 1 + max(m for m in range(span + 1) if add_months(issued_on, m) <= today)


def bonus_bp(tiers: tuple[tuple[int, int], ...], month: int) -> int:
    for bound, bp in sorted(tiers, key=lambda t: t[0]):
        if month <= bound:
            return bp
    return 0


def bonus_fen(amount_fen: int, bp: int) -> int:
    return amount_fen * bp // 10_000


def expiry_cash(face: int, used: int, bonus: int, balance: int, par_share_bp: int) -> int:
    """What an expiring voucher pays for its unused balance."""
    if used * 10_000 >= par_share_bp * face:
        return balance
    return balance - bonus * balance // face


def stage_amounts(value_fen: int, stages: tuple[tuple[str, int], ...]) -> list[int]:
    amounts, before, cumulative = [], 0, 0
    for _, bp in stages:
        cumulative += bp
        upto = value_fen * cumulative // 10_000
        amounts.append(upto - before)
        before = upto
    return amounts


# The state


@dataclass
class Voucher:
    id: str
    household: str
    holders: tuple[str, ...]
    face: int
    issued_on: date
    terms: VoucherTerms
    generation: int = 0
    parent: str | None = None
    used: int = 0
    bonus: int = 0
    transferred: int = 0
    status: str = "active"  # active | spent | transferred | expired | cashed_out
    cash_due: int | None = None
    children: list[str] = field(default_factory=list)

    @property
    def balance(self) -> int:
        return self.face - self.used - self.transferred

    @property
    def valid_until(self) -> date:
        return valid_until(self.issued_on, self.terms.validity_months)


@dataclass
class Redemption:
    id: str
    voucher: str
    developer: str
    amount: int
    month: int
    bonus_bp: int
    bonus: int
    stages: tuple[tuple[str, int], ...]
    settled: int = 0  # stages settled, in order
    settled_fen: int = 0

    @property
    def value(self) -> int:
        return self.amount + self.bonus

    def due(self) -> list[int]:
        return stage_amounts(self.value, self.stages)


@dataclass(frozen=True)
class Homestead:
    id: str
    household: str
    area_m2: int
    zone: str
    withdrawn_for: str | None  # "voucher" | "cash" | None (still held)


@dataclass(frozen=True)
class Project:
    developer: str
    in_county: bool


@dataclass(frozen=True)
class Part:
    voucher: str
    holders: tuple[str, ...]
    amount: int


class Reference:
    """The vouchers of one county, as the specification says they move."""

    def __init__(
        self,
        terms: VoucherTerms,
        homesteads: dict[str, Homestead],
        members: dict[str, tuple[str, ...]],
        parties: set[str],
        developers: set[str],
        projects: dict[str, Project],
        schedules: dict[str, tuple[date, dict[str, int]]],
    ) -> None:
        self.terms = terms
        self.homesteads = homesteads
        self.members = members  # household -> its member parties
        self.parties = parties  # registered parties
        self.in_pool = set(developers)
        self.projects = projects
        self.schedules = schedules  # id -> (effective_from, zone -> fen per m²)
        self.compensated: dict[str, str] = {}  # homestead -> "voucher" | "cash"
        self.vouchers: dict[str, Voucher] = {}
        self.redemptions: dict[str, Redemption] = {}
        self.purchases: dict[tuple[str, str], tuple[int, int]] = {}  # (developer, contract) -> price, applied

    # Policy and pool

    def set_policy(self, terms: VoucherTerms) -> None:
        self.terms = terms

    def leave(self, developer: str) -> list[str]:
        if developer not in self.in_pool:
            return ["voucher.developer_not_in_pool"]
        self.in_pool.discard(developer)
        return []

    def admit(self, developer: str) -> list[str]:
        if developer in self.in_pool:
            return ["voucher.already_in_pool"]
        self.in_pool.add(developer)
        return []

    def publish(self, schedule: str, effective_from: date, prices: dict[str, int], today: date) -> list[str]:
        codes = []
        if schedule in self.schedules:
            codes.append("voucher.schedule_exists")
        if effective_from < today:
            codes.append("voucher.schedule_backdated")
        if any(e == effective_from for e, _ in self.schedules.values()):
            codes.append("voucher.effective_date_taken")
        if not codes:
            self.schedules[schedule] = (effective_from, dict(prices))
        return codes

    def in_force(self, today: date) -> str | None:
        dated = [(e, s) for s, (e, _) in self.schedules.items() if e <= today]
        return max(dated)[1] if dated else None

    def face_value(self, homestead: str, schedule: str, appraisal_fen: int) -> int | None:
        """What the schedule makes of the homestead, or None if its zone is not priced."""
        h = self.homesteads[homestead]
        price = self.schedules[schedule][1].get(h.zone)
        return None if price is None else h.area_m2 * price + appraisal_fen

    # Issuance and cash compensation

    def _compensation_codes(
        self, homestead: str, schedule: str, appraisal_fen: int, amount: int, today: date, taking: str
    ) -> list[str]:
        h = self.homesteads.get(homestead)
        if h is None or h.withdrawn_for is None:
            return ["voucher.no_withdrawal"]
        codes = []
        if h.withdrawn_for != taking:
            codes.append(f"voucher.household_chose_{h.withdrawn_for}")
        if homestead in self.compensated:
            codes.append("voucher.already_compensated")
        if schedule not in self.schedules:
            return [*codes, "voucher.unknown_schedule"]
        if self.in_force(today) != schedule:
            codes.append("voucher.schedule_not_in_force")
        face = self.face_value(homestead, schedule, appraisal_fen)
        if face is None:
            codes.append("voucher.zone_not_priced")
        elif face != amount:
            codes.append("voucher.face_value_mismatch")
        return codes

    def issue(
        self,
        voucher: str,
        homestead: str,
        holders: tuple[str, ...],
        schedule: str,
        appraisal_fen: int,
        face: int,
        today: date,
    ) -> list[str]:
        codes = ["voucher.exists"] if voucher in self.vouchers else []
        codes += self._compensation_codes(homestead, schedule, appraisal_fen, face, today, "voucher")
        h = self.homesteads.get(homestead)
        if h is not None and any(p not in self.members.get(h.household, ()) for p in holders):
            codes.append("voucher.holder_not_of_household")
        if not codes:
            assert h is not None
            self.compensated[homestead] = "voucher"
            self.vouchers[voucher] = Voucher(voucher, h.household, holders, face, today, self.terms)
        return codes

    def cash(self, homestead: str, schedule: str, appraisal_fen: int, amount: int, today: date) -> list[str]:
        codes = self._compensation_codes(homestead, schedule, appraisal_fen, amount, today, "cash")
        if not codes:
            self.compensated[homestead] = "cash"
        return codes

    # Redemption and settlement

    def _expired(self, v: Voucher, today: date) -> bool:
        return today > v.valid_until or v.status in ("expired", "cashed_out")

    def value_of(self, voucher: str, amount: int, today: date) -> tuple[int, int, int]:
        """The month of the voucher, the bonus bp and the bonus fen of redeeming ``amount`` today."""
        v = self.vouchers[voucher]
        month = month_of_voucher(v.issued_on, today)
        bp = bonus_bp(v.terms.tiers, month)
        return month, bp, bonus_fen(amount, bp)

    def redeem(
        self,
        redemption: str,
        voucher: str,
        developer: str,
        project: str,
        holder: str,
        purchase: str,
        price: int,
        amount: int,
        today: date,
    ) -> list[str]:
        codes = ["voucher.redemption_exists"] if redemption in self.redemptions else []
        v = self.vouchers.get(voucher)
        if v is None:
            return [*codes, "voucher.unknown_voucher"]
        if developer not in self.in_pool:
            codes.append("voucher.developer_not_in_pool")
        p = self.projects.get(project)
        if p is None:
            codes.append("voucher.unknown_project")
        else:
            if p.developer != developer:
                codes.append("voucher.project_not_developers")
            if not p.in_county:
                codes.append("voucher.outside_county")
        if self._expired(v, today):
            codes.append("voucher.expired")
        elif v.status != "active":
            codes.append("voucher.not_active")
        if holder not in v.holders:
            codes.append("voucher.not_holder")
        if amount > v.balance:
            codes.append("voucher.beyond_balance")
        month, bp, bonus = self.value_of(voucher, amount, today)
        known_price, applied = self.purchases.get((developer, purchase), (price, 0))
        if applied + amount + bonus > known_price:
            codes.append("voucher.beyond_price")
        if known_price != price:
            codes.append("voucher.purchase_price_differs")
        if codes:
            return codes
        v.used += amount
        v.bonus += bonus
        if v.balance == 0:
            v.status = "spent"
        self.redemptions[redemption] = Redemption(
            redemption, voucher, developer, amount, month, bp, bonus, v.terms.stages
        )
        self.purchases[(developer, purchase)] = (price, applied + amount + bonus)
        return []

    def settle(self, redemption: str, stage: str, amount: int) -> list[str]:
        r = self.redemptions.get(redemption)
        if r is None:
            return ["voucher.unknown_redemption"]
        names = [name for name, _ in r.stages]
        if stage not in names:
            return ["voucher.unknown_stage"]
        i = names.index(stage)
        if i < r.settled:
            return ["voucher.stage_settled"]
        if i > r.settled:
            return ["voucher.stage_out_of_order"]
        if amount != r.due()[i]:
            return ["voucher.settlement_mismatch"]
        r.settled += 1
        r.settled_fen += amount
        return []

    # Transfer

    def transfer(self, voucher: str, floor_area_m2: int, parts: tuple[Part, ...], today: date) -> list[str]:
        v = self.vouchers.get(voucher)
        if v is None:
            return ["voucher.unknown_voucher"]
        codes = []
        if v.terms.transfers_allowed == 0:
            codes.append("voucher.transfer_not_allowed")
        if v.generation >= 1:
            codes.append("voucher.transferred_again")
        if self._expired(v, today):
            codes.append("voucher.expired")
        elif v.status != "active":
            codes.append("voucher.not_active")
        if floor_area_m2 < v.terms.floor_m2_per_person * len(self.members[v.household]):
            codes.append("voucher.floor_area_short")
        if sum(p.amount for p in parts) != v.balance:
            codes.append("voucher.parts_not_summing")
        ids = [p.voucher for p in parts]
        if len(set(ids)) != len(ids) or any(i in self.vouchers for i in ids):
            codes.append("voucher.exists")
        if any(holder not in self.parties for p in parts for holder in p.holders):
            codes.append("voucher.unknown_holder")
        if codes:
            return codes
        for p in parts:
            self.vouchers[p.voucher] = replace(
                v,
                id=p.voucher,
                holders=p.holders,
                face=p.amount,
                generation=v.generation + 1,
                parent=v.id,
                used=0,
                bonus=0,
                transferred=0,
                status="active",
                cash_due=None,
                children=[],
            )
            v.children.append(p.voucher)
        v.transferred += v.balance
        v.status = "transferred"
        return []

    # Expiry and cash-out

    def cash_due(self, voucher: str) -> int:
        v = self.vouchers[voucher]
        return expiry_cash(v.face, v.used, v.bonus, v.balance, v.terms.par_share_bp)

    def expire(self, voucher: str, cash_fen: int, today: date) -> list[str]:
        v = self.vouchers.get(voucher)
        if v is None:
            return ["voucher.unknown_voucher"]
        codes = []
        if today <= v.valid_until:
            codes.append("voucher.not_expired")
        if v.status != "active":
            codes.append("voucher.not_active")
        elif cash_fen != self.cash_due(voucher):
            codes.append("voucher.cash_mismatch")
        if not codes:
            v.cash_due = cash_fen
            v.status = "expired"
        return codes

    def cash_out(self, voucher: str, amount_fen: int) -> list[str]:
        v = self.vouchers.get(voucher)
        if v is None:
            return ["voucher.unknown_voucher"]
        if v.status == "cashed_out":
            return ["voucher.already_cashed_out"]
        if v.status != "expired":
            return ["voucher.not_expired_yet"]
        if amount_fen != v.cash_due:
            return ["voucher.cash_mismatch"]
        v.status = "cashed_out"
        return []
