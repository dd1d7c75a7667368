-- Admin workflows (issue 17): absence debounce, legal hold, resolved link
-- conflicts.
SET LOCAL search_path = workos_dsync;

-- How many consecutive complete listings an active account has been absent
-- from (0 while it is listed). With guard.missing_after_listings = N an
-- account is disabled as `missing` only once this reaches N.
ALTER TABLE directory_users ADD COLUMN missing_listings integer NOT NULL DEFAULT 0
    CHECK (missing_listings >= 0);

-- Legal hold: a person under hold is never anonymised by `purge` (set by
-- `workos-dsync hold`, cleared by `workos-dsync unhold`).
ALTER TABLE users ADD COLUMN legal_hold_at timestamptz;
ALTER TABLE users ADD COLUMN legal_hold_reason text;
ALTER TABLE users ADD CONSTRAINT users_legal_hold_consistent
    CHECK ((legal_hold_at IS NULL) = (legal_hold_reason IS NULL));

-- How a link conflict ended:
--   linked          an admin linked the account to an existing person (conflicts resolve --person)
--   new_person      an admin made the account a new person (conflicts resolve --new-person)
--   self_resolved   a run found the ambiguity over (exactly one person with the email) and linked it
--   purged          `purge` anonymised the account, never linked, long disabled
ALTER TABLE link_conflicts ADD COLUMN resolution text
    CHECK (resolution IN ('linked', 'new_person', 'self_resolved', 'purged'));
ALTER TABLE link_conflicts ADD COLUMN resolved_user_id uuid REFERENCES users (id);
ALTER TABLE link_conflicts ADD COLUMN resolved_by text;
