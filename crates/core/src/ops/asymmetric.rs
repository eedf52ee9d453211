//! The operations of asymmetric KMS keys: Sign, Verify, GetPublicKey, DeriveSharedSecret,
//! Encapsulate and Decapsulate.
//!
//! Each checks, in AWS's order: the key (resolve, authorize, key state), its key usage
//! (InvalidKeyUsageException), that the algorithm fits the key spec (InvalidKeyUsageException),
//! then the message (ValidationException), and only then answers a DryRun or touches the
//! private key.

use trent_crypto::secret::SecretBytes;
use trent_crypto::CryptoError;

use crate::action::Action;
use crate::caller::Caller;
use crate::error::CoreError;
use crate::key_spec::Algorithms;
use crate::kms::Kms;
use crate::model::{
    EncapsulationAlgorithm, KeyAgreementAlgorithm, KeyRecord, KeySpec, KeyUsage, MessageType,
    Origin, SigningAlgorithm,
};
use crate::ops::crypto::{incompatible_algorithm, wrong_key_usage};

/// The most bytes Sign and Verify accept as a message (or digest).
pub const MAX_MESSAGE: usize = 4096;

/// The length of an ML-DSA external μ (FIPS 204 §6.2).
pub const EXTERNAL_MU_LEN: usize = 64;

/// What Sign takes (the members of AWS's SignRequest, typed).
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// The key id, key ARN, alias name or alias ARN.
    pub key_id: &'a str,
    /// The message, digest or ML-DSA external μ to sign.
    pub message: &'a [u8],
    /// RAW, DIGEST or EXTERNAL_MU; `None` means RAW.
    pub message_type: Option<MessageType>,
    /// The signing algorithm.
    pub algorithm: SigningAlgorithm,
    /// DryRun: check everything, sign nothing.
    pub dry_run: bool,
}

/// What Verify takes (the members of AWS's VerifyRequest, typed).
#[derive(Debug, Clone, Copy)]
pub struct VerifyInput<'a> {
    /// The key id, key ARN, alias name or alias ARN.
    pub key_id: &'a str,
    /// The message, digest or ML-DSA external μ that was signed.
    pub message: &'a [u8],
    /// RAW, DIGEST or EXTERNAL_MU; `None` means RAW.
    pub message_type: Option<MessageType>,
    /// The signature to check.
    pub signature: &'a [u8],
    /// The signing algorithm.
    pub algorithm: SigningAlgorithm,
    /// DryRun: check everything, verify nothing.
    pub dry_run: bool,
}

/// Result of Sign.
#[derive(Debug)]
pub struct SignOutput {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The signature.
    pub signature: Vec<u8>,
    /// The signing algorithm.
    pub signing_algorithm: SigningAlgorithm,
}

/// Result of a successful Verify (a wrong signature is `CoreError::InvalidSignature`).
#[derive(Debug)]
pub struct VerifyOutput {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The signing algorithm.
    pub signing_algorithm: SigningAlgorithm,
}

/// Result of GetPublicKey.
#[derive(Debug)]
pub struct PublicKeyOutput {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// DER-encoded SubjectPublicKeyInfo.
    pub public_key: Vec<u8>,
    /// The key spec.
    pub key_spec: KeySpec,
    /// The key usage.
    pub key_usage: KeyUsage,
    /// The algorithms of the key; only the list of its key usage is non-empty.
    pub algorithms: Algorithms,
}

/// Result of DeriveSharedSecret.
#[derive(Debug)]
pub struct SharedSecretOutput {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The shared secret (zeroized on drop).
    pub shared_secret: SecretBytes,
    /// The key agreement algorithm.
    pub key_agreement_algorithm: KeyAgreementAlgorithm,
    /// The key origin.
    pub key_origin: Origin,
}

/// Result of Encapsulate.
#[derive(Debug)]
pub struct EncapsulateOutput {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The shared secret (zeroized on drop).
    pub shared_secret: SecretBytes,
    /// The ciphertext (for symmetric keys, the blob of ARCHITECTURE.md §4).
    pub ciphertext: Vec<u8>,
}

/// Result of Decapsulate.
#[derive(Debug)]
pub struct DecapsulateOutput {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The shared secret (zeroized on drop).
    pub shared_secret: SecretBytes,
}

impl Kms {
    /// Sign: a signature over a message, a digest, or an ML-DSA external μ.
    pub async fn sign(
        &self,
        caller: &Caller,
        input: SignInput<'_>,
    ) -> Result<SignOutput, CoreError> {
        let SignInput {
            key_id,
            message,
            message_type,
            algorithm,
            dry_run,
        } = input;
        let action = Action::Sign;
        let key = self.usable_key(caller, key_id, action).await?.record;
        let message_type = check_signing(&key, action, algorithm, message_type, message)?;
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let material = self.current_material(&key).await?;
        let private = material.private_key().ok_or_else(|| no_private_key(&key))?;
        let signature = private
            .sign(algorithm, message_type, message)
            .map_err(|e| signing_error(e, &key, algorithm, message_type))?;
        self.record_usage(caller, &key, action);
        Ok(SignOutput {
            key_arn: key.arn(),
            signature,
            signing_algorithm: algorithm,
        })
    }

    /// Verify: Ok for a good signature, `KMSInvalidSignatureException` for a bad one. The
    /// message type need not be the one used to sign, as in AWS.
    pub async fn verify(
        &self,
        caller: &Caller,
        input: VerifyInput<'_>,
    ) -> Result<VerifyOutput, CoreError> {
        let VerifyInput {
            key_id,
            message,
            message_type,
            signature,
            algorithm,
            dry_run,
        } = input;
        let action = Action::Verify;
        let key = self.usable_key(caller, key_id, action).await?.record;
        let message_type = check_signing(&key, action, algorithm, message_type, message)?;
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let material = self.current_material(&key).await?;
        let private = material.private_key().ok_or_else(|| no_private_key(&key))?;
        let valid = private
            .verify(algorithm, message_type, message, signature)
            .map_err(|e| signing_error(e, &key, algorithm, message_type))?;
        if !valid {
            return Err(CoreError::InvalidSignature);
        }
        self.record_usage(caller, &key, action);
        Ok(VerifyOutput {
            key_arn: key.arn(),
            signing_algorithm: algorithm,
        })
    }

    /// GetPublicKey: the DER SubjectPublicKeyInfo of an asymmetric key, with its key spec,
    /// key usage and algorithms.
    pub async fn get_public_key(
        &self,
        caller: &Caller,
        key_id: &str,
    ) -> Result<PublicKeyOutput, CoreError> {
        let action = Action::GetPublicKey;
        let key = self.usable_key(caller, key_id, action).await?.record;
        if !key.key_spec.is_asymmetric() {
            return Err(CoreError::UnsupportedOperation(format!(
                "{} key spec is {} which is not valid for {}.",
                key.arn(),
                key.key_spec,
                action.name()
            )));
        }
        let material = self.current_material(&key).await?;
        let private = material.private_key().ok_or_else(|| no_private_key(&key))?;
        let public_key = private.public_key_der();
        self.record_usage(caller, &key, action);
        Ok(PublicKeyOutput {
            key_arn: key.arn(),
            public_key,
            key_spec: key.key_spec,
            key_usage: key.key_usage,
            algorithms: key.key_spec.algorithms(key.key_usage),
        })
    }

    /// DeriveSharedSecret: ECDH between the key's private key and the peer's public key (DER
    /// SubjectPublicKeyInfo on the same curve).
    pub async fn derive_shared_secret(
        &self,
        caller: &Caller,
        key_id: &str,
        algorithm: KeyAgreementAlgorithm,
        peer_public_key: &[u8],
        dry_run: bool,
    ) -> Result<SharedSecretOutput, CoreError> {
        let action = Action::DeriveSharedSecret;
        let key = self.usable_key(caller, key_id, action).await?.record;
        if key.key_usage != KeyUsage::KeyAgreement {
            return Err(wrong_key_usage(&key, action));
        }
        if !key
            .key_spec
            .algorithms(KeyUsage::KeyAgreement)
            .key_agreement
            .contains(&algorithm)
        {
            return Err(incompatible_algorithm(algorithm, &key));
        }
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let material = self.current_material(&key).await?;
        let private = material.private_key().ok_or_else(|| no_private_key(&key))?;
        let shared_secret = private
            .derive_shared_secret(peer_public_key)
            .map_err(|e| match e {
                // AWS sends this ValidationException without a message.
                CryptoError::InvalidPublicKey => CoreError::Validation(String::new()),
                other => other.into(),
            })?;
        self.record_usage(caller, &key, action);
        Ok(SharedSecretOutput {
            key_arn: key.arn(),
            shared_secret,
            key_agreement_algorithm: algorithm,
            key_origin: key.origin,
        })
    }

    /// Encapsulate: a fresh 32-byte shared secret and its ML-KEM ciphertext under the key's
    /// public key.
    pub async fn encapsulate(
        &self,
        caller: &Caller,
        key_id: &str,
        algorithm: EncapsulationAlgorithm,
        dry_run: bool,
    ) -> Result<EncapsulateOutput, CoreError> {
        let action = Action::Encapsulate;
        let key = self.usable_key(caller, key_id, action).await?.record;
        check_encapsulation(&key, action, algorithm)?;
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let material = self.current_material(&key).await?;
        let private = material.private_key().ok_or_else(|| no_private_key(&key))?;
        let (ciphertext, shared_secret) = private.encapsulate()?;
        self.record_usage(caller, &key, action);
        Ok(EncapsulateOutput {
            key_arn: key.arn(),
            shared_secret,
            ciphertext,
        })
    }

    /// Decapsulate: the shared secret of an ML-KEM ciphertext. A ciphertext of the wrong
    /// length is an InvalidCiphertextException; any other wrong ciphertext yields a
    /// pseudo-random secret (implicit rejection), as FIPS 203 and AWS require.
    pub async fn decapsulate(
        &self,
        caller: &Caller,
        key_id: &str,
        ciphertext: &[u8],
        algorithm: EncapsulationAlgorithm,
        dry_run: bool,
    ) -> Result<DecapsulateOutput, CoreError> {
        let action = Action::Decapsulate;
        let key = self.usable_key(caller, key_id, action).await?.record;
        check_encapsulation(&key, action, algorithm)?;
        if ml_kem_ciphertext_len(key.key_spec) != Some(ciphertext.len()) {
            return Err(CoreError::InvalidCiphertext(String::new()));
        }
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let material = self.current_material(&key).await?;
        let private = material.private_key().ok_or_else(|| no_private_key(&key))?;
        let shared_secret = private.decapsulate(ciphertext).map_err(|e| match e {
            CryptoError::InvalidCiphertext => CoreError::InvalidCiphertext(String::new()),
            other => other.into(),
        })?;
        self.record_usage(caller, &key, action);
        Ok(DecapsulateOutput {
            key_arn: key.arn(),
            shared_secret,
        })
    }
}

/// The ML-KEM ciphertext length of each parameter set (FIPS 203, table 3).
pub fn ml_kem_ciphertext_len(spec: KeySpec) -> Option<usize> {
    match spec {
        KeySpec::MlKem512 => Some(768),
        KeySpec::MlKem768 => Some(1088),
        KeySpec::MlKem1024 => Some(1568),
        _ => None,
    }
}

/// Usage, algorithm and message checks of Sign and Verify, with AWS's errors. Returns the
/// message type to use (RAW when the caller gave none).
fn check_signing(
    key: &KeyRecord,
    action: Action,
    algorithm: SigningAlgorithm,
    message_type: Option<MessageType>,
    message: &[u8],
) -> Result<MessageType, CoreError> {
    if key.key_usage != KeyUsage::SignVerify {
        return Err(wrong_key_usage(key, action));
    }
    if !key
        .key_spec
        .algorithms(KeyUsage::SignVerify)
        .signing
        .contains(&algorithm)
    {
        return Err(incompatible_algorithm(algorithm, key));
    }
    let message_type = message_type.unwrap_or(MessageType::Raw);
    if !algorithm.message_types().contains(&message_type) {
        // AWS names the key spec for ML-DSA keys and for EXTERNAL_MU (an ML-DSA-only type),
        // and the algorithm otherwise (Ed25519's RAW-only and DIGEST-only algorithms).
        let target = if key.key_spec.is_ml_dsa() || message_type == MessageType::ExternalMu {
            format!("key spec {}", key.key_spec)
        } else {
            format!("algorithm {algorithm}")
        };
        return Err(CoreError::Validation(format!(
            "Message type {message_type} is incompatible with {target}."
        )));
    }
    if message.len() > MAX_MESSAGE {
        return Err(CoreError::Validation(format!(
            "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to {MAX_MESSAGE}"
        )));
    }
    let wanted = match message_type {
        MessageType::Raw => None,
        MessageType::Digest => algorithm.digest_len(),
        MessageType::ExternalMu => Some(EXTERNAL_MU_LEN),
    };
    if wanted.is_some_and(|n| n != message.len()) {
        return Err(CoreError::Validation(format!(
            "Digest is invalid length for algorithm {algorithm}."
        )));
    }
    Ok(message_type)
}

/// Encapsulate and Decapsulate need an ENCAPSULATE_DECAPSULATE key and ML_KEM.
fn check_encapsulation(
    key: &KeyRecord,
    action: Action,
    algorithm: EncapsulationAlgorithm,
) -> Result<(), CoreError> {
    if key.key_usage != KeyUsage::EncapsulateDecapsulate {
        return Err(wrong_key_usage(key, action));
    }
    if !key
        .key_spec
        .algorithms(KeyUsage::EncapsulateDecapsulate)
        .encapsulation
        .contains(&algorithm)
    {
        return Err(incompatible_algorithm(algorithm, key));
    }
    Ok(())
}

/// The cryptography refused a request the checks above let through; map its refusal to the
/// same errors (they should not happen, but must not become internal errors if they do). The
/// one refusal that can happen is a μ the cryptography cannot sign or verify.
fn signing_error(
    e: CryptoError,
    key: &KeyRecord,
    algorithm: SigningAlgorithm,
    message_type: MessageType,
) -> CoreError {
    match e {
        CryptoError::UnsupportedAlgorithm if message_type == MessageType::ExternalMu => {
            CoreError::UnsupportedOperation(
                "Message type EXTERNAL_MU is not supported by this Trent version.".into(),
            )
        }
        CryptoError::UnsupportedAlgorithm => incompatible_algorithm(algorithm, key),
        CryptoError::InvalidMessage(_) => CoreError::Validation(format!(
            "Digest is invalid length for algorithm {algorithm}."
        )),
        other => other.into(),
    }
}

fn no_private_key(key: &KeyRecord) -> CoreError {
    CoreError::Internal(format!("{} has no private key material", key.arn()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{AccountId, KeyId, KeyMaterialId, KeyState};

    /// A key record of `spec` and `usage` for checks that need no store.
    pub(crate) fn key(spec: KeySpec, usage: KeyUsage) -> KeyRecord {
        let t = time::OffsetDateTime::UNIX_EPOCH;
        KeyRecord {
            key_id: KeyId::generate(),
            account_id: AccountId::parse("111122223333").unwrap(),
            region: "us-east-1".into(),
            description: String::new(),
            key_state: KeyState::Enabled,
            key_spec: spec,
            key_usage: usage,
            origin: Origin::AwsKms,
            creation_date: t,
            deletion_date: None,
            policy: "{}".into(),
            tags: vec![],
            current_key_material_id: KeyMaterialId([0; 32]),
            multi_region: false,
            primary_region: None,
            rotation_period_days: None,
            next_rotation_date: None,
            pending_window_days: None,
            deleted_date: None,
            version: 1,
        }
    }

    fn message_of(err: CoreError) -> (String, String) {
        let kind = format!("{err:?}");
        let kind = kind.split('(').next().unwrap_or_default().to_string();
        (kind, err.to_string())
    }

    #[test]
    fn signing_checks_usage_then_algorithm_then_message_type_then_length() {
        use MessageType::*;
        use SigningAlgorithm as S;
        let p256 = key(KeySpec::EccNistP256, KeyUsage::SignVerify);
        let agree = key(KeySpec::EccNistP256, KeyUsage::KeyAgreement);
        let ed = key(KeySpec::EccNistEdwards25519, KeyUsage::SignVerify);
        let dsa = key(KeySpec::MlDsa44, KeyUsage::SignVerify);
        let check = |k: &KeyRecord, a, t, m: &[u8]| check_signing(k, Action::Sign, a, t, m);

        let (kind, msg) =
            message_of(check(&agree, S::EcdsaSha384, Some(Digest), &[0; 3]).unwrap_err());
        assert_eq!(kind, "InvalidKeyUsage");
        assert!(
            msg.ends_with("key usage is KEY_AGREEMENT which is not valid for Sign."),
            "{msg}"
        );
        // The algorithm is checked before the digest length.
        let (kind, msg) =
            message_of(check(&p256, S::EcdsaSha384, Some(Digest), &[0; 3]).unwrap_err());
        assert_eq!(kind, "InvalidKeyUsage");
        assert_eq!(
            msg,
            "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256."
        );
        let (_, msg) =
            message_of(check(&p256, S::EcdsaSha256, Some(Digest), &[0; 31]).unwrap_err());
        assert_eq!(msg, "Digest is invalid length for algorithm ECDSA_SHA_256.");
        assert_eq!(
            check(&p256, S::EcdsaSha256, Some(Digest), &[0; 32]).unwrap(),
            Digest
        );
        assert_eq!(check(&p256, S::EcdsaSha256, None, b"any").unwrap(), Raw);
        let (_, msg) =
            message_of(check(&dsa, S::MlDsaShake256, Some(Digest), &[0; 64]).unwrap_err());
        assert_eq!(
            msg,
            "Message type DIGEST is incompatible with key spec ML_DSA_44."
        );
        let (_, msg) = message_of(check(&ed, S::Ed25519PhSha512, Some(Raw), b"m").unwrap_err());
        assert_eq!(
            msg,
            "Message type RAW is incompatible with algorithm ED25519_PH_SHA_512."
        );
        let (_, msg) =
            message_of(check(&p256, S::EcdsaSha256, Some(ExternalMu), &[0; 64]).unwrap_err());
        assert_eq!(
            msg,
            "Message type EXTERNAL_MU is incompatible with key spec ECC_NIST_P256."
        );
        assert!(check(&dsa, S::MlDsaShake256, Some(ExternalMu), &[0; 63]).is_err());
        assert_eq!(
            check(&dsa, S::MlDsaShake256, Some(ExternalMu), &[0; 64]).unwrap(),
            ExternalMu
        );
        assert!(check(&p256, S::EcdsaSha256, None, &[0; MAX_MESSAGE + 1]).is_err());
        assert!(check(&p256, S::EcdsaSha256, None, &[0; MAX_MESSAGE]).is_ok());
    }

    #[test]
    fn encapsulation_needs_an_ml_kem_key_and_ciphertext_lengths_follow_fips_203() {
        let kem = key(KeySpec::MlKem768, KeyUsage::EncapsulateDecapsulate);
        let rsa = key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
        assert!(
            check_encapsulation(&kem, Action::Encapsulate, EncapsulationAlgorithm::MlKem).is_ok()
        );
        assert!(matches!(
            check_encapsulation(&rsa, Action::Decapsulate, EncapsulationAlgorithm::MlKem),
            Err(CoreError::InvalidKeyUsage(_))
        ));
        assert_eq!(ml_kem_ciphertext_len(KeySpec::MlKem512), Some(768));
        assert_eq!(ml_kem_ciphertext_len(KeySpec::MlKem768), Some(1088));
        assert_eq!(ml_kem_ciphertext_len(KeySpec::MlKem1024), Some(1568));
        assert_eq!(ml_kem_ciphertext_len(KeySpec::Rsa2048), None);
    }
}
