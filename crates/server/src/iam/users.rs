//! IAM users, their access keys, inline policies and tags.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)] // guard rails: lifted after the IAM refactor lands

use std::collections::BTreeMap;

use serde_json::json;
use trent_audit::format_event_time;
use trent_core::iam::{principal_arn, root_arn, InlinePolicyRecord, PrincipalKind, UserRecord};
use trent_core::model::{AccessKeyRecord, AccessKeyStatus, Tag};
use trent_core::store::StoreError;
use trent_crypto::root::access_key_secret_wrapping_aad;

use super::query::{encode_policy, invalid, missing, IamError, Params, Xml};
use super::{Ctx, Reply};
use crate::credentials::{parse_identity_policy, OwnerKind, UserEntry};

/// Longest user name.
const USER_NAME_MAX: usize = 64;
/// Longest policy name.
pub(super) const POLICY_NAME_MAX: usize = 128;
/// Users per account (IAM's default quota).
const USERS_PER_ACCOUNT: usize = 5000;
/// Access keys per user (IAM's quota).
const ACCESS_KEYS_PER_USER: usize = 2;
/// Aggregate size of a user's inline policies, whitespace not counted.
const USER_POLICY_SIZE: usize = 2048;
/// Tags per user or role.
const TAGS_MAX: usize = 50;

/// Runs a user, access-key or user-policy action; `None` if `action` is not one.
pub(super) async fn dispatch(ctx: &Ctx<'_>, action: &str) -> Result<Option<Reply>, IamError> {
    Ok(Some(match action {
        "CreateUser" => create_user(ctx).await?,
        "GetUser" => get_user(ctx)?,
        "ListUsers" => list_users(ctx)?,
        "DeleteUser" => delete_user(ctx).await?,
        "CreateAccessKey" => create_access_key(ctx).await?,
        "ListAccessKeys" => list_access_keys(ctx)?,
        "UpdateAccessKey" => update_access_key(ctx).await?,
        "DeleteAccessKey" => delete_access_key(ctx).await?,
        "PutUserPolicy" => put_user_policy(ctx).await?,
        "GetUserPolicy" => get_user_policy(ctx)?,
        "ListUserPolicies" => list_user_policies(ctx)?,
        "DeleteUserPolicy" => delete_user_policy(ctx).await?,
        "TagUser" => tag_user(ctx).await?,
        "UntagUser" => untag_user(ctx).await?,
        "ListUserTags" => list_user_tags(ctx)?,
        _ => return Ok(None),
    }))
}

// ---------------------------------------------------------------- shared helpers

/// Checks a `Path` parameter: `/` or `/…/` of printable ASCII, at most 512 characters.
pub(super) fn path_param(params: &Params) -> Result<String, IamError> {
    let Some(path) = params.get("Path") else {
        return Ok("/".into());
    };
    let ok = path.len() <= 512
        && path.starts_with('/')
        && path.ends_with('/')
        && path.bytes().all(|b| (0x21..=0x7E).contains(&b));
    if ok {
        Ok(path.to_owned())
    } else {
        Err(invalid(
            "Path",
            path,
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ))
    }
}

/// Reads and checks `Tags.member.N.Key/Value`.
pub(super) fn tags_param(params: &Params) -> Result<Vec<Tag>, IamError> {
    let raw = params.structs("Tags");
    if raw.len() > TAGS_MAX {
        return Err(IamError::Validation(format!(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member \
             must have length less than or equal to {TAGS_MAX}"
        )));
    }
    let mut tags: Vec<Tag> = Vec::new();
    for t in raw {
        let key = t.get("Key").ok_or_else(|| missing("Tags.member.Key"))?;
        let value = t.get("Value").ok_or_else(|| missing("Tags.member.Value"))?;
        if key.is_empty() || key.chars().count() > 128 {
            return Err(invalid(
                "Tags.member.Key",
                key,
                "Member must have length between 1 and 128",
            ));
        }
        if value.chars().count() > 256 {
            return Err(invalid(
                "Tags.member.Value",
                value,
                "Member must have length less than or equal to 256",
            ));
        }
        if tags.iter().any(|x| x.key.eq_ignore_ascii_case(key)) {
            return Err(IamError::Validation(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.".into(),
            ));
        }
        tags.push(Tag {
            key: key.clone(),
            value: value.clone(),
        });
    }
    Ok(tags)
}

/// Adds `new` to `tags` (replacing same keys, case-insensitively); `LimitExceeded` past 50.
/// What TagUser/TagRole (`adding`) or UntagUser/UntagRole do to a principal's tags, as the
/// request says: merge the `Tags` given, or drop the `TagKeys` given (case-insensitively).
pub(super) fn tag_change(params: &Params, adding: bool) -> Result<TagChange, IamError> {
    if adding {
        let tags = tags_param(params)?;
        if tags.is_empty() {
            return Err(missing("Tags"));
        }
        Ok(Box::new(move |t: &mut Vec<Tag>| merge_tags(t, tags)))
    } else {
        let keys = params.list("TagKeys");
        if keys.is_empty() {
            return Err(missing("TagKeys"));
        }
        Ok(Box::new(move |t: &mut Vec<Tag>| {
            t.retain(|x| !keys.iter().any(|k| k.eq_ignore_ascii_case(&x.key)));
            Ok(())
        }))
    }
}

/// A change to a principal's tags (see [`tag_change`]).
pub(super) type TagChange = Box<dyn FnOnce(&mut Vec<Tag>) -> Result<(), IamError> + Send>;

pub(super) fn merge_tags(tags: &mut Vec<Tag>, new: Vec<Tag>) -> Result<(), IamError> {
    for t in new {
        tags.retain(|x| !x.key.eq_ignore_ascii_case(&t.key));
        tags.push(t);
    }
    if tags.len() > TAGS_MAX {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for TagsPerResource: {TAGS_MAX}"
        )));
    }
    Ok(())
}

/// `<Tags><member><Key/><Value/></member>…</Tags>`.
pub(super) fn tags_xml(x: &mut Xml, tags: &[Tag]) {
    x.open("Tags");
    for t in tags {
        x.open("member")
            .leaf("Key", &t.key)
            .leaf("Value", &t.value)
            .close("member");
    }
    x.close("Tags");
}

/// One page of `items` by `Marker` (an offset Trent handed out) and `MaxItems` (default 100),
/// with `IsTruncated` and the next `Marker`.
pub(super) fn page<T>(
    params: &Params,
    items: Vec<T>,
) -> Result<(Vec<T>, Option<String>), IamError> {
    let max = params.int("MaxItems", 1, 1000)?.unwrap_or(100) as usize;
    let start = match params.get("Marker") {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= items.len())
            .ok_or_else(|| {
                invalid(
                    "Marker",
                    m,
                    "Member must be a marker from a previous answer",
                )
            })?,
    };
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((
        items.into_iter().skip(start).take(end - start).collect(),
        next,
    ))
}

/// `<IsTruncated>` and `<Marker>` after a list.
pub(super) fn truncation_xml(x: &mut Xml, next: Option<&str>) {
    x.leaf("IsTruncated", if next.is_some() { "true" } else { "false" });
    x.opt_leaf("Marker", next);
}

/// The size IAM counts for policy quotas: characters that are not whitespace.
pub(super) fn policy_size<'a>(docs: impl Iterator<Item = &'a String>) -> usize {
    docs.map(|d| d.chars().filter(|c| !c.is_whitespace()).count())
        .sum()
}

fn no_such_user(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The user with name {name} cannot be found."))
}

/// A user as `<tag>…</tag>` (`User`, or `member` in lists).
fn user_xml(x: &mut Xml, tag: &str, u: &UserRecord, with_tags: bool) {
    x.open(tag)
        .leaf("Path", &u.path)
        .leaf("UserName", &u.user_name)
        .leaf("UserId", &u.user_id)
        .leaf("Arn", &u.arn())
        .leaf("CreateDate", &format_event_time(u.create_date));
    if with_tags && !u.tags.is_empty() {
        tags_xml(x, &u.tags);
    }
    x.close(tag);
}

fn user_json(u: &UserRecord) -> serde_json::Value {
    json!({
        "path": u.path, "userName": u.user_name, "userId": u.user_id, "arn": u.arn(),
        "createDate": format_event_time(u.create_date),
    })
}

/// The user a request names, which must exist.
fn named_user(ctx: &Ctx<'_>, name: &str) -> Result<UserEntry, IamError> {
    ctx.app
        .credentials
        .user(ctx.account(), name)
        .ok_or_else(|| no_such_user(name))
}

/// The ARN IAM authorizes an action on a (possibly missing) user with.
fn user_resource(ctx: &Ctx<'_>, name: &str) -> String {
    match ctx.app.credentials.user(ctx.account(), name) {
        Some(u) => u.record.arn(),
        None => principal_arn(ctx.account(), PrincipalKind::User, "/", name),
    }
}

// ---------------------------------------------------------------- users

async fn create_user(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("UserName", USER_NAME_MAX)?;
    let path = path_param(ctx.params)?;
    let tags = tags_param(ctx.params)?;
    let arn = principal_arn(ctx.account(), PrincipalKind::User, &path, name);
    ctx.authorize("iam:CreateUser", &arn)?;
    if !tags.is_empty() {
        ctx.authorize("iam:TagUser", &arn)?;
    }
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    let exists = || IamError::EntityAlreadyExists(format!("User with name {name} already exists."));
    if creds.user(ctx.account(), name).is_some() {
        return Err(exists());
    }
    if creds.user_count(ctx.account()) >= USERS_PER_ACCOUNT {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for UsersPerAccount: {USERS_PER_ACCOUNT}"
        )));
    }
    let record = UserRecord {
        account_id: ctx.account().clone(),
        path,
        user_name: name.to_owned(),
        user_id: trent_core::iam::new_unique_id(trent_core::iam::USER_ID_PREFIX, 21)
            .map_err(|e| IamError::Internal(e.to_string()))?,
        create_date: ctx.app.kms.now(),
        tags,
    };
    match ctx.app.kms.store().create_user(record.clone()).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => return Err(exists()),
        Err(e) => return Err(e.into()),
    }
    creds.put_user(UserEntry::new(record.clone(), BTreeMap::new()).map_err(IamError::Internal)?);
    let mut x = Xml::new();
    user_xml(&mut x, "User", &record, true);
    Ok(Reply {
        result: Some(x.finish()),
        response_elements: Some(json!({ "user": user_json(&record) })),
    })
}

fn get_user(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let mut x = Xml::new();
    let name = match ctx.params.name("UserName", 128)? {
        Some(n) => n.to_owned(),
        None => match (ctx.caller.kind, &ctx.caller.user_name) {
            (OwnerKind::IamUser, Some(n)) => n.clone(),
            (OwnerKind::Root, _) => {
                // The root as IAM shows it: the account id as its user id, no name.
                let account = ctx.account();
                x.open("User")
                    .leaf("UserId", account.as_str())
                    .leaf("Arn", &root_arn(account))
                    .close("User");
                return Ok(Reply {
                    result: Some(x.finish()),
                    response_elements: None,
                });
            }
            _ => {
                return Err(IamError::Validation(
                    "Must specify userName when calling with non-User credentials".into(),
                ))
            }
        },
    };
    ctx.authorize("iam:GetUser", &user_resource(ctx, &name))?;
    let user = named_user(ctx, &name)?;
    user_xml(&mut x, "User", &user.record, true);
    Ok(Reply {
        result: Some(x.finish()),
        response_elements: None,
    })
}

fn list_users(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    ctx.authorize(
        "iam:ListUsers",
        &format!("arn:aws:iam::{}:user/", ctx.account()),
    )?;
    let prefix = ctx.params.get("PathPrefix").unwrap_or("/");
    let users: Vec<UserRecord> = ctx
        .app
        .credentials
        .users(ctx.account())
        .into_iter()
        .filter(|u| u.path.starts_with(prefix))
        .collect();
    let (users, next) = page(ctx.params, users)?;
    let mut x = Xml::new();
    x.open("Users");
    for u in &users {
        user_xml(&mut x, "member", u, false);
    }
    x.close("Users");
    truncation_xml(&mut x, next.as_deref());
    Ok(Reply {
        result: Some(x.finish()),
        response_elements: None,
    })
}

async fn delete_user(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("UserName", 128)?;
    ctx.authorize("iam:DeleteUser", &user_resource(ctx, name))?;
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    let user = named_user(ctx, name)?;
    match ctx
        .app
        .kms
        .store()
        .delete_user(ctx.account(), &user.record.user_name)
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(no_such_user(name)),
        Err(StoreError::Conflict(what)) => {
            return Err(IamError::DeleteConflict(format!(
                "Cannot delete entity, must delete {what} first."
            )))
        }
        Err(e) => return Err(e.into()),
    }
    creds.remove_user(ctx.account(), name);
    Ok(Reply::empty())
}

// ---------------------------------------------------------------- access keys

/// Whose access keys an action is about: the named user, else the caller (a user or the root).
struct KeyTarget {
    principal_arn: String,
    /// `UserName` in answers: the user's, or the account id for the root.
    user_name: String,
}

fn key_target(ctx: &Ctx<'_>) -> Result<KeyTarget, IamError> {
    match ctx.params.name("UserName", 128)? {
        Some(name) => {
            let user = named_user(ctx, name);
            match user {
                Ok(u) => Ok(KeyTarget {
                    principal_arn: u.record.arn(),
                    user_name: u.record.user_name,
                }),
                Err(e) => Err(e),
            }
        }
        None => match (ctx.caller.kind, &ctx.caller.user_name) {
            (OwnerKind::Root, _) => Ok(KeyTarget {
                principal_arn: root_arn(ctx.account()),
                user_name: ctx.account().to_string(),
            }),
            (OwnerKind::IamUser, Some(n)) => Ok(KeyTarget {
                principal_arn: ctx.caller.principal_arn.clone(),
                user_name: n.clone(),
            }),
            _ => Err(IamError::Validation(
                "Must specify userName when calling with non-User credentials".into(),
            )),
        },
    }
}

/// Authorizes `action` on the target user, reporting a missing user after the access check.
fn authorize_key_action(ctx: &Ctx<'_>, action: &str) -> Result<KeyTarget, IamError> {
    if let Some(name) = ctx.params.name("UserName", 128)? {
        ctx.authorize(action, &user_resource(ctx, name))?;
    }
    let target = key_target(ctx)?;
    ctx.authorize(action, &target.principal_arn)?;
    Ok(target)
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

async fn create_access_key(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let target = authorize_key_action(ctx, "iam:CreateAccessKey")?;
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    if creds.keys_of(&target.principal_arn).len() >= ACCESS_KEYS_PER_USER {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}"
        )));
    }
    let key = crate::datadir::new_access_key().map_err(IamError::Internal)?;
    let wrapped = ctx
        .app
        .kms
        .root_key()
        .wrap(
            &access_key_secret_wrapping_aad(&key.access_key_id),
            key.secret_access_key.as_bytes(),
        )
        .map_err(|e| IamError::Internal(e.to_string()))?;
    let record = AccessKeyRecord {
        access_key_id: key.access_key_id.clone(),
        account_id: ctx.account().clone(),
        principal_arn: target.principal_arn.clone(),
        wrapped_secret: wrapped,
        status: AccessKeyStatus::Active,
        created: ctx.app.kms.now(),
    };
    ctx.app.kms.store().put_access_key(record.clone()).await?;
    creds.insert(&record).map_err(IamError::Internal)?;
    let mut x = Xml::new();
    x.open("AccessKey");
    key_metadata_xml(&mut x, &target.user_name, &record);
    x.leaf("SecretAccessKey", key.secret_access_key.as_str())
        .close("AccessKey");
    Ok(Reply {
        result: Some(x.finish()),
        // Never the secret.
        response_elements: Some(json!({ "accessKey": {
            "userName": target.user_name, "accessKeyId": record.access_key_id,
            "status": "Active", "createDate": format_event_time(record.created),
        }})),
    })
}

fn list_access_keys(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let target = authorize_key_action(ctx, "iam:ListAccessKeys")?;
    let (keys, next) = page(
        ctx.params,
        ctx.app.credentials.keys_of(&target.principal_arn),
    )?;
    let mut x = Xml::new();
    x.open("AccessKeyMetadata");
    for k in &keys {
        x.open("member");
        key_metadata_xml(&mut x, &target.user_name, k);
        x.close("member");
    }
    x.close("AccessKeyMetadata");
    truncation_xml(&mut x, next.as_deref());
    Ok(Reply {
        result: Some(x.finish()),
        response_elements: None,
    })
}

/// The key `AccessKeyId` names, which must belong to the target.
fn target_key(ctx: &Ctx<'_>, target: &KeyTarget) -> Result<AccessKeyRecord, IamError> {
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
    ctx.app
        .credentials
        .key_record(id)
        .filter(|k| k.principal_arn == target.principal_arn)
        .ok_or_else(|| {
            IamError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
        })
}

async fn update_access_key(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let target = authorize_key_action(ctx, "iam:UpdateAccessKey")?;
    let status = match ctx.params.required("Status")? {
        "Active" => AccessKeyStatus::Active,
        "Inactive" => AccessKeyStatus::Inactive,
        other => {
            return Err(invalid(
                "Status",
                other,
                "Member must satisfy enum value set: [Active, Inactive]",
            ))
        }
    };
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    let mut record = target_key(ctx, &target)?;
    record.status = status;
    ctx.app.kms.store().put_access_key(record.clone()).await?;
    creds.insert(&record).map_err(IamError::Internal)?;
    Ok(Reply::empty())
}

async fn delete_access_key(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let target = authorize_key_action(ctx, "iam:DeleteAccessKey")?;
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    let record = target_key(ctx, &target)?;
    match ctx
        .app
        .kms
        .store()
        .delete_access_key(&record.access_key_id)
        .await
    {
        Ok(()) | Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    creds.remove_key(&record.access_key_id);
    Ok(Reply::empty())
}

// ---------------------------------------------------------------- user policies

fn no_such_policy(kind: PrincipalKind, name: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "The {} policy with name {name} cannot be found.",
        kind.as_str()
    ))
}

/// Checks a policy name and parses an identity policy document.
pub(super) fn policy_params(params: &Params) -> Result<(&str, &str), IamError> {
    let policy_name = params.required_name("PolicyName", POLICY_NAME_MAX)?;
    let document = params.required("PolicyDocument")?;
    if document.is_empty() || document.len() > crate::credentials::POLICY_DOCUMENT_MAX_BYTES {
        return Err(invalid(
            "PolicyDocument",
            "…",
            "Member must have length between 1 and 131072",
        ));
    }
    parse_identity_policy(document).map_err(IamError::MalformedPolicyDocument)?;
    Ok((policy_name, document))
}

async fn put_user_policy(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("UserName", 128)?;
    ctx.authorize("iam:PutUserPolicy", &user_resource(ctx, name))?;
    let (policy_name, document) = policy_params(ctx.params)?;
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    let user = named_user(ctx, name)?;
    let mut policies = user.policies.clone();
    policies.insert(policy_name.to_owned(), document.to_owned());
    if policy_size(policies.values()) > USER_POLICY_SIZE {
        return Err(IamError::LimitExceeded(format!(
            "Maximum policy size of {USER_POLICY_SIZE} bytes exceeded for user {}",
            user.record.user_name
        )));
    }
    let entry = UserEntry::new(user.record.clone(), policies).map_err(IamError::Internal)?;
    match ctx
        .app
        .kms
        .store()
        .put_inline_policy(InlinePolicyRecord {
            account_id: ctx.account().clone(),
            principal_kind: PrincipalKind::User,
            principal_name: user.record.user_name.clone(),
            policy_name: policy_name.to_owned(),
            policy_document: document.to_owned(),
        })
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(no_such_user(name)),
        Err(e) => return Err(e.into()),
    }
    creds.put_user(entry);
    Ok(Reply::empty())
}

fn get_user_policy(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("UserName", 128)?;
    let policy_name = ctx.params.required_name("PolicyName", POLICY_NAME_MAX)?;
    ctx.authorize("iam:GetUserPolicy", &user_resource(ctx, name))?;
    let user = named_user(ctx, name)?;
    let doc = user
        .policies
        .get(policy_name)
        .ok_or_else(|| no_such_policy(PrincipalKind::User, policy_name))?;
    let mut x = Xml::new();
    x.leaf("UserName", &user.record.user_name)
        .leaf("PolicyName", policy_name)
        .leaf("PolicyDocument", &encode_policy(doc));
    Ok(Reply {
        result: Some(x.finish()),
        response_elements: None,
    })
}

/// `<PolicyNames><member>…</member></PolicyNames>` and truncation, paged.
pub(super) fn policy_names_xml(params: &Params, names: Vec<String>) -> Result<String, IamError> {
    let (names, next) = page(params, names)?;
    let mut x = Xml::new();
    x.open("PolicyNames");
    for n in &names {
        x.leaf("member", n);
    }
    x.close("PolicyNames");
    truncation_xml(&mut x, next.as_deref());
    Ok(x.finish())
}

fn list_user_policies(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("UserName", 128)?;
    ctx.authorize("iam:ListUserPolicies", &user_resource(ctx, name))?;
    let user = named_user(ctx, name)?;
    Ok(Reply {
        result: Some(policy_names_xml(
            ctx.params,
            user.policies.keys().cloned().collect(),
        )?),
        response_elements: None,
    })
}

async fn delete_user_policy(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("UserName", 128)?;
    let policy_name = ctx.params.required_name("PolicyName", POLICY_NAME_MAX)?;
    ctx.authorize("iam:DeleteUserPolicy", &user_resource(ctx, name))?;
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    let user = named_user(ctx, name)?;
    let mut policies = user.policies.clone();
    if policies.remove(policy_name).is_none() {
        return Err(no_such_policy(PrincipalKind::User, policy_name));
    }
    let entry = UserEntry::new(user.record.clone(), policies).map_err(IamError::Internal)?;
    match ctx
        .app
        .kms
        .store()
        .delete_inline_policy(
            ctx.account(),
            PrincipalKind::User,
            &user.record.user_name,
            policy_name,
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(no_such_policy(PrincipalKind::User, policy_name)),
        Err(e) => return Err(e.into()),
    }
    creds.put_user(entry);
    Ok(Reply::empty())
}

// ---------------------------------------------------------------- user tags

async fn change_user_tags(
    ctx: &Ctx<'_>,
    action: &str,
    change: impl FnOnce(&mut Vec<Tag>) -> Result<(), IamError>,
) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("UserName", 128)?;
    ctx.authorize(action, &user_resource(ctx, name))?;
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    let user = named_user(ctx, name)?;
    let mut record = user.record.clone();
    change(&mut record.tags)?;
    let entry =
        UserEntry::new(record.clone(), user.policies.clone()).map_err(IamError::Internal)?;
    match ctx.app.kms.store().update_user(record).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(no_such_user(name)),
        Err(e) => return Err(e.into()),
    }
    creds.put_user(entry);
    Ok(Reply::empty())
}

async fn tag_user(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    change_user_tags(ctx, "iam:TagUser", tag_change(ctx.params, true)?).await
}

async fn untag_user(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    change_user_tags(ctx, "iam:UntagUser", tag_change(ctx.params, false)?).await
}

fn list_user_tags(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("UserName", 128)?;
    ctx.authorize("iam:ListUserTags", &user_resource(ctx, name))?;
    let user = named_user(ctx, name)?;
    let mut x = Xml::new();
    tags_xml(&mut x, &user.record.tags);
    truncation_xml(&mut x, None);
    Ok(Reply {
        result: Some(x.finish()),
        response_elements: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_markers_to_the_end() {
        let p = Params::parse(b"MaxItems=2");
        let (items, next) = page(&p, vec![1, 2, 3]).unwrap();
        assert_eq!((items, next.as_deref()), (vec![1, 2], Some("2")));
        let p = Params::parse(b"MaxItems=2&Marker=2");
        let (items, next) = page(&p, vec![1, 2, 3]).unwrap();
        assert_eq!((items, next), (vec![3], None));
        assert!(page(&Params::parse(b"Marker=9"), vec![1]).is_err());
    }

    #[test]
    fn tags_merge_by_key_case_insensitively_up_to_fifty() {
        let mut tags = vec![Tag {
            key: "Team".into(),
            value: "a".into(),
        }];
        merge_tags(
            &mut tags,
            vec![Tag {
                key: "team".into(),
                value: "b".into(),
            }],
        )
        .unwrap();
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].value, "b");
        let many = (0..50)
            .map(|i| Tag {
                key: format!("k{i}"),
                value: String::new(),
            })
            .collect();
        assert!(matches!(
            merge_tags(&mut tags, many),
            Err(IamError::LimitExceeded(_))
        ));
    }

    #[test]
    fn policy_size_ignores_whitespace() {
        let docs = ["{ \"a\" : 1 }\n".to_string()];
        assert_eq!(policy_size(docs.iter()), 7);
    }
}
