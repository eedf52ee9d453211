//! IAM and STS on the KMS listener, through raw signed query-protocol requests: users, access
//! keys, inline policies, roles, AssumeRole sessions, authorization by identity policies and
//! trust policies, restarts, other accounts, and the audit trail.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use serde_json::json;
use trent_core::model::AccountId;
use trent_server::DataDir;
use trent_tests::{Creds, TestServer, ACCOUNT};

const ALLOW_CREATE_USER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateUser","Resource":"*"}]}"#;

fn trust(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

const ALLOW_ASSUME_ROLE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;

/// Creates a user with an access key; returns its credentials.
async fn user_with_key(server: &TestServer, name: &str) -> Creds {
    user_with_key_in(server, &server.admin(), name).await
}

/// Creates a user with an access key in the account of `root`; returns its credentials.
async fn user_with_key_in(server: &TestServer, root: &Creds, name: &str) -> Creds {
    server
        .iam(root, "CreateUser", &[("UserName", name)])
        .await
        .unwrap()
        .assert_query_ok();
    let r = server
        .iam(root, "CreateAccessKey", &[("UserName", name)])
        .await
        .unwrap();
    r.assert_query_ok();
    Creds::new(
        &r.xml("AccessKeyId").unwrap(),
        &r.xml("SecretAccessKey").unwrap(),
    )
}

async fn put_user_policy(server: &TestServer, user: &str, name: &str, doc: &str) {
    put_user_policy_in(server, &server.admin(), user, name, doc).await;
}

async fn put_user_policy_in(server: &TestServer, root: &Creds, user: &str, name: &str, doc: &str) {
    server
        .iam(
            root,
            "PutUserPolicy",
            &[
                ("UserName", user),
                ("PolicyName", name),
                ("PolicyDocument", doc),
            ],
        )
        .await
        .unwrap()
        .assert_query_ok();
}

async fn create_role(server: &TestServer, name: &str, trust_doc: &str) -> String {
    let r = server
        .iam(
            &server.admin(),
            "CreateRole",
            &[("RoleName", name), ("AssumeRolePolicyDocument", trust_doc)],
        )
        .await
        .unwrap();
    r.assert_query_ok();
    r.xml("Arn").unwrap()
}

/// A user in the account of `root` whose identity policy allows `sts:AssumeRole` (an account
/// root may not assume roles); returns its credentials.
async fn assumer_in(server: &TestServer, root: &Creds, name: &str) -> Creds {
    let creds = user_with_key_in(server, root, name).await;
    put_user_policy_in(server, root, name, "assume", ALLOW_ASSUME_ROLE).await;
    creds
}

/// [`assumer_in`] the main account.
async fn assumer(server: &TestServer, name: &str) -> Creds {
    assumer_in(server, &server.admin(), name).await
}

/// AssumeRole; returns the session's credentials.
async fn assume(server: &TestServer, caller: &Creds, role_arn: &str, seconds: &str) -> Creds {
    let r = server
        .sts(
            caller,
            "AssumeRole",
            &[
                ("RoleArn", role_arn),
                ("RoleSessionName", "tests"),
                ("DurationSeconds", seconds),
            ],
        )
        .await
        .unwrap();
    r.assert_query_ok();
    let creds = Creds {
        access_key_id: r.xml("AccessKeyId").unwrap(),
        secret_access_key: r.xml("SecretAccessKey").unwrap(),
        session_token: r.xml("SessionToken"),
    };
    assert!(creds.access_key_id.starts_with("ASIA"));
    assert_eq!(creds.access_key_id.len(), 20);
    creds
}

#[tokio::test]
async fn a_user_without_policies_is_denied_until_a_policy_allows_and_a_deny_wins() {
    let server = TestServer::start().await.unwrap();
    let alice = user_with_key(&server, "alice").await;

    let denied = server
        .iam(&alice, "CreateUser", &[("UserName", "bob")])
        .await
        .unwrap();
    let message = denied.assert_query_error(403, "AccessDenied");
    assert_eq!(
        message,
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: \
             iam:CreateUser on resource: arn:aws:iam::{ACCOUNT}:user/bob because no \
             identity-based policy allows the iam:CreateUser action"
        )
    );
    assert_eq!(denied.xml("Type").as_deref(), Some("Sender"));

    // The policy takes effect for the very next request.
    put_user_policy(&server, "alice", "create", ALLOW_CREATE_USER).await;
    server
        .iam(&alice, "CreateUser", &[("UserName", "bob")])
        .await
        .unwrap()
        .assert_query_ok();
    // Allowed to create users, not to read them.
    server
        .iam(&alice, "GetUser", &[("UserName", "bob")])
        .await
        .unwrap()
        .assert_query_error(403, "AccessDenied");

    put_user_policy(
        &server,
        "alice",
        "deny",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"arn:aws:iam::*:user/carol"}]}"#,
    )
    .await;
    let message = server
        .iam(&alice, "CreateUser", &[("UserName", "carol")])
        .await
        .unwrap()
        .assert_query_error(403, "AccessDenied");
    assert!(message.ends_with("with an explicit deny in an identity-based policy"));

    // GetUser without a name is the caller, who still needs iam:GetUser on itself.
    put_user_policy(
        &server,
        "alice",
        "self",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}]}"#,
    )
    .await;
    let me = server.iam(&alice, "GetUser", &[]).await.unwrap();
    me.assert_query_ok();
    assert_eq!(me.xml("UserName").as_deref(), Some("alice"));
    assert!(me.xml("UserId").unwrap().starts_with("AIDA"));
}

#[tokio::test]
async fn inactive_and_deleted_keys_are_unrecognized() {
    let server = TestServer::start().await.unwrap();
    let alice = user_with_key(&server, "alice").await;
    put_user_policy(
        &server,
        "alice",
        "list-keys",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:ListKeys","Resource":"*"}]}"#,
    )
    .await;
    server
        .call_as(&alice, "ListKeys", &json!({}))
        .await
        .unwrap()
        .assert_ok();

    let admin = server.admin();
    let update = |status: &'static str| {
        let id = alice.access_key_id.clone();
        let admin = admin.clone();
        let server = &server;
        async move {
            server
                .iam(
                    &admin,
                    "UpdateAccessKey",
                    &[
                        ("UserName", "alice"),
                        ("AccessKeyId", &id),
                        ("Status", status),
                    ],
                )
                .await
                .unwrap()
                .assert_query_ok();
        }
    };
    update("Inactive").await;
    server
        .call_as(&alice, "ListKeys", &json!({}))
        .await
        .unwrap()
        .assert_error(400, "UnrecognizedClientException");
    server
        .sts(&alice, "GetCallerIdentity", &[])
        .await
        .unwrap()
        .assert_query_error(403, "InvalidClientTokenId");
    let listed = server
        .iam(&admin, "ListAccessKeys", &[("UserName", "alice")])
        .await
        .unwrap();
    assert_eq!(listed.xml("Status").as_deref(), Some("Inactive"));

    update("Active").await;
    server
        .call_as(&alice, "ListKeys", &json!({}))
        .await
        .unwrap()
        .assert_ok();

    server
        .iam(
            &admin,
            "DeleteAccessKey",
            &[("UserName", "alice"), ("AccessKeyId", &alice.access_key_id)],
        )
        .await
        .unwrap()
        .assert_query_ok();
    server
        .call_as(&alice, "ListKeys", &json!({}))
        .await
        .unwrap()
        .assert_error(400, "UnrecognizedClientException");
    // Without keys or policies the user can now go.
    server
        .iam(
            &admin,
            "DeleteUserPolicy",
            &[("UserName", "alice"), ("PolicyName", "list-keys")],
        )
        .await
        .unwrap()
        .assert_query_ok();
    server
        .iam(&admin, "DeleteUser", &[("UserName", "alice")])
        .await
        .unwrap()
        .assert_query_ok();
}

#[tokio::test]
async fn sessions_work_until_they_expire_and_wrong_tokens_are_rejected() {
    let (server, clock) = TestServer::start_with_manual_clock().await.unwrap();
    let role_arn = create_role(
        &server,
        "Admin",
        &trust(&format!("arn:aws:iam::{ACCOUNT}:root")),
    )
    .await;
    let ops = assumer(&server, "ops").await;
    let session = assume(&server, &ops, &role_arn, "900").await;

    let me = server
        .sts(&session, "GetCallerIdentity", &[])
        .await
        .unwrap();
    me.assert_query_ok();
    assert_eq!(
        me.xml("Arn").as_deref(),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/Admin/tests").as_str())
    );
    assert!(me.xml("UserId").unwrap().ends_with(":tests"));
    // KMS knows the session (it is authenticated) and evaluates the role's identity policies:
    // none yet, so it is denied rather than unrecognized.
    server
        .call_as(&session, "ListKeys", &json!({}))
        .await
        .unwrap()
        .assert_error(400, "AccessDeniedException");

    // The role's identity policies are the session's: none yet, so IAM calls are denied.
    server
        .iam(&session, "ListUsers", &[])
        .await
        .unwrap()
        .assert_query_error(403, "AccessDenied");
    server
        .iam(
            &server.admin(),
            "PutRolePolicy",
            &[
                ("RoleName", "Admin"),
                ("PolicyName", "read"),
                (
                    "PolicyDocument",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:List*","Resource":"*"}]}"#,
                ),
            ],
        )
        .await
        .unwrap()
        .assert_query_ok();
    server
        .iam(&session, "ListUsers", &[])
        .await
        .unwrap()
        .assert_query_ok();

    // A missing, foreign or altered token does not authenticate.
    let other = assume(&server, &ops, &role_arn, "900").await;
    for token in [
        None,
        other.session_token.clone(),
        session.session_token.as_ref().map(|t| format!("{t}A")),
        Some("garbage".to_string()),
    ] {
        let forged = Creds {
            session_token: token,
            ..session.clone()
        };
        server
            .sts(&forged, "GetCallerIdentity", &[])
            .await
            .unwrap()
            .assert_query_error(403, "InvalidClientTokenId");
        server
            .call_as(&forged, "ListKeys", &json!({}))
            .await
            .unwrap()
            .assert_error(400, "UnrecognizedClientException");
    }

    clock.advance(time::Duration::seconds(901));
    let message = server
        .sts(&session, "GetCallerIdentity", &[])
        .await
        .unwrap()
        .assert_query_error(400, "ExpiredToken");
    assert_eq!(
        message,
        "The security token included in the request is expired"
    );
    server
        .call_as(&session, "ListKeys", &json!({}))
        .await
        .unwrap()
        .assert_error(400, "ExpiredTokenException");
}

#[tokio::test]
async fn the_trust_policy_decides_who_may_assume_a_role() {
    let server = TestServer::start().await.unwrap();
    let alice = user_with_key(&server, "alice").await;
    let bob = user_with_key(&server, "bob").await;
    let named = create_role(
        &server,
        "ForBob",
        &trust(&format!("arn:aws:iam::{ACCOUNT}:user/bob")),
    )
    .await;
    let account = create_role(&server, "ForAccount", &trust(ACCOUNT)).await;

    // Named directly in the role's own account: no identity policy needed.
    assume(&server, &bob, &named, "900").await;
    let message = server
        .sts(
            &alice,
            "AssumeRole",
            &[("RoleArn", &named), ("RoleSessionName", "xy")],
        )
        .await
        .unwrap()
        .assert_query_error(403, "AccessDenied");
    assert_eq!(
        message,
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: \
             sts:AssumeRole on resource: {named}"
        )
    );
    // Trusted through the account: the caller's identity policy must allow too.
    server
        .sts(
            &bob,
            "AssumeRole",
            &[("RoleArn", &account), ("RoleSessionName", "xy")],
        )
        .await
        .unwrap()
        .assert_query_error(403, "AccessDenied");
    put_user_policy(&server, "bob", "assume", ALLOW_ASSUME_ROLE).await;
    assume(&server, &bob, &account, "900").await;

    // Beyond the role's MaxSessionDuration (3600 by default).
    let message = server
        .sts(
            &bob,
            "AssumeRole",
            &[
                ("RoleArn", &account),
                ("RoleSessionName", "xy"),
                ("DurationSeconds", "7200"),
            ],
        )
        .await
        .unwrap()
        .assert_query_error(400, "ValidationError");
    assert!(message.contains("MaxSessionDuration"));
    // A missing role reads as a denial, as in AWS.
    server
        .sts(
            &bob,
            "AssumeRole",
            &[
                ("RoleArn", &format!("arn:aws:iam::{ACCOUNT}:role/Nope")),
                ("RoleSessionName", "xy"),
            ],
        )
        .await
        .unwrap()
        .assert_query_error(403, "AccessDenied");
}

#[tokio::test]
async fn iam_errors_have_iams_codes_statuses_and_shape() {
    let server = TestServer::start().await.unwrap();
    let admin = server.admin();
    let missing = server
        .iam(&admin, "GetUser", &[("UserName", "nobody")])
        .await
        .unwrap();
    assert_eq!(
        missing.assert_query_error(404, "NoSuchEntity"),
        "The user with name nobody cannot be found."
    );
    let body = String::from_utf8_lossy(&missing.body).to_string();
    assert!(body.starts_with(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
    ));
    assert_eq!(missing.xml("RequestId").as_deref(), missing.request_id());

    user_with_key(&server, "alice").await;
    assert_eq!(
        server
            .iam(&admin, "CreateUser", &[("UserName", "ALICE")])
            .await
            .unwrap()
            .assert_query_error(409, "EntityAlreadyExists"),
        "User with name ALICE already exists."
    );
    let malformed = server
        .iam(
            &admin,
            "PutUserPolicy",
            &[
                ("UserName", "alice"),
                ("PolicyName", "p"),
                ("PolicyDocument", r#"{"Statement":[{"Effect":"Maybe"}]}"#),
            ],
        )
        .await
        .unwrap();
    assert!(malformed
        .assert_query_error(400, "MalformedPolicyDocument")
        .contains("Effect"));
    server
        .iam(
            &admin,
            "PutUserPolicy",
            &[
                ("UserName", "alice"),
                ("PolicyName", "p"),
                ("PolicyDocument", ALLOW_CREATE_USER),
            ],
        )
        .await
        .unwrap()
        .assert_query_ok();
    let got = server
        .iam(
            &admin,
            "GetUserPolicy",
            &[("UserName", "alice"), ("PolicyName", "p")],
        )
        .await
        .unwrap();
    got.assert_query_ok();
    assert!(got
        .xml("PolicyDocument")
        .unwrap()
        .starts_with("%7B%22Version%22%3A"));
    assert_eq!(
        server
            .iam(&admin, "ListUserPolicies", &[("UserName", "alice")])
            .await
            .unwrap()
            .xml_all("member"),
        vec!["p"]
    );

    server
        .iam(&admin, "CreateAccessKey", &[("UserName", "alice")])
        .await
        .unwrap()
        .assert_query_ok();
    assert_eq!(
        server
            .iam(&admin, "CreateAccessKey", &[("UserName", "alice")])
            .await
            .unwrap()
            .assert_query_error(409, "LimitExceeded"),
        "Cannot exceed quota for AccessKeysPerUser: 2"
    );
    assert_eq!(
        server
            .iam(&admin, "DeleteUser", &[("UserName", "alice")])
            .await
            .unwrap()
            .assert_query_error(409, "DeleteConflict"),
        "Cannot delete entity, must delete access keys first."
    );
    assert!(server
        .iam(&admin, "CreateUser", &[("UserName", "bad name")])
        .await
        .unwrap()
        .assert_query_error(400, "ValidationError")
        .contains("'userName'"));
    server
        .iam(&admin, "CreateUser", &[])
        .await
        .unwrap()
        .assert_query_error(400, "ValidationError");
    server
        .iam(&admin, "CreateGroup", &[("GroupName", "g")])
        .await
        .unwrap()
        .assert_query_error(400, "InvalidAction");
    let bad_signature = Creds::new(&admin.access_key_id, "not the secret");
    server
        .iam(&bad_signature, "ListUsers", &[])
        .await
        .unwrap()
        .assert_query_error(403, "SignatureDoesNotMatch");
}

#[tokio::test]
async fn tags_change_the_principal_for_the_next_request() {
    let server = TestServer::start().await.unwrap();
    let admin = server.admin();
    let alice = user_with_key(&server, "alice").await;
    put_user_policy(
        &server,
        "alice",
        "abac",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/Team":"blue"}}}]}"#,
    )
    .await;
    server
        .iam(&alice, "ListUsers", &[])
        .await
        .unwrap()
        .assert_query_error(403, "AccessDenied");
    server
        .iam(
            &admin,
            "TagUser",
            &[
                ("UserName", "alice"),
                ("Tags.member.1.Key", "Team"),
                ("Tags.member.1.Value", "blue"),
            ],
        )
        .await
        .unwrap()
        .assert_query_ok();
    let listed = server.iam(&alice, "ListUsers", &[]).await.unwrap();
    listed.assert_query_ok();
    assert_eq!(listed.xml_all("UserName"), vec!["alice"]);
    let tags = server
        .iam(&admin, "ListUserTags", &[("UserName", "alice")])
        .await
        .unwrap();
    assert_eq!(tags.xml("Value").as_deref(), Some("blue"));
    server
        .iam(
            &admin,
            "UntagUser",
            &[("UserName", "alice"), ("TagKeys.member.1", "team")],
        )
        .await
        .unwrap()
        .assert_query_ok();
    server
        .iam(&alice, "ListUsers", &[])
        .await
        .unwrap()
        .assert_query_error(403, "AccessDenied");
}

#[tokio::test]
async fn a_restart_keeps_users_keys_policies_roles_and_sessions() {
    let mut server = TestServer::start().await.unwrap();
    let alice = user_with_key(&server, "alice").await;
    put_user_policy(&server, "alice", "create", ALLOW_CREATE_USER).await;
    let role_arn = create_role(&server, "Admin", &trust(ACCOUNT)).await;
    let ops = assumer(&server, "ops").await;
    let session = assume(&server, &ops, &role_arn, "3600").await;

    server.restart().await.unwrap();
    server
        .iam(&alice, "CreateUser", &[("UserName", "bob")])
        .await
        .unwrap()
        .assert_query_ok();
    server
        .sts(&session, "GetCallerIdentity", &[])
        .await
        .unwrap()
        .assert_query_ok();
    let roles = server.iam(&server.admin(), "ListRoles", &[]).await.unwrap();
    assert_eq!(roles.xml_all("RoleName"), vec!["Admin"]);

    // Deleting the role ends its sessions at once.
    server
        .iam(&server.admin(), "DeleteRole", &[("RoleName", "Admin")])
        .await
        .unwrap()
        .assert_query_ok();
    server
        .sts(&session, "GetCallerIdentity", &[])
        .await
        .unwrap()
        .assert_query_error(403, "InvalidClientTokenId");
}

#[tokio::test]
async fn another_account_sees_only_itself_and_assumes_roles_only_where_trusted() {
    let mut server = TestServer::start().await.unwrap();
    user_with_key(&server, "alice").await;
    let trusts_other = create_role(&server, "Partner", &trust("444455556666")).await;
    let trusts_self = create_role(&server, "Local", &trust(ACCOUNT)).await;

    server.stop().await.unwrap();
    let other = AccountId::parse("444455556666").unwrap();
    let key = DataDir::new(server.data_dir())
        .create_account(&other)
        .await
        .unwrap();
    let credentials = std::fs::read_to_string(server.data_dir().join("credentials")).unwrap();
    assert!(credentials.contains("[trent-444455556666]"));
    assert!(credentials.contains(&key.access_key_id));
    server.open().await.unwrap();
    let other_root = Creds::new(&key.access_key_id, key.secret_access_key.as_str());

    let me = server
        .sts(&other_root, "GetCallerIdentity", &[])
        .await
        .unwrap();
    assert_eq!(me.xml("Account").as_deref(), Some("444455556666"));
    server
        .iam(&other_root, "GetUser", &[("UserName", "alice")])
        .await
        .unwrap()
        .assert_query_error(404, "NoSuchEntity");
    assert!(server
        .iam(&other_root, "ListUsers", &[])
        .await
        .unwrap()
        .xml_all("UserName")
        .is_empty());
    // Its user, allowed by its identity policy, may assume the role that trusts its account,
    // and not the one that trusts only this account.
    let partner = assumer_in(&server, &other_root, "partner").await;
    let session = assume(&server, &partner, &trusts_other, "900").await;
    let me = server
        .sts(&session, "GetCallerIdentity", &[])
        .await
        .unwrap();
    assert_eq!(
        me.xml("Arn").as_deref(),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/Partner/tests").as_str())
    );
    let message = server
        .sts(
            &partner,
            "AssumeRole",
            &[("RoleArn", &trusts_self), ("RoleSessionName", "xy")],
        )
        .await
        .unwrap()
        .assert_query_error(403, "AccessDenied");
    assert_eq!(
        message,
        format!(
            "User: arn:aws:iam::444455556666:user/partner is not authorized to perform: \
             sts:AssumeRole on resource: {trusts_self}"
        )
    );
    // Its root may not, though the trust policy names its account.
    let message = server
        .sts(
            &other_root,
            "AssumeRole",
            &[("RoleArn", &trusts_other), ("RoleSessionName", "xy")],
        )
        .await
        .unwrap()
        .assert_query_error(403, "AccessDenied");
    assert_eq!(message, "Roles may not be assumed by root accounts.");
}

#[tokio::test]
async fn iam_and_sts_requests_are_audited_without_secrets() {
    let server = TestServer::start().await.unwrap();
    let alice = user_with_key(&server, "alice").await;
    let role_arn = create_role(&server, "Admin", &trust(ACCOUNT)).await;
    let ops = assumer(&server, "ops").await;
    let session = assume(&server, &ops, &role_arn, "900").await;
    server
        .iam(&alice, "ListUsers", &[])
        .await
        .unwrap()
        .assert_query_error(403, "AccessDenied");

    let text = std::fs::read_to_string(server.audit_dir().join(trent_audit::LOG_FILE)).unwrap();
    assert!(!text.contains(&alice.secret_access_key));
    assert!(!text.contains(&session.secret_access_key));
    assert!(!text.contains(session.session_token.as_deref().unwrap()));

    let records = server.audit_records().unwrap();
    let find = |name: &str| {
        records
            .iter()
            .find(|r| r["eventName"] == name)
            .unwrap_or_else(|| panic!("no {name} record"))
            .clone()
    };
    let create = find("CreateAccessKey");
    assert_eq!(create["eventSource"], "iam.amazonaws.com");
    assert_eq!(create["requestParameters"]["userName"], "alice");
    assert_eq!(
        create["responseElements"]["accessKey"]["accessKeyId"],
        alice.access_key_id
    );
    assert_eq!(create["userIdentity"]["type"], "Root");
    let assumed = find("AssumeRole");
    assert_eq!(assumed["eventSource"], "sts.amazonaws.com");
    assert_eq!(
        assumed["userIdentity"]["arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/ops")
    );
    assert_eq!(
        assumed["responseElements"]["credentials"]["accessKeyId"],
        session.access_key_id
    );
    let denied = find("ListUsers");
    assert_eq!(denied["errorCode"], "AccessDenied");
    assert_eq!(denied["userIdentity"]["type"], "IAMUser");
    assert!(denied["userIdentity"]["principalId"]
        .as_str()
        .unwrap()
        .starts_with("AIDA"));
    assert_eq!(denied["readOnly"], true);
}

#[tokio::test]
async fn assume_role_as_account_root_is_access_denied() {
    const ROOT_MESSAGE: &str = "Roles may not be assumed by root accounts.";
    let server = TestServer::start().await.unwrap();
    let root_arn = format!("arn:aws:iam::{ACCOUNT}:root");
    let role_arn = create_role(&server, "Admin", &trust(&root_arn)).await;
    let assume_as = |creds: Creds, role: String| {
        let server = &server;
        async move {
            server
                .sts(
                    &creds,
                    "AssumeRole",
                    &[("RoleArn", &role), ("RoleSessionName", "root")],
                )
                .await
                .unwrap()
        }
    };

    // The trust policy names the root itself; AWS refuses all the same.
    let r = assume_as(server.admin(), role_arn.clone()).await;
    assert_eq!(r.assert_query_error(403, "AccessDenied"), ROOT_MESSAGE);
    // Before the role is looked up: a missing role reads the same.
    let r = assume_as(server.admin(), format!("arn:aws:iam::{ACCOUNT}:role/Nope")).await;
    assert_eq!(r.assert_query_error(403, "AccessDenied"), ROOT_MESSAGE);
    // Another account's root, trusted through its account, likewise.
    let other = server.add_account_creds("444455556666").await.unwrap();
    let trusts_other = create_role(&server, "Partner", &trust("444455556666")).await;
    let r = assume_as(other, trusts_other).await;
    assert_eq!(r.assert_query_error(403, "AccessDenied"), ROOT_MESSAGE);

    // The same trust policy lets an IAM user of the account with an identity policy in.
    let ops = assumer(&server, "ops").await;
    assume(&server, &ops, &role_arn, "900").await;

    let records = server.audit_records().unwrap();
    let refused: Vec<_> = records
        .iter()
        .filter(|r| r["eventName"] == "AssumeRole" && r["userIdentity"]["type"] == "Root")
        .collect();
    assert_eq!(refused.len(), 3);
    for r in refused {
        assert_eq!(r["errorCode"], "AccessDenied");
        assert_eq!(r["errorMessage"], ROOT_MESSAGE);
    }
}
