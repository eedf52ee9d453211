//! Imported key material (issue 16, ARCHITECTURE.md §3.1): the `key_imports` table and the
//! statements of the store's import methods, as `trent-store-sqlite`'s `imports` module.

use deadpool_postgres::{GenericClient, Transaction};
use trent_core::model::{KeyAddr, KeyMaterialId, KeyMaterialRecord};
use trent_core::store::{ImportRecord, StoreError};

use crate::rows::{from_ms, key_addr_from_row, opt_ms, to_ms};
use crate::{exec, pg, query_all, query_opt};

/// Inserts or replaces a key's import bookkeeping.
pub(crate) async fn put_import(tx: &Transaction<'_>, r: &ImportRecord) -> Result<(), StoreError> {
    let next = opt_ms(r.next_expiry)?;
    exec(
        tx,
        "INSERT INTO key_imports (region, key_id, document, next_expiry_ms) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (region, key_id) DO UPDATE SET document = excluded.document, \
         next_expiry_ms = excluded.next_expiry_ms",
        &[&r.key.region, &r.key.key_id.to_string(), &r.document, &next],
    )
    .await?;
    Ok(())
}

/// A key's import bookkeeping.
pub(crate) async fn select_import<C: GenericClient>(
    c: &C,
    key: KeyAddr,
) -> Result<Option<ImportRecord>, StoreError> {
    query_opt(
        c,
        "SELECT document, next_expiry_ms FROM key_imports WHERE region = $1 AND key_id = $2",
        &[&key.region, &key.key_id.to_string()],
        |row| {
            let next: Option<i64> = row.try_get(1).map_err(pg)?;
            Ok(ImportRecord {
                key,
                document: row.try_get(0).map_err(pg)?,
                next_expiry: next.map(from_ms).transpose()?,
            })
        },
    )
    .await
}

/// Stores one version of material, replacing the version with the same id (a reimport).
pub(crate) async fn upsert_material(
    tx: &Transaction<'_>,
    m: &KeyMaterialRecord,
) -> Result<(), StoreError> {
    let created = to_ms(m.created)?;
    let material_id: &[u8] = &m.key_material_id.0;
    exec(
        tx,
        "INSERT INTO key_materials \
         (region, key_id, key_material_id, wrapped, created_ms, rotation_type) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (region, key_id, key_material_id) \
         DO UPDATE SET wrapped = excluded.wrapped",
        &[
            &m.region,
            &m.key_id.to_string(),
            &material_id,
            &m.wrapped,
            &created,
            &m.rotation_type.map(|t| t.as_str()),
        ],
    )
    .await?;
    Ok(())
}

/// Deletes one version of a key's material (the caller VACUUMs after the commit).
pub(crate) async fn delete_material(
    tx: &Transaction<'_>,
    key: KeyAddr,
    id: &KeyMaterialId,
) -> Result<(), StoreError> {
    let material_id: &[u8] = &id.0;
    exec(
        tx,
        "DELETE FROM key_materials WHERE region = $1 AND key_id = $2 AND key_material_id = $3",
        &[&key.region, &key.key_id.to_string(), &material_id],
    )
    .await?;
    Ok(())
}

/// Keys not destroyed whose bookkeeping expires at or before `now_ms`, by Region, then key id
/// (the partial index `key_imports_due`).
pub(crate) async fn due<C: GenericClient>(c: &C, now_ms: i64) -> Result<Vec<KeyAddr>, StoreError> {
    query_all(
        c,
        "SELECT i.region, i.key_id FROM key_imports i \
         JOIN keys k ON k.region = i.region AND k.key_id = i.key_id \
         WHERE i.next_expiry_ms IS NOT NULL AND i.next_expiry_ms <= $1 \
         AND k.deleted_date_ms IS NULL ORDER BY i.region, i.key_id",
        &[&now_ms],
        key_addr_from_row,
    )
    .await
}
