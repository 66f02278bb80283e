-- remove_repeatable: delete one definition.
-- :queue, :key -> nothing; rowcount 1 if it existed

-- name: remove_repeatable
DELETE FROM repeatables WHERE queue = :queue AND key = :key;
