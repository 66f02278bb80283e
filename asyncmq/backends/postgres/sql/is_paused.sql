-- is_paused: $1 queue text. Returns whether the queue is paused.
SELECT EXISTS (SELECT 1 FROM {schema}.{prefix}queues WHERE queue = $1::text AND paused);
