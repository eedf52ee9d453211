"""Imported key material (BYOK, issue 16) as a user does it, with tools that share no code with
Trent: key material made and wrapped with pyca/cryptography and with the `openssl` command line
exactly as the Developer Guide's "Encrypt the key material" examples do (RSAES_OAEP_SHA_256 with
MGF1-SHA-256; RSA_AES_KEY_WRAP_SHA_256: AES key wrap with padding, RFC 5649, with a fresh AES key,
then RSA-OAEP of that AES key, concatenated), then proved to be the material in use:

- an HMAC key's GenerateMac equals Python's `hmac` under the same bytes;
- an imported RSA or ECC key's signatures verify offline with the imported private key's public
  key, and GetPublicKey returns that public key;
- two keys given the same symmetric material each decrypt only their own ciphertexts (AWS does
  not make two keys with the same material interchangeable).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding


def _external_key(kms, key_spec: str, key_usage: str) -> str:
    meta = kms.create_key(Origin="EXTERNAL", KeySpec=key_spec, KeyUsage=key_usage)["KeyMetadata"]
    assert meta["KeyState"] == "PendingImport"
    assert meta["Origin"] == "EXTERNAL"
    return meta["KeyId"]


def _params(kms, key_id: str, algorithm: str, spec: str = "RSA_2048") -> dict:
    return kms.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec=spec)


def _wrap_with_cryptography(public_der: bytes, algorithm: str, material: bytes) -> bytes:
    public = serialization.load_der_public_key(public_der)
    digest = hashes.SHA256() if algorithm.endswith("SHA_256") else hashes.SHA1()
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)
    if algorithm.startswith("RSAES_OAEP"):
        return public.encrypt(material, oaep)
    aes_key = os.urandom(32)
    return public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)


def _wrap_with_openssl(tmp: Path, public_der: bytes, algorithm: str, material: bytes) -> bytes:
    """The Developer Guide's OpenSSL commands, step by step."""
    (tmp / "WrappingPublicKey.bin").write_bytes(public_der)
    (tmp / "PlaintextKeyMaterial.bin").write_bytes(material)
    md = "sha256" if algorithm.endswith("SHA_256") else "sha1"
    oaep = ["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", f"rsa_oaep_md:{md}", "-pkeyopt", f"rsa_mgf1_md:{md}"]
    run = lambda *args: subprocess.run(args, cwd=tmp, check=True, capture_output=True)  # noqa: E731
    if algorithm.startswith("RSAES_OAEP"):
        run("openssl", "pkeyutl", "-encrypt", "-in", "PlaintextKeyMaterial.bin", "-out", "EncryptedKeyMaterial.bin",
            "-inkey", "WrappingPublicKey.bin", "-keyform", "DER", "-pubin", *oaep)
        return (tmp / "EncryptedKeyMaterial.bin").read_bytes()
    run("openssl", "rand", "-out", "aes-key.bin", "32")
    aes_hex = (tmp / "aes-key.bin").read_bytes().hex()
    run("openssl", "enc", "-id-aes256-wrap-pad", "-K", aes_hex, "-iv", "A65959A6",
        "-in", "PlaintextKeyMaterial.bin", "-out", "key-material-wrapped.bin")
    run("openssl", "pkeyutl", "-encrypt", "-in", "aes-key.bin", "-out", "aes-key-wrapped.bin",
        "-inkey", "WrappingPublicKey.bin", "-keyform", "DER", "-pubin", *oaep)
    return (tmp / "aes-key-wrapped.bin").read_bytes() + (tmp / "key-material-wrapped.bin").read_bytes()


def _import(kms, key_id: str, algorithm: str, material: bytes, wrap) -> str:
    p = _params(kms, key_id, algorithm)
    out = kms.import_key_material(
        KeyId=key_id,
        ImportToken=p["ImportToken"],
        EncryptedKeyMaterial=wrap(p["PublicKey"], algorithm, material),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    return out["KeyMaterialId"]


@pytest.mark.parametrize("tool", ["cryptography", "openssl"])
@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_256", "RSAES_OAEP_SHA_1"])
def test_imported_hmac_key_macs_equal_an_offline_hmac(kms, tmp_path, tool, algorithm):
    key_id = _external_key(kms, "HMAC_256", "GENERATE_VERIFY_MAC")
    material = os.urandom(32)
    wrap = _wrap_with_cryptography if tool == "cryptography" else (
        lambda pub, alg, m: _wrap_with_openssl(tmp_path, pub, alg, m))
    _import(kms, key_id, algorithm, material, wrap)
    message = b"imported HMAC material is the material in use"
    mac = kms.generate_mac(KeyId=key_id, Message=message, MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert mac == hmac.new(material, message, hashlib.sha256).digest()


def _pkcs8(private_key) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _spki(private_key) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_imported_rsa_key_signs_with_the_imported_private_key(kms, tmp_path):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = _external_key(kms, "RSA_2048", "SIGN_VERIFY")
    # An RSA private key needs an RSA_AES wrapping algorithm: the openssl commands of the guide.
    _import(kms, key_id, "RSA_AES_KEY_WRAP_SHA_256", _pkcs8(private),
            lambda pub, alg, m: _wrap_with_openssl(tmp_path, pub, alg, m))
    assert kms.get_public_key(KeyId=key_id)["PublicKey"] == _spki(private)
    message = b"signed by imported RSA material"
    sig = kms.sign(KeyId=key_id, Message=message, MessageType="RAW",
                   SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    private.public_key().verify(
        sig, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())


@pytest.mark.parametrize(
    ("key_spec", "curve", "algorithm", "digest"),
    [
        ("ECC_NIST_P256", ec.SECP256R1(), "ECDSA_SHA_256", hashes.SHA256()),
        ("ECC_SECG_P256K1", ec.SECP256K1(), "ECDSA_SHA_256", hashes.SHA256()),
        ("ECC_NIST_P384", ec.SECP384R1(), "ECDSA_SHA_384", hashes.SHA384()),
    ],
)
def test_imported_ecc_key_signs_with_the_imported_private_key(kms, key_spec, curve, algorithm, digest):
    private = ec.generate_private_key(curve)
    key_id = _external_key(kms, key_spec, "SIGN_VERIFY")
    _import(kms, key_id, "RSAES_OAEP_SHA_256", _pkcs8(private), _wrap_with_cryptography)
    assert kms.get_public_key(KeyId=key_id)["PublicKey"] == _spki(private)
    message = b"signed by imported ECC material"
    sig = kms.sign(KeyId=key_id, Message=message, MessageType="RAW", SigningAlgorithm=algorithm)["Signature"]
    private.public_key().verify(sig, message, ec.ECDSA(digest))


def test_a_private_key_of_another_type_is_incorrect_key_material(kms):
    key_id = _external_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    other = ec.generate_private_key(ec.SECP384R1())
    p = _params(kms, key_id, "RSA_AES_KEY_WRAP_SHA_256")
    with pytest.raises(ClientError) as e:
        kms.import_key_material(
            KeyId=key_id, ImportToken=p["ImportToken"],
            EncryptedKeyMaterial=_wrap_with_cryptography(p["PublicKey"], "RSA_AES_KEY_WRAP_SHA_256", _pkcs8(other)),
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert e.value.response["Error"]["Code"] == "IncorrectKeyMaterialException"


def test_two_keys_with_the_same_material_decrypt_only_their_own_ciphertexts(kms):
    material = os.urandom(32)
    a = _external_key(kms, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    b = _external_key(kms, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    _import(kms, a, "RSAES_OAEP_SHA_256", material, _wrap_with_cryptography)
    _import(kms, b, "RSA_AES_KEY_WRAP_SHA_1", material, _wrap_with_cryptography)
    ct_a = kms.encrypt(KeyId=a, Plaintext=b"for a")["CiphertextBlob"]
    ct_b = kms.encrypt(KeyId=b, Plaintext=b"for b")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=ct_a)["KeyId"].endswith(a)
    assert kms.decrypt(CiphertextBlob=ct_b)["Plaintext"] == b"for b"
    for key, ct in [(b, ct_a), (a, ct_b)]:
        with pytest.raises(ClientError) as e:
            kms.decrypt(KeyId=key, CiphertextBlob=ct)
        assert e.value.response["Error"]["Code"] == "IncorrectKeyException"
