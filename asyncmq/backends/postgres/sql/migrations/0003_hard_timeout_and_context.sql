-- Schema version 3: the producer's hard_timeout (seconds) and context (JSON text, NULL when
-- empty) are stored with the job. Nullable columns without a default: adding them rewrites
-- nothing, and rows of earlier versions read as hard_timeout None and context {}.

ALTER TABLE {schema}.{prefix}jobs
    ADD COLUMN IF NOT EXISTS hard_timeout double precision,
    ADD COLUMN IF NOT EXISTS context text;
