//! The query-protocol adapter for what users and roles share (ARCHITECTURE.md §1): each
//! handler reads its parameters, calls the IAM domain ([`trent_core::iam`]) once, and writes
//! IAM's XML. Written once, generic over the principal kind, as the domain is.

use trent_audit::format_event_time;
use trent_core::iam::ops::TAGS_MAX;
use trent_core::iam::{PrincipalAction, PrincipalRecord, RoleRecord, UserRecord};
use trent_core::model::Tag;

use super::query::{encode_policy, invalid, missing, Params, Xml};
use super::{Ctx, Reply};
use crate::api::errors::QueryError;
use trent_core::iam::IamError;

/// Longest policy name.
const POLICY_NAME_MAX: usize = 128;

/// How the query protocol names and shows a kind of principal.
pub(super) trait QueryPrincipal: PrincipalRecord {
    /// The parameter that names one: `UserName`, `RoleName`.
    const NAME_MEMBER: &'static str;
    /// Its longest value outside Create (IAM's model allows 128 for users, 64 for roles).
    const NAME_MAX: usize;
    /// The list element of List*: `Users`, `Roles`.
    const LIST: &'static str;
    /// The principal as `<tag>…</tag>` (`User`/`Role`, or `member` in lists).
    fn xml(&self, x: &mut Xml, tag: &str, with_tags: bool);
}

impl QueryPrincipal for UserRecord {
    const NAME_MEMBER: &'static str = "UserName";
    const NAME_MAX: usize = 128;
    const LIST: &'static str = "Users";
    fn xml(&self, x: &mut Xml, tag: &str, with_tags: bool) {
        x.open(tag)
            .leaf("Path", &self.path)
            .leaf("UserName", &self.user_name)
            .leaf("UserId", &self.user_id)
            .leaf("Arn", &self.arn())
            .leaf("CreateDate", &format_event_time(self.create_date));
        if with_tags && !self.tags.is_empty() {
            tags_xml(x, &self.tags);
        }
        x.close(tag);
    }
}

impl QueryPrincipal for RoleRecord {
    const NAME_MEMBER: &'static str = "RoleName";
    const NAME_MAX: usize = 64;
    const LIST: &'static str = "Roles";
    fn xml(&self, x: &mut Xml, tag: &str, with_tags: bool) {
        x.open(tag)
            .leaf("Path", &self.path)
            .leaf("RoleName", &self.role_name)
            .leaf("RoleId", &self.role_id)
            .leaf("Arn", &self.arn())
            .leaf("CreateDate", &format_event_time(self.create_date))
            .leaf(
                "AssumeRolePolicyDocument",
                &encode_policy(&self.assume_role_policy_document),
            )
            .opt_leaf("Description", self.description.as_deref())
            .leaf("MaxSessionDuration", &self.max_session_duration.to_string());
        if with_tags && !self.tags.is_empty() {
            tags_xml(x, &self.tags);
        }
        x.close(tag);
    }
}

/// The principal's name parameter, required.
fn name_param<P: QueryPrincipal>(params: &Params) -> Result<&str, IamError> {
    params.required_name(P::NAME_MEMBER, P::NAME_MAX)
}

/// A reply with this result and no CloudTrail `responseElements`.
fn result(x: Xml) -> Reply {
    Reply {
        result: Some(x.finish()),
        response_elements: None,
    }
}

// ---------------------------------------------------------------- parameters

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

/// One page of `items` by `Marker` (an offset Trent handed out) and `MaxItems` (default 100),
/// with the next `Marker`.
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

/// `<Tags><member><Key/><Value/></member>…</Tags>`.
fn tags_xml(x: &mut Xml, tags: &[Tag]) {
    x.open("Tags");
    for t in tags {
        x.open("member")
            .leaf("Key", &t.key)
            .leaf("Value", &t.value)
            .close("member");
    }
    x.close("Tags");
}

// ---------------------------------------------------------------- handlers

/// GetUser (with `UserName`) / GetRole.
pub(super) fn get<P: QueryPrincipal>(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let name = name_param::<P>(ctx.params)?;
    let entry = ctx.iam.get::<P>(&ctx.caller, name)?;
    Ok(one::<P>(&entry.record))
}

/// A principal as `<User>`/`<Role>` with its tags.
pub(super) fn one<P: QueryPrincipal>(record: &P) -> Reply {
    let mut x = Xml::new();
    record.xml(&mut x, P::NOUN, true);
    result(x)
}

/// ListUsers / ListRoles.
pub(super) fn list<P: QueryPrincipal>(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let prefix = ctx.params.get("PathPrefix").unwrap_or("/");
    let (items, next) = page(ctx.params, ctx.iam.list::<P>(&ctx.caller, prefix)?)?;
    let mut x = Xml::new();
    x.open(P::LIST);
    for p in &items {
        p.xml(&mut x, "member", false);
    }
    x.close(P::LIST);
    truncation_xml(&mut x, next.as_deref());
    Ok(result(x))
}

/// DeleteUser / DeleteRole.
pub(super) async fn delete<P: QueryPrincipal>(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let name = name_param::<P>(ctx.params)?;
    ctx.iam.delete::<P>(&ctx.caller, name).await?;
    Ok(Reply::empty())
}

/// PutUserPolicy / PutRolePolicy: the policy is checked once the call is authorized.
pub(super) async fn put_policy<P: QueryPrincipal>(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let name = name_param::<P>(ctx.params)?;
    let authorized = ctx
        .iam
        .authorize_on::<P>(&ctx.caller, PrincipalAction::PutPolicy, name)?;
    let policy_name = ctx.params.required_name("PolicyName", POLICY_NAME_MAX)?;
    let document = ctx.params.required("PolicyDocument")?;
    if document.is_empty() || document.len() > trent_core::iam::policy::POLICY_DOCUMENT_MAX_BYTES {
        return Err(invalid(
            "PolicyDocument",
            "…",
            "Member must have length between 1 and 131072",
        )
        .into());
    }
    ctx.iam
        .put_policy(authorized, policy_name, document)
        .await?;
    Ok(Reply::empty())
}

/// GetUserPolicy / GetRolePolicy.
pub(super) fn get_policy<P: QueryPrincipal>(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let name = name_param::<P>(ctx.params)?;
    let policy_name = ctx.params.required_name("PolicyName", POLICY_NAME_MAX)?;
    let (record, document) = ctx.iam.get_policy::<P>(&ctx.caller, name, policy_name)?;
    let mut x = Xml::new();
    x.leaf(P::NAME_MEMBER, record.name())
        .leaf("PolicyName", policy_name)
        .leaf("PolicyDocument", &encode_policy(&document));
    Ok(result(x))
}

/// ListUserPolicies / ListRolePolicies.
pub(super) fn list_policies<P: QueryPrincipal>(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let name = name_param::<P>(ctx.params)?;
    let names = ctx.iam.list_policies::<P>(&ctx.caller, name)?;
    let (names, next) = page(ctx.params, names)?;
    let mut x = Xml::new();
    x.open("PolicyNames");
    for n in &names {
        x.leaf("member", n);
    }
    x.close("PolicyNames");
    truncation_xml(&mut x, next.as_deref());
    Ok(result(x))
}

/// DeleteUserPolicy / DeleteRolePolicy.
pub(super) async fn delete_policy<P: QueryPrincipal>(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let name = name_param::<P>(ctx.params)?;
    let policy_name = ctx.params.required_name("PolicyName", POLICY_NAME_MAX)?;
    ctx.iam
        .delete_policy::<P>(&ctx.caller, name, policy_name)
        .await?;
    Ok(Reply::empty())
}

/// TagUser / TagRole.
pub(super) async fn tag<P: QueryPrincipal>(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let tags = tags_param(ctx.params)?;
    if tags.is_empty() {
        return Err(missing("Tags").into());
    }
    let name = name_param::<P>(ctx.params)?;
    ctx.iam.tag::<P>(&ctx.caller, name, tags).await?;
    Ok(Reply::empty())
}

/// UntagUser / UntagRole.
pub(super) async fn untag<P: QueryPrincipal>(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let keys = ctx.params.list("TagKeys");
    if keys.is_empty() {
        return Err(missing("TagKeys").into());
    }
    let name = name_param::<P>(ctx.params)?;
    ctx.iam.untag::<P>(&ctx.caller, name, keys).await?;
    Ok(Reply::empty())
}

/// ListUserTags / ListRoleTags.
pub(super) fn list_tags<P: QueryPrincipal>(ctx: &Ctx<'_>) -> Result<Reply, QueryError> {
    let name = name_param::<P>(ctx.params)?;
    let tags = ctx.iam.list_tags::<P>(&ctx.caller, name)?;
    let mut x = Xml::new();
    tags_xml(&mut x, &tags);
    truncation_xml(&mut x, None);
    Ok(result(x))
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
}
