//! Authorization: may this caller perform this action on this key?
//!
//! Today Trent's principals are account roots, and every key carries AWS's default key
//! policy semantics (the account root may do everything with its account's keys), so the
//! decision is: same account → allow; another account → deny with AWS's message. Full key
//! policy, IAM policy and grant evaluation plugs in here (issue "Access control for real").

use crate::action::Action;
use crate::caller::Caller;
use crate::error::CoreError;
use crate::model::KeyRecord;

/// Decides whether `caller` may perform `action` on `key`.
pub fn authorize(caller: &Caller, action: Action, key: &KeyRecord) -> Result<(), CoreError> {
    if caller.account_id == key.account_id {
        return Ok(());
    }
    Err(access_denied(caller, action, &key.arn()))
}

/// AWS's AccessDeniedException message for an implicit deny.
pub fn access_denied(caller: &Caller, action: Action, resource_arn: &str) -> CoreError {
    CoreError::AccessDenied(format!(
        "User: {} is not authorized to perform: {} on resource: {} because no resource-based policy allows the {} action",
        caller.principal_arn,
        action.policy_name(),
        resource_arn,
        action.policy_name()
    ))
}
