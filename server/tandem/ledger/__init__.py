"""The ledger: one row per model step (SQLite or PostgreSQL), notes and trial runs."""
