-- migrate: bring the schema to the newest version, one process at a time.
-- Sections run in one transaction: lock, then version_table_exists, current_version, then
-- schema.sql (when the version is below 1) and each newer migration, each followed by
-- record_version.

-- name: lock
-- No parameters. Serialises migrations of this schema and prefix across processes.
SELECT pg_advisory_xact_lock(hashtext('asyncmq:{schema}.{prefix}'));

-- name: version_table_exists
-- No parameters. Returns whether the schema_version table exists.
SELECT to_regclass('{schema}.{prefix}schema_version') IS NOT NULL;

-- name: current_version
-- No parameters. Returns the highest applied version.
SELECT coalesce(max(version), 0) FROM {schema}.{prefix}schema_version;

-- name: record_version
-- $1 version integer. Returns nothing.
INSERT INTO {schema}.{prefix}schema_version (version) VALUES ($1::integer) ON CONFLICT DO NOTHING;
