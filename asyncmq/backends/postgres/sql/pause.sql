-- pause: stop claims on the queue. $1 queue text. Returns nothing.
INSERT INTO {schema}.{prefix}queues (queue, paused) VALUES ($1::text, true)
ON CONFLICT (queue) DO UPDATE SET paused = true;
