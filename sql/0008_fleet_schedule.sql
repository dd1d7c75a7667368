-- Fleet scale (issue 15): replicas share one schedule and the API key's budget
-- through PostgreSQL alone.
SET LOCAL search_path = workos_dsync;

-- When each directory's next full reconcile is due, across all replicas, and
-- which replica holds it now. A replica claims a due directory (next_due_at
-- passed, no live claim) with FOR UPDATE SKIP LOCKED, renews claimed_until
-- while the run goes on, and on finishing sets the next due time and clears
-- the claim. A replica that died leaves a claim that expires: another takes
-- the directory over. The advisory-lock lease still guards every apply.
CREATE TABLE directory_schedule (
    directory_id  text PRIMARY KEY,
    next_due_at   timestamptz NOT NULL DEFAULT now(),
    claimed_by    text,
    claimed_until timestamptz,
    -- Users in the last complete listing: the expected size of the next one
    -- (the memory cap on listings held at once counts it).
    last_users    integer,
    -- The replica that ran it last (its replicas.replica_id).
    last_run_by   text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per running replica (`run`), renewed every few seconds. Replicas
-- seen within the claim time-to-live are live; each takes an equal share of
-- workos.requests_per_second.
CREATE TABLE replicas (
    replica_id text PRIMARY KEY,
    host       text NOT NULL,
    pid        integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now()
);
