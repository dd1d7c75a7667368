-- workos-dsync schema, version 3: remember persons whose configured
-- `revoke_sessions_sql` failed. The apply runs it in a savepoint, so a
-- failure never rolls back the disables; the persons it was for are marked
-- here and the directory's next run retries them (and clears the mark on
-- success, or when the person is active again).

SET LOCAL search_path = workos_dsync;

ALTER TABLE users ADD COLUMN sessions_revocation_pending_since timestamptz;  -- null: nothing pending
CREATE INDEX users_sessions_revocation_pending_idx ON users (id) WHERE sessions_revocation_pending_since IS NOT NULL;
