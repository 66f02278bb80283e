-- Schema version 2: inserting jobs wakes the workers of their queues.
-- The statement trigger that counts inserted rows also notifies, once per queue that gained
-- rows, so a bulk COPY needs no statement of its own after it (nor a transaction around the
-- two): the COPY alone, autocommitted, is the whole enqueue. A notification is delivered at
-- commit, and identical ones within a transaction are folded into one, so statements that
-- also notify the queue (insert_resolved) cost nothing extra.

CREATE OR REPLACE FUNCTION {schema}.{prefix}count_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {schema}.{prefix}counts (queue, state, n)
    SELECT queue, state, count(*) FROM new_rows GROUP BY queue, state;
    PERFORM pg_notify('{channel}', queue) FROM (SELECT DISTINCT queue FROM new_rows) AS added;
    RETURN NULL;
END $$;
