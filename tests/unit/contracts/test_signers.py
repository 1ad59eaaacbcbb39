"""Who may sign each kind (``Rule.signed_by``) against what the rules do, in memory: in each
kind's prepared situation (``situations.py``) its example, signed by an organisation of a type
the declaration does not list, is refused and leaves the ledger as it was; signed by each type
it lists, it is accepted; and signed by an organisation of a listed type that does not have the
declared role (another village, another township, an unrelated organisation), it is refused.
A bidding entity signs a bidder's own acts (a bid, a match, a sealed quote and its opening) for
itself and nothing for anyone else."""

from __future__ import annotations

import pytest

from contracts import examples as ex
from contracts.orgs import CHILD_TYPES, CHILD_TYPES_V3, ORG_TYPES, Org
from contracts.rulebook import RULEBOOK
from ledger.errors import Category
from tests.support import credit_code
from tests.unit.contracts.harness import COUNTY
from tests.unit.contracts.situations import BIDDERS_ACTS, prepared

CURRENT = RULEBOOK.current
KINDS = sorted(RULEBOOK.kinds(CURRENT))

# The land quota's steps the county takes (its only county, the root).
QUOTA_COUNTY_KINDS = ("quota.project_approved", "quota.accepted", "quota.confirmed", "quota.used")

# The voucher programme's steps the county takes; the voucher kinds two types sign, each type's
# acceptance tested in ``test_rules_vouchers`` (the developer leaving the pool itself, the county
# expiring a voucher).
VOUCHER_COUNTY_KINDS = (
    "voucher.prices_published",
    "voucher.developer_admitted",
    "voucher.project_registered",
)
TWO_SIGNERS = {"voucher.developer_left", "voucher.expired"}

# Who signs what, as the rulebook declares it: (types, role) by kind.
DECLARED = {kind: rule.signed_by for kind, rule in RULEBOOK.kinds(CURRENT).items()}

# The refusal of an example signed by an organisation of a type not listed. Most rules check
# the actor's type first and refuse as forbidden; those marked RULE_VIOLATION look up what the
# entry names (a membership, a contract, a homestead, a pledge) within the actor's own collective
# and so refuse as not found there, which no organisation of another type can ever pass. Every
# exchange act but the listing finds its listing and refuses a signer that does not run it.
FORBIDDEN, RULE = Category.FORBIDDEN, Category.RULE_VIOLATION
REFUSAL: dict[str, tuple[str, Category]] = {
    "rules.adopted": ("rules.not_root", FORBIDDEN),
    "org.registered": ("org.not_authorised", RULE),
    "policy.set": ("policy.not_a_county", FORBIDDEN),
    "household.registered": ("org.not_a_collective", FORBIDDEN),
    "household.member_added": ("household.other_collective", FORBIDDEN),
    "household.member_removed": ("household.other_collective", FORBIDDEN),
    "household.split": ("household.other_collective", FORBIDDEN),
    "member.admitted": ("org.not_a_collective", FORBIDDEN),
    "member.objection_filed": ("membership.not_a_member", RULE),
    "member.objection_resolved": ("membership.not_a_member", RULE),
    "member.confirmed": ("membership.not_a_member", RULE),
    "member.status_changed": ("membership.not_a_member", RULE),
    "land.contract_issued": ("org.not_a_collective", FORBIDDEN),
    "land.contract_extended": ("land.unknown_contract", RULE),
    "land.management_transferred": ("land.unknown_contract", RULE),
    "land.contracting_right_transferred": ("land.unknown_contract", RULE),
    "land.contracts_exchanged": ("land.unknown_contract", RULE),
    "land.returned": ("land.unknown_contract", RULE),
    "homestead.granted": ("org.not_a_collective", FORBIDDEN),
    "homestead.transferred": ("homestead.unknown", RULE),
    "homestead.withdrawn": ("homestead.unknown", RULE),
    "certificate.membership_issued": ("org.not_a_collective", FORBIDDEN),
    "certificate.transfer_filed": ("certificate.not_a_township", FORBIDDEN),
    "assets.verified": ("org.not_a_collective", FORBIDDEN),
    "shares.quantified": ("org.not_a_collective", FORBIDDEN),
    "shares.transferred": ("org.not_a_collective", FORBIDDEN),
    "shares.bought_back": ("org.not_a_collective", FORBIDDEN),
    "shares.inherited": ("org.not_a_collective", FORBIDDEN),
    "shares.pledged": ("org.not_a_collective", FORBIDDEN),
    "shares.pledge_released": ("shares.no_pledge", RULE),
    "shares.certificate_issued": ("org.not_a_collective", FORBIDDEN),
    "dividend.declared": ("org.not_a_collective", FORBIDDEN),
    "calendar.declared": ("calendar.not_a_county", FORBIDDEN),
    "exchange.listed": ("exchange.not_an_exchange", FORBIDDEN),
    **{
        f"exchange.{act}": ("exchange.not_listing_exchange", FORBIDDEN)
        for act in (
            "extended",
            "withdrawn",
            "held",
            "hold_lifted",
            "bidder_registered",
            "deposit_received",
            "bid",
            "priority_matched",
            "quote_sealed",
            "quote_opened",
            "awarded",
            "failed",
            "contract_signed",
            "defaulted",
            "payment_confirmed",
            "deposit_refunded",
            "certificate_issued",
        )
    },
    "quota.applied": ("quota.not_collective", FORBIDDEN),
    **{kind: ("quota.not_county", FORBIDDEN) for kind in QUOTA_COUNTY_KINDS},
    "quota.proceeds_split": ("quota.not_listing_exchange", FORBIDDEN),
    # The voucher kinds check the signer's type before anything else.
    **{kind: ("voucher.not_county", FORBIDDEN) for kind in (*VOUCHER_COUNTY_KINDS, "voucher.developer_left")},
    **{
        f"voucher.{act}": ("voucher.not_housing_authority", FORBIDDEN)
        for act in ("issued", "cash_compensated", "settled", "transferred", "expired", "cashed_out")
    },
    "voucher.redeemed": ("voucher.not_developer", FORBIDDEN),
}
# Kinds every organisation type may sign: nothing to refuse by type.
ANY_TYPE = {"key.added", "key.revoked", "party.registered"}


def test_every_rule_of_every_version_declares_who_signs_it() -> None:
    for (kind, version), rule in RULEBOOK.rules.items():
        signers = rule.signed_by
        assert signers is not None, f"{kind} version {version}"
        assert set(signers.types) <= set(ORG_TYPES) and signers.role.strip()
        assert list(signers.types) == [t for t in ORG_TYPES if t in signers.types], "in ORG_TYPES order"


def test_a_revision_may_add_signers_but_never_drops_one() -> None:
    """A revision may let organisations of more types sign what it newly allows (version 3's
    ``org.registered``: an exchange centre registering its bidding entities), with a role phrase
    that says so; it never drops a type, so an entry an earlier version admitted is never refused
    for its signer's type, and a revision that adds no type keeps the declaration as it was."""
    for (kind, version), rule in RULEBOOK.rules.items():
        earlier = [r for (k, v), r in RULEBOOK.rules.items() if k == kind and v < version]
        if not earlier:
            continue
        before, after = max(earlier, key=lambda r: r.version).signed_by, rule.signed_by
        assert before is not None and after is not None
        assert set(before.types) <= set(after.types), f"{kind} version {version} drops a signer type"
        if set(before.types) == set(after.types):
            assert after == before, f"{kind} version {version}"


def test_the_refusals_table_covers_every_kind_some_type_may_not_sign() -> None:
    limited = {kind for kind, signers in DECLARED.items() if signers and set(signers.types) != set(ORG_TYPES)}
    assert limited == set(REFUSAL) and not limited & ANY_TYPE
    assert set(KINDS) == limited | ANY_TYPE


@pytest.mark.parametrize("kind", sorted(REFUSAL))
def test_an_org_of_a_type_not_listed_is_refused_and_the_declared_signer_accepted(kind: str) -> None:
    signers = DECLARED[kind]
    assert signers is not None
    s = prepared(kind)
    code, category = REFUSAL[kind]
    unlisted = [t for t in ORG_TYPES if t not in signers.types]
    # One type listed, or (org.registered, a bidder's own acts) each listed type's acceptance
    # has its own test.
    assert unlisted and (len(signers.types) == 1 or kind in {"org.registered", *BIDDERS_ACTS, *TWO_SIGNERS})
    # Under version 1 (rules.adopted's situation) no bidding entity exists: its refusal is below.
    assert set(s.orgs) == set(ORG_TYPES) or (kind, set(ORG_TYPES) - set(s.orgs)) == (
        "rules.adopted",
        {"bidding_entity"},
    )
    for org_type in [t for t in unlisted if t in s.orgs]:
        refusal = s.h.refused(code, s.orgs[org_type], kind, ex.example(kind))
        assert refusal.category == category, (org_type, refusal.message)
    assert s.h.row(Org, s.signer).type in signers.types
    assert s.example()


def test_a_county_registers_its_own_children_as_the_parent_too() -> None:
    """``org.registered`` lists the county and the township: the example is a township's act;
    the county's is registering a township (or an exchange center, a developer, a housing
    authority)."""
    s = prepared("org.registered")
    payload = {
        **ex.example("org.registered"),
        "id": "town-songcun",
        "name": "威海市文登区宋村镇人民政府",
        "type": "township",
        "parent": COUNTY,
        "area_code": "371003112",
        "credit_code": None,
    }
    assert s.h.submit(COUNTY, "org.registered", payload).one(Org).parent_id == COUNTY


def test_a_bidding_entity_adopts_no_rules() -> None:
    """``rules.adopted``'s situation is under version 1, before bidding entities; under the
    current version one is refused as any organisation but the root."""
    s = prepared("policy.set")
    refusal = s.h.refused("rules.not_root", s.orgs["bidding_entity"], "rules.adopted", {"version": CURRENT})
    assert refusal.category == FORBIDDEN


def test_an_exchange_centre_registers_its_bidding_entities_as_the_parent_too() -> None:
    """Version 3's ``org.registered`` lists the exchange centre too: it registers the
    cooperative as its bidding entity, by its credit code, with no area code."""
    s = prepared("org.registered")
    org = s.h.submit(ex.EXCHANGE, "org.registered", ex.bidding_entity_registered()).one(Org)
    assert (org.type, org.parent_id, org.credit_code) == (
        "bidding_entity",
        ex.EXCHANGE,
        ex.COOPERATIVE_CREDIT_CODE,
    )
    assert org.area_code is None


@pytest.mark.parametrize("kind", ["exchange.bid", "exchange.quote_sealed", "exchange.quote_opened"])
def test_a_bidding_entity_signs_its_own_bid(kind: str) -> None:
    """The cooperative, 竞买人 1 of the examples and the exchange centre's bidding entity, signs
    the example for itself (its own match as the sitting tenant is in
    ``test_rules_exchange_entities``: the examples' match is the member's)."""
    s = prepared(kind)
    assert ex.example(kind)["bidder"] == ex.COOPERATIVE_BIDDER
    changes = s.submit(kind, s.orgs["bidding_entity"])
    assert changes and s.h.records[-1]["entry"]["actor"] == ex.COOPERATIVE


@pytest.mark.parametrize("kind", BIDDERS_ACTS)
def test_a_bidding_entity_acts_for_no_other_bidder(kind: str) -> None:
    """The cooperative signing the example for the member (竞买人 2) is refused, and so is a
    bidding entity of another exchange centre signing it for the cooperative."""
    s = prepared(kind)
    s.h.refused(
        "exchange.not_the_bidder",
        s.orgs["bidding_entity"],
        kind,
        {**ex.example(kind), "bidder": ex.NEIGHBOUR_BIDDER},
    )
    far = s.h.register(
        s.other_exchange, "coop-far", "bidding_entity", credit_code=credit_code("93", ex.COUNTY_CODE, 77)
    )
    s.h.refused("exchange.not_listing_exchange", far, kind, ex.example(kind))
    assert s.example()


@pytest.mark.parametrize("org_type", ORG_TYPES)
def test_an_org_of_any_type_adds_a_key_to_itself(org_type: str) -> None:
    s = prepared("key.added")
    org = s.orgs[org_type]
    s.h.submit(org, "key.added", {**ex.example("key.added"), "org": org})


@pytest.mark.parametrize("org_type", ORG_TYPES)
def test_an_org_of_any_type_revokes_its_own_key(org_type: str) -> None:
    s = prepared("key.revoked")
    org = s.orgs[org_type]
    s.h.submit(org, "key.added", {"org": org, "public_key": ex.NEW_VILLAGE_KEY})
    s.h.submit(org, "key.revoked", {**ex.example("key.revoked"), "key_id": ex.key_id(ex.NEW_VILLAGE_KEY)})


@pytest.mark.parametrize("org_type", ORG_TYPES)
def test_an_org_of_any_type_registers_a_party(org_type: str) -> None:
    s = prepared("party.registered")
    s.h.submit(s.orgs[org_type], "party.registered", ex.example("party.registered"))


# The role: an organisation of a listed type that is not the one the role names.

ROLE_REFUSAL: dict[str, str] = {
    "org.registered": "org.not_authorised",  # another township is not the village's parent
    "certificate.transfer_filed": "certificate.outside_jurisdiction",  # nor its township
    "household.registered": "",  # any collective registers its own households: no other to refuse
    "member.admitted": "household.other_collective",
    "household.member_added": "household.other_collective",
    "household.member_removed": "household.other_collective",
    "household.split": "household.other_collective",
    "member.objection_filed": "membership.not_a_member",
    "member.objection_resolved": "membership.not_a_member",
    "member.confirmed": "membership.not_a_member",
    "member.status_changed": "membership.not_a_member",
    "land.contract_issued": "household.other_collective",
    "land.contract_extended": "land.unknown_contract",
    "land.management_transferred": "land.unknown_contract",
    "land.contracting_right_transferred": "land.unknown_contract",
    "land.contracts_exchanged": "land.unknown_contract",
    "land.returned": "land.unknown_contract",
    "homestead.granted": "household.other_collective",
    "homestead.transferred": "homestead.unknown",
    "homestead.withdrawn": "homestead.unknown",
    "certificate.membership_issued": "household.other_collective",
    "assets.verified": "",  # the collective verifies its own assets
    "shares.quantified": "assets.unknown",
    "shares.transferred": "shares.not_quantified",
    "shares.bought_back": "shares.not_quantified",
    "shares.inherited": "shares.not_quantified",
    "shares.pledged": "shares.no_holding",
    "shares.pledge_released": "shares.no_pledge",
    "shares.certificate_issued": "household.other_collective",
    "dividend.declared": "shares.not_quantified",
    # A township's exchange centre has no jurisdiction over the village; one that did not make
    # the listing does not act on it.
    "exchange.listed": "exchange.no_jurisdiction",
    **{
        kind: "exchange.not_listing_exchange"
        for kind in REFUSAL
        if kind.startswith("exchange.") and kind != "exchange.listed"
    },
    # Another village's homestead is not the signer's to reclaim; a centre that did not certify
    # the quota's listing does not split its proceeds.
    "quota.applied": "quota.not_collective",
    "quota.proceeds_split": "quota.not_listing_exchange",
    # Any housing authority of the county acts for its programme, a developer signs for itself,
    # and a ledger has one county: no organisation of the type lacks the role.
    **{kind: "" for kind in REFUSAL if kind.startswith("voucher.") and kind not in VOUCHER_COUNTY_KINDS},
}
# Kinds only the county signs, for itself: a ledger has one county (the root), so there is no
# other organisation of the type to refuse.
COUNTY_ONLY = {"rules.adopted", "policy.set", "calendar.declared", *QUOTA_COUNTY_KINDS, *VOUCHER_COUNTY_KINDS}
# The organisation of the signer's type that does not have the role.
OTHER = {
    "township": "other_township",
    "village_collective": "other_village",
    "exchange_center": "other_exchange",
}


def test_the_role_table_covers_every_kind_but_the_countys_own() -> None:
    assert set(ROLE_REFUSAL) == set(REFUSAL) - COUNTY_ONLY
    assert {
        kind for kind, signers in DECLARED.items() if signers and signers.types == ("county",)
    } == COUNTY_ONLY


@pytest.mark.parametrize("kind", sorted(k for k, code in ROLE_REFUSAL.items() if code))
def test_an_org_of_a_listed_type_without_the_role_is_refused(kind: str) -> None:
    """The example signed by the other village of the township (for a township's act, the other
    township; for an exchange's, a township's exchange centre) instead of the one the role names."""
    s = prepared(kind)
    other = getattr(s, OTHER[s.h.row(Org, s.signer).type])
    s.h.refused(ROLE_REFUSAL[kind], other, kind, ex.example(kind))
    assert s.example()


def test_an_unrelated_org_may_not_manage_the_villages_keys() -> None:
    s = prepared("key.revoked")
    for org in (s.other_village, s.other_township, s.orgs["developer"], s.orgs["bidding_entity"]):
        s.h.refused("org.not_authorised", org, "key.added", ex.example("key.added"))
        s.h.refused("org.not_authorised", org, "key.revoked", ex.example("key.revoked"))
    s.h.submit(ex.TOWNSHIP, "key.added", ex.example("key.added"))  # the village's parent may
    s.h.submit(COUNTY, "key.revoked", ex.example("key.revoked"))  # and so may its county


def test_the_root_is_the_one_county_of_a_ledger() -> None:
    """``rules.adopted`` (the root), ``policy.set`` and ``calendar.declared`` (a county, for
    itself) list only the county type: no organisation registers a county, so the root is the
    only one."""
    assert all("county" not in children for children in (*CHILD_TYPES.values(), *CHILD_TYPES_V3.values()))
    for kind in sorted(COUNTY_ONLY):
        s = prepared(kind)
        assert [o.id for o in s.h.rows(Org) if o.type == "county"] == [COUNTY]
        assert s.h.row(Org, COUNTY).parent_id is None
        assert s.example()
