-- Trent's SQLite schema, version 8: imported key material (issue 16, ARCHITECTURE.md §3.1).
-- One row per key with Origin EXTERNAL, addressed by (region, key_id) as every key is since
-- version 7: core's import bookkeeping as an opaque JSON document (parameter sets of
-- GetParametersForImport, with each wrapping private key wrapped under the root key, and the
-- state, expiration and description of each imported version). The store never sees a
-- plaintext wrapping key or material. `next_expiry_ms` is the earliest time something in the
-- document expires, for the maintenance job's `due_imports`.

CREATE TABLE key_imports (
    region         TEXT    NOT NULL,
    key_id         TEXT    NOT NULL,
    document       BLOB    NOT NULL,
    next_expiry_ms INTEGER,
    PRIMARY KEY (region, key_id),
    FOREIGN KEY (region, key_id) REFERENCES keys (region, key_id)
) STRICT;
CREATE INDEX key_imports_due ON key_imports (next_expiry_ms) WHERE next_expiry_ms IS NOT NULL;
