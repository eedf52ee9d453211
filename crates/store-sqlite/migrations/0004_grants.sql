-- Trent's SQLite schema, version 3: grants. Conventions as in 0001_init.sql.
--
-- One row per grant. Operations are a JSON array of operation names; constraints a JSON
-- object ({"encryption_context_subset": {...}|null, "encryption_context_equals": {...}|null})
-- or NULL. A destroyed key's grants are deleted with its material.
CREATE TABLE grants (
    grant_id            TEXT    NOT NULL PRIMARY KEY,
    key_id              TEXT    NOT NULL REFERENCES keys (key_id),
    name                TEXT,
    creation_date_ms    INTEGER NOT NULL,
    grantee_principal   TEXT    NOT NULL,
    retiring_principal  TEXT,
    issuing_account     TEXT    NOT NULL,
    operations          TEXT    NOT NULL,
    constraints         TEXT
) STRICT;
CREATE INDEX grants_by_key ON grants (key_id, creation_date_ms, grant_id);
CREATE INDEX grants_by_retiring_principal ON grants (retiring_principal)
    WHERE retiring_principal IS NOT NULL;
