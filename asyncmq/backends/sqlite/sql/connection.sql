-- Connection setup and transaction control, run by the backend on its own connections.
-- Parameters: none. `user_version` returns one row (the schema version); `journal_mode`
-- returns the mode now in force; the others return nothing.

-- name: journal_mode
-- WAL lets readers (inspection, wake-up polls) run while one writer commits.
PRAGMA journal_mode = WAL;

-- name: synchronous_normal
-- In WAL mode NORMAL survives a crash of the process but may lose the last commits on a
-- power cut; FULL syncs every commit.
PRAGMA synchronous = NORMAL;

-- name: synchronous_full
PRAGMA synchronous = FULL;

-- name: query_only
PRAGMA query_only = ON;

-- name: user_version
PRAGMA user_version;

-- name: begin
-- IMMEDIATE takes the write lock up front, so a transaction that reads then writes never
-- fails halfway on a lock upgrade; other processes wait up to the busy timeout.
BEGIN IMMEDIATE;

-- name: commit
COMMIT;

-- name: rollback
ROLLBACK;

-- name: main_file
-- -> one row (file): the path of the connection's main database, '' for :memory:
SELECT file FROM pragma_database_list WHERE name = 'main';
