"""A county's house vouchers and land quotas told through the real HTTP API for the read tests
(``tests.voucher_http`` builds the market), with the seqs a reader should find, and checks of
what the reads prove against the signed checkpoint.

The story (the ledger's clock moves only at the end):
- schedule S in force from today; a second schedule S-next from 30 days on (not in force);
- V-1 issued to household A, redeemed twice with the pool developer (10,000,000 then 5,000,000
  fen, month 1: 5% bonus each), the first redemption's contract stage settled;
- V-2 issued and split-transferred into two children, to A's members and to two buyers;
- V-3 issued, left unused: it expires after its validity and is cashed out;
- household C compensated in cash;
- quota Q-1 (a collective site) applied, approved, accepted, confirmed, traded on the exchange,
  its proceeds split (all to the collective, the site default) and used; Q-2 only applied; Q-3
  (C's withdrawn homestead, 150 m²) confirmed, traded for 1,200,000 fen and split 85:15;
- the rival developer leaves the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ledger.checkpoint import open_checkpoint
from ledger.proofs import verify_inclusion
from tests.registry_reads_support import record_leaf
from tests.support import LedgerFixture
from tests.voucher_http import FACE_FEN, VoucherMarket, Withdrawn

FIRST_FEN = 10_000_000
SECOND_FEN = 5_000_000
BONUS_BP = 500  # month 1 by the default tiers


@dataclass
class VoucherStory:
    fx: LedgerFixture
    m: VoucherMarket
    a: Withdrawn | None = None  # V-1's household
    b: Withdrawn | None = None  # V-2's
    c: Withdrawn | None = None  # V-3's
    cash: Withdrawn | None = None
    vouchers: dict[str, str] = field(default_factory=dict)  # role -> id
    redemptions: dict[str, str] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    quotas: dict[str, str] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)
    today: date | None = None  # the day the vouchers were issued

    async def get(self, path: str, **params: Any) -> Any:
        r = await self.fx.client.http.get(path, params=params)
        assert r.status_code == 200, (path, params, r.text)
        return r.json()

    async def size(self) -> int:
        return int((await self.get("/healthz"))["size"])

    async def mark(self, name: str) -> None:
        """Remember the last seq recorded so far as ``name``."""
        self.seqs[name] = await self.size() - 1


async def tell(fx: LedgerFixture) -> VoucherStory:
    m = await VoucherMarket.open_vouchers(fx, "vr", households=3, held=0, cash=1)
    s = VoucherStory(fx, m, today=m.today())
    await m.publish(f"S-next-{m.name}", effective_from=m.today() + timedelta(days=30))
    s.a, s.b, s.c = m.take(), m.take(), m.take()
    s.cash = m.take("cash")
    s.vouchers["one"] = await m.issue(s.a)
    await s.mark("issued")
    s.redemptions["first"] = await m.redeem(s.vouchers["one"], FIRST_FEN)
    await s.mark("first")
    await m.settle(s.redemptions["first"], "contract")
    await s.mark("settled")
    s.redemptions["second"] = await m.redeem(s.vouchers["one"], SECOND_FEN)
    await s.mark("second")
    s.vouchers["two"] = await m.issue(s.b)
    s.children = await m.transfer(
        s.vouchers["two"], [(s.a.members, FACE_FEN - 7_000_000), (m.buyers[:2], 7_000_000)]
    )
    await s.mark("transferred")
    s.vouchers["three"] = await m.issue(s.c)
    await m.compensate_cash(s.cash)
    q1 = await m.confirmed_quota(m.collective_site(area_m2=1_000), measured_m2=900)
    s.quotas["traded"] = q1
    s.quotas["applied"] = await m.apply_quota(m.collective_site(area_m2=500))
    s.quotas["homestead"] = await m.confirmed_quota(m.homestead_site(s.cash), measured_m2=150)
    await s.mark("before_trade")
    await m.trade_quota(q1)
    await m.split(q1, share_bp=0)
    await m.use_quota(q1)
    await m.trade_quota(s.quotas["homestead"], amounts=(1_000_000, 1_200_000))
    await m.split(s.quotas["homestead"], share_bp=8500)
    await m.leave(m.rival)
    await s.mark("before_expiry")
    valid_until = date.fromisoformat(str((await m.voucher_row(s.vouchers["three"]))["valid_until"]))
    m.past_validity(valid_until)
    await m.expire(s.vouchers["three"])
    await m.cash_out(s.vouchers["three"])
    await s.mark("end")
    return s


def bonus(amount: int, bp: int = BONUS_BP) -> int:
    return amount * bp // 10_000


def verify_against_checkpoint(fx: LedgerFixture, doc: dict[str, Any], items: list[dict[str, Any]]) -> int:
    """Check that each item's ``leaf_hash`` and ``inclusion_proof`` lead to the response's signed
    checkpoint (items with a ``seq``); how many."""
    cp = open_checkpoint(doc["checkpoint"]["note"], fx.verifier, origin=fx.origin)
    assert (cp.size, cp.root_hash.hex()) == (doc["checkpoint"]["size"], doc["checkpoint"]["root_hash"])
    for item in items:
        verify_inclusion(
            bytes.fromhex(item["leaf_hash"]),
            item["seq"],
            cp.size,
            [bytes.fromhex(h) for h in item["inclusion_proof"]],
            cp.root_hash,
        )
    return len(items)


def evidence_items(doc: Any) -> list[dict[str, Any]]:
    """Every non-null ``evidence`` anywhere in ``doc``."""
    found: list[dict[str, Any]] = []
    if isinstance(doc, dict):
        for k, value in doc.items():
            if k == "evidence" and value is not None:
                found.append(value)
            else:
                found += evidence_items(value)
    elif isinstance(doc, list):
        for value in doc:
            found += evidence_items(value)
    return found


async def record_matches(s: VoucherStory, seq: int, leaf: str) -> dict[str, Any]:
    """The record at ``seq``, checked to hash to ``leaf``; its entry."""
    record = await s.get(f"/v1/entries/{seq}")
    assert record_leaf(record).hex() == leaf
    return record["entry"]  # type: ignore[no-any-return]
