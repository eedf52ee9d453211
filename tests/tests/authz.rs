//! Access control through the real server with real SDK clients: key policies with every
//! condition-operator family, set operators, NotAction / NotPrincipal, explicit deny,
//! cross-account use, ABAC on tags and aliases, grants with constraints, DryRun, the lockout
//! safety check, key policy and grant operations.
//!
//! The decision cases are data ([`cases`]): each names a key policy (with `{A}`, `{B}` for
//! the two accounts), the key's tags, aliases and grants, who calls (account A's or B's
//! root), the request, and the expected outcome. The IAM cases ([`iam_cases`]) do the same
//! for IAM users of either account and assumed-role sessions, with their identity policies,
//! principal tags and grants: AWS's delegation from key policies to identity policies.
// test code: real time for SigV4, and a panic is a failed test
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use aws_sdk_kms::types::{GrantConstraints, GrantOperation, Tag};
use aws_sdk_kms::Client;
use trent_tests::*;

/// The account that owns the keys (the test server's first account).
const A: &str = ACCOUNT;
/// Another account.
const B: &str = "444455556666";

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    A,
    B,
}

/// How the caller names the key.
#[derive(Clone, Copy, Debug)]
enum KeyName {
    Id,
    Arn,
    /// An alias of the key (by name for A; by alias ARN for B).
    Alias(&'static str),
}

/// The request a case makes.
#[derive(Clone, Debug)]
enum Req {
    Encrypt(KeyName, &'static [(&'static str, &'static str)]),
    /// Decrypts a ciphertext made (before the policy was put) with this context.
    Decrypt(&'static [(&'static str, &'static str)]),
    GenerateDataKey(&'static [(&'static str, &'static str)]),
    DescribeKey,
}

/// A grant the key owner creates before the case's policy is put.
#[derive(Clone, Debug)]
struct GrantSpec {
    grantee: Who,
    operations: &'static [GrantOperation],
    subset: &'static [(&'static str, &'static str)],
    equals: &'static [(&'static str, &'static str)],
}

/// The expected outcome: allowed, or AccessDeniedException whose message contains this.
#[derive(Clone, Debug)]
enum Expect {
    Allow,
    Deny(&'static str),
}

#[derive(Clone, Debug)]
struct Case {
    name: &'static str,
    /// The key policy; `None` keeps the default key policy.
    policy: Option<String>,
    tags: &'static [(&'static str, &'static str)],
    aliases: &'static [&'static str],
    grants: Vec<GrantSpec>,
    who: Who,
    req: Req,
    expect: Expect,
}

const NO_CTX: &[(&str, &str)] = &[];
const IT: &[(&str, &str)] = &[("Dept", "IT")];
const HR: &[(&str, &str)] = &[("Dept", "HR")];

const IMPLICIT: &str = "because no resource-based policy allows the";
const EXPLICIT: &str = "with an explicit deny in a resource-based policy";

/// A key policy document from statements, with `{A}` and `{B}` replaced by the accounts.
fn policy(statements: &str) -> Option<String> {
    Some(
        format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
            .replace("{A}", A)
            .replace("{B}", B),
    )
}

/// The owner's usual statement: account A's root may do everything.
const OWNER: &str = r#"{"Sid":"Owner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{A}:root"},"Action":"kms:*","Resource":"*"}"#;

/// A statement allowing `who`'s root `action` under `condition` (a JSON object or "").
fn allow(principal: &str, action: &str, condition: &str) -> String {
    let condition = if condition.is_empty() {
        String::new()
    } else {
        format!(r#","Condition":{condition}"#)
    };
    format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"{action}","Resource":"*"{condition}}}"#
    )
}

const ROOT_A: &str = "arn:aws:iam::{A}:root";
const ROOT_B: &str = "arn:aws:iam::{B}:root";

/// A's encrypt allowed only under `condition`: the owner keeps every other action.
fn a_encrypt_if(condition: &str) -> Option<String> {
    policy(&format!(
        r#"{},{}"#,
        allow(ROOT_A, "kms:Encrypt", condition),
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{A}:root"},"NotAction":["kms:Encrypt"],"Resource":"*"}"#
    ))
}

fn case(name: &'static str, policy: Option<String>, who: Who, req: Req, expect: Expect) -> Case {
    Case {
        name,
        policy,
        tags: &[],
        aliases: &[],
        grants: Vec::new(),
        who,
        req,
        expect,
    }
}

fn enc(ctx: &'static [(&'static str, &'static str)]) -> Req {
    Req::Encrypt(KeyName::Id, ctx)
}

fn cases() -> Vec<Case> {
    use Expect::*;
    let mut v = vec![
        // ---- the default key policy and cross-account use
        case(
            "default policy lets the owner in",
            None,
            Who::A,
            enc(NO_CTX),
            Allow,
        ),
        case(
            "default policy keeps another account out",
            None,
            Who::B,
            Req::Encrypt(KeyName::Arn, NO_CTX),
            Deny(IMPLICIT),
        ),
        case(
            "key policy naming the other account's root lets it in",
            policy(&format!("{OWNER},{}", allow(ROOT_B, "kms:Encrypt", ""))),
            Who::B,
            Req::Encrypt(KeyName::Arn, NO_CTX),
            Allow,
        ),
        case(
            "key policy naming the other account by id lets its root in",
            policy(&format!("{OWNER},{}", allow(B, "kms:Encrypt", ""))),
            Who::B,
            Req::Encrypt(KeyName::Arn, NO_CTX),
            Allow,
        ),
        case(
            "cross-account allow is per action",
            policy(&format!("{OWNER},{}", allow(ROOT_B, "kms:Encrypt", ""))),
            Who::B,
            Req::DescribeKey,
            Deny(IMPLICIT),
        ),
        case(
            "explicit deny of the other account wins over its allow",
            policy(&format!(
                r#"{OWNER},{},{{"Effect":"Deny","Principal":{{"AWS":"{B}"}},"Action":"kms:Encrypt","Resource":"*"}}"#,
                allow(ROOT_B, "kms:*", "")
            )),
            Who::B,
            Req::Encrypt(KeyName::Arn, NO_CTX),
            Deny(EXPLICIT),
        ),
        case(
            "explicit deny wins over the owner's allow",
            policy(&format!(
                r#"{OWNER},{{"Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"kms:Encrypt","Resource":"*"}}"#
            )),
            Who::A,
            enc(NO_CTX),
            Deny(EXPLICIT),
        ),
        case(
            "a policy without the owner keeps the owner out",
            policy(&allow(ROOT_B, "kms:*", "")),
            Who::A,
            enc(NO_CTX),
            Deny(IMPLICIT),
        ),
        case(
            "Principal * with kms:CallerAccount lets that account in",
            policy(&format!(
                r#"{OWNER},{{"Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{{"StringEquals":{{"kms:CallerAccount":"{B}"}}}}}}"#
            )),
            Who::B,
            Req::Encrypt(KeyName::Arn, NO_CTX),
            Allow,
        ),
        // ---- NotAction / NotPrincipal
        case(
            "NotAction allows everything but the named action (allowed)",
            policy(&format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"NotAction":"kms:Decrypt","Resource":"*"}}"#
            )),
            Who::A,
            enc(NO_CTX),
            Allow,
        ),
        case(
            "NotAction allows everything but the named action (denied)",
            policy(&format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"NotAction":["kms:Decrypt","kms:PutKeyPolicy"],"Resource":"*"}}"#
            )),
            Who::A,
            Req::Decrypt(NO_CTX),
            Deny(IMPLICIT),
        ),
        case(
            "Deny with NotPrincipal denies everyone else",
            policy(&format!(
                r#"{},{{"Effect":"Deny","NotPrincipal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"kms:*","Resource":"*"}}"#,
                allow("*", "kms:*", "")
            )),
            Who::B,
            Req::Encrypt(KeyName::Arn, NO_CTX),
            Deny(EXPLICIT),
        ),
        case(
            "Deny with NotPrincipal spares the named principal",
            policy(&format!(
                r#"{},{{"Effect":"Deny","NotPrincipal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"kms:*","Resource":"*"}}"#,
                allow("*", "kms:*", "")
            )),
            Who::A,
            enc(NO_CTX),
            Allow,
        ),
        // ---- String operators on the encryption context
        case(
            "StringEquals on kms:EncryptionContext (match)",
            a_encrypt_if(r#"{"StringEquals":{"kms:EncryptionContext:Dept":"IT"}}"#),
            Who::A,
            enc(IT),
            Allow,
        ),
        case(
            "StringEquals on kms:EncryptionContext (other value)",
            a_encrypt_if(r#"{"StringEquals":{"kms:EncryptionContext:Dept":"IT"}}"#),
            Who::A,
            enc(HR),
            Deny(IMPLICIT),
        ),
        case(
            "StringEquals on kms:EncryptionContext (no context)",
            a_encrypt_if(r#"{"StringEquals":{"kms:EncryptionContext:Dept":"IT"}}"#),
            Who::A,
            enc(NO_CTX),
            Deny(IMPLICIT),
        ),
        case(
            "StringNotEquals",
            a_encrypt_if(r#"{"StringNotEquals":{"kms:EncryptionContext:Dept":"HR"}}"#),
            Who::A,
            enc(HR),
            Deny(IMPLICIT),
        ),
        case(
            "StringEqualsIgnoreCase",
            a_encrypt_if(r#"{"StringEqualsIgnoreCase":{"kms:EncryptionContext:Dept":"it"}}"#),
            Who::A,
            enc(IT),
            Allow,
        ),
        case(
            "StringLike with a wildcard",
            a_encrypt_if(r#"{"StringLike":{"kms:EncryptionContext:Dept":"I*"}}"#),
            Who::A,
            enc(IT),
            Allow,
        ),
        case(
            "StringNotLike",
            a_encrypt_if(r#"{"StringNotLike":{"kms:EncryptionContext:Dept":"I*"}}"#),
            Who::A,
            enc(IT),
            Deny(IMPLICIT),
        ),
        case(
            "StringEqualsIfExists passes without the key",
            a_encrypt_if(r#"{"StringEqualsIfExists":{"kms:EncryptionContext:Dept":"IT"}}"#),
            Who::A,
            enc(NO_CTX),
            Allow,
        ),
        case(
            "StringEqualsIfExists fails with another value",
            a_encrypt_if(r#"{"StringEqualsIfExists":{"kms:EncryptionContext:Dept":"IT"}}"#),
            Who::A,
            enc(HR),
            Deny(IMPLICIT),
        ),
        case(
            "multiple values are OR",
            a_encrypt_if(r#"{"StringEquals":{"kms:EncryptionContext:Dept":["IT","HR"]}}"#),
            Who::A,
            enc(HR),
            Allow,
        ),
        case(
            "multiple keys are AND",
            a_encrypt_if(
                r#"{"StringEquals":{"kms:EncryptionContext:Dept":"IT","kms:EncryptionContext:Project":"x"}}"#,
            ),
            Who::A,
            enc(IT),
            Deny(IMPLICIT),
        ),
        // ---- set operators
        case(
            "ForAllValues: every context key listed (allowed)",
            a_encrypt_if(
                r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Dept","Project"]}}"#,
            ),
            Who::A,
            enc(IT),
            Allow,
        ),
        case(
            "ForAllValues: an unlisted context key (denied)",
            a_encrypt_if(
                r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Project"]}}"#,
            ),
            Who::A,
            enc(IT),
            Deny(IMPLICIT),
        ),
        case(
            "ForAnyValue: no listed context key (denied)",
            a_encrypt_if(
                r#"{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":["Project"]}}"#,
            ),
            Who::A,
            enc(IT),
            Deny(IMPLICIT),
        ),
        case(
            "Null: an encryption context is required",
            a_encrypt_if(r#"{"Null":{"kms:EncryptionContextKeys":"false"}}"#),
            Who::A,
            enc(NO_CTX),
            Deny(IMPLICIT),
        ),
        case(
            "Null: with a context",
            a_encrypt_if(r#"{"Null":{"kms:EncryptionContextKeys":"false"}}"#),
            Who::A,
            enc(IT),
            Allow,
        ),
        // ---- numeric, date, bool, IP, ARN operators
        case(
            "NumericLessThan (allowed)",
            a_encrypt_if(r#"{"NumericLessThan":{"kms:EncryptionContext:Level":"5"}}"#),
            Who::A,
            enc(&[("Level", "3")]),
            Allow,
        ),
        case(
            "NumericLessThan (denied)",
            a_encrypt_if(r#"{"NumericLessThan":{"kms:EncryptionContext:Level":"5"}}"#),
            Who::A,
            enc(&[("Level", "7")]),
            Deny(IMPLICIT),
        ),
        case(
            "DateGreaterThan aws:CurrentTime",
            a_encrypt_if(r#"{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#),
            Who::A,
            enc(NO_CTX),
            Allow,
        ),
        case(
            "DateLessThan aws:CurrentTime",
            a_encrypt_if(r#"{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#),
            Who::A,
            enc(NO_CTX),
            Deny(IMPLICIT),
        ),
        case(
            "NumericGreaterThan aws:EpochTime",
            a_encrypt_if(r#"{"NumericGreaterThan":{"aws:EpochTime":"1577836800"}}"#),
            Who::A,
            enc(NO_CTX),
            Allow,
        ),
        case(
            "Bool aws:SecureTransport is false without TLS",
            a_encrypt_if(r#"{"Bool":{"aws:SecureTransport":"true"}}"#),
            Who::A,
            enc(NO_CTX),
            Deny(IMPLICIT),
        ),
        case(
            "IpAddress aws:SourceIp (loopback)",
            a_encrypt_if(r#"{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}"#),
            Who::A,
            enc(NO_CTX),
            Allow,
        ),
        case(
            "IpAddress aws:SourceIp (other network)",
            a_encrypt_if(r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#),
            Who::A,
            enc(NO_CTX),
            Deny(IMPLICIT),
        ),
        case(
            "NotIpAddress aws:SourceIp",
            a_encrypt_if(r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#),
            Who::A,
            enc(NO_CTX),
            Allow,
        ),
        case(
            "ArnLike aws:PrincipalArn",
            a_encrypt_if(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}"#),
            Who::A,
            enc(NO_CTX),
            Allow,
        ),
        case(
            "ArnEquals aws:PrincipalArn of someone else",
            a_encrypt_if(r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::444455556666:root"}}"#),
            Who::A,
            enc(NO_CTX),
            Deny(IMPLICIT),
        ),
        case(
            "policy variable ${aws:PrincipalAccount}",
            a_encrypt_if(r#"{"StringEquals":{"kms:CallerAccount":"${aws:PrincipalAccount}"}}"#),
            Who::A,
            enc(NO_CTX),
            Allow,
        ),
        case(
            "kms:EncryptionAlgorithm defaults to SYMMETRIC_DEFAULT",
            a_encrypt_if(r#"{"StringEquals":{"kms:EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}}"#),
            Who::A,
            enc(NO_CTX),
            Allow,
        ),
        case(
            "kms:KeySpec of the key",
            a_encrypt_if(r#"{"StringEquals":{"kms:KeySpec":"RSA_2048"}}"#),
            Who::A,
            enc(NO_CTX),
            Deny(IMPLICIT),
        ),
        // ---- aliases
        case(
            "kms:RequestAlias when named by that alias",
            a_encrypt_if(r#"{"StringEquals":{"kms:RequestAlias":"alias/app"}}"#),
            Who::A,
            Req::Encrypt(KeyName::Alias("alias/app"), NO_CTX),
            Allow,
        ),
        case(
            "kms:RequestAlias absent when named by key id",
            a_encrypt_if(r#"{"StringEquals":{"kms:RequestAlias":"alias/app"}}"#),
            Who::A,
            enc(NO_CTX),
            Deny(IMPLICIT),
        ),
    ];
    v.last_mut().unwrap().aliases = &["alias/app"];
    let n = v.len();
    v[n - 2].aliases = &["alias/app"];

    let mut with_alias = case(
        "kms:ResourceAliases from the key's aliases",
        a_encrypt_if(r#"{"ForAnyValue:StringLike":{"kms:ResourceAliases":"alias/team-*"}}"#),
        Who::A,
        enc(NO_CTX),
        Allow,
    );
    with_alias.aliases = &["alias/other", "alias/team-blue"];
    v.push(with_alias);
    let mut without_alias = case(
        "kms:ResourceAliases without a matching alias",
        a_encrypt_if(r#"{"ForAnyValue:StringLike":{"kms:ResourceAliases":"alias/team-*"}}"#),
        Who::A,
        enc(NO_CTX),
        Deny(IMPLICIT),
    );
    without_alias.aliases = &["alias/other"];
    v.push(without_alias);
    let mut b_by_alias = case(
        "another account names the key by alias ARN",
        policy(&format!("{OWNER},{}", allow(ROOT_B, "kms:Encrypt", ""))),
        Who::B,
        Req::Encrypt(KeyName::Alias("alias/shared"), NO_CTX),
        Allow,
    );
    b_by_alias.aliases = &["alias/shared"];
    v.push(b_by_alias);

    // ---- ABAC on resource tags
    let abac = || a_encrypt_if(r#"{"StringEquals":{"aws:ResourceTag/Env":"prod"}}"#);
    let mut tagged = case(
        "aws:ResourceTag matches",
        abac(),
        Who::A,
        enc(NO_CTX),
        Allow,
    );
    tagged.tags = &[("Env", "prod")];
    v.push(tagged);
    let mut other_tag = case(
        "aws:ResourceTag differs",
        abac(),
        Who::A,
        enc(NO_CTX),
        Deny(IMPLICIT),
    );
    other_tag.tags = &[("Env", "dev")];
    v.push(other_tag);
    let mut cross_abac = case(
        "cross-account allow by resource tag",
        policy(&format!(
            "{OWNER},{}",
            allow(
                ROOT_B,
                "kms:Encrypt",
                r#"{"StringEquals":{"aws:ResourceTag/Share":"yes"}}"#
            )
        )),
        Who::B,
        Req::Encrypt(KeyName::Arn, NO_CTX),
        Allow,
    );
    cross_abac.tags = &[("Share", "yes")];
    v.push(cross_abac);

    // ---- grants
    let grant = |ops: &'static [GrantOperation],
                 subset: &'static [(&'static str, &'static str)],
                 equals: &'static [(&'static str, &'static str)]| GrantSpec {
        grantee: Who::B,
        operations: ops,
        subset,
        equals,
    };
    const ENC_DEC: &[GrantOperation] = &[GrantOperation::Encrypt, GrantOperation::Decrypt];
    let granted = |name, req, expect, g: GrantSpec| {
        let mut c = case(name, None, Who::B, req, expect);
        c.grants = vec![g];
        c
    };
    v.push(granted(
        "a grant lets the other account in",
        Req::Encrypt(KeyName::Arn, NO_CTX),
        Allow,
        grant(ENC_DEC, NO_CTX, NO_CTX),
    ));
    v.push(granted(
        "a grant allows only its operations",
        Req::DescribeKey,
        Deny(IMPLICIT),
        grant(ENC_DEC, NO_CTX, NO_CTX),
    ));
    v.push(granted(
        "a grant does not allow GenerateDataKey unless listed",
        Req::GenerateDataKey(NO_CTX),
        Deny(IMPLICIT),
        grant(ENC_DEC, NO_CTX, NO_CTX),
    ));
    v.push(granted(
        "EncryptionContextSubset met",
        Req::Encrypt(KeyName::Arn, &[("Dept", "IT"), ("Extra", "1")]),
        Allow,
        grant(ENC_DEC, IT, NO_CTX),
    ));
    v.push(granted(
        "EncryptionContextSubset not met",
        Req::Encrypt(KeyName::Arn, HR),
        Deny(IMPLICIT),
        grant(ENC_DEC, IT, NO_CTX),
    ));
    v.push(granted(
        "EncryptionContextEquals met by Decrypt",
        Req::Decrypt(IT),
        Allow,
        grant(ENC_DEC, NO_CTX, IT),
    ));
    v.push(granted(
        "EncryptionContextEquals refuses extra pairs",
        Req::Encrypt(KeyName::Arn, &[("Dept", "IT"), ("Extra", "1")]),
        Deny(IMPLICIT),
        grant(ENC_DEC, NO_CTX, IT),
    ));
    let mut deny_beats_grant = granted(
        "an explicit deny beats a grant",
        Req::Encrypt(KeyName::Arn, NO_CTX),
        Deny(EXPLICIT),
        grant(ENC_DEC, NO_CTX, NO_CTX),
    );
    deny_beats_grant.policy = policy(&format!(
        r#"{OWNER},{{"Effect":"Deny","Principal":{{"AWS":"{B}"}},"Action":"kms:Encrypt","Resource":"*"}}"#
    ));
    v.push(deny_beats_grant);
    v
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().unwrap()
}

fn principal(who: Who) -> String {
    match who {
        Who::A => format!("arn:aws:iam::{A}:root"),
        Who::B => format!("arn:aws:iam::{B}:root"),
    }
}

fn ctx_builder(
    mut b: aws_sdk_kms::operation::encrypt::builders::EncryptFluentBuilder,
    ctx: &[(&str, &str)],
) -> aws_sdk_kms::operation::encrypt::builders::EncryptFluentBuilder {
    for (k, v) in ctx {
        b = b.encryption_context(*k, *v);
    }
    b
}

/// Sets up the key of a case as account A and returns its id and a ciphertext for Decrypt.
async fn prepare(a: &Client, c: &Case) -> (String, Option<Blob>) {
    let key_id = create_key(a).await;
    for (k, v) in c.tags {
        a.tag_resource()
            .key_id(&key_id)
            .tags(tag(k, v))
            .send()
            .await
            .unwrap();
    }
    for alias in c.aliases {
        a.create_alias()
            .alias_name(*alias)
            .target_key_id(&key_id)
            .send()
            .await
            .unwrap();
    }
    for g in &c.grants {
        let mut b = a
            .create_grant()
            .key_id(&key_id)
            .grantee_principal(principal(g.grantee))
            .set_operations(Some(g.operations.to_vec()));
        if !g.subset.is_empty() || !g.equals.is_empty() {
            let mut cb = GrantConstraints::builder();
            for (k, v) in g.subset {
                cb = cb.encryption_context_subset(*k, *v);
            }
            for (k, v) in g.equals {
                cb = cb.encryption_context_equals(*k, *v);
            }
            b = b.constraints(cb.build());
        }
        b.send().await.unwrap();
    }
    let ciphertext = match &c.req {
        Req::Decrypt(ctx) => Some(
            ctx_builder(
                a.encrypt()
                    .key_id(&key_id)
                    .plaintext(Blob::new(b"secret".to_vec())),
                ctx,
            )
            .send()
            .await
            .unwrap()
            .ciphertext_blob
            .unwrap(),
        ),
        _ => None,
    };
    if let Some(p) = &c.policy {
        a.put_key_policy()
            .key_id(&key_id)
            .policy(p)
            .bypass_policy_lockout_safety_check(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: PutKeyPolicy failed: {e:?}", c.name));
    }
    (key_id, ciphertext)
}

/// Runs the request of a case; `Ok(())` or the AWS error.
async fn run(
    client: &Client,
    c: &Case,
    key_id: &str,
    ciphertext: Option<Blob>,
) -> Result<(), AwsError> {
    let key_ref = |name: KeyName| match (name, c.who) {
        (KeyName::Id, Who::A) => key_id.to_string(),
        (KeyName::Id | KeyName::Arn, _) => key_arn(key_id),
        (KeyName::Alias(a), Who::A) => a.to_string(),
        (KeyName::Alias(a), Who::B) => alias_arn(a),
    };
    match &c.req {
        Req::Encrypt(name, ctx) => ctx_builder(
            client
                .encrypt()
                .key_id(key_ref(*name))
                .plaintext(Blob::new(b"data".to_vec())),
            ctx,
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| Err::<(), _>(e).aws_error()),
        Req::Decrypt(ctx) => {
            let mut b = client
                .decrypt()
                .ciphertext_blob(ciphertext.expect("ciphertext"));
            for (k, v) in *ctx {
                b = b.encryption_context(*k, *v);
            }
            b.send()
                .await
                .map(|_| ())
                .map_err(|e| Err::<(), _>(e).aws_error())
        }
        Req::GenerateDataKey(ctx) => {
            let mut b = client
                .generate_data_key()
                .key_id(key_ref(KeyName::Arn))
                .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256);
            for (k, v) in *ctx {
                b = b.encryption_context(*k, *v);
            }
            b.send()
                .await
                .map(|_| ())
                .map_err(|e| Err::<(), _>(e).aws_error())
        }
        Req::DescribeKey => client
            .describe_key()
            .key_id(key_ref(KeyName::Arn))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Err::<(), _>(e).aws_error()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decision_table_through_the_server() {
    let server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    let b = server.add_account(B).await.unwrap();
    let mut failures = Vec::new();
    for c in cases() {
        let (key_id, ciphertext) = prepare(&a, &c).await;
        let client = match c.who {
            Who::A => &a,
            Who::B => &b,
        };
        let got = run(client, &c, &key_id, ciphertext).await;
        // Alias names are per account: free them for the next case.
        for alias in c.aliases {
            a.delete_alias().alias_name(*alias).send().await.unwrap();
        }
        let ok = match (&c.expect, &got) {
            (Expect::Allow, Ok(())) => true,
            (Expect::Deny(fragment), Err(e)) => {
                e.code == "AccessDeniedException"
                    && e.message.contains(fragment)
                    && e.message.contains(&principal(c.who))
            }
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                c.name, c.expect, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_message_is_aws_shaped() {
    let server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    let b = server.add_account(B).await.unwrap();
    let key_id = create_key(&a).await;
    let err = assert_aws_error!(
        b.encrypt()
            .key_id(key_arn(&key_id))
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await,
        "AccessDeniedException"
    );
    assert_eq!(
        err.message,
        format!(
            "User: arn:aws:iam::{B}:root is not authorized to perform: kms:Encrypt on resource: {} because no resource-based policy allows the kms:Encrypt action",
            key_arn(&key_id)
        )
    );
    // Another account's key id without ARN names a key of the caller's own account.
    assert_aws_error!(
        b.describe_key().key_id(&key_id).send().await,
        "NotFoundException"
    );
    // Listings show only the caller's account.
    let keys = b.list_keys().send().await.unwrap().keys.unwrap_or_default();
    assert!(keys.is_empty(), "{keys:?}");
}

#[tokio::test]
async fn re_encrypt_needs_re_encrypt_from_on_the_source_and_re_encrypt_to_on_the_destination() {
    let server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    let create = |actions: &'static str| {
        let a = a.clone();
        async move {
            let doc = policy(&allow(ROOT_A, "PLACEHOLDER", "")).unwrap().replace(
                r#""Action":"PLACEHOLDER""#,
                &format!(r#""Action":[{actions}]"#),
            );
            create_key_with_policy(&a, doc).await
        }
    };
    let source =
        create(r#""kms:Encrypt","kms:ReEncryptFrom","kms:PutKeyPolicy","kms:DescribeKey""#).await;
    let dest =
        create(r#""kms:Decrypt","kms:ReEncryptTo","kms:PutKeyPolicy","kms:DescribeKey""#).await;
    let blob = a
        .encrypt()
        .key_id(&source)
        .plaintext(Blob::new(b"moved".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    // From the source (ReEncryptFrom) to the destination (ReEncryptTo): allowed, as in AWS.
    let moved = a
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .destination_key_id(&dest)
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let back = a
        .decrypt()
        .ciphertext_blob(moved.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(back.plaintext.unwrap().as_ref(), b"moved");
    // The other way round the destination lacks kms:ReEncryptTo.
    let err = assert_aws_error!(
        a.re_encrypt()
            .ciphertext_blob(moved)
            .destination_key_id(&source)
            .send()
            .await,
        "AccessDeniedException"
    );
    assert!(
        err.message.contains(&format!(
            "kms:ReEncryptTo on resource: {}",
            key_arn(&source)
        )),
        "{}",
        err.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_answers_dry_run_only_when_allowed() {
    let server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    let b = server.add_account(B).await.unwrap();
    let key_id = create_key(&a).await;
    let e = assert_aws_error!(
        a.encrypt()
            .key_id(&key_id)
            .plaintext(Blob::new(b"x".to_vec()))
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    assert_eq!(e.status, Some(400));
    assert_aws_error!(
        b.encrypt()
            .key_id(key_arn(&key_id))
            .plaintext(Blob::new(b"x".to_vec()))
            .dry_run(true)
            .send()
            .await,
        "AccessDeniedException"
    );
    // DryRun on CreateGrant, RetireGrant and RevokeGrant changes nothing.
    assert_aws_error!(
        a.create_grant()
            .key_id(&key_id)
            .grantee_principal(principal(Who::B))
            .operations(GrantOperation::Encrypt)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    let grants = a.list_grants().key_id(&key_id).send().await.unwrap();
    assert!(grants.grants.unwrap_or_default().is_empty());
    let g = a
        .create_grant()
        .key_id(&key_id)
        .grantee_principal(principal(Who::B))
        .operations(GrantOperation::Encrypt)
        .send()
        .await
        .unwrap();
    assert_aws_error!(
        a.revoke_grant()
            .key_id(&key_id)
            .grant_id(g.grant_id.clone().unwrap())
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    assert_aws_error!(
        a.retire_grant()
            .grant_token(g.grant_token.clone().unwrap())
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    let grants = a.list_grants().key_id(&key_id).send().await.unwrap();
    assert_eq!(grants.grants.unwrap_or_default().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_policies_get_put_list_and_validate() {
    let server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    let key_id = create_key(&a).await;

    let got = a
        .get_key_policy()
        .key_id(&key_id)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy_name.as_deref(), Some("default"));
    let default: serde_json::Value = serde_json::from_str(got.policy.as_deref().unwrap()).unwrap();
    assert_eq!(
        default["Statement"][0]["Sid"],
        "Enable IAM User Permissions"
    );
    assert_eq!(
        default["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{A}:root")
    );
    assert_aws_error!(
        a.get_key_policy()
            .key_id(&key_id)
            .policy_name("other")
            .send()
            .await,
        "NotFoundException"
    );
    let names = a.list_key_policies().key_id(&key_id).send().await.unwrap();
    assert_eq!(
        names.policy_names.unwrap_or_default(),
        vec!["default".to_string()]
    );
    assert!(!names.truncated);

    let mine = policy(&format!("{OWNER},{}", allow(ROOT_B, "kms:Encrypt", ""))).unwrap();
    a.put_key_policy()
        .key_id(&key_id)
        .policy_name("default")
        .policy(&mine)
        .send()
        .await
        .unwrap();
    let got = a.get_key_policy().key_id(&key_id).send().await.unwrap();
    assert_eq!(
        got.policy.as_deref(),
        Some(mine.as_str()),
        "stored byte for byte"
    );

    // Malformed documents, with the policy crate's explanation.
    for bad in [
        "not json",
        "{}",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#,
    ] {
        let e = assert_aws_error!(
            a.put_key_policy().key_id(&key_id).policy(bad).send().await,
            "MalformedPolicyDocumentException"
        );
        assert!(!e.message.is_empty());
    }
    let e = assert_aws_error!(
        a.create_key().policy("[1,2]").send().await,
        "MalformedPolicyDocumentException"
    );
    assert!(!e.message.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_safety_check() {
    const LOCKOUT: &str =
        "The new key policy will not allow you to update the key policy in the future.";
    let server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    let key_id = create_key(&a).await;
    let only_b = policy(&allow(ROOT_B, "kms:*", "")).unwrap();
    let e = assert_aws_error!(
        a.put_key_policy()
            .key_id(&key_id)
            .policy(&only_b)
            .send()
            .await,
        "MalformedPolicyDocumentException"
    );
    assert_eq!(e.message, LOCKOUT);
    let e = assert_aws_error!(
        a.create_key().policy(&only_b).send().await,
        "MalformedPolicyDocumentException"
    );
    assert_eq!(e.message, LOCKOUT);
    // A policy that keeps PutKeyPolicy but nothing else passes.
    let put_only = policy(&allow(ROOT_A, "kms:PutKeyPolicy", "")).unwrap();
    a.create_key().policy(&put_only).send().await.unwrap();
    // Bypassing the check locks the owner out.
    a.put_key_policy()
        .key_id(&key_id)
        .policy(&only_b)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap();
    assert_aws_error!(
        a.get_key_policy().key_id(&key_id).send().await,
        "AccessDeniedException"
    );
    let created = a
        .create_key()
        .policy(&only_b)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap();
    let new_id = created.key_metadata.unwrap().key_id;
    assert_aws_error!(
        a.describe_key().key_id(&new_id).send().await,
        "AccessDeniedException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_lifecycle_create_list_use_retire_revoke() {
    let server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    let b = server.add_account(B).await.unwrap();
    let key_id = create_key(&a).await;
    let encrypt_as_b = || {
        b.encrypt()
            .key_id(key_arn(&key_id))
            .plaintext(Blob::new(b"x".to_vec()))
            .encryption_context("Dept", "IT")
    };
    assert_aws_error!(encrypt_as_b().send().await, "AccessDeniedException");

    let g1 = a
        .create_grant()
        .key_id(&key_id)
        .grantee_principal(principal(Who::B))
        .retiring_principal(principal(Who::A))
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::RetireGrant)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_subset("Dept", "IT")
                .build(),
        )
        .name("app-grant")
        .send()
        .await
        .unwrap();
    let (g1_id, g1_token) = (g1.grant_id.unwrap(), g1.grant_token.unwrap());
    assert_eq!(g1_id.len(), 64);

    // The token is accepted at once; a malformed one is refused.
    encrypt_as_b().grant_tokens(&g1_token).send().await.unwrap();
    encrypt_as_b().send().await.unwrap();
    assert_aws_error!(
        encrypt_as_b().grant_tokens("garbage").send().await,
        "InvalidGrantTokenException"
    );

    // Name idempotency: same parameters → same grant; different → a new one.
    let again = a
        .create_grant()
        .key_id(&key_id)
        .grantee_principal(principal(Who::B))
        .retiring_principal(principal(Who::A))
        .operations(GrantOperation::RetireGrant)
        .operations(GrantOperation::Encrypt)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_subset("Dept", "IT")
                .build(),
        )
        .name("app-grant")
        .send()
        .await
        .unwrap();
    assert_eq!(again.grant_id.as_deref(), Some(g1_id.as_str()));
    let g2 = a
        .create_grant()
        .key_id(key_arn(&key_id))
        .grantee_principal(principal(Who::B))
        .operations(GrantOperation::Decrypt)
        .name("app-grant")
        .send()
        .await
        .unwrap();
    let g2_id = g2.grant_id.unwrap();
    assert_ne!(g2_id, g1_id);

    // ListGrants: everything, filters, paging.
    let all = a.list_grants().key_id(&key_id).send().await.unwrap();
    let grants = all.grants.unwrap();
    assert_eq!(grants.len(), 2);
    let first = grants
        .iter()
        .find(|g| g.grant_id.as_deref() == Some(&g1_id))
        .unwrap();
    assert_eq!(first.key_id.as_deref(), Some(key_arn(&key_id).as_str()));
    assert_eq!(
        first.grantee_principal.as_deref(),
        Some(principal(Who::B).as_str())
    );
    assert_eq!(
        first.retiring_principal.as_deref(),
        Some(principal(Who::A).as_str())
    );
    assert_eq!(
        first.issuing_account.as_deref(),
        Some(principal(Who::A).as_str())
    );
    assert_eq!(first.name.as_deref(), Some("app-grant"));
    assert_eq!(
        first
            .constraints
            .as_ref()
            .and_then(|c| c.encryption_context_subset.as_ref())
            .and_then(|m| m.get("Dept"))
            .map(String::as_str),
        Some("IT")
    );
    let one = a
        .list_grants()
        .key_id(&key_id)
        .grant_id(&g2_id)
        .send()
        .await
        .unwrap();
    assert_eq!(one.grants.unwrap().len(), 1);
    let page = a
        .list_grants()
        .key_id(&key_id)
        .limit(1)
        .send()
        .await
        .unwrap();
    assert!(page.truncated);
    let rest = a
        .list_grants()
        .key_id(&key_id)
        .marker(page.next_marker.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.grants.unwrap().len(), 1);
    assert!(!rest.truncated);
    assert_aws_error!(
        a.list_grants()
            .key_id(&key_id)
            .grant_id("nope")
            .send()
            .await,
        "InvalidGrantIdException"
    );

    // ListRetirableGrants: the retiring principal must be of the caller's account.
    let retirable = a
        .list_retirable_grants()
        .retiring_principal(principal(Who::A))
        .send()
        .await
        .unwrap();
    let retirable = retirable.grants.unwrap();
    assert_eq!(retirable.len(), 1);
    assert_eq!(retirable[0].grant_id.as_deref(), Some(g1_id.as_str()));
    assert_aws_error!(
        b.list_retirable_grants()
            .retiring_principal(principal(Who::A))
            .send()
            .await,
        "AccessDeniedException"
    );

    // The grantee may not revoke (no policy allows it) nor retire a grant without
    // RetireGrant among its operations…
    assert_aws_error!(
        b.revoke_grant()
            .key_id(key_arn(&key_id))
            .grant_id(&g1_id)
            .send()
            .await,
        "AccessDeniedException"
    );
    assert_aws_error!(
        b.retire_grant()
            .key_id(key_arn(&key_id))
            .grant_id(&g2_id)
            .send()
            .await,
        "AccessDeniedException"
    );
    // …but may retire one that lists RetireGrant, by token.
    b.retire_grant()
        .grant_token(&g1_token)
        .send()
        .await
        .unwrap();
    assert_aws_error!(encrypt_as_b().send().await, "AccessDeniedException");
    assert_aws_error!(
        b.retire_grant().grant_token(&g1_token).send().await,
        "NotFoundException"
    );
    // The key's owner revokes the other.
    a.revoke_grant()
        .key_id(&key_id)
        .grant_id(&g2_id)
        .send()
        .await
        .unwrap();
    assert!(a
        .list_grants()
        .key_id(&key_id)
        .send()
        .await
        .unwrap()
        .grants
        .unwrap_or_default()
        .is_empty());
    assert_aws_error!(
        a.revoke_grant()
            .key_id(&key_id)
            .grant_id(&g2_id)
            .send()
            .await,
        "NotFoundException"
    );

    // The grant token never reaches the audit log.
    let audit = server.audit_records().unwrap();
    let text = serde_json::to_string(&audit).unwrap();
    assert!(
        !text.contains(&g1_token),
        "a grant token is in the audit log"
    );
    assert!(audit.iter().any(|r| r["eventName"] == "CreateGrant"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_create_grants_with_one_name_make_one_grant() {
    let server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    let key_id = create_key(&a).await;
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let a = a.clone();
            let key_id = key_id.clone();
            tokio::spawn(async move {
                a.create_grant()
                    .key_id(&key_id)
                    .grantee_principal(principal(Who::B))
                    .operations(GrantOperation::Encrypt)
                    .name("once")
                    .send()
                    .await
                    .unwrap()
                    .grant_id
                    .unwrap()
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for call in calls {
        ids.insert(call.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "every call answers the same grant");
    let grants = a.list_grants().key_id(&key_id).send().await.unwrap();
    assert_eq!(grants.grants().len(), 1, "and only one was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_grant_is_authorized_with_grant_condition_keys() {
    let server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    let key_id = create_key(&a).await;
    let p = policy(&format!(
        r#"{},{}"#,
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{A}:root"},"NotAction":"kms:CreateGrant","Resource":"*"}"#,
        allow(
            ROOT_A,
            "kms:CreateGrant",
            r#"{"ForAllValues:StringEquals":{"kms:GrantOperations":["Encrypt","Decrypt"]},"Bool":{"kms:GrantIsForAWSResource":"false"},"StringEquals":{"kms:GrantConstraintType":"EncryptionContextSubset"}}"#
        )
    ))
    .unwrap();
    a.put_key_policy()
        .key_id(&key_id)
        .policy(&p)
        .send()
        .await
        .unwrap();
    let subset = GrantConstraints::builder()
        .encryption_context_subset("Dept", "IT")
        .build();
    a.create_grant()
        .key_id(&key_id)
        .grantee_principal(principal(Who::B))
        .operations(GrantOperation::Encrypt)
        .constraints(subset.clone())
        .send()
        .await
        .unwrap();
    assert_aws_error!(
        a.create_grant()
            .key_id(&key_id)
            .grantee_principal(principal(Who::B))
            .operations(GrantOperation::Encrypt)
            .operations(GrantOperation::CreateGrant)
            .constraints(subset)
            .send()
            .await,
        "AccessDeniedException"
    );
    assert_aws_error!(
        a.create_grant()
            .key_id(&key_id)
            .grantee_principal(principal(Who::B))
            .operations(GrantOperation::Encrypt)
            .send()
            .await,
        "AccessDeniedException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grantee_with_create_grant_delegates_no_more_than_it_holds() {
    let server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    let b = server.add_account(B).await.unwrap();
    let key_id = create_key(&a).await;
    let subset = GrantConstraints::builder()
        .encryption_context_subset("Dept", "IT")
        .build();
    a.create_grant()
        .key_id(&key_id)
        .grantee_principal(principal(Who::B))
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::CreateGrant)
        .constraints(subset.clone())
        .send()
        .await
        .unwrap();
    let delegate = || {
        b.create_grant()
            .key_id(key_arn(&key_id))
            .grantee_principal("arn:aws:iam::444455556666:role/App")
    };
    delegate()
        .operations(GrantOperation::Encrypt)
        .constraints(subset.clone())
        .send()
        .await
        .unwrap();
    // More operations, or looser constraints, than B holds.
    assert_aws_error!(
        delegate()
            .operations(GrantOperation::Decrypt)
            .constraints(subset)
            .send()
            .await,
        "AccessDeniedException"
    );
    assert_aws_error!(
        delegate().operations(GrantOperation::Encrypt).send().await,
        "AccessDeniedException"
    );
    let grants = a.list_grants().key_id(&key_id).send().await.unwrap();
    assert_eq!(grants.grants.unwrap_or_default().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_follow_tag_alias_policy_and_grant_changes_at_once() {
    let server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    let b = server.add_account(B).await.unwrap();
    let k1 = create_key(&a).await;
    let k2 = create_key(&a).await;
    let p = policy(&format!(
        "{OWNER},{}",
        allow(
            ROOT_B,
            "kms:Encrypt",
            r#"{"StringEquals":{"aws:ResourceTag/Share":"yes"},"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/shared"}}"#
        )
    ))
    .unwrap();
    for k in [&k1, &k2] {
        a.put_key_policy()
            .key_id(k)
            .policy(&p)
            .send()
            .await
            .unwrap();
    }
    let b_encrypt = |k: &str| {
        b.encrypt()
            .key_id(key_arn(k))
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
    };
    a.tag_resource()
        .key_id(&k1)
        .tags(tag("Share", "yes"))
        .send()
        .await
        .unwrap();
    a.tag_resource()
        .key_id(&k2)
        .tags(tag("Share", "yes"))
        .send()
        .await
        .unwrap();
    assert_aws_error!(b_encrypt(&k1).await, "AccessDeniedException");
    a.create_alias()
        .alias_name("alias/shared")
        .target_key_id(&k1)
        .send()
        .await
        .unwrap();
    b_encrypt(&k1).await.expect("alias created");
    a.untag_resource()
        .key_id(&k1)
        .tag_keys("Share")
        .send()
        .await
        .unwrap();
    assert_aws_error!(b_encrypt(&k1).await, "AccessDeniedException");
    a.tag_resource()
        .key_id(&k1)
        .tags(tag("Share", "yes"))
        .send()
        .await
        .unwrap();
    b_encrypt(&k1).await.expect("tag back");
    a.update_alias()
        .alias_name("alias/shared")
        .target_key_id(&k2)
        .send()
        .await
        .unwrap();
    assert_aws_error!(b_encrypt(&k1).await, "AccessDeniedException");
    b_encrypt(&k2).await.expect("alias moved to k2");
    a.delete_alias()
        .alias_name("alias/shared")
        .send()
        .await
        .unwrap();
    assert_aws_error!(b_encrypt(&k2).await, "AccessDeniedException");

    // A policy change applies to the next request; so do grants.
    a.put_key_policy()
        .key_id(&k2)
        .policy(policy(&format!("{OWNER},{}", allow(ROOT_B, "kms:Encrypt", ""))).unwrap())
        .send()
        .await
        .unwrap();
    b_encrypt(&k2).await.expect("policy allows");
    assert_aws_error!(b_encrypt(&k1).await, "AccessDeniedException");
    let g = a
        .create_grant()
        .key_id(&k1)
        .grantee_principal(principal(Who::B))
        .operations(GrantOperation::Encrypt)
        .send()
        .await
        .unwrap();
    b_encrypt(&k1).await.expect("granted");
    a.revoke_grant()
        .key_id(&k1)
        .grant_id(g.grant_id.unwrap())
        .send()
        .await
        .unwrap();
    assert_aws_error!(b_encrypt(&k1).await, "AccessDeniedException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_and_grants_survive_a_restart() {
    let mut server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    server.add_account(B).await.unwrap();
    let key_id = create_key(&a).await;
    let mine = policy(&format!("{OWNER},{}", allow(ROOT_B, "kms:DescribeKey", ""))).unwrap();
    a.put_key_policy()
        .key_id(&key_id)
        .policy(&mine)
        .send()
        .await
        .unwrap();
    let g = a
        .create_grant()
        .key_id(&key_id)
        .grantee_principal(principal(Who::B))
        .operations(GrantOperation::Encrypt)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_equals("Dept", "IT")
                .build(),
        )
        .send()
        .await
        .unwrap();
    server.restart().await.unwrap();
    let a = server.kms_client().await;
    let got = a.get_key_policy().key_id(&key_id).send().await.unwrap();
    assert_eq!(got.policy.as_deref(), Some(mine.as_str()));
    let grants = a
        .list_grants()
        .key_id(&key_id)
        .send()
        .await
        .unwrap()
        .grants
        .unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].grant_id, g.grant_id);
    assert_eq!(
        grants[0].operations.as_deref(),
        Some(&[GrantOperation::Encrypt][..])
    );
}

// ---- Cases whose caller is an IAM user or an assumed-role session ----
//
// AWS's delegation logic: a key policy statement naming the account (`…:root`) delegates to
// the account's IAM policies, so a user or role also needs an identity policy allowing the
// action; a statement naming the user or role itself needs no identity policy; an explicit
// deny anywhere wins; for another account's key, the key policy AND the caller's own identity
// policy must both allow; a grant to the caller allows by itself.

/// Who calls in an IAM case: a fresh IAM user of account A or B, or a session of a fresh
/// role of account A or B (assumed by that account's root).
#[derive(Clone, Copy, Debug, PartialEq)]
enum IamCaller {
    User(Who),
    Role(Who),
}

/// A case whose caller is an IAM principal. Policies use `{A}`, `{B}`, `{ME}` (the caller's
/// user or role ARN) and, in identity policies, `{KEY}` (the key's ARN).
#[derive(Clone, Debug)]
struct IamCase {
    name: &'static str,
    /// The key policy; `None` keeps the default key policy (A's root may do `kms:*`).
    key_policy: Option<String>,
    key_tags: &'static [(&'static str, &'static str)],
    /// Whether A's root grants `Encrypt` to the caller (user or role ARN) on the key.
    grant_encrypt: bool,
    caller: IamCaller,
    /// Tags of the user.
    user_tags: &'static [(&'static str, &'static str)],
    /// The inline identity policies of the user or role.
    identity: Vec<String>,
    /// The encryption context of the `Encrypt` request (by key ARN).
    ctx: &'static [(&'static str, &'static str)],
    expect: Expect,
}

const NO_IDENTITY_POLICY: &str = "because no identity-based policy allows the kms:Encrypt action";
const IDENTITY_DENY: &str = "with an explicit deny in an identity-based policy";
const NO_KEY_POLICY_ALLOW: &str = "because no resource-based policy allows the kms:Encrypt action";

/// An identity policy document from statements.
fn identity(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

/// An identity statement: `effect` `action` on `resource` under `condition` (JSON or "").
fn stmt(effect: &str, action: &str, resource: &str, condition: &str) -> String {
    let condition = if condition.is_empty() {
        String::new()
    } else {
        format!(r#","Condition":{condition}"#)
    };
    format!(r#"{{"Effect":"{effect}","Action":"{action}","Resource":"{resource}"{condition}}}"#)
}

/// A key policy where A's root keeps key administration (so the lockout check would pass)
/// but not `kms:Encrypt`, plus `extra` statements.
fn admin_only_plus(extra: &str) -> Option<String> {
    policy(&format!(
        r#"{{"Sid":"Admin","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{{A}}:root"}},"Action":["kms:PutKeyPolicy","kms:GetKeyPolicy","kms:DescribeKey","kms:CreateGrant","kms:TagResource"],"Resource":"*"}},{extra}"#
    ))
}

fn iam_case(
    name: &'static str,
    key_policy: Option<String>,
    caller: IamCaller,
    identity: Vec<String>,
    expect: Expect,
) -> IamCase {
    IamCase {
        name,
        key_policy,
        key_tags: &[],
        grant_encrypt: false,
        caller,
        user_tags: &[],
        identity,
        ctx: NO_CTX,
        expect,
    }
}

const USER_A: IamCaller = IamCaller::User(Who::A);
const USER_B: IamCaller = IamCaller::User(Who::B);
const ROLE_A: IamCaller = IamCaller::Role(Who::A);
const ROLE_B: IamCaller = IamCaller::Role(Who::B);

fn iam_cases() -> Vec<IamCase> {
    use Expect::*;
    let encrypt_on_key = identity(&stmt("Allow", "kms:Encrypt", "{KEY}", ""));
    let encrypt_anywhere = identity(&stmt("Allow", "kms:Encrypt", "*", ""));
    let decrypt_only = identity(&stmt("Allow", "kms:Decrypt", "*", ""));
    let deny_encrypt = identity(&stmt("Deny", "kms:Encrypt", "*", ""));
    let names_me = admin_only_plus(&allow("{ME}", "kms:Encrypt", ""));
    let abac = identity(&stmt(
        "Allow",
        "kms:Encrypt",
        "*",
        r#"{"StringEquals":{"aws:ResourceTag/Team":"${aws:PrincipalTag/Team}"}}"#,
    ));
    let own_context = identity(&stmt(
        "Allow",
        "kms:Encrypt",
        "*",
        r#"{"StringEquals":{"kms:EncryptionContext:Owner":"${aws:username}"}}"#,
    ));
    let b_root_allowed = policy(&format!("{OWNER},{}", allow(ROOT_B, "kms:Encrypt", "")));
    let b_user_allowed = policy(&format!(
        "{OWNER},{}",
        allow("arn:aws:iam::{B}:user/{NAME}", "kms:Encrypt", "")
    ));
    let mut v = vec![
        // 1-2. The default key policy delegates to identity policies.
        iam_case(
            "default policy, user without identity policy",
            None,
            USER_A,
            vec![],
            Deny(NO_IDENTITY_POLICY),
        ),
        iam_case(
            "default policy, identity policy allows Encrypt on the key ARN",
            None,
            USER_A,
            vec![encrypt_on_key.clone()],
            Allow,
        ),
        iam_case(
            "default policy, identity policy allows Encrypt on *",
            None,
            USER_A,
            vec![encrypt_anywhere.clone()],
            Allow,
        ),
        iam_case(
            "default policy, identity policy allows only Decrypt",
            None,
            USER_A,
            vec![decrypt_only],
            Deny(NO_IDENTITY_POLICY),
        ),
        iam_case(
            "default policy, identity policy allows Encrypt on another key",
            None,
            USER_A,
            vec![identity(&stmt(
                "Allow",
                "kms:Encrypt",
                "arn:aws:kms:*:{A}:key/00000000-0000-0000-0000-000000000000",
                "",
            ))],
            Deny(NO_IDENTITY_POLICY),
        ),
        // 3. A key policy naming the user needs no identity policy; naming nobody denies.
        iam_case(
            "key policy names the user, no identity policy",
            names_me.clone(),
            USER_A,
            vec![],
            Allow,
        ),
        iam_case(
            "key policy without the account delegation, identity policy allows",
            admin_only_plus(&allow("arn:aws:iam::{A}:user/nobody", "kms:Encrypt", "")),
            USER_A,
            vec![encrypt_anywhere.clone()],
            Deny(NO_KEY_POLICY_ALLOW),
        ),
        // 4. An explicit deny wins, and the message says where it is.
        iam_case(
            "identity deny beats a key policy naming the user",
            names_me.clone(),
            USER_A,
            vec![deny_encrypt.clone()],
            Deny(IDENTITY_DENY),
        ),
        iam_case(
            "identity deny beats identity allow under the default policy",
            None,
            USER_A,
            vec![encrypt_anywhere.clone(), deny_encrypt.clone()],
            Deny(IDENTITY_DENY),
        ),
        iam_case(
            "key policy deny for the user beats the identity allow",
            policy(&format!(
                r#"{OWNER},{{"Effect":"Deny","Principal":{{"AWS":"{{ME}}"}},"Action":"kms:Encrypt","Resource":"*"}}"#
            )),
            USER_A,
            vec![encrypt_anywhere.clone()],
            Deny(EXPLICIT),
        ),
        // 6. Another account's user: the key policy and its own identity policy must allow.
        iam_case(
            "B's user, key allows B's root, identity allows the key ARN",
            b_root_allowed.clone(),
            USER_B,
            vec![encrypt_on_key.clone()],
            Allow,
        ),
        iam_case(
            "B's user, key allows B's root, no identity policy",
            b_root_allowed.clone(),
            USER_B,
            vec![],
            Deny(NO_IDENTITY_POLICY),
        ),
        iam_case(
            "B's user, key allows B's root, identity allows only Decrypt",
            b_root_allowed.clone(),
            USER_B,
            vec![identity(&stmt("Allow", "kms:Decrypt", "{KEY}", ""))],
            Deny(NO_IDENTITY_POLICY),
        ),
        iam_case(
            "B's user, key does not allow B, identity allows",
            None,
            USER_B,
            vec![encrypt_on_key.clone()],
            Deny(NO_KEY_POLICY_ALLOW),
        ),
        iam_case(
            "B's user named by the key policy still needs its identity policy",
            b_user_allowed.clone(),
            USER_B,
            vec![],
            Deny(NO_IDENTITY_POLICY),
        ),
        iam_case(
            "B's user named by the key policy, identity allows",
            b_user_allowed,
            USER_B,
            vec![encrypt_anywhere.clone()],
            Allow,
        ),
        iam_case(
            "B's user, identity deny beats both allows",
            b_root_allowed.clone(),
            USER_B,
            vec![encrypt_on_key.clone(), deny_encrypt.clone()],
            Deny(IDENTITY_DENY),
        ),
        // 7. Assumed-role sessions are authorized by the role's policies.
        iam_case(
            "role session, role policy allows Encrypt",
            None,
            ROLE_A,
            vec![encrypt_on_key.clone()],
            Allow,
        ),
        iam_case(
            "role session, role without policy",
            None,
            ROLE_A,
            vec![],
            Deny(NO_IDENTITY_POLICY),
        ),
        iam_case(
            "role session, role policy allows only Decrypt",
            None,
            ROLE_A,
            vec![identity(&stmt("Allow", "kms:Decrypt", "*", ""))],
            Deny(NO_IDENTITY_POLICY),
        ),
        iam_case(
            "role session, key policy names the role",
            names_me,
            ROLE_A,
            vec![],
            Allow,
        ),
        iam_case(
            "role session, role policy deny",
            None,
            ROLE_A,
            vec![encrypt_anywhere.clone(), deny_encrypt.clone()],
            Deny(IDENTITY_DENY),
        ),
        iam_case(
            "B's role session, key allows B's root, role policy allows the key ARN",
            b_root_allowed.clone(),
            ROLE_B,
            vec![encrypt_on_key.clone()],
            Allow,
        ),
        iam_case(
            "B's role session, key allows B's root, role without policy",
            b_root_allowed.clone(),
            ROLE_B,
            vec![],
            Deny(NO_IDENTITY_POLICY),
        ),
        iam_case(
            "B's role session, key does not allow B, role policy allows",
            None,
            ROLE_B,
            vec![encrypt_on_key.clone()],
            Deny(NO_KEY_POLICY_ALLOW),
        ),
    ];
    // 5. ABAC on principal tags and policy variables.
    v.push(IamCase {
        key_tags: &[("Team", "blue")],
        user_tags: &[("Team", "blue")],
        ..iam_case(
            "ABAC: user Team=blue, key Team=blue",
            None,
            USER_A,
            vec![abac.clone()],
            Allow,
        )
    });
    v.push(IamCase {
        key_tags: &[("Team", "red")],
        user_tags: &[("Team", "blue")],
        ..iam_case(
            "ABAC: user Team=blue, key Team=red",
            None,
            USER_A,
            vec![abac.clone()],
            Deny(NO_IDENTITY_POLICY),
        )
    });
    v.push(IamCase {
        key_tags: &[("Team", "blue")],
        ..iam_case(
            "ABAC: untagged user, key Team=blue",
            None,
            USER_A,
            vec![abac],
            Deny(NO_IDENTITY_POLICY),
        )
    });
    v.push(IamCase {
        ctx: &[("Owner", "{NAME}")],
        ..iam_case(
            "${aws:username} matches the context",
            None,
            USER_A,
            vec![own_context.clone()],
            Allow,
        )
    });
    v.push(IamCase {
        ctx: &[("Owner", "somebody-else")],
        ..iam_case(
            "${aws:username} does not match the context",
            None,
            USER_A,
            vec![own_context],
            Deny(NO_IDENTITY_POLICY),
        )
    });
    // 8. A grant to the user or role allows by itself.
    v.push(IamCase {
        grant_encrypt: true,
        ..iam_case(
            "grant to the user, no identity policy",
            admin_only_plus(&allow("arn:aws:iam::{A}:user/nobody", "kms:Decrypt", "")),
            USER_A,
            vec![],
            Allow,
        )
    });
    v.push(IamCase {
        grant_encrypt: true,
        ..iam_case(
            "grant to the user, default policy, no identity policy",
            None,
            USER_A,
            vec![],
            Allow,
        )
    });
    v.push(IamCase {
        grant_encrypt: true,
        ..iam_case(
            "grant to the user does not beat an identity deny",
            None,
            USER_A,
            vec![deny_encrypt.clone()],
            Deny(IDENTITY_DENY),
        )
    });
    v.push(IamCase {
        grant_encrypt: true,
        ..iam_case(
            "grant to the user does not beat a key policy deny",
            policy(&format!(
                r#"{OWNER},{{"Effect":"Deny","Principal":{{"AWS":"{{ME}}"}},"Action":"kms:Encrypt","Resource":"*"}}"#
            )),
            USER_A,
            vec![],
            Deny(EXPLICIT),
        )
    });
    v.push(IamCase {
        grant_encrypt: true,
        ..iam_case(
            "grant to the role, session without role policy",
            None,
            ROLE_A,
            vec![],
            Allow,
        )
    });
    v.push(IamCase {
        grant_encrypt: true,
        ..iam_case(
            "grant to B's user, key policy does not allow B, no identity policy",
            None,
            USER_B,
            vec![],
            Allow,
        )
    });
    v
}

/// The account id of `who`.
fn account_of(who: Who) -> &'static str {
    match who {
        Who::A => A,
        Who::B => B,
    }
}

/// Sends a query request and asserts success.
async fn iam_ok(server: &TestServer, creds: &Creds, action: &str, params: &[(&str, &str)]) {
    let r = server.iam(creds, action, params).await.unwrap();
    r.assert_query_ok();
}

/// The caller of a case, set up through IAM/STS: its credentials, the ARN policies name it
/// by (user or role ARN), the ARN AWS reports in AccessDenied (user or session ARN), and
/// its name (for `{NAME}`).
async fn iam_caller(
    server: &TestServer,
    roots: &[(Who, Creds)],
    c: &IamCase,
    n: usize,
) -> (Creds, String, String, String) {
    let name = format!("caller{n}");
    let root = |w: Who| &roots.iter().find(|(x, _)| *x == w).expect("root").1;
    match c.caller {
        IamCaller::User(w) => {
            let admin = root(w);
            iam_ok(server, admin, "CreateUser", &[("UserName", &name)]).await;
            for (i, (k, v)) in c.user_tags.iter().enumerate() {
                let (kp, vp) = (
                    format!("Tags.member.{}.Key", i + 1),
                    format!("Tags.member.{}.Value", i + 1),
                );
                iam_ok(
                    server,
                    admin,
                    "TagUser",
                    &[("UserName", &name), (&kp, k), (&vp, v)],
                )
                .await;
            }
            let r = server
                .iam(admin, "CreateAccessKey", &[("UserName", &name)])
                .await
                .unwrap();
            r.assert_query_ok();
            let creds = Creds::new(
                &r.xml("AccessKeyId").unwrap(),
                &r.xml("SecretAccessKey").unwrap(),
            );
            let arn = format!("arn:aws:iam::{}:user/{name}", account_of(w));
            (creds, arn.clone(), arn, name)
        }
        IamCaller::Role(w) => {
            let admin = root(w);
            let account = account_of(w);
            // An account root may not assume roles: a user of the account, named by the trust
            // policy (so it needs no identity policy), assumes the role.
            let assumer = format!("assumer{n}");
            iam_ok(server, admin, "CreateUser", &[("UserName", &assumer)]).await;
            let r = server
                .iam(admin, "CreateAccessKey", &[("UserName", &assumer)])
                .await
                .unwrap();
            r.assert_query_ok();
            let assumer_creds = Creds::new(
                &r.xml("AccessKeyId").unwrap(),
                &r.xml("SecretAccessKey").unwrap(),
            );
            let trust = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:user/{assumer}"}},"Action":"sts:AssumeRole"}}]}}"#
            );
            let r = server
                .iam(
                    admin,
                    "CreateRole",
                    &[("RoleName", &name), ("AssumeRolePolicyDocument", &trust)],
                )
                .await
                .unwrap();
            r.assert_query_ok();
            let role_arn = r.xml("Arn").unwrap();
            let r = server
                .sts(
                    &assumer_creds,
                    "AssumeRole",
                    &[("RoleArn", &role_arn), ("RoleSessionName", "session")],
                )
                .await
                .unwrap();
            r.assert_query_ok();
            let creds = Creds {
                access_key_id: r.xml("AccessKeyId").unwrap(),
                secret_access_key: r.xml("SecretAccessKey").unwrap(),
                session_token: r.xml("SessionToken"),
            };
            let session = format!("arn:aws:sts::{account}:assumed-role/{name}/session");
            (creds, role_arn, session, name)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_user_and_role_decision_table_through_the_server() {
    let server = TestServer::start().await.unwrap();
    let a = server.kms_client().await;
    let b_root = server.add_account_creds(B).await.unwrap();
    let roots = [(Who::A, server.admin()), (Who::B, b_root)];
    let mut failures = Vec::new();
    for (n, c) in iam_cases().into_iter().enumerate() {
        let (creds, me, reported, name) = iam_caller(&server, &roots, &c, n).await;
        let key_id = create_key(&a).await;
        let key = key_arn(&key_id);
        for (k, v) in c.key_tags {
            a.tag_resource()
                .key_id(&key_id)
                .tags(tag(k, v))
                .send()
                .await
                .unwrap();
        }
        if c.grant_encrypt {
            a.create_grant()
                .key_id(&key_id)
                .grantee_principal(&me)
                .operations(GrantOperation::Encrypt)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{}: CreateGrant failed: {e:?}", c.name));
        }
        let fill = |s: &str| {
            s.replace("{A}", A)
                .replace("{B}", B)
                .replace("{ME}", &me)
                .replace("{NAME}", &name)
                .replace("{KEY}", &key)
        };
        if let Some(p) = &c.key_policy {
            a.put_key_policy()
                .key_id(&key_id)
                .policy(fill(p))
                .bypass_policy_lockout_safety_check(true)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{}: PutKeyPolicy failed: {e:?}", c.name));
        }
        let (admin, action, param) = match c.caller {
            IamCaller::User(w) => (
                &roots.iter().find(|(x, _)| *x == w).unwrap().1,
                "PutUserPolicy",
                "UserName",
            ),
            IamCaller::Role(w) => (
                &roots.iter().find(|(x, _)| *x == w).unwrap().1,
                "PutRolePolicy",
                "RoleName",
            ),
        };
        for (i, doc) in c.identity.iter().enumerate() {
            let policy_name = format!("p{i}");
            iam_ok(
                &server,
                admin,
                action,
                &[
                    (param, &name),
                    ("PolicyName", &policy_name),
                    ("PolicyDocument", &fill(doc)),
                ],
            )
            .await;
        }
        let context: serde_json::Map<String, serde_json::Value> = c
            .ctx
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(fill(v))))
            .collect();
        let mut body = serde_json::json!({"KeyId": key, "Plaintext": b64(b"data")});
        if !context.is_empty() {
            body["EncryptionContext"] = serde_json::Value::Object(context);
        }
        let r = server.call_as(&creds, "Encrypt", &body).await.unwrap();
        let got = if r.status == 200 {
            Ok(())
        } else {
            Err((r.status, r.error_type(), r.message()))
        };
        let ok = match (&c.expect, &got) {
            (Expect::Allow, Ok(())) => true,
            (Expect::Deny(fragment), Err((400, Some(code), message))) => {
                code == "AccessDeniedException"
                    && message.contains(fragment)
                    && message.starts_with(&format!(
                        "User: {reported} is not authorized to perform: kms:Encrypt on resource: {key} "
                    ))
            }
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                c.name, c.expect, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
