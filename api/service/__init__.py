"""The running ledger's write side: the service and its appender, genesis, the SQL projections,
the database and its migrations."""
