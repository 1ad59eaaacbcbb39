"""Property tests of the share rules, in memory: for any sequence of share operations (valid
or not), units are conserved except by buy-back, nothing goes negative, pledged units never
move, and dividend payouts sum to the declared amount to the fen."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.assets import AssetVerification
from contracts.dividends import Dividend, payouts
from contracts.errors import RuleViolation
from contracts.households import HouseholdMember
from contracts.membership import Membership
from contracts.orgs import Org
from contracts.parties import Party
from contracts.registry import RecordContext
from contracts.rulebook import RULEBOOK
from contracts.shares import ShareHolding, SharePledge, ShareScheme
from contracts.state import MemoryReader, StagedState, make

VILLAGE = "v1"
MEMBERS = [f"00000000-0000-4000-8000-{i:012d}" for i in range(40)]
OUTSIDER = "00000000-0000-4000-8000-999999999999"
BANK = "91371003000008801N"  # the lender: a bank's unified social credit code
HOUSEHOLD = "00000000-0000-4000-9000-000000000001"


def base_state() -> MemoryReader:
    memory = MemoryReader()
    rows: list[Any] = [
        make(
            Org,
            id="c",
            name="c",
            type="county",
            parent_id=None,
            registered_seq=0,
            area_code="371003",
            credit_code=None,
        ),
        make(
            Org,
            id="t",
            name="t",
            type="township",
            parent_id="c",
            registered_seq=1,
            area_code="371003100",
            credit_code=None,
        ),
        make(
            Org,
            id=VILLAGE,
            name="v",
            type="village_collective",
            parent_id="t",
            registered_seq=2,
            area_code="371003100200",
            credit_code=None,
        ),
        make(
            AssetVerification,
            id="av",
            collective_id=VILLAGE,
            as_of=date(2025, 12, 31),
            operating_fen=10**9,
            liabilities_fen=10**8,
            net_operating_fen=9 * 10**8,
            details={},
            audit_statement="0" * 64,
            verified_seq=3,
            superseded_by=None,
        ),
    ]
    for i, party in enumerate([*MEMBERS, OUTSIDER]):
        rows.append(make(Party, id=party, commitment="0" * 64, registered_by=VILLAGE, registered_seq=10 + i))
    for party in MEMBERS:
        rows.append(
            make(HouseholdMember, party_id=party, household_id=HOUSEHOLD, relation="other", joined_seq=60)
        )
        rows.append(
            make(
                Membership,
                party_id=party,
                collective_id=VILLAGE,
                household_id=HOUSEHOLD,
                status="active",
                basis="hukou",
                notice_end=date(2025, 1, 1),
                admitted_seq=70,
                status_seq=71,
                ended_reason=None,
                rights_retained_until=None,
            )
        )
    staged: dict[Any, dict[Any, Any]] = {}
    for row in rows:
        from contracts.state import key_of

        staged.setdefault(type(row), {})[key_of(row)] = row
    memory.apply(staged)
    return memory


class Ledger:
    def __init__(self) -> None:
        self.memory = base_state()
        self.seq = 100

    def apply(self, kind: str, payload: dict[str, Any]) -> bool:
        rule = RULEBOOK.kinds(RULEBOOK.current)[kind]
        state = StagedState(self.memory)
        self.seq += 1
        ctx = RecordContext(self.seq, "2026-06-01T00:00:00.000000Z", "id", kind, VILLAGE, "k")
        try:
            state.stage(list(rule.apply(state, ctx, rule.decode(payload))))
        except RuleViolation:
            return False
        self.memory.apply(state.drain())
        return True

    def rows(self, model: type) -> list[Any]:
        return list(self.memory.tables.get(model, {}).values())


def quantify(ledger: Ledger) -> None:
    allocations = [
        {
            "party": p,
            "household": HOUSEHOLD,
            "basic_units": 100,
            "labour_years": i % 5,
            "labour_units": (i % 5) * 10,
        }
        for i, p in enumerate(MEMBERS)
    ]
    member_units = sum(a["basic_units"] + a["labour_units"] for a in allocations)
    assert ledger.apply(
        "shares.quantified",
        {
            "scheme": "s1",
            "verification": "av",
            "scheme_date": "2026-01-01",
            "basic_units_per_member": 100,
            "labour_units_per_year": 10,
            "collective_units": 1000,
            "total_units": member_units + 1000,
            "allocations": allocations,
        },
    )


holder = st.sampled_from([*MEMBERS[:6], OUTSIDER, "collective"])
operation = st.one_of(
    st.tuples(st.just("shares.transferred"), holder, holder, st.integers(1, 150)),
    st.tuples(st.just("shares.bought_back"), holder, st.just(""), st.integers(1, 120)),
    st.tuples(st.just("shares.pledged"), holder, st.just(""), st.integers(1, 120)),
    st.tuples(st.just("shares.pledge_released"), st.just(""), st.just(""), st.integers(0, 20)),
    st.tuples(st.just("dividend.declared"), st.just(""), st.just(""), st.integers(0, 10**7)),
)


def payload_for(op: tuple[str, str, str, int], n: int) -> dict[str, Any]:
    kind, a, b, x = op
    h = "0" * 64
    if kind == "shares.transferred":
        return {"holder": a, "to": b, "units": x, "price_fen": 100 * x, "agreement": h}
    if kind == "shares.bought_back":
        return {"holder": a, "units": x, "price_fen": 100 * x, "agreement": h}
    if kind == "shares.pledged":
        return {"pledge": f"p{n}", "holder": a, "units": x, "pledgee": BANK, "contract": h}
    if kind == "shares.pledge_released":
        return {"pledge": f"p{x}"}
    return {"dividend": f"d{n}", "distributable_fen": x, "amount_fen": x, "resolution": h}


@settings(max_examples=150, deadline=None)
@given(st.lists(operation, max_size=40))
def test_share_invariants(ops: list[tuple[str, str, str, int]]) -> None:
    ledger = Ledger()
    quantify(ledger)
    for n, op in enumerate(ops):
        [scheme] = ledger.rows(ShareScheme)
        before = {h.holder: h for h in ledger.rows(ShareHolding)}
        applied = ledger.apply(op[0], payload_for(op, n))
        [after_scheme] = ledger.rows(ShareScheme)
        holdings = {h.holder: h for h in ledger.rows(ShareHolding)}
        # Units are conserved, except that a buy-back retires exactly its units.
        retired = op[3] if applied and op[0] == "shares.bought_back" else 0
        assert after_scheme.total_units == scheme.total_units - retired
        assert sum(h.units for h in holdings.values()) == after_scheme.total_units
        for h in holdings.values():
            assert 0 <= h.pledged_units <= h.units
            # Pledged units never move: a holder never holds less than it has pledged, and
            # its units drop only by what was free before the operation.
            old = before.get(h.holder)
            if old is not None and h.units < old.units:
                assert old.units - h.units <= old.units - old.pledged_units
        open_pledges: dict[str, int] = {}
        for p in ledger.rows(SharePledge):
            if p.status == "pledged":
                open_pledges[p.holder] = open_pledges.get(p.holder, 0) + p.units
        assert {k: v.pledged_units for k, v in holdings.items() if v.pledged_units} == open_pledges
        if applied and op[0] == "dividend.declared":
            paid = next(d for d in ledger.rows(Dividend) if d.id == f"d{n}").payouts
            assert sum(fen for _, fen in paid.values()) == op[3]
        if applied and op[0] == "shares.transferred":
            assert op[2] in MEMBERS  # shares move only to members


@given(
    st.integers(0, 10**12),
    st.dictionaries(st.text(min_size=1, max_size=5), st.integers(1, 10**6), min_size=1, max_size=50),
)
def test_payouts_sum_exactly_and_are_fair(amount: int, holdings: dict[str, int]) -> None:
    split = payouts(amount, holdings)
    assert sum(split.values()) == amount
    total = sum(holdings.values())
    for h, units in holdings.items():
        exact = amount * units / total
        assert abs(split[h] - exact) < 1 + 1e-6 * exact


def test_every_operation_can_succeed() -> None:
    """Guards the property test above against passing only because everything is refused."""
    ledger = Ledger()
    quantify(ledger)
    m0, m1 = MEMBERS[:2]
    assert ledger.apply("shares.pledged", payload_for(("shares.pledged", m0, "", 50), 1))
    assert ledger.apply("shares.transferred", payload_for(("shares.transferred", m0, m1, 50), 2))
    assert not ledger.apply("shares.transferred", payload_for(("shares.transferred", m0, m1, 1), 3))
    assert ledger.apply("shares.pledge_released", payload_for(("shares.pledge_released", "", "", 1), 4))
    assert ledger.apply("shares.bought_back", payload_for(("shares.bought_back", m0, "", 20), 5))
    assert ledger.apply("dividend.declared", payload_for(("dividend.declared", "", "", 999_999), 6))
    assert not ledger.apply("shares.transferred", payload_for(("shares.transferred", m1, OUTSIDER, 1), 7))
