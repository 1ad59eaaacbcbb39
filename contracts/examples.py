"""An example payload for every entry kind, as a clerk would submit it.

The examples tell one story in one village: the collective of 后疃村 under the township of
张家产镇 in 文登区 (county area code 371003), one household of four (the head, the spouse, a son
and a grandchild born later) and a neighbouring household of two. Their ids are the constants
below, so a test can build the state an example needs (the household the admission names, the
contract the lease names) with the same ids, mostly by submitting the examples before it.

On the county's exchange centre the household lists its two contracted parcels for a ten-year
lease (the county has declared its 2026 working days): the fruit growers' cooperative registers
as 竞买人 1 and the neighbouring household's head, a member of the collective and so a priority
holder, as 竞买人 2; each pays the deposit, and the member's equal bid wins under tie priority.

Every value reads like real data and means what it says: 12-digit village and 19-digit parcel
codes under it, unified social credit codes with their check character, UUIDs for persons and
households, RFC 3339 dates, money in integer fen, areas in integer m², document hashes in
SHA-256 hex (here the hash of a short description of the document), Ed25519 public keys in
base64. No example holds personal data: a person is a party id, a commitment and a blind index.

Each kind has one function returning a fresh payload; ``EXAMPLES`` lists them by kind and
``example(kind)`` returns one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from contracts.examples_quotas import QUOTA_EXAMPLES
from contracts.examples_vouchers import VOUCHER_EXAMPLES
from contracts.exchange.bidding import quote_commitment
from contracts.rulebook import RULEBOOK
from ledger.signing import PUBLIC_KEY_SIZE, decode_b64, key_id_of

Example = dict[str, Any]


def document_hash(description: str) -> str:
    """The SHA-256 hex an example gives a document (minutes, an agreement, a certificate)."""
    return hashlib.sha256(description.encode()).hexdigest()


def key_id(public_key: str) -> str:
    return key_id_of(decode_b64(public_key, size=PUBLIC_KEY_SIZE, what="public key"))


# Organisations. The county is the ledger's root, registered at genesis.
COUNTY_CODE = "371003"  # 文登区
TOWNSHIP = "town-zhangjiachan"
TOWNSHIP_NAME = "威海市文登区张家产镇人民政府"
TOWNSHIP_CODE = "371003106"
VILLAGE = "village-houtuan"
VILLAGE_NAME = "威海市文登区张家产镇后疃村股份经济合作社"
VILLAGE_CODE = "371003106201"
VILLAGE_CREDIT_CODE = "N2371003MF0128045Q"  # N2: a village-level collective economic organisation
VILLAGE_KEY = "hiyLqo1BvSaMS5JkY22HTUFcBFRuYjI6FY4RGfLrw6U="  # its key since registration
NEW_VILLAGE_KEY = "lfEs6lMlbY/nT4PUkwL4i5J6alXRVBPPN96sOKAMMyc="  # the key that supersedes it
COOPERATIVE_NAME = "威海市文登区后疃果蔬专业合作社"
COOPERATIVE_CREDIT_CODE = "93371003MA3C8K21X8"  # 93: a farmers' cooperative
BANK_CREDIT_CODE = "91371003MA3N6R9T22"  # the rural commercial bank that takes a share pledge

# The household and its people (party ids), and the neighbouring household.
HOUSEHOLD = "c8570563-7c90-4d94-a2fa-a9fb9a32daea"
HEAD = "24422850-abc3-4525-9567-e2fd4bd0adcb"
SPOUSE = "431bdbea-a379-40f1-a6bc-3c21d2be100a"
SON = "0876f1db-5d73-440c-a96c-8cc668f3a1eb"
GRANDCHILD = "30de37ae-ade8-4bf5-92dc-6b84a0894833"
SON_HOUSEHOLD = "d494b8b9-3601-489e-82f7-b088a98afd0a"  # the son's own, after he marries
NEIGHBOUR_HOUSEHOLD = "3509fdd4-0775-4cc1-9bef-0d65bd416a08"
NEIGHBOUR_HEAD = "3dc6cb4a-d2ce-461b-a570-051b87343ec0"
NEIGHBOUR_SPOUSE = "f5133a4a-d093-409c-a3f2-e952da3da430"

# Land: the household's contract (village, group 01, household 0018, J for household
# contracting) with two parcels (village code, group 01, parcel number), the neighbour's contract
# with one, and the household's homestead plot (group 03).
CONTRACT = "371003106201010018J"
EAST_FIELD = "3710031062010100231"
RIVER_FIELD = "3710031062010100232"
NEIGHBOUR_CONTRACT = "371003106201010019J"
NEIGHBOUR_FIELD = "3710031062010100240"
HOMESTEAD = "ZJD-371003106201-0045"
HOMESTEAD_PLOT = "3710031062010300045"

MEMBERSHIP_CERTIFICATE = "CYZM-371003106201-2026-0012"
ASSET_VERIFICATION = "QCHZ-371003106201-2025"
SHARE_PLEDGE = "ZY-371003106201-2026-0002"

# When things happen: the members' assembly meets on 1 March 2026 and its decision is on notice
# from 2 to 9 March; confirmations follow from 10 March; the share scheme is dated 31 March.
NOTICE_START = "2026-03-02"
NOTICE_END = "2026-03-09"
SCHEME_DATE = "2026-03-31"

# The exchange: the county's exchange centre (12: a public institution) lists the household's
# contract's two parcels (2,201 m², 3.3015 亩) on 1 June 2026 for a lease from 1 July 2026 to
# 30 June 2036, the announcement running seven working days to 10 June; bidding is on 16 June
# from 09:00 to 11:00 China Standard Time. Prices are per 亩 per year.
EXCHANGE = "exchange-wendeng"
EXCHANGE_NAME = "威海市文登区农村产权交易中心"
EXCHANGE_CREDIT_CODE = "12371003MB2851674B"
LISTING = "GP-371003-2026-0031"  # 挂牌 number
LISTING_CERTIFICATE = "JZ-371003-2026-0031"  # 交易鉴证书 number
LEASE_START = "2026-07-01"
LEASE_END = "2036-06-30"
BIDDING_OPENS_AT = "2026-06-16T01:00:00Z"
BIDDING_CLOSES_AT = "2026-06-16T03:00:00Z"
COOPERATIVE_BIDDER = 1  # 竞买人 1: the cooperative
# The cooperative as a bidding entity of the county's exchange centre (rule version 3): an
# organisation of its own, registered by the centre, that signs its bids with its own key.
COOPERATIVE = "coop-houtuan-guoshu"
COOPERATIVE_KEY = "wZ3LegxC/+DuSq6bx21/XGmcWe0W8ecWlmWDJ/dtwJ4="
NEIGHBOUR_BIDDER = 2  # 竞买人 2: the neighbour's head, a member with priority
RESERVE_FEN = 80_000  # 800 yuan per 亩 per year
INCREMENT_FEN = 10_000  # the county's smallest increment, 100 yuan
DEPOSIT_FEN = 500_000  # 5,000 yuan: 19 % of the deal at the reserve (26,412 yuan)
WINNING_FEN = 90_000  # 900 yuan per 亩 per year
DEAL_FEN = 2_971_350  # 900 yuan × 3.3015 亩 × 10 years = 29,713.50 yuan
BUYER_FEE_FEN = 38_628  # 1.3 % of the deal (the county's first tier), rounded to the fen
SEALED_QUOTE_FEN = 95_000  # the cooperative's quote when the listing takes sealed quotes
QUOTE_SALT = "7f930752c734ba37066af9034d0bd843"


def rules_adopted() -> Example:
    return {"version": RULEBOOK.current}


def org_registered() -> Example:
    return {
        "id": VILLAGE,
        "name": VILLAGE_NAME,
        "type": "village_collective",
        "parent": TOWNSHIP,
        "public_keys": [VILLAGE_KEY],
        "area_code": VILLAGE_CODE,
        "credit_code": VILLAGE_CREDIT_CODE,
    }


def bidding_entity_registered() -> Example:
    """``org.registered`` as an exchange centre signs it: the cooperative as its bidding entity,
    by its unified social credit code (no area code)."""
    return {
        "id": COOPERATIVE,
        "name": COOPERATIVE_NAME,
        "type": "bidding_entity",
        "parent": EXCHANGE,
        "public_keys": [COOPERATIVE_KEY],
        "credit_code": COOPERATIVE_CREDIT_CODE,
    }


def key_added() -> Example:
    return {"org": VILLAGE, "public_key": NEW_VILLAGE_KEY}


def key_revoked() -> Example:
    return {"key_id": key_id(VILLAGE_KEY), "reason": "superseded"}


def policy_set() -> Example:
    return {
        "numbers": {
            "membership_notice_days": 10,
            "homestead_cap_m2": {
                "suburb": 166,
                "plain": 200,
                "plain_saline": 264,
                "hilly_flat": 140,
                "hilly_slope": 264,
            },
            "bid_increment_fen": 50_000,
        }
    }


def party_registered() -> Example:
    return {
        "party": GRANDCHILD,
        "commitment": document_hash("commitment: salt and the five personal fields of the grandchild"),
        "blind_index": document_hash("blind index: HMAC of the grandchild's resident ID number"),
    }


def household_registered() -> Example:
    return {
        "household": HOUSEHOLD,
        "head": HEAD,
        "members": [
            {"party": HEAD, "relation": "head"},
            {"party": SPOUSE, "relation": "spouse"},
            {"party": SON, "relation": "child"},
        ],
    }


def household_member_added() -> Example:
    return {"household": HOUSEHOLD, "party": GRANDCHILD, "relation": "grandchild"}


def household_member_removed() -> Example:
    return {"household": HOUSEHOLD, "party": HEAD, "reason": "death", "new_head": SPOUSE}


def household_split() -> Example:
    return {
        "household": HOUSEHOLD,
        "new_household": SON_HOUSEHOLD,
        "head": SON,
        "members": [{"party": SON, "relation": "head"}],
        "reason": "marriage",
    }


def decision() -> Example:
    """The members' assembly of 1 March 2026 (412 members, 318 present, 301 for)."""
    return {
        "meeting": "members_assembly",
        "eligible": 412,
        "attendance": 318,
        "votes_for": 301,
        "contested": False,
        "notice_start": NOTICE_START,
        "notice_end": NOTICE_END,
        "evidence": [
            document_hash("后疃村 members' assembly of 2026-03-01: minutes"),
            document_hash("后疃村 membership notice of 2026-03-02: photograph of the posted list"),
        ],
    }


def member_admitted() -> Example:
    return {"party": HEAD, "basis": "hukou", "household": HOUSEHOLD, "decision": decision()}


def member_objection_filed() -> Example:
    return {"party": HEAD, "objection": document_hash("written objection of 2026-03-05")}


def member_objection_resolved() -> Example:
    return {
        "party": HEAD,
        "upheld": False,
        "decision": document_hash("representatives' meeting of 2026-03-07 on the objection: minutes"),
    }


def member_confirmed() -> Example:
    return {"party": HEAD}


def member_status_changed() -> Example:
    return {"party": HEAD, "reason": "death", "evidence": [document_hash("death certificate")]}


def parcel(code: str, area_m2: int, east: str, south: str, west: str, north: str) -> Example:
    return {
        "code": code,
        "area_m2": area_m2,
        "land_class": "arable",
        "boundaries": {"east": east, "south": south, "west": west, "north": north},
    }


def land_contract_issued() -> Example:
    return {
        "contract": CONTRACT,
        "household": HOUSEHOLD,
        "certificate_no": "鲁(2019)文登区不动产权第0004518号",
        "term_start": "2018-01-01",
        "term_end": "2047-12-31",
        "parcels": [
            parcel(EAST_FIELD, 1334, RIVER_FIELD, "ditch", "road", "3710031062010100219"),  # 2 mu
            parcel(RIVER_FIELD, 867, "river", "ditch", EAST_FIELD, "collective_land"),  # 1.3 mu
        ],
    }


def land_contract_extended() -> Example:
    return {"contract": CONTRACT, "term_end": "2077-12-31"}


def land_management_transferred() -> Example:
    return {
        "transfer": "LZ-371003106201-2026-0007",
        "contract": CONTRACT,
        "mode": "lease",
        "transferee": {"type": "entity", "name": COOPERATIVE_NAME, "credit_code": COOPERATIVE_CREDIT_CODE},
        "parcels": [EAST_FIELD],
        "term_start": "2026-04-01",
        "term_end": "2035-12-31",
        "agricultural_use": True,
        "written_contract": document_hash("lease of parcel 3710031062010100231 to the cooperative"),
        "household_consent": document_hash("the household's written consent to the lease"),
    }


def land_contracting_right_transferred() -> Example:
    return {
        "contract": CONTRACT,
        "to_household": NEIGHBOUR_HOUSEHOLD,
        "consent": document_hash("the collective's consent to the transfer of contract 371003106201010018J"),
    }


def land_contracts_exchanged() -> Example:
    return {
        "contract": CONTRACT,
        "parcels": [RIVER_FIELD],
        "other_contract": NEIGHBOUR_CONTRACT,
        "other_parcels": [NEIGHBOUR_FIELD],
        "consent": document_hash("exchange agreement of the two households, with the collective's consent"),
    }


def land_returned() -> Example:
    return {"contract": CONTRACT, "notice_date": "2026-03-10", "effective_date": "2026-09-10"}


def homestead_granted() -> Example:
    return {
        "homestead": HOMESTEAD,
        "household": HOUSEHOLD,
        "plot_code": HOMESTEAD_PLOT,
        "area_m2": 180,
        "zone": "plain",
        "certificate_no": "鲁(2021)文登区不动产权第0012077号",
    }


def homestead_transferred() -> Example:
    return {
        "homestead": HOMESTEAD,
        "to_household": NEIGHBOUR_HOUSEHOLD,
        "agreement": document_hash("homestead transfer agreement between the two households"),
    }


def homestead_withdrawn() -> Example:
    # 180 m² at the zone's quota price of 1,600 yuan/m² plus the house appraised at 180,000 yuan.
    return {
        "homestead": HOMESTEAD,
        "compensation": "voucher",
        "compensation_fen": 46_800_000,
        "agreement": document_hash("agreement on the paid withdrawal of homestead ZJD-371003106201-0045"),
    }


def rights() -> Example:
    return {"land_contracts": [CONTRACT], "homesteads": [HOMESTEAD]}


def certificate_membership_issued() -> Example:
    return {
        "certificate": MEMBERSHIP_CERTIFICATE,
        "household": HOUSEHOLD,
        "persons": [HEAD, SPOUSE, SON],
        "rights": rights(),
    }


def certificate_transfer_filed() -> Example:
    return {
        "certificate": "ZYBA-371003106-2026-0003",
        "village": VILLAGE,
        "scope": "household",
        "household": HOUSEHOLD,
        "persons": [HEAD, SPOUSE, SON],
        "membership_certificate": MEMBERSHIP_CERTIFICATE,
        "rights": rights(),
    }


def assets_verified() -> Example:
    return {
        "verification": ASSET_VERIFICATION,
        "as_of": "2025-12-31",
        "operating_assets": [
            {"category": "factory_rental", "value_fen": 186_000_000},
            {"category": "cold_store", "value_fen": 92_500_000},
            {"category": "enterprise_equity", "value_fen": 40_000_000},
        ],
        "liabilities_fen": 31_200_000,
        "resource_assets": [
            {"category": "collective_forest", "area_m2": 412_000},
            {"category": "water_area", "area_m2": 36_000},
        ],
        "non_operating_assets": [
            {"category": "village_office", "value_fen": 2_800_000},
            {"category": "road", "value_fen": 5_600_000},
        ],
        "audit_statement": document_hash("文登区农业农村局 audit of 后疃村 assets as of 2025-12-31"),
    }


BASIC_UNITS = 100  # every member's population share
LABOUR_UNITS_PER_YEAR = 2  # a labour-age share per year worked for the collective
LABOUR_YEARS = {HEAD: 30, SPOUSE: 28, SON: 15, NEIGHBOUR_HEAD: 25, NEIGHBOUR_SPOUSE: 22}
HOUSEHOLD_OF = {
    HEAD: HOUSEHOLD,
    SPOUSE: HOUSEHOLD,
    SON: HOUSEHOLD,
    NEIGHBOUR_HEAD: NEIGHBOUR_HOUSEHOLD,
    NEIGHBOUR_SPOUSE: NEIGHBOUR_HOUSEHOLD,
}


def allocation(party: str, household: str, labour_years: int) -> Example:
    return {
        "party": party,
        "household": household,
        "basic_units": BASIC_UNITS,
        "labour_years": labour_years,
        "labour_units": labour_years * LABOUR_UNITS_PER_YEAR,
    }


def shares_quantified() -> Example:
    # Members' units: 160 + 156 + 130 + 150 + 144 = 740; the collective share 185 (20 %).
    allocations = [allocation(party, HOUSEHOLD_OF[party], years) for party, years in LABOUR_YEARS.items()]
    collective_units = 185
    return {
        "scheme": "GFHZ-371003106201-2026",
        "verification": ASSET_VERIFICATION,
        "scheme_date": SCHEME_DATE,
        "basic_units_per_member": BASIC_UNITS,
        "labour_units_per_year": LABOUR_UNITS_PER_YEAR,
        "collective_units": collective_units,
        "total_units": sum(a["basic_units"] + a["labour_units"] for a in allocations) + collective_units,
        "allocations": allocations,
        "management": "static",
    }


def shares_transferred() -> Example:
    return {
        "holder": NEIGHBOUR_HEAD,
        "to": SON,
        "units": 40,
        "price_fen": 12_400_000,
        "agreement": document_hash("share transfer agreement: 40 units"),
    }


def shares_bought_back() -> Example:
    return {
        "holder": NEIGHBOUR_SPOUSE,
        "units": 40,
        "price_fen": 12_000_000,
        "agreement": document_hash("buy-back agreement: 40 units, paid exit"),
    }


def shares_inherited() -> Example:
    # The head's 160 units go to his two heirs in equal parts; this is the son's half.
    return {
        "deceased": HEAD,
        "heir": SON,
        "units": 80,
        "evidence": document_hash("notarised certificate of inheritance"),
    }


def shares_pledged() -> Example:
    return {
        "pledge": SHARE_PLEDGE,
        "holder": SON,
        "units": 100,
        "pledgee": BANK_CREDIT_CODE,
        "contract": document_hash("share pledge contract with the rural commercial bank"),
    }


def shares_pledge_released() -> Example:
    return {"pledge": SHARE_PLEDGE}


def shares_certificate_issued() -> Example:
    holdings = {p: BASIC_UNITS + LABOUR_YEARS[p] * LABOUR_UNITS_PER_YEAR for p in (HEAD, SPOUSE, SON)}
    return {"certificate": "GQZ-371003106201-0018", "household": HOUSEHOLD, "holdings": holdings}


def dividend_declared() -> Example:
    return {
        "dividend": "FH-371003106201-2025",
        "distributable_fen": 18_600_000,
        "amount_fen": 13_020_000,  # 70 % of the distributable income
        "resolution": document_hash("members' assembly resolution on the 2025 dividend"),
    }


def days_from(first: str, count: int) -> list[str]:
    """``count`` consecutive dates from ``first``."""
    start = date.fromisoformat(first)
    return [(start + timedelta(days=n)).isoformat() for n in range(count)]


def calendar_declared() -> Example:
    """2026 as the State Council's notice arranges it: New Year, the Spring Festival, Qingming,
    Labour Day, the Dragon Boat Festival, Mid-Autumn and National Day off, and six weekend days
    worked instead."""
    return {
        "year": 2026,
        "holidays": [
            *days_from("2026-01-01", 3),
            *days_from("2026-02-15", 9),
            *days_from("2026-04-04", 3),
            *days_from("2026-05-01", 5),
            *days_from("2026-06-19", 3),
            *days_from("2026-09-25", 3),
            *days_from("2026-10-01", 7),
        ],
        "working_weekend_days": [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ],
    }


def exchange_listed() -> Example:
    return {
        "listing": LISTING,
        "right": {
            "type": "land_management",
            "contract": CONTRACT,
            "parcels": [EAST_FIELD, RIVER_FIELD],
            "mode": "lease",
            "term_start": LEASE_START,
            "term_end": LEASE_END,
            "agricultural_use": True,
        },
        "consent": document_hash("the household's written consent to lease its two parcels on the exchange"),
        "reserve_fen": RESERVE_FEN,
        "price_unit": "per_mu_year",
        "increment_fen": INCREMENT_FEN,
        "deposit_fen": DEPOSIT_FEN,
        "method": "auction",
        "bidding_opens_at": BIDDING_OPENS_AT,
        "bidding_closes_at": BIDDING_CLOSES_AT,
        "qualifications": {
            "members_only": False,
            "agricultural_capacity": True,
            "entity_types": ["cooperative", "family_farm"],
        },
    }


def exchange_extended() -> Example:
    return {"listing": LISTING}


def exchange_withdrawn() -> Example:
    return {
        "listing": LISTING,
        "reason": "holder_request",
        "document": document_hash("the household's written request to withdraw listing GP-371003-2026-0031"),
    }


def exchange_held() -> Example:
    return {
        "listing": LISTING,
        "reason": "ownership_dispute",
        "document": document_hash("张家产镇 mediation committee: notice of a boundary dispute, parcel 0232"),
    }


def exchange_hold_lifted() -> Example:
    return {
        "listing": LISTING,
        "document": document_hash("张家产镇 mediation committee: agreement on the boundary of parcel 0232"),
    }


def exchange_bidder_registered() -> Example:
    return {
        "listing": LISTING,
        "bidder": {
            "type": "entity",
            "name": COOPERATIVE_NAME,
            "credit_code": COOPERATIVE_CREDIT_CODE,
            "entity_type": "cooperative",
        },
        "application": document_hash("the cooperative's application to bid for listing GP-371003-2026-0031"),
        "agricultural_capacity": document_hash(
            "the cooperative's business licence and its orchards' records"
        ),
    }


def exchange_deposit_received() -> Example:
    return {
        "listing": LISTING,
        "bidder": COOPERATIVE_BIDDER,
        "amount_fen": DEPOSIT_FEN,
        "bank_reference": document_hash("settlement account credit advice: 竞买人 1's deposit"),
    }


def exchange_bid() -> Example:
    # The member opened at the reserve; the cooperative raises by one increment.
    return {"listing": LISTING, "bidder": COOPERATIVE_BIDDER, "amount_fen": WINNING_FEN}


def exchange_priority_matched() -> Example:
    # Where the county's model is in-auction matching: the member matches the cooperative's bid.
    return {"listing": LISTING, "bidder": NEIGHBOUR_BIDDER, "amount_fen": WINNING_FEN}


def exchange_quote_sealed() -> Example:
    commitment = quote_commitment(LISTING, COOPERATIVE_BIDDER, SEALED_QUOTE_FEN, QUOTE_SALT)
    return {"listing": LISTING, "bidder": COOPERATIVE_BIDDER, "commitment": commitment}


def exchange_quote_opened() -> Example:
    return {
        "listing": LISTING,
        "bidder": COOPERATIVE_BIDDER,
        "amount_fen": SEALED_QUOTE_FEN,
        "salt": QUOTE_SALT,
    }


def exchange_awarded() -> Example:
    # Both bid 900 yuan; under tie priority the member's equal bid outranks the cooperative's.
    return {"listing": LISTING, "bidder": NEIGHBOUR_BIDDER, "amount_fen": WINNING_FEN}


def exchange_failed() -> Example:
    return {"listing": LISTING}


def exchange_contract_signed() -> Example:
    return {
        "listing": LISTING,
        "contract": document_hash("lease contract of listing GP-371003-2026-0031, signed by both parties"),
    }


def exchange_defaulted() -> Example:
    return {
        "listing": LISTING,
        "bidder": NEIGHBOUR_BIDDER,
        "reason": "refused_contract",
        "document": document_hash("the centre's notice: 竞买人 2 did not sign the contract by 2026-06-22"),
    }


def exchange_payment_confirmed() -> Example:
    # The deal less the winner's deposit, which counts toward it, plus the buyer's fee; the
    # seller, a member household, pays none.
    return {
        "listing": LISTING,
        "amount_fen": DEAL_FEN - DEPOSIT_FEN + BUYER_FEE_FEN,
        "bank_reference": document_hash("settlement account credit advice: 竞买人 2's payment"),
    }


def exchange_deposit_refunded() -> Example:
    return {
        "listing": LISTING,
        "bidder": COOPERATIVE_BIDDER,
        "bank_reference": document_hash("settlement account debit advice: 竞买人 1's deposit refunded"),
    }


def exchange_certificate_issued() -> Example:
    return {"listing": LISTING, "certificate_no": LISTING_CERTIFICATE}


EXAMPLES: Mapping[str, Callable[[], Example]] = {
    "rules.adopted": rules_adopted,
    "org.registered": org_registered,
    "key.added": key_added,
    "key.revoked": key_revoked,
    "policy.set": policy_set,
    "party.registered": party_registered,
    "household.registered": household_registered,
    "household.member_added": household_member_added,
    "household.member_removed": household_member_removed,
    "household.split": household_split,
    "member.admitted": member_admitted,
    "member.objection_filed": member_objection_filed,
    "member.objection_resolved": member_objection_resolved,
    "member.confirmed": member_confirmed,
    "member.status_changed": member_status_changed,
    "land.contract_issued": land_contract_issued,
    "land.contract_extended": land_contract_extended,
    "land.management_transferred": land_management_transferred,
    "land.contracting_right_transferred": land_contracting_right_transferred,
    "land.contracts_exchanged": land_contracts_exchanged,
    "land.returned": land_returned,
    "homestead.granted": homestead_granted,
    "homestead.transferred": homestead_transferred,
    "homestead.withdrawn": homestead_withdrawn,
    "certificate.membership_issued": certificate_membership_issued,
    "certificate.transfer_filed": certificate_transfer_filed,
    "assets.verified": assets_verified,
    "shares.quantified": shares_quantified,
    "shares.transferred": shares_transferred,
    "shares.bought_back": shares_bought_back,
    "shares.inherited": shares_inherited,
    "shares.pledged": shares_pledged,
    "shares.pledge_released": shares_pledge_released,
    "shares.certificate_issued": shares_certificate_issued,
    "dividend.declared": dividend_declared,
    "calendar.declared": calendar_declared,
    "exchange.listed": exchange_listed,
    "exchange.extended": exchange_extended,
    "exchange.withdrawn": exchange_withdrawn,
    "exchange.held": exchange_held,
    "exchange.hold_lifted": exchange_hold_lifted,
    "exchange.bidder_registered": exchange_bidder_registered,
    "exchange.deposit_received": exchange_deposit_received,
    "exchange.bid": exchange_bid,
    "exchange.priority_matched": exchange_priority_matched,
    "exchange.quote_sealed": exchange_quote_sealed,
    "exchange.quote_opened": exchange_quote_opened,
    "exchange.awarded": exchange_awarded,
    "exchange.failed": exchange_failed,
    "exchange.contract_signed": exchange_contract_signed,
    "exchange.defaulted": exchange_defaulted,
    "exchange.payment_confirmed": exchange_payment_confirmed,
    "exchange.deposit_refunded": exchange_deposit_refunded,
    "exchange.certificate_issued": exchange_certificate_issued,
    **VOUCHER_EXAMPLES,
    **QUOTA_EXAMPLES,
}


def example(kind: str) -> Example:
    """A fresh example payload of ``kind`` (``KeyError`` when it has none)."""
    return EXAMPLES[kind]()
