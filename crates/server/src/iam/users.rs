//! The query-protocol adapter for what only users have: CreateUser, GetUser (which may be
//! about the caller itself), and access keys.

use serde_json::json;
use trent_audit::format_event_time;
use trent_core::iam::{KeyAction, NewUser, UserRecord};
use trent_core::model::{AccessKeyRecord, AccessKeyStatus};

use super::principals::{one, page, path_param, tags_param, truncation_xml, QueryPrincipal};
use super::query::{invalid, Xml};
use super::{Ctx, Reply};
use crate::api::errors::QueryError;
use trent_core::iam::IamError;

/// Longest user name CreateUser accepts.
const USER_NAME_MAX: usize = 64;

/// CreateUser.
pub(super) async fn create(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let name = ctx.params.required_name("UserName", USER_NAME_MAX)?;
    let draft = NewUser {
        path: path_param(ctx.params)?,
        name: name.to_owned(),
        tags: tags_param(ctx.params)?,
    };
    let record = ctx.iam.create(&ctx.caller, draft).await?;
    let mut reply = one(&record);
    reply.response_elements = Some(json!({ "user": {
        "path": record.path, "userName": record.user_name, "userId": record.user_id,
        "arn": record.arn(), "createDate": format_event_time(record.create_date),
    }}));
    Ok(reply)
}

/// GetUser: the named user, else the caller's own (the root as IAM shows it: the account id
/// as its user id, no name).
pub(super) fn get(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let name = ctx.params.name("UserName", UserRecord::NAME_MAX)?;
    match ctx.iam.get_user(&ctx.caller, name)? {
        Some(user) => Ok(one(&user.record)),
        None => {
            let account = ctx.caller.account();
            let mut x = Xml::new();
            x.open("User")
                .leaf("UserId", account.as_str())
                .leaf("Arn", &trent_core::iam::root_arn(account))
                .close("User");
            Ok(Reply {
                result: Some(x.finish()),
                response_elements: None,
            })
        }
    }
}

/// Authorizes an access-key action on `UserName`'s keys, or the caller's.
fn key_target(ctx: &Ctx<'_>, action: KeyAction) -> Result<trent_core::iam::KeyTarget, QueryError> {
    let name = ctx.params.name("UserName", UserRecord::NAME_MAX)?;
    Ok(ctx.iam.authorize_access_keys(&ctx.caller, name, action)?)
}

/// `AccessKeyId`: 16 to 128 characters of `[\w]`.
fn access_key_id_param<'a>(ctx: &'a Ctx<'_>) -> Result<&'a str, IamError> {
    let id = ctx.params.required("AccessKeyId")?;
    if id.len() < 16
        || id.len() > 128
        || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(invalid(
            "AccessKeyId",
            id,
            "Member must satisfy regular expression pattern: [\\w]+",
        ));
    }
    Ok(id)
}

fn key_metadata_xml(x: &mut Xml, user_name: &str, k: &AccessKeyRecord) {
    x.leaf("UserName", user_name)
        .leaf("AccessKeyId", &k.access_key_id)
        .leaf("Status", status_str(k.status))
        .leaf("CreateDate", &format_event_time(k.created));
}

fn status_str(s: AccessKeyStatus) -> &'static str {
    match s {
        AccessKeyStatus::Active => "Active",
        AccessKeyStatus::Inactive => "Inactive",
    }
}

/// CreateAccessKey.
pub(super) async fn create_access_key(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let target = key_target(ctx, KeyAction::Create)?;
    let (record, secret) = ctx.iam.create_access_key(&target).await?;
    let mut x = Xml::new();
    x.open("AccessKey");
    key_metadata_xml(&mut x, target.user_name(), &record);
    x.leaf("SecretAccessKey", secret.as_str())
        .close("AccessKey");
    Ok(Reply {
        result: Some(x.finish()),
        // Never the secret.
        response_elements: Some(json!({ "accessKey": {
            "userName": target.user_name(), "accessKeyId": record.access_key_id,
            "status": "Active", "createDate": format_event_time(record.created),
        }})),
    })
}

/// ListAccessKeys.
pub(super) fn list_access_keys(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let target = key_target(ctx, KeyAction::List)?;
    let (keys, next) = page(ctx.params, ctx.iam.list_access_keys(&target)?)?;
    let mut x = Xml::new();
    x.open("AccessKeyMetadata");
    for k in &keys {
        x.open("member");
        key_metadata_xml(&mut x, target.user_name(), k);
        x.close("member");
    }
    x.close("AccessKeyMetadata");
    truncation_xml(&mut x, next.as_deref());
    Ok(Reply {
        result: Some(x.finish()),
        response_elements: None,
    })
}

/// UpdateAccessKey: the status is checked once the call is authorized.
pub(super) async fn update_access_key(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let target = key_target(ctx, KeyAction::Update)?;
    let status = match ctx.params.required("Status")? {
        "Active" => AccessKeyStatus::Active,
        "Inactive" => AccessKeyStatus::Inactive,
        other => {
            return Err(invalid(
                "Status",
                other,
                "Member must satisfy enum value set: [Active, Inactive]",
            )
            .into())
        }
    };
    let id = access_key_id_param(ctx)?;
    ctx.iam.update_access_key(&target, id, status).await?;
    Ok(Reply::empty())
}

/// DeleteAccessKey.
pub(super) async fn delete_access_key(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let target = key_target(ctx, KeyAction::Delete)?;
    let id = access_key_id_param(ctx)?;
    ctx.iam.delete_access_key(&target, id).await?;
    Ok(Reply::empty())
}
