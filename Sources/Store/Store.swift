// The PostgreSQL store; filled in by the PostgreSQL store issue.
