//! Authorization that AWS applies beyond the key: alias operations are authorized on the
//! alias ARN (identity policies only) and on every key they affect, and STS AssumeRole sees
//! the same global condition keys (`aws:SecureTransport`) as KMS requests. Through the real
//! server, with IAM users whose identity policies allow exactly one part of what is needed.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use serde_json::{json, Value};
use trent_tests::{alias_arn, key_arn, Creds, RawResponse, TestServer, ACCOUNT};

/// Creates a user with an access key and these identity policy statements.
async fn user(server: &TestServer, name: &str, statements: Value) -> Creds {
    let admin = server.admin();
    server
        .iam(&admin, "CreateUser", &[("UserName", name)])
        .await
        .unwrap()
        .assert_query_ok();
    let r = server
        .iam(&admin, "CreateAccessKey", &[("UserName", name)])
        .await
        .unwrap();
    r.assert_query_ok();
    let creds = Creds::new(
        &r.xml("AccessKeyId").unwrap(),
        &r.xml("SecretAccessKey").unwrap(),
    );
    put_policy(server, name, statements).await;
    creds
}

/// Replaces the user's one inline policy.
async fn put_policy(server: &TestServer, name: &str, statements: Value) {
    let doc = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    server
        .iam(
            &server.admin(),
            "PutUserPolicy",
            &[
                ("UserName", name),
                ("PolicyName", "p"),
                ("PolicyDocument", &doc),
            ],
        )
        .await
        .unwrap()
        .assert_query_ok();
}

fn allow(actions: &[&str], resources: &[&str]) -> Value {
    json!({"Effect": "Allow", "Action": actions, "Resource": resources})
}

/// A symmetric key made by the account root (default key policy: IAM policies decide).
async fn root_key(server: &TestServer) -> String {
    let r = server
        .call_as(&server.admin(), "CreateKey", &json!({}))
        .await
        .unwrap();
    r.assert_ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn root_call(server: &TestServer, op: &str, body: Value) -> RawResponse {
    server.call_as(&server.admin(), op, &body).await.unwrap()
}

/// Asserts an AccessDeniedException naming `action` on `resource`.
#[track_caller]
fn assert_denied(r: &RawResponse, action: &str, resource: &str) {
    let message = r.assert_error(400, "AccessDeniedException");
    assert!(
        message.contains(&format!("kms:{action} on resource: {resource}")),
        "{message}"
    );
}

/// Where the alias points now.
async fn target_of(server: &TestServer, alias: &str) -> String {
    let r = root_call(server, "ListAliases", json!({})).await;
    r.assert_ok()["Aliases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["AliasName"] == alias)
        .map(|a| a["TargetKeyId"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn update_alias_needs_the_alias_the_current_key_and_the_new_key() {
    let server = TestServer::start().await.unwrap();
    let a = root_key(&server).await;
    let b = root_key(&server).await;
    root_call(
        &server,
        "CreateAlias",
        json!({"AliasName": "alias/prod", "TargetKeyId": a}),
    )
    .await
    .assert_ok();
    let alias = alias_arn("alias/prod");
    let update = json!({"AliasName": "alias/prod", "TargetKeyId": b});

    // Allowed on the new key only: the alias is not theirs to move.
    let mallory = user(
        &server,
        "mallory",
        json!([allow(&["kms:UpdateAlias"], &[&key_arn(&b)])]),
    )
    .await;
    let r = server
        .call_as(&mallory, "UpdateAlias", &update)
        .await
        .unwrap();
    assert_denied(&r, "UpdateAlias", &alias);
    assert_eq!(target_of(&server, "alias/prod").await, a);

    // The alias and the new key, not the key it points at now.
    put_policy(
        &server,
        "mallory",
        json!([allow(&["kms:UpdateAlias"], &[&alias, &key_arn(&b)])]),
    )
    .await;
    let r = server
        .call_as(&mallory, "UpdateAlias", &update)
        .await
        .unwrap();
    assert_denied(&r, "UpdateAlias", &key_arn(&a));
    assert_eq!(target_of(&server, "alias/prod").await, a);

    // The alias and the current key, not the new one.
    put_policy(
        &server,
        "mallory",
        json!([allow(&["kms:UpdateAlias"], &[&alias, &key_arn(&a)])]),
    )
    .await;
    let r = server
        .call_as(&mallory, "UpdateAlias", &update)
        .await
        .unwrap();
    assert_denied(&r, "UpdateAlias", &key_arn(&b));

    // All three.
    put_policy(
        &server,
        "mallory",
        json!([allow(
            &["kms:UpdateAlias"],
            &[&alias, &key_arn(&a), &key_arn(&b)]
        )]),
    )
    .await;
    server
        .call_as(&mallory, "UpdateAlias", &update)
        .await
        .unwrap()
        .assert_ok();
    assert_eq!(target_of(&server, "alias/prod").await, b);
}

#[tokio::test]
async fn create_alias_needs_the_alias_and_the_key() {
    let server = TestServer::start().await.unwrap();
    let k = root_key(&server).await;
    let alias = alias_arn("alias/new");
    let create = json!({"AliasName": "alias/new", "TargetKeyId": k});

    let u = user(
        &server,
        "u",
        json!([allow(&["kms:CreateAlias"], &[&key_arn(&k)])]),
    )
    .await;
    let r = server.call_as(&u, "CreateAlias", &create).await.unwrap();
    assert_denied(&r, "CreateAlias", &alias);

    put_policy(
        &server,
        "u",
        json!([allow(&["kms:CreateAlias"], &[&alias])]),
    )
    .await;
    let r = server.call_as(&u, "CreateAlias", &create).await.unwrap();
    assert_denied(&r, "CreateAlias", &key_arn(&k));
    assert_eq!(target_of(&server, "alias/new").await, "");

    // A pattern over alias ARNs, as the Developer Guide shows.
    put_policy(
        &server,
        "u",
        json!([allow(
            &["kms:CreateAlias"],
            &[
                &format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/n*"),
                &key_arn(&k)
            ]
        )]),
    )
    .await;
    server
        .call_as(&u, "CreateAlias", &create)
        .await
        .unwrap()
        .assert_ok();
    assert_eq!(target_of(&server, "alias/new").await, k);
}

#[tokio::test]
async fn delete_alias_needs_the_alias_and_its_key_and_a_deny_on_the_alias_wins() {
    let server = TestServer::start().await.unwrap();
    let k = root_key(&server).await;
    root_call(
        &server,
        "CreateAlias",
        json!({"AliasName": "alias/gone", "TargetKeyId": k}),
    )
    .await
    .assert_ok();
    let alias = alias_arn("alias/gone");
    let delete = json!({"AliasName": "alias/gone"});

    let u = user(
        &server,
        "u",
        json!([allow(&["kms:DeleteAlias"], &[&key_arn(&k)])]),
    )
    .await;
    let r = server.call_as(&u, "DeleteAlias", &delete).await.unwrap();
    assert_denied(&r, "DeleteAlias", &alias);

    put_policy(
        &server,
        "u",
        json!([allow(&["kms:DeleteAlias"], &[&alias])]),
    )
    .await;
    let r = server.call_as(&u, "DeleteAlias", &delete).await.unwrap();
    assert_denied(&r, "DeleteAlias", &key_arn(&k));

    put_policy(
        &server,
        "u",
        json!([
            allow(&["kms:*"], &["*"]),
            {"Effect": "Deny", "Action": "kms:DeleteAlias", "Resource": alias}
        ]),
    )
    .await;
    let r = server.call_as(&u, "DeleteAlias", &delete).await.unwrap();
    let message = r.assert_error(400, "AccessDeniedException");
    assert!(message.contains("explicit deny"), "{message}");
    assert_eq!(target_of(&server, "alias/gone").await, k);

    put_policy(&server, "u", json!([allow(&["kms:*"], &["*"])])).await;
    server
        .call_as(&u, "DeleteAlias", &delete)
        .await
        .unwrap()
        .assert_ok();
    assert_eq!(target_of(&server, "alias/gone").await, "");
}

#[tokio::test]
async fn a_key_policy_does_not_grant_alias_operations_on_the_alias() {
    let server = TestServer::start().await.unwrap();
    let u = user(&server, "u", json!([])).await;
    // The key policy allows the user everything on the key; nothing allows the alias.
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/u")},
         "Action": "kms:*", "Resource": "*"}
    ]})
    .to_string();
    let r = root_call(&server, "CreateKey", json!({"Policy": policy})).await;
    let k = r.assert_ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = server
        .call_as(
            &u,
            "CreateAlias",
            &json!({"AliasName": "alias/mine", "TargetKeyId": k}),
        )
        .await
        .unwrap();
    assert_denied(&r, "CreateAlias", &alias_arn("alias/mine"));
}

const DENY_UNLESS_TLS: &str = r#"{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#;

#[tokio::test]
async fn assume_role_over_plain_http_meets_deny_unless_tls_in_trust_and_identity_policies() {
    let server = TestServer::start().await.unwrap();
    let bob = user(
        &server,
        "bob",
        json!([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]),
    )
    .await;
    let trust_allow = json!({"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/bob")},
        "Action": "sts:AssumeRole"});
    let mut trust_deny: Value = serde_json::from_str(DENY_UNLESS_TLS).unwrap();
    trust_deny.as_object_mut().unwrap().remove("Resource");
    trust_deny["Principal"] = json!({"AWS": "*"});
    let mut roles = Vec::new();
    for (name, statements) in [
        ("Plain", json!([trust_allow])),
        ("TlsOnly", json!([trust_allow, trust_deny])),
    ] {
        let doc = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
        let r = server
            .iam(
                &server.admin(),
                "CreateRole",
                &[("RoleName", name), ("AssumeRolePolicyDocument", &doc)],
            )
            .await
            .unwrap();
        r.assert_query_ok();
        roles.push(r.xml("Arn").unwrap());
    }
    let assume = |role: String| {
        let server = &server;
        let bob = bob.clone();
        async move {
            server
                .sts(
                    &bob,
                    "AssumeRole",
                    &[("RoleArn", &role), ("RoleSessionName", "s1")],
                )
                .await
                .unwrap()
        }
    };
    // The trust policy's deny fires over plain HTTP; without it the same call succeeds.
    assume(roles[0].clone()).await.assert_query_ok();
    assume(roles[1].clone())
        .await
        .assert_query_error(403, "AccessDenied");

    // The same statement in the caller's identity policy.
    put_policy(
        &server,
        "bob",
        json!([
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
            serde_json::from_str::<Value>(DENY_UNLESS_TLS).unwrap()
        ]),
    )
    .await;
    assume(roles[0].clone())
        .await
        .assert_query_error(403, "AccessDenied");
}
