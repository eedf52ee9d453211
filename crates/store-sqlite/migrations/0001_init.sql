-- Trent's SQLite schema, version 1.
--
-- Conventions:
--   * timestamps are INTEGER Unix milliseconds, UTC (columns end in _ms);
--   * key ids are TEXT, the lowercase hyphenated UUID (its text order is the UUID's byte order);
--   * key material ids are 32-byte BLOBs;
--   * wrapped secrets are BLOBs exactly as the root key produced them (the store never sees
--     plaintext key material);
--   * text compares bytewise (SQLite's BINARY collation), which is the order the store lists in.

CREATE TABLE accounts (
    account_id TEXT    NOT NULL PRIMARY KEY,
    created_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE access_keys (
    access_key_id  TEXT    NOT NULL PRIMARY KEY,
    account_id     TEXT    NOT NULL REFERENCES accounts (account_id),
    principal_arn  TEXT    NOT NULL,
    wrapped_secret BLOB    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created_ms     INTEGER NOT NULL
) STRICT;
CREATE INDEX access_keys_by_account ON access_keys (account_id);

CREATE TABLE keys (
    key_id                  TEXT    NOT NULL PRIMARY KEY,
    account_id              TEXT    NOT NULL,
    region                  TEXT    NOT NULL,
    description             TEXT    NOT NULL,
    key_state               TEXT    NOT NULL,
    key_spec                TEXT    NOT NULL,
    key_usage               TEXT    NOT NULL,
    origin                  TEXT    NOT NULL,
    creation_date_ms        INTEGER NOT NULL,
    deletion_date_ms        INTEGER,
    policy                  TEXT    NOT NULL,
    -- JSON array of {"key": …, "value": …}, in the record's order.
    tags                    TEXT    NOT NULL,
    current_key_material_id BLOB    NOT NULL CHECK (length(current_key_material_id) = 32),
    multi_region            INTEGER NOT NULL CHECK (multi_region IN (0, 1)),
    version                 INTEGER NOT NULL CHECK (version >= 0)
) STRICT;
-- ListKeys: one account and Region, by key id.
CREATE INDEX keys_by_account_region ON keys (account_id, region, key_id);

CREATE TABLE key_materials (
    -- Insertion order, the tie-breaker when two versions share a creation time.
    seq             INTEGER NOT NULL PRIMARY KEY,
    key_id          TEXT    NOT NULL REFERENCES keys (key_id),
    key_material_id BLOB    NOT NULL CHECK (length(key_material_id) = 32),
    wrapped         BLOB    NOT NULL,
    created_ms      INTEGER NOT NULL,
    UNIQUE (key_id, key_material_id)
) STRICT;
-- A key's versions, oldest first (seq is the rowid, implicitly last in the index).
CREATE INDEX key_materials_by_key ON key_materials (key_id, created_ms);

CREATE TABLE aliases (
    account_id           TEXT    NOT NULL,
    region               TEXT    NOT NULL,
    alias_name           TEXT    NOT NULL,
    target_key_id        TEXT    NOT NULL REFERENCES keys (key_id),
    creation_date_ms     INTEGER NOT NULL,
    last_updated_date_ms INTEGER NOT NULL,
    -- ListAliases: one account and Region, by alias name.
    PRIMARY KEY (account_id, region, alias_name)
) STRICT, WITHOUT ROWID;
-- Aliases of one key (ListAliases with KeyId; foreign-key checks).
CREATE INDEX aliases_by_target ON aliases (target_key_id);
