//! The query-protocol adapter for STS: GetCallerIdentity and AssumeRole (the rules and the
//! session token are the IAM domain's, [`trent_core::iam::sts`]).

use serde_json::json;
use trent_audit::format_event_time;

use super::query::{check_name, invalid, Xml};
use super::{Ctx, Reply};
use crate::api::errors::QueryError;

/// Whether `action` is an STS action (for requests whose signature does not say).
pub(super) fn is_sts_action(action: &str) -> bool {
    matches!(action, "GetCallerIdentity" | "AssumeRole")
}

/// GetCallerIdentity: needs no permission, as in AWS.
pub(super) fn get_caller_identity(ctx: &Ctx<'_>) -> Reply {
    let owner = ctx.caller.owner;
    let mut x = Xml::new();
    x.leaf("UserId", &owner.user_id)
        .leaf("Account", owner.account_id.as_str())
        .leaf("Arn", &owner.principal_arn);
    Reply {
        result: Some(x.finish()),
        response_elements: None,
    }
}

/// The default and bounds of DurationSeconds.
const DEFAULT_DURATION: i64 = 3600;
const SHORTEST_DURATION: i64 = 900;
const LONGEST_DURATION: i64 = 43_200;

/// AssumeRole.
pub(super) fn assume_role(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let role_arn = ctx.params.required("RoleArn")?;
    let session_name = ctx.params.required("RoleSessionName")?;
    check_name("RoleSessionName", session_name, 2, 64)?;
    let duration = ctx
        .params
        .int("DurationSeconds", SHORTEST_DURATION, LONGEST_DURATION)?
        .unwrap_or(DEFAULT_DURATION);
    if role_arn.len() < 20 || role_arn.len() > 2048 {
        return Err(invalid(
            "RoleArn",
            role_arn,
            "Member must have length between 20 and 2048",
        )
        .into());
    }
    let issued = ctx
        .iam
        .assume_role(&ctx.caller, role_arn, session_name, duration)?;
    let expiration = format_event_time(issued.expiration);
    let mut x = Xml::new();
    x.open("Credentials")
        .leaf("AccessKeyId", &issued.access_key_id)
        .leaf("SecretAccessKey", issued.secret_access_key.as_str())
        .leaf("SessionToken", &issued.session_token)
        .leaf("Expiration", &expiration)
        .close("Credentials")
        .open("AssumedRoleUser")
        .leaf("AssumedRoleId", &issued.assumed_role_id)
        .leaf("Arn", &issued.arn)
        .close("AssumedRoleUser")
        .leaf("PackedPolicySize", "0");
    Ok(Reply {
        result: Some(x.finish()),
        // Neither the secret nor the session token.
        response_elements: Some(json!({
            "credentials": { "accessKeyId": issued.access_key_id, "expiration": expiration },
            "assumedRoleUser": { "assumedRoleId": issued.assumed_role_id, "arn": issued.arn },
        })),
    })
}
