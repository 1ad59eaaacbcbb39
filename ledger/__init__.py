"""Rural Ledger: the generic verifiable log (knows nothing of land, members or money)."""
