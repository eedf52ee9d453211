//! CreateAlias, UpdateAlias, DeleteAlias, ListAliases.

use crate::action::Action;
use crate::caller::Caller;
use crate::error::CoreError;
use crate::kms::Kms;
use crate::model::{alias_arn, AliasRecord, KeyAddr};
use crate::ops::{page_by_index, page_limit, Page};
use crate::resolve::KeyRef;
use crate::store::StoreError;

/// The alias pattern AWS enforces beyond the model's.
pub const ALIAS_PATTERN: &str = "^alias/[a-zA-Z0-9/_-]+$";

/// AWS's ValidationException message for an alias name without the `alias/` prefix
/// (recorded from AWS in LocalStack's `tests/aws/services/kms/test_kms.snapshot.json`,
/// `test_create_alias`).
pub const NO_PREFIX_MESSAGE: &str = "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html";

/// The prefix AWS reserves for AWS managed keys.
pub const RESERVED_PREFIX: &str = "alias/aws/";

impl Kms {
    /// CreateAlias.
    pub async fn create_alias(
        &self,
        caller: &Caller,
        alias_name: &str,
        target_key_id: &str,
    ) -> Result<(), CoreError> {
        check_alias_name(alias_name)?;
        // On the alias and on its key.
        self.authorize_alias(
            caller,
            Action::CreateAlias,
            &self.alias_arn(caller, alias_name),
        )?;
        let target = self
            .alias_target_key(caller, target_key_id, Action::CreateAlias)
            .await?;
        let now = self.now();
        let record = AliasRecord {
            account_id: caller.account_id.clone(),
            region: caller.region.to_string(),
            alias_name: alias_name.to_string(),
            target_key_id: target,
            creation_date: now,
            last_updated_date: now,
        };
        match self.store.create_alias(record).await {
            Ok(()) => {
                self.remember_alias(&caller.account_id, caller.region, alias_name, Some(target));
                Ok(())
            }
            Err(StoreError::AlreadyExists) => Err(CoreError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                self.alias_arn(caller, alias_name)
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// UpdateAlias: points an existing alias at another key of the same type and usage.
    pub async fn update_alias(
        &self,
        caller: &Caller,
        alias_name: &str,
        target_key_id: &str,
    ) -> Result<(), CoreError> {
        check_alias_name(alias_name)?;
        // On the alias, the key it points at now and the key it is to point at.
        self.authorize_alias(
            caller,
            Action::UpdateAlias,
            &self.alias_arn(caller, alias_name),
        )?;
        let current = self
            .store
            .get_alias(&caller.account_id, caller.region, alias_name)
            .await?
            .ok_or_else(|| self.alias_not_found(caller, alias_name))?;
        let old = self
            .key_by_id(KeyAddr::new(caller.region, current.target_key_id))
            .await?;
        if let Some(old) = &old {
            self.authorize(caller, Action::UpdateAlias, old).await?;
        }
        let target = self
            .alias_target_key(caller, target_key_id, Action::UpdateAlias)
            .await?;
        let new = self.key_by_id(KeyAddr::new(caller.region, target)).await?;
        if let (Some(old), Some(new)) = (old, new) {
            if old.key_spec != new.key_spec || old.key_usage != new.key_usage {
                return Err(CoreError::Validation(format!(
                    "Alias {} cannot be changed from a key of type {}/{} to a key of type {}/{}",
                    alias_name, old.key_spec, old.key_usage, new.key_spec, new.key_usage
                )));
            }
        }
        let now = self.now();
        match self
            .store
            .update_alias(&caller.account_id, caller.region, alias_name, target, now)
            .await
        {
            Ok(_) => {
                self.remember_alias(&caller.account_id, caller.region, alias_name, Some(target));
                Ok(())
            }
            Err(StoreError::NotFound) => Err(self.alias_not_found(caller, alias_name)),
            Err(e) => Err(e.into()),
        }
    }

    /// DeleteAlias.
    pub async fn delete_alias(&self, caller: &Caller, alias_name: &str) -> Result<(), CoreError> {
        if alias_name.starts_with(RESERVED_PREFIX) {
            return Err(reserved(alias_name));
        }
        // On the alias and on its key.
        self.authorize_alias(
            caller,
            Action::DeleteAlias,
            &self.alias_arn(caller, alias_name),
        )?;
        let current = self
            .store
            .get_alias(&caller.account_id, caller.region, alias_name)
            .await?
            .ok_or_else(|| self.alias_not_found(caller, alias_name))?;
        if let Some(key) = self
            .key_by_id(KeyAddr::new(caller.region, current.target_key_id))
            .await?
        {
            self.authorize(caller, Action::DeleteAlias, &key).await?;
        }
        match self
            .store
            .delete_alias(&caller.account_id, caller.region, alias_name)
            .await
        {
            Ok(()) | Err(StoreError::NotFound) => {
                self.remember_alias(&caller.account_id, caller.region, alias_name, None);
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// ListAliases: the caller's aliases in this Region, or only those of one key.
    pub async fn list_aliases(
        &self,
        caller: &Caller,
        key_id: Option<&str>,
        limit: Option<i32>,
        marker: Option<&str>,
    ) -> Result<Page<AliasRecord>, CoreError> {
        let mut aliases = self
            .store
            .list_aliases(&caller.account_id, caller.region)
            .await?;
        if let Some(k) = key_id {
            if KeyRef::parse(k, caller.region)?.is_alias() {
                return Err(CoreError::InvalidArn(format!("Invalid keyId {k}")));
            }
            let key = self
                .usable_key(caller, k, Action::ListAliases)
                .await?
                .record;
            aliases.retain(|a| a.target_key_id == key.key_id);
        }
        page_by_index(aliases, marker, page_limit(limit))
    }

    /// Resolves the key an alias is to point at: a key id or key ARN (never an alias) of the
    /// caller's account, in a state that allows the action.
    async fn alias_target_key(
        &self,
        caller: &Caller,
        target_key_id: &str,
        action: Action,
    ) -> Result<crate::model::KeyId, CoreError> {
        if KeyRef::parse(target_key_id, caller.region)?.is_alias() {
            return Err(CoreError::Validation(
                "Aliases must refer to keys. Not aliases".into(),
            ));
        }
        let key = self.usable_key(caller, target_key_id, action).await?.record;
        if key.account_id != caller.account_id {
            return Err(crate::authorize::access_denied(caller, action, &key.arn()));
        }
        Ok(key.key_id)
    }

    fn alias_not_found(&self, caller: &Caller, alias_name: &str) -> CoreError {
        CoreError::NotFound(format!(
            "Alias {} is not found.",
            self.alias_arn(caller, alias_name)
        ))
    }

    /// The ARN of the caller's alias in this Region.
    fn alias_arn(&self, caller: &Caller, alias_name: &str) -> String {
        alias_arn(caller.region, &caller.account_id, alias_name)
    }
}

/// AWS's rules for alias names beyond the model's pattern.
fn check_alias_name(alias_name: &str) -> Result<(), CoreError> {
    if !alias_name.starts_with("alias/") {
        return Err(CoreError::Validation(NO_PREFIX_MESSAGE.into()));
    }
    let valid = alias_name.strip_prefix("alias/").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-'))
    });
    if !valid {
        return Err(CoreError::Validation(format!(
            "1 validation error detected: Value '{alias_name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: {ALIAS_PATTERN}"
        )));
    }
    if alias_name.starts_with(RESERVED_PREFIX) {
        return Err(reserved(alias_name));
    }
    Ok(())
}

fn reserved(alias_name: &str) -> CoreError {
    CoreError::NotAuthorized(format!(
        "Alias {alias_name} is reserved: names that begin with {RESERVED_PREFIX} belong to AWS managed keys."
    ))
}
