-- The login check from what SSO returns (issue 16): an application that gets
-- an organization id plus the user's idp_id (and/or email) from WorkOS SSO
-- finds the person, whether they may sign in, and their roles, in one call.
SET LOCAL search_path = workos_dsync;

-- login_check(organization_id, idp_id, email) -> one row (person_id, allowed, roles).
-- The person is found only among accounts of that organization (never across
-- organizations): first the account whose idp_id matches (an active account
-- before a disabled one, then the most recently seen), else the accounts whose
-- email matches case-insensitively when they all belong to one person (two
-- persons with that email: no person). `allowed` is can_sign_in(person,
-- organization_id); `roles` are the person's effective roles in that
-- organization, sorted, and empty unless allowed. No match: (NULL, false, '{}').
-- An SSO-only organization (no synced directory) has no accounts to match:
-- the application looks its own person up and calls can_sign_in.
CREATE FUNCTION login_check(organization_id text, idp_id text, email text)
RETURNS TABLE (person_id uuid, allowed boolean, roles text[])
LANGUAGE sql STABLE
SET search_path = workos_dsync, pg_temp
AS $$
    WITH by_idp AS (
        SELECT du.user_id FROM directory_users du
        WHERE du.organization_id = $1 AND du.idp_id = $2 AND du.user_id IS NOT NULL
        ORDER BY du.status = 'active' DESC, du.last_seen_at DESC
        LIMIT 1
    ), by_email AS (
        SELECT min(du.user_id::text)::uuid AS user_id FROM directory_users du
        WHERE du.organization_id = $1 AND lower(du.email) = lower($3) AND du.user_id IS NOT NULL
        HAVING count(DISTINCT du.user_id) = 1
    ), person AS (
        SELECT coalesce((SELECT user_id FROM by_idp), (SELECT user_id FROM by_email)) AS id
    ), verdict AS (
        SELECT p.id, p.id IS NOT NULL AND can_sign_in(p.id, $1) AS allowed FROM person p
    )
    SELECT v.id, v.allowed,
        CASE WHEN v.allowed THEN coalesce((
            SELECT array_agg(DISTINCT r.role ORDER BY r.role) FROM effective_roles r
            WHERE r.user_id = v.id AND r.organization_id = $1), '{}') ELSE '{}' END
    FROM verdict v
$$;
