-- workos-dsync schema, version 1. The names here are a public contract
-- (see DESIGN.md "Schema (the contract)"): change them only through a new
-- migration and a README note. The schema workos_dsync and the table
-- schema_migrations are created by the migrator before this file runs.

SET LOCAL search_path = workos_dsync;

-- The directories known from WorkOS.
CREATE TABLE directories (
    id                    text PRIMARY KEY,          -- WorkOS directory id
    organization_id       text,
    name                  text,
    domain                text,
    type                  text,
    state                 text,                      -- as WorkOS reports it (linked, unlinked, …)
    last_complete_sync_at timestamptz,               -- last run that saw a complete listing
    removed_at            timestamptz,               -- vanished from the WorkOS listing
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX directories_organization_id_idx ON directories (organization_id);

-- The person. One person may have accounts in several directories.
CREATE TABLE users (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email               text,
    first_name          text,
    last_name           text,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    disabled_at         timestamptz,
    sessions_revoked_at timestamptz,
    external_id         text UNIQUE,                 -- the application's own id, optional
    anonymized_at       timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_lower_email_idx ON users (lower(email));

-- One account per directory user.
CREATE TABLE directory_users (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workos_id         text NOT NULL UNIQUE,          -- the current WorkOS id
    directory_id      text NOT NULL REFERENCES directories (id),
    organization_id   text,
    idp_id            text NOT NULL,
    user_id           uuid REFERENCES users (id),    -- null while a link conflict waits
    email             text,
    first_name        text,
    last_name         text,
    username          text,
    job_title         text,
    state             text NOT NULL,                 -- as WorkOS reports it (active, inactive, suspended, …)
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    disabled_at       timestamptz,
    disabled_reason   text CHECK (disabled_reason IN ('inactive', 'missing', 'directory_removed', 'approved')),
    custom_attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
    role_slug         text,
    fingerprint       text NOT NULL,                 -- hash of the normalised fields it came from
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at      timestamptz NOT NULL DEFAULT now(),
    workos_updated_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT directory_users_directory_idp_key UNIQUE (directory_id, idp_id),
    -- a disabled account says when and why; an active one carries neither
    CONSTRAINT directory_users_disabled_consistent CHECK (
        (status = 'active' AND disabled_at IS NULL AND disabled_reason IS NULL)
        OR (status = 'disabled' AND disabled_at IS NOT NULL AND disabled_reason IS NOT NULL))
);
CREATE INDEX directory_users_directory_status_idx ON directory_users (directory_id, status);
CREATE INDEX directory_users_user_id_idx ON directory_users (user_id);
CREATE INDEX directory_users_lower_email_idx ON directory_users (lower(email));

CREATE TABLE directory_groups (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workos_id         text NOT NULL UNIQUE,
    directory_id      text NOT NULL REFERENCES directories (id),
    organization_id   text,
    idp_id            text,
    name              text,
    fingerprint       text NOT NULL,
    removed_at        timestamptz,
    workos_updated_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX directory_groups_directory_idx ON directory_groups (directory_id);

CREATE TABLE group_memberships (
    directory_group_id uuid NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    directory_user_id  uuid NOT NULL REFERENCES directory_users (id) ON DELETE CASCADE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (directory_group_id, directory_user_id)
);
CREATE INDEX group_memberships_directory_user_idx ON group_memberships (directory_user_id);

-- Admin-maintained: (organization or directory, group idp_id or name) -> role.
CREATE TABLE role_mappings (
    id              bigserial PRIMARY KEY,
    organization_id text,
    directory_id    text,
    group_idp_id    text,
    group_name      text,
    role            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT role_mappings_one_scope CHECK ((organization_id IS NULL) <> (directory_id IS NULL)),
    CONSTRAINT role_mappings_one_group CHECK ((group_idp_id IS NULL) <> (group_name IS NULL))
);
CREATE UNIQUE INDEX role_mappings_unique_idx ON role_mappings (
    coalesce(organization_id, ''), coalesce(directory_id, ''), coalesce(group_idp_id, ''), coalesce(group_name, ''), role);

-- Runs, one row per directory per run.
CREATE TABLE sync_runs (
    id           bigserial PRIMARY KEY,
    directory_id text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    outcome      text CHECK (outcome IN ('applied', 'unchanged', 'held', 'failed', 'skipped')),  -- null while running
    dry_run      boolean NOT NULL DEFAULT false,
    pages        integer NOT NULL DEFAULT 0,
    users_seen   integer,
    groups_seen  integer,
    counts       jsonb NOT NULL DEFAULT '{}'::jsonb,
    error        text
);
CREATE INDEX sync_runs_directory_started_idx ON sync_runs (directory_id, started_at DESC);

CREATE TABLE email_history (
    id                bigserial PRIMARY KEY,
    directory_user_id uuid NOT NULL REFERENCES directory_users (id),
    old_email         text,
    new_email         text,
    changed_at        timestamptz NOT NULL DEFAULT now(),
    run_id            bigint REFERENCES sync_runs (id)
);
CREATE INDEX email_history_directory_user_idx ON email_history (directory_user_id);

-- Pre-existing persons that could not be linked 1:1 by email.
CREATE TABLE link_conflicts (
    id                 bigserial PRIMARY KEY,
    directory_user_id  uuid NOT NULL REFERENCES directory_users (id),
    email              text,
    candidate_user_ids uuid[] NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    resolved_at        timestamptz
);
CREATE UNIQUE INDEX link_conflicts_open_idx ON link_conflicts (directory_user_id) WHERE resolved_at IS NULL;

-- Disables stopped by the mass-disable guard.
CREATE TABLE held_plans (
    id           bigserial PRIMARY KEY,
    directory_id text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    run_id       bigint REFERENCES sync_runs (id),
    accounts     jsonb NOT NULL,                     -- the exact set of accounts with their reasons
    fingerprint  text NOT NULL,                      -- of that set, to refuse a stale approval
    status       text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'approved', 'applied', 'superseded')),
    decided_at   timestamptz,
    decided_by   text
);
CREATE UNIQUE INDEX held_plans_one_held_idx ON held_plans (directory_id) WHERE status = 'held';

-- Append-only change log, audit trail and outbox.
CREATE TABLE events (
    id                 bigserial PRIMARY KEY,
    occurred_at        timestamptz NOT NULL DEFAULT now(),
    type               text NOT NULL,
    directory_id       text,
    directory_user_id  uuid,
    user_id            uuid,
    directory_group_id uuid,
    reason             text,
    run_id             bigint,
    payload            jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX events_directory_user_idx ON events (directory_user_id);
CREATE INDEX events_user_idx ON events (user_id);
CREATE INDEX events_run_idx ON events (run_id);

-- Outbox ordering: every statement that inserts events first takes this
-- transaction-level advisory lock (key = EventLog.appendLockKey), so event
-- ids are drawn and committed in one order and a reader of `id > last seen`
-- never skips a row that commits later. The lock is held until commit:
-- write events at the end of a transaction.
CREATE FUNCTION events_lock_for_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7579131443011895553);
    RETURN NULL;
END $$;
CREATE TRIGGER events_lock_for_append BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_lock_for_append();

-- Each committing transaction that wrote events sends NOTIFY workos_dsync
-- (PostgreSQL delivers it at commit, once per transaction).
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('workos_dsync', '');
    RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();

-- Append-only: UPDATE, DELETE and TRUNCATE are refused, except by an
-- explicit purge that sets `SET LOCAL workos_dsync.allow_event_rewrite = 'on'`
-- in its transaction (anonymisation after the cooling-off period).
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('workos_dsync.allow_event_rewrite', true), '') = 'on' THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'workos_dsync.events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- Roles of active accounts (of active persons) through their groups that
-- are not removed, matched by role_mappings per organization or directory,
-- by group idp_id or by group name.
CREATE VIEW effective_roles AS
SELECT DISTINCT du.user_id, du.id AS directory_user_id, du.directory_id, du.organization_id, rm.role
FROM directory_users du
JOIN users u ON u.id = du.user_id AND u.status = 'active'
JOIN group_memberships gm ON gm.directory_user_id = du.id
JOIN directory_groups g ON g.id = gm.directory_group_id AND g.removed_at IS NULL
JOIN role_mappings rm
  ON (rm.directory_id = du.directory_id OR rm.organization_id = du.organization_id)
 AND (rm.group_idp_id = g.idp_id OR rm.group_name = g.name)
WHERE du.status = 'active';

-- The login check. For an organization with a synced directory (known, not
-- removed, with at least one complete sync), true only while the person is
-- active and has an active account in that organization's directory; a
-- deprovisioned user cannot come back in through SSO. For an organization
-- without one (SSO-only), true unless the person is disabled. False for an
-- unknown person or NULL arguments.
CREATE FUNCTION can_sign_in(user_id uuid, organization_id text) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = workos_dsync, pg_temp
AS $$
    SELECT CASE
        WHEN $2 IS NULL THEN false
        WHEN NOT EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.status = 'active') THEN false
        WHEN EXISTS (
            SELECT 1 FROM directories d
            WHERE d.organization_id = $2 AND d.removed_at IS NULL AND d.last_complete_sync_at IS NOT NULL)
        THEN EXISTS (
            SELECT 1 FROM directory_users du
            JOIN directories d ON d.id = du.directory_id
            WHERE du.user_id = $1 AND du.status = 'active'
              AND d.organization_id = $2 AND d.removed_at IS NULL AND d.last_complete_sync_at IS NOT NULL)
        ELSE true
    END
$$;
