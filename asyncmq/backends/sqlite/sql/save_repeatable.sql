-- save_repeatable: insert or replace a definition. A replaced row keeps its rowid (so
-- list_repeatables keeps the first-saved order), its created_at (so its schedule does not
-- shift) and its paused flag (so an app declaring its repeatables at start-up does not resume
-- one an operator paused).
-- :queue, :key, :job (JSON), :every, :cron, :created_at, :paused -> nothing

-- name: save_repeatable
INSERT INTO repeatables (queue, key, job, every, cron, created_at, paused)
VALUES (:queue, :key, :job, :every, :cron, :created_at, :paused)
ON CONFLICT (queue, key) DO UPDATE SET
    job = excluded.job, every = excluded.every, cron = excluded.cron;
