-- An empty idp_id is no idp_id: stored as NULL, so several accounts without
-- one fit the unique (directory_id, idp_id) key, and none is ever matched by it.
SET LOCAL search_path = workos_dsync;

ALTER TABLE directory_users ALTER COLUMN idp_id DROP NOT NULL;
UPDATE directory_users SET idp_id = NULL WHERE idp_id = '';
