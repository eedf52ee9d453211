//! AWS's key-state table: which key states allow which operation, and the error otherwise.
//! One table drives every check (see the Developer Guide's "Key states of AWS KMS keys").

use crate::action::Action;
use crate::error::CoreError;
use crate::model::{KeyRecord, KeyState};

/// What the table says for one (action, state) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The operation may proceed.
    Allowed,
    /// `DisabledException`.
    Disabled,
    /// `KMSInvalidStateException`.
    InvalidState,
}

/// The rule for `action` on a key in `state`.
pub fn rule(action: Action, state: KeyState) -> Rule {
    use Action::*;
    use KeyState::*;
    match state {
        Enabled => match action {
            CancelKeyDeletion => Rule::InvalidState,
            _ => Rule::Allowed,
        },
        Disabled => {
            if action.is_cryptographic() {
                Rule::Disabled
            } else {
                match action {
                    EnableKeyRotation | DisableKeyRotation | RotateKeyOnDemand | CreateGrant => {
                        Rule::Disabled
                    }
                    CancelKeyDeletion => Rule::InvalidState,
                    _ => Rule::Allowed,
                }
            }
        }
        PendingDeletion | PendingReplicaDeletion => match action {
            DescribeKey | ListResourceTags | ListAliases | DeleteAlias | GetKeyPolicy
            | ListKeyPolicies | GetKeyRotationStatus | ListKeyRotations | ListGrants
            | ListRetirableGrants | RetireGrant | RevokeGrant | GetKeyLastUsage | PutKeyPolicy => {
                Rule::Allowed
            }
            // AWS lets a primary waiting for its replicas be cancelled too.
            CancelKeyDeletion => Rule::Allowed,
            _ => Rule::InvalidState,
        },
        PendingImport => match action {
            DescribeKey
            | ListResourceTags
            | ListAliases
            | DeleteAlias
            | CreateAlias
            | UpdateAlias
            | GetKeyPolicy
            | PutKeyPolicy
            | ListKeyPolicies
            | TagResource
            | UntagResource
            | UpdateKeyDescription
            | GetParametersForImport
            | ImportKeyMaterial
            | ScheduleKeyDeletion
            | ListGrants
            | ListRetirableGrants
            | RetireGrant
            | RevokeGrant
            | GetKeyRotationStatus
            | ListKeyRotations
            | GetKeyLastUsage => Rule::Allowed,
            _ => Rule::InvalidState,
        },
        Creating | Updating | Unavailable => match action {
            DescribeKey | ListResourceTags | ListAliases | GetKeyPolicy | ListKeyPolicies
            | ListGrants | GetKeyLastUsage => Rule::Allowed,
            _ => Rule::InvalidState,
        },
    }
}

/// Checks the table for `key`, with AWS's messages.
pub fn check(action: Action, key: &KeyRecord) -> Result<(), CoreError> {
    match rule(action, key.key_state) {
        Rule::Allowed => Ok(()),
        Rule::Disabled => Err(CoreError::Disabled(format!("{} is disabled.", key.arn()))),
        Rule::InvalidState if action == Action::CancelKeyDeletion => Err(CoreError::InvalidState(
            format!("{} is not pending deletion.", key.arn()),
        )),
        Rule::InvalidState => Err(CoreError::InvalidState(match key.key_state {
            KeyState::PendingDeletion => format!("{} is pending deletion.", key.arn()),
            KeyState::Disabled => format!("{} is disabled.", key.arn()),
            KeyState::PendingImport => format!("{} is pending import.", key.arn()),
            other => format!("{} is {}.", key.arn(), state_words(other)),
        })),
    }
}

fn state_words(state: KeyState) -> &'static str {
    match state {
        KeyState::Creating => "being created",
        KeyState::Enabled => "enabled",
        KeyState::Disabled => "disabled",
        KeyState::PendingDeletion => "pending deletion",
        KeyState::PendingImport => "pending import",
        KeyState::PendingReplicaDeletion => "pending replica deletion",
        KeyState::Unavailable => "unavailable",
        KeyState::Updating => "being updated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_keys_allow_everything_but_cancelling_a_deletion() {
        for a in Action::ALL {
            let expected = if *a == Action::CancelKeyDeletion {
                Rule::InvalidState
            } else {
                Rule::Allowed
            };
            assert_eq!(rule(*a, KeyState::Enabled), expected, "{a:?}");
        }
    }

    #[test]
    fn disabled_keys_refuse_cryptography_with_disabled_exception() {
        assert_eq!(rule(Action::Encrypt, KeyState::Disabled), Rule::Disabled);
        assert_eq!(rule(Action::Decrypt, KeyState::Disabled), Rule::Disabled);
        assert_eq!(rule(Action::DescribeKey, KeyState::Disabled), Rule::Allowed);
        assert_eq!(rule(Action::EnableKey, KeyState::Disabled), Rule::Allowed);
    }

    #[test]
    fn asymmetric_hmac_and_kem_operations_follow_the_cryptographic_rules() {
        use Action::*;
        for a in [
            Sign,
            Verify,
            GetPublicKey,
            GenerateMac,
            VerifyMac,
            DeriveSharedSecret,
            Encapsulate,
            Decapsulate,
            GenerateDataKeyPair,
            GenerateDataKeyPairWithoutPlaintext,
        ] {
            assert!(a.is_cryptographic(), "{a:?}");
            assert!(a.accepts_alias(), "{a:?}");
            assert_eq!(rule(a, KeyState::Enabled), Rule::Allowed, "{a:?}");
            assert_eq!(rule(a, KeyState::Disabled), Rule::Disabled, "{a:?}");
            for state in [
                KeyState::PendingDeletion,
                KeyState::PendingImport,
                KeyState::PendingReplicaDeletion,
                KeyState::Creating,
                KeyState::Unavailable,
                KeyState::Updating,
            ] {
                assert_eq!(rule(a, state), Rule::InvalidState, "{a:?} {state:?}");
            }
        }
    }

    #[test]
    fn pending_deletion_refuses_use_but_allows_cancel_and_describe() {
        assert_eq!(
            rule(Action::Encrypt, KeyState::PendingDeletion),
            Rule::InvalidState
        );
        assert_eq!(
            rule(Action::EnableKey, KeyState::PendingDeletion),
            Rule::InvalidState
        );
        assert_eq!(
            rule(Action::CancelKeyDeletion, KeyState::PendingDeletion),
            Rule::Allowed
        );
        assert_eq!(
            rule(Action::DescribeKey, KeyState::PendingDeletion),
            Rule::Allowed
        );
    }
}
