-- Trent's SQLite schema, version 5: a version number of the principal directory (accounts,
-- access keys, users, roles, inline policies), bumped by triggers in the same transaction as
-- any change to them, by whichever process makes it. A running server compares it now and
-- then and reloads its in-memory directory when another process (`trent admin`) changed it.

CREATE TABLE directory_version (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;
INSERT INTO directory_version (id, version) VALUES (1, 0);

CREATE TRIGGER accounts_insert_bumps_directory_version AFTER INSERT ON accounts
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER accounts_update_bumps_directory_version AFTER UPDATE ON accounts
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER accounts_delete_bumps_directory_version AFTER DELETE ON accounts
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER access_keys_insert_bumps_directory_version AFTER INSERT ON access_keys
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER access_keys_update_bumps_directory_version AFTER UPDATE ON access_keys
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER access_keys_delete_bumps_directory_version AFTER DELETE ON access_keys
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER iam_users_insert_bumps_directory_version AFTER INSERT ON iam_users
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER iam_users_update_bumps_directory_version AFTER UPDATE ON iam_users
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER iam_users_delete_bumps_directory_version AFTER DELETE ON iam_users
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER iam_roles_insert_bumps_directory_version AFTER INSERT ON iam_roles
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER iam_roles_update_bumps_directory_version AFTER UPDATE ON iam_roles
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER iam_roles_delete_bumps_directory_version AFTER DELETE ON iam_roles
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER iam_inline_policies_insert_bumps_directory_version AFTER INSERT ON iam_inline_policies
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER iam_inline_policies_update_bumps_directory_version AFTER UPDATE ON iam_inline_policies
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER iam_inline_policies_delete_bumps_directory_version AFTER DELETE ON iam_inline_policies
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;
