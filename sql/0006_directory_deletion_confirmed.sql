-- Events mode (issue 14): guard.on_directory_removed: disable applies only
-- to a directory whose deletion the WorkOS event feed confirmed.
SET LOCAL search_path = workos_dsync;

-- The dsync.deleted event applied for the directory (NULL: none, or a
-- dsync.activated since).
ALTER TABLE directories ADD COLUMN deletion_event_id text;
