-- workos-dsync schema, version 2: tenant isolation, idp_id reuse and a
-- truthful trail (issue "Safe at production scale").

SET LOCAL search_path = workos_dsync;

-- Why an account waits for an admin instead of being linked to a person:
--   ambiguous           several persons (or several new accounts) share the email
--   other_organization  the only person with that email belongs to another
--                       organization's directory and the email is not in this
--                       organization's domains
--   idp_id_reused       a new WorkOS user took the idp_id of a disabled account
--                       whose email and name differ: never the old person
--   profile_elsewhere   the linked person has an active account in another
--                       organization, which keeps its email and names
ALTER TABLE link_conflicts ADD COLUMN reason text NOT NULL DEFAULT 'ambiguous'
    CHECK (reason IN ('ambiguous', 'other_organization', 'idp_id_reused', 'profile_elsewhere'));

-- The last complete listing that contained an account, recorded when the
-- account first goes missing (null while it is listed); its last_seen_at is
-- then the time of that listing.
ALTER TABLE directory_users ADD COLUMN last_listed_run_id bigint;

-- The roles each person was last told about (a user.roles_changed event) per
-- directory, so that an edit of role_mappings is evented on the next run.
CREATE TABLE evented_roles (
    directory_id text NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id),
    roles        text[] NOT NULL,
    PRIMARY KEY (directory_id, user_id)
);
INSERT INTO evented_roles (directory_id, user_id, roles)
SELECT directory_id, user_id, array_agg(DISTINCT role ORDER BY role) FROM effective_roles
WHERE user_id IS NOT NULL GROUP BY directory_id, user_id;
