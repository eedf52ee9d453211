-- Trent's PostgreSQL schema, version 1: the same tables and rules as the SQLite schema at its
-- version 8 (crates/store-sqlite/migrations/0001..0008), in plain SQL that PostgreSQL-compatible
-- distributed databases also run (no extensions, no stored procedures, no triggers).
--
-- Conventions (ARCHITECTURE.md §6.1):
--   * timestamps are BIGINT Unix milliseconds, UTC (columns end in _ms);
--   * key ids are TEXT, the lowercase hyphenated UUID (its text order is the UUID's byte order);
--   * every text column the store sorts or compares by is COLLATE "C": bytewise, whatever the
--     database's locale, the order the store lists in (as SQLite's BINARY);
--   * key material ids are 32-byte BYTEA; wrapped secrets are BYTEA exactly as the root key
--     produced them (the store never sees plaintext key material);
--   * IAM user and role names are unique per account regardless of ASCII case (IAM's rule):
--     beside the name as given, a `*_folded` column holds it ASCII-lowercased (set by the store),
--     and keys, lookups and lists use that column (SQLite's NOCASE);
--   * a key is addressed by (region, key_id) (SQLite's version 7, ARCHITECTURE.md §10):
--     multi-Region keys share one key id across Regions, so every table about a key names the
--     Region, and every reference to a key is (region, key_id).

CREATE TABLE accounts (
    account_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    created_ms BIGINT          NOT NULL
);

CREATE TABLE access_keys (
    access_key_id  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    account_id     TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    principal_arn  TEXT COLLATE "C" NOT NULL,
    wrapped_secret BYTEA            NOT NULL,
    status         TEXT             NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created_ms     BIGINT           NOT NULL
);
CREATE INDEX access_keys_by_account ON access_keys (account_id);
-- DeleteUser refuses while the user has access keys: find them by owner.
CREATE INDEX access_keys_by_principal ON access_keys (principal_arn);

CREATE TABLE keys (
    region                  TEXT COLLATE "C" NOT NULL,
    key_id                  TEXT COLLATE "C" NOT NULL,
    account_id              TEXT COLLATE "C" NOT NULL,
    description             TEXT             NOT NULL,
    key_state               TEXT             NOT NULL,
    key_spec                TEXT             NOT NULL,
    key_usage               TEXT             NOT NULL,
    origin                  TEXT             NOT NULL,
    creation_date_ms        BIGINT           NOT NULL,
    deletion_date_ms        BIGINT,
    policy                  TEXT             NOT NULL,
    -- JSON array of {"key": …, "value": …}, in the record's order.
    tags                    TEXT             NOT NULL,
    current_key_material_id BYTEA            NOT NULL
        CHECK (octet_length(current_key_material_id) = 32),
    multi_region            BOOLEAN          NOT NULL,
    version                 BIGINT           NOT NULL CHECK (version >= 0),
    -- Automatic rotation: the period in days while enabled, and when it next adds material.
    rotation_period_days    BIGINT
        CHECK (rotation_period_days IS NULL OR rotation_period_days >= 0),
    next_rotation_date_ms   BIGINT,
    -- The waiting period of a scheduled deletion, in days.
    pending_window_days     BIGINT
        CHECK (pending_window_days IS NULL OR pending_window_days >= 0),
    -- Set when the key was destroyed: the row stays as a tombstone, its materials, aliases and
    -- grants are gone. ListKeys skips tombstones.
    deleted_date_ms         BIGINT,
    -- A multi-Region key's primary Region (ARCHITECTURE.md §10); NULL for other keys.
    primary_region          TEXT COLLATE "C",
    PRIMARY KEY (region, key_id)
);
-- A multi-Region key's related keys share its id across Regions (related_keys).
CREATE INDEX keys_by_id ON keys (key_id);
-- ListKeys: one account and Region, by key id.
CREATE INDEX keys_by_account_region ON keys (account_id, region, key_id);
-- The background job's query (due_keys): one partial index per condition, each holding only
-- live keys that can become due.
CREATE INDEX keys_rotation_due ON keys (next_rotation_date_ms)
    WHERE deleted_date_ms IS NULL AND next_rotation_date_ms IS NOT NULL;
CREATE INDEX keys_deletion_due ON keys (deletion_date_ms)
    WHERE deleted_date_ms IS NULL AND key_state = 'PendingDeletion';

CREATE TABLE key_materials (
    -- Insertion order, the tie-breaker when two versions share a creation time.
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region          TEXT COLLATE "C" NOT NULL,
    key_id          TEXT COLLATE "C" NOT NULL,
    key_material_id BYTEA            NOT NULL CHECK (octet_length(key_material_id) = 32),
    wrapped         BYTEA            NOT NULL,
    created_ms      BIGINT           NOT NULL,
    -- How this version came to be: NULL for the key's first material.
    rotation_type   TEXT CHECK (rotation_type IS NULL OR rotation_type IN ('AUTOMATIC', 'ON_DEMAND')),
    UNIQUE (region, key_id, key_material_id),
    FOREIGN KEY (region, key_id) REFERENCES keys (region, key_id)
);
-- A key's versions, oldest first.
CREATE INDEX key_materials_by_key ON key_materials (region, key_id, created_ms, seq);

CREATE TABLE aliases (
    account_id           TEXT COLLATE "C" NOT NULL,
    region               TEXT COLLATE "C" NOT NULL,
    alias_name           TEXT COLLATE "C" NOT NULL,
    target_key_id        TEXT COLLATE "C" NOT NULL,
    creation_date_ms     BIGINT           NOT NULL,
    last_updated_date_ms BIGINT           NOT NULL,
    -- ListAliases: one account and Region, by alias name.
    PRIMARY KEY (account_id, region, alias_name),
    FOREIGN KEY (region, target_key_id) REFERENCES keys (region, key_id)
);
-- Aliases of one key (destruction; foreign-key checks).
CREATE INDEX aliases_by_target ON aliases (region, target_key_id);

-- The last successful cryptographic use of each key (GetKeyLastUsage). One row per key.
CREATE TABLE key_last_usage (
    region              TEXT COLLATE "C" NOT NULL,
    key_id              TEXT COLLATE "C" NOT NULL,
    operation           TEXT             NOT NULL,
    timestamp_ms        BIGINT           NOT NULL,
    cloudtrail_event_id TEXT             NOT NULL,
    kms_request_id      TEXT             NOT NULL,
    PRIMARY KEY (region, key_id),
    FOREIGN KEY (region, key_id) REFERENCES keys (region, key_id)
);

CREATE TABLE iam_users (
    account_id       TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    user_name        TEXT             NOT NULL,
    user_name_folded TEXT COLLATE "C" NOT NULL,
    path             TEXT             NOT NULL,
    user_id          TEXT COLLATE "C" NOT NULL UNIQUE,
    create_date_ms   BIGINT           NOT NULL,
    -- JSON array of {"key": …, "value": …}, in the record's order.
    tags             TEXT             NOT NULL,
    PRIMARY KEY (account_id, user_name_folded)
);

CREATE TABLE iam_roles (
    account_id                  TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    role_name                   TEXT             NOT NULL,
    role_name_folded            TEXT COLLATE "C" NOT NULL,
    path                        TEXT             NOT NULL,
    role_id                     TEXT COLLATE "C" NOT NULL UNIQUE,
    create_date_ms              BIGINT           NOT NULL,
    assume_role_policy_document TEXT             NOT NULL,
    description                 TEXT,
    max_session_duration        BIGINT           NOT NULL CHECK (max_session_duration > 0),
    tags                        TEXT             NOT NULL,
    PRIMARY KEY (account_id, role_name_folded)
);

-- Inline policies of users and roles. Policy names compare exactly; `principal_name` is the
-- owner's name as stored.
CREATE TABLE iam_inline_policies (
    account_id            TEXT COLLATE "C" NOT NULL,
    principal_kind        TEXT COLLATE "C" NOT NULL CHECK (principal_kind IN ('user', 'role')),
    principal_name        TEXT             NOT NULL,
    principal_name_folded TEXT COLLATE "C" NOT NULL,
    policy_name           TEXT COLLATE "C" NOT NULL,
    policy_document       TEXT             NOT NULL,
    PRIMARY KEY (account_id, principal_kind, principal_name_folded, policy_name)
);

-- One row per grant. Operations are a JSON array of operation names; constraints a JSON
-- object or NULL. A destroyed key's grants are deleted with its material.
CREATE TABLE grants (
    grant_id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    region             TEXT COLLATE "C" NOT NULL,
    key_id             TEXT COLLATE "C" NOT NULL,
    name               TEXT,
    creation_date_ms   BIGINT           NOT NULL,
    grantee_principal  TEXT             NOT NULL,
    retiring_principal TEXT COLLATE "C",
    issuing_account    TEXT             NOT NULL,
    operations         TEXT             NOT NULL,
    constraints        TEXT,
    FOREIGN KEY (region, key_id) REFERENCES keys (region, key_id)
);
CREATE INDEX grants_by_key ON grants (region, key_id, creation_date_ms, grant_id);
CREATE INDEX grants_by_retiring_principal ON grants (retiring_principal)
    WHERE retiring_principal IS NOT NULL;

-- A number that changes with every change to the principal directory (accounts, access keys,
-- users, roles, inline policies). The store bumps it in the same transaction as the change
-- (SQLite does it with triggers; plain statements keep this schema free of procedural code).
CREATE TABLE directory_version (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version BIGINT  NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 0);

-- Audit intents (ARCHITECTURE.md, "No change without its record"): a request's audit record as
-- known before it executed, stored in the same transaction as its change. `complete`: `record`
-- is the request's full record (its audit log write failed after the commit).
CREATE TABLE audit_intents (
    event_id   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    created_ms BIGINT           NOT NULL,
    complete   BOOLEAN          NOT NULL,
    record     BYTEA            NOT NULL
);
CREATE INDEX audit_intents_by_age ON audit_intents (created_ms, event_id);

-- Imported key material (SQLite's version 8, ARCHITECTURE.md §3.1): one row per key with Origin
-- EXTERNAL, core's import bookkeeping as an opaque JSON document (parameter sets of
-- GetParametersForImport, each wrapping private key wrapped under the root key, and the state,
-- expiration and description of each imported version). The store never sees a plaintext
-- wrapping key or material. `next_expiry_ms` is the earliest time something in the document
-- expires, for the maintenance job's `due_imports`.
CREATE TABLE key_imports (
    region         TEXT COLLATE "C" NOT NULL,
    key_id         TEXT COLLATE "C" NOT NULL,
    document       BYTEA            NOT NULL,
    next_expiry_ms BIGINT,
    PRIMARY KEY (region, key_id),
    FOREIGN KEY (region, key_id) REFERENCES keys (region, key_id)
);
CREATE INDEX key_imports_due ON key_imports (next_expiry_ms) WHERE next_expiry_ms IS NOT NULL;
