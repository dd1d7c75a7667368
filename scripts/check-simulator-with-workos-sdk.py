#!/usr/bin/env python3
"""Checks the bundled WorkOS simulator against the official WorkOS Python SDK.

Starts `workos-dsync simulate` on a free loopback port, reads its ready line,
then lists directories, users and groups (and users per group) with the SDK's
own models and auto-pagination, and compares the counts with what the
simulator was asked to generate. Exits non-zero with a message on mismatch.

Usage: check-simulator-with-workos-sdk.py [BINARY]
  BINARY defaults to $WORKOS_DSYNC_BIN, else .build/debug/workos-dsync.
Needs `python3 -m pip install workos`.
"""

import inspect
import json
import os
import subprocess
import sys
import time
from importlib import metadata

DSYNC_EVENTS = [
    "dsync.user.created", "dsync.user.updated", "dsync.user.deleted", "dsync.group.created",
    "dsync.group.updated", "dsync.group.deleted", "dsync.group.user_added", "dsync.group.user_removed",
    "dsync.activated",
]
DIRECTORIES = 2
USERS = 125
GROUPS = 10
SEED = 7

# Loopback only: never through a proxy (httpx honours these variables).
for name in ("no_proxy", "NO_PROXY"):
    os.environ[name] = "127.0.0.1,localhost,::1"
for name in ("WORKOS_API_KEY", "WORKOS_BASE_URL", "WORKOS_CLIENT_ID"):
    os.environ.pop(name, None)


def fail(message):
    print(f"check-simulator-with-workos-sdk: {message}", file=sys.stderr)
    sys.exit(1)


try:
    from workos import WorkOSClient
except ImportError as error:
    fail(f"the WorkOS SDK is not installed ({error}); run: python3 -m pip install workos")


def start_simulator(binary):
    if not os.access(binary, os.X_OK):
        fail(f"no executable at {binary}; build first (swift build)")
    process = subprocess.Popen(
        [binary, "simulate", "--port", "0", "--directories", str(DIRECTORIES), "--users", str(USERS),
         "--groups", str(GROUPS), "--seed", str(SEED), "--sample-events"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = process.stdout.readline()
    try:
        ready = json.loads(line)
    except json.JSONDecodeError:
        process.kill()
        fail(f"simulate did not print a JSON ready line: {line!r} {process.stderr.read()!r}")
    if not ready.get("ready"):
        process.kill()
        fail(f"simulate is not ready: {ready}")
    return process, ready


def all_items(page):
    """Every item across pages, with whichever auto-pagination this SDK version has."""
    if hasattr(page, "auto_paging_iter"):
        return list(page.auto_paging_iter())
    return list(page)  # older SDKs: iterating a list resource crosses pages


def call(method, **filters):
    """Calls an SDK list method with the filter names of this SDK version (`directory` or `directory_id`)."""
    parameters = inspect.signature(method).parameters
    arguments = {}
    for name, value in filters.items():
        if name in parameters:
            arguments[name] = value
        elif f"{name}_id" in parameters:
            arguments[f"{name}_id"] = value
        else:
            fail(f"{method.__name__} of this SDK takes neither {name} nor {name}_id")
    if "limit" in parameters:
        arguments["limit"] = 100
    return method(**arguments)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("WORKOS_DSYNC_BIN", ".build/debug/workos-dsync")
    process, ready = start_simulator(binary)
    started = time.monotonic()
    try:
        client = WorkOSClient(api_key=ready["api_key"], client_id="client_test", base_url=ready["base_url"])
        sync = client.directory_sync
        directories = all_items(call(sync.list_directories))
        if sorted(d.id for d in directories) != sorted(ready["directories"]):
            fail(f"directories differ: SDK saw {[d.id for d in directories]}, simulator has {ready['directories']}")
        if len(directories) != DIRECTORIES:
            fail(f"expected {DIRECTORIES} directories, the SDK listed {len(directories)}")
        total_users = total_groups = total_memberships = 0
        for directory in directories:
            users = all_items(call(sync.list_users, directory=directory.id))
            groups = all_items(call(sync.list_groups, directory=directory.id))
            if len(users) != USERS or len({u.id for u in users}) != USERS:
                fail(f"{directory.id}: expected {USERS} distinct users, the SDK listed {len(users)}")
            if len(groups) != GROUPS or len({g.id for g in groups}) != GROUPS:
                fail(f"{directory.id}: expected {GROUPS} distinct groups, the SDK listed {len(groups)}")
            if any(u.directory_id != directory.id for u in users):
                fail(f"{directory.id}: a user carries another directory_id")
            user_ids = {u.id for u in users}
            directory_memberships = 0
            for group in groups:
                members = all_items(call(sync.list_users, group=group.id))
                if not {m.id for m in members} <= user_ids:
                    fail(f"group {group.id} lists users outside its directory")
                directory_memberships += len(members)
            total_memberships += directory_memberships
            # The same memberships seen from the other side: groups per user.
            from_users = sum(len(all_items(call(sync.list_groups, user=user.id))) for user in users)
            if from_users != directory_memberships:
                fail(f"{directory.id}: {directory_memberships} memberships listed per group, {from_users} per user")
            single = sync.get_user(users[0].id)
            if single.id != users[0].id or single.email != users[0].email:
                fail(f"get_user({users[0].id}) disagrees with the listing")
            total_users += len(users)
            total_groups += len(groups)
        if total_memberships == 0:
            fail("no group has any member")
        # --sample-events made one change of each kind: each must parse as its typed SDK event.
        events = all_items(client.events.list_events(events=DSYNC_EVENTS, limit=4))
        seen = sorted({e.event for e in events})
        if seen != sorted(DSYNC_EVENTS):
            fail(f"events: expected one of each of {DSYNC_EVENTS}, the SDK listed {seen}")
        untyped = [type(e).__name__ for e in events if not type(e).__name__.startswith("Dsync")]
        if untyped:
            fail(f"events the SDK could not type: {untyped}")
        link = client.admin_portal.generate_link(organization=directories[0].organization_id, intent="dsync")
        if not link.link.startswith("https://"):
            fail(f"generate_link returned {link.link!r}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    print(f"workos SDK {metadata.version('workos')}: {len(directories)} directories, {total_users} users, "
          f"{total_groups} groups, {total_memberships} memberships, {len(events)} events — counts match "
          f"({time.monotonic() - started:.1f} s, WorkOS rate limits on)")


if __name__ == "__main__":
    main()
