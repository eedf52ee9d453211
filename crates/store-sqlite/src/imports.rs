//! Imported key material (issue 16, ARCHITECTURE.md §3.1): the `key_imports` table of
//! migration 8 and the transactions of the store's import methods.

use rusqlite::{params, Connection, OptionalExtension};
use trent_core::model::{KeyId, KeyMaterialId, KeyMaterialRecord};
use trent_core::store::{ImportRecord, StoreError};

use crate::backend;
use crate::rows::{from_ms, opt_ms, to_ms};

/// Inserts or replaces a key's import bookkeeping.
pub(crate) fn put_import(conn: &Connection, r: &ImportRecord) -> Result<(), StoreError> {
    let next = opt_ms(r.next_expiry)?;
    conn.prepare_cached(
        "INSERT INTO key_imports (key_id, document, next_expiry_ms) VALUES (?1, ?2, ?3) \
         ON CONFLICT (key_id) DO UPDATE SET document = excluded.document, \
         next_expiry_ms = excluded.next_expiry_ms",
    )
    .and_then(|mut stmt| stmt.execute(params![r.key_id.to_string(), r.document, next]))
    .map_err(backend)?;
    Ok(())
}

/// A key's import bookkeeping.
pub(crate) fn select_import(
    conn: &Connection,
    key_id: KeyId,
) -> Result<Option<ImportRecord>, StoreError> {
    let row = conn
        .prepare_cached("SELECT document, next_expiry_ms FROM key_imports WHERE key_id = ?1")
        .and_then(|mut stmt| {
            stmt.query_row(params![key_id.to_string()], |row| {
                Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Option<i64>>(1)?))
            })
            .optional()
        })
        .map_err(backend)?;
    row.map(|(document, next)| {
        Ok(ImportRecord {
            key_id,
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
        "INSERT INTO key_materials (key_id, key_material_id, wrapped, created_ms, rotation_type) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key_id, key_material_id) \
         DO UPDATE SET wrapped = excluded.wrapped",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
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
    key_id: KeyId,
    id: &KeyMaterialId,
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM key_materials WHERE key_id = ?1 AND key_material_id = ?2")
        .and_then(|mut stmt| stmt.execute(params![key_id.to_string(), &id.0[..]]))
        .map_err(backend)?;
    Ok(())
}

/// Keys not destroyed whose bookkeeping expires at or before `now_ms`, by key id.
pub(crate) fn due(conn: &Connection, now_ms: i64) -> Result<Vec<KeyId>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT i.key_id FROM key_imports i JOIN keys k ON k.key_id = i.key_id \
             WHERE i.next_expiry_ms IS NOT NULL AND i.next_expiry_ms <= ?1 \
             AND k.deleted_date_ms IS NULL ORDER BY i.key_id",
        )
        .map_err(backend)?;
    let ids = stmt
        .query_map(params![now_ms], |row| row.get::<_, String>(0))
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    ids.iter()
        .map(|id| {
            KeyId::parse(id)
                .ok_or_else(|| StoreError::Backend("sqlite: stored key id is invalid".into()))
        })
        .collect()
}
