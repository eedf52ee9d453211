//! The KMS actions, as policies name them (`kms:Encrypt`). Core's own list, so core never
//! depends on the wire protocol.

macro_rules! actions {
    ($($name:ident),+ $(,)?) => {
        /// One KMS API action.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Action { $(#[doc = concat!("`kms:", stringify!($name), "`.")] $name),+ }
        impl Action {
            /// Every action.
            pub const ALL: &'static [Action] = &[$(Action::$name),+];
            /// The action name without the `kms:` prefix.
            pub fn name(&self) -> &'static str {
                match self { $(Action::$name => stringify!($name)),+ }
            }
            /// `kms:Encrypt`, as policies and error messages write it.
            pub fn policy_name(&self) -> &'static str {
                match self { $(Action::$name => concat!("kms:", stringify!($name))),+ }
            }
            /// Looks an action up by its name without prefix.
            pub fn from_name(name: &str) -> Option<Action> {
                match name { $(stringify!($name) => Some(Action::$name),)+ _ => None }
            }
        }
    };
}

actions!(
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
    ReEncryptFrom,
    ReEncryptTo,
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

impl Action {
    /// The API operation an action is checked under. ReEncrypt is one operation but two
    /// permissions: `kms:ReEncryptFrom` on the source key and `kms:ReEncryptTo` on the
    /// destination; both are a ReEncrypt for key states, key usage and messages.
    pub fn operation(self) -> Action {
        match self {
            Action::ReEncryptFrom | Action::ReEncryptTo => Action::ReEncrypt,
            other => other,
        }
    }

    /// Whether the action lets the caller name its key by alias name or alias ARN (AWS allows
    /// that for the cryptographic operations and DescribeKey; management operations take only
    /// a key id or key ARN).
    pub fn accepts_alias(&self) -> bool {
        self.is_cryptographic() || matches!(self, Action::DescribeKey)
    }

    /// Whether the action uses key material (and so is refused by a disabled key).
    pub fn is_cryptographic(&self) -> bool {
        use Action::*;
        matches!(
            self,
            Decapsulate
                | Decrypt
                | DeriveSharedSecret
                | Encapsulate
                | Encrypt
                | GenerateDataKey
                | GenerateDataKeyPair
                | GenerateDataKeyPairWithoutPlaintext
                | GenerateDataKeyWithoutPlaintext
                | GenerateMac
                | GetPublicKey
                | ReEncrypt
                | Sign
                | Verify
                | VerifyMac
        )
    }
}
