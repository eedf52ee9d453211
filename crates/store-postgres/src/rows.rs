//! Conversions between model records and PostgreSQL columns (as in the SQLite store, whose
//! columns these are, with BYTEA for blobs, BIGINT for integers and BOOLEAN for flags).
//!
//! Timestamps are stored as Unix milliseconds: sub-millisecond parts are truncated towards
//! the past, and [`truncate`] applies the same rounding to records the store returns.

use std::str::FromStr;

use time::OffsetDateTime;
use tokio_postgres::Row;
use trent_core::grant::{GrantConstraints, GrantRecord};
use trent_core::iam::{InlinePolicyRecord, PrincipalKind, RoleRecord, UserRecord};
use trent_core::model::{
    AccessKeyRecord, AccessKeyStatus, AccountId, AccountRecord, AliasRecord, KeyAddr, KeyId,
    KeyLastUsage, KeyMaterialId, KeyMaterialRecord, KeyRecord, RotationType, Tag,
};
use trent_core::store::StoreError;
use trent_core::store::{WrappedSecret, WrappedSecretId};
use trent_core::Action;

use crate::pg;

/// Columns of `keys`, in the order [`key_from_row`] reads them.
pub(crate) const KEY_COLUMNS: &str = "key_id, account_id, region, description, key_state, \
     key_spec, key_usage, origin, creation_date_ms, deletion_date_ms, policy, tags, \
     current_key_material_id, multi_region, version, rotation_period_days, \
     next_rotation_date_ms, pending_window_days, deleted_date_ms, primary_region";

/// Columns of `aliases`, in the order [`alias_from_row`] reads them.
pub(crate) const ALIAS_COLUMNS: &str =
    "account_id, region, alias_name, target_key_id, creation_date_ms, last_updated_date_ms";

/// Columns of `access_keys`, in the order [`access_key_from_row`] reads them.
pub(crate) const ACCESS_KEY_COLUMNS: &str =
    "access_key_id, account_id, principal_arn, wrapped_secret, status, created_ms";

/// Columns of `iam_users`, in the order [`user_from_row`] reads them.
pub(crate) const USER_COLUMNS: &str =
    "account_id, user_name, path, user_id, create_date_ms, tags, user_name_folded";

/// Columns of `iam_roles`, in the order [`role_from_row`] reads them.
pub(crate) const ROLE_COLUMNS: &str = "account_id, role_name, path, role_id, create_date_ms, \
     assume_role_policy_document, description, max_session_duration, tags, role_name_folded";

/// Columns of `iam_inline_policies`, in the order [`inline_policy_from_row`] reads them.
pub(crate) const INLINE_POLICY_COLUMNS: &str =
    "account_id, principal_kind, principal_name, policy_name, policy_document, \
     principal_name_folded";

/// Columns of `key_materials`, in the order [`material_from_row`] reads them.
pub(crate) const MATERIAL_COLUMNS: &str =
    "key_id, key_material_id, wrapped, created_ms, rotation_type, region";

/// Columns of `key_last_usage`, in the order [`last_usage_from_row`] reads them.
pub(crate) const LAST_USAGE_COLUMNS: &str =
    "key_id, operation, timestamp_ms, cloudtrail_event_id, kms_request_id, region";

/// Columns of `grants`, in the order [`grant_from_row`] reads them.
pub(crate) const GRANT_COLUMNS: &str = "grant_id, key_id, name, creation_date_ms, \
     grantee_principal, retiring_principal, issuing_account, operations, constraints, region";

/// A grant's operations as stored: a JSON array of names.
pub(crate) fn operations_to_json(ops: &[Action]) -> Result<String, StoreError> {
    serde_json::to_string(&ops.iter().map(|a| a.name()).collect::<Vec<_>>())
        .map_err(|e| StoreError::Backend(format!("postgres: encoding grant operations: {e}")))
}

/// A grant's constraints as stored: JSON, or NULL.
pub(crate) fn constraints_to_json(
    c: &Option<GrantConstraints>,
) -> Result<Option<String>, StoreError> {
    c.as_ref()
        .map(|c| {
            serde_json::to_string(c).map_err(|e| {
                StoreError::Backend(format!("postgres: encoding grant constraints: {e}"))
            })
        })
        .transpose()
}

/// Reads a row selected with [`GRANT_COLUMNS`].
pub(crate) fn grant_from_row(row: &Row) -> Result<GrantRecord, StoreError> {
    let names: Vec<String> =
        serde_json::from_str(&text(row, 7)?).map_err(|_| corrupt("grant operations"))?;
    let operations = names
        .iter()
        .map(|n| Action::from_name(n).ok_or_else(|| corrupt("grant operation")))
        .collect::<Result<Vec<_>, _>>()?;
    let constraints: Option<String> = row.try_get(8).map_err(pg)?;
    let constraints = constraints
        .map(|c| serde_json::from_str(&c).map_err(|_| corrupt("grant constraints")))
        .transpose()?;
    Ok(GrantRecord {
        region: text(row, 9)?,
        grant_id: text(row, 0)?,
        key_id: key_id(row, 1)?,
        name: row.try_get(2).map_err(pg)?,
        creation_date: time(row, 3)?,
        grantee_principal: text(row, 4)?,
        retiring_principal: row.try_get(5).map_err(pg)?,
        issuing_account: account_id(row, 6)?,
        operations,
        constraints,
    })
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("postgres: stored {what} is invalid"))
}

/// A timestamp as Unix milliseconds (floor).
pub(crate) fn to_ms(t: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000))
        .map_err(|_| StoreError::Backend("postgres: timestamp out of range".into()))
}

/// Unix milliseconds as a UTC timestamp.
pub(crate) fn from_ms(ms: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| corrupt("timestamp"))
}

/// The timestamp as the store keeps it: UTC, whole milliseconds.
pub(crate) fn truncate(t: OffsetDateTime) -> Result<OffsetDateTime, StoreError> {
    from_ms(to_ms(t)?)
}

pub(crate) fn version_to_sql(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Backend("postgres: key version out of range".into()))
}

pub(crate) fn tags_to_json(tags: &[Tag]) -> Result<String, StoreError> {
    serde_json::to_string(tags).map_err(|e| StoreError::Backend(format!("postgres: tags: {e}")))
}

pub(crate) fn status_to_sql(s: AccessKeyStatus) -> &'static str {
    match s {
        AccessKeyStatus::Active => "Active",
        AccessKeyStatus::Inactive => "Inactive",
    }
}

/// An optional timestamp as optional Unix milliseconds.
pub(crate) fn opt_ms(t: Option<OffsetDateTime>) -> Result<Option<i64>, StoreError> {
    t.map(to_ms).transpose()
}

fn text(row: &Row, i: usize) -> Result<String, StoreError> {
    row.try_get(i).map_err(pg)
}

fn int(row: &Row, i: usize) -> Result<i64, StoreError> {
    row.try_get(i).map_err(pg)
}

fn blob(row: &Row, i: usize) -> Result<Vec<u8>, StoreError> {
    row.try_get(i).map_err(pg)
}

fn key_id(row: &Row, i: usize) -> Result<KeyId, StoreError> {
    KeyId::parse(&text(row, i)?).ok_or_else(|| corrupt("key id"))
}

fn account_id(row: &Row, i: usize) -> Result<AccountId, StoreError> {
    AccountId::parse(&text(row, i)?).map_err(|_| corrupt("account id"))
}

fn material_id(row: &Row, i: usize) -> Result<KeyMaterialId, StoreError> {
    let bytes: [u8; 32] = blob(row, i)?
        .try_into()
        .map_err(|_| corrupt("key material id"))?;
    Ok(KeyMaterialId(bytes))
}

fn time(row: &Row, i: usize) -> Result<OffsetDateTime, StoreError> {
    from_ms(int(row, i)?)
}

fn opt_time(row: &Row, i: usize) -> Result<Option<OffsetDateTime>, StoreError> {
    let ms: Option<i64> = row.try_get(i).map_err(pg)?;
    ms.map(from_ms).transpose()
}

fn opt_days(row: &Row, i: usize, what: &str) -> Result<Option<u32>, StoreError> {
    let days: Option<i64> = row.try_get(i).map_err(pg)?;
    days.map(|d| u32::try_from(d).map_err(|_| corrupt(what)))
        .transpose()
}

fn parse_enum<T: FromStr>(row: &Row, i: usize, what: &str) -> Result<T, StoreError> {
    T::from_str(&text(row, i)?).map_err(|_| corrupt(what))
}

/// Reads a row selected with [`KEY_COLUMNS`].
pub(crate) fn key_from_row(row: &Row) -> Result<KeyRecord, StoreError> {
    let tags: Vec<Tag> = serde_json::from_str(&text(row, 11)?).map_err(|_| corrupt("tags"))?;
    Ok(KeyRecord {
        key_id: key_id(row, 0)?,
        account_id: account_id(row, 1)?,
        region: text(row, 2)?,
        description: text(row, 3)?,
        key_state: parse_enum(row, 4, "key state")?,
        key_spec: parse_enum(row, 5, "key spec")?,
        key_usage: parse_enum(row, 6, "key usage")?,
        origin: parse_enum(row, 7, "origin")?,
        creation_date: time(row, 8)?,
        deletion_date: opt_time(row, 9)?,
        policy: text(row, 10)?,
        tags,
        current_key_material_id: material_id(row, 12)?,
        multi_region: row.try_get(13).map_err(pg)?,
        version: u64::try_from(int(row, 14)?).map_err(|_| corrupt("key version"))?,
        rotation_period_days: opt_days(row, 15, "rotation period")?,
        next_rotation_date: opt_time(row, 16)?,
        pending_window_days: opt_days(row, 17, "pending window")?,
        deleted_date: opt_time(row, 18)?,
        primary_region: row.try_get(19).map_err(pg)?,
    })
}

/// Reads a row of `key_materials` joined with `keys`: key id, material id, wrapped, account,
/// Region (root key rotation's listing).
pub(crate) fn wrapped_material_from_row(row: &Row) -> Result<WrappedSecret, StoreError> {
    let key_id = key_id(row, 0)?;
    let region = text(row, 4)?;
    let key_arn = trent_core::model::key_arn(&region, &account_id(row, 3)?, &key_id);
    Ok(WrappedSecret {
        id: WrappedSecretId::KeyMaterial {
            key: KeyAddr::new(&region, key_id),
            key_material_id: material_id(row, 1)?,
        },
        key_arn: Some(key_arn),
        wrapped: blob(row, 2)?,
    })
}

/// Reads a row of `access_keys`: access key id, wrapped secret.
pub(crate) fn wrapped_access_key_from_row(row: &Row) -> Result<WrappedSecret, StoreError> {
    Ok(WrappedSecret {
        id: WrappedSecretId::AccessKey {
            access_key_id: text(row, 0)?,
        },
        key_arn: None,
        wrapped: blob(row, 1)?,
    })
}

/// Reads a row selected with [`MATERIAL_COLUMNS`].
pub(crate) fn material_from_row(row: &Row) -> Result<KeyMaterialRecord, StoreError> {
    Ok(KeyMaterialRecord {
        region: text(row, 5)?,
        key_id: key_id(row, 0)?,
        key_material_id: material_id(row, 1)?,
        wrapped: blob(row, 2)?,
        created: time(row, 3)?,
        rotation_type: {
            let t: Option<String> = row.try_get(4).map_err(pg)?;
            t.map(|t| RotationType::from_str(&t).map_err(|_| corrupt("rotation type")))
                .transpose()?
        },
    })
}

/// Reads a row selected with [`LAST_USAGE_COLUMNS`].
pub(crate) fn last_usage_from_row(row: &Row) -> Result<KeyLastUsage, StoreError> {
    Ok(KeyLastUsage {
        region: text(row, 5)?,
        key_id: key_id(row, 0)?,
        operation: text(row, 1)?,
        timestamp: time(row, 2)?,
        cloudtrail_event_id: text(row, 3)?,
        kms_request_id: text(row, 4)?,
    })
}

/// Reads a row selected with [`ALIAS_COLUMNS`].
pub(crate) fn alias_from_row(row: &Row) -> Result<AliasRecord, StoreError> {
    Ok(AliasRecord {
        account_id: account_id(row, 0)?,
        region: text(row, 1)?,
        alias_name: text(row, 2)?,
        target_key_id: key_id(row, 3)?,
        creation_date: time(row, 4)?,
        last_updated_date: time(row, 5)?,
    })
}

/// Reads a row selected with [`ACCESS_KEY_COLUMNS`].
pub(crate) fn access_key_from_row(row: &Row) -> Result<AccessKeyRecord, StoreError> {
    let status = match text(row, 4)?.as_str() {
        "Active" => AccessKeyStatus::Active,
        "Inactive" => AccessKeyStatus::Inactive,
        _ => return Err(corrupt("access key status")),
    };
    Ok(AccessKeyRecord {
        access_key_id: text(row, 0)?,
        account_id: account_id(row, 1)?,
        principal_arn: text(row, 2)?,
        wrapped_secret: blob(row, 3)?,
        status,
        created: time(row, 5)?,
    })
}

/// Reads a row of `SELECT account_id, created_ms FROM accounts`.
pub(crate) fn account_from_row(row: &Row) -> Result<AccountRecord, StoreError> {
    Ok(AccountRecord {
        account_id: account_id(row, 0)?,
        created: time(row, 1)?,
    })
}

fn tags(row: &Row, i: usize) -> Result<Vec<Tag>, StoreError> {
    serde_json::from_str(&text(row, i)?).map_err(|_| corrupt("tags"))
}

/// Reads a row selected with [`USER_COLUMNS`].
pub(crate) fn user_from_row(row: &Row) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        account_id: account_id(row, 0)?,
        user_name: text(row, 1)?,
        path: text(row, 2)?,
        user_id: text(row, 3)?,
        create_date: time(row, 4)?,
        tags: tags(row, 5)?,
    })
}

/// Reads a row selected with [`ROLE_COLUMNS`].
pub(crate) fn role_from_row(row: &Row) -> Result<RoleRecord, StoreError> {
    Ok(RoleRecord {
        account_id: account_id(row, 0)?,
        role_name: text(row, 1)?,
        path: text(row, 2)?,
        role_id: text(row, 3)?,
        create_date: time(row, 4)?,
        assume_role_policy_document: text(row, 5)?,
        description: row.try_get(6).map_err(pg)?,
        max_session_duration: u32::try_from(int(row, 7)?)
            .map_err(|_| corrupt("max session duration"))?,
        tags: tags(row, 8)?,
    })
}

/// Reads a row selected with [`INLINE_POLICY_COLUMNS`].
pub(crate) fn inline_policy_from_row(row: &Row) -> Result<InlinePolicyRecord, StoreError> {
    Ok(InlinePolicyRecord {
        account_id: account_id(row, 0)?,
        principal_kind: PrincipalKind::parse(&text(row, 1)?)
            .ok_or_else(|| corrupt("principal kind"))?,
        principal_name: text(row, 2)?,
        policy_name: text(row, 3)?,
        policy_document: text(row, 4)?,
    })
}

/// A user or role name as its `*_folded` column holds it: ASCII letters lowercased, nothing
/// else changed (IAM compares names ASCII-case-insensitively; SQLite's NOCASE does the same).
pub(crate) fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// A number of days as stored (BIGINT).
pub(crate) fn days_to_sql(days: Option<u32>) -> Option<i64> {
    days.map(i64::from)
}

/// Reads a key's address from a row whose first two columns are its Region and key id.
pub(crate) fn key_addr_from_row(row: &Row) -> Result<KeyAddr, StoreError> {
    Ok(KeyAddr::new(&text(row, 0)?, key_id(row, 1)?))
}
