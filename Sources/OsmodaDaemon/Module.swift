// Filled in by the daemon work (issue 3).
