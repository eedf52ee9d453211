//! The query-protocol adapter for what only roles have: CreateRole (with its trust policy),
//! UpdateRole and UpdateAssumeRolePolicy.

use serde_json::json;
use trent_audit::format_event_time;
use trent_core::iam::{NewRole, RoleRecord};

use super::principals::{one, path_param, tags_param, QueryPrincipal};
use super::query::{invalid, Params};
use super::{Ctx, Reply};
use crate::api::errors::QueryError;
use trent_core::iam::IamError;

/// The default and bounds of MaxSessionDuration, in seconds.
const DEFAULT_MAX_SESSION: i64 = 3600;
const LONGEST_MAX_SESSION: i64 = 43_200;

/// A role's description: at most 1000 characters.
fn description_param(params: &Params) -> Result<Option<&str>, IamError> {
    match params.get("Description") {
        Some(d) if d.chars().count() > 1000 => Err(invalid(
            "Description",
            d,
            "Member must have length less than or equal to 1000",
        )),
        d => Ok(d),
    }
}

/// `MaxSessionDuration`, if given: 3600 to 43200 seconds.
fn max_session_param(params: &Params) -> Result<Option<u32>, IamError> {
    Ok(params
        .int(
            "MaxSessionDuration",
            DEFAULT_MAX_SESSION,
            LONGEST_MAX_SESSION,
        )?
        .map(|s| u32::try_from(s).unwrap_or(3600)))
}

/// CreateRole.
pub(super) async fn create(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let name = ctx.params.required_name("RoleName", RoleRecord::NAME_MAX)?;
    let path = path_param(ctx.params)?;
    let tags = tags_param(ctx.params)?;
    let document = ctx.params.required("AssumeRolePolicyDocument")?;
    let description = description_param(ctx.params)?;
    let max_session = max_session_param(ctx.params)?.unwrap_or(3600);
    let draft = NewRole {
        path,
        name: name.to_owned(),
        tags,
        trust_policy: document.to_owned(),
        description: description.map(str::to_owned),
        max_session_duration: max_session,
    };
    let record = ctx.iam.create(&ctx.caller, draft).await?;
    let mut reply = one(&record);
    reply.response_elements = Some(json!({ "role": {
        "path": record.path, "roleName": record.role_name, "roleId": record.role_id,
        "arn": record.arn(), "createDate": format_event_time(record.create_date),
        "assumeRolePolicyDocument": record.assume_role_policy_document,
    }}));
    Ok(reply)
}

/// UpdateRole: a new description and/or maximum session duration. Its output is an empty
/// structure: SDKs expect an empty `<UpdateRoleResult>`.
pub(super) async fn update(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let description = description_param(ctx.params)?;
    let max_session = max_session_param(ctx.params)?;
    let name = ctx.params.required_name("RoleName", RoleRecord::NAME_MAX)?;
    ctx.iam
        .update_role(
            &ctx.caller,
            name,
            description.map(str::to_owned),
            max_session,
        )
        .await?;
    Ok(Reply {
        result: Some(String::new()),
        response_elements: None,
    })
}

/// UpdateAssumeRolePolicy.
pub(super) async fn update_assume_role_policy(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let document = ctx.params.required("PolicyDocument")?;
    trent_core::iam::policy::check_trust_policy(document)?;
    let name = ctx.params.required_name("RoleName", RoleRecord::NAME_MAX)?;
    ctx.iam
        .update_assume_role_policy(&ctx.caller, name, document.to_owned())
        .await?;
    Ok(Reply::empty())
}
