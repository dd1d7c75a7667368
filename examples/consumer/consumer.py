#!/usr/bin/env python3
"""An example consumer of the workos-dsync outbox (workos_dsync.events), with psycopg 3.

What an application does with the outbox, end to end:

* reads events by id (``id > cursor ORDER BY id``): ids commit in order, so no committed
  row is ever skipped;
* wakes up on ``NOTIFY workos_dsync`` (LISTEN), and polls every ``--poll-seconds`` as well
  (a notification sent while it was disconnected is lost, the rows are not);
* keeps its cursor in its own table (``app.event_cursor``), updated in the same
  transaction as the effects of the events it handled: after a crash it replays from the
  last committed cursor, and every handler is idempotent;
* when a person is disabled (``user.disabled`` with ``"scope": "person"``: no account of
  theirs is active any more) reassigns their documents (``app.documents.owner_person_id``)
  to a fallback owner, and records it in ``app.document_reassignments``.

Usage:
    consumer.py --dsn DSN --fallback-owner UUID [--once] [--poll-seconds 30] [--name NAME]

``--once`` catches up and exits (cron, tests); without it the consumer follows the feed.
The DSN's role needs SELECT on workos_dsync.events (``workos_dsync_reader``) and the
right to create and write its own schema ``app``. Requires psycopg >= 3.2.
"""

import argparse
import signal
import sys

import psycopg

CHANNEL = "workos_dsync"
BATCH = 500

SETUP = """
CREATE SCHEMA IF NOT EXISTS app;
CREATE TABLE IF NOT EXISTS app.event_cursor (
    consumer      text PRIMARY KEY,
    last_event_id bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS app.documents (
    id              bigserial PRIMARY KEY,
    title           text NOT NULL,
    owner_person_id uuid NOT NULL
);
CREATE TABLE IF NOT EXISTS app.document_reassignments (
    event_id        bigint NOT NULL,
    document_id     bigint NOT NULL REFERENCES app.documents (id),
    from_person_id  uuid NOT NULL,
    to_person_id    uuid NOT NULL,
    PRIMARY KEY (event_id, document_id)
);
"""


def handle(cur, event_id, event_type, person_id, payload, fallback_owner):
    """Applies one event's effects; returns how many documents it reassigned."""
    if event_type == "user.disabled" and payload.get("scope") == "person" and person_id is not None:
        cur.execute(
            """
            WITH moved AS (
                UPDATE app.documents SET owner_person_id = %(to)s
                WHERE owner_person_id = %(departed)s AND owner_person_id <> %(to)s
                RETURNING id
            )
            INSERT INTO app.document_reassignments (event_id, document_id, from_person_id, to_person_id)
            SELECT %(event)s, id, %(departed)s, %(to)s FROM moved
            """,
            {"to": fallback_owner, "departed": person_id, "event": event_id},
        )
        return cur.rowcount
    # Other types an application might handle: user.created (welcome), user.roles_changed
    # (refresh cached permissions), user.email_changed (update a mailing list), user.anonymized.
    return 0


def catch_up(conn, name, fallback_owner):
    """Handles every event after the stored cursor, a batch per transaction.

    Returns (events handled, documents reassigned, cursor)."""
    handled = reassigned = 0
    while True:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "INSERT INTO app.event_cursor (consumer, last_event_id) VALUES (%s, 0) ON CONFLICT DO NOTHING", (name,)
            )
            cur.execute("SELECT last_event_id FROM app.event_cursor WHERE consumer = %s FOR UPDATE", (name,))
            cursor = cur.fetchone()[0]
            cur.execute(
                "SELECT id, type, user_id, payload FROM workos_dsync.events WHERE id > %s ORDER BY id LIMIT %s",
                (cursor, BATCH),
            )
            rows = cur.fetchall()
            for event_id, event_type, person_id, payload in rows:
                reassigned += handle(cur, event_id, event_type, person_id, payload, fallback_owner)
                cursor = event_id
            cur.execute("UPDATE app.event_cursor SET last_event_id = %s WHERE consumer = %s", (cursor, name))
        handled += len(rows)
        if len(rows) < BATCH:
            return handled, reassigned, cursor


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="libpq connection string or URI")
    parser.add_argument("--fallback-owner", required=True, help="person id (users.id) that inherits departed persons' documents")
    parser.add_argument("--name", default="documents", help="this consumer's name in app.event_cursor")
    parser.add_argument("--once", action="store_true", help="catch up and exit")
    parser.add_argument("--poll-seconds", type=float, default=30.0, help="read even without a notification this often")
    args = parser.parse_args(argv)
    # Stop on SIGTERM/SIGINT even when the parent ignored or blocked them (both are inherited):
    # the open transaction rolls back, the cursor stays at the last committed batch.
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: sys.exit(0))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute(SETUP)
        if not args.once:
            # LISTEN before the first read: a commit between the two is then not missed.
            conn.execute(f"LISTEN {CHANNEL}")
        while True:
            handled, reassigned, cursor = catch_up(conn, args.name, args.fallback_owner)
            print(f"handled {handled} events, reassigned {reassigned} documents, cursor {cursor}", flush=True)
            if args.once:
                return 0
            for _ in conn.notifies(timeout=args.poll_seconds, stop_after=1):
                pass


if __name__ == "__main__":
    sys.exit(main())
