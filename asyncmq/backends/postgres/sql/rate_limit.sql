-- rate_limit: make sure the queue's token bucket row exists (full), before the first
-- rate-limited claim, so that concurrent first claims serialise on its row lock in claim.sql
-- instead of each starting from a full bucket of its own.
-- $1 queue text, $2 limit integer, $3 interval float8, $4 now float8. Returns nothing.
INSERT INTO {schema}.{prefix}rate_limits (queue, lim, per, tokens, updated_at)
VALUES ($1::text, $2::integer, $3::float8, $2::float8, $4::float8)
ON CONFLICT (queue) DO NOTHING;
