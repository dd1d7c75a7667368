-- Events mode (issue 14): the WorkOS Events API cursor, and what each change
-- applied from an event needs so that a full reconcile never undoes it.
SET LOCAL search_path = workos_dsync;

-- One row per API key (key_id: a hash of the key, never the key): the last
-- WorkOS event applied, written in the same transaction as the changes it
-- caused. While event_id is NULL the poller resumes from range_start (the
-- start of the full reconcile that replaced a lost or expired cursor).
CREATE TABLE event_cursor (
    key_id          text PRIMARY KEY,
    event_id        text,
    range_start     timestamptz,
    last_event_at   timestamptz,      -- created_at of the last applied event
    events_applied  bigint NOT NULL DEFAULT 0,
    caught_up_at    timestamptz,      -- a poll last reached the end of the feed (written at most once a minute)
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The WorkOS event a change came from (NULL: a full reconcile, see run_id).
ALTER TABLE events ADD COLUMN workos_event_id text;
CREATE INDEX events_from_workos_events_idx ON events (directory_id, occurred_at)
    WHERE workos_event_id IS NOT NULL AND type = 'user.disabled';

-- When an event last wrote the row: a full reconcile whose listing started
-- earlier leaves the row as the event left it (the next listing converges).
ALTER TABLE directory_users ADD COLUMN event_applied_at timestamptz;
ALTER TABLE directory_groups ADD COLUMN event_applied_at timestamptz;
