// Filled in by the ledger and daemon work (issue 3).
