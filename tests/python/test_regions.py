"""Every Region on one endpoint (issue 13, ARCHITECTURE.md §10), through boto3 and the AWS CLI.

Clients configured for three Regions talk to one Trent, as if each Region had its own endpoint:
keys and aliases do not leak between Regions, the same alias name in two Regions names two
keys, and a key ARN of another Region is NotFoundException. The Regions Trent serves by default
are frozen from botocore's endpoint data; a test compares the frozen list with the data of the
botocore installed here.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import botocore
import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT_ID, REPO_ROOT, Aws, Profile, boto3_client, cli_env

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1")


def frozen_regions() -> list[str]:
    """`AWS_REGIONS` as written in crates/core/src/region.rs."""
    source = (REPO_ROOT / "crates/core/src/region.rs").read_text()
    body = re.search(r"pub static AWS_REGIONS: &\[&str\] = &\[(.*?)\];", source, re.S)
    assert body, "AWS_REGIONS not found in region.rs"
    return re.findall(r'"([a-z0-9-]+)"', body.group(1))


def test_the_frozen_region_list_is_botocores_aws_partition():
    data = json.loads((Path(botocore.__file__).parent / "data/endpoints.json").read_text())
    (aws,) = [p for p in data["partitions"] if p["partition"] == "aws"]
    assert frozen_regions() == sorted(aws["regions"]), (
        "crates/core/src/region.rs is out of date with botocore's endpoints.json: "
        f"{sorted(set(aws['regions']) ^ set(frozen_regions()))}"
    )


def code_and_message(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response["Error"]
    return err["Code"], err.get("Message", "")


def all_key_ids(kms) -> set[str]:
    ids: set[str] = set()
    for page in kms.get_paginator("list_keys").paginate():
        ids.update(k["KeyId"] for k in page["Keys"])
    return ids


def test_boto3_clients_in_three_regions_see_three_kms(trent):
    clients = {r: boto3_client(trent.profile, trent.endpoint, trent.counter, region=r) for r in REGIONS}
    keys = {r: clients[r].create_key(Description=f"in {r}")["KeyMetadata"] for r in REGIONS}
    for region, meta in keys.items():
        assert meta["Arn"] == f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{meta['KeyId']}"
    listed = {r: all_key_ids(clients[r]) for r in REGIONS}
    for region, kms in clients.items():
        assert keys[region]["KeyId"] in listed[region]
        for other in REGIONS:
            if other == region:
                continue
            assert keys[other]["KeyId"] not in listed[region], f"{other}'s key listed in {region}"
            code, message = code_and_message(kms.describe_key, KeyId=keys[other]["KeyId"])
            assert code == "NotFoundException"
            assert message == f"Key 'arn:aws:kms:{region}:{ACCOUNT_ID}:key/{keys[other]['KeyId']}' does not exist"
            code, message = code_and_message(kms.describe_key, KeyId=keys[other]["Arn"])
            assert (code, message) == ("NotFoundException", f"Invalid arn {other}")

    # The same alias name in two Regions names two keys; a third Region has none.
    alias = f"alias/regions-{uuid.uuid4().hex[:12]}"
    for region in REGIONS[:2]:
        clients[region].create_alias(AliasName=alias, TargetKeyId=keys[region]["KeyId"])
    for region in REGIONS[:2]:
        described = clients[region].describe_key(KeyId=alias)["KeyMetadata"]
        assert described["KeyId"] == keys[region]["KeyId"]
        blob = clients[region].encrypt(KeyId=alias, Plaintext=b"regional")["CiphertextBlob"]
        assert clients[region].decrypt(CiphertextBlob=blob)["KeyId"] == keys[region]["Arn"]
        other = REGIONS[1] if region == REGIONS[0] else REGIONS[0]
        code, _ = code_and_message(clients[other].decrypt, CiphertextBlob=blob)
        assert code == "InvalidCiphertextException"
    code, message = code_and_message(clients[REGIONS[2]].describe_key, KeyId=alias)
    assert code == "NotFoundException"
    assert message == f"Alias arn:aws:kms:{REGIONS[2]}:{ACCOUNT_ID}:{alias} is not found."
    for region in REGIONS:
        names = {
            a["AliasName"]: a
            for page in clients[region].get_paginator("list_aliases").paginate()
            for a in page["Aliases"]
        }
        if region in REGIONS[:2]:
            assert names[alias]["TargetKeyId"] == keys[region]["KeyId"]
            assert names[alias]["AliasArn"] == f"arn:aws:kms:{region}:{ACCOUNT_ID}:{alias}"
        else:
            assert alias not in names


def test_the_aws_cli_with_region_flags_against_one_trent(trent):
    aws = Aws(trent.env, trent.endpoint, trent.counter)
    alias = f"alias/cli-regions-{uuid.uuid4().hex[:12]}"
    made = {}
    for region in REGIONS:
        meta = aws.json("kms", "create-key", "--region", region, "--description", f"cli {region}")["KeyMetadata"]
        assert meta["Arn"].startswith(f"arn:aws:kms:{region}:")
        aws.json("kms", "create-alias", "--region", region, "--alias-name", alias, "--target-key-id", meta["KeyId"])
        made[region] = meta["KeyId"]
    for region in REGIONS:
        described = aws.json("kms", "describe-key", "--region", region, "--key-id", alias)["KeyMetadata"]
        assert described["KeyId"] == made[region]
        listed = aws.text("kms", "list-keys", "--region", region, "--query", "Keys[].KeyId").split()
        assert made[region] in listed
        assert not {made[r] for r in REGIONS if r != region} & set(listed)
    proc = aws.fails("kms", "describe-key", "--region", REGIONS[0], "--key-id", made[REGIONS[1]])
    assert "NotFoundException" in proc.stderr, proc.stderr


def test_serve_regions_limits_the_regions_served(make_server):
    server = make_server(extra_args=["--regions", "us-east-1,eu-west-1"])
    banner = "\n".join(server.stdout_lines)
    assert "serving us-east-1,eu-west-1" in banner, banner
    profile = Profile.read(server.data_dir)
    boto3_client(profile, server.endpoint, region="eu-west-1").list_keys()
    code, message = code_and_message(boto3_client(profile, server.endpoint, region="us-west-2").list_keys)
    assert code == "InvalidSignatureException"
    assert message.startswith("Credential should be scoped to a valid region, not 'us-west-2'."), message
    aws = Aws(cli_env(profile), server.endpoint)
    proc = aws.fails("kms", "list-keys", "--region", "ap-southeast-1")
    assert "InvalidSignatureException" in proc.stderr, proc.stderr


def test_multi_region_keys_through_boto3_and_the_cli(trent):
    """A multi-Region key made in us-east-1, replicated to eu-west-1 (boto3) and ap-southeast-1
    (AWS CLI): ciphertexts cross Regions, rotation of the primary reaches the replicas,
    UpdatePrimaryRegion swaps the roles."""
    east, west, south = (boto3_client(trent.profile, trent.endpoint, trent.counter, region=r) for r in REGIONS)
    meta = east.create_key(MultiRegion=True, Description="mrk primary")["KeyMetadata"]
    key = meta["KeyId"]
    assert re.fullmatch(r"mrk-[0-9a-f]{32}", key), key
    assert meta["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    replica = east.replicate_key(KeyId=key, ReplicaRegion="eu-west-1", Description="west")["ReplicaKeyMetadata"]
    assert replica["Arn"] == f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/{key}"
    aws = Aws(trent.env, trent.endpoint, trent.counter)
    out = aws.json("kms", "replicate-key", "--region", "us-east-1", "--key-id", key, "--replica-region", "ap-southeast-1")
    assert out["ReplicaKeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    code, _ = code_and_message(east.replicate_key, KeyId=key, ReplicaRegion="eu-west-1")
    assert code == "AlreadyExistsException"

    blob = east.encrypt(KeyId=key, Plaintext=b"crosses Regions", EncryptionContext={"a": "b"})["CiphertextBlob"]
    for kms in (west, south):
        assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})["Plaintext"] == b"crosses Regions"
    east.rotate_key_on_demand(KeyId=key)
    for kms in (east, west, south):
        assert len(kms.list_key_rotations(KeyId=key)["Rotations"]) == 1
    blob = west.encrypt(KeyId=key, Plaintext=b"after rotation")["CiphertextBlob"]
    assert south.decrypt(CiphertextBlob=blob)["Plaintext"] == b"after rotation"

    described = aws.json("kms", "describe-key", "--region", "ap-southeast-1", "--key-id", key)["KeyMetadata"]
    replicas = sorted(r["Region"] for r in described["MultiRegionConfiguration"]["ReplicaKeys"])
    assert replicas == ["ap-southeast-1", "eu-west-1"]
    assert described["MultiRegionConfiguration"]["PrimaryKey"]["Region"] == "us-east-1"

    east.update_primary_region(KeyId=key, PrimaryRegion="eu-west-1")
    assert west.describe_key(KeyId=key)["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    assert east.describe_key(KeyId=key)["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    code, _ = code_and_message(east.rotate_key_on_demand, KeyId=key)
    assert code == "UnsupportedOperationException"
