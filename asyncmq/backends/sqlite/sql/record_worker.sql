-- record_worker: insert or refresh a worker's report. A refreshed row keeps its rowid, so
-- list_workers keeps the order workers first reported in.
-- :queue, :id, :heartbeat_at, :info (JSON of WorkerInfo) -> nothing

-- name: record_worker
INSERT INTO workers (queue, id, heartbeat_at, info) VALUES (:queue, :id, :heartbeat_at, :info)
ON CONFLICT (queue, id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, info = excluded.info;
