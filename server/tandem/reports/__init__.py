"""What the ledger says: scorecards (table, markdown, json, csv, html), status and doctor."""
