"""Asset verification (清产核资), in memory: operating assets summed less liabilities, a later
verification superseding the current one, and each refusal by its code."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.assets import AssetVerification
from tests.unit.contracts.harness import DOC, Harness


def test_a_verification_nets_operating_assets_against_liabilities(h: Harness, village: str) -> None:
    payload = h.verification_payload(operating=(80_000_000, 40_000_000, 5), liabilities=20_000_000)
    changes = h.submit(village, "assets.verified", payload)
    row = changes.one(AssetVerification)
    assert (row.collective_id, str(row.as_of), row.verified_seq) == (village, "2025-12-31", changes.seq)
    assert (row.operating_fen, row.liabilities_fen, row.net_operating_fen) == (
        120_000_005,
        20_000_000,
        100_000_005,
    )
    assert row.audit_statement == DOC and row.superseded_by is None
    assert row.details["resource_assets"] == [
        {"category": "collective_forest", "area_m2": 200_000, "value_fen": None}
    ]
    assert row.details["non_operating_assets"][0]["category"] == "village_office"
    assert len(row.details["operating_assets"]) == 3


def test_resource_and_non_operating_assets_are_never_quantified(h: Harness, village: str) -> None:
    payload = {
        **h.verification_payload(operating=(1_000,), liabilities=0),
        "non_operating_assets": [{"category": "school", "value_fen": 10**12}],
    }
    assert h.submit(village, "assets.verified", payload).one(AssetVerification).net_operating_fen == 1_000


def test_liabilities_may_exceed_the_operating_assets(h: Harness, village: str) -> None:
    payload = h.verification_payload(operating=(1_000,), liabilities=5_000)
    assert h.submit(village, "assets.verified", payload).one(AssetVerification).net_operating_fen == -4_000


def test_a_later_verification_supersedes_the_current_one(h: Harness, village: str) -> None:
    h.submit(village, "assets.verified", h.verification_payload("AV-2025"))
    changes = h.submit(village, "assets.verified", h.verification_payload("AV-2026", as_of="2026-02-28"))
    assert h.row(AssetVerification, "AV-2025").superseded_by == "AV-2026"
    assert {r.id for r in changes.puts(AssetVerification)} == {"AV-2025", "AV-2026"}
    h.submit(village, "assets.verified", h.verification_payload("AV-2026b", as_of="2026-02-28"))
    assert h.row(AssetVerification, "AV-2026").superseded_by == "AV-2026b"
    assert h.row(AssetVerification, "AV-2025").superseded_by == "AV-2026"


def test_a_verification_older_than_the_current_one(h: Harness, village: str) -> None:
    h.submit(village, "assets.verified", h.verification_payload("AV-2025"))
    old = h.verification_payload("AV-2024", as_of="2024-12-31")
    h.refused("assets.older_than_current", village, "assets.verified", old)


def test_each_collective_has_its_own_current_verification(h: Harness, village: str) -> None:
    h.submit(village, "assets.verified", h.verification_payload("AV-2025"))
    other = h.collective()
    h.submit(other, "assets.verified", h.verification_payload("AV-other-2024", as_of="2024-12-31"))
    assert h.row(AssetVerification, "AV-2025").superseded_by is None


def test_a_verification_id_used_twice(h: Harness, village: str) -> None:
    h.submit(village, "assets.verified", h.verification_payload("AV-2025"))
    h.refused(
        "assets.exists", village, "assets.verified", h.verification_payload("AV-2025", as_of="2026-01-31")
    )
    h.refused("assets.exists", h.collective(), "assets.verified", h.verification_payload("AV-2025"))


def test_only_a_collective_verifies_its_assets(h: Harness, village: str) -> None:
    township = h.parents[village]
    assert township is not None
    h.refused("org.not_a_collective", township, "assets.verified", h.verification_payload())


def test_the_audit_statement_defaults_to_none_given(h: Harness, village: str) -> None:
    payload = h.verification_payload()
    del payload["audit_statement"]
    assert h.submit(village, "assets.verified", payload).one(AssetVerification).audit_statement == "0" * 64


@pytest.mark.parametrize(
    "over",
    [
        {"operating_assets": []},
        {"operating_assets": [{"category": "the old mill by the river", "value_fen": 1}]},
        {"operating_assets": [{"category": "market", "value_fen": -1}]},
        {"liabilities_fen": -1},
        {"resource_assets": [{"category": "farmland", "area_m2": -5}]},
        {"audit_statement": "audited"},
    ],
    ids=repr,
)
def test_a_malformed_verification(h: Harness, village: str, over: dict[str, Any]) -> None:
    h.refused("payload.invalid", village, "assets.verified", {**h.verification_payload(), **over})
