//! The request context a policy is evaluated against: who calls ([`Principal`]), what they
//! do (action), on what (resource), and the condition keys of the request ([`ContextKeys`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// What kind of identity a [`Principal`] is, as its ARN says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    /// The account itself: `arn:aws:iam::ACCOUNT:root`.
    Root,
    /// An IAM user: `arn:aws:iam::ACCOUNT:user/NAME`.
    User,
    /// An IAM role acting directly: `arn:aws:iam::ACCOUNT:role/NAME`.
    Role,
    /// A role session: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    AssumedRole,
    /// A federated user session: `arn:aws:sts::ACCOUNT:federated-user/NAME`.
    FederatedUser,
    /// An AWS service principal such as `logs.amazonaws.com`.
    Service,
}

impl PrincipalType {
    /// The value of `aws:PrincipalType` for this kind of principal.
    pub fn aws_name(self) -> &'static str {
        match self {
            PrincipalType::Root => "Account",
            PrincipalType::User => "User",
            PrincipalType::Role | PrincipalType::AssumedRole => "AssumedRole",
            PrincipalType::FederatedUser => "FederatedUser",
            PrincipalType::Service => "Service",
        }
    }
}

/// A principal ARN that [`Principal::from_arn`] cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a principal ARN (root, user, role, assumed-role or federated-user)")]
pub struct InvalidPrincipalArn(pub String);

/// The caller of a request, as authentication established it.
///
/// Built once per request from the principal's ARN; the policy keys that describe the
/// principal (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`,
/// `aws:username`, `aws:userid`, `aws:PrincipalTag/…`) are answered from it, so they need not
/// be copied into [`ContextKeys`] (a value there takes precedence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    arn: String,
    account_id: String,
    principal_type: PrincipalType,
    /// For a role session, the role's ARN (what `aws:PrincipalArn` reports and what a policy
    /// names to match every session of the role); for a role, its own ARN.
    role_arn: Option<String>,
    /// For an IAM user, the user name (`aws:username`).
    user_name: Option<String>,
    user_id: Option<String>,
    /// Tag keys lower-cased (tag keys in condition keys are case-insensitive).
    tags: Vec<(String, String)>,
}

impl Principal {
    /// Reads a principal ARN: `arn:PARTITION:iam::ACCOUNT:root`, `…:user/[PATH/]NAME`,
    /// `…:role/[PATH/]NAME`, `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION` or
    /// `arn:PARTITION:sts::ACCOUNT:federated-user/NAME`.
    pub fn from_arn(arn: &str) -> Result<Principal, InvalidPrincipalArn> {
        let bad = || InvalidPrincipalArn(arn.to_owned());
        let parsed = parse_principal_arn(arn).ok_or_else(bad)?;
        let mut principal = Principal {
            arn: arn.to_owned(),
            account_id: parsed.account.to_owned(),
            principal_type: parsed.principal_type,
            role_arn: None,
            user_name: None,
            user_id: None,
            tags: Vec::new(),
        };
        match parsed.principal_type {
            PrincipalType::User => {
                principal.user_name = parsed.name.rsplit('/').next().map(str::to_owned);
            }
            PrincipalType::Role => principal.role_arn = Some(arn.to_owned()),
            PrincipalType::AssumedRole => {
                let role = parsed.name.split('/').next().unwrap_or_default();
                principal.role_arn = Some(format!(
                    "arn:{}:iam::{}:role/{}",
                    parsed.partition, parsed.account, role
                ));
            }
            PrincipalType::Root => principal.user_id = Some(parsed.account.to_owned()),
            PrincipalType::FederatedUser | PrincipalType::Service => {}
        }
        Ok(principal)
    }

    /// An AWS service principal, e.g. `logs.amazonaws.com` (matched by `{"Service": …}`).
    pub fn service(name: &str) -> Principal {
        Principal {
            arn: name.to_owned(),
            account_id: String::new(),
            principal_type: PrincipalType::Service,
            role_arn: None,
            user_name: None,
            user_id: None,
            tags: Vec::new(),
        }
    }

    /// Sets the unique id reported as `aws:userid` (AWS: `AIDA…` for a user,
    /// `AROA…:SESSION` for a role session; the account id for the root, the default).
    pub fn with_user_id(mut self, user_id: impl Into<String>) -> Principal {
        self.user_id = Some(user_id.into());
        self
    }

    /// Sets the role ARN of a role session, when the role has a path (a session ARN does not
    /// carry the path, so [`Principal::from_arn`] assumes none).
    pub fn with_role_arn(mut self, role_arn: impl Into<String>) -> Principal {
        self.role_arn = Some(role_arn.into());
        self
    }

    /// Adds a principal tag (`aws:PrincipalTag/KEY`).
    pub fn with_tag(mut self, key: &str, value: impl Into<String>) -> Principal {
        let key = key.to_lowercase();
        self.tags.retain(|(k, _)| *k != key);
        self.tags.push((key, value.into()));
        self
    }

    /// The principal's ARN as authenticated.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The principal's account (empty for a service principal).
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// What kind of principal this is.
    pub fn principal_type(&self) -> PrincipalType {
        self.principal_type
    }

    /// For a role or role session, the role's ARN.
    pub fn role_arn(&self) -> Option<&str> {
        self.role_arn.as_deref()
    }

    /// Whether this is the account root (which needs no identity policy in its own account).
    pub fn is_root(&self) -> bool {
        self.principal_type == PrincipalType::Root
    }

    /// The value of `aws:PrincipalArn`: the role ARN for a role session, else the ARN.
    pub fn principal_arn_key(&self) -> &str {
        match self.principal_type {
            PrincipalType::AssumedRole => self.role_arn.as_deref().unwrap_or(&self.arn),
            _ => &self.arn,
        }
    }

    /// The value of a principal tag, by case-insensitive key (`lower_key` already lower-case).
    fn tag(&self, lower_key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == lower_key)
            .map(|(_, v)| v.as_str())
    }
}

struct ParsedArn<'a> {
    partition: &'a str,
    account: &'a str,
    principal_type: PrincipalType,
    /// The resource part after `user/`, `role/`, `assumed-role/`, `federated-user/`.
    name: &'a str,
}

/// Reads a principal ARN; `None` if it is not one.
fn parse_principal_arn(arn: &str) -> Option<ParsedArn<'_>> {
    let mut fields = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(""), Some(account), Some(resource)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return None;
    };
    if !is_partition(partition) || !is_account_id(account) {
        return None;
    }
    let (principal_type, name) = match service {
        "iam" if resource == "root" => (PrincipalType::Root, ""),
        "iam" => {
            if let Some(name) = resource.strip_prefix("user/") {
                (PrincipalType::User, name)
            } else if let Some(name) = resource.strip_prefix("role/") {
                (PrincipalType::Role, name)
            } else {
                return None;
            }
        }
        "sts" => {
            if let Some(name) = resource.strip_prefix("assumed-role/") {
                let (role, session) = name.split_once('/')?;
                if role.is_empty() || session.is_empty() || session.contains('/') {
                    return None;
                }
                (PrincipalType::AssumedRole, name)
            } else if let Some(name) = resource.strip_prefix("federated-user/") {
                (PrincipalType::FederatedUser, name)
            } else {
                return None;
            }
        }
        _ => return None,
    };
    if principal_type != PrincipalType::Root
        && (name.is_empty() || name.ends_with('/') || name.starts_with('/'))
    {
        return None;
    }
    Some(ParsedArn {
        partition,
        account,
        principal_type,
        name,
    })
}

/// Whether `arn` is an IAM principal ARN usable in a policy's `Principal` (no wildcards).
pub(crate) fn is_principal_arn(arn: &str) -> bool {
    !arn.contains(['*', '?']) && parse_principal_arn(arn).is_some()
}

/// If `arn` is an account root ARN, its account.
pub(crate) fn root_arn_account(arn: &str) -> Option<&str> {
    parse_principal_arn(arn)
        .filter(|p| p.principal_type == PrincipalType::Root)
        .map(|p| p.account)
}

fn is_partition(s: &str) -> bool {
    s.starts_with("aws") && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

/// Whether `s` is a 12-digit AWS account id.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The condition keys of a request, multi-valued, with case-insensitive names
/// (e.g. `kms:EncryptionContext:Department`, `kms:EncryptionContextKeys`, `aws:SourceIp`,
/// `aws:CurrentTime`, `aws:SecureTransport`, `aws:ResourceTag/Team`).
///
/// A key with no values is treated as absent.
///
/// Keys may also come from shared layers ([`ContextKeys::layered`]): a request's own keys and
/// a resource's keys, each built once and shared, are combined per evaluation without copying.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextKeys {
    map: HashMap<String, Vec<String>>,
    /// Consulted after `map` and before `layers`; built on the first lookup.
    deferred: Option<Arc<Deferred>>,
    /// Consulted in order after `map`.
    layers: Vec<Arc<ContextKeys>>,
}

/// Keys built only when a policy first asks for one: most requests meet policies without
/// conditions, and building every key of every request (formatting times and addresses,
/// copying encryption contexts) cost more than evaluating the policies.
pub(crate) struct Deferred {
    build: Box<dyn Fn(&mut ContextKeys) + Send + Sync>,
    built: OnceLock<ContextKeys>,
}

impl Deferred {
    fn keys(&self) -> &ContextKeys {
        self.built.get_or_init(|| {
            let mut keys = ContextKeys::new();
            (self.build)(&mut keys);
            keys
        })
    }
}

impl fmt::Debug for Deferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Deferred").field(self.keys()).finish()
    }
}

impl PartialEq for Deferred {
    fn eq(&self, other: &Deferred) -> bool {
        self.keys() == other.keys()
    }
}

impl Eq for Deferred {}

impl ContextKeys {
    /// No keys.
    pub fn new() -> ContextKeys {
        ContextKeys::default()
    }

    /// Keys read from `layers`, in order (the first layer holding a key answers it); keys
    /// inserted afterwards take precedence over every layer.
    pub fn layered(layers: impl IntoIterator<Item = Arc<ContextKeys>>) -> ContextKeys {
        ContextKeys {
            layers: layers.into_iter().collect(),
            ..ContextKeys::default()
        }
    }

    /// Keys that `build` adds on the first lookup of any key, once; keys inserted afterwards
    /// take precedence over them.
    pub fn deferred(build: impl Fn(&mut ContextKeys) + Send + Sync + 'static) -> ContextKeys {
        ContextKeys {
            deferred: Some(Arc::new(Deferred {
                build: Box::new(build),
                built: OnceLock::new(),
            })),
            ..ContextKeys::default()
        }
    }

    /// Adds one value to `key` (keeping its other values).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) -> &mut ContextKeys {
        self.map
            .entry(key.to_lowercase())
            .or_default()
            .push(value.into());
        self
    }

    /// Sets all values of `key`, replacing any it had.
    pub fn set<I, V>(&mut self, key: &str, values: I) -> &mut ContextKeys
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.map.insert(
            key.to_lowercase(),
            values.into_iter().map(Into::into).collect(),
        );
        self
    }

    /// Removes `key` from these keys' own values (a shared layer keeps its own).
    pub fn remove(&mut self, key: &str) -> &mut ContextKeys {
        self.map.remove(&key.to_lowercase());
        self
    }

    /// The values of `key` (any case); `None` if absent or empty.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        if key.chars().any(char::is_uppercase) {
            self.get_lower(&key.to_lowercase())
        } else {
            self.get_lower(key)
        }
    }

    fn get_lower(&self, lower_key: &str) -> Option<&[String]> {
        if let Some(v) = self.map.get(lower_key).filter(|v| !v.is_empty()) {
            return Some(v.as_slice());
        }
        if let Some(v) = self
            .deferred
            .as_ref()
            .and_then(|d| d.keys().get_lower(lower_key))
        {
            return Some(v);
        }
        self.layers.iter().find_map(|l| l.get_lower(lower_key))
    }
}

/// Everything one policy evaluation looks at.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// Who calls.
    pub principal: &'a Principal,
    /// The action, e.g. `kms:Encrypt` (compared case-insensitively).
    pub action: &'a str,
    /// The resource ARN, e.g. the key's ARN (compared case-sensitively).
    pub resource: &'a str,
    /// The request's condition keys.
    pub keys: &'a ContextKeys,
}

/// The values of one condition key in a request, without copying them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Values<'a> {
    One(&'a str),
    Many(&'a [String]),
}

impl<'a> Values<'a> {
    pub(crate) fn iter(self) -> impl Iterator<Item = &'a str> {
        let (one, many) = match self {
            Values::One(v) => (Some(v), &[][..]),
            Values::Many(vs) => (None, vs),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }

    fn single(self) -> Option<&'a str> {
        match self {
            Values::One(v) => Some(v),
            Values::Many([v]) => Some(v),
            Values::Many(_) => None,
        }
    }
}

impl<'a> RequestContext<'a> {
    /// The values of a condition key (`lower_key` lower-case): the request's own keys first,
    /// then the keys that describe the principal.
    pub(crate) fn lookup(&self, lower_key: &str) -> Option<Values<'a>> {
        if let Some(values) = self.keys.get_lower(lower_key) {
            return Some(Values::Many(values));
        }
        let p = self.principal;
        let derived = match lower_key {
            "aws:principalarn" => Some(p.principal_arn_key()),
            "aws:principalaccount" if !p.account_id.is_empty() => Some(p.account_id.as_str()),
            "aws:principaltype" => Some(p.principal_type.aws_name()),
            "aws:username" => p.user_name.as_deref(),
            "aws:userid" => p.user_id.as_deref(),
            _ => lower_key
                .strip_prefix("aws:principaltag/")
                .and_then(|tag| p.tag(tag)),
        };
        derived.map(Values::One)
    }

    /// The value of a policy variable: the key's value if it has exactly one.
    pub(crate) fn variable(&self, lower_key: &str) -> Option<&'a str> {
        self.lookup(lower_key).and_then(Values::single)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_arns_are_read_by_type() {
        let root = Principal::from_arn("arn:aws:iam::111122223333:root").unwrap();
        assert_eq!(root.principal_type(), PrincipalType::Root);
        assert_eq!(root.account_id(), "111122223333");
        assert!(root.is_root());

        let user = Principal::from_arn("arn:aws:iam::111122223333:user/ops/alice").unwrap();
        assert_eq!(user.principal_type(), PrincipalType::User);
        assert_eq!(user.user_name.as_deref(), Some("alice"));

        let session =
            Principal::from_arn("arn:aws:sts::111122223333:assumed-role/Admin/bob").unwrap();
        assert_eq!(session.principal_type(), PrincipalType::AssumedRole);
        assert_eq!(
            session.role_arn(),
            Some("arn:aws:iam::111122223333:role/Admin")
        );
        assert_eq!(
            session.principal_arn_key(),
            "arn:aws:iam::111122223333:role/Admin"
        );

        let role = Principal::from_arn("arn:aws-cn:iam::111122223333:role/x/Admin").unwrap();
        assert_eq!(role.principal_type(), PrincipalType::Role);

        let fed = Principal::from_arn("arn:aws:sts::111122223333:federated-user/carol").unwrap();
        assert_eq!(fed.principal_type(), PrincipalType::FederatedUser);
    }

    #[test]
    fn malformed_principal_arns_are_rejected() {
        for arn in [
            "",
            "arn:aws:iam::1111:root",
            "arn:aws:iam::111122223333:group/devs",
            "arn:aws:iam:us-east-1:111122223333:user/a",
            "arn:aws:sts::111122223333:assumed-role/Admin",
            "arn:aws:iam::111122223333:user/",
            "arn:aws:kms:us-east-1:111122223333:key/x",
        ] {
            assert!(Principal::from_arn(arn).is_err(), "{arn}");
        }
    }

    #[test]
    fn context_keys_are_case_insensitive_and_empty_means_absent() {
        let mut keys = ContextKeys::new();
        keys.insert("kms:EncryptionContext:Department", "IT");
        keys.set("kms:EncryptionContextKeys", Vec::<String>::new());
        assert_eq!(
            keys.get("KMS:encryptioncontext:department"),
            Some(&["IT".to_owned()][..])
        );
        assert_eq!(keys.get("kms:EncryptionContextKeys"), None);
        keys.remove("KMS:ENCRYPTIONCONTEXT:DEPARTMENT");
        assert_eq!(keys.get("kms:EncryptionContext:Department"), None);
    }

    #[test]
    fn layered_keys_answer_in_order_and_own_keys_first() {
        let mut request = ContextKeys::new();
        request.insert("kms:EncryptionContext:Team", "blue");
        request.insert("aws:ResourceTag/Env", "from-request");
        let mut resource = ContextKeys::new();
        resource.insert("aws:ResourceTag/Env", "prod");
        resource.insert("kms:KeySpec", "SYMMETRIC_DEFAULT");
        let mut keys = ContextKeys::layered([Arc::new(request), Arc::new(resource)]);
        assert_eq!(
            keys.get("kms:encryptioncontext:team"),
            Some(&["blue".to_owned()][..])
        );
        assert_eq!(
            keys.get("aws:ResourceTag/Env"),
            Some(&["from-request".to_owned()][..])
        );
        assert_eq!(
            keys.get("kms:KeySpec"),
            Some(&["SYMMETRIC_DEFAULT".to_owned()][..])
        );
        keys.insert("kms:KeySpec", "override");
        assert_eq!(keys.get("kms:KeySpec"), Some(&["override".to_owned()][..]));
        assert_eq!(keys.get("kms:Missing"), None);
    }

    #[test]
    fn deferred_keys_are_built_once_on_first_lookup_and_inserted_keys_win() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let builds = Arc::new(AtomicUsize::new(0));
        let counter = builds.clone();
        let mut keys = ContextKeys::deferred(move |k| {
            counter.fetch_add(1, Ordering::SeqCst);
            k.insert("aws:SourceIp", "10.0.0.1");
            k.insert("kms:CallerAccount", "111122223333");
        });
        assert_eq!(
            builds.load(Ordering::SeqCst),
            0,
            "nothing built before a lookup"
        );
        assert_eq!(keys.get("aws:sourceip"), Some(&["10.0.0.1".to_owned()][..]));
        assert_eq!(keys.get("kms:Missing"), None);
        keys.insert("kms:CallerAccount", "444455556666");
        assert_eq!(
            keys.get("kms:CallerAccount"),
            Some(&["444455556666".to_owned()][..])
        );
        let shared = ContextKeys::layered([Arc::new(keys)]);
        assert_eq!(
            shared.get("aws:SourceIp"),
            Some(&["10.0.0.1".to_owned()][..])
        );
        assert_eq!(builds.load(Ordering::SeqCst), 1, "built exactly once");
    }

    #[test]
    fn principal_keys_are_derived_and_request_keys_take_precedence() {
        let p = Principal::from_arn("arn:aws:iam::111122223333:user/alice")
            .unwrap()
            .with_tag("Team", "blue")
            .with_user_id("AIDAEXAMPLE");
        let mut keys = ContextKeys::new();
        let ctx = RequestContext {
            principal: &p,
            action: "kms:Encrypt",
            resource: "*",
            keys: &keys,
        };
        assert_eq!(ctx.variable("aws:username"), Some("alice"));
        assert_eq!(ctx.variable("aws:userid"), Some("AIDAEXAMPLE"));
        assert_eq!(ctx.variable("aws:principalaccount"), Some("111122223333"));
        assert_eq!(ctx.variable("aws:principaltag/team"), Some("blue"));
        assert_eq!(ctx.variable("aws:principaltype"), Some("User"));
        assert_eq!(ctx.variable("aws:principaltag/other"), None);

        keys.insert("aws:username", "override");
        keys.set("multi", ["a", "b"]);
        let ctx = RequestContext {
            principal: &p,
            action: "kms:Encrypt",
            resource: "*",
            keys: &keys,
        };
        assert_eq!(ctx.variable("aws:username"), Some("override"));
        assert_eq!(
            ctx.variable("multi"),
            None,
            "a multi-valued key is no variable"
        );
    }
}
