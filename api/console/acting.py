"""Acting for a console user: an entry signed with the organisation's held key, naming the user.

``act`` signs ``kind`` and ``payload`` as the user's organisation with the key custody holds for
it (``api.console.custody``), puts the user's pseudonymous id in the entry's ``user``, and
submits it through the running service's own append path (``LedgerService.submit``, what
``POST /v1/entries`` calls), in process. It answers with the receipt, or with a ``FormRefusal``
that names the payload field the refusal concerns when that can be told, so the page can show it
beside that field with what was typed kept.

A double submit adds nothing: the entry id is made when the form is opened (a hidden field)
and passed in again by every submit of that form. The second signature differs from the first
(its ``signed_at`` does), so the appender answers ``entry.id_conflict``; ``act`` then reads the
stored entry under that id and, when it is this user's same act, resubmits the stored entry
itself, whose receipt the service returns as for any resubmission. An entry id that holds
another act is refused: the form is stale and must be opened again.

Crash states: a submit that fails after the append committed (the database lost between COMMIT
and the receipts: ``Unavailable`` with ``maybe_stored``, or ``ReceiptsUnavailable``) is raised
to the page, which says to submit again; the same entry id then returns the stored act's
receipt, so the retry cannot record it twice. A key revoked between ``load`` and the append
is refused at admission (``signature.revoked_key``) and nothing is stored; the next submit of
the same form loads the key the ledger then lists as current.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from api.client import signed_entry
from api.console.custody import Custody, CustodyError
from api.service.service import LedgerService
from ledger import store
from ledger.entry import UUID_PATTERN
from ledger.errors import MalformedError, Rejection
from ledger.signing import KeyFile

# An exchange bidder's act refused for who the bidder is: said beside the bidder's field.
_EXCHANGE_BIDDER = {
    "exchange.unknown_bidder": "bidder",
    "exchange.no_deposit": "bidder",
    "exchange.bidder_barred": "bidder",
    "exchange.not_the_bidder": "bidder",
}
# Where a rule's refusal code points in its kind's payload, where one field is clearly meant;
# any code not listed names no field (the page shows it above the form).
FIELD_OF_CODE: dict[str, dict[str, str]] = {
    "certificate.transfer_filed": {
        "certificate.exists": "certificate",
        "certificate.no_membership_certificate": "membership_certificate",
        "certificate.membership_certificate_expired": "membership_certificate",
        "certificate.persons_not_certified": "membership_certificate",
        "household.not_a_member": "persons",
        "certificate.not_a_member": "persons",
        "certificate.individual_is_one_person": "persons",
    },
    "voucher.issued": {"voucher.exists": "voucher"},
    "voucher.redeemed": {
        "voucher.redemption_exists": "redemption",
        "voucher.not_holder": "holder",
        "voucher.unknown_project": "project",
        "voucher.project_not_developers": "project",
        "voucher.outside_county": "project",
        "voucher.beyond_balance": "amount_fen",
        "voucher.beyond_price": "amount_fen",
        "voucher.purchase_price_differs": "price_fen",
    },
    "org.registered": {
        "org.unknown_type": "type",
        "org.type_not_allowed": "type",
        "org.already_registered": "id",
        "org.unknown_parent": "parent",
        "org.not_authorised": "parent",
        "key.already_registered": "public_keys",
        "key.malformed": "public_keys",
    },
    "key.added": {
        "org.unknown": "org",
        "org.not_authorised": "org",
        "key.already_registered": "public_key",
        "key.malformed": "public_key",
    },
    "key.revoked": {
        "key.unknown": "key_id",
        "key.already_revoked": "key_id",
        "org.not_authorised": "key_id",
    },
    "household.registered": {
        "household.already_registered": "household",
        "household.head_not_member": "head",
        "household.duplicate_member": "members",
    },
    "household.member_added": {"household.unknown": "household"},
    # The personal fields travel beside the entry (``beside["personal"]``): named so.
    "party.registered": {
        "personal.invalid_id_number": "personal.id_number",
        "party.duplicate_person": "personal.id_number",
        "personal.blind_index_mismatch": "personal.id_number",
    },
    "household.member_removed": {"household.unknown": "household", "household.not_a_member": "party"},
    "policy.set": {"policy.unknown_number": "name", "policy.invalid": "value"},
    "calendar.declared": {
        "calendar.wrong_year": "year",
        "calendar.duplicate_day": "holidays",
        "calendar.not_a_weekend_day": "working_weekend_days",
    },
    "voucher.prices_published": {
        "voucher.schedule_exists": "schedule",
        "voucher.schedule_backdated": "effective_from",
        "voucher.effective_date_taken": "effective_from",
    },
    "voucher.developer_admitted": {
        "voucher.not_a_developer": "developer",
        "voucher.already_in_pool": "developer",
    },
    "voucher.project_registered": {
        "voucher.project_exists": "project",
        "voucher.developer_not_in_pool": "developer",
        "voucher.permit_taken": "presale_permit",
        "voucher.invalid_area_code": "area_code",
    },
    "voucher.developer_left": {"voucher.developer_not_in_pool": "developer"},
    "quota.accepted": {"quota.measured_over_site": "measured_m2"},
    "quota.confirmed": {"quota.area_mismatch": "quota_m2"},
    "certificate.membership_issued": {"certificate.exists": "certificate"},
    "shares.certificate_issued": {"certificate.exists": "certificate"},
    "assets.verified": {"assets.exists": "verification", "assets.older_than_current": "as_of"},
    "dividend.declared": {"dividend.exists": "dividend", "dividend.over_distributable": "amount_fen"},
    "shares.transferred": {
        "shares.no_holding": "holder",
        "shares.same_holder": "to",
        "shares.transferee_not_member": "to",
        "shares.over_holder_cap": "units",
        "shares.insufficient_units": "units",
        "shares.units_pledged": "units",
    },
    "shares.bought_back": {
        "shares.no_holding": "holder",
        "shares.insufficient_units": "units",
        "shares.units_pledged": "units",
        "shares.buyback_over_annual_cap": "units",
    },
    # The exchange's bidding and deal acts (a bidder is chosen by its number, amounts typed).
    "exchange.bid": {
        **_EXCHANGE_BIDDER,
        "exchange.single_quote_only": "bidder",
        "exchange.bid_below_reserve": "amount_fen",
        "exchange.bid_below_increment": "amount_fen",
        "exchange.value_too_large": "amount_fen",
    },
    "exchange.priority_matched": {
        **_EXCHANGE_BIDDER,
        "exchange.no_priority": "bidder",
        "exchange.already_matched": "bidder",
        "exchange.match_not_equal": "amount_fen",
    },
    "exchange.quote_sealed": {**_EXCHANGE_BIDDER, "exchange.already_quoted": "bidder"},
    "exchange.quote_opened": {
        **_EXCHANGE_BIDDER,
        "exchange.no_sealed_quote": "bidder",
        "exchange.already_opened": "bidder",
        "exchange.commitment_mismatch": "salt",
        "exchange.bid_below_reserve": "amount_fen",
        "exchange.value_too_large": "amount_fen",
    },
    "exchange.awarded": {"exchange.wrong_winner": "bidder", "exchange.wrong_price": "amount_fen"},
    "exchange.defaulted": {
        "exchange.unknown_bidder": "bidder",
        "exchange.no_deposit": "bidder",
        "exchange.default_not_shown": "reason",
    },
    "exchange.payment_confirmed": {"exchange.wrong_payment": "amount_fen"},
    # The exchange's listing and registration acts.
    "exchange.listed": {
        "exchange.listing_exists": "listing",
        "exchange.right_not_held": "right",
        "exchange.right_pledged": "right",
        "exchange.holder_not_settled": "right",
        "exchange.already_listed": "right",
        "exchange.already_transferred": "right",
        "exchange.no_jurisdiction": "right",
        "exchange.use_change_forbidden": "right",
        "exchange.bad_parcels": "right.parcels",
        "exchange.bad_term": "right.term_start",
        "exchange.term_exceeds_contract": "right.term_end",
        "exchange.bad_price_unit": "price_unit",
        "exchange.increment_too_small": "increment_fen",
        "exchange.bad_deposit": "deposit_fen",
        "exchange.value_too_large": "reserve_fen",
        "exchange.announcement_too_short": "bidding_opens_at",
        "exchange.bad_window": "bidding_closes_at",
        "exchange.announcement_too_long": "bidding_closes_at",
    },
    "exchange.bidder_registered": {
        "exchange.unknown_bidder": "bidder",
        "exchange.bidder_is_holder": "bidder",
        "exchange.bidder_not_member": "bidder",
        "exchange.bidder_not_qualified": "bidder",
        "exchange.over_holder_cap": "bidder",
        "exchange.bidder_barred": "bidder",
        "exchange.already_registered": "bidder",
        "exchange.no_agricultural_capacity": "agricultural_capacity",
    },
    "exchange.deposit_received": {
        "exchange.unknown_bidder": "bidder",
        "exchange.deposit_exists": "bidder",
        "exchange.wrong_deposit": "amount_fen",
    },
}
# msgspec's and the payload check's ways of naming a field: "... - at `$.members[0].party`",
# "Object missing required field `head`", "$.name holds a control character".
_AT_PATH = re.compile(r"`\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+)`")
_MISSING = re.compile(r"missing required field `([A-Za-z_][A-Za-z0-9_]*)`")
_UNSAFE_AT = re.compile(r"payload: \$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+) holds")


class ActingUser(Protocol):
    """Who acts: the console user's pseudonymous id and their organisation."""

    @property
    def id(self) -> str: ...

    @property
    def org_id(self) -> str: ...


@dataclass(frozen=True)
class FormRefusal:
    """Why an act was not recorded: the ledger's stable ``code`` and ``message``, and the
    payload ``field`` it concerns (a path such as ``members[0].party``), or None when it
    concerns the form as a whole."""

    code: str
    message: str
    field: str | None = None


# Refusals whose message names the field by its path, and where that path starts.
PATH_NAMED = {"payload.invalid": "", "personal.invalid": "personal."}


def field_of(kind: str, refusal: Rejection) -> str | None:
    """The payload field a refusal of a ``kind`` entry names, when it can be told (a field
    beside the entry is named under its own key: ``personal.id_number``)."""
    if refusal.code in PATH_NAMED:
        at = _AT_PATH.search(refusal.message) or _UNSAFE_AT.search(refusal.message)
        missing = _MISSING.search(refusal.message)
        path = at.group(1).lstrip(".") if at else ""
        if missing:
            path = f"{path}.{missing.group(1)}" if path else missing.group(1)
        return PATH_NAMED[refusal.code] + path if path else None
    return FIELD_OF_CODE.get(kind, {}).get(refusal.code)


def refusal_of(kind: str, refusal: Rejection) -> FormRefusal:
    return FormRefusal(refusal.code, refusal.message, field_of(kind, refusal))


async def act(
    service: LedgerService,
    custody: Custody,
    user: ActingUser,
    kind: str,
    payload: dict[str, Any],
    entry_id: str,
    *,
    beside: dict[str, Any] | None = None,
) -> dict[str, Any] | FormRefusal:
    """Record ``kind`` with ``payload`` as ``user``'s act for their organisation, under the
    form's ``entry_id``; the receipt, or the refusal. ``beside`` holds what travels beside the
    entry (``personal`` for ``party.registered``, a ``note``). A wrong KEK or a corrupt held key
    is raised (``CustodyError``: the operator's to mend, not the user's), as is a database
    that cannot be reached."""
    if not isinstance(entry_id, str) or not UUID_PATTERN.match(entry_id):
        return FormRefusal("console.form_stale", "the form carries no valid entry id: open it again")
    try:
        async with service.engine.connect() as conn:
            key = await custody.load(conn, user.org_id)
    except CustodyError as e:
        if e.code != "console.no_key":
            raise
        return FormRefusal(e.code, e.message)
    try:
        item = _signed(service, key, user, kind, payload, entry_id)
    except MalformedError as e:  # what cannot be signed at all (an integer beyond 2^53, say)
        return FormRefusal("payload.invalid", f"the act cannot be signed as typed: {e}")
    result = await _submit_one(service, {**item, **(beside or {})})
    if isinstance(result, Rejection) and result.code == "entry.id_conflict":
        result = await _first_submission(service, user, kind, payload, entry_id, beside, result)
    return refusal_of(kind, result) if isinstance(result, Rejection) else result


def _signed(
    service: LedgerService, key: KeyFile, user: ActingUser, kind: str, payload: dict[str, Any], entry_id: str
) -> dict[str, Any]:
    # Signed by the ledger's clock, which is what its window around signed_at is held to.
    return signed_entry(
        key,
        service.origin,
        kind,
        payload,
        entry_id=entry_id,
        signed_at=service.appender.clock(),
        user=user.id,
    )


async def _submit_one(service: LedgerService, item: dict[str, Any]) -> dict[str, Any] | Rejection:
    try:
        [result] = await service.submit([item])
    except Rejection as refusal:  # the whole service refuses writes (ledger.read_only)
        return refusal
    return result


async def _first_submission(
    service: LedgerService,
    user: ActingUser,
    kind: str,
    payload: dict[str, Any],
    entry_id: str,
    beside: dict[str, Any] | None,
    conflict: Rejection,
) -> dict[str, Any] | Rejection:
    """The receipt of the act already stored under ``entry_id`` when it is this one (the form
    submitted twice); otherwise the conflict, as a stale form."""
    found = await service.read(store.records_by_entry_id, [entry_id])
    if entry_id not in found:
        return conflict
    record = msgspec.json.decode(found[entry_id].body)
    entry = record["entry"]
    same = (entry["actor"], entry.get("user"), entry["kind"], entry["payload"]) == (
        user.org_id,
        user.id,
        kind,
        payload,
    )
    if not same:
        return Rejection(
            "console.form_stale",
            f"this form was already used for another act (seq {record['seq']}): open it again",
            category=conflict.category,
        )
    return await _submit_one(service, {"entry": entry, "sig": record["sig"], **(beside or {})})
