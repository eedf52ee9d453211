//! IAM roles: their trust policies, inline policies and tags.
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
use trent_core::iam::{principal_arn, InlinePolicyRecord, PrincipalKind, RoleRecord};
use trent_core::store::StoreError;

use super::query::{encode_policy, invalid, IamError, Xml};
use super::users::{
    page, path_param, policy_names_xml, policy_params, policy_size, tag_change, tags_param,
    tags_xml, truncation_xml, POLICY_NAME_MAX,
};
use super::{Ctx, Reply};
use crate::credentials::{parse_trust_policy, RoleEntry};

/// Longest role name.
const ROLE_NAME_MAX: usize = 64;
/// Roles per account (IAM's default quota).
const ROLES_PER_ACCOUNT: usize = 1000;
/// Aggregate size of a role's inline policies, whitespace not counted.
const ROLE_POLICY_SIZE: usize = 10_240;
/// Size of a trust policy, whitespace not counted (IAM's default quota).
const TRUST_POLICY_SIZE: usize = 2048;
/// The default and bounds of MaxSessionDuration, in seconds.
const DEFAULT_MAX_SESSION: i64 = 3600;
const LONGEST_MAX_SESSION: i64 = 43_200;

/// Runs a role or role-policy action; `None` if `action` is not one.
pub(super) async fn dispatch(ctx: &Ctx<'_>, action: &str) -> Result<Option<Reply>, IamError> {
    Ok(Some(match action {
        "CreateRole" => create_role(ctx).await?,
        "GetRole" => get_role(ctx)?,
        "ListRoles" => list_roles(ctx)?,
        "DeleteRole" => delete_role(ctx).await?,
        "UpdateRole" => update_role(ctx).await?,
        "UpdateAssumeRolePolicy" => update_assume_role_policy(ctx).await?,
        "PutRolePolicy" => put_role_policy(ctx).await?,
        "GetRolePolicy" => get_role_policy(ctx)?,
        "ListRolePolicies" => list_role_policies(ctx)?,
        "DeleteRolePolicy" => delete_role_policy(ctx).await?,
        "TagRole" => tag_role(ctx).await?,
        "UntagRole" => untag_role(ctx).await?,
        "ListRoleTags" => list_role_tags(ctx)?,
        _ => return Ok(None),
    }))
}

fn no_such_role(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

fn no_such_policy(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The role policy with name {name} cannot be found."))
}

fn named_role(ctx: &Ctx<'_>, name: &str) -> Result<RoleEntry, IamError> {
    ctx.app
        .credentials
        .role(ctx.account(), name)
        .ok_or_else(|| no_such_role(name))
}

fn role_resource(ctx: &Ctx<'_>, name: &str) -> String {
    match ctx.app.credentials.role(ctx.account(), name) {
        Some(r) => r.record.arn(),
        None => principal_arn(ctx.account(), PrincipalKind::Role, "/", name),
    }
}

fn role_xml(x: &mut Xml, tag: &str, r: &RoleRecord, with_tags: bool) {
    x.open(tag)
        .leaf("Path", &r.path)
        .leaf("RoleName", &r.role_name)
        .leaf("RoleId", &r.role_id)
        .leaf("Arn", &r.arn())
        .leaf("CreateDate", &format_event_time(r.create_date))
        .leaf(
            "AssumeRolePolicyDocument",
            &encode_policy(&r.assume_role_policy_document),
        )
        .opt_leaf("Description", r.description.as_deref())
        .leaf("MaxSessionDuration", &r.max_session_duration.to_string());
    if with_tags && !r.tags.is_empty() {
        tags_xml(x, &r.tags);
    }
    x.close(tag);
}

async fn create_role(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("RoleName", ROLE_NAME_MAX)?;
    let path = path_param(ctx.params)?;
    let tags = tags_param(ctx.params)?;
    let document = ctx.params.required("AssumeRolePolicyDocument")?;
    let description = ctx.params.get("Description");
    check_description(description)?;
    let max_session = max_session_param(ctx)?.unwrap_or(DEFAULT_MAX_SESSION);
    let arn = principal_arn(ctx.account(), PrincipalKind::Role, &path, name);
    ctx.authorize("iam:CreateRole", &arn)?;
    if !tags.is_empty() {
        ctx.authorize("iam:TagRole", &arn)?;
    }
    check_trust_policy(document)?;
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    let exists = || IamError::EntityAlreadyExists(format!("Role with name {name} already exists."));
    if creds.role(ctx.account(), name).is_some() {
        return Err(exists());
    }
    if creds.role_count(ctx.account()) >= ROLES_PER_ACCOUNT {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for RolesPerAccount: {ROLES_PER_ACCOUNT}"
        )));
    }
    let record = RoleRecord {
        account_id: ctx.account().clone(),
        path,
        role_name: name.to_owned(),
        role_id: trent_core::iam::new_unique_id(trent_core::iam::ROLE_ID_PREFIX, 21)
            .map_err(|e| IamError::Internal(e.to_string()))?,
        create_date: ctx.app.kms.now(),
        assume_role_policy_document: document.to_owned(),
        description: description.map(str::to_owned),
        max_session_duration: u32::try_from(max_session).unwrap_or(3600),
        tags,
    };
    let entry = RoleEntry::new(record.clone(), BTreeMap::new())
        .map_err(IamError::MalformedPolicyDocument)?;
    match ctx.app.kms.store().create_role(record.clone()).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => return Err(exists()),
        Err(e) => return Err(e.into()),
    }
    creds.put_role(entry);
    let mut x = Xml::new();
    role_xml(&mut x, "Role", &record, true);
    Ok(Reply {
        result: Some(x.finish()),
        response_elements: Some(json!({ "role": {
            "path": record.path, "roleName": record.role_name, "roleId": record.role_id,
            "arn": record.arn(), "createDate": format_event_time(record.create_date),
            "assumeRolePolicyDocument": record.assume_role_policy_document,
        }})),
    })
}

fn get_role(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("RoleName", ROLE_NAME_MAX)?;
    ctx.authorize("iam:GetRole", &role_resource(ctx, name))?;
    let role = named_role(ctx, name)?;
    let mut x = Xml::new();
    role_xml(&mut x, "Role", &role.record, true);
    Ok(Reply {
        result: Some(x.finish()),
        response_elements: None,
    })
}

fn list_roles(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    ctx.authorize(
        "iam:ListRoles",
        &format!("arn:aws:iam::{}:role/", ctx.account()),
    )?;
    let prefix = ctx.params.get("PathPrefix").unwrap_or("/");
    let roles: Vec<RoleRecord> = ctx
        .app
        .credentials
        .roles(ctx.account())
        .into_iter()
        .filter(|r| r.path.starts_with(prefix))
        .collect();
    let (roles, next) = page(ctx.params, roles)?;
    let mut x = Xml::new();
    x.open("Roles");
    for r in &roles {
        role_xml(&mut x, "member", r, false);
    }
    x.close("Roles");
    truncation_xml(&mut x, next.as_deref());
    Ok(Reply {
        result: Some(x.finish()),
        response_elements: None,
    })
}

async fn delete_role(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("RoleName", ROLE_NAME_MAX)?;
    ctx.authorize("iam:DeleteRole", &role_resource(ctx, name))?;
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    let role = named_role(ctx, name)?;
    match ctx
        .app
        .kms
        .store()
        .delete_role(ctx.account(), &role.record.role_name)
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(no_such_role(name)),
        Err(StoreError::Conflict(what)) => {
            return Err(IamError::DeleteConflict(format!(
                "Cannot delete entity, must delete {what} first."
            )))
        }
        Err(e) => return Err(e.into()),
    }
    creds.remove_role(ctx.account(), name);
    Ok(Reply::empty())
}

async fn put_role_policy(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("RoleName", ROLE_NAME_MAX)?;
    ctx.authorize("iam:PutRolePolicy", &role_resource(ctx, name))?;
    let (policy_name, document) = policy_params(ctx.params)?;
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    let role = named_role(ctx, name)?;
    let mut policies = role.policies.clone();
    policies.insert(policy_name.to_owned(), document.to_owned());
    if policy_size(policies.values()) > ROLE_POLICY_SIZE {
        return Err(IamError::LimitExceeded(format!(
            "Maximum policy size of {ROLE_POLICY_SIZE} bytes exceeded for role {}",
            role.record.role_name
        )));
    }
    let entry = RoleEntry::new(role.record.clone(), policies).map_err(IamError::Internal)?;
    match ctx
        .app
        .kms
        .store()
        .put_inline_policy(InlinePolicyRecord {
            account_id: ctx.account().clone(),
            principal_kind: PrincipalKind::Role,
            principal_name: role.record.role_name.clone(),
            policy_name: policy_name.to_owned(),
            policy_document: document.to_owned(),
        })
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(no_such_role(name)),
        Err(e) => return Err(e.into()),
    }
    creds.put_role(entry);
    Ok(Reply::empty())
}

fn get_role_policy(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("RoleName", ROLE_NAME_MAX)?;
    let policy_name = ctx.params.required_name("PolicyName", POLICY_NAME_MAX)?;
    ctx.authorize("iam:GetRolePolicy", &role_resource(ctx, name))?;
    let role = named_role(ctx, name)?;
    let doc = role
        .policies
        .get(policy_name)
        .ok_or_else(|| no_such_policy(policy_name))?;
    let mut x = Xml::new();
    x.leaf("RoleName", &role.record.role_name)
        .leaf("PolicyName", policy_name)
        .leaf("PolicyDocument", &encode_policy(doc));
    Ok(Reply {
        result: Some(x.finish()),
        response_elements: None,
    })
}

fn list_role_policies(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("RoleName", ROLE_NAME_MAX)?;
    ctx.authorize("iam:ListRolePolicies", &role_resource(ctx, name))?;
    let role = named_role(ctx, name)?;
    Ok(Reply {
        result: Some(policy_names_xml(
            ctx.params,
            role.policies.keys().cloned().collect(),
        )?),
        response_elements: None,
    })
}

async fn delete_role_policy(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("RoleName", ROLE_NAME_MAX)?;
    let policy_name = ctx.params.required_name("PolicyName", POLICY_NAME_MAX)?;
    ctx.authorize("iam:DeleteRolePolicy", &role_resource(ctx, name))?;
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    let role = named_role(ctx, name)?;
    let mut policies = role.policies.clone();
    if policies.remove(policy_name).is_none() {
        return Err(no_such_policy(policy_name));
    }
    let entry = RoleEntry::new(role.record.clone(), policies).map_err(IamError::Internal)?;
    match ctx
        .app
        .kms
        .store()
        .delete_inline_policy(
            ctx.account(),
            PrincipalKind::Role,
            &role.record.role_name,
            policy_name,
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(no_such_policy(policy_name)),
        Err(e) => return Err(e.into()),
    }
    creds.put_role(entry);
    Ok(Reply::empty())
}

/// A role's description: at most 1000 characters.
fn check_description(description: Option<&str>) -> Result<(), IamError> {
    match description {
        Some(d) if d.chars().count() > 1000 => Err(invalid(
            "Description",
            d,
            "Member must have length less than or equal to 1000",
        )),
        _ => Ok(()),
    }
}

/// `MaxSessionDuration`, if given: 3600 to 43200 seconds.
fn max_session_param(ctx: &Ctx<'_>) -> Result<Option<i64>, IamError> {
    ctx.params.int(
        "MaxSessionDuration",
        DEFAULT_MAX_SESSION,
        LONGEST_MAX_SESSION,
    )
}

/// A trust policy's size quota and grammar.
fn check_trust_policy(document: &str) -> Result<(), IamError> {
    if policy_size(std::iter::once(&document.to_owned())) > TRUST_POLICY_SIZE {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}"
        )));
    }
    parse_trust_policy(document)
        .map(|_| ())
        .map_err(IamError::MalformedPolicyDocument)
}

/// UpdateRole: a new description and/or maximum session duration.
async fn update_role(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let description = ctx.params.get("Description");
    check_description(description)?;
    let max_session = max_session_param(ctx)?;
    let mut reply = change_role(ctx, "iam:UpdateRole", |role| {
        if let Some(d) = description {
            role.description = Some(d.to_owned());
        }
        if let Some(seconds) = max_session {
            role.max_session_duration = u32::try_from(seconds).unwrap_or(3600);
        }
        Ok(())
    })
    .await?;
    // UpdateRole's output is an empty structure: SDKs expect an empty `<UpdateRoleResult>`.
    reply.result = Some(String::new());
    Ok(reply)
}

/// UpdateAssumeRolePolicy: a new trust policy. Sessions already issued keep working until
/// they expire, as in IAM; new AssumeRole calls are judged by the new policy.
async fn update_assume_role_policy(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let document = ctx.params.required("PolicyDocument")?;
    check_trust_policy(document)?;
    change_role(ctx, "iam:UpdateAssumeRolePolicy", |role| {
        role.assume_role_policy_document = document.to_owned();
        Ok(())
    })
    .await
}

/// Authorizes `action` on the role `RoleName`, applies `change` to its record and stores it.
async fn change_role(
    ctx: &Ctx<'_>,
    action: &str,
    change: impl FnOnce(&mut RoleRecord) -> Result<(), IamError>,
) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("RoleName", ROLE_NAME_MAX)?;
    ctx.authorize(action, &role_resource(ctx, name))?;
    ctx.before_mutation()?;
    let creds = &ctx.app.credentials;
    let _guard = creds.write_lock.lock().await;
    let role = named_role(ctx, name)?;
    let mut record = role.record.clone();
    change(&mut record)?;
    let entry = RoleEntry::new(record.clone(), role.policies.clone())
        .map_err(IamError::MalformedPolicyDocument)?;
    match ctx.app.kms.store().update_role(record).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(no_such_role(name)),
        Err(e) => return Err(e.into()),
    }
    creds.put_role(entry);
    Ok(Reply::empty())
}

async fn tag_role(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let change = tag_change(ctx.params, true)?;
    change_role(ctx, "iam:TagRole", |role| change(&mut role.tags)).await
}

async fn untag_role(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let change = tag_change(ctx.params, false)?;
    change_role(ctx, "iam:UntagRole", |role| change(&mut role.tags)).await
}

fn list_role_tags(ctx: &Ctx<'_>) -> Result<Reply, IamError> {
    let name = ctx.params.required_name("RoleName", ROLE_NAME_MAX)?;
    ctx.authorize("iam:ListRoleTags", &role_resource(ctx, name))?;
    let role = named_role(ctx, name)?;
    let mut x = Xml::new();
    tags_xml(&mut x, &role.record.tags);
    truncation_xml(&mut x, None);
    Ok(Reply {
        result: Some(x.finish()),
        response_elements: None,
    })
}
