"""The listings the seed tells, one class each: what is listed, who registers, and what each
does at the season's moments (``registration``, ``announcement``, ``opening``, ``last_minutes``,
``close``, ``contract``, ``settlement``, ``default``, ``runner_up``; seed/exchange.py dates them).

The first season's listings run to their end before the last round of the story: deals
certified under each priority model (in-auction matching, tie priority with its lottery,
post-close matching), a sealed-quote listing, shares and a homestead sold to members, a listing
withdrawn, a winner who defaults with the runner-up taking over, a listing nobody came to
(extended, then failed) and a winner who refuses the contract (the listing fails). The second
season, after the last round, leaves listings open: the two failed ones relisted (the reserve
lowered; the defaulter barred), auctions with bids, a listing with bidders and no bid yet, one
held for a dispute, one whose hold was lifted.

``bid(b, n)`` and ``match(b, n)``: bidder ``b`` bids (matches) the reserve plus ``n`` increments.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from seed.exchange_chain import Chain
from seed.exchange_desk import SeedListing
from seed.exchange_rights import members_bidding
from seed.model import Household, Village
from seed.story import add_years

if TYPE_CHECKING:
    from seed.exchange import ExchangeStory, Season


class Sold(Chain):
    """A deal that runs to its certificate: contract the next working day, payment and the
    certificate the day after."""

    showcase = "exchange_certificate"

    def contract(self) -> None:
        self.sign()

    def settlement(self) -> None:
        assert self.listing is not None
        if self.listing.status == "contracted":
            self.settle()
            self.listing.village.showcase.setdefault(self.showcase, self.listing.id)
            self.listing.village.showcase.setdefault("exchange_certificate", self.listing.id)


class InAuctionMatch(Sold):
    """(A) A member farmer matches each cooperative's bid within the response window, the last
    one in the closing minutes (the close moves), and wins the lease."""

    model = "in_auction_match"
    showcase = "exchange_listing"

    def pick(self, v: Village, index: int) -> bool:
        return self.land(v, index, farmers=1)

    def registration(self) -> None:
        x, y = self.entities(2)
        self.x, self.f, self.y = self.register_all(x, self.chosen[0], y)

    def opening(self) -> None:
        self.bid(self.x, 0)
        self.match(self.f, 0)
        self.bid(self.y, 1)
        self.match(self.f, 1)

    def last_minutes(self) -> None:
        self.bid(self.x, 2)
        self.match(self.f, 2)

    def close(self) -> None:
        self.award_and_refund()


class PostCloseMatch(Sold):
    """(C) Two cooperatives bid the lease up, the last bid late; after the close a member
    farmer matches the final high bid and wins."""

    model = "post_close_match"
    showcase = "exchange_listing"

    def pick(self, v: Village, index: int) -> bool:
        return self.land(v, index, farmers=1)

    def registration(self) -> None:
        self.x, self.y = self.register_all(*self.entities(2))
        (self.f,) = self.register_all(self.chosen[0])
        self.bidders = [self.x, self.y, self.f]

    def opening(self) -> None:
        self.bid(self.x, 0)
        self.bid(self.y, 1)
        self.bid(self.x, 2)

    def last_minutes(self) -> None:
        self.bid(self.y, 3)

    def close(self) -> None:
        self.match(self.f, 3)
        self.award_and_refund()


class TieLottery(Sold):
    """(B) Two member farmers bid equal to a cooperative's bid and to each other: priority
    outranks the cooperative, and the listing's lottery orders the two farmers."""

    showcase = "exchange_listing"

    def pick(self, v: Village, index: int) -> bool:
        return self.land(v, index, farmers=2)

    def registration(self) -> None:
        self.x, self.f1, self.f2 = self.register_all(*self.entities(1), *self.chosen)

    def opening(self) -> None:
        self.bid(self.x, 0)
        self.bid(self.f1, 0)
        self.bid(self.x, 1)
        self.bid(self.f1, 1)
        self.bid(self.f2, 1)

    def close(self) -> None:
        self.award_and_refund()


class SealedQuotes(Sold):
    """Single sealed quotes (一次性报价) from two cooperatives or family farms and a farmer,
    opened after the close; the best quote, a cooperative's, wins the lease."""

    def pick(self, v: Village, index: int) -> bool:
        if not self.land(v, index, farmers=1):
            return False
        assert self.listing is not None
        self.listing.method = "sealed"
        self.listing.qualifications = {"entity_types": ["cooperative", "family_farm"]}
        return True

    def registration(self) -> None:
        self.x, self.y = self.register_all(*self.entities(2, "cooperative", "family_farm"))
        (self.f,) = self.register_all(self.chosen[0])
        self.bidders = [self.x, self.y, self.f]

    def opening(self) -> None:
        assert self.listing is not None
        for b, steps in ((self.x, 2), (self.y, 4), (self.f, 1)):
            self.desk.seal(self.listing, b, self.listing.reserve + steps * self.listing.increment)

    def close(self) -> None:
        assert self.listing is not None
        for b in self.bidders:
            self.desk.open_quote(self.listing, b)
        self.award_and_refund()


class SharesSale(Sold):
    """A member's shares sold to a fellow member at auction (the last bid moves the close)."""

    def pick(self, v: Village, index: int) -> bool:
        return self.shares(v, index, 2)

    def registration(self) -> None:
        self.m1, self.m2 = self.register_all(*self.chosen)

    def opening(self) -> None:
        self.bid(self.m1, 0)
        self.bid(self.m2, 1)

    def last_minutes(self) -> None:
        self.bid(self.m1, 2)

    def close(self) -> None:
        self.award_and_refund()


class HomesteadSale(Sold):
    """A settled household's homestead to a member household living in the village: at auction
    between two households, or by agreement when one registered (one quote at the reserve or
    above)."""

    def pick(self, v: Village, index: int) -> bool:
        return self.homestead(v, index)

    def registration(self) -> None:
        self.register_all(*self.chosen)

    def opening(self) -> None:
        if len(self.bidders) == 1:
            self.bid(self.bidders[0], 1)
            return
        h1, h2 = self.bidders
        self.bid(h1, 0)
        self.bid(h2, 1)
        self.bid(h1, 2)

    def close(self) -> None:
        self.award_and_refund()


class Withdrawn(Chain):
    """The holder withdraws the listing during the announcement, before any bid; the one
    bidder's deposit is refunded."""

    def pick(self, v: Village, index: int) -> bool:
        return self.land(v, index)

    def registration(self) -> None:
        self.register_all(*self.entities(1))

    def announcement(self) -> None:
        assert self.listing is not None
        self.desk.withdraw(self.listing)
        for b in self.bidders:
            self.desk.refund(self.listing, b)
        self.ex.release(self.listing)


class RunnerUp(Chain):
    """(B) The winning cooperative refuses to sign the contract: its deposit is forfeited and,
    under tie priority, the award passes to the runner-up, whose deposit was kept for it."""

    def pick(self, v: Village, index: int) -> bool:
        return self.land(v, index)

    def registration(self) -> None:
        self.y, self.x = self.register_all(*self.entities(2))

    def opening(self) -> None:
        for b, steps in ((self.y, 0), (self.x, 1), (self.y, 2), (self.x, 3)):
            self.bid(b, steps)

    def close(self) -> None:
        self.award_and_refund(keep=self.y)

    def default(self) -> None:
        assert self.listing is not None
        self.desk.default(self.listing, self.x, "refused_contract")
        self.desk.award(self.listing)
        self.desk.sign_contract(self.listing)

    def runner_up(self) -> None:
        self.settle()


class Unsold(Chain):
    """Nobody registers: at the end of the announcement it is extended one cycle, then fails
    (流拍); the second season relists it with the reserve lowered by the county's step."""

    def pick(self, v: Village, index: int) -> bool:
        return self.land(v, index)

    def opening(self) -> None:
        assert self.listing is not None and self.listing.announce_ends is not None
        start = max(self.listing.announce_ends, self.day_of(self.desk.now))
        ends = self.ex.calendar.after(start, self.ex.cycle)
        shift = timedelta(days=(ends - self.listing.announce_ends).days)
        self.desk.extend(self.listing, shift, ends)
        self.ex.at(self.listing.closes + timedelta(minutes=30), "unsold", self.fail)

    @staticmethod
    def day_of(t: datetime) -> date:
        return (t + timedelta(hours=8)).date()

    def fail(self) -> None:
        assert self.listing is not None
        self.desk.fail(self.listing)
        self.ex.to_relist.append((self.listing, self.ex.relist_step_bp, True))


class Defaulted(Chain):
    """(C) A cooperative wins and does not sign the contract in time: its deposit is forfeited
    and, outside tie priority, the listing fails; the second season relists it, the defaulter
    barred."""

    model = "post_close_match"

    def pick(self, v: Village, index: int) -> bool:
        return self.land(v, index)

    def registration(self) -> None:
        self.z, self.x = self.register_all(*self.entities(2))

    def opening(self) -> None:
        self.bid(self.z, 0)
        self.bid(self.x, 1)

    def close(self) -> None:
        self.award_and_refund()

    def default(self) -> None:
        assert self.listing is not None
        self.desk.default(self.listing, self.x, "refused_contract")
        self.ex.to_relist.append((self.listing, 0, False))


FIRST_SEASON = (
    InAuctionMatch,
    PostCloseMatch,
    TieLottery,
    SealedQuotes,
    SharesSale,
    HomesteadSale,
    Withdrawn,
    RunnerUp,
    Unsold,
    Defaulted,
)


# -- the second season: listings left open -----------------------------------------------------


class Relisting(Chain):
    """A failed listing relisted (the same right, a new term), its reserve lowered by
    ``cut_bp``: open for months with bids (a cooperative, then a farmer's equal bid under tie
    priority), or a short auction awarded at once (in-auction matching, the defaulter barred)."""

    def __init__(
        self, ex: ExchangeStory, season: Season, original: SeedListing, cut_bp: int, long: bool
    ) -> None:
        super().__init__(ex, season)
        self.original, self.cut_bp, self.long_window = original, cut_bp, long
        self.model = "tie" if long else "in_auction_match"

    def pick(self, v: Village, index: int) -> bool:
        o = self.original
        holder = o.holder
        assert isinstance(holder, Household) and holder.contract is not None and o.term is not None
        found = members_bidding(o.village, self.day, self.ex.bidding, not_of=holder)
        if not found:
            return False
        start = self.term_start()
        end = min(add_years(start, o.term[1].year - o.term[0].year), holder.contract.term_end)
        if end <= start:
            return False
        right = {**o.right, "term_start": start.isoformat(), "term_end": end.isoformat()}
        reserve = -(-o.reserve * (10_000 - self.cut_bp) // 10_000 // 100) * 100  # up to the yuan
        opens, closes = self.window
        self.listing = self.ex.new_listing(
            o.village,
            index,
            holder,
            right,
            o.quantity,
            reserve,
            o.increment,
            o.price_unit,
            opens,
            closes,
            o.exchange,
        )
        self.listing.model, self.listing.relisting_of = self.model, o
        self.ex.reserve(self.listing)
        self.take(self.rng.choice(found))
        return True

    def registration(self) -> None:
        self.x, self.f = self.register_all(*self.entities(1), self.chosen[0])

    def opening(self) -> None:
        self.bid(self.x, 0)
        if self.long_window:
            self.bid(self.f, 0)  # tie priority: a priority holder's equal bid
        else:
            self.match(self.f, 0)  # in-auction matching
            self.bid(self.x, 1)

    def close(self) -> None:
        if not self.long_window:
            self.award_and_refund()


class OpenAuction(Chain):
    """(C) An auction open for months with bids from two cooperatives; a member farmer has
    registered and may match the final bid after the close."""

    model = "post_close_match"
    long_window = True

    def pick(self, v: Village, index: int) -> bool:
        return self.land(v, index, farmers=1)

    def registration(self) -> None:
        self.x, self.y = self.register_all(*self.entities(2))
        self.register_all(self.chosen[0])

    def opening(self) -> None:
        self.bid(self.x, 0)
        self.bid(self.y, 1)
        assert self.listing is not None
        self.listing.village.showcase.setdefault("exchange_open", self.listing.id)


class OpenShares(Chain):
    """Shares listed for months: two members registered and paid the deposit, no bid yet."""

    long_window = True

    def pick(self, v: Village, index: int) -> bool:
        return self.shares(v, index, 2)

    def registration(self) -> None:
        self.register_all(*self.chosen)


class Held(Chain):
    """A dispute over the land holds the listing during its announcement; it is still held."""

    long_window = True

    def pick(self, v: Village, index: int) -> bool:
        return self.land(v, index)

    def registration(self) -> None:
        self.register_all(*self.entities(1))

    def announcement(self) -> None:
        assert self.listing is not None
        self.desk.hold(self.listing, "ownership_dispute")


class HoldLifted(Chain):
    """A court order holds the listing; once lifted, its window moves by the time held."""

    long_window = True

    def pick(self, v: Village, index: int) -> bool:
        return self.land(v, index, farmers=1)

    def registration(self) -> None:
        self.register_all(self.chosen[0])

    def announcement(self) -> None:
        assert self.listing is not None
        self.desk.hold(self.listing, "court_order")

    def opening(self) -> None:
        assert self.listing is not None
        self.desk.lift(self.listing)


SECOND_SEASON = (OpenAuction, OpenShares, Held, HoldLifted)
