-- Least-privilege roles for workos-dsync. NOT a migration: run it once as a
-- superuser or the schema owner, after `workos-dsync migrate`, and again after
-- a migration adds tables (it is idempotent). In one transaction (-1), so
-- a daemon running meanwhile never misses a grant it needs half-way:
--
--   psql "$OWNER_DATABASE_URL" -v ON_ERROR_STOP=1 -1 -f sql/roles.sql
--
-- * `workos-dsync migrate` runs as the OWNER of schema workos_dsync (it runs
--   DDL); nothing else needs the owner.
-- * workos_dsync_daemon: what `workos-dsync run/sync/approve/conflicts resolve/hold`
--   need — usage on the schema, SELECT on its tables, INSERT/UPDATE where it
--   writes, DELETE only on group_memberships, evented_roles, sync_runs and replicas
--   (the tables it deletes from; old sync_runs under retention.sync_runs; its heartbeat row), the
--   sequences, temporary tables for staging; no DDL on the
--   schema; role_mappings is read-only for it (admins maintain it); events
--   stay append-only (no UPDATE/DELETE/TRUNCATE granted; purge's
--   anonymisation of event payloads is the one exception and runs as the
--   owner).
-- * workos_dsync_admin: the application's admin screens and `workos-dsync
--   roles add/remove`, `hold`/`unhold` — what the reader has, plus writing
--   role_mappings, legal holds (users.legal_hold_at, legal_hold_reason),
--   appending (never changing) the events of those changes, resolving
--   link_conflicts by hand (resolved_at, resolution, resolved_user_id,
--   resolved_by, and pointing the account at the chosen person:
--   directory_users.user_id; `workos-dsync conflicts resolve` also derives the
--   person's status and roles, so it runs as the daemon's role) and deciding
--   held_plans (status, decided_at, decided_by).
-- * workos_dsync_purger (opt-in): what `purge`, the daemon's `purge.schedule`
--   and `retention.events` need besides the daemon's grants — anonymising
--   persons, accounts, email history, conflicts, held plans and event payloads,
--   deleting old events. Nobody has it until the operator grants it, e.g.
--   GRANT workos_dsync_purger TO dsync;   (the daemon's login role, for purge.schedule)
--   The trade-off: a role that may rewrite event payloads can also rewrite the
--   audit trail; keep it off the daemon unless the scheduled purge is wanted,
--   and run `purge` by hand as the owner otherwise.
-- * workos_dsync_reader: the application — SELECT on tables and views,
--   EXECUTE on can_sign_in and login_check.
-- All are NOLOGIN groups: grant them to login roles, e.g.
--   CREATE ROLE dsync LOGIN PASSWORD '…' IN ROLE workos_dsync_daemon;

-- Roles are cluster-wide: two databases of one cluster running this at once
-- may both find a role missing; the loser's CREATE is then a no-op too.
DO $$
BEGIN
    BEGIN
        CREATE ROLE workos_dsync_daemon NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        CREATE ROLE workos_dsync_reader NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        CREATE ROLE workos_dsync_admin NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        CREATE ROLE workos_dsync_purger NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
END $$;

REVOKE ALL ON SCHEMA workos_dsync FROM PUBLIC;
REVOKE CREATE ON SCHEMA workos_dsync FROM workos_dsync_daemon, workos_dsync_reader, workos_dsync_admin, workos_dsync_purger;
GRANT USAGE ON SCHEMA workos_dsync TO workos_dsync_daemon, workos_dsync_reader, workos_dsync_admin, workos_dsync_purger;

-- daemon
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA workos_dsync FROM workos_dsync_daemon;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA workos_dsync TO workos_dsync_daemon;
GRANT DELETE ON workos_dsync.group_memberships, workos_dsync.evented_roles TO workos_dsync_daemon;
-- retention.sync_runs: the daemon deletes its own old run records (never events).
GRANT DELETE ON workos_dsync.sync_runs TO workos_dsync_daemon;
-- A replica removes its own heartbeat row at shutdown, and rows silent for a day.
GRANT DELETE ON workos_dsync.replicas TO workos_dsync_daemon;
REVOKE UPDATE ON workos_dsync.events FROM workos_dsync_daemon;
REVOKE INSERT, UPDATE ON workos_dsync.role_mappings, workos_dsync.schema_migrations FROM workos_dsync_daemon;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA workos_dsync TO workos_dsync_daemon;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA workos_dsync TO workos_dsync_daemon;
DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO workos_dsync_daemon', current_database()); END $$;

-- reader (the application) and admin (its admin screens)
REVOKE ALL ON ALL TABLES IN SCHEMA workos_dsync FROM workos_dsync_reader, workos_dsync_admin;
GRANT SELECT ON ALL TABLES IN SCHEMA workos_dsync TO workos_dsync_reader, workos_dsync_admin;
REVOKE EXECUTE ON FUNCTION workos_dsync.can_sign_in(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workos_dsync.can_sign_in(uuid, text) TO workos_dsync_reader, workos_dsync_daemon, workos_dsync_admin;
REVOKE EXECUTE ON FUNCTION workos_dsync.login_check(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workos_dsync.login_check(text, text, text) TO workos_dsync_reader, workos_dsync_daemon, workos_dsync_admin;
GRANT INSERT, UPDATE, DELETE ON workos_dsync.role_mappings TO workos_dsync_admin;
GRANT USAGE ON SEQUENCE workos_dsync.role_mappings_id_seq TO workos_dsync_admin;
GRANT UPDATE (resolved_at) ON workos_dsync.link_conflicts TO workos_dsync_admin;
GRANT UPDATE (user_id) ON workos_dsync.directory_users TO workos_dsync_admin;
GRANT UPDATE (status, decided_at, decided_by) ON workos_dsync.held_plans TO workos_dsync_admin;
GRANT UPDATE (resolution, resolved_user_id, resolved_by) ON workos_dsync.link_conflicts TO workos_dsync_admin;
GRANT UPDATE (legal_hold_at, legal_hold_reason, updated_at) ON workos_dsync.users TO workos_dsync_admin;
GRANT INSERT ON workos_dsync.events TO workos_dsync_admin;
GRANT USAGE ON SEQUENCE workos_dsync.events_id_seq TO workos_dsync_admin;

-- purger (opt-in, see above)
REVOKE ALL ON ALL TABLES IN SCHEMA workos_dsync FROM workos_dsync_purger;
GRANT SELECT ON ALL TABLES IN SCHEMA workos_dsync TO workos_dsync_purger;
GRANT UPDATE ON workos_dsync.users, workos_dsync.directory_users, workos_dsync.email_history, workos_dsync.link_conflicts,
    workos_dsync.held_plans TO workos_dsync_purger;
GRANT INSERT, UPDATE, DELETE ON workos_dsync.events TO workos_dsync_purger;
GRANT DELETE ON workos_dsync.sync_runs TO workos_dsync_purger;
GRANT USAGE ON SEQUENCE workos_dsync.events_id_seq TO workos_dsync_purger;
