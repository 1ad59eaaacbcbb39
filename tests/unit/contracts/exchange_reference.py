"""A brute-force reference of a listing's outcome, written from the specification (DOMAIN.md's
exchange section, issue 13 and the semantics the design notes and the rules' docstrings state),
never from ``contracts.exchange``: nothing of it is imported or called here.

``Reference`` is a small state machine over the plain acts a listing sees (registrations,
deposits, bids, sealed quotes and their opening, priority matches, withdrawals and defaults,
award, failure, refunds, contract, payment, certificate), each with the ledger's time. Every
act returns whether the specification admits it; the property test compares that verdict with
the rules' acceptance act by act, and then the award the reference computes with the one the
rules admit.

Who wins is decided by brute force: every bidder with a valid amount is a candidate, and the
winner is the one candidate no other candidate beats, where ``d`` beats ``c`` when

- ``d``'s valid amount is higher; or, at an equal amount,
- ``d`` holds a priority right and ``c`` does not; or
- both hold one and ``d`` draws earlier in the listing's lottery, ``sha256(f"{seed}:{number}")``
  with the listing's seed; or
- neither holds one and ``d`` reached the amount earlier.

The pairwise definition is checked to give exactly one undefeated candidate.

Interpretations taken where the specification leaves a choice (the rules' docstrings decide):

1. A bidder's valid amount is its highest admitted offer (bid, match or opened quote); only
   bidders whose deposit is held (or credited toward the price) are candidates: a defaulter's
   forfeited deposit and a refunded one take the bidder out of the ranking.
2. The lottery draws the lowest hex digest first.
3. "Earliest" for a sealed quote is when it was sealed, not when it was opened.
4. Late bids: a bid at or after ``closes - N minutes`` (and before the close) moves the close to
   the bid's time plus N minutes.
5. Tie priority (B): a priority holder may bid the high amount itself, unless its own valid amount
   already equals it; that includes tying another priority holder's bid (then the lottery orders
   them). Nobody else may bid less than the high plus the increment.
6. In-auction matching (A): every bid by a non-priority bidder opens a response window of M minutes
   (replacing any running one); a priority holder's bid or a match ends it, so one match per window.
   The window runs its length even past the close, and bidding is over only when the close and the
   window have both passed. A match equals the high bid, whose bidder holds no priority; a match in
   the last N minutes before the close moves the close like a late bid, one after the close does not.
7. Post-close matching (C, and A on sealed quotes, which have no auction to match in): once bidding
   is over, each priority holder may match once, up to and including the W-th working day after the
   (China Standard Time) day bidding was over; several may match. What they match is the final high
   bid: the leader among the bidders who have not matched, which must be another bidder's without
   priority. A holder's match supersedes its own earlier bids, so if the final high bidder then
   withdraws, the next bidder who has not matched is the final high bid, even below the standing
   match (another holder may match it, and wins with it only if the standing match is withdrawn).
   The outcome is decided once the deadline day has passed, or earlier when nobody can still match
   (no final high, a final high held by a priority holder, or no priority holder with a deposit
   held left unmatched).
8. Sealed quotes (一次性报价): one per bidder inside the window, opened in ``[closes, closes + S)``
   with the amount and salt it was sealed with, at or above the reserve. Bidding is over at the last
   opening once every sealed quote of a bidder with a deposit held is open, else at the end of the
   opening time.
9. Agreement: exactly one bidder paid a deposit (registration and deposits close when bidding opens;
   a later forfeit does not change the method). Its one quote, at or above the reserve, inside the
   window, is an open bid (no sealing, no matching, no late-bid extension); bidding is over at that
   quote, or at the close without one.
10. A withdrawal after qualification (or any default) forfeits the deposit; while the listing is
    announced the standing high is simply the leader of who remains; a response window is not
    touched by it.
11. A winner who refuses the confirmation, or has not signed the contract by the contract's working
    day (counted from the award's day): under tie priority the award passes to the runner-up (the
    listing is announced again and the leader of the rest is awarded), otherwise, or with nobody
    left, the listing fails.
12. A failure needs a decided outcome with no valid bid; when no deposit was ever received the
    announcement is extended first (the scenarios always leave room for one extension).
13. Registrations and deposits are taken only before bidding opens; refunds only once the outcome is
    recorded, never the winner's; the winner's deposit is credited when the price is paid.
14. Working days are Monday to Friday, less the declared holidays, plus the declared working weekend
    days.

Not modelled: dispute holds and their lifting, relistings, and policy numbers other than the
defaults (the terms carry them, so a scenario may set others).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

CHINA_STANDARD_TIME = timedelta(hours=8)

TIE = "tie"
IN_AUCTION = "in_auction_match"
POST_CLOSE = "post_close_match"


@dataclass(frozen=True)
class Terms:
    """What a listing fixes when it is announced, and the policy numbers it runs on."""

    model: str
    method: str  # auction | sealed
    reserve_fen: int
    increment_fen: int
    opens: datetime
    closes: datetime
    lottery_seed: str
    late_bid_minutes: int = 5
    response_minutes: int = 10
    opening_minutes: int = 120
    match_working_days: int = 3
    contract_working_days: int = 3
    holidays: frozenset[date] = frozenset()
    working_weekend_days: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Offer:
    amount: int
    order: int  # its place among the admitted acts (for "earliest")
    at: datetime


@dataclass
class Entrant:
    """A registered bidder, 竞买人 ``number``."""

    number: int
    priority: bool
    deposit: str = "none"  # none | held | forfeited | refunded | credited
    offers: list[Offer] = field(default_factory=list)
    sealed: tuple[int, str, int] | None = None  # amount, salt, order sealed
    opened: bool = False
    matched_after_close: bool = False

    def best(self) -> Offer | None:
        """The highest offer, the earliest of equal ones."""
        top = max((o.amount for o in self.offers), default=None)
        return min((o for o in self.offers if o.amount == top), key=lambda o: o.order, default=None)


def local_day(at: datetime) -> date:
    return (at + CHINA_STANDARD_TIME).date()


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC) - CHINA_STANDARD_TIME


def working_days_after(
    start: date, n: int, holidays: frozenset[date] = frozenset(), worked: frozenset[date] = frozenset()
) -> date:
    """The ``n``-th working day after ``start``: Monday to Friday less ``holidays``, plus the
    weekend days ``worked``."""
    d = start
    while n:
        d += timedelta(days=1)
        n -= d in worked or (d.weekday() < 5 and d not in holidays)
    return d


class Reference:
    def __init__(self, terms: Terms) -> None:
        self.terms = terms
        self.closes = terms.closes
        self.entrants: dict[int, Entrant] = {}
        self.status = "announced"
        self.winner_no: int | None = None
        self.contract_due: date | None = None
        self.window: datetime | None = None  # model A: until when the last outside bid can be matched
        self.last_opening: datetime | None = None
        self.order = 0

    # Helpers

    def _next(self) -> int:
        self.order += 1
        return self.order

    def draw(self, number: int) -> str:
        return hashlib.sha256(f"{self.terms.lottery_seed}:{number}".encode()).hexdigest()

    def working_days_after(self, start: date, n: int) -> date:
        return working_days_after(start, n, self.terms.holidays, self.terms.working_weekend_days)

    def agreement(self) -> bool:
        return sum(e.deposit != "none" for e in self.entrants.values()) == 1

    def post_close_matching(self) -> bool:
        return self.terms.model == POST_CLOSE or (
            self.terms.model == IN_AUCTION and self.terms.method == "sealed"
        )

    def _bidding(self, number: int) -> Entrant | None:
        e = self.entrants.get(number)
        return e if e is not None and e.deposit == "held" and self.status == "announced" else None

    # Who wins

    def _beats(self, d: Entrant, c: Entrant) -> bool:
        od, oc = d.best(), c.best()
        assert od is not None and oc is not None
        if od.amount != oc.amount:
            return od.amount > oc.amount
        if d.priority != c.priority:
            return d.priority
        if d.priority:
            return self.draw(d.number) < self.draw(c.number)
        return od.order < oc.order

    def leader(self, *, final: bool = False) -> Entrant | None:
        """The one candidate no other beats (``final``: the final high bid, leaving out the
        priority holders who matched after the close)."""
        field_ = [
            e
            for e in self.entrants.values()
            if e.deposit in ("held", "credited")
            and not (final and e.matched_after_close)
            and (best := e.best()) is not None
            and best.amount >= self.terms.reserve_fen
        ]
        undefeated = [c for c in field_ if not any(self._beats(d, c) for d in field_ if d is not c)]
        assert len(undefeated) <= 1 and (undefeated or not field_), "the ranking is not a total order"
        return undefeated[0] if undefeated else None

    def outcome(self) -> tuple[int, int] | None:
        """Who would be awarded now, at what amount."""
        top = self.leader()
        if top is None:
            return None
        best = top.best()
        assert best is not None
        return top.number, best.amount

    def high(self) -> int | None:
        won = self.outcome()
        return won[1] if won else None

    # Moments

    def bidding_over(self) -> datetime:
        if self.agreement():
            sole = next(e for e in self.entrants.values() if e.deposit != "none")
            return sole.offers[0].at if sole.offers else self.closes
        if self.terms.method == "sealed":
            quotes = [e for e in self.entrants.values() if e.sealed is not None and e.deposit == "held"]
            if quotes and all(e.opened for e in quotes):
                assert self.last_opening is not None
                return max(self.closes, self.last_opening)
            return self.closes + timedelta(minutes=self.terms.opening_minutes)
        if self.terms.model == IN_AUCTION and self.window is not None:
            return max(self.closes, self.window)
        return self.closes

    def match_deadline(self) -> date:
        return self.working_days_after(local_day(self.bidding_over()), self.terms.match_working_days)

    def decided(self, at: datetime) -> bool:
        if at < self.bidding_over():
            return False
        if self.agreement() or not self.post_close_matching():
            return True
        final = self.leader(final=True)
        if final is None or final.priority:
            return True
        waiting = [
            e
            for e in self.entrants.values()
            if e.priority and e.deposit == "held" and not e.matched_after_close
        ]
        return not waiting or local_day(at) > self.match_deadline()

    def decided_from(self, at: datetime) -> datetime:
        """The first moment from ``at`` on when the outcome is decided."""
        t = max(at, self.bidding_over())
        if not self.decided(t):
            t = local_midnight(self.match_deadline() + timedelta(days=1))
        assert self.decided(t)
        return t

    # Acts before bidding

    def register(self, at: datetime, priority: bool) -> int | None:
        if self.status != "announced" or at >= self.terms.opens:
            return None
        number = len(self.entrants) + 1
        self.entrants[number] = Entrant(number, priority)
        return number

    def deposit(self, at: datetime, number: int) -> bool:
        e = self.entrants.get(number)
        if self.status != "announced" or e is None or at >= self.terms.opens or e.deposit != "none":
            return False
        e.deposit = "held"
        return True

    # Bids, quotes and matches

    def _late(self, at: datetime) -> None:
        late = timedelta(minutes=self.terms.late_bid_minutes)
        if self.closes - late <= at < self.closes:
            self.closes = at + late

    def bid(self, at: datetime, number: int, amount: int) -> bool:
        e = self._bidding(number)
        t = self.terms
        if e is None or not t.opens <= at < self.closes or amount < t.reserve_fen:
            return False
        if self.agreement():
            if e.offers:
                return False
            e.offers.append(Offer(amount, self._next(), at))
            return True
        if t.method == "sealed":
            return False
        high = self.high()
        own = e.best()
        equal = t.model == TIE and e.priority and amount == high and (own is None or own.amount != high)
        if high is not None and not equal and amount < high + t.increment_fen:
            return False
        e.offers.append(Offer(amount, self._next(), at))
        self._late(at)
        if t.model == IN_AUCTION:
            self.window = None if e.priority else at + timedelta(minutes=t.response_minutes)
        return True

    def match(self, at: datetime, number: int, amount: int) -> bool:
        e = self._bidding(number)
        if e is None or not e.priority or self.terms.model == TIE or self.agreement():
            return False
        if not self.post_close_matching():  # in the auction, within the response window
            top = self.leader()
            if self.window is None or at >= self.window or top is None or top.priority:
                return False
            if amount != self.high():
                return False
            e.offers.append(Offer(amount, self._next(), at))
            self.window = None
            self._late(at)
            return True
        if at < self.bidding_over() or local_day(at) > self.match_deadline() or e.matched_after_close:
            return False
        final = self.leader(final=True)
        if final is None or final.priority or final.number == number:
            return False
        best = final.best()
        assert best is not None
        if amount != best.amount:
            return False
        e.offers.append(Offer(amount, self._next(), at))
        e.matched_after_close = True
        return True

    def seal(self, at: datetime, number: int, amount: int, salt: str) -> bool:
        e = self._bidding(number)
        t = self.terms
        if e is None or t.method != "sealed" or not t.opens <= at < self.closes:
            return False
        if self.agreement() or e.sealed is not None:
            return False
        e.sealed = (amount, salt, self._next())
        return True

    def open(self, at: datetime, number: int, amount: int, salt: str) -> bool:
        e = self._bidding(number)
        t = self.terms
        opening_ends = self.closes + timedelta(minutes=t.opening_minutes)
        if e is None or not self.closes <= at < opening_ends or e.sealed is None or e.opened:
            return False
        sealed_amount, sealed_salt, order = e.sealed
        if (amount, salt) != (sealed_amount, sealed_salt) or amount < t.reserve_fen:
            return False
        e.offers.append(Offer(amount, order, at))
        e.opened = True
        self.last_opening = at
        self._next()
        return True

    # Defaults

    def _forfeit(self, e: Entrant) -> None:
        e.deposit = "forfeited"
        self._next()

    def withdraw(self, at: datetime, number: int) -> bool:
        """``withdrawal_after_qualification``: while the listing is announced."""
        e = self._bidding(number)
        if e is None:
            return False
        self._forfeit(e)
        return True

    def sole_bidder_no_quote(self, at: datetime, number: int) -> bool:
        e = self._bidding(number)
        if e is None or not self.agreement() or at < self.closes or e.offers:
            return False
        self._forfeit(e)
        return True

    def refuse_confirmation(self, number: int) -> bool:
        e = self.entrants.get(number)
        if self.status != "awarded" or number != self.winner_no or e is None or e.deposit != "held":
            return False
        self._winner_defaults(e)
        return True

    def refuse_contract(self, at: datetime, number: int) -> bool:
        """The winner did not sign the contract by its working day."""
        e = self.entrants.get(number)
        if self.status != "awarded" or number != self.winner_no or e is None or e.deposit != "held":
            return False
        assert self.contract_due is not None
        if local_day(at) <= self.contract_due:
            return False
        self._winner_defaults(e)
        return True

    def _winner_defaults(self, e: Entrant) -> None:
        self._forfeit(e)
        self.winner_no, self.contract_due = None, None
        self.status = "announced" if self.terms.model == TIE and self.leader() else "failed"

    # From the outcome to the certificate

    def award(self, at: datetime, number: int, amount: int) -> bool:
        if self.status != "announced" or not self.decided(at) or self.outcome() != (number, amount):
            return False
        self.status, self.winner_no = "awarded", number
        self.contract_due = self.working_days_after(local_day(at), self.terms.contract_working_days)
        self._next()
        return True

    def fail(self, at: datetime) -> bool:
        if self.status != "announced" or not self.decided(at) or self.outcome() is not None:
            return False
        if not any(e.deposit != "none" for e in self.entrants.values()):
            return False  # nobody came: the announcement is extended first
        self.status = "failed"
        self._next()
        return True

    def refund(self, number: int) -> bool:
        e = self.entrants.get(number)
        if e is None or e.deposit != "held" or self.status == "announced" or number == self.winner_no:
            return False
        e.deposit = "refunded"
        self._next()
        return True

    def contract(self, at: datetime) -> bool:
        if self.status != "awarded" or self.contract_due is None or local_day(at) > self.contract_due:
            return False
        self.status = "contracted"
        return True

    def pay(self) -> bool:
        if self.status != "contracted" or self.winner_no is None:
            return False
        self.entrants[self.winner_no].deposit = "credited"
        self.status = "paid"
        return True

    def certify(self) -> bool:
        if self.status != "paid":
            return False
        self.status = "certified"
        return True
