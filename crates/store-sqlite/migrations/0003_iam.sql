-- Trent's SQLite schema, version 3: IAM users and roles, and their inline policies.
-- Conventions as in 0001_init.sql. User and role names are unique per account regardless of
-- ASCII case (IAM's rule), so their columns compare with NOCASE; lists order by them.

CREATE TABLE iam_users (
    account_id     TEXT    NOT NULL REFERENCES accounts (account_id),
    user_name      TEXT    NOT NULL COLLATE NOCASE,
    path           TEXT    NOT NULL,
    user_id        TEXT    NOT NULL UNIQUE,
    create_date_ms INTEGER NOT NULL,
    -- JSON array of {"key": …, "value": …}, in the record's order.
    tags           TEXT    NOT NULL,
    PRIMARY KEY (account_id, user_name)
) STRICT, WITHOUT ROWID;

CREATE TABLE iam_roles (
    account_id                  TEXT    NOT NULL REFERENCES accounts (account_id),
    role_name                   TEXT    NOT NULL COLLATE NOCASE,
    path                        TEXT    NOT NULL,
    role_id                     TEXT    NOT NULL UNIQUE,
    create_date_ms              INTEGER NOT NULL,
    assume_role_policy_document TEXT    NOT NULL,
    description                 TEXT,
    max_session_duration        INTEGER NOT NULL CHECK (max_session_duration > 0),
    tags                        TEXT    NOT NULL,
    PRIMARY KEY (account_id, role_name)
) STRICT, WITHOUT ROWID;

-- Inline policies of users and roles. Policy names compare exactly.
CREATE TABLE iam_inline_policies (
    account_id      TEXT NOT NULL,
    principal_kind  TEXT NOT NULL CHECK (principal_kind IN ('user', 'role')),
    principal_name  TEXT NOT NULL COLLATE NOCASE,
    policy_name     TEXT NOT NULL,
    policy_document TEXT NOT NULL,
    PRIMARY KEY (account_id, principal_kind, principal_name, policy_name)
) STRICT, WITHOUT ROWID;

-- DeleteUser refuses while the user has access keys: find them by owner.
CREATE INDEX access_keys_by_principal ON access_keys (principal_arn);
