"""The unmodified AWS CLI v1 against a real Trent: `aws kms …` as a user would type it.

Each command runs as a subprocess with `--output json` (or `--output text` with `--query`, as in
the documented `--query Plaintext --output text | base64 -d` recipe), the profile and config
files that `trent init` wrote, and the endpoint from `--endpoint-url` or `AWS_ENDPOINT_URL_KMS`.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from harness import ACCOUNT_ID, REGION, Aws, Profile, boto3_client, cli_env, clean_env, unb64

CONTEXT = "purpose=test,team=core"
KEY_ARN = re.compile(rf"^arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/[0-9a-f-]{{36}}$")


def alias_name(prefix: str = "cli") -> str:
    return f"alias/{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def key(aws: Aws) -> dict:
    """One symmetric key made by `aws kms create-key` for the tests that only use it."""
    return aws.json("kms", "create-key", "--description", "made by the AWS CLI suite")["KeyMetadata"]


@pytest.fixture(scope="module")
def alias(aws: Aws, key: dict) -> str:
    name = alias_name()
    aws.run("kms", "create-alias", "--alias-name", name, "--target-key-id", key["KeyId"], check=True)
    return name


@pytest.fixture
def plaintext_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = bytes(range(256)) + b"\x00\xff binary, not text \n" + os.urandom(300)
    path = tmp_path / "secret.bin"
    path.write_bytes(data)
    return path, data


def encrypt_file(aws: Aws, key_id: str, path: Path, *context: str) -> bytes:
    args = ["kms", "encrypt", "--key-id", key_id, "--plaintext", f"fileb://{path}"]
    if context:
        args += ["--encryption-context", *context]
    out = aws.json(*args)
    return unb64(out["CiphertextBlob"])


def test_cli_create_key_returns_enabled_symmetric_key_in_profile_region(key: dict):
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", key["KeyId"])
    assert KEY_ARN.match(key["Arn"]), key["Arn"]
    assert key["Arn"].endswith(key["KeyId"])
    assert key["AWSAccountId"] == ACCOUNT_ID
    assert key["KeyState"] == "Enabled"
    assert key["Enabled"] is True
    assert key["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert key["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert key["Origin"] == "AWS_KMS"
    assert key["KeyManager"] == "CUSTOMER"
    assert key["Description"] == "made by the AWS CLI suite"
    assert "SYMMETRIC_DEFAULT" in key["EncryptionAlgorithms"]


def test_cli_describe_key_by_alias_name_returns_the_target_key(aws: Aws, key: dict, alias: str):
    described = aws.json("kms", "describe-key", "--key-id", alias)["KeyMetadata"]
    assert described["KeyId"] == key["KeyId"]
    assert described["Arn"] == key["Arn"]


def test_cli_describe_key_by_alias_arn_and_key_arn(aws: Aws, key: dict, alias: str):
    alias_arn = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:{alias}"
    assert aws.json("kms", "describe-key", "--key-id", alias_arn)["KeyMetadata"]["KeyId"] == key["KeyId"]
    assert aws.json("kms", "describe-key", "--key-id", key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]


def test_cli_encrypt_file_with_context_and_decrypt_returns_same_bytes(
    aws: Aws, key: dict, alias: str, plaintext_file: tuple[Path, bytes], tmp_path: Path
):
    path, data = plaintext_file
    out = aws.json("kms", "encrypt", "--key-id", alias, "--plaintext", f"fileb://{path}",
                   "--encryption-context", CONTEXT)
    assert out["KeyId"] == key["Arn"]
    assert out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = tmp_path / "secret.enc"
    blob.write_bytes(unb64(out["CiphertextBlob"]))

    # The documented recipe: --query Plaintext --output text | base64 -d
    text = aws.text("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}",
                    "--encryption-context", CONTEXT, "--query", "Plaintext")
    assert unb64(text) == data


def test_cli_decrypt_reports_key_arn_and_algorithm(aws: Aws, key: dict, plaintext_file: tuple[Path, bytes],
                                                   tmp_path: Path):
    path, data = plaintext_file
    blob = tmp_path / "secret.enc"
    blob.write_bytes(encrypt_file(aws, key["KeyId"], path, CONTEXT))
    out = aws.json("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context", CONTEXT,
                   "--key-id", key["KeyId"])
    assert unb64(out["Plaintext"]) == data
    assert out["KeyId"] == key["Arn"]
    assert out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"


def test_cli_encryption_context_order_does_not_matter(aws: Aws, key: dict, plaintext_file: tuple[Path, bytes],
                                                      tmp_path: Path):
    path, data = plaintext_file
    blob = tmp_path / "secret.enc"
    blob.write_bytes(encrypt_file(aws, key["KeyId"], path, CONTEXT))
    text = aws.text("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}",
                    "--encryption-context", "team=core,purpose=test", "--query", "Plaintext")
    assert unb64(text) == data


@pytest.mark.parametrize(
    "wrong_context",
    [
        ["--encryption-context", "purpose=test,team=other"],
        ["--encryption-context", "purpose=test"],
        ["--encryption-context", "purpose=test,team=core,extra=1"],
        [],
    ],
    ids=["changed-value", "missing-pair", "extra-pair", "no-context"],
)
def test_cli_decrypt_with_wrong_context_is_invalid_ciphertext(
    aws: Aws, key: dict, plaintext_file: tuple[Path, bytes], tmp_path: Path, wrong_context: list[str]
):
    path, _ = plaintext_file
    blob = tmp_path / "secret.enc"
    blob.write_bytes(encrypt_file(aws, key["KeyId"], path, CONTEXT))
    proc = aws.fails("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", *wrong_context)
    assert "InvalidCiphertextException" in proc.stderr, proc.stderr
    assert "when calling the Decrypt operation" in proc.stderr, proc.stderr
    assert proc.stdout.strip() == ""


def test_cli_decrypt_of_flipped_bit_is_invalid_ciphertext(aws: Aws, key: dict, plaintext_file: tuple[Path, bytes],
                                                          tmp_path: Path):
    path, _ = plaintext_file
    ct = bytearray(encrypt_file(aws, key["KeyId"], path))
    ct[-5] ^= 0x01
    blob = tmp_path / "tampered.enc"
    blob.write_bytes(bytes(ct))
    proc = aws.fails("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}")
    assert "InvalidCiphertextException" in proc.stderr, proc.stderr


def test_cli_generate_data_key_aes_256_is_32_bytes_and_blob_decrypts_to_it(aws: Aws, key: dict, alias: str,
                                                                         tmp_path: Path):
    out = aws.json("kms", "generate-data-key", "--key-id", alias, "--key-spec", "AES_256",
                   "--encryption-context", CONTEXT)
    plaintext = unb64(out["Plaintext"])
    assert len(plaintext) == 32
    assert out["KeyId"] == key["Arn"]
    blob = tmp_path / "datakey.enc"
    blob.write_bytes(unb64(out["CiphertextBlob"]))
    text = aws.text("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}",
                    "--encryption-context", CONTEXT, "--query", "Plaintext")
    assert unb64(text) == plaintext


def test_cli_generate_data_key_number_of_bytes(aws: Aws, key: dict):
    out = aws.json("kms", "generate-data-key", "--key-id", key["KeyId"], "--number-of-bytes", "64")
    assert len(unb64(out["Plaintext"])) == 64


def test_cli_generate_data_key_without_plaintext_decrypts_to_32_bytes(aws: Aws, key: dict, tmp_path: Path):
    out = aws.json("kms", "generate-data-key-without-plaintext", "--key-id", key["KeyId"], "--key-spec", "AES_256")
    assert "Plaintext" not in out
    blob = tmp_path / "datakey.enc"
    blob.write_bytes(unb64(out["CiphertextBlob"]))
    assert len(unb64(aws.text("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--query", "Plaintext"))) == 32


def test_cli_generate_random_returns_requested_length(aws: Aws):
    out = aws.json("kms", "generate-random", "--number-of-bytes", "48")
    assert len(unb64(out["Plaintext"])) == 48


def test_cli_list_keys_includes_created_key(aws: Aws, key: dict):
    out = aws.json("kms", "list-keys")
    entries = {k["KeyId"]: k["KeyArn"] for k in out["Keys"]}
    assert entries.get(key["KeyId"]) == key["Arn"]
    assert out.get("Truncated") in (False, None)


def test_cli_list_keys_paginates_through_every_key(aws: Aws, key: dict):
    for _ in range(2):
        aws.json("kms", "create-key")
    # --page-size makes the CLI walk the pages itself with Marker/NextMarker.
    paged = aws.json("kms", "list-keys", "--page-size", "1")
    whole = aws.json("kms", "list-keys")
    assert sorted(k["KeyId"] for k in paged["Keys"]) == sorted(k["KeyId"] for k in whole["Keys"])
    assert len(paged["Keys"]) >= 3


def test_cli_list_aliases_includes_created_alias(aws: Aws, key: dict, alias: str):
    out = aws.json("kms", "list-aliases")
    mine = [a for a in out["Aliases"] if a["AliasName"] == alias]
    assert len(mine) == 1, out
    assert mine[0]["TargetKeyId"] == key["KeyId"]
    assert mine[0]["AliasArn"] == f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:{alias}"


def test_cli_list_aliases_for_key_id_lists_only_its_aliases(aws: Aws, key: dict, alias: str):
    out = aws.json("kms", "list-aliases", "--key-id", key["KeyId"])
    assert [a["AliasName"] for a in out["Aliases"]] == [alias]


def test_cli_create_alias_twice_is_already_exists(aws: Aws, key: dict, alias: str):
    proc = aws.fails("kms", "create-alias", "--alias-name", alias, "--target-key-id", key["KeyId"])
    assert "AlreadyExistsException" in proc.stderr, proc.stderr


def test_cli_describe_unknown_key_is_not_found(aws: Aws):
    proc = aws.fails("kms", "describe-key", "--key-id", str(uuid.uuid4()))
    assert "NotFoundException" in proc.stderr, proc.stderr


def test_cli_describe_unknown_alias_is_not_found(aws: Aws):
    proc = aws.fails("kms", "describe-key", "--key-id", alias_name("missing"))
    assert "NotFoundException" in proc.stderr, proc.stderr


def test_cli_endpoint_from_aws_endpoint_url_kms_env(trent, key: dict, alias: str):
    """No --endpoint-url: the CLI takes the KMS endpoint from AWS_ENDPOINT_URL_KMS."""
    env_aws = Aws(trent.env, endpoint=None, counter=trent.counter)
    assert env_aws.env["AWS_ENDPOINT_URL_KMS"] == trent.endpoint
    described = env_aws.json("kms", "describe-key", "--key-id", alias)["KeyMetadata"]
    assert described["KeyId"] == key["KeyId"]
    out = env_aws.json("kms", "generate-data-key", "--key-id", alias, "--key-spec", "AES_256")
    assert len(unb64(out["Plaintext"])) == 32


def test_cli_endpoint_from_global_aws_endpoint_url_env(trent, key: dict):
    """No --endpoint-url and no AWS_ENDPOINT_URL_KMS: the global AWS_ENDPOINT_URL is used."""
    env = dict(trent.env)
    env["AWS_ENDPOINT_URL"] = env.pop("AWS_ENDPOINT_URL_KMS")
    cli = Aws(env, endpoint=None, counter=trent.counter)
    assert cli.json("kms", "describe-key", "--key-id", key["KeyId"])["KeyMetadata"]["Arn"] == key["Arn"]


def test_cli_encrypt_plain_string_argument_round_trips(aws: Aws, key: dict, tmp_path: Path):
    """CLI v1 sends a blob argument that is not a file as the bytes of the string itself."""
    blob = tmp_path / "hello.enc"
    blob.write_bytes(unb64(aws.text("kms", "encrypt", "--key-id", key["KeyId"], "--plaintext", "hello world",
                                    "--query", "CiphertextBlob")))
    text = aws.text("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--query", "Plaintext")
    assert unb64(text) == b"hello world"


def test_cli_re_encrypt_moves_ciphertext_to_another_key(aws: Aws, key: dict, plaintext_file: tuple[Path, bytes],
                                                        tmp_path: Path):
    path, data = plaintext_file
    other = aws.json("kms", "create-key")["KeyMetadata"]
    blob = tmp_path / "secret.enc"
    blob.write_bytes(encrypt_file(aws, key["KeyId"], path, CONTEXT))
    out = aws.json("kms", "re-encrypt", "--ciphertext-blob", f"fileb://{blob}", "--source-encryption-context",
                   CONTEXT, "--destination-key-id", other["KeyId"])
    assert out["SourceKeyId"] == key["Arn"]
    assert out["KeyId"] == other["Arn"]
    moved = tmp_path / "moved.enc"
    moved.write_bytes(unb64(out["CiphertextBlob"]))
    decrypted = aws.json("kms", "decrypt", "--ciphertext-blob", f"fileb://{moved}")
    assert unb64(decrypted["Plaintext"]) == data
    assert decrypted["KeyId"] == other["Arn"]


def test_cli_disable_key_then_encrypt_is_disabled_until_enabled(aws: Aws, tmp_path: Path):
    key_id = aws.json("kms", "create-key")["KeyMetadata"]["KeyId"]
    plain = tmp_path / "p.bin"
    plain.write_bytes(b"payload")
    aws.run("kms", "disable-key", "--key-id", key_id, check=True)
    assert aws.json("kms", "describe-key", "--key-id", key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    proc = aws.fails("kms", "encrypt", "--key-id", key_id, "--plaintext", f"fileb://{plain}")
    assert "DisabledException" in proc.stderr, proc.stderr
    aws.run("kms", "enable-key", "--key-id", key_id, check=True)
    assert encrypt_file(aws, key_id, plain)


def test_cli_tags_round_trip(aws: Aws):
    key_id = aws.json("kms", "create-key", "--tags", "TagKey=team,TagValue=core")["KeyMetadata"]["KeyId"]
    aws.run("kms", "tag-resource", "--key-id", key_id, "--tags", "TagKey=env,TagValue=test", check=True)
    tags = {t["TagKey"]: t["TagValue"] for t in aws.json("kms", "list-resource-tags", "--key-id", key_id)["Tags"]}
    assert tags == {"team": "core", "env": "test"}


def test_cli_explicit_profile_flag_works_without_aws_profile_env(trent, key: dict):
    env = dict(trent.env)
    del env["AWS_PROFILE"]
    cli = Aws(env, trent.endpoint, trent.counter)
    out = cli.json("--profile", "trent", "kms", "describe-key", "--key-id", key["KeyId"])
    assert out["KeyMetadata"]["Arn"] == key["Arn"]


def test_cli_with_unknown_access_key_is_rejected(trent, tmp_path: Path):
    creds = tmp_path / "credentials"
    creds.write_text("[trent]\naws_access_key_id = AKIAUNKNOWNUNKNOWN00\naws_secret_access_key = nope\n")
    env = dict(trent.env)
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(creds)
    proc = Aws(env, trent.endpoint, trent.counter).fails("kms", "list-keys")
    assert "UnrecognizedClientException" in proc.stderr, proc.stderr


def test_cli_with_wrong_secret_is_invalid_signature(trent, tmp_path: Path):
    creds = tmp_path / "credentials"
    creds.write_text(
        f"[trent]\naws_access_key_id = {trent.profile.access_key_id}\naws_secret_access_key = not-the-secret\n"
    )
    env = dict(trent.env)
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(creds)
    proc = Aws(env, trent.endpoint, trent.counter).fails("kms", "list-keys")
    assert "InvalidSignatureException" in proc.stderr, proc.stderr


def test_cli_dev_mode_accepts_any_made_up_credentials(make_server, tmp_path: Path):
    """`trent serve --dev` on a fresh data dir: whatever key and secret sign the request, it works."""
    server = make_server(dev=True, init=False)
    banner = "\n".join(server.stdout_lines)
    assert "DEV MODE" in banner, banner
    region = re.search(r"listening on \S+ \(Region ([a-z0-9-]+)", banner)
    assert region, banner
    env = clean_env()
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-credentials")
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-config")
    env["AWS_ACCESS_KEY_ID"] = "AKIAMADEUP" + uuid.uuid4().hex[:10].upper()
    env["AWS_SECRET_ACCESS_KEY"] = "made-up-secret-" + uuid.uuid4().hex
    env["AWS_DEFAULT_REGION"] = region.group(1)
    dev = Aws(env, server.endpoint)

    created = dev.json("kms", "create-key")["KeyMetadata"]
    assert created["KeyState"] == "Enabled"
    plain = tmp_path / "hello.txt"
    plain.write_bytes(b"hello, dev mode")
    blob = tmp_path / "hello.enc"
    blob.write_bytes(encrypt_file(dev, created["KeyId"], plain, CONTEXT))
    text = dev.text("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context", CONTEXT,
                    "--query", "Plaintext")
    assert unb64(text) == b"hello, dev mode"

    # A second, different made-up identity is accepted just the same, as the same account.
    env2 = dict(env, AWS_ACCESS_KEY_ID="AKIAOTHERMADEUPKEY00", AWS_SECRET_ACCESS_KEY="another-secret")
    keys = Aws(env2, server.endpoint).json("kms", "list-keys")["Keys"]
    assert created["KeyId"] in {k["KeyId"] for k in keys}


def self_signed_certificate(directory: Path, name: str = "tls") -> tuple[Path, Path]:
    """A P-256 certificate for 127.0.0.1 and localhost made by the openssl command line, and its
    key (mode 0600)."""
    cert, key = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=60,
    )
    key.chmod(0o600)
    return cert, key


def test_https_with_the_cli_ca_bundle_and_boto3_verify(make_server, tmp_path: Path):
    """`trent serve --tls-cert --tls-key`: the CLI with `--ca-bundle` and boto3 with `verify=` work
    over HTTPS; a CLI that does not trust the certificate refuses to talk."""
    cert, key = self_signed_certificate(tmp_path)
    server = make_server(tls=(cert, key))
    assert server.endpoint.startswith("https://127.0.0.1:"), server.endpoint
    profile = Profile.read(server.data_dir)
    aws = Aws(cli_env(profile), server.endpoint)

    key_id = aws.json("kms", "create-key", "--ca-bundle", str(cert))["KeyMetadata"]["KeyId"]
    plain = tmp_path / "secret.txt"
    plain.write_bytes(b"only over TLS")
    blob = tmp_path / "secret.enc"
    out = aws.json("kms", "encrypt", "--ca-bundle", str(cert), "--key-id", key_id,
                   "--plaintext", f"fileb://{plain}", "--encryption-context", CONTEXT)
    blob.write_bytes(unb64(out["CiphertextBlob"]))
    text = aws.text("kms", "decrypt", "--ca-bundle", str(cert), "--ciphertext-blob", f"fileb://{blob}",
                    "--encryption-context", CONTEXT, "--query", "Plaintext")
    assert unb64(text) == b"only over TLS"

    refused = aws.fails("kms", "list-keys")
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr or "SSL validation failed" in refused.stderr, refused.stderr

    kms = boto3_client(profile, server.endpoint, verify=str(cert))
    ciphertext = kms.encrypt(KeyId=key_id, Plaintext=b"boto3 over TLS", EncryptionContext={"a": "b"})["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=ciphertext, EncryptionContext={"a": "b"})["Plaintext"] == b"boto3 over TLS"

    # Renewal: new files in place of the old ones are served within seconds, without a restart.
    new_cert, new_key = self_signed_certificate(tmp_path, "renewed")
    kept_cert = tmp_path / "previous-cert.pem"
    kept_cert.write_bytes(cert.read_bytes())
    key.write_bytes(new_key.read_bytes())
    cert.write_bytes(new_cert.read_bytes())
    deadline = time.monotonic() + 10
    while True:
        renewed = aws.run("kms", "list-keys", "--ca-bundle", str(new_cert))
        if renewed.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert renewed.returncode == 0, renewed.stderr
    assert aws.run("kms", "list-keys", "--ca-bundle", str(kept_cert)).returncode != 0
