"""boto3 against a real Trent: the same flows as the CLI suite, and AWS's error codes.

The client finds its credentials and Region through profile `trent` in the files `trent init`
wrote; errors are checked the way applications check them, through
`botocore.exceptions.ClientError` and `e.response["Error"]["Code"]`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT_ID, REGION, Profile, RequestCounter, audit_verify, boto3_client, run_trent

CONTEXT = {"purpose": "test", "team": "core"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def alias_name(prefix: str = "boto3") -> str:
    return f"alias/{prefix}-{uuid.uuid4().hex[:12]}"


def error_of(call, **kwargs) -> dict:
    """Makes a call that must fail; returns the parsed error response."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response


def code_of(call, **kwargs) -> str:
    return error_of(call, **kwargs)["Error"]["Code"]


@pytest.fixture(scope="module")
def key(kms) -> dict:
    return kms.create_key(Description="made by the boto3 suite")["KeyMetadata"]


@pytest.fixture(scope="module")
def other_key(kms) -> dict:
    return kms.create_key(Description="another key of the boto3 suite")["KeyMetadata"]


@pytest.fixture(scope="module")
def alias(kms, key: dict) -> str:
    name = alias_name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    return name


@pytest.fixture
def fresh_key(kms) -> dict:
    """A key of its own, for tests that change its state."""
    return kms.create_key()["KeyMetadata"]


# ---------------------------------------------------------------------------------------------
# Keys and aliases


def test_boto3_create_key_returns_enabled_symmetric_key(key: dict):
    assert UUID.match(key["KeyId"])
    assert key["Arn"] == f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key['KeyId']}"
    assert key["AWSAccountId"] == ACCOUNT_ID
    assert key["Enabled"] is True
    assert key["KeyState"] == "Enabled"
    assert key["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert key["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert key["Origin"] == "AWS_KMS"
    assert key["KeyManager"] == "CUSTOMER"
    assert key["Description"] == "made by the boto3 suite"
    assert key["CreationDate"].year >= 2024  # botocore parsed the timestamp


def test_boto3_describe_key_by_id_arn_alias_and_alias_arn(kms, key: dict, alias: str):
    alias_arn = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:{alias}"
    for key_id in (key["KeyId"], key["Arn"], alias, alias_arn):
        described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        assert described["KeyId"] == key["KeyId"], key_id
        assert described["Arn"] == key["Arn"], key_id


def test_boto3_list_keys_paginator_walks_every_key(kms, key: dict, other_key: dict):
    pages = list(kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) >= 2
    ids = [k["KeyId"] for page in pages for k in page["Keys"]]
    assert len(ids) == len(set(ids))
    assert {key["KeyId"], other_key["KeyId"]} <= set(ids)
    whole = kms.list_keys(Limit=1000)
    assert set(ids) == {k["KeyId"] for k in whole["Keys"]}


def test_boto3_list_aliases_shows_alias_with_target(kms, key: dict, alias: str):
    aliases = [a for page in kms.get_paginator("list_aliases").paginate() for a in page["Aliases"]]
    mine = [a for a in aliases if a["AliasName"] == alias]
    assert len(mine) == 1
    assert mine[0]["TargetKeyId"] == key["KeyId"]
    assert mine[0]["AliasArn"] == f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:{alias}"
    by_key = kms.list_aliases(KeyId=key["KeyId"])["Aliases"]
    assert [a["AliasName"] for a in by_key] == [alias]


def test_boto3_update_alias_points_it_at_another_key(kms, key: dict, other_key: dict):
    name = alias_name("moving")
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    kms.update_alias(AliasName=name, TargetKeyId=other_key["KeyId"])
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == other_key["KeyId"]


def test_boto3_delete_alias_then_describe_is_not_found(kms, key: dict):
    name = alias_name("gone")
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    kms.delete_alias(AliasName=name)
    assert code_of(kms.describe_key, KeyId=name) == "NotFoundException"


def test_boto3_update_key_description_is_visible_in_describe_key(kms, fresh_key: dict):
    kms.update_key_description(KeyId=fresh_key["KeyId"], Description="new words")
    assert kms.describe_key(KeyId=fresh_key["KeyId"])["KeyMetadata"]["Description"] == "new words"


def test_boto3_tags_round_trip(kms, fresh_key: dict):
    kms.tag_resource(KeyId=fresh_key["KeyId"], Tags=[{"TagKey": "team", "TagValue": "core"},
                                                     {"TagKey": "env", "TagValue": "test"}])
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=fresh_key["KeyId"])["Tags"]}
    assert tags == {"team": "core", "env": "test"}
    kms.untag_resource(KeyId=fresh_key["KeyId"], TagKeys=["env"])
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=fresh_key["KeyId"])["Tags"]}
    assert tags == {"team": "core"}


# ---------------------------------------------------------------------------------------------
# Cryptography


def test_boto3_encrypt_decrypt_round_trips_with_context(kms, key: dict, alias: str):
    data = os.urandom(1000)
    out = kms.encrypt(KeyId=alias, Plaintext=data, EncryptionContext=CONTEXT)
    assert out["KeyId"] == key["Arn"]
    assert out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert data not in out["CiphertextBlob"]
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext=CONTEXT)
    assert back["Plaintext"] == data
    assert back["KeyId"] == key["Arn"]
    assert back["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"


def test_boto3_encrypt_twice_gives_different_ciphertexts(kms, key: dict):
    a = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"same")["CiphertextBlob"]
    b = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"same")["CiphertextBlob"]
    assert a != b
    assert kms.decrypt(CiphertextBlob=a)["Plaintext"] == kms.decrypt(CiphertextBlob=b)["Plaintext"] == b"same"


def test_boto3_decrypt_with_named_key_id_alias_or_arn(kms, key: dict, alias: str):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"named")["CiphertextBlob"]
    for key_id in (key["KeyId"], key["Arn"], alias):
        assert kms.decrypt(CiphertextBlob=blob, KeyId=key_id)["Plaintext"] == b"named", key_id


def test_boto3_encrypt_accepts_4096_byte_plaintext(kms, key: dict):
    data = os.urandom(4096)
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=data)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == data


@pytest.mark.parametrize("key_spec,size", [("AES_256", 32), ("AES_128", 16)])
def test_boto3_generate_data_key_plaintext_matches_decrypted_blob(kms, key: dict, key_spec: str, size: int):
    out = kms.generate_data_key(KeyId=key["KeyId"], KeySpec=key_spec, EncryptionContext=CONTEXT)
    assert len(out["Plaintext"]) == size
    assert out["KeyId"] == key["Arn"]
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext=CONTEXT)
    assert back["Plaintext"] == out["Plaintext"]


def test_boto3_generate_data_key_number_of_bytes(kms, key: dict):
    assert len(kms.generate_data_key(KeyId=key["KeyId"], NumberOfBytes=1)["Plaintext"]) == 1
    assert len(kms.generate_data_key(KeyId=key["KeyId"], NumberOfBytes=1024)["Plaintext"]) == 1024


def test_boto3_generate_data_key_without_plaintext_decrypts_to_32_bytes(kms, key: dict):
    out = kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], KeySpec="AES_256")
    assert "Plaintext" not in out
    assert len(kms.decrypt(CiphertextBlob=out["CiphertextBlob"])["Plaintext"]) == 32


def test_boto3_re_encrypt_moves_ciphertext_to_another_key(kms, key: dict, other_key: dict):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"moving", EncryptionContext=CONTEXT)["CiphertextBlob"]
    out = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=CONTEXT,
                         DestinationKeyId=other_key["KeyId"], DestinationEncryptionContext={"new": "context"})
    assert out["SourceKeyId"] == key["Arn"]
    assert out["KeyId"] == other_key["Arn"]
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"new": "context"})
    assert back["Plaintext"] == b"moving"
    assert back["KeyId"] == other_key["Arn"]


def test_boto3_generate_random_returns_requested_length(kms):
    a = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    b = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    assert len(a) == len(b) == 32
    assert a != b


# ---------------------------------------------------------------------------------------------
# Error codes, as applications see them


def test_boto3_unknown_key_is_not_found(kms):
    missing = str(uuid.uuid4())
    err = error_of(kms.describe_key, KeyId=missing)
    assert err["Error"]["Code"] == "NotFoundException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["ResponseMetadata"]["RequestId"]
    assert code_of(kms.encrypt, KeyId=missing, Plaintext=b"x") == "NotFoundException"
    assert code_of(kms.encrypt, KeyId=f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{missing}",
                   Plaintext=b"x") == "NotFoundException"


def test_boto3_unknown_alias_is_not_found(kms):
    assert code_of(kms.encrypt, KeyId=alias_name("missing"), Plaintext=b"x") == "NotFoundException"


def test_boto3_disabled_key_refuses_encrypt_and_decrypt_until_enabled(kms, fresh_key: dict):
    key_id = fresh_key["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"before")["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)
    described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert described["KeyState"] == "Disabled"
    assert described["Enabled"] is False
    assert code_of(kms.encrypt, KeyId=key_id, Plaintext=b"x") == "DisabledException"
    assert code_of(kms.generate_data_key, KeyId=key_id, KeySpec="AES_256") == "DisabledException"
    assert code_of(kms.decrypt, CiphertextBlob=blob) == "DisabledException"
    kms.enable_key(KeyId=key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before"


def test_boto3_plaintext_of_4097_bytes_is_validation_exception(kms, key: dict):
    err = error_of(kms.encrypt, KeyId=key["KeyId"], Plaintext=os.urandom(4097))
    assert err["Error"]["Code"] == "ValidationException"
    assert "4096" in err["Error"]["Message"], err["Error"]["Message"]
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_boto3_decrypt_with_another_key_named_is_incorrect_key(kms, key: dict, other_key: dict):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"mine")["CiphertextBlob"]
    assert code_of(kms.decrypt, CiphertextBlob=blob, KeyId=other_key["KeyId"]) == "IncorrectKeyException"


def test_boto3_decrypt_with_wrong_context_is_invalid_ciphertext(kms, key: dict):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"ctx", EncryptionContext=CONTEXT)["CiphertextBlob"]
    wrong = dict(CONTEXT, team="other")
    assert code_of(kms.decrypt, CiphertextBlob=blob, EncryptionContext=wrong) == "InvalidCiphertextException"
    assert code_of(kms.decrypt, CiphertextBlob=blob) == "InvalidCiphertextException"


def test_boto3_length_prefixed_context_keeps_ab_c_apart_from_a_bc(kms, key: dict):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"p", EncryptionContext={"ab": "c"})["CiphertextBlob"]
    assert code_of(kms.decrypt, CiphertextBlob=blob, EncryptionContext={"a": "bc"}) == "InvalidCiphertextException"


@pytest.mark.parametrize("damage", ["flip-last-byte", "truncate", "garbage"])
def test_boto3_damaged_ciphertext_is_invalid_ciphertext(kms, key: dict, damage: str):
    blob = bytearray(kms.encrypt(KeyId=key["KeyId"], Plaintext=b"fragile")["CiphertextBlob"])
    if damage == "flip-last-byte":
        blob[-1] ^= 0x80
    elif damage == "truncate":
        blob = blob[: len(blob) // 2]
    else:
        blob = bytearray(os.urandom(len(blob)))
    assert code_of(kms.decrypt, CiphertextBlob=bytes(blob)) == "InvalidCiphertextException"


def test_boto3_dry_run_is_dry_run_operation_exception_and_does_nothing(kms, key: dict):
    assert code_of(kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x", DryRun=True) == "DryRunOperationException"
    assert code_of(kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256",
                   DryRun=True) == "DryRunOperationException"
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert code_of(kms.decrypt, CiphertextBlob=blob, DryRun=True) == "DryRunOperationException"


def test_boto3_create_alias_twice_is_already_exists(kms, key: dict, alias: str):
    assert code_of(kms.create_alias, AliasName=alias, TargetKeyId=key["KeyId"]) == "AlreadyExistsException"


def test_boto3_alias_without_prefix_is_rejected(kms, key: dict):
    code = code_of(kms.create_alias, AliasName="no-prefix-" + uuid.uuid4().hex[:8], TargetKeyId=key["KeyId"])
    assert code in ("ValidationException", "InvalidAliasNameException")


def test_boto3_reserved_aws_alias_is_rejected(kms, key: dict):
    code = code_of(kms.create_alias, AliasName="alias/aws/mine", TargetKeyId=key["KeyId"])
    assert code in ("NotAuthorizedException", "InvalidAliasNameException")


def test_boto3_key_spec_and_number_of_bytes_together_is_validation_exception(kms, key: dict):
    code = code_of(kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256", NumberOfBytes=32)
    assert code == "ValidationException"


def test_boto3_unknown_access_key_is_unrecognized_client(trent, tmp_path: Path):
    profile = fake_profile(trent.profile, tmp_path, "AKIAUNKNOWNUNKNOWN00", "secret")
    assert code_of(boto3_client(profile, trent.endpoint, trent.counter).list_keys) == "UnrecognizedClientException"


def test_boto3_wrong_secret_is_invalid_signature(trent, tmp_path: Path):
    profile = fake_profile(trent.profile, tmp_path, trent.profile.access_key_id, "not-the-secret")
    assert code_of(boto3_client(profile, trent.endpoint, trent.counter).list_keys) == "InvalidSignatureException"


def fake_profile(real: Profile, tmp_path: Path, access_key_id: str, secret: str) -> Profile:
    d = tmp_path / "fake"
    d.mkdir()
    (d / "credentials").write_text(
        f"[trent]\naws_access_key_id = {access_key_id}\naws_secret_access_key = {secret}\n"
    )
    (d / "config").write_text(real.config_file.read_text())
    return Profile.read(d)


# ---------------------------------------------------------------------------------------------
# The audit log


def test_boto3_audit_log_verifies_with_a_record_per_request(make_server):
    """A server of its own: N requests (successes and failures), stop, `trent audit verify` ≥ N."""
    server = make_server()
    profile = Profile.read(server.data_dir)
    counter = RequestCounter()
    kms = boto3_client(profile, server.endpoint, counter)
    secret = b"TOP-SECRET-" + uuid.uuid4().hex.encode()

    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/audited", TargetKeyId=key_id)
    blob = kms.encrypt(KeyId="alias/audited", Plaintext=secret, EncryptionContext=CONTEXT)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)["Plaintext"] == secret
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    kms.list_keys()
    kms.list_aliases()
    assert code_of(kms.describe_key, KeyId=str(uuid.uuid4())) == "NotFoundException"
    assert code_of(kms.decrypt, CiphertextBlob=blob) == "InvalidCiphertextException"
    assert code_of(kms.encrypt, KeyId=key_id, Plaintext=b"x", DryRun=True) == "DryRunOperationException"
    made = counter.count
    assert made == 10

    assert server.stop() == 0, server.log()
    records = audit_verify(server.data_dir)
    assert records >= made

    # One CloudTrail-shaped record per request, and no secret in any of them.
    lines = [json.loads(line) for f in sorted((server.data_dir / "audit").glob("*.jsonl"))
             for line in f.read_text().splitlines() if line.strip()]
    assert len(lines) == records
    names = [r["eventName"] for r in lines]
    for name in ("CreateKey", "CreateAlias", "Encrypt", "Decrypt", "GenerateDataKey", "ListKeys", "ListAliases",
                 "DescribeKey"):
        assert name in names, names
    assert sum(1 for r in lines if r.get("errorCode")) >= 3
    assert all(r["eventSource"] == "kms.amazonaws.com" and r["awsRegion"] == REGION for r in lines)
    whole = "\n".join(f.read_text() for f in (server.data_dir / "audit").iterdir() if f.is_file())
    for forbidden in (secret, data_key["Plaintext"], blob, data_key["CiphertextBlob"]):
        assert base64.b64encode(forbidden).decode() not in whole
    assert secret.decode() not in whole


def test_audit_verify_detects_an_altered_record(make_server):
    server = make_server()
    kms = boto3_client(Profile.read(server.data_dir), server.endpoint)
    kms.create_key(Description="original")
    kms.list_keys()
    assert server.stop() == 0, server.log()
    assert audit_verify(server.data_dir) >= 2

    log = next((server.data_dir / "audit").glob("*.jsonl"))
    text = log.read_text()
    assert '"original"' in text
    log.write_text(text.replace('"original"', '"tampered"', 1))
    proc = run_trent("audit", "verify", "--data-dir", str(server.data_dir), check=False)
    assert proc.returncode != 0, proc.stdout
