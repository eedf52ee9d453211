//! Imported key material (issue 16, ARCHITECTURE.md §3.1): the `key_imports` table of
//! migration 8 and the transactions of the store's import methods.

use rusqlite::{params, Connection, OptionalExtension};
use trent_core::model::{KeyAddr, KeyId, KeyMaterialId, KeyMaterialRecord};
use trent_core::store::{ImportRecord, StoreError};

use crate::backend;
use crate::rows::{from_ms, opt_ms, to_ms};

/// Inserts or replaces a key's import bookkeeping.
pub(crate) fn put_import(conn: &Connection, r: &ImportRecord) -> Result<(), StoreError> {
    let next = opt_ms(r.next_expiry)?;
    conn.prepare_cached(
        "INSERT INTO key_imports (region, key_id, document, next_expiry_ms) \
         VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (region, key_id) DO UPDATE SET document = excluded.document, \
         next_expiry_ms = excluded.next_expiry_ms",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            r.key.region,
            r.key.key_id.to_string(),
            r.document,
            next
        ])
    })
    .map_err(backend)?;
    Ok(())
}

/// A key's import bookkeeping.
pub(crate) fn select_import(
    conn: &Connection,
    key: KeyAddr,
) -> Result<Option<ImportRecord>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT document, next_expiry_ms FROM key_imports WHERE region = ?1 AND key_id = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![key.region, key.key_id.to_string()], |row| {
                Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Option<i64>>(1)?))
            })
            .optional()
        })
        .map_err(backend)?;
    row.map(|(document, next)| {
        Ok(ImportRecord {
            key,
            document,
            next_expiry: next.map(from_ms).transpose()?,
        })
    })
    .transpose()
}

/// Stores one version of material, replacing the version with the same id (a reimport).
pub(crate) fn upsert_material(conn: &Connection, m: &KeyMaterialRecord) -> Result<(), StoreError> {
    let created = to_ms(m.created)?;
    conn.prepare_cached(
        "INSERT INTO key_materials \
         (region, key_id, key_material_id, wrapped, created_ms, rotation_type) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (region, key_id, key_material_id) \
         DO UPDATE SET wrapped = excluded.wrapped",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            m.region,
            m.key_id.to_string(),
            &m.key_material_id.0[..],
            m.wrapped,
            created,
            m.rotation_type.map(|t| t.as_str()),
        ])
    })
    .map_err(backend)?;
    Ok(())
}

/// Erases one version of a key's material (secure_delete zeroes the freed pages).
pub(crate) fn delete_material(
    conn: &Connection,
    key: KeyAddr,
    id: &KeyMaterialId,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "DELETE FROM key_materials WHERE region = ?1 AND key_id = ?2 AND key_material_id = ?3",
    )
    .and_then(|mut stmt| stmt.execute(params![key.region, key.key_id.to_string(), &id.0[..]]))
    .map_err(backend)?;
    Ok(())
}

/// Keys not destroyed whose bookkeeping expires at or before `now_ms`, by Region, then key id.
pub(crate) fn due(conn: &Connection, now_ms: i64) -> Result<Vec<KeyAddr>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT i.region, i.key_id FROM key_imports i \
             JOIN keys k ON k.region = i.region AND k.key_id = i.key_id \
             WHERE i.next_expiry_ms IS NOT NULL AND i.next_expiry_ms <= ?1 \
             AND k.deleted_date_ms IS NULL ORDER BY i.region, i.key_id",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![now_ms], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    rows.iter()
        .map(|(region, id)| {
            KeyId::parse(id)
                .map(|key_id| KeyAddr::new(region, key_id))
                .ok_or_else(|| StoreError::Backend("sqlite: stored key id is invalid".into()))
        })
        .collect()
}
