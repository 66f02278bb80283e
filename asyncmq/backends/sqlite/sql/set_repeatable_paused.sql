-- set_repeatable_paused: pause or resume one definition.
-- :queue, :key, :paused (0 or 1) -> nothing; rowcount 1 if it existed

-- name: set_repeatable_paused
UPDATE repeatables SET paused = :paused WHERE queue = :queue AND key = :key;
