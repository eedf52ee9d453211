//! Access keys, held in memory for SigV4: loaded from the store at start (their secrets
//! unwrapped with the root key and zeroized when dropped), so authentication never reads the
//! database.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use trent_core::model::{AccessKeyRecord, AccessKeyStatus, AccountId};
use trent_core::{Identity, Kms};
use trent_crypto::root::{access_key_secret_wrapping_aad, RootKey};
use trent_sigv4::{Credential, CredentialSource};
use zeroize::Zeroizing;

/// Who an access key belongs to.
#[derive(Clone, Debug)]
pub struct KeyOwner {
    pub account_id: AccountId,
    pub principal_arn: String,
    /// The principal as policies see it; built when the key is loaded, shared by its requests.
    pub identity: Arc<Identity>,
}

struct Entry {
    secret: Zeroizing<String>,
    owner: KeyOwner,
}

/// The active access keys, by access key id.
#[derive(Default)]
pub struct Credentials {
    keys: RwLock<HashMap<String, Arc<Entry>>>,
}

impl Credentials {
    /// Loads every active access key from the KMS's store.
    pub async fn load(kms: &Kms) -> Result<Credentials, String> {
        let records = kms
            .store()
            .list_access_keys()
            .await
            .map_err(|e| e.to_string())?;
        let creds = Credentials::default();
        for r in records {
            creds.insert(kms.root_key(), &r)?;
        }
        Ok(creds)
    }

    /// Adds (or replaces) one access key; inactive keys are removed.
    pub fn insert(&self, root: &RootKey, r: &AccessKeyRecord) -> Result<(), String> {
        if r.status != AccessKeyStatus::Active {
            self.keys.write().remove(&r.access_key_id);
            return Ok(());
        }
        let secret = root
            .unwrap(
                &access_key_secret_wrapping_aad(&r.access_key_id),
                &r.wrapped_secret,
            )
            .map_err(|_| {
                format!(
                    "the secret of access key {} does not unwrap",
                    r.access_key_id
                )
            })?;
        let secret =
            Zeroizing::new(String::from_utf8(secret.as_bytes().to_vec()).map_err(|_| {
                format!("the secret of access key {} is not text", r.access_key_id)
            })?);
        let identity = if r.principal_arn == format!("arn:aws:iam::{}:root", r.account_id) {
            Identity::account_root(&r.account_id)
        } else {
            return Err(format!(
                "access key {} belongs to {}, and only account roots are supported",
                r.access_key_id, r.principal_arn
            ));
        };
        let entry = Entry {
            secret,
            owner: KeyOwner {
                account_id: r.account_id.clone(),
                principal_arn: r.principal_arn.clone(),
                identity: Arc::new(identity),
            },
        };
        self.keys
            .write()
            .insert(r.access_key_id.clone(), Arc::new(entry));
        Ok(())
    }

    /// How many active keys are loaded.
    pub fn len(&self) -> usize {
        self.keys.read().len()
    }

    /// Whether no key is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl CredentialSource for Credentials {
    type Principal = KeyOwner;

    fn lookup(&self, access_key_id: &str) -> Option<Credential<KeyOwner>> {
        let entry = self.keys.read().get(access_key_id).cloned()?;
        Some(Credential {
            secret_access_key: entry.secret.clone(),
            session_token: None,
            principal: entry.owner.clone(),
        })
    }
}
