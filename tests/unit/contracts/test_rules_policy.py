"""County policy numbers (``policy.set``), in memory: who may set them, what is refused, and
that the numbers set are the ones the rules then read, merged over the defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.policy import DEFAULT_POLICY, CountyPolicy
from tests.unit.contracts.harness import COUNTY, Harness

DEFAULTS = msgspec.json.decode(msgspec.json.encode(DEFAULT_POLICY))  # as stored: plain JSON


def stored(h: Harness) -> dict[str, Any]:
    return h.row(CountyPolicy, COUNTY).numbers


def test_the_county_sets_a_number_and_keeps_the_defaults_of_the_others(h: Harness) -> None:
    changes = h.set_policy(membership_notice_days=10)
    row = changes.one(CountyPolicy)
    assert row.county_id == COUNTY and row.set_seq == changes.seq
    assert row.numbers == {**DEFAULTS, "membership_notice_days": 10}


def test_a_later_setting_keeps_the_earlier_one(h: Harness) -> None:
    h.set_policy(membership_notice_days=10)
    h.set_policy(holder_share_cap_bp=800)
    assert stored(h) == {**DEFAULTS, "membership_notice_days": 10, "holder_share_cap_bp": 800}


def test_setting_a_number_back_to_its_default(h: Harness) -> None:
    h.set_policy(membership_notice_days=10)
    h.set_policy(membership_notice_days=7)
    assert stored(h) == DEFAULTS


def test_a_map_of_numbers_is_replaced_whole(h: Harness) -> None:
    h.set_policy(homestead_cap_m2={"suburb": 180})
    assert stored(h)["homestead_cap_m2"] == {"suburb": 180}


def test_an_empty_setting_stores_the_defaults(h: Harness) -> None:
    assert h.set_policy().one(CountyPolicy).numbers == DEFAULTS


@pytest.mark.parametrize("actor", ["township", "village", "exchange_center", "developer"])
def test_only_a_county_sets_policy(h: Harness, actor: str) -> None:
    makers: dict[str, Callable[[], str]] = {
        "township": h.township,
        "village": h.collective,
        "exchange_center": h.exchange_center,
        "developer": h.developer,
    }
    org = makers[actor]()
    h.refused("policy.not_a_county", org, "policy.set", {"numbers": {"membership_notice_days": 3}})


def test_an_unknown_number(h: Harness) -> None:
    h.refused("policy.unknown_number", COUNTY, "policy.set", {"numbers": {"free_land": 1}})


@pytest.mark.parametrize(
    "numbers",
    [
        {"membership_notice_days": -1},
        {"membership_notice_days": "7"},
        {"membership_notice_days": True},
        {"membership_notice_days": 10**13},
        {"holder_share_cap_bp": 10_001},
        {"homestead_cap_m2": {"plain": -200}},
        {"homestead_cap_m2": [200]},
        {"exchange_fee_tiers": [{"up_to_fen": 100, "rate_bp": 10_001}]},
        {"exchange_fee_tiers": [{"up_to_fen": 100, "rate_bp": 100, "rate": 1}]},
        {"exchange_fee_tiers": [{"rate_bp": 100}]},
        {"voucher_bonus_bp_by_month": [[12, 500, 1]]},
    ],
    ids=repr,
)
def test_a_value_outside_its_type(h: Harness, numbers: dict[str, Any]) -> None:
    h.refused("policy.invalid", COUNTY, "policy.set", {"numbers": numbers})


tier = st.fixed_dictionaries(
    {"up_to_fen": st.none() | st.integers(0, 10**12), "rate_bp": st.integers(0, 10_000)}
)


@settings(max_examples=40)
@given(st.lists(tier, min_size=1, max_size=8), st.integers(0, 10**12))
def test_fee_tiers_and_minimum_are_stored_as_set(tiers: list[dict[str, Any]], minimum: int) -> None:
    h = Harness()
    h.set_policy(exchange_fee_tiers=tiers, exchange_fee_min_fen=minimum)
    numbers = stored(h)
    assert numbers["exchange_fee_tiers"] == tiers and numbers["exchange_fee_min_fen"] == minimum
    assert {k: v for k, v in numbers.items() if not k.startswith("exchange_fee")} == {
        k: v for k, v in DEFAULTS.items() if not k.startswith("exchange_fee")
    }


@settings(max_examples=40)
@given(st.integers(10_001, 10**6) | st.integers(-(10**6), -1), st.integers(0, 3))
def test_a_fee_rate_outside_zero_to_ten_thousand_basis_points(rate: int, at: int) -> None:
    h = Harness()
    tiers = [{"up_to_fen": 500_000_00 * (i + 1), "rate_bp": 100} for i in range(4)]
    tiers[at]["rate_bp"] = rate
    h.refused("policy.invalid", COUNTY, "policy.set", {"numbers": {"exchange_fee_tiers": tiers}})
