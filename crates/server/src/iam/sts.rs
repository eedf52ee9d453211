//! STS: GetCallerIdentity and AssumeRole (temporary credentials; see [`crate::session`]).
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)] // guard rails: lifted after the IAM refactor lands

use serde_json::json;
use trent_audit::format_event_time;
use trent_core::model::AccountId;
use trent_policy::{Evaluation, RequestContext};

use super::query::{check_name, IamError, Xml};
use super::{Ctx, Reply};
use crate::credentials::OwnerKind;
use crate::session::{self, Session};

/// Whether `action` is an STS action (for requests whose signature does not say).
pub(super) fn is_sts_action(action: &str) -> bool {
    matches!(action, "GetCallerIdentity" | "AssumeRole")
}

/// Runs an STS action; `None` if `action` is not one.
pub(super) async fn dispatch(ctx: &Ctx<'_>, action: &str) -> Result<Option<Reply>, IamError> {
    Ok(Some(match action {
        "GetCallerIdentity" => get_caller_identity(ctx),
        "AssumeRole" => assume_role(ctx)?,
        _ => return Ok(None),
    }))
}

/// Needs no permission, as in AWS.
fn get_caller_identity(ctx: &Ctx<'_>) -> Reply {
    let mut x = Xml::new();
    x.leaf("UserId", &ctx.caller.user_id)
        .leaf("Account", ctx.account().as_str())
        .leaf("Arn", &ctx.caller.principal_arn);
    Reply {
        result: Some(x.finish()),
        response_elements: None,
    }
}

/// The default and bounds of DurationSeconds.
const DEFAULT_DURATION: i64 = 3600;
const SHORTEST_DURATION: i64 = 900;
const LONGEST_DURATION: i64 = 43_200;

/// `arn:aws:iam::ACCOUNT:role/[PATH/]NAME` → (account, name).
fn parse_role_arn(arn: &str) -> Option<(AccountId, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    (!name.is_empty()).then_some(())?;
    Some((AccountId::parse(account).ok()?, name))
}

fn assume_role(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let role_arn = ctx.params.required("RoleArn")?;
    let session_name = ctx.params.required("RoleSessionName")?;
    check_name("RoleSessionName", session_name, 2, 64)?;
    let duration = ctx
        .params
        .int("DurationSeconds", SHORTEST_DURATION, LONGEST_DURATION)?
        .unwrap_or(DEFAULT_DURATION);
    if role_arn.len() < 20 || role_arn.len() > 2048 {
        return Err(super::query::invalid(
            "RoleArn",
            role_arn,
            "Member must have length between 20 and 2048",
        ));
    }
    let denied = || {
        IamError::AccessDenied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            ctx.caller.principal_arn
        ))
    };
    // As in AWS, before the role or its trust policy is looked at.
    if ctx.caller.kind == OwnerKind::Root {
        return Err(IamError::AccessDenied(
            "Roles may not be assumed by root accounts.".into(),
        ));
    }
    let (account, name) = parse_role_arn(role_arn)
        .ok_or_else(|| IamError::Validation(format!("{role_arn} is invalid")))?;
    let role = ctx
        .app
        .credentials
        .role(&account, name)
        .filter(|r| r.record.arn() == role_arn)
        .ok_or_else(denied)?;

    let mut keys = ctx.condition_keys();
    keys.insert("sts:RoleSessionName", session_name);
    let request = RequestContext {
        principal: &ctx.caller.identity.principal,
        action: "sts:AssumeRole",
        resource: role_arn,
        keys: &keys,
    };
    // The caller's identity policies.
    let mut identity_allows = false;
    for p in &ctx.caller.identity.policies {
        match p.evaluate(&request) {
            Evaluation::ExplicitDeny => return Err(denied()),
            Evaluation::Allow { .. } => identity_allows = true,
            Evaluation::NotApplicable => {}
        }
    }
    // The trust policy decides; when it names the caller itself (not just its account) in the
    // role's own account, no identity policy is needed, as in AWS.
    let same_account = *ctx.account() == role.record.account_id;
    let allowed = match role.trust.evaluate(&request) {
        Evaluation::ExplicitDeny | Evaluation::NotApplicable => false,
        Evaluation::Allow { via_account } => identity_allows || (same_account && !via_account),
    };
    if !allowed {
        return Err(denied());
    }
    if duration > i64::from(role.record.max_session_duration) {
        return Err(IamError::Validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .into(),
        ));
    }

    let access_key_id = trent_core::iam::new_unique_id(trent_core::iam::SESSION_KEY_ID_PREFIX, 20)
        .map_err(|e| IamError::Internal(e.to_string()))?;
    let secret = crate::datadir::new_access_key()
        .map_err(IamError::Internal)?
        .secret_access_key;
    let now = ctx.app.kms.now();
    let expiration = now.replace_nanosecond(0).unwrap_or(now) + time::Duration::seconds(duration);
    let sealed = Session {
        secret,
        account_id: role.record.account_id.clone(),
        role_name: role.record.role_name.clone(),
        role_id: role.record.role_id.clone(),
        session_name: session_name.to_owned(),
        expiration,
    };
    let token = session::seal(ctx.app.credentials.root_key(), &access_key_id, &sealed)
        .map_err(IamError::Internal)?;
    let session_arn = session::assumed_role_arn(
        &role.record.account_id,
        &role.record.role_name,
        session_name,
    );
    let assumed_role_id = format!("{}:{session_name}", role.record.role_id);
    let expiration_text = format_event_time(expiration);
    let mut x = Xml::new();
    x.open("Credentials")
        .leaf("AccessKeyId", &access_key_id)
        .leaf("SecretAccessKey", sealed.secret.as_str())
        .leaf("SessionToken", &token)
        .leaf("Expiration", &expiration_text)
        .close("Credentials")
        .open("AssumedRoleUser")
        .leaf("AssumedRoleId", &assumed_role_id)
        .leaf("Arn", &session_arn)
        .close("AssumedRoleUser")
        .leaf("PackedPolicySize", "0");
    Ok(Reply {
        result: Some(x.finish()),
        // Neither the secret nor the session token.
        response_elements: Some(json!({
            "credentials": { "accessKeyId": access_key_id, "expiration": expiration_text },
            "assumedRoleUser": { "assumedRoleId": assumed_role_id, "arn": session_arn },
        })),
    })
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
