"""The `rural-ledger` command line."""
