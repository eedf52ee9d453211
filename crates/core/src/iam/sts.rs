//! STS's AssumeRole: who may assume a role (the caller's identity policies and the role's
//! trust policy) and the temporary credentials it issues (sealed in the session token, see
//! [`super::session`]).

use time::OffsetDateTime;
use trent_policy::{ContextKeys, Decision, Evaluation, RequestContext};
use zeroize::Zeroizing;

use super::access::IamCaller;
use super::directory::{Iam, OwnerKind};
use super::error::IamError;
use super::session::{self, Session};
use super::{new_secret_access_key, new_unique_id, RoleRecord, SESSION_KEY_ID_PREFIX};
use crate::authorize::identity_decision;
use crate::model::AccountId;

/// Temporary credentials AssumeRole issued.
pub struct IssuedSession {
    /// `ASIA…`.
    pub access_key_id: String,
    /// The secret access key (sent once; only inside the token afterwards).
    pub secret_access_key: Zeroizing<String>,
    /// The session token, which is the session.
    pub session_token: String,
    /// When the credentials stop working (whole seconds).
    pub expiration: OffsetDateTime,
    /// `AROA…:SESSION`.
    pub assumed_role_id: String,
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub arn: String,
}

/// `arn:aws:iam::ACCOUNT:role/[PATH/]NAME` → (account, name).
fn parse_role_arn(arn: &str) -> Option<(AccountId, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    (!name.is_empty()).then_some(())?;
    Some((AccountId::parse(account).ok()?, name))
}

impl Iam {
    /// AssumeRole: the caller may assume `role_arn` when the role's trust policy allows it and
    /// either its identity policies allow `sts:AssumeRole` on the role too, or the trust policy
    /// names the caller itself in the role's own account (as in AWS); an explicit deny in an
    /// identity policy refuses it. A root may assume no role. `duration_seconds` must not
    /// exceed the role's `MaxSessionDuration`.
    pub fn assume_role(
        &self,
        caller: &IamCaller<'_>,
        role_arn: &str,
        session_name: &str,
        duration_seconds: i64,
    ) -> Result<IssuedSession, IamError> {
        let denied = || {
            IamError::AccessDenied(format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.owner.principal_arn
            ))
        };
        // As in AWS, before the role or its trust policy is looked at.
        if caller.owner.kind == OwnerKind::Root {
            return Err(IamError::AccessDenied(
                "Roles may not be assumed by root accounts.".into(),
            ));
        }
        let (account, name) = parse_role_arn(role_arn)
            .ok_or_else(|| IamError::Validation(format!("{role_arn} is invalid")))?;
        let role = self
            .principal::<RoleRecord>(&account, name)
            .filter(|r| r.record.arn() == role_arn)
            .ok_or_else(denied)?;

        let mut keys = ContextKeys::layered([caller.keys.clone()]);
        keys.insert("sts:RoleSessionName", session_name);
        // The caller's identity policies.
        let identity_allows =
            match identity_decision(&caller.owner.identity, "sts:AssumeRole", role_arn, &keys) {
                Decision::ExplicitDeny(_) => return Err(denied()),
                decision => decision.is_allowed(),
            };
        // The trust policy decides; when it names the caller itself (not just its account) in
        // the role's own account, no identity policy is needed, as in AWS.
        let request = RequestContext {
            principal: &caller.owner.identity.principal,
            action: "sts:AssumeRole",
            resource: role_arn,
            keys: &keys,
        };
        let same_account = *caller.account() == role.record.account_id;
        let allowed = match role.derived.evaluate(&request) {
            Evaluation::ExplicitDeny | Evaluation::NotApplicable => false,
            Evaluation::Allow { via_account } => identity_allows || (same_account && !via_account),
        };
        if !allowed {
            return Err(denied());
        }
        if duration_seconds > i64::from(role.record.max_session_duration) {
            return Err(IamError::Validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                    .into(),
            ));
        }

        let access_key_id = new_unique_id(SESSION_KEY_ID_PREFIX, 20)?;
        let now = self.now();
        let expiration =
            now.replace_nanosecond(0).unwrap_or(now) + time::Duration::seconds(duration_seconds);
        let sealed = Session {
            secret: new_secret_access_key()?,
            account_id: role.record.account_id.clone(),
            role_name: role.record.role_name.clone(),
            role_id: role.record.role_id.clone(),
            session_name: session_name.to_owned(),
            expiration,
        };
        let session_token = session::seal(&self.root_key, &access_key_id, &sealed)?;
        Ok(IssuedSession {
            access_key_id,
            secret_access_key: sealed.secret,
            session_token,
            expiration,
            assumed_role_id: format!("{}:{session_name}", role.record.role_id),
            arn: session::assumed_role_arn(
                &role.record.account_id,
                &role.record.role_name,
                session_name,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_are_read_with_or_without_a_path() {
        let (a, n) = parse_role_arn("arn:aws:iam::111122223333:role/ops/Admin").unwrap();
        assert_eq!((a.as_str(), n), ("111122223333", "Admin"));
        assert!(parse_role_arn("arn:aws:iam::111122223333:user/Admin").is_none());
        assert!(parse_role_arn("arn:aws:iam::1111:role/Admin").is_none());
        assert!(parse_role_arn("arn:aws:iam::111122223333:role/").is_none());
    }
}
