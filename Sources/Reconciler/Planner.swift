// The pure planner; filled in by the Full reconciliation issue.
