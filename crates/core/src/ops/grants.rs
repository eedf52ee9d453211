//! CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.
//!
//! Grants are effective as soon as CreateGrant returns (Trent has no eventual consistency to
//! bridge), so grant tokens are only checked for form. Who may retire a grant follows AWS's
//! "Retiring and revoking grants": its retiring principal, its grantee when the grant allows
//! RetireGrant, or a principal whose policies allow kms:RetireGrant on the key (the key
//! account's root, through the default key policy). Revoking needs kms:RevokeGrant by policy.

use std::sync::Arc;

use trent_crypto::random::random_bytes;
use trent_policy::Principal;

use crate::action::Action;
use crate::caller::Caller;
use crate::error::CoreError;
use crate::grant::{
    accepts_constraints, is_grant_id, parse_grant_token, GrantConstraints, GrantRecord,
    GRANT_OPERATIONS, MAX_GRANTS_PER_KEY,
};
use crate::key_state;
use crate::kms::Kms;
use crate::model::{KeyAddr, KeyRecord};
use crate::ops::{page_by_index, page_limit, Page};
use crate::store::StoreError;

/// What CreateGrant was asked for, already converted from the wire.
#[derive(Debug, Default)]
pub struct CreateGrantInput {
    /// The key's id.
    pub key_id: String,
    /// The grantee principal.
    pub grantee_principal: String,
    /// The retiring principal.
    pub retiring_principal: Option<String>,
    /// The operations the grant allows.
    pub operations: Vec<Action>,
    /// Encryption context constraints, if any.
    pub constraints: Option<GrantConstraints>,
    /// The optional name that makes a repeated CreateGrant idempotent.
    pub name: Option<String>,
    /// DryRun: check everything, change nothing.
    pub dry_run: bool,
}

/// CreateGrant's result.
#[derive(Debug)]
pub struct CreateGrantOutput {
    /// The grant's id.
    pub grant_id: String,
    /// The grant token.
    pub grant_token: String,
    /// The ARN of the key the operation used.
    pub key_arn: String,
}

/// ListGrants' filters.
#[derive(Debug, Default)]
pub struct ListGrantsInput {
    /// The key's id.
    pub key_id: String,
    /// The page size (Limit).
    pub limit: Option<i32>,
    /// Where the page starts (Marker).
    pub marker: Option<String>,
    /// The grant's id.
    pub grant_id: Option<String>,
    /// The grantee principal.
    pub grantee_principal: Option<String>,
    /// Only grants for this AWS service principal (stored as the grantee principal).
    pub grantee_service_principal: Option<String>,
}

/// How RetireGrant names its grant: by token, or by key and grant id.
#[derive(Debug, Default)]
pub struct RetireGrantInput {
    /// The grant token.
    pub grant_token: Option<String>,
    /// The key's id.
    pub key_id: Option<String>,
    /// The grant's id.
    pub grant_id: Option<String>,
    /// DryRun: check everything, change nothing.
    pub dry_run: bool,
}

/// A principal a grant may name: an IAM principal ARN or an AWS service principal.
fn check_principal(field: &str, value: &str) -> Result<(), CoreError> {
    let service = value.ends_with(".amazonaws.com") && !value.contains(':');
    if service || Principal::from_arn(value).is_ok() {
        Ok(())
    } else {
        Err(CoreError::Validation(format!(
            "{field} {value} is not a valid principal: use an IAM principal ARN \
             (arn:aws:iam::ACCOUNT:root, :user/NAME, :role/NAME, or an STS session ARN)"
        )))
    }
}

fn check_grant_id(grant_id: &str) -> Result<(), CoreError> {
    if is_grant_id(grant_id) {
        Ok(())
    } else {
        Err(CoreError::InvalidGrantId(format!(
            "Grant id {grant_id} is not valid."
        )))
    }
}

fn grant_not_found(grant_id: &str, key: &KeyRecord) -> CoreError {
    CoreError::NotFound(format!(
        "Grant ID {grant_id} not found for key {}",
        key.arn()
    ))
}

impl Kms {
    /// CreateGrant: a grant on a key for a grantee. With a Name, retrying with the same
    /// parameters returns the existing grant.
    pub async fn create_grant(
        &self,
        caller: &Caller,
        input: CreateGrantInput,
    ) -> Result<CreateGrantOutput, CoreError> {
        let action = Action::CreateGrant;
        let key = self.usable_key(caller, &input.key_id, action).await?.record;
        check_principal("GranteePrincipal", &input.grantee_principal)?;
        if let Some(r) = &input.retiring_principal {
            check_principal("RetiringPrincipal", r)?;
        }
        if input.operations.is_empty() {
            return Err(CoreError::Validation(
                "1 validation error detected: Value '[]' at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1".into(),
            ));
        }
        if let Some(op) = input
            .operations
            .iter()
            .find(|a| !GRANT_OPERATIONS.contains(a))
        {
            return Err(CoreError::Validation(format!(
                "{} is not a grant operation.",
                op.name()
            )));
        }
        let constraints = input.constraints.filter(|c| !c.types().is_empty());
        if constraints.is_some() {
            if let Some(op) = input.operations.iter().find(|a| !accepts_constraints(**a)) {
                return Err(CoreError::Validation(format!(
                    "Grant constraints are not supported for the {} operation.",
                    op.name()
                )));
            }
        }
        let mut operations: Vec<Action> = Vec::with_capacity(input.operations.len());
        for op in input.operations {
            if !operations.contains(&op) {
                operations.push(op);
            }
        }
        let grant = GrantRecord {
            region: key.region.clone(),
            key_id: key.key_id,
            grant_id: hex::encode(random_bytes(32)?.as_bytes()),
            name: input.name,
            creation_date: self.now(),
            grantee_principal: input.grantee_principal,
            retiring_principal: input.retiring_principal,
            issuing_account: caller.account_id.clone(),
            operations,
            constraints,
        };
        // Reading the grants, checking the limit and Name, and storing happen as one step.
        let _creating = self.grant_creation.lock().await;
        let existing = self.grants_of(key.addr()).await?;
        // Allowed only through a grant: a grantee cannot grant more than it holds.
        if self
            .authorize_by_policies(caller, action, &key)
            .await
            .is_err()
        {
            let principal = &caller.identity.principal;
            if !existing
                .iter()
                .any(|g| g.is_for(principal) && g.may_delegate(&grant))
            {
                return Err(crate::authorize::access_denied(caller, action, &key.arn()));
            }
        }
        if input.dry_run {
            return Err(CoreError::DryRun);
        }
        if grant.name.is_some() {
            if let Some(same) = existing
                .iter()
                .find(|g| g.name == grant.name && g.same_parameters_as(&grant))
            {
                return Ok(CreateGrantOutput {
                    grant_id: same.grant_id.clone(),
                    grant_token: same.token(),
                    key_arn: key.arn(),
                });
            }
        }
        if existing.len() >= MAX_GRANTS_PER_KEY {
            return Err(CoreError::LimitExceeded(format!(
                "The request was rejected because the KMS key {} already has {MAX_GRANTS_PER_KEY} grants, the most a key may have.",
                key.arn()
            )));
        }
        let result = self.store.create_grant(grant.clone()).await;
        self.access.grants_changed(key.addr());
        match result {
            Ok(()) => Ok(CreateGrantOutput {
                grant_token: grant.token(),
                grant_id: grant.grant_id,
                key_arn: key.arn(),
            }),
            Err(StoreError::NotFound) => Err(CoreError::NotFound(format!(
                "Key '{}' does not exist",
                key.arn()
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// ListGrants: the grants of a key, optionally only one grant id or one grantee.
    pub async fn list_grants(
        &self,
        caller: &Caller,
        input: ListGrantsInput,
    ) -> Result<(Arc<KeyRecord>, Page<GrantRecord>), CoreError> {
        let key = self
            .usable_key(caller, &input.key_id, Action::ListGrants)
            .await?
            .record;
        if let Some(id) = &input.grant_id {
            check_grant_id(id)?;
        }
        let grants: Vec<GrantRecord> = self
            .grants_of(key.addr())
            .await?
            .iter()
            .filter(|g| input.grant_id.as_ref().is_none_or(|id| *id == g.grant_id))
            .filter(|g| {
                input
                    .grantee_principal
                    .as_ref()
                    .is_none_or(|p| *p == g.grantee_principal)
            })
            .filter(|g| {
                input
                    .grantee_service_principal
                    .as_ref()
                    .is_none_or(|p| *p == g.grantee_principal)
            })
            .cloned()
            .collect();
        let page = page_by_index(grants, input.marker.as_deref(), page_limit(input.limit))?;
        Ok((key, page))
    }

    /// ListRetirableGrants: grants on any key whose retiring principal is the one named
    /// (a principal of the caller's account).
    pub async fn list_retirable_grants(
        &self,
        caller: &Caller,
        retiring_principal: &str,
        limit: Option<i32>,
        marker: Option<&str>,
    ) -> Result<Page<(GrantRecord, String)>, CoreError> {
        let principal = Principal::from_arn(retiring_principal).map_err(|_| {
            CoreError::Validation(format!(
                "RetiringPrincipal {retiring_principal} is not a principal ARN"
            ))
        })?;
        if principal.account_id() != caller.account_id.as_str() {
            return Err(CoreError::AccessDenied(format!(
                "User: {} is not authorized to perform: kms:ListRetirableGrants on resource: * because the retiring principal {} is not in the caller's account",
                caller.principal_arn, retiring_principal
            )));
        }
        let mut out = Vec::new();
        for g in self
            .store
            .list_grants_by_retiring_principal(retiring_principal)
            .await?
        {
            if g.region != caller.region {
                continue;
            }
            if let Some(k) = self.key_by_id(KeyAddr::new(&g.region, g.key_id)).await? {
                if k.deleted_date.is_none() {
                    out.push((g, k.arn()));
                }
            }
        }
        page_by_index(out, marker, page_limit(limit))
    }

    /// RetireGrant, by grant token or by key and grant id.
    pub async fn retire_grant(
        &self,
        caller: &Caller,
        input: RetireGrantInput,
    ) -> Result<String, CoreError> {
        let action = Action::RetireGrant;
        let (key, grant_id) = match (&input.grant_token, &input.key_id, &input.grant_id) {
            (Some(token), _, _) => {
                let t = parse_grant_token(token)?;
                let key = self
                    .key_by_blob_id(caller.region, *t.key_id.as_bytes())
                    .await?
                    .filter(|k| k.deleted_date.is_none())
                    .ok_or_else(|| {
                        CoreError::NotFound(
                            "The grant token names a key that does not exist.".into(),
                        )
                    })?;
                (key, t.grant_id)
            }
            (None, Some(key_id), Some(grant_id)) => {
                check_grant_id(grant_id)?;
                // KeyId takes only a key id or key ARN, as for every management operation.
                if crate::resolve::KeyRef::parse(key_id, caller.region)?.is_alias() {
                    return Err(CoreError::InvalidArn(
                        "Key Aliases are not supported for this operation.".into(),
                    ));
                }
                (self.resolve(caller, key_id).await?, grant_id.clone())
            }
            _ => {
                return Err(CoreError::Validation(
                    "Either GrantToken, or both KeyId and GrantId, must be specified.".into(),
                ))
            }
        };
        let grants = self.grants_of(key.addr()).await?;
        let grant = grants
            .iter()
            .find(|g| g.grant_id == grant_id)
            .ok_or_else(|| grant_not_found(&grant_id, &key))?;
        let principal = &caller.identity.principal;
        let by_grant = grant.is_retiring_principal(principal)
            || (grant.is_for(principal) && grant.operations.contains(&Action::RetireGrant));
        if !by_grant {
            // Otherwise the key policy (and IAM) must allow kms:RetireGrant: the default key
            // policy lets the key account's root retire any grant on its keys.
            self.authorize(caller, action, &key).await?;
        }
        key_state::check(action, &key)?;
        if input.dry_run {
            return Err(CoreError::DryRun);
        }
        self.delete_grant(&key, &grant_id).await?;
        Ok(key.arn())
    }

    /// RevokeGrant: deletes a grant; needs kms:RevokeGrant by policy.
    pub async fn revoke_grant(
        &self,
        caller: &Caller,
        key_id: &str,
        grant_id: &str,
        dry_run: bool,
    ) -> Result<String, CoreError> {
        let key = self
            .usable_key(caller, key_id, Action::RevokeGrant)
            .await?
            .record;
        check_grant_id(grant_id)?;
        if !self
            .grants_of(key.addr())
            .await?
            .iter()
            .any(|g| g.grant_id == grant_id)
        {
            return Err(grant_not_found(grant_id, &key));
        }
        if dry_run {
            return Err(CoreError::DryRun);
        }
        self.delete_grant(&key, grant_id).await?;
        Ok(key.arn())
    }

    async fn delete_grant(&self, key: &KeyRecord, grant_id: &str) -> Result<(), CoreError> {
        let result = self.store.delete_grant(key.addr(), grant_id).await;
        self.access.grants_changed(key.addr());
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(grant_not_found(grant_id, key)),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_principals_are_iam_arns_or_service_principals() {
        assert!(check_principal("GranteePrincipal", "arn:aws:iam::111122223333:root").is_ok());
        assert!(check_principal("GranteePrincipal", "arn:aws:iam::111122223333:role/App").is_ok());
        assert!(check_principal("GranteePrincipal", "logs.amazonaws.com").is_ok());
        assert!(matches!(
            check_principal("GranteePrincipal", "bob"),
            Err(CoreError::Validation(_))
        ));
    }

    #[test]
    fn grant_ids_are_64_hex_digits() {
        assert!(check_grant_id(&"0a".repeat(32)).is_ok());
        assert!(matches!(
            check_grant_id("nope"),
            Err(CoreError::InvalidGrantId(_))
        ));
    }
}
