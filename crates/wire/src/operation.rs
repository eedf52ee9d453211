//! The KMS operations, named by `X-Amz-Target: TrentService.<Operation>`.

macro_rules! operations {
    ($($name:ident),+ $(,)?) => {
        /// One KMS API operation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Operation { $(#[doc = concat!("`TrentService.", stringify!($name), "`.")] $name),+ }
        impl Operation {
            /// Every operation in the model.
            pub const ALL: &'static [Operation] = &[$(Operation::$name),+];
            /// The position in [`Operation::ALL`] (for tables indexed by operation).
            pub fn index(self) -> usize {
                self as usize
            }
            /// The operation's name as AWS writes it.
            pub fn name(&self) -> &'static str {
                match self { $(Operation::$name => stringify!($name)),+ }
            }
            /// Looks an operation up by name.
            pub fn from_name(name: &str) -> Option<Operation> {
                match name { $(stringify!($name) => Some(Operation::$name),)+ _ => None }
            }
        }
    };
}

operations!(
    CancelKeyDeletion,
    ConnectCustomKeyStore,
    CreateAlias,
    CreateCustomKeyStore,
    CreateGrant,
    CreateKey,
    Decapsulate,
    Decrypt,
    DeleteAlias,
    DeleteCustomKeyStore,
    DeleteImportedKeyMaterial,
    DeriveSharedSecret,
    DescribeCustomKeyStores,
    DescribeKey,
    DisableKey,
    DisableKeyRotation,
    DisconnectCustomKeyStore,
    EnableKey,
    EnableKeyRotation,
    Encapsulate,
    Encrypt,
    GenerateDataKey,
    GenerateDataKeyPair,
    GenerateDataKeyPairWithoutPlaintext,
    GenerateDataKeyWithoutPlaintext,
    GenerateMac,
    GenerateRandom,
    GetKeyLastUsage,
    GetKeyPolicy,
    GetKeyRotationStatus,
    GetParametersForImport,
    GetPublicKey,
    ImportKeyMaterial,
    ListAliases,
    ListGrants,
    ListKeyPolicies,
    ListKeyRotations,
    ListKeys,
    ListResourceTags,
    ListRetirableGrants,
    PutKeyPolicy,
    ReEncrypt,
    ReplicateKey,
    RetireGrant,
    RevokeGrant,
    RotateKeyOnDemand,
    ScheduleKeyDeletion,
    Sign,
    TagResource,
    UntagResource,
    UpdateAlias,
    UpdateCustomKeyStore,
    UpdateKeyDescription,
    UpdatePrimaryRegion,
    Verify,
    VerifyMac,
);

/// The `X-Amz-Target` prefix of the KMS JSON protocol.
pub const TARGET_PREFIX: &str = "TrentService.";

impl Operation {
    /// Parses an `X-Amz-Target` header value (`TrentService.Encrypt`).
    pub fn from_target(target: &str) -> Option<Operation> {
        Operation::from_name(target.strip_prefix(TARGET_PREFIX)?)
    }

    /// Whether CloudTrail marks the operation read-only (`readOnly: true`).
    pub fn is_read_only(&self) -> bool {
        use Operation::*;
        matches!(
            self,
            DescribeCustomKeyStores
                | DescribeKey
                | GetKeyLastUsage
                | GetKeyPolicy
                | GetKeyRotationStatus
                | GetParametersForImport
                | GetPublicKey
                | ListAliases
                | ListGrants
                | ListKeyPolicies
                | ListKeyRotations
                | ListKeys
                | ListResourceTags
                | ListRetirableGrants
                | Decrypt
                | Encrypt
                | GenerateDataKey
                | GenerateDataKeyPair
                | GenerateDataKeyPairWithoutPlaintext
                | GenerateDataKeyWithoutPlaintext
                | GenerateMac
                | GenerateRandom
                | ReEncrypt
                | Sign
                | Verify
                | VerifyMac
                | DeriveSharedSecret
                | Encapsulate
                | Decapsulate
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_operation_has_a_variant() {
        let model = crate::model::model();
        for name in model.operation_names() {
            assert!(Operation::from_name(name).is_some(), "missing {name}");
        }
        assert_eq!(model.operation_names().count(), Operation::ALL.len());
    }

    #[test]
    fn target_header_parses_only_with_the_trent_service_prefix() {
        assert_eq!(
            Operation::from_target("TrentService.Encrypt"),
            Some(Operation::Encrypt)
        );
        assert_eq!(Operation::from_target("Encrypt"), None);
        assert_eq!(Operation::from_target("TrentService.Nope"), None);
    }
}
