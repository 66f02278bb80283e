-- pause and resume (the same statement): set or clear the pause flag. resume also bumps the
-- wake-up version through moves.sql save_queue in the same transaction.
-- :queue, :paused (0 or 1) -> nothing

-- name: set_paused
INSERT INTO queues (name, paused) VALUES (:queue, :paused)
ON CONFLICT (name) DO UPDATE SET paused = excluded.paused;
