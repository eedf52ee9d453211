//! GenerateMac and VerifyMac with HMAC KMS keys (HMAC_224 … HMAC_512, RFC 2104).

use crate::action::Action;
use crate::caller::Caller;
use crate::error::CoreError;
use crate::kms::Kms;
use crate::model::{KeyRecord, KeyUsage, MacAlgorithm};
use crate::ops::crypto::{incompatible_algorithm, wrong_key_usage};

/// The most bytes GenerateMac and VerifyMac accept as a message.
pub const MAX_MESSAGE: usize = 4096;

/// Result of GenerateMac.
#[derive(Debug)]
pub struct MacOutput {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The HMAC tag.
    pub mac: Vec<u8>,
    /// The mac algorithm.
    pub mac_algorithm: MacAlgorithm,
}

/// Result of a successful VerifyMac (a wrong MAC is `CoreError::InvalidMac`).
#[derive(Debug)]
pub struct VerifyMacOutput {
    /// The ARN of the key the operation used.
    pub key_arn: String,
    /// The mac algorithm.
    pub mac_algorithm: MacAlgorithm,
}

impl Kms {
    /// GenerateMac: the HMAC of `message` under an HMAC key with its one MAC algorithm.
    pub async fn generate_mac(
        &self,
        caller: &Caller,
        key_id: &str,
        message: &[u8],
        algorithm: MacAlgorithm,
        dry_run: bool,
    ) -> Result<MacOutput, CoreError> {
        let action = Action::GenerateMac;
        let key = self.usable_key(caller, key_id, action).await?.record;
        check_mac(&key, action, algorithm, message)?;
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let material = self.current_material(&key).await?;
        let hmac = material.hmac().ok_or_else(|| no_hmac_key(&key))?;
        let mac = hmac.generate_mac(algorithm, message)?;
        self.record_usage(caller, &key, action);
        Ok(MacOutput {
            key_arn: key.arn(),
            mac,
            mac_algorithm: algorithm,
        })
    }

    /// VerifyMac: Ok when `mac` is the HMAC of `message` (compared in constant time),
    /// `KMSInvalidMacException` otherwise.
    pub async fn verify_mac(
        &self,
        caller: &Caller,
        key_id: &str,
        message: &[u8],
        mac: &[u8],
        algorithm: MacAlgorithm,
        dry_run: bool,
    ) -> Result<VerifyMacOutput, CoreError> {
        let action = Action::VerifyMac;
        let key = self.usable_key(caller, key_id, action).await?.record;
        check_mac(&key, action, algorithm, message)?;
        if dry_run {
            return Err(CoreError::DryRun);
        }
        let material = self.current_material(&key).await?;
        let hmac = material.hmac().ok_or_else(|| no_hmac_key(&key))?;
        if !hmac.verify_mac(algorithm, message, mac)? {
            return Err(CoreError::InvalidMac);
        }
        self.record_usage(caller, &key, action);
        Ok(VerifyMacOutput {
            key_arn: key.arn(),
            mac_algorithm: algorithm,
        })
    }
}

/// The key must be a GENERATE_VERIFY_MAC key and the algorithm its own; AWS's errors.
fn check_mac(
    key: &KeyRecord,
    action: Action,
    algorithm: MacAlgorithm,
    message: &[u8],
) -> Result<(), CoreError> {
    if key.key_usage != KeyUsage::GenerateVerifyMac {
        return Err(wrong_key_usage(key, action));
    }
    if !key
        .key_spec
        .algorithms(KeyUsage::GenerateVerifyMac)
        .mac
        .contains(&algorithm)
    {
        return Err(incompatible_algorithm(algorithm, key));
    }
    if message.len() > MAX_MESSAGE {
        return Err(CoreError::Validation(format!(
            "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to {MAX_MESSAGE}"
        )));
    }
    Ok(())
}

fn no_hmac_key(key: &KeyRecord) -> CoreError {
    CoreError::Internal(format!("{} has no HMAC key material", key.arn()))
}
