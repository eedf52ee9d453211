-- Trent's SQLite schema, version 2: the key lifecycle (rotation, scheduled deletion,
-- destruction) and key usage. Conventions as in 0001_init.sql.

-- Automatic rotation: the period in days while enabled, and when it next adds material.
ALTER TABLE keys ADD COLUMN rotation_period_days INTEGER
    CHECK (rotation_period_days IS NULL OR rotation_period_days >= 0);
ALTER TABLE keys ADD COLUMN next_rotation_date_ms INTEGER;
-- The waiting period of a scheduled deletion, in days.
ALTER TABLE keys ADD COLUMN pending_window_days INTEGER
    CHECK (pending_window_days IS NULL OR pending_window_days >= 0);
-- Set when the key was destroyed: the row stays as a tombstone, its materials and aliases are
-- gone. ListKeys skips tombstones.
ALTER TABLE keys ADD COLUMN deleted_date_ms INTEGER;

-- How a version of material came to be: NULL for the key's first material.
ALTER TABLE key_materials ADD COLUMN rotation_type TEXT
    CHECK (rotation_type IS NULL OR rotation_type IN ('AUTOMATIC', 'ON_DEMAND'));

-- The background job's query (due_keys) reads one of these partial indexes per condition;
-- each holds only live keys that can become due.
CREATE INDEX keys_rotation_due ON keys (next_rotation_date_ms)
    WHERE deleted_date_ms IS NULL AND next_rotation_date_ms IS NOT NULL;
CREATE INDEX keys_deletion_due ON keys (deletion_date_ms)
    WHERE deleted_date_ms IS NULL AND key_state = 'PendingDeletion';

-- The last successful cryptographic use of each key (GetKeyLastUsage). One row per key.
CREATE TABLE key_last_usage (
    key_id              TEXT    NOT NULL PRIMARY KEY REFERENCES keys (key_id),
    operation           TEXT    NOT NULL,
    timestamp_ms        INTEGER NOT NULL,
    cloudtrail_event_id TEXT    NOT NULL,
    kms_request_id      TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
