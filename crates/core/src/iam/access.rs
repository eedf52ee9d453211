//! Who may do what in IAM and STS (ARCHITECTURE.md §5): IAM calls are authorized by the
//! caller's identity policies through the one evaluator KMS uses too
//! ([`crate::authorize::identity_decision`]), e.g. `iam:CreateUser` on
//! `arn:aws:iam::ACCOUNT:user/NAME`; an account root may do everything in its own account;
//! nothing reaches across accounts.
//!
//! An operation whose request has members checked only after authorization (PutUserPolicy's
//! document, UpdateAccessKey's status) is split in two: authorizing answers a token
//! ([`Authorized`], [`KeyTarget`]) that the operation requires, so no operation runs
//! unauthorized.

use std::marker::PhantomData;
use std::sync::Arc;

use trent_policy::{ContextKeys, Decision};

use super::directory::{Iam, KeyOwner, OwnerKind};
use super::error::IamError;
use super::principal::{Entry, PrincipalRecord};
use super::{principal_arn, root_arn, UserRecord};
use crate::authorize::identity_decision;
use crate::model::AccountId;

/// An authenticated IAM or STS caller: who signed, and the request's condition keys (the
/// global keys every protocol builds alike).
pub struct IamCaller<'a> {
    /// The principal the request acts as.
    pub owner: &'a KeyOwner,
    /// The request's condition keys.
    pub keys: Arc<ContextKeys>,
}

impl IamCaller<'_> {
    /// The caller's account.
    pub fn account(&self) -> &AccountId {
        &self.owner.account_id
    }
}

/// IAM's action on a user or role, named `iam:<verb><Noun><suffix>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalAction {
    /// `iam:CreateUser`, `iam:CreateRole`.
    Create,
    /// `iam:GetUser`, `iam:GetRole`.
    Get,
    /// `iam:ListUsers`, `iam:ListRoles`.
    List,
    /// `iam:DeleteUser`, `iam:DeleteRole`.
    Delete,
    /// `iam:UpdateRole`.
    Update,
    /// `iam:UpdateAssumeRolePolicy`.
    UpdateAssumeRolePolicy,
    /// `iam:PutUserPolicy`, `iam:PutRolePolicy`.
    PutPolicy,
    /// `iam:GetUserPolicy`, `iam:GetRolePolicy`.
    GetPolicy,
    /// `iam:ListUserPolicies`, `iam:ListRolePolicies`.
    ListPolicies,
    /// `iam:DeleteUserPolicy`, `iam:DeleteRolePolicy`.
    DeletePolicy,
    /// `iam:TagUser`, `iam:TagRole`.
    Tag,
    /// `iam:UntagUser`, `iam:UntagRole`.
    Untag,
    /// `iam:ListUserTags`, `iam:ListRoleTags`.
    ListTags,
}

impl PrincipalAction {
    /// The action's name for principals of kind `P`, as policies name it.
    pub fn name<P: PrincipalRecord>(self) -> String {
        let noun = P::NOUN;
        match self {
            PrincipalAction::Create => format!("iam:Create{noun}"),
            PrincipalAction::Get => format!("iam:Get{noun}"),
            PrincipalAction::List => format!("iam:List{noun}s"),
            PrincipalAction::Delete => format!("iam:Delete{noun}"),
            PrincipalAction::Update => format!("iam:Update{noun}"),
            PrincipalAction::UpdateAssumeRolePolicy => "iam:UpdateAssumeRolePolicy".into(),
            PrincipalAction::PutPolicy => format!("iam:Put{noun}Policy"),
            PrincipalAction::GetPolicy => format!("iam:Get{noun}Policy"),
            PrincipalAction::ListPolicies => format!("iam:List{noun}Policies"),
            PrincipalAction::DeletePolicy => format!("iam:Delete{noun}Policy"),
            PrincipalAction::Tag => format!("iam:Tag{noun}"),
            PrincipalAction::Untag => format!("iam:Untag{noun}"),
            PrincipalAction::ListTags => format!("iam:List{noun}Tags"),
        }
    }
}

/// Proof that a caller may perform `action` on the principal of kind `P` named `name`.
pub struct Authorized<P> {
    pub(crate) action: PrincipalAction,
    pub(crate) account: AccountId,
    pub(crate) name: String,
    kind: PhantomData<fn() -> P>,
}

/// IAM's action on access keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAction {
    /// `iam:CreateAccessKey`.
    Create,
    /// `iam:ListAccessKeys`.
    List,
    /// `iam:UpdateAccessKey`.
    Update,
    /// `iam:DeleteAccessKey`.
    Delete,
}

impl KeyAction {
    /// The action's name, as policies name it.
    pub fn name(self) -> &'static str {
        match self {
            KeyAction::Create => "iam:CreateAccessKey",
            KeyAction::List => "iam:ListAccessKeys",
            KeyAction::Update => "iam:UpdateAccessKey",
            KeyAction::Delete => "iam:DeleteAccessKey",
        }
    }
}

/// Whose access keys an authorized access-key action is about: the named user, else the
/// caller (a user or the account root).
pub struct KeyTarget {
    pub(crate) action: KeyAction,
    pub(crate) account: AccountId,
    pub(crate) principal_arn: String,
    user_name: String,
}

impl KeyTarget {
    /// `UserName` in answers: the user's, or the account id for the root.
    pub fn user_name(&self) -> &str {
        &self.user_name
    }

    /// Refuses a token made for another action (an internal mistake).
    pub(crate) fn check(&self, action: KeyAction) -> Result<(), IamError> {
        if self.action == action {
            Ok(())
        } else {
            Err(IamError::Internal(format!(
                "{} used a token for {}",
                action.name(),
                self.action.name()
            )))
        }
    }
}

/// `NoSuchEntity` for a user or role.
pub(crate) fn no_such<P: PrincipalRecord>(name: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "The {} with name {name} cannot be found.",
        P::KIND.as_str()
    ))
}

/// The `ValidationError` of a call about "the caller's own user" by a caller that is not a user.
fn not_a_user() -> IamError {
    IamError::Validation("Must specify userName when calling with non-User credentials".into())
}

impl Iam {
    /// Authorizes `action` on `resource` (an ARN in the caller's account): the account root
    /// may do anything in its account; anyone else needs an identity policy that allows it and
    /// none that denies it.
    pub(crate) fn authorize(
        &self,
        caller: &IamCaller<'_>,
        action: &str,
        resource: &str,
    ) -> Result<(), IamError> {
        if caller.owner.kind == OwnerKind::Root {
            return Ok(());
        }
        match identity_decision(&caller.owner.identity, action, resource, &caller.keys) {
            Decision::Allow => Ok(()),
            decision => Err(IamError::AccessDenied(
                decision
                    .access_denied_message(&caller.owner.principal_arn, action, resource)
                    .unwrap_or_default(),
            )),
        }
    }

    /// The ARN IAM authorizes an action on a (possibly missing) principal with.
    pub(crate) fn resource<P: PrincipalRecord>(&self, account: &AccountId, name: &str) -> String {
        match self.principal::<P>(account, name) {
            Some(e) => e.record.arn(),
            None => principal_arn(account, P::KIND, "/", name),
        }
    }

    /// The principal a request names, which must exist.
    pub(crate) fn named<P: PrincipalRecord>(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Entry<P>, IamError> {
        self.principal::<P>(account, name)
            .ok_or_else(|| no_such::<P>(name))
    }

    /// Authorizes `action` on the principal of kind `P` named `name` in the caller's account.
    pub fn authorize_on<P: PrincipalRecord>(
        &self,
        caller: &IamCaller<'_>,
        action: PrincipalAction,
        name: &str,
    ) -> Result<Authorized<P>, IamError> {
        let account = caller.account();
        self.authorize(
            caller,
            &action.name::<P>(),
            &self.resource::<P>(account, name),
        )?;
        Ok(Authorized {
            action,
            account: account.clone(),
            name: name.to_owned(),
            kind: PhantomData,
        })
    }

    /// Authorizes an access-key action on the named user's keys (`UserName`), else on the
    /// caller's own: on the named user first (so a missing user is reported after the access
    /// check), then on the principal whose keys they are.
    pub fn authorize_access_keys(
        &self,
        caller: &IamCaller<'_>,
        user_name: Option<&str>,
        action: KeyAction,
    ) -> Result<KeyTarget, IamError> {
        let account = caller.account();
        let (principal_arn, user_name) = match user_name {
            Some(name) => {
                self.authorize(
                    caller,
                    action.name(),
                    &self.resource::<UserRecord>(account, name),
                )?;
                let user = self.named::<UserRecord>(account, name)?;
                (user.record.arn(), user.record.user_name)
            }
            None => match (caller.owner.kind, &caller.owner.user_name) {
                (OwnerKind::Root, _) => (root_arn(account), account.to_string()),
                (OwnerKind::IamUser, Some(n)) => (caller.owner.principal_arn.clone(), n.clone()),
                _ => return Err(not_a_user()),
            },
        };
        self.authorize(caller, action.name(), &principal_arn)?;
        Ok(KeyTarget {
            action,
            account: account.clone(),
            principal_arn,
            user_name,
        })
    }

    /// GetUser: the named user, else the caller's own; `None` when the caller is the account
    /// root and names no user (IAM then shows the root: the account id as its user id).
    pub fn get_user(
        &self,
        caller: &IamCaller<'_>,
        user_name: Option<&str>,
    ) -> Result<Option<Entry<UserRecord>>, IamError> {
        let name = match user_name {
            Some(n) => n.to_owned(),
            None => match (caller.owner.kind, &caller.owner.user_name) {
                (OwnerKind::IamUser, Some(n)) => n.clone(),
                (OwnerKind::Root, _) => return Ok(None),
                _ => return Err(not_a_user()),
            },
        };
        self.get::<UserRecord>(caller, &name).map(Some)
    }
}
