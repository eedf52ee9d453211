"""IAM and STS on Trent's endpoint, through the unmodified AWS CLI and boto3's IAM/STS clients.

Users, access keys and inline policies made with `aws iam …`, identities checked with
`aws sts get-caller-identity`, an assumed-role profile (`role_arn` + `source_profile`, the
source an IAM user: an account root may not assume roles), and
`trent admin create-account` with the profile it writes.
"""

from __future__ import annotations

import configparser
import json
import time
import uuid
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import ACCOUNT_ID, REGION, Aws, Trent, clean_env, run_trent

ALLOW_LIST_KEYS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "kms:ListKeys", "Resource": "*"}]})
ALLOW_ASSUME_ROLE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})
ROOT_MAY_NOT_ASSUME = "Roles may not be assumed by root accounts."
ALLOW_CREATE_USER = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"}],
})
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def client(trent: Trent, service: str, config: Config = NO_RETRIES, **creds):
    """A boto3 client of `service` on Trent: profile `trent`, or the given credentials."""
    core = botocore.session.Session()
    core.set_config_variable("credentials_file", str(trent.profile.credentials_file))
    core.set_config_variable("config_file", str(trent.profile.config_file))
    core.set_config_variable("profile", "trent")
    session = boto3.Session(botocore_session=core)
    c = session.client(service, endpoint_url=trent.endpoint, config=config, **creds)
    c.meta.events.register(f"before-send.{c.meta.service_model.endpoint_prefix}", trent.counter)
    return c


@pytest.fixture(scope="module")
def iam(trent: Trent):
    return client(trent, "iam")


@pytest.fixture(scope="module")
def sts(trent: Trent):
    return client(trent, "sts")


def profile_files(tmp_path: Path, trent: Trent, profiles: dict[str, dict[str, str]],
                  config: dict[str, dict[str, str]]) -> dict[str, str]:
    """Credentials and config files with extra profiles beside `trent`; the CLI environment."""
    creds = configparser.ConfigParser()
    creds.read(trent.profile.credentials_file)
    for section, values in profiles.items():
        creds[section] = values
    conf = configparser.ConfigParser()
    conf.read(trent.profile.config_file)
    for section, values in config.items():
        conf[section] = values
    creds_path, conf_path = tmp_path / "credentials", tmp_path / "config"
    with creds_path.open("w") as f:
        creds.write(f)
    with conf_path.open("w") as f:
        conf.write(f)
    env = clean_env()
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(creds_path)
    env["AWS_CONFIG_FILE"] = str(conf_path)
    # Every service, including the STS client the assume-role provider makes, on Trent.
    env["AWS_ENDPOINT_URL"] = trent.endpoint
    return env


def test_cli_user_access_key_and_policy_decide_what_the_user_may_do(aws: Aws, trent: Trent, tmp_path: Path):
    user = name("cli-user")
    created = aws.json("iam", "create-user", "--user-name", user, "--tags", "Key=Team,Value=blue")["User"]
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{user}"
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    key = aws.json("iam", "create-access-key", "--user-name", user)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and key["Status"] == "Active"

    env = profile_files(tmp_path, trent, {
        "user": {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]},
    }, {"profile user": {"region": REGION}})
    me = aws.json("sts", "get-caller-identity", "--profile", "user", env=env)
    assert me == {"UserId": created["UserId"], "Account": ACCOUNT_ID, "Arn": created["Arn"]}

    denied = aws.fails("iam", "create-user", "--user-name", name("other"), "--profile", "user", env=env)
    assert "AccessDenied" in denied.stderr
    assert f"User: {created['Arn']} is not authorized to perform: iam:CreateUser" in denied.stderr

    aws.run("iam", "put-user-policy", "--user-name", user, "--policy-name", "create",
            "--policy-document", ALLOW_CREATE_USER, check=True)
    policy = aws.json("iam", "get-user-policy", "--user-name", user, "--policy-name", "create")
    assert policy["PolicyDocument"] == json.loads(ALLOW_CREATE_USER)
    assert aws.json("iam", "list-user-policies", "--user-name", user)["PolicyNames"] == ["create"]
    made = aws.json("iam", "create-user", "--user-name", name("made-by-user"), "--profile", "user", env=env)
    assert made["User"]["Path"] == "/"


def test_cli_assumed_role_profile_gets_the_sessions_identity(aws: Aws, trent: Trent, tmp_path: Path):
    role = name("cli-role")
    # Trusts the account, so the source user's identity policy must allow sts:AssumeRole too.
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "sts:AssumeRole"}]})
    arn = aws.json("iam", "create-role", "--role-name", role, "--assume-role-policy-document", trust)["Role"]["Arn"]
    aws.run("iam", "put-role-policy", "--role-name", role, "--policy-name", "list-keys",
            "--policy-document", ALLOW_LIST_KEYS, check=True)
    # The source profile is an IAM user: an account root may not assume roles.
    user = name("cli-source")
    aws.json("iam", "create-user", "--user-name", user)
    key = aws.json("iam", "create-access-key", "--user-name", user)["AccessKey"]
    aws.run("iam", "put-user-policy", "--user-name", user, "--policy-name", "assume",
            "--policy-document", ALLOW_ASSUME_ROLE, check=True)
    env = profile_files(tmp_path, trent, {
        "source": {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]},
    }, {
        "profile source": {"region": REGION},
        "profile assumed": {"role_arn": arn, "source_profile": "source", "region": REGION},
        "profile assumed-by-root": {"role_arn": arn, "source_profile": "trent", "region": REGION},
    })
    denied = aws.fails("sts", "get-caller-identity", "--profile", "assumed-by-root", endpoint=False, env=env)
    assert "AccessDenied" in denied.stderr and ROOT_MAY_NOT_ASSUME in denied.stderr
    me = aws.json("sts", "get-caller-identity", "--profile", "assumed", endpoint=False, env=env)
    assert me["Account"] == ACCOUNT_ID
    assert me["Arn"].startswith(f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/")
    # The session's KMS calls are authenticated with its temporary credentials and authorized
    # by the role's identity policy.
    keys = aws.json("kms", "list-keys", "--profile", "assumed", endpoint=False, env=env)
    assert "Keys" in keys
    denied = aws.fails("kms", "create-key", "--profile", "assumed", endpoint=False, env=env)
    assert "AccessDeniedException" in denied.stderr
    assert "because no identity-based policy allows the kms:CreateKey action" in denied.stderr


def test_boto3_iam_errors_carry_iams_codes(iam):
    user = name("b3-user")
    iam.create_user(UserName=user)
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName=user)
    assert e.value.response["Error"]["Code"] == "EntityAlreadyExists"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName=name("nobody"))
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument='{"Statement": "nope"}')
    assert e.value.response["Error"]["Code"] == "MalformedPolicyDocument"
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=ALLOW_CREATE_USER)
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=user)
    assert e.value.response["Error"]["Code"] == "DeleteConflict"
    iam.delete_user_policy(UserName=user, PolicyName="p")
    iam.delete_user(UserName=user)
    assert user not in [u["UserName"] for u in iam.list_users()["Users"]]


def test_boto3_roles_tags_and_role_policies_round_trip(iam):
    role = name("b3-role")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ACCOUNT_ID}, "Action": "sts:AssumeRole"}]}
    made = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=7200,
                           Description="made by boto3", Tags=[{"Key": "env", "Value": "test"}])["Role"]
    assert made["RoleId"].startswith("AROA")
    got = iam.get_role(RoleName=role)["Role"]
    assert got["AssumeRolePolicyDocument"] == trust
    assert got["MaxSessionDuration"] == 7200
    assert got["Tags"] == [{"Key": "env", "Value": "test"}]
    iam.tag_role(RoleName=role, Tags=[{"Key": "team", "Value": "core"}])
    iam.untag_role(RoleName=role, TagKeys=["env"])
    assert iam.list_role_tags(RoleName=role)["Tags"] == [{"Key": "team", "Value": "core"}]
    iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=ALLOW_CREATE_USER)
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["p"]
    assert iam.get_role_policy(RoleName=role, PolicyName="p")["PolicyDocument"] == json.loads(ALLOW_CREATE_USER)
    assert role in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    iam.delete_role_policy(RoleName=role, PolicyName="p")
    iam.delete_role(RoleName=role)


def test_boto3_assume_role_credentials_work_and_inactive_keys_do_not(trent: Trent, iam):
    role = name("b3-session")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    # An account root may not assume roles: a user allowed to by its identity policy does.
    assumer = name("b3-assumer")
    iam.create_user(UserName=assumer)
    iam.put_user_policy(UserName=assumer, PolicyName="assume", PolicyDocument=ALLOW_ASSUME_ROLE)
    assumer_key = iam.create_access_key(UserName=assumer)["AccessKey"]
    assumer_sts = client(trent, "sts", aws_access_key_id=assumer_key["AccessKeyId"],
                         aws_secret_access_key=assumer_key["SecretAccessKey"])
    creds = assumer_sts.assume_role(RoleArn=arn, RoleSessionName="boto3", DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    session_sts = client(trent, "sts", aws_access_key_id=creds["AccessKeyId"],
                         aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    assert session_sts.get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/boto3"

    user = name("b3-key")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    kms = client(trent, "kms", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        kms.list_keys()
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    iam.put_user_policy(UserName=user, PolicyName="list-keys", PolicyDocument=ALLOW_LIST_KEYS)
    kms.list_keys()
    iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    with pytest.raises(ClientError) as e:
        kms.list_keys()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_boto3_assume_role_as_account_root_is_access_denied(iam, sts):
    role = name("b3-root")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:root"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="root")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["Error"]["Message"] == ROOT_MAY_NOT_ASSUME
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    iam.delete_role(RoleName=role)


def test_admin_changes_reach_a_running_server_within_seconds(make_server, tmp_path: Path):
    """`trent admin` beside a running server: the account it creates works, and the key it
    revokes stops working, without a restart (the server reloads its directory when the
    store's directory version moves)."""
    server = make_server()
    account = "444455556666"
    run_trent("admin", "create-account", "--data-dir", str(server.data_dir), "--account-id", account)
    listed = run_trent("admin", "list-accounts", "--data-dir", str(server.data_dir)).stdout
    assert account in listed and ACCOUNT_ID in listed
    env = clean_env()
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(server.data_dir / "credentials")
    env["AWS_CONFIG_FILE"] = str(server.data_dir / "config")
    cli = Aws(env, server.endpoint)
    me = eventually(lambda: cli.json("sts", "get-caller-identity", "--profile", f"trent-{account}"))
    assert me["Arn"] == f"arn:aws:iam::{account}:root"

    creds = configparser.ConfigParser()
    creds.read(server.data_dir / "credentials")
    key_id = creds[f"trent-{account}"]["aws_access_key_id"]
    run_trent("admin", "revoke-key", "--data-dir", str(server.data_dir), "--access-key-id", key_id)
    failed = eventually(lambda: cli.fails("sts", "get-caller-identity", "--profile", f"trent-{account}"))
    assert "InvalidClientTokenId" in failed.stderr
    # And it stays revoked across a restart.
    server.stop()
    server.start()
    cli = Aws(env, server.endpoint)
    failed = cli.fails("sts", "get-caller-identity", "--profile", f"trent-{account}")
    assert "InvalidClientTokenId" in failed.stderr


def eventually(attempt, seconds: float = 10.0):
    """The result of the first call of `attempt` that does not raise, trying for `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return attempt()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def test_boto3_update_assume_role_policy_and_update_role(trent: Trent, iam):
    """UpdateAssumeRolePolicy changes who may assume the role at once; UpdateRole changes the
    description and the maximum session duration."""
    role = name("b3-trust")
    alice, bob = name("b3-alice"), name("b3-bob")
    sts_of = {}
    for user in (alice, bob):
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="assume", PolicyDocument=ALLOW_ASSUME_ROLE)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        sts_of[user] = client(trent, "sts", aws_access_key_id=key["AccessKeyId"],
                              aws_secret_access_key=key["SecretAccessKey"])

    def trusting(user: str) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:user/{user}"},
            "Action": "sts:AssumeRole"}]})

    def denied(user: str) -> None:
        with pytest.raises(ClientError) as e:
            sts_of[user].assume_role(RoleArn=arn, RoleSessionName="denied")
        assert e.value.response["Error"]["Code"] == "AccessDenied"

    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trusting(alice))["Role"]["Arn"]
    sts_of[alice].assume_role(RoleArn=arn, RoleSessionName="alice")
    denied(bob)

    iam.update_assume_role_policy(RoleName=role, PolicyDocument=trusting(bob))
    assert iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"] == json.loads(trusting(bob))
    sts_of[bob].assume_role(RoleArn=arn, RoleSessionName="bob")
    denied(alice)

    with pytest.raises(ClientError) as e:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument='{"Statement": "nope"}')
    assert e.value.response["Error"]["Code"] == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as e:
        iam.update_assume_role_policy(RoleName=name("nobody"), PolicyDocument=trusting(bob))
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"
    # A refused update changed nothing.
    sts_of[bob].assume_role(RoleArn=arn, RoleSessionName="bob-again")

    # Two hours is beyond the default maximum session of one hour until UpdateRole raises it.
    with pytest.raises(ClientError) as e:
        sts_of[bob].assume_role(RoleArn=arn, RoleSessionName="long", DurationSeconds=7200)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    iam.update_role(RoleName=role, Description="updated by boto3", MaxSessionDuration=10800)
    got = iam.get_role(RoleName=role)["Role"]
    assert got["Description"] == "updated by boto3"
    assert got["MaxSessionDuration"] == 10800
    sts_of[bob].assume_role(RoleArn=arn, RoleSessionName="long", DurationSeconds=7200)
    # boto3 checks the range itself; without its check, Trent refuses as IAM does.
    unchecked = client(trent, "iam", config=NO_RETRIES.merge(Config(parameter_validation=False)))
    with pytest.raises(ClientError) as e:
        unchecked.update_role(RoleName=role, MaxSessionDuration=60)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert iam.get_role(RoleName=role)["Role"]["MaxSessionDuration"] == 10800
