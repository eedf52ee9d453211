//! Who may sign requests: SigV4's credential source over the IAM domain's in-memory directory
//! ([`trent_core::iam::Iam`]), so authentication never reads the database. Long-term keys
//! and session keys (with their token) are both looked up there.

use trent_core::iam::{Iam, KeyOwner, OwnerKind};
use trent_sigv4::{Credential, CredentialSource};

/// The credentials a request may be signed with: long-term keys, and a session key when the
/// request carries its token.
pub struct RequestCredentials<'a> {
    iam: &'a Iam,
    session_token: Option<&'a str>,
}

impl<'a> RequestCredentials<'a> {
    /// A credential source for one request, which may carry a session token.
    pub fn new(iam: &'a Iam, session_token: Option<&'a str>) -> RequestCredentials<'a> {
        RequestCredentials { iam, session_token }
    }
}

impl CredentialSource for RequestCredentials<'_> {
    type Principal = KeyOwner;

    fn lookup(&self, access_key_id: &str) -> Option<Credential<KeyOwner>> {
        let (secret, owner) = self.iam.lookup(access_key_id, self.session_token)?;
        Some(Credential {
            secret_access_key: secret,
            session_token: self
                .session_token
                .filter(|_| owner.kind == OwnerKind::AssumedRole)
                .map(str::to_owned),
            principal: owner,
        })
    }
}
