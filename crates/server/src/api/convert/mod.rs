//! ④⑤ Request ↔ domain conversion and dispatch: [`execute`] sends each operation to its
//! area's module (one per family of `trent_core::ops`), whose function turns the typed wire
//! request into a call on the KMS, and its result into the wire response. The helpers shared
//! by the areas (decoding, enums, the response body) live here.

use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use trent_core::model::Tag;
use trent_core::{Caller, CoreError, Kms};
use trent_wire::{Operation, SecretBlob, WireError};
use zeroize::Zeroizing;

use crate::api::errors::ApiError;

mod aliases;
mod asymmetric;
mod crypto;
mod grants;
mod imports;
mod keys;
mod lifecycle;
mod mac;
mod policies;
mod tags;

/// What an operation produced: the response body, and what the audit record shows of it.
pub struct Outcome {
    /// The JSON response body (empty for operations without output).
    pub body: Zeroizing<Vec<u8>>,
    /// The key the operation acted on, for the audit record's `resources`.
    pub key_arn: Option<String>,
    /// The response as CloudTrail shows it (management operations only; never secrets).
    pub response_elements: Option<Value>,
}

impl Outcome {
    fn json<T: Serialize>(resp: &T, key_arn: Option<String>) -> Result<Outcome, ApiError> {
        let mut body = ZeroizingWriter(Zeroizing::new(Vec::with_capacity(2048)));
        serde_json::to_writer(&mut body, resp).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(Outcome {
            body: body.0,
            key_arn,
            response_elements: None,
        })
    }

    fn empty(key_arn: Option<String>) -> Outcome {
        Outcome {
            body: Zeroizing::new(Vec::new()),
            key_arn,
            response_elements: None,
        }
    }

    fn with_elements(mut self, v: Value) -> Outcome {
        self.response_elements = Some(v);
        self
    }
}

/// A response body buffer that wipes what it outgrows: a body may hold a plaintext, and a plain
/// `Vec` would free its old buffer unwiped each time it grew.
struct ZeroizingWriter(Zeroizing<Vec<u8>>);

impl std::io::Write for ZeroizingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let needed = self.0.len() + bytes.len();
        if needed > self.0.capacity() {
            let mut grown = Vec::with_capacity(needed.max(self.0.capacity() * 2));
            grown.extend_from_slice(&self.0);
            // The old buffer is wiped as it drops.
            self.0 = Zeroizing::new(grown);
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn decode<T: DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::Wire(WireError::Serialization(e.to_string())))
}

fn parse_enum<T: FromStr>(field: &str, v: Option<String>) -> Result<Option<T>, ApiError> {
    match v {
        None => Ok(None),
        Some(s) => T::from_str(&s).map(Some).map_err(|_| {
            ApiError::Wire(WireError::Validation(format!(
                "1 validation error detected: Value '{s}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set"
            )))
        }),
    }
}

fn epoch(t: time::OffsetDateTime) -> f64 {
    t.unix_timestamp_nanos() as f64 / 1e9
}

/// A list of algorithm names, or `None` (member omitted) when the list is empty, as AWS
/// omits the lists that do not apply to a key's usage.
fn algorithm_names<T: std::fmt::Display>(list: &[T]) -> Option<Vec<String>> {
    (!list.is_empty()).then(|| list.iter().map(|a| a.to_string()).collect())
}

fn tags_in(tags: Option<Vec<trent_wire::types::Tag>>) -> Vec<Tag> {
    tags.unwrap_or_default()
        .into_iter()
        .map(|t| Tag {
            key: t.tag_key,
            value: t.tag_value,
        })
        .collect()
}

/// A required enum member (the model check already refused a missing or unknown value).
fn required_enum<T: FromStr>(field: &str, v: String) -> Result<T, ApiError> {
    parse_enum(field, Some(v))?.ok_or_else(|| {
        ApiError::Wire(WireError::Validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        )))
    })
}

fn secret_blob(bytes: &[u8]) -> SecretBlob {
    SecretBlob(Zeroizing::new(bytes.to_vec()))
}

fn recipient_unsupported() -> ApiError {
    CoreError::UnsupportedOperation(
        "Recipient (Nitro Enclaves attestation) is not supported by Trent.".into(),
    )
    .into()
}

/// Executes one operation for `caller`: a dispatch to the operation's area, one module per
/// family of `trent_core::ops`.
pub async fn execute(
    kms: &Kms,
    caller: &Caller,
    op: Operation,
    v: Value,
) -> Result<Outcome, ApiError> {
    use Operation as O;
    match op {
        O::CreateKey => keys::create_key(kms, caller, v).await,
        O::DescribeKey => keys::describe_key(kms, caller, v).await,
        O::ListKeys => keys::list_keys(kms, caller, v).await,
        O::EnableKey => keys::enable_key(kms, caller, v).await,
        O::DisableKey => keys::disable_key(kms, caller, v).await,
        O::UpdateKeyDescription => keys::update_key_description(kms, caller, v).await,
        O::Encrypt => crypto::encrypt(kms, caller, v).await,
        O::Decrypt => crypto::decrypt(kms, caller, v).await,
        O::ReEncrypt => crypto::re_encrypt(kms, caller, v).await,
        O::GenerateDataKey => crypto::generate_data_key(kms, caller, v, true).await,
        O::GenerateDataKeyWithoutPlaintext => {
            crypto::generate_data_key(kms, caller, v, false).await
        }
        O::GenerateDataKeyPair => crypto::generate_data_key_pair(kms, caller, v, true).await,
        O::GenerateDataKeyPairWithoutPlaintext => {
            crypto::generate_data_key_pair(kms, caller, v, false).await
        }
        O::GenerateRandom => crypto::generate_random(kms, v),
        O::Sign => asymmetric::sign(kms, caller, v).await,
        O::Verify => asymmetric::verify(kms, caller, v).await,
        O::GetPublicKey => asymmetric::get_public_key(kms, caller, v).await,
        O::DeriveSharedSecret => asymmetric::derive_shared_secret(kms, caller, v).await,
        O::Encapsulate => asymmetric::encapsulate(kms, caller, v).await,
        O::Decapsulate => asymmetric::decapsulate(kms, caller, v).await,
        O::GenerateMac => mac::generate_mac(kms, caller, v).await,
        O::VerifyMac => mac::verify_mac(kms, caller, v).await,
        O::CreateAlias => aliases::create_alias(kms, caller, v).await,
        O::UpdateAlias => aliases::update_alias(kms, caller, v).await,
        O::DeleteAlias => aliases::delete_alias(kms, caller, v).await,
        O::ListAliases => aliases::list_aliases(kms, caller, v).await,
        O::CreateGrant => grants::create_grant(kms, caller, v).await,
        O::ListGrants => grants::list_grants(kms, caller, v).await,
        O::ListRetirableGrants => grants::list_retirable_grants(kms, caller, v).await,
        O::RetireGrant => grants::retire_grant(kms, caller, v).await,
        O::RevokeGrant => grants::revoke_grant(kms, caller, v).await,
        O::GetKeyPolicy => policies::get_key_policy(kms, caller, v).await,
        O::PutKeyPolicy => policies::put_key_policy(kms, caller, v).await,
        O::ListKeyPolicies => policies::list_key_policies(kms, caller, v).await,
        O::TagResource => tags::tag_resource(kms, caller, v).await,
        O::UntagResource => tags::untag_resource(kms, caller, v).await,
        O::ListResourceTags => tags::list_resource_tags(kms, caller, v).await,
        O::EnableKeyRotation => lifecycle::enable_key_rotation(kms, caller, v).await,
        O::DisableKeyRotation => lifecycle::disable_key_rotation(kms, caller, v).await,
        O::GetKeyRotationStatus => lifecycle::get_key_rotation_status(kms, caller, v).await,
        O::RotateKeyOnDemand => lifecycle::rotate_key_on_demand(kms, caller, v).await,
        O::ListKeyRotations => lifecycle::list_key_rotations(kms, caller, v).await,
        O::ScheduleKeyDeletion => lifecycle::schedule_key_deletion(kms, caller, v).await,
        O::CancelKeyDeletion => lifecycle::cancel_key_deletion(kms, caller, v).await,
        O::GetKeyLastUsage => lifecycle::get_key_last_usage(kms, caller, v).await,
        O::GetParametersForImport => imports::get_parameters_for_import(kms, caller, v).await,
        O::ImportKeyMaterial => imports::import_key_material(kms, caller, v).await,
        O::DeleteImportedKeyMaterial => imports::delete_imported_key_material(kms, caller, v).await,
        O::ReplicateKey => keys::replicate_key(kms, caller, v).await,
        O::UpdatePrimaryRegion => keys::update_primary_region(kms, caller, v).await,
        O::DescribeCustomKeyStores
        | O::ConnectCustomKeyStore
        | O::DisconnectCustomKeyStore
        | O::UpdateCustomKeyStore
        | O::DeleteCustomKeyStore => keys::custom_key_store_by_id(v),
        other => Err(CoreError::UnsupportedOperation(format!(
            "{} is not supported by this Trent version.",
            other.name()
        ))
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::io::Write;

    use trent_core::Action;
    use trent_wire::Operation;

    use super::ZeroizingWriter;

    /// Core keeps its own list of actions so it never names the wire protocol; the pipeline
    /// and grants map between the two by name. A wire operation without its action (or an
    /// action whose operation the wire lacks) would make that mapping fail at run time.
    #[test]
    fn every_wire_operation_has_its_action_and_back() {
        for op in Operation::ALL {
            let action = Action::from_name(op.name())
                .unwrap_or_else(|| panic!("operation {} has no Action", op.name()));
            assert_eq!(action.name(), op.name());
            assert_eq!(action.operation(), action, "{} is an operation", op.name());
            assert_eq!(Operation::from_name(action.name()), Some(*op));
        }
        for action in Action::ALL {
            let op = Operation::from_name(action.operation().name())
                .unwrap_or_else(|| panic!("action {} has no wire Operation", action.name()));
            assert_eq!(Action::from_name(op.name()), Some(action.operation()));
        }
        // Only the two permissions of ReEncrypt are actions without an operation of their own.
        let permission_only: HashSet<&str> = Action::ALL
            .iter()
            .filter(|a| Operation::from_name(a.name()).is_none())
            .map(|a| a.name())
            .collect();
        assert_eq!(
            permission_only,
            HashSet::from(["ReEncryptFrom", "ReEncryptTo"])
        );
        let unique_ops: HashSet<_> = Operation::ALL.iter().collect();
        let unique_actions: HashSet<_> = Action::ALL.iter().collect();
        assert_eq!(unique_ops.len(), Operation::ALL.len());
        assert_eq!(unique_actions.len(), Action::ALL.len());
        assert_eq!(Action::ALL.len(), Operation::ALL.len() + 2);
    }

    #[test]
    fn zeroizing_writer_keeps_every_byte_as_it_grows() {
        let mut w = ZeroizingWriter(zeroize::Zeroizing::new(Vec::with_capacity(4)));
        let mut expected = Vec::new();
        for i in 0..200u8 {
            let chunk = vec![i; usize::from(i % 7)];
            w.write_all(&chunk).unwrap();
            expected.extend_from_slice(&chunk);
        }
        assert_eq!(*w.0, expected);
    }
}
