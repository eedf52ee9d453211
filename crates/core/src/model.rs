//! The KMS domain model: accounts, keys, key material, aliases, tags and access keys,
//! named as AWS names them so a KMS user recognises every field.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::CoreError;

/// The algorithm names of Sign/Verify, GenerateMac/VerifyMac, DeriveSharedSecret,
/// Encapsulate/Decapsulate and GenerateDataKeyPair, spelled as AWS spells them. They live in
/// the cryptography crate, which implements them; the KMS model uses the same types.
pub use trent_crypto::algorithms::{
    DataKeyPairSpec, EncapsulationAlgorithm, KeyAgreementAlgorithm, MacAlgorithm, MessageType,
    SigningAlgorithm,
};

/// A 12-digit AWS account id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountId(String);

impl AccountId {
    /// Parses a 12-digit account id.
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s.to_string()))
        } else {
            Err(CoreError::Validation(format!(
                "Account id '{s}' must be 12 digits."
            )))
        }
    }
    /// The id as written in ARNs.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A KMS key id: a UUID, as AWS uses (`1234abcd-12ab-34cd-56ef-1234567890ab`), or a
/// multi-Region key id, `mrk-` and 32 lowercase hex digits (ARCHITECTURE.md §10). Either is 16
/// bytes, which ciphertext blobs and grant tokens embed. Ordered as its text orders: every
/// UUID before every multi-Region id, each by its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId {
    multi_region: bool,
    bytes: [u8; 16],
}

impl KeyId {
    /// A fresh random (UUID v4) key id.
    pub fn generate() -> Self {
        KeyId::from_uuid(uuid::Uuid::new_v4())
    }
    /// A fresh random multi-Region key id (`mrk-` and 32 hex digits).
    pub fn generate_multi_region() -> Self {
        KeyId {
            multi_region: true,
            bytes: *uuid::Uuid::new_v4().as_bytes(),
        }
    }
    /// The key id that is this UUID.
    pub fn from_uuid(u: uuid::Uuid) -> Self {
        KeyId {
            multi_region: false,
            bytes: *u.as_bytes(),
        }
    }
    /// Whether this is a multi-Region key id.
    pub fn is_multi_region(&self) -> bool {
        self.multi_region
    }
    /// The 16 bytes embedded in ciphertext blobs.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.bytes
    }
    /// From the 16 bytes embedded in a ciphertext blob: the UUID key id (see
    /// [`KeyId::candidates`] for the multi-Region one).
    pub fn from_bytes(b: [u8; 16]) -> Self {
        KeyId {
            multi_region: false,
            bytes: b,
        }
    }
    /// The two key ids 16 embedded bytes may name: the UUID one, then the multi-Region one.
    pub fn candidates(b: [u8; 16]) -> [KeyId; 2] {
        [
            KeyId::from_bytes(b),
            KeyId {
                multi_region: true,
                bytes: b,
            },
        ]
    }
    /// Parses the hyphenated lowercase UUID form or `mrk-` and 32 lowercase hex digits (the
    /// forms AWS accepts as a key id).
    pub fn parse(s: &str) -> Option<Self> {
        if let Some(hex) = s.strip_prefix("mrk-") {
            if hex.len() != 32 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return None;
            }
            let v = hex::decode(hex).ok()?;
            return Some(KeyId {
                multi_region: true,
                bytes: v.try_into().ok()?,
            });
        }
        if s.len() != 36 {
            return None;
        }
        let u = uuid::Uuid::try_parse(s).ok()?;
        (u.hyphenated().to_string() == s.to_ascii_lowercase()).then_some(KeyId::from_uuid(u))
    }
    /// Appends the key id's text to `out` without an intermediate allocation.
    fn push_to(&self, out: &mut String) {
        if self.multi_region {
            out.push_str("mrk-");
            let mut buf = [0u8; 32];
            // 32 hex digits of 16 bytes always fit.
            if hex::encode_to_slice(self.bytes, &mut buf).is_ok() {
                out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
            }
        } else {
            out.push_str(
                uuid::Uuid::from_bytes(self.bytes)
                    .hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer()),
            );
        }
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(36);
        self.push_to(&mut s);
        f.write_str(&s)
    }
}

/// Identifies one version of a key's material: 32 bytes, shown as 64 hex digits (AWS's KeyMaterialId).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyMaterialId(pub [u8; 32]);

impl KeyMaterialId {
    /// The hex form AWS shows.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        let v = hex::decode(s).ok()?;
        Some(KeyMaterialId(v.try_into().ok()?))
    }
}

impl fmt::Debug for KeyMaterialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyMaterialId({})", self.to_hex())
    }
}

macro_rules! aws_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $(#[doc = concat!("`", $text, "`.")] $variant),+ }
        impl $name {
            /// Every value, in the model's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The value as AWS writes it.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s { $($text => Ok($name::$variant),)+ _ => Err(()) }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

aws_enum!(
    /// The lifecycle state of a KMS key (AWS's KeyState).
    KeyState {
        Creating = "Creating",
        Enabled = "Enabled",
        Disabled = "Disabled",
        PendingDeletion = "PendingDeletion",
        PendingImport = "PendingImport",
        PendingReplicaDeletion = "PendingReplicaDeletion",
        Unavailable = "Unavailable",
        Updating = "Updating",
    }
);

aws_enum!(
    /// The type of key material (AWS's KeySpec).
    KeySpec {
        Rsa2048 = "RSA_2048",
        Rsa3072 = "RSA_3072",
        Rsa4096 = "RSA_4096",
        EccNistP256 = "ECC_NIST_P256",
        EccNistP384 = "ECC_NIST_P384",
        EccNistP521 = "ECC_NIST_P521",
        EccSecgP256k1 = "ECC_SECG_P256K1",
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        Hmac224 = "HMAC_224",
        Hmac256 = "HMAC_256",
        Hmac384 = "HMAC_384",
        Hmac512 = "HMAC_512",
        Sm2 = "SM2",
        MlDsa44 = "ML_DSA_44",
        MlDsa65 = "ML_DSA_65",
        MlDsa87 = "ML_DSA_87",
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
        MlKem512 = "ML_KEM_512",
        MlKem768 = "ML_KEM_768",
        MlKem1024 = "ML_KEM_1024",
    }
);

aws_enum!(
    /// What a key may be used for (AWS's KeyUsageType).
    KeyUsage {
        SignVerify = "SIGN_VERIFY",
        EncryptDecrypt = "ENCRYPT_DECRYPT",
        GenerateVerifyMac = "GENERATE_VERIFY_MAC",
        KeyAgreement = "KEY_AGREEMENT",
        EncapsulateDecapsulate = "ENCAPSULATE_DECAPSULATE",
    }
);

aws_enum!(
    /// Where the key material came from (AWS's OriginType).
    Origin {
        AwsKms = "AWS_KMS",
        External = "EXTERNAL",
        AwsCloudHsm = "AWS_CLOUDHSM",
        ExternalKeyStore = "EXTERNAL_KEY_STORE",
    }
);

aws_enum!(
    /// Symmetric and asymmetric encryption algorithms (AWS's EncryptionAlgorithmSpec).
    EncryptionAlgorithm {
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        Sm2Pke = "SM2PKE",
    }
);

/// A resource tag (AWS's Tag).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// TagKey.
    pub key: String,
    /// TagValue.
    pub value: String,
}

/// Everything Trent stores about a KMS key except its material.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyRecord {
    /// The key's id.
    pub key_id: KeyId,
    /// The account that owns it.
    pub account_id: AccountId,
    /// The Region it lives in.
    pub region: String,
    /// The key's description.
    pub description: String,
    /// The key state.
    pub key_state: KeyState,
    /// The key spec.
    pub key_spec: KeySpec,
    /// The key usage.
    pub key_usage: KeyUsage,
    /// Where the key material came from.
    pub origin: Origin,
    /// When it was created.
    pub creation_date: OffsetDateTime,
    /// When a key in PendingDeletion will be deleted.
    pub deletion_date: Option<OffsetDateTime>,
    /// The key policy document, as the caller gave it (or the default key policy).
    pub policy: String,
    /// The tags.
    pub tags: Vec<Tag>,
    /// The material new encryptions use.
    pub current_key_material_id: KeyMaterialId,
    /// Whether it is a multi-Region key.
    pub multi_region: bool,
    /// For a multi-Region key, the Region of its primary key (its own Region if it is the
    /// primary); `None` for a single-Region key.
    pub primary_region: Option<String>,
    /// Automatic rotation: `Some(period in days)` when enabled.
    pub rotation_period_days: Option<u32>,
    /// When automatic rotation next adds material (set while rotation is enabled).
    pub next_rotation_date: Option<OffsetDateTime>,
    /// The waiting period of a scheduled deletion, in days.
    pub pending_window_days: Option<u32>,
    /// Set when the key was destroyed: its material and aliases are gone and it answers as a
    /// key that does not exist. The record stays as a tombstone.
    pub deleted_date: Option<OffsetDateTime>,
    /// Bumped by every update; caches keep the highest version they have seen.
    pub version: u64,
}

impl KeyRecord {
    /// `arn:aws:kms:REGION:ACCOUNT:key/KEY_ID`.
    pub fn arn(&self) -> String {
        key_arn(&self.region, &self.account_id, &self.key_id)
    }

    /// Where the key lives: its Region and id.
    pub fn addr(&self) -> KeyAddr {
        KeyAddr::new(&self.region, self.key_id)
    }
}

/// Where a key lives: (Region, key id). Multi-Region keys share one key id across Regions, so
/// every key lookup, cache entry and stored row is keyed by both (ARCHITECTURE.md §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyAddr {
    /// The Region (interned, [`crate::region::intern`]).
    pub region: &'static str,
    /// The key id.
    pub key_id: KeyId,
}

impl KeyAddr {
    /// The key `key_id` in `region`.
    pub fn new(region: &str, key_id: KeyId) -> Self {
        KeyAddr {
            region: crate::region::intern(region),
            key_id,
        }
    }
}

impl fmt::Display for KeyAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.region, self.key_id)
    }
}

/// `arn:aws:kms:REGION:ACCOUNT:key/KEY_ID`.
pub fn key_arn(region: &str, account: &AccountId, key_id: &KeyId) -> String {
    // Built by hand: every request formats its key's ARN several times, and `format!` with
    // a UUID's Display was a visible share of a request's CPU.
    const PREFIX: &str = "arn:aws:kms:";
    const KEY: &str = ":key/";
    let account = account.as_str();
    let mut arn = String::with_capacity(
        PREFIX.len() + region.len() + 1 + account.len() + KEY.len() + uuid::fmt::Hyphenated::LENGTH,
    );
    arn.push_str(PREFIX);
    arn.push_str(region);
    arn.push(':');
    arn.push_str(account);
    arn.push_str(KEY);
    key_id.push_to(&mut arn);
    arn
}

/// `arn:aws:kms:REGION:ACCOUNT:ALIAS_NAME` (the alias name includes `alias/`).
pub fn alias_arn(region: &str, account: &AccountId, alias_name: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:{alias_name}")
}

/// One version of a key's material, only ever stored wrapped by the root key.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyMaterialRecord {
    /// The key's Region.
    pub region: String,
    /// The key's id.
    pub key_id: KeyId,
    /// The key material the operation used.
    pub key_material_id: KeyMaterialId,
    /// RootKey::wrap output; AAD = key ARN ‖ key material id.
    pub wrapped: Vec<u8>,
    /// When it was created.
    pub created: OffsetDateTime,
    /// How this version came to be: `None` for the key's first material.
    pub rotation_type: Option<RotationType>,
}

aws_enum!(
    /// Why a key got new material (AWS's RotationType).
    RotationType {
        Automatic = "AUTOMATIC",
        OnDemand = "ON_DEMAND",
    }
);

aws_enum!(
    /// Whether imported key material expires (AWS's ExpirationModelType).
    ExpirationModel {
        KeyMaterialExpires = "KEY_MATERIAL_EXPIRES",
        KeyMaterialDoesNotExpire = "KEY_MATERIAL_DOES_NOT_EXPIRE",
    }
);

aws_enum!(
    /// Whether ImportKeyMaterial brings new material or material the key had (AWS's ImportType).
    ImportType {
        NewKeyMaterial = "NEW_KEY_MATERIAL",
        ExistingKeyMaterial = "EXISTING_KEY_MATERIAL",
    }
);

aws_enum!(
    /// Whether a version of imported material is in the key (AWS's ImportState).
    ImportState {
        Imported = "IMPORTED",
        PendingImport = "PENDING_IMPORT",
    }
);

aws_enum!(
    /// The role of one version of a key's material (AWS's KeyMaterialState).
    KeyMaterialState {
        NonCurrent = "NON_CURRENT",
        Current = "CURRENT",
        PendingRotation = "PENDING_ROTATION",
    }
);

/// The last successful cryptographic use of a key (GetKeyLastUsage).
#[derive(Clone, Debug, PartialEq)]
pub struct KeyLastUsage {
    /// The key's Region.
    pub region: String,
    /// The key's id.
    pub key_id: KeyId,
    /// The operation, e.g. `Encrypt`.
    pub operation: String,
    /// When it happened.
    pub timestamp: OffsetDateTime,
    /// The `eventID` of the operation's audit record.
    pub cloudtrail_event_id: String,
    /// The `x-amzn-RequestId` of the operation.
    pub kms_request_id: String,
}

/// An alias: a friendly name that points at one key of the same account and Region.
#[derive(Clone, Debug, PartialEq)]
pub struct AliasRecord {
    /// The account that owns it.
    pub account_id: AccountId,
    /// The Region it lives in.
    pub region: String,
    /// Includes the `alias/` prefix.
    pub alias_name: String,
    /// The target key id.
    pub target_key_id: KeyId,
    /// When it was created.
    pub creation_date: OffsetDateTime,
    /// The last updated date.
    pub last_updated_date: OffsetDateTime,
}

/// Status of an access key, as IAM names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessKeyStatus {
    /// The key authenticates requests.
    Active,
    /// The key is kept but refused.
    Inactive,
}

/// A long-term access key of a principal; the secret is stored wrapped by the root key.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessKeyRecord {
    /// The access key id.
    pub access_key_id: String,
    /// The account that owns it.
    pub account_id: AccountId,
    /// The principal's ARN, e.g. `arn:aws:iam::111122223333:root`.
    pub principal_arn: String,
    /// RootKey::wrap output; AAD = access_key_wrapping_aad(access_key_id).
    pub wrapped_secret: Vec<u8>,
    /// Active or Inactive.
    pub status: AccessKeyStatus,
    /// When it was created.
    pub created: OffsetDateTime,
}

/// An account known to this Trent.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountRecord {
    /// The account that owns it.
    pub account_id: AccountId,
    /// When it was created.
    pub created: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_arn_is_the_aws_key_arn() {
        let account = AccountId::parse("111122223333").unwrap();
        let key_id = KeyId::from_uuid(
            uuid::Uuid::parse_str("1234ABCD-12ab-34cd-56ef-1234567890ab").unwrap(),
        );
        let arn = key_arn("eu-west-1", &account, &key_id);
        assert_eq!(
            arn,
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        );
        assert_eq!(arn, format!("arn:aws:kms:eu-west-1:{account}:key/{key_id}"));
        assert_eq!(arn.capacity(), arn.len(), "sized exactly");
    }

    #[test]
    fn multi_region_key_ids_parse_print_and_sort_after_uuids() {
        let text = "mrk-1234abcd12ab34cd56ef1234567890ab";
        let mrk = KeyId::parse(text).unwrap();
        assert!(mrk.is_multi_region());
        assert_eq!(mrk.to_string(), text);
        let account = AccountId::parse("111122223333").unwrap();
        let arn = key_arn("eu-west-1", &account, &mrk);
        assert_eq!(
            arn,
            format!("arn:aws:kms:eu-west-1:111122223333:key/{text}")
        );
        assert_eq!(arn.capacity(), arn.len(), "sized exactly");
        for bad in [
            "mrk-1234ABCD12ab34cd56ef1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890a",
            "mrk-",
            "mrk-fake-key-id",
        ] {
            assert_eq!(KeyId::parse(bad), None, "{bad}");
        }
        let uuid = KeyId::parse("ffffffff-ffff-4fff-bfff-ffffffffffff").unwrap();
        assert!(uuid < mrk, "ordered as the text orders");
        assert_eq!(KeyId::candidates(*mrk.as_bytes())[1], mrk);
        let fresh = KeyId::generate_multi_region();
        assert_eq!(KeyId::parse(&fresh.to_string()), Some(fresh));
        assert_eq!(fresh.to_string().len(), 36);
    }
}
