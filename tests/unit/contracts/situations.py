"""Prepared situations for the catalogue's examples (``contracts.examples``): for each entry
kind, a ledger in the rule harness in which its example is accepted as it is, and the
organisation that signs it there.

Every situation starts from the same county: genesis and the current rule version (for
``rules.adopted``: version 1, so that the example can adopt the current one), the township
of the examples, the examples' village as ``org.registered``'s example registers it (with the
harness's signing key beside the example's key, so the test can sign for it; ``org.registered``'s
own situation leaves it out), and one organisation of every other type: a second township and
village, an exchange center, a developer and a housing authority (``Situation.orgs``).

The rest is built from the examples themselves, with the ids they name: the household's
registration is ``household.registered``'s example, the head's admission ``member.admitted``'s
and so on. Where one example stands for several entries, the others are the same payload with
another party (the spouse's and the son's admission and confirmation), and two things the
examples leave out are built with the harness's payload builders: the neighbour's household and
land contract, and the 24 members of six more households in the share scheme, so that a member
receiving units stays within the county's 5 % holder cap (the ``shares.quantified`` example's
allocations come first, unchanged).

The clock: the assembly's decision is admitted on 1 March 2026 with its notice from 2 to 9
March; members are confirmed on 10 March; shares are quantified on 1 April.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts import examples as ex
from contracts.examples import example
from contracts.rulebook import RULEBOOK
from ledger.signing import b64
from tests.unit.contracts.harness import COUNTY, Changes, Harness

CONFIRMED_AT = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 09:00 in China Standard Time
QUANTIFIED_AT = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
FILLER_HOUSEHOLDS = 6  # of 4 members each, in the share scheme

# Who signs each example in its situation: the one organisation of the one type its rule lists,
# or, for the kinds several types may sign, the one the example is about.
SIGNER_BY_TYPE = {"county": COUNTY, "township": ex.TOWNSHIP, "village_collective": ex.VILLAGE}
SIGNER = {
    "org.registered": ex.TOWNSHIP,  # the parent of the village it registers
    "key.added": ex.VILLAGE,  # the village adds a key to itself
    "key.revoked": ex.VILLAGE,  # and revokes its own old one
    "party.registered": ex.VILLAGE,  # the village registers the grandchild
}


def signer_of(kind: str) -> str:
    if kind in SIGNER:
        return SIGNER[kind]
    rule = RULEBOOK.in_force(kind, RULEBOOK.current)
    assert rule is not None and rule.signed_by is not None
    assert len(rule.signed_by.types) == 1, f"name the signer of {kind}'s example in SIGNER"
    return SIGNER_BY_TYPE[rule.signed_by.types[0]]


@dataclass
class Situation:
    """A ledger ready for ``kind``'s example, ``signer`` to sign it, and an organisation of
    each type (``orgs``: type -> id) besides."""

    h: Harness
    kind: str
    signer: str
    orgs: dict[str, str] = field(default_factory=dict)
    other_village: str = ""
    other_township: str = ""

    def submit(self, kind: str, actor: str | None = None, **over: Any) -> Changes:
        """``kind``'s example (with the fields in ``over`` replaced), signed by its signer."""
        return self.h.submit(actor or signer_of(kind), kind, {**example(kind), **over})

    def example(self) -> Changes:
        return self.submit(self.kind, self.signer)

    # The village's people

    def person(self, party: str) -> None:
        self.h.person(ex.VILLAGE, dataclasses.replace(self.h.new_person(), party=party))

    def household(self) -> None:
        people(self)
        self.submit("household.registered")

    def admit(self, party: str, household: str = ex.HOUSEHOLD) -> None:
        self.submit("member.admitted", party=party, household=household)

    def members(self, *, neighbours: bool = False, filler: bool = False) -> list[tuple[str, str]]:
        """The household (and the neighbours', and six more of four) admitted on 1 March and
        confirmed on 10 March; returns the filler's (household, party) pairs."""
        self.household()
        admitted = [(ex.HOUSEHOLD, p) for p in (ex.HEAD, ex.SPOUSE, ex.SON)]
        if neighbours:
            for party in (ex.NEIGHBOUR_HEAD, ex.NEIGHBOUR_SPOUSE):
                self.person(party)
            payload = self.h.household_payload(
                ex.NEIGHBOUR_HEAD, [ex.NEIGHBOUR_HEAD, ex.NEIGHBOUR_SPOUSE], household=ex.NEIGHBOUR_HOUSEHOLD
            )
            self.h.submit(ex.VILLAGE, "household.registered", payload)
            admitted += [(ex.NEIGHBOUR_HOUSEHOLD, p) for p in (ex.NEIGHBOUR_HEAD, ex.NEIGHBOUR_SPOUSE)]
        more = []
        if filler:
            for _ in range(FILLER_HOUSEHOLDS):
                household, people = self.h.household(ex.VILLAGE, 4)
                more += [(household, p) for p in people]
        for household, party in [*admitted, *more]:
            self.admit(party, household)
        self.h.clock.set(CONFIRMED_AT)
        for _, party in [*admitted, *more]:
            self.submit("member.confirmed", party=party)
        return more

    # Land and homesteads

    def neighbour_contract(self) -> None:
        payload = self.h.contract_payload(
            ex.VILLAGE, ex.NEIGHBOUR_HOUSEHOLD, [ex.NEIGHBOUR_FIELD], contract=ex.NEIGHBOUR_CONTRACT
        )
        self.h.submit(ex.VILLAGE, "land.contract_issued", payload)

    # Shares

    def share_scheme(self) -> None:
        """The household's and the neighbours' members, six more households, the asset
        verification and the example's scheme with the 24 more members' allocations."""
        more = self.members(neighbours=True, filler=True)
        self.h.clock.set(QUANTIFIED_AT)
        self.submit("assets.verified")
        scheme = example("shares.quantified")
        scheme["allocations"] += [ex.allocation(party, household, 10) for household, party in more]
        members = sum(a["basic_units"] + a["labour_units"] for a in scheme["allocations"])
        scheme["collective_units"] = members // 4  # a fifth of the total, as in the example
        scheme["total_units"] = members + scheme["collective_units"]
        self.h.submit(ex.VILLAGE, "shares.quantified", scheme)


def base(kind: str) -> Situation:
    h = Harness(rules_version=None if kind == "rules.adopted" else RULEBOOK.current)
    h.register(COUNTY, ex.TOWNSHIP, "township", name=ex.TOWNSHIP_NAME, area_code=ex.TOWNSHIP_CODE)
    if kind != "org.registered":
        village = example("org.registered")
        key = h.new_key(ex.VILLAGE)
        h.submit(
            ex.TOWNSHIP,
            "org.registered",
            {**village, "public_keys": [b64(key.key.public_key), ex.VILLAGE_KEY]},
        )
        h.keys[ex.VILLAGE] = key
        h.parents[ex.VILLAGE] = ex.TOWNSHIP
        h.codes[ex.VILLAGE] = ex.VILLAGE_CODE
    s = Situation(h, kind, signer_of(kind))
    s.other_township = h.township("town-other")
    s.other_village = h.collective(ex.TOWNSHIP, "village-other")
    s.orgs = {
        "county": COUNTY,
        "township": ex.TOWNSHIP,
        "village_collective": ex.VILLAGE if kind != "org.registered" else s.other_village,
        "exchange_center": h.exchange_center(COUNTY, "exchange-wendeng"),
        "developer": h.developer("developer-wendeng"),
        "housing_authority": h.housing_authority("housing-wendeng"),
    }
    return s


def nothing(s: Situation) -> None:
    pass


def people(s: Situation) -> None:
    for party in (ex.HEAD, ex.SPOUSE, ex.SON):
        s.person(party)


def household(s: Situation) -> None:
    s.household()


def household_and_grandchild(s: Situation) -> None:
    s.household()
    s.submit("party.registered")


def admitted_head(s: Situation) -> None:
    s.household()
    s.admit(ex.HEAD)


def objection(s: Situation) -> None:
    admitted_head(s)
    s.submit("member.objection_filed")


def notice_over(s: Situation) -> None:
    admitted_head(s)
    s.h.clock.set(CONFIRMED_AT)


def members(s: Situation) -> None:
    s.members()


def contracted(s: Situation) -> None:
    s.members()
    s.submit("land.contract_issued")


def contracted_with_neighbours(s: Situation) -> None:
    s.members(neighbours=True)
    s.submit("land.contract_issued")
    s.neighbour_contract()


def homestead(s: Situation) -> None:
    s.members()
    s.submit("homestead.granted")


def homestead_with_neighbours(s: Situation) -> None:
    s.members(neighbours=True)
    s.submit("homestead.granted")


def rights(s: Situation) -> None:
    contracted(s)
    s.submit("homestead.granted")


def certified(s: Situation) -> None:
    rights(s)
    s.submit("certificate.membership_issued")


def verified_assets(s: Situation) -> None:
    s.members(neighbours=True)
    s.h.clock.set(QUANTIFIED_AT)
    s.submit("assets.verified")


def share_scheme(s: Situation) -> None:
    s.share_scheme()


def head_died(s: Situation) -> None:
    s.share_scheme()
    s.submit("member.status_changed")


def pledged(s: Situation) -> None:
    s.share_scheme()
    s.submit("shares.pledged")


# What each kind's example needs before it, beyond the base.
PREPARE: dict[str, Callable[[Situation], None]] = {
    "rules.adopted": nothing,
    "org.registered": nothing,
    "key.added": nothing,
    "key.revoked": nothing,
    "policy.set": nothing,
    "party.registered": nothing,
    "household.registered": people,
    "household.member_added": household_and_grandchild,
    "household.member_removed": household,
    "household.split": household,
    "member.admitted": household,
    "member.objection_filed": admitted_head,
    "member.objection_resolved": objection,
    "member.confirmed": notice_over,
    "member.status_changed": members,
    "land.contract_issued": members,
    "land.contract_extended": contracted,
    "land.management_transferred": contracted,
    "land.contracting_right_transferred": contracted_with_neighbours,
    "land.contracts_exchanged": contracted_with_neighbours,
    "land.returned": contracted,
    "homestead.granted": members,
    "homestead.transferred": homestead_with_neighbours,
    "homestead.withdrawn": homestead,
    "certificate.membership_issued": rights,
    "certificate.transfer_filed": certified,
    "assets.verified": nothing,
    "shares.quantified": verified_assets,
    "shares.transferred": share_scheme,
    "shares.bought_back": share_scheme,
    "shares.inherited": head_died,
    "shares.pledged": share_scheme,
    "shares.pledge_released": pledged,
    "shares.certificate_issued": share_scheme,
    "dividend.declared": share_scheme,
}


def prepared(kind: str) -> Situation:
    """The situation in which ``kind``'s example is accepted, signed by ``Situation.signer``."""
    s = base(kind)
    PREPARE[kind](s)
    return s
