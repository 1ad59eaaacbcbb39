"""The Litestar service, command line and PostgreSQL wiring."""
