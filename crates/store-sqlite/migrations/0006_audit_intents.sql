-- Trent's SQLite schema, version 6: audit intents. A request that may change state stores its
-- audit record as known before it executed (its intent) in the same transaction as its change,
-- so no change is committed without a record (ARCHITECTURE.md, "No change without its record").
-- The server deletes an intent once the request's full record is durable in the audit log; at
-- start it writes the records of those left behind (a crash, a full audit disk) to the log.
-- `complete` = 1: `record` is the request's full record (its audit log write failed after the
-- commit), not only its intent. Records name no secret (they are redacted like the log).

CREATE TABLE audit_intents (
    event_id   TEXT    NOT NULL PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    complete   INTEGER NOT NULL CHECK (complete IN (0, 1)),
    record     BLOB    NOT NULL
) STRICT;
