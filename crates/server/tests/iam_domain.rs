//! The IAM/STS domain (`trent_core::iam`) against the SQLite store: the generic user/role
//! operations, the one identity-policy evaluator as IAM uses it, the authorization tokens,
//! and AssumeRole's rules and sessions.
// test code: a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::sync::Arc;

use trent_core::clock::SystemClock;
use trent_core::iam::{
    Iam, IamCaller, IamError, KeyAction, KeyOwner, NewRole, NewUser, PrincipalAction,
    PrincipalRecord, RoleRecord, UserRecord,
};
use trent_core::model::{AccessKeyRecord, AccessKeyStatus, AccountId, AccountRecord, Tag};
use trent_core::policy::ContextKeys;
use trent_core::{CacheSizes, Identity, Kms};
use trent_crypto::root::{access_key_secret_wrapping_aad, RootKey};
use trent_store_sqlite::SqliteStore;

const ACCOUNT: &str = "111122223333";

fn account() -> AccountId {
    AccountId::parse(ACCOUNT).unwrap()
}

/// A KMS and IAM domain over an in-memory store with one account.
async fn domain() -> (Kms, Iam) {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let root_key = Arc::new(RootKey::generate().unwrap());
    let kms = Kms::new(
        store.clone(),
        root_key.clone(),
        Arc::new(SystemClock),
        "us-west-2",
        CacheSizes::default(),
    );
    let key_id = "AKIAROOTROOTROOTROOT";
    let first = AccessKeyRecord {
        access_key_id: key_id.into(),
        account_id: account(),
        principal_arn: format!("arn:aws:iam::{ACCOUNT}:root"),
        wrapped_secret: root_key
            .wrap(&access_key_secret_wrapping_aad(key_id), b"root-secret")
            .unwrap(),
        status: AccessKeyStatus::Active,
        created: kms.now(),
    };
    use trent_core::store::Store;
    store
        .create_account(
            AccountRecord {
                account_id: account(),
                created: kms.now(),
            },
            first,
        )
        .await
        .unwrap();
    let iam = Iam::load(&kms).await.unwrap();
    (kms, iam)
}

fn root() -> KeyOwner {
    KeyOwner::account_root(&account(), Arc::new(Identity::account_root(&account())))
}

fn caller(owner: &KeyOwner) -> IamCaller<'_> {
    IamCaller {
        owner,
        keys: Arc::new(ContextKeys::new()),
    }
}

fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.into(),
        value: value.into(),
    }
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        path: "/".into(),
        name: name.into(),
        tags: Vec::new(),
    }
}

fn new_role(name: &str, trust: &str) -> NewRole {
    NewRole {
        path: "/".into(),
        name: name.into(),
        tags: Vec::new(),
        trust_policy: trust.into(),
        description: None,
        max_session_duration: 3600,
    }
}

fn trust_account() -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

/// What the generic operations do, checked for one kind.
async fn generic_lifecycle<P: PrincipalRecord>(iam: &Iam, created: &str) {
    let owner = root();
    let c = caller(&owner);
    // The name compares case-insensitively.
    assert!(iam.get::<P>(&c, &created.to_uppercase()).is_ok());
    assert_eq!(iam.list::<P>(&c, "/").unwrap().len(), 1);
    assert!(iam.list::<P>(&c, "/other/").unwrap().is_empty());
    iam.tag::<P>(&c, created, vec![tag("Team", "a")])
        .await
        .unwrap();
    iam.tag::<P>(&c, created, vec![tag("team", "b")])
        .await
        .unwrap();
    let tags = iam.list_tags::<P>(&c, created).unwrap();
    assert_eq!(tags, vec![tag("team", "b")]);
    iam.untag::<P>(&c, created, vec!["TEAM".into()])
        .await
        .unwrap();
    assert!(iam.list_tags::<P>(&c, created).unwrap().is_empty());

    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#;
    let token = iam
        .authorize_on::<P>(&c, PrincipalAction::PutPolicy, created)
        .unwrap();
    iam.put_policy(token, "p", doc).await.unwrap();
    assert_eq!(iam.list_policies::<P>(&c, created).unwrap(), vec!["p"]);
    assert_eq!(iam.get_policy::<P>(&c, created, "p").unwrap().1, doc);
    // A principal with a policy cannot be deleted.
    assert!(matches!(
        iam.delete::<P>(&c, created).await,
        Err(IamError::DeleteConflict(m)) if m == "Cannot delete entity, must delete policies first."
    ));
    iam.delete_policy::<P>(&c, created, "p").await.unwrap();
    let missing = iam.delete_policy::<P>(&c, created, "p").await.unwrap_err();
    assert_eq!(
        missing.to_string(),
        format!(
            "The {} policy with name p cannot be found.",
            P::KIND.as_str()
        )
    );
    iam.delete::<P>(&c, created).await.unwrap();
    let Err(gone) = iam.get::<P>(&c, created) else {
        panic!("{created} is still there")
    };
    assert_eq!(
        gone.to_string(),
        format!(
            "The {} with name {created} cannot be found.",
            P::KIND.as_str()
        )
    );
}

#[tokio::test]
async fn users_and_roles_go_through_the_same_operations() {
    let (_kms, iam) = domain().await;
    let owner = root();
    let c = caller(&owner);
    iam.create(&c, new_user("alice")).await.unwrap();
    let again = iam.create(&c, new_user("ALICE")).await.unwrap_err();
    assert_eq!(again.to_string(), "User with name ALICE already exists.");
    iam.create(&c, new_role("Admin", &trust_account()))
        .await
        .unwrap();
    let again = iam
        .create(&c, new_role("admin", &trust_account()))
        .await
        .unwrap_err();
    assert_eq!(again.to_string(), "Role with name admin already exists.");
    generic_lifecycle::<UserRecord>(&iam, "alice").await;
    generic_lifecycle::<RoleRecord>(&iam, "Admin").await;
}

#[tokio::test]
async fn a_role_with_a_resource_in_its_trust_policy_is_refused_before_it_is_stored() {
    let (_kms, iam) = domain().await;
    let owner = root();
    let bad = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Resource":"*"}}"#;
    let e = iam
        .create(&caller(&owner), new_role("R", bad))
        .await
        .unwrap_err();
    assert!(matches!(e, IamError::MalformedPolicyDocument(_)), "{e:?}");
    assert!(iam.principals::<RoleRecord>(&account()).is_empty());
}

/// Creates user `name` with an access key and inline policy `policy` (if any); answers the
/// user as a signer.
async fn user_owner(iam: &Iam, name: &str, policy: Option<&str>) -> KeyOwner {
    let owner = root();
    let c = caller(&owner);
    iam.create(&c, new_user(name)).await.unwrap();
    if let Some(doc) = policy {
        let token = iam
            .authorize_on::<UserRecord>(&c, PrincipalAction::PutPolicy, name)
            .unwrap();
        iam.put_policy(token, "p", doc).await.unwrap();
    }
    let target = iam
        .authorize_access_keys(&c, Some(name), KeyAction::Create)
        .unwrap();
    let (key, _secret) = iam.create_access_key(&target).await.unwrap();
    iam.lookup(&key.access_key_id, None).unwrap().1
}

#[tokio::test]
async fn iam_actions_are_judged_by_identity_policies_with_awss_messages() {
    let (_kms, iam) = domain().await;
    let nobody = user_owner(&iam, "nobody", None).await;
    let e = iam
        .create(&caller(&nobody), new_user("x"))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/nobody is not authorized to perform: \
             iam:CreateUser on resource: arn:aws:iam::{ACCOUNT}:user/x because no \
             identity-based policy allows the iam:CreateUser action"
        )
    );
    let allow_but_deny_roles = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iam:*","Resource":"*"},
        {"Effect":"Deny","Action":"iam:CreateRole","Resource":"*"}]}"#;
    let admin = user_owner(&iam, "admin", Some(allow_but_deny_roles)).await;
    iam.create(&caller(&admin), new_user("x")).await.unwrap();
    let e = iam
        .create(&caller(&admin), new_role("R", &trust_account()))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .ends_with("with an explicit deny in an identity-based policy"),
        "{e}"
    );
}

#[tokio::test]
async fn an_access_key_token_serves_only_the_action_it_was_authorized_for() {
    let (_kms, iam) = domain().await;
    let alice = user_owner(&iam, "alice", None).await;
    let owner = root();
    let c = caller(&owner);
    let listing = iam
        .authorize_access_keys(&c, Some("alice"), KeyAction::List)
        .unwrap();
    let keys = iam.list_access_keys(&listing).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(listing.user_name(), "alice");
    let e = iam
        .delete_access_key(&listing, &keys[0].access_key_id)
        .await
        .unwrap_err();
    assert!(matches!(e, IamError::Internal(_)), "{e:?}");
    assert!(iam.lookup(&keys[0].access_key_id, None).is_some());
    // A user without policies may not even list its own keys.
    assert!(matches!(
        iam.authorize_access_keys(&caller(&alice), None, KeyAction::List),
        Err(IamError::AccessDenied(_))
    ));
    // The quota: two keys per user.
    let creating = iam
        .authorize_access_keys(&c, Some("alice"), KeyAction::Create)
        .unwrap();
    iam.create_access_key(&creating).await.unwrap();
    assert!(matches!(
        iam.create_access_key(&creating).await,
        Err(IamError::LimitExceeded(m)) if m == "Cannot exceed quota for AccessKeysPerUser: 2"
    ));
}

#[tokio::test]
async fn assume_role_follows_the_trust_policy_and_its_session_dies_with_the_role() {
    let (_kms, iam) = domain().await;
    let owner = root();
    let c = caller(&owner);
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/Admin");
    iam.create(&c, new_role("Admin", &trust_account()))
        .await
        .unwrap();
    let Err(e) = iam.assume_role(&c, &role_arn, "s", 900) else {
        panic!("a root assumed a role")
    };
    assert_eq!(e.to_string(), "Roles may not be assumed by root accounts.");

    // Trusted through the account: the caller's identity policies must allow it too.
    let plain = user_owner(&iam, "plain", None).await;
    assert!(matches!(
        iam.assume_role(&caller(&plain), &role_arn, "s", 900),
        Err(IamError::AccessDenied(_))
    ));
    let may = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}"#;
    let assumer = user_owner(&iam, "assumer", Some(may)).await;
    assert!(matches!(
        iam.assume_role(&caller(&assumer), &role_arn, "s", 7200),
        Err(IamError::Validation(_))
    ));
    let issued = iam
        .assume_role(&caller(&assumer), &role_arn, "s", 900)
        .unwrap();
    assert!(issued.access_key_id.starts_with("ASIA"));
    assert_eq!(
        issued.arn,
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/Admin/s")
    );
    let (secret, session) = iam
        .lookup(&issued.access_key_id, Some(&issued.session_token))
        .unwrap();
    assert_eq!(*secret, *issued.secret_access_key);
    assert_eq!(session.principal_arn, issued.arn);
    assert!(iam.lookup(&issued.access_key_id, None).is_none());

    // A role re-created under the same name does not revive the session.
    iam.delete::<RoleRecord>(&c, "Admin").await.unwrap();
    iam.create(&c, new_role("Admin", &trust_account()))
        .await
        .unwrap();
    assert!(iam
        .lookup(&issued.access_key_id, Some(&issued.session_token))
        .is_none());
}
