"""The rural property rights exchange (农村产权交易中心): listings, bidders, bids, priority
rights, award, settlement and the transaction certificate. Rule version 3 brings its kinds."""

from contracts.exchange import bidding, listing, settlement
from contracts.exchange.tables import TABLES

RULES = (*listing.RULES, *bidding.RULES, *settlement.RULES)

__all__ = ["RULES", "TABLES"]
