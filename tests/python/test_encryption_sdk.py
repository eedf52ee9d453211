"""The AWS Encryption SDK for Python, unmodified, against Trent.

Envelope encryption as applications do it: the SDK's KMS master key provider asks Trent for a
data key (GenerateDataKey, then Encrypt for each further key), encrypts the message locally,
and later asks Trent to decrypt the data key. The SDK builds its own KMS clients; they find
Trent through `AWS_ENDPOINT_URL_KMS` and the profile files `trent init` wrote, nothing else.
"""

from __future__ import annotations

import json
import os

import aws_encryption_sdk
import botocore.session
import pytest
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.exceptions import DecryptKeyError

from harness import Trent

CONTEXT = {"purpose": "esdk-test", "team": "core"}


@pytest.fixture
def provider_for(trent: Trent, monkeypatch: pytest.MonkeyPatch):
    """Makes strict KMS master key providers for key ARNs, with Trent as the KMS endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", trent.endpoint)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(trent.profile.credentials_file))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(trent.profile.config_file))
    monkeypatch.setenv("AWS_PROFILE", "trent")

    def make(*key_arns: str) -> aws_encryption_sdk.StrictAwsKmsMasterKeyProvider:
        return aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
            key_ids=list(key_arns), botocore_session=botocore.session.Session()
        )

    return make


@pytest.fixture
def esdk() -> aws_encryption_sdk.EncryptionSDKClient:
    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )


def audit_records(trent: Trent) -> list[dict]:
    return [json.loads(line) for f in sorted((trent.data_dir / "audit").glob("*.jsonl"))
            for line in f.read_text().splitlines() if line]


def test_encryption_sdk_round_trip_under_two_trent_keys(trent: Trent, kms, esdk, provider_for):
    first = kms.create_key(Description="esdk first")["KeyMetadata"]["Arn"]
    second = kms.create_key(Description="esdk second")["KeyMetadata"]["Arn"]
    plaintext = os.urandom(20_000)

    ciphertext, header = esdk.encrypt(source=plaintext, key_provider=provider_for(first, second),
                                      encryption_context=CONTEXT)
    assert plaintext not in ciphertext
    # One data key, wrapped by Trent under each key: the message names both.
    assert {k.key_provider.key_info.decode() for k in header.encrypted_data_keys} == {first, second}
    assert header.encryption_context["purpose"] == "esdk-test"

    # Either key alone decrypts the message.
    for arn in (first, second):
        decrypted, decrypt_header = esdk.decrypt(source=ciphertext, key_provider=provider_for(arn))
        assert decrypted == plaintext
        assert decrypt_header.encryption_context["team"] == "core"

    # Trent saw the SDK's calls, with the SDK's encryption context (its own public-key member
    # included) and no plaintext or data key in the records.
    records = [r for r in audit_records(trent)
               if r["eventName"] in ("GenerateDataKey", "Encrypt", "Decrypt")
               and r.get("requestParameters", {}).get("encryptionContext", {}).get("purpose") == "esdk-test"]
    names = [r["eventName"] for r in records if "errorCode" not in r]
    assert "GenerateDataKey" in names and "Encrypt" in names and names.count("Decrypt") >= 2, names
    assert all("aws-crypto-public-key" in r["requestParameters"]["encryptionContext"] for r in records)
    assert all(r["responseElements"] is None for r in records)
    assert all("plaintext" not in r["requestParameters"] for r in records)


def test_encryption_sdk_cannot_decrypt_when_trent_refuses(trent: Trent, kms, esdk, provider_for):
    key = kms.create_key(Description="esdk disabled")["KeyMetadata"]["Arn"]
    ciphertext, _ = esdk.encrypt(source=b"secret", key_provider=provider_for(key), encryption_context=CONTEXT)
    kms.disable_key(KeyId=key)
    with pytest.raises(DecryptKeyError):
        esdk.decrypt(source=ciphertext, key_provider=provider_for(key))
    kms.enable_key(KeyId=key)
    assert esdk.decrypt(source=ciphertext, key_provider=provider_for(key))[0] == b"secret"

    # A tampered message fails the SDK's own authentication; Trent is not fooled into helping.
    tampered = bytearray(ciphertext)
    tampered[-40] ^= 0x01
    with pytest.raises(Exception):
        esdk.decrypt(source=bytes(tampered), key_provider=provider_for(key))
