-- Trent's SQLite schema, version 7: every Region on one endpoint (ARCHITECTURE.md §10).
-- Conventions as in 0001_init.sql.
--
-- A key is addressed by (region, key_id): multi-Region keys share one key id across Regions
-- (`mrk-` and 32 hex digits); `keys.primary_region` names the Region of a multi-Region key's
-- primary.
-- Keys already carried their Region; their materials, aliases, grants and last usage now name
-- it too, and every reference to a key is (region, key_id). SQLite cannot change a primary
-- key in place, so the five tables are rebuilt: new tables are filled from the old ones (each
-- row takes its key's Region), the old ones dropped children first, the new ones renamed
-- (which updates the foreign keys that name them), and the indexes made again. Existing data
-- dirs keep every row; wrapped material is copied byte for byte (its AAD names the key's ARN,
-- which holds the same Region).

CREATE TABLE keys_v7 (
    region                  TEXT    NOT NULL,
    key_id                  TEXT    NOT NULL,
    account_id              TEXT    NOT NULL,
    description             TEXT    NOT NULL,
    key_state               TEXT    NOT NULL,
    key_spec                TEXT    NOT NULL,
    key_usage               TEXT    NOT NULL,
    origin                  TEXT    NOT NULL,
    creation_date_ms        INTEGER NOT NULL,
    deletion_date_ms        INTEGER,
    policy                  TEXT    NOT NULL,
    tags                    TEXT    NOT NULL,
    current_key_material_id BLOB    NOT NULL CHECK (length(current_key_material_id) = 32),
    multi_region            INTEGER NOT NULL CHECK (multi_region IN (0, 1)),
    version                 INTEGER NOT NULL CHECK (version >= 0),
    rotation_period_days    INTEGER CHECK (rotation_period_days IS NULL OR rotation_period_days >= 0),
    next_rotation_date_ms   INTEGER,
    pending_window_days     INTEGER CHECK (pending_window_days IS NULL OR pending_window_days >= 0),
    deleted_date_ms         INTEGER,
    -- A multi-Region key's primary Region (its own if it is the primary); NULL otherwise.
    primary_region          TEXT,
    PRIMARY KEY (region, key_id)
) STRICT;
INSERT INTO keys_v7 (region, key_id, account_id, description, key_state, key_spec, key_usage,
    origin, creation_date_ms, deletion_date_ms, policy, tags, current_key_material_id,
    multi_region, version, rotation_period_days, next_rotation_date_ms, pending_window_days,
    deleted_date_ms)
SELECT region, key_id, account_id, description, key_state, key_spec, key_usage,
    origin, creation_date_ms, deletion_date_ms, policy, tags, current_key_material_id,
    multi_region, version, rotation_period_days, next_rotation_date_ms, pending_window_days,
    deleted_date_ms
FROM keys;

CREATE TABLE key_materials_v7 (
    seq             INTEGER NOT NULL PRIMARY KEY,
    region          TEXT    NOT NULL,
    key_id          TEXT    NOT NULL,
    key_material_id BLOB    NOT NULL CHECK (length(key_material_id) = 32),
    wrapped         BLOB    NOT NULL,
    created_ms      INTEGER NOT NULL,
    rotation_type   TEXT CHECK (rotation_type IS NULL OR rotation_type IN ('AUTOMATIC', 'ON_DEMAND')),
    UNIQUE (region, key_id, key_material_id),
    FOREIGN KEY (region, key_id) REFERENCES keys_v7 (region, key_id)
) STRICT;
INSERT INTO key_materials_v7 (seq, region, key_id, key_material_id, wrapped, created_ms, rotation_type)
SELECT m.seq, k.region, m.key_id, m.key_material_id, m.wrapped, m.created_ms, m.rotation_type
FROM key_materials m JOIN keys k ON k.key_id = m.key_id;

CREATE TABLE aliases_v7 (
    account_id           TEXT    NOT NULL,
    region               TEXT    NOT NULL,
    alias_name           TEXT    NOT NULL,
    target_key_id        TEXT    NOT NULL,
    creation_date_ms     INTEGER NOT NULL,
    last_updated_date_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, alias_name),
    FOREIGN KEY (region, target_key_id) REFERENCES keys_v7 (region, key_id)
) STRICT, WITHOUT ROWID;
INSERT INTO aliases_v7 SELECT account_id, region, alias_name, target_key_id, creation_date_ms,
    last_updated_date_ms FROM aliases;

CREATE TABLE key_last_usage_v7 (
    region              TEXT    NOT NULL,
    key_id              TEXT    NOT NULL,
    operation           TEXT    NOT NULL,
    timestamp_ms        INTEGER NOT NULL,
    cloudtrail_event_id TEXT    NOT NULL,
    kms_request_id      TEXT    NOT NULL,
    PRIMARY KEY (region, key_id),
    FOREIGN KEY (region, key_id) REFERENCES keys_v7 (region, key_id)
) STRICT, WITHOUT ROWID;
INSERT INTO key_last_usage_v7 (region, key_id, operation, timestamp_ms, cloudtrail_event_id, kms_request_id)
SELECT k.region, u.key_id, u.operation, u.timestamp_ms, u.cloudtrail_event_id, u.kms_request_id
FROM key_last_usage u JOIN keys k ON k.key_id = u.key_id;

CREATE TABLE grants_v7 (
    grant_id            TEXT    NOT NULL PRIMARY KEY,
    region              TEXT    NOT NULL,
    key_id              TEXT    NOT NULL,
    name                TEXT,
    creation_date_ms    INTEGER NOT NULL,
    grantee_principal   TEXT    NOT NULL,
    retiring_principal  TEXT,
    issuing_account     TEXT    NOT NULL,
    operations          TEXT    NOT NULL,
    constraints         TEXT,
    FOREIGN KEY (region, key_id) REFERENCES keys_v7 (region, key_id)
) STRICT;
INSERT INTO grants_v7 (grant_id, region, key_id, name, creation_date_ms, grantee_principal,
    retiring_principal, issuing_account, operations, constraints)
SELECT g.grant_id, k.region, g.key_id, g.name, g.creation_date_ms, g.grantee_principal,
    g.retiring_principal, g.issuing_account, g.operations, g.constraints
FROM grants g JOIN keys k ON k.key_id = g.key_id;

DROP TABLE grants;
DROP TABLE key_last_usage;
DROP TABLE aliases;
DROP TABLE key_materials;
DROP TABLE keys;

ALTER TABLE keys_v7 RENAME TO keys;
ALTER TABLE key_materials_v7 RENAME TO key_materials;
ALTER TABLE aliases_v7 RENAME TO aliases;
ALTER TABLE key_last_usage_v7 RENAME TO key_last_usage;
ALTER TABLE grants_v7 RENAME TO grants;

-- The related multi-Region keys of a key id, in every Region.
CREATE INDEX keys_by_id ON keys (key_id);
-- ListKeys: one account and Region, by key id.
CREATE INDEX keys_by_account_region ON keys (account_id, region, key_id);
CREATE INDEX keys_rotation_due ON keys (next_rotation_date_ms)
    WHERE deleted_date_ms IS NULL AND next_rotation_date_ms IS NOT NULL;
CREATE INDEX keys_deletion_due ON keys (deletion_date_ms)
    WHERE deleted_date_ms IS NULL AND key_state = 'PendingDeletion';
-- A key's versions, oldest first (seq is the rowid, implicitly last in the index).
CREATE INDEX key_materials_by_key ON key_materials (region, key_id, created_ms);
-- Aliases of one key (ListAliases with KeyId; foreign-key checks).
CREATE INDEX aliases_by_target ON aliases (region, target_key_id);
CREATE INDEX grants_by_key ON grants (region, key_id, creation_date_ms, grant_id);
CREATE INDEX grants_by_retiring_principal ON grants (retiring_principal)
    WHERE retiring_principal IS NOT NULL;
