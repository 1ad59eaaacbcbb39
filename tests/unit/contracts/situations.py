"""Prepared situations for the catalogue's examples (``contracts.examples``): for each entry
kind, a ledger in the rule harness in which its example is accepted as it is, and the
organisation that signs it there.

Every situation starts from the same county: genesis and the current rule version (for
``rules.adopted``: version 1, so that the example can adopt the current one), the township
of the examples, the examples' village as ``org.registered``'s example registers it (with the
harness's signing key beside the example's key, so the test can sign for it; ``org.registered``'s
own situation leaves it out), and one organisation of every other type: a second township and
village, an exchange center, a developer, a housing authority and the exchange center's bidding
entity (``Situation.orgs``). The bidding entity is the examples' cooperative
(``ex.bidding_entity_registered``, with the harness's key), 竞买人 1 of the examples' listing; in
``org.registered``'s own situation, which registers the cooperative in its test, it is a family
farm, and in ``rules.adopted``'s, under version 1, there is none (version 3 brings the type).

The rest is built from the examples themselves, with the ids they name: the household's
registration is ``household.registered``'s example, the head's admission ``member.admitted``'s
and so on. Where one example stands for several entries, the others are the same payload with
another party (the spouse's and the son's admission and confirmation), and two things the
examples leave out are built with the harness's payload builders: the neighbour's household and
land contract, and the 24 members of six more households in the share scheme, so that a member
receiving units stays within the county's 5 % holder cap (the ``shares.quantified`` example's
allocations come first, unchanged).

The exchange's kinds play the examples' listing (``exchange.listed``'s example, or the same
payload taking sealed quotes) on the exchange centre the base registers as ``ex.EXCHANGE``, with
the household's and the neighbours' members, the household's land contract and the county's
2026 calendar before it. The cooperative registers as 竞买人 1 (``exchange.bidder_registered``'s
example) and the neighbours' head as 竞买人 2, each pays the deposit; in the auction the member
opens at the reserve, the cooperative bids 900 yuan (``exchange.bid``'s example) and the member
bids the same under the county's default tie priority, or, where the county's model is
in-auction matching, matches it (``exchange.priority_matched``'s example). ``Situation.other_exchange``
is a township's exchange centre with no jurisdiction over the village.

The land quota's kinds reclaim the household's homestead, withdrawn on 10 March
(``homestead.withdrawn``'s example): the application on 20 March, the project approved on 15
April, the acceptance on 15 September and the quota confirmed on 30 September; listed
(``contracts.examples_quotas.quota_listed``) on Monday 12 October with the 2026 calendar, the
company (竞买人 1) and the neighbours' head (竞买人 2) registered on 20 October, bidding on 27
October (the head at the reserve, the company at 56,000 yuan), the contract on 28 October, the
payment on 2 November and the certificate on 5 November; the proceeds split and the use follow
from 10 November.

The house voucher's kinds follow ``contracts.examples_vouchers``: the household's homestead
withdrawn for a voucher on 10 March (for cash in ``voucher.cash_compensated``'s situation), the
county's prices published on 20 March (in force from 1 April), the county's developer admitted
to the pool with its project on 1 April, the voucher issued on 15 April, transferred on 10 May
(the neighbours' head and spouse registered as transferees), redeemed on 1 June and settled on
3 June; it expires on 15 April 2028, the day after its last valid day, and is cashed out on 20
April 2028.

The clock: the assembly's decision is admitted on 1 March 2026 with its notice from 2 to 9
March; members are confirmed on 10 March; shares are quantified on 1 April. The listing is made
on 1 June (the announcement runs to 10 June), bidders register on 8 June, bidding runs on 16
June from 09:00 to 11:00 China Standard Time and the award follows at 11:30; with the Dragon
Boat holiday on 19 June the contract is due by 22 June. The contract is signed on 18 June, the
payment confirmed on 24 June and the certificate issued on 26 June.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import examples as ex
from contracts import examples_quotas as eq
from contracts import examples_vouchers as ev
from contracts.examples import example
from contracts.exchange.bidding import quote_commitment
from contracts.exchange.tables import Listing
from contracts.rulebook import RULEBOOK
from ledger.entry import parse_time
from ledger.signing import b64
from tests.support import credit_code
from tests.unit.contracts.harness import COUNTY, Changes, Harness

CONFIRMED_AT = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 09:00 in China Standard Time
QUANTIFIED_AT = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
LISTED_AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 on a Monday
REGISTERED_AT = datetime(2026, 6, 8, 2, 0, tzinfo=UTC)
HELD_AT = datetime(2026, 6, 9, 2, 0, tzinfo=UTC)
LIFTED_AT = datetime(2026, 6, 12, 2, 0, tzinfo=UTC)
BIDDING_OPENS_AT = parse_time(ex.BIDDING_OPENS_AT)  # 09:00 on 16 June
BIDDING_CLOSES_AT = parse_time(ex.BIDDING_CLOSES_AT)  # 11:00
AWARDED_AT = BIDDING_CLOSES_AT + timedelta(minutes=30)
CONTRACTED_AT = datetime(2026, 6, 18, 2, 0, tzinfo=UTC)
CONTRACT_OVERDUE_AT = datetime(2026, 6, 23, 2, 0, tzinfo=UTC)  # the day after the contract was due
PAID_AT = datetime(2026, 6, 24, 2, 0, tzinfo=UTC)
CERTIFIED_AT = datetime(2026, 6, 26, 2, 0, tzinfo=UTC)
FILLER_HOUSEHOLDS = 6  # of 4 members each, in the share scheme
FAMILY_FARM_CREDIT_CODE = credit_code("92", ex.COUNTY_CODE, 7)  # 92: an individually run business
# The kinds a bidding entity signs for itself, beside the listing's exchange centre.
BIDDERS_ACTS = ("exchange.bid", "exchange.priority_matched", "exchange.quote_sealed", "exchange.quote_opened")

# Who signs each example in its situation: the one organisation of the one type its rule lists,
# or, for the kinds several types may sign, the one the example is about.
SIGNER_BY_TYPE = {
    "county": COUNTY,
    "township": ex.TOWNSHIP,
    "village_collective": ex.VILLAGE,
    "exchange_center": ex.EXCHANGE,
    "developer": ev.DEVELOPER,
    "housing_authority": ev.HOUSING_AUTHORITY,
}
SIGNER = {
    "org.registered": ex.TOWNSHIP,  # the parent of the village it registers
    "key.added": ex.VILLAGE,  # the village adds a key to itself
    "key.revoked": ex.VILLAGE,  # and revokes its own old one
    "party.registered": ex.VILLAGE,  # the village registers the grandchild
    # A bidder's own acts: the listing's exchange centre, on the bidder's behalf.
    **{kind: ex.EXCHANGE for kind in BIDDERS_ACTS},
    "voucher.developer_left": COUNTY,  # the county takes the developer out (it may leave itself too)
    "voucher.expired": ev.HOUSING_AUTHORITY,  # the county's housing authority (the county may too)
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
    other_exchange: str = ""

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

    # The exchange

    def ready_to_list(self) -> None:
        """The household's and the neighbours' members, the household's contract and the
        county's calendar, and the clock on 1 June."""
        self.members(neighbours=True)
        self.submit("land.contract_issued")
        self.submit("calendar.declared")
        self.h.clock.set(LISTED_AT)

    def listing(self, **over: Any) -> None:
        """The examples' listing (with the fields in ``over`` replaced), made on 1 June."""
        self.ready_to_list()
        self.submit("exchange.listed", **over)

    def bidders(self) -> None:
        """The cooperative (竞买人 1) and the neighbours' head (竞买人 2) registered on 8 June, each
        with the deposit."""
        self.h.clock.set(REGISTERED_AT)
        self.submit("exchange.bidder_registered")
        self.submit("exchange.deposit_received")
        self.submit(
            "exchange.bidder_registered",
            bidder={"type": "party", "party": ex.NEIGHBOUR_HEAD},
            application=ex.document_hash("the neighbouring household head's application to bid"),
            agricultural_capacity=ex.document_hash("the neighbouring household's farming record"),
        )
        self.submit(
            "exchange.deposit_received",
            bidder=ex.NEIGHBOUR_BIDDER,
            bank_reference=ex.document_hash("settlement account credit advice: 竞买人 2's deposit"),
        )

    def bidding(self, minutes: int = 5) -> None:
        """``minutes`` into bidding."""
        self.h.clock.set(BIDDING_OPENS_AT + timedelta(minutes=minutes))

    def member_opens(self) -> None:
        """The member's bid at the reserve, five minutes into bidding."""
        self.bidding(5)
        self.submit("exchange.bid", bidder=ex.NEIGHBOUR_BIDDER, amount_fen=ex.RESERVE_FEN)

    def auction(self) -> None:
        """The auction as the examples tell it, the clock after the close: the member at the
        reserve, the cooperative at 900 yuan, the member's equal bid (tie priority)."""
        self.member_opens()
        self.bidding(20)
        self.submit("exchange.bid")
        self.bidding(40)
        self.submit("exchange.bid", bidder=ex.NEIGHBOUR_BIDDER)
        self.h.clock.set(AWARDED_AT)

    def awarded(self) -> None:
        self.listing()
        self.bidders()
        self.auction()
        self.submit("exchange.awarded")

    def sealed(self) -> None:
        """A listing taking sealed quotes, its bidders, and the clock half an hour into the window."""
        self.listing(method="sealed")
        self.bidders()
        self.bidding(30)


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
    s.other_exchange = h.exchange_center(s.other_township, "exchange-other")
    exchange = h.register(
        COUNTY, ex.EXCHANGE, "exchange_center", name=ex.EXCHANGE_NAME, credit_code=ex.EXCHANGE_CREDIT_CODE
    )
    s.orgs = {
        "county": COUNTY,
        "township": ex.TOWNSHIP,
        "village_collective": ex.VILLAGE if kind != "org.registered" else s.other_village,
        "exchange_center": exchange,
        "developer": h.developer(ev.DEVELOPER),
        "housing_authority": h.housing_authority(ev.HOUSING_AUTHORITY),
    }
    if kind != "rules.adopted":
        s.orgs["bidding_entity"] = bidding_entity(h, kind)
    return s


def bidding_entity(h: Harness, kind: str) -> str:
    """The exchange centre's bidding entity: the cooperative, or (for ``org.registered``) a family farm."""
    if kind == "org.registered":
        return h.register(ex.EXCHANGE, "farm-other", "bidding_entity", credit_code=FAMILY_FARM_CREDIT_CODE)
    payload = ex.bidding_entity_registered()
    return h.register(
        ex.EXCHANGE,
        ex.COOPERATIVE,
        "bidding_entity",
        name=payload["name"],
        credit_code=payload["credit_code"],
    )


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


def before_listing(s: Situation) -> None:
    s.ready_to_list()


def listed(s: Situation) -> None:
    s.listing()


def registration(s: Situation) -> None:
    s.listing()
    s.h.clock.set(REGISTERED_AT)


def cooperative_registered(s: Situation) -> None:
    s.listing()
    s.h.clock.set(REGISTERED_AT)
    s.submit("exchange.bidder_registered")


def nobody_came(s: Situation) -> None:
    """No bidder by the opening: the announcement is to be extended."""
    s.listing()
    s.h.clock.set(BIDDING_OPENS_AT)


def nobody_came_again(s: Situation) -> None:
    """Extended once, and still no bidder by the new close."""
    nobody_came(s)
    s.submit("exchange.extended")
    s.h.clock.set(parse_time(s.h.row(Listing, ex.LISTING).closes_at) + timedelta(minutes=30))


def with_bidders(s: Situation) -> None:
    s.listing()
    s.bidders()


def held(s: Situation) -> None:
    with_bidders(s)
    s.h.clock.set(HELD_AT)
    s.submit("exchange.held")
    s.h.clock.set(LIFTED_AT)


def member_opened(s: Situation) -> None:
    """The member's bid at the reserve; the cooperative bids twenty minutes in."""
    with_bidders(s)
    s.member_opens()
    s.bidding(20)


def outside_bid_to_match(s: Situation) -> None:
    """Under in-auction matching: the cooperative's bid over the member's, five minutes before."""
    s.h.set_policy(priority_model="in_auction_match")
    member_opened(s)
    s.submit("exchange.bid")
    s.bidding(25)


def sealed(s: Situation) -> None:
    s.sealed()


def quotes_sealed(s: Situation) -> None:
    """Both quotes sealed (the member's at 920 yuan), the clock ten minutes after the close."""
    s.sealed()
    s.submit("exchange.quote_sealed")
    s.bidding(45)
    salt = ex.document_hash("the member's salt")[:32]
    s.submit(
        "exchange.quote_sealed",
        bidder=ex.NEIGHBOUR_BIDDER,
        commitment=quote_commitment(ex.LISTING, ex.NEIGHBOUR_BIDDER, 92_000, salt),
    )
    s.h.clock.set(BIDDING_CLOSES_AT + timedelta(minutes=10))


def auction_over(s: Situation) -> None:
    with_bidders(s)
    s.auction()


def awarded(s: Situation) -> None:
    s.awarded()


def contract_overdue(s: Situation) -> None:
    s.awarded()
    s.h.clock.set(CONTRACT_OVERDUE_AT)


def contract_signed(s: Situation) -> None:
    s.awarded()
    s.h.clock.set(CONTRACTED_AT)
    s.submit("exchange.contract_signed")
    s.h.clock.set(PAID_AT)


def paid(s: Situation) -> None:
    contract_signed(s)
    s.submit("exchange.payment_confirmed")
    s.h.clock.set(CERTIFIED_AT)


# Land quotas: the household's withdrawn homestead reclaimed, listed and traded.
QUOTA_APPLIED_AT = datetime(2026, 3, 20, 1, 0, tzinfo=UTC)
QUOTA_APPROVED_AT = datetime(2026, 4, 15, 1, 0, tzinfo=UTC)
QUOTA_ACCEPTED_AT = datetime(2026, 9, 15, 1, 0, tzinfo=UTC)
QUOTA_CONFIRMED_AT = datetime(2026, 9, 30, 1, 0, tzinfo=UTC)
QUOTA_LISTED_AT = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # 10:00 on the Monday after National Day
QUOTA_REGISTERED_AT = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
QUOTA_CONTRACTED_AT = datetime(2026, 10, 28, 2, 0, tzinfo=UTC)
QUOTA_PAID_AT = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
QUOTA_CERTIFIED_AT = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
QUOTA_SPLIT_AT = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


def homestead_withdrawn(s: Situation) -> None:
    """The household's homestead withdrawn (the neighbours, who bid later, registered too)."""
    s.members(neighbours=True)
    s.submit("homestead.granted")
    s.submit("homestead.withdrawn")
    s.h.clock.set(QUOTA_APPLIED_AT)


def quota_applied(s: Situation) -> None:
    homestead_withdrawn(s)
    s.submit("quota.applied")
    s.h.clock.set(QUOTA_APPROVED_AT)


def quota_approved(s: Situation) -> None:
    quota_applied(s)
    s.submit("quota.project_approved")
    s.h.clock.set(QUOTA_ACCEPTED_AT)


def quota_accepted(s: Situation) -> None:
    quota_approved(s)
    s.submit("quota.accepted")
    s.h.clock.set(QUOTA_CONFIRMED_AT)


def quota_confirmed(s: Situation) -> None:
    quota_accepted(s)
    s.submit("quota.confirmed")


def quota_traded(s: Situation) -> None:
    """The confirmed quota through the exchange to the company's certificate; the clock on 10
    November."""
    quota_confirmed(s)
    s.submit("calendar.declared")
    s.h.clock.set(QUOTA_LISTED_AT)

    def act(kind: str, **payload: Any) -> None:
        s.h.submit(ex.EXCHANGE, kind, {"listing": eq.QUOTA_LISTING, **payload})

    s.h.submit(ex.EXCHANGE, "exchange.listed", eq.quota_listed())
    s.h.clock.set(QUOTA_REGISTERED_AT)
    for number, bidder in ((eq.QUOTA_BUYER, eq.quota_buyer()), (eq.QUOTA_MEMBER_BIDDER, None)):
        bidder = bidder or {"type": "party", "party": ex.NEIGHBOUR_HEAD}
        act(
            "exchange.bidder_registered",
            bidder=bidder,
            application=ex.document_hash(f"竞买人 {number}'s application"),
        )
        act(
            "exchange.deposit_received",
            bidder=number,
            amount_fen=eq.QUOTA_DEPOSIT_FEN,
            bank_reference=ex.document_hash(f"settlement account credit advice: 竞买人 {number}'s deposit"),
        )
    opens = parse_time(eq.QUOTA_OPENS_AT)
    s.h.clock.set(opens + timedelta(minutes=5))
    act("exchange.bid", bidder=eq.QUOTA_MEMBER_BIDDER, amount_fen=eq.QUOTA_RESERVE_FEN)
    s.h.clock.set(opens + timedelta(minutes=20))
    act("exchange.bid", bidder=eq.QUOTA_BUYER, amount_fen=eq.QUOTA_DEAL_FEN)
    s.h.clock.set(parse_time(eq.QUOTA_CLOSES_AT) + timedelta(minutes=30))
    act("exchange.awarded", bidder=eq.QUOTA_BUYER, amount_fen=eq.QUOTA_DEAL_FEN)
    s.h.clock.set(QUOTA_CONTRACTED_AT)
    act(
        "exchange.contract_signed",
        contract=ex.document_hash("land quota transfer contract of GP-371003-2026-0047"),
    )
    s.h.clock.set(QUOTA_PAID_AT)
    listing = s.h.row(Listing, eq.QUOTA_LISTING)
    assert listing.buyer_fee_fen is not None
    due = eq.QUOTA_DEAL_FEN - eq.QUOTA_DEPOSIT_FEN + listing.buyer_fee_fen
    act(
        "exchange.payment_confirmed", amount_fen=due, bank_reference=ex.document_hash("the company's payment")
    )
    s.h.clock.set(QUOTA_CERTIFIED_AT)
    act("exchange.certificate_issued", certificate_no=eq.QUOTA_CERTIFICATE)
    s.h.clock.set(QUOTA_SPLIT_AT)


# House vouchers: the household's homestead withdrawn, the county's prices and pool, the voucher.
VOUCHER_PRICES_AT = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
VOUCHER_POOL_AT = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
VOUCHER_ISSUED_AT = datetime(2026, 4, 15, 2, 0, tzinfo=UTC)
VOUCHER_TRANSFERRED_AT = datetime(2026, 5, 10, 2, 0, tzinfo=UTC)
VOUCHER_REDEEMED_AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # the voucher's second month
VOUCHER_SETTLED_AT = datetime(2026, 6, 3, 2, 0, tzinfo=UTC)
VOUCHER_EXPIRED_AT = datetime(2028, 4, 15, 2, 0, tzinfo=UTC)  # the day after its last valid day
VOUCHER_CASHED_OUT_AT = datetime(2028, 4, 20, 2, 0, tzinfo=UTC)


def voucher_pool(s: Situation) -> None:
    """The county's developer in the voucher pool, on 1 April."""
    s.h.clock.set(VOUCHER_POOL_AT)
    s.submit("voucher.developer_admitted")


def voucher_due(s: Situation, compensation: str = "voucher", *, pool: bool = False) -> None:
    """The household's homestead withdrawn for ``compensation`` on 10 March (the neighbours
    registered too), the county's prices from 1 April, the pool and its project if ``pool``, and
    the clock on 15 April."""
    s.members(neighbours=True)
    s.submit("homestead.granted")
    s.submit("homestead.withdrawn", compensation=compensation)
    s.h.clock.set(VOUCHER_PRICES_AT)
    s.submit("voucher.prices_published")
    if pool:
        voucher_pool(s)
        s.submit("voucher.project_registered")
    s.h.clock.set(VOUCHER_ISSUED_AT)


def voucher_cash_due(s: Situation) -> None:
    voucher_due(s, "cash")


def voucher_to_transfer(s: Situation) -> None:
    voucher_due(s)
    s.submit("voucher.issued")
    s.h.clock.set(VOUCHER_TRANSFERRED_AT)


def voucher_to_redeem(s: Situation) -> None:
    voucher_due(s, pool=True)
    s.submit("voucher.issued")
    s.h.clock.set(VOUCHER_REDEEMED_AT)


def voucher_redeemed(s: Situation) -> None:
    voucher_to_redeem(s)
    s.submit("voucher.redeemed")
    s.h.clock.set(VOUCHER_SETTLED_AT)


def voucher_past_validity(s: Situation) -> None:
    voucher_redeemed(s)
    s.h.clock.set(VOUCHER_EXPIRED_AT)


def voucher_expired(s: Situation) -> None:
    voucher_past_validity(s)
    s.submit("voucher.expired")
    s.h.clock.set(VOUCHER_CASHED_OUT_AT)


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
    "calendar.declared": nothing,
    "exchange.listed": before_listing,
    "exchange.extended": nobody_came,
    "exchange.withdrawn": listed,
    "exchange.held": with_bidders,
    "exchange.hold_lifted": held,
    "exchange.bidder_registered": registration,
    "exchange.deposit_received": cooperative_registered,
    "exchange.bid": member_opened,
    "exchange.priority_matched": outside_bid_to_match,
    "exchange.quote_sealed": sealed,
    "exchange.quote_opened": quotes_sealed,
    "exchange.awarded": auction_over,
    "exchange.failed": nobody_came_again,
    "exchange.contract_signed": awarded,
    "exchange.defaulted": contract_overdue,
    "exchange.payment_confirmed": contract_signed,
    "exchange.deposit_refunded": awarded,
    "exchange.certificate_issued": paid,
    "voucher.prices_published": nothing,
    "voucher.developer_admitted": nothing,
    "voucher.project_registered": voucher_pool,
    "voucher.developer_left": voucher_pool,
    "voucher.issued": voucher_due,
    "voucher.cash_compensated": voucher_cash_due,
    "voucher.redeemed": voucher_to_redeem,
    "voucher.settled": voucher_redeemed,
    "voucher.transferred": voucher_to_transfer,
    "voucher.expired": voucher_past_validity,
    "voucher.cashed_out": voucher_expired,
    "quota.applied": homestead_withdrawn,
    "quota.project_approved": quota_applied,
    "quota.accepted": quota_approved,
    "quota.confirmed": quota_accepted,
    "quota.proceeds_split": quota_traded,
    "quota.used": quota_traded,
}


def prepared(kind: str) -> Situation:
    """The situation in which ``kind``'s example is accepted, signed by ``Situation.signer``."""
    s = base(kind)
    PREPARE[kind](s)
    return s
