"""Trent's asymmetric, HMAC, ECDH and post-quantum cryptography, checked by implementations that
share no code with it (issue 4, "Tests that prove it is real").

- The `openssl` command line verifies Trent's RSA-PSS, RSA-PKCS#1 v1.5, ECDSA (P-256, P-384, P-521,
  secp256k1) and Ed25519 signatures, made over RAW messages and over DIGESTs, with the key from
  GetPublicKey; encrypts with RSA-OAEP for Trent to decrypt; derives ECDH secrets that must equal
  DeriveSharedSecret's; and signs with GenerateDataKeyPair's private keys.
- Ed25519ph (ED25519_PH_SHA_512) is checked with PyCryptodome: the `openssl` command line gained
  Ed25519ph only in 3.2.
- ML-DSA is verified with dilithium-py (pure Python FIPS 204) and pyca/cryptography's OpenSSL 4;
  ML-KEM secrets are encapsulated by kyber-py (pure Python FIPS 203) and pyca/cryptography. The
  `openssl` command line joins in where it is 3.5 or later.
- HMAC keys never leave Trent through the API, so the MACs are compared with Python's `hmac` under
  the key unwrapped from the data dir with the owner's root key file (ARCHITECTURE.md §3, re-implemented in
  `interop.py`); the same read proves every key's material is stored only wrapped.
- A few checks go through the unmodified AWS CLI with `fileb://` and `--query … --output text`.

AWS behaviour relied on (botocore's KMS documentation): RSASSA-PSS uses MGF1 with the message
hash and a salt as long as the digest; with MessageType DIGEST KMS skips the hashing step (so the
signature is the same as over the message); ED25519_SHA_512 takes RAW and ED25519_PH_SHA_512
takes DIGEST, which KMS pre-hashes once more (FIPS 186-5 §7.8.1); EXTERNAL_MU is the 64-byte μ of
FIPS 204 §6.2 for pure ML-DSA with an empty context; Decapsulate answers a well-sized but wrong
ciphertext with a pseudo-random secret (implicit rejection).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

import interop
from harness import Aws, Trent, unb64

CONTEXT = {"purpose": "interop", "suite": "asymmetric"}

# ---------------------------------------------------------------------------------------------
# Keys: one per (KeySpec, KeyUsage), made on first use and shared by the module


@dataclass(frozen=True)
class Key:
    key_id: str
    arn: str
    spec: str
    usage: str
    public_key: bytes | None  # DER SPKI from GetPublicKey; None for HMAC keys
    public_response: dict | None


class Keys:
    def __init__(self, kms):
        self.kms = kms
        self._made: dict[tuple[str, str], Key] = {}

    def __call__(self, spec: str, usage: str) -> Key:
        if (spec, usage) not in self._made:
            meta = self.kms.create_key(KeySpec=spec, KeyUsage=usage,
                                       Description=f"interop {spec} {usage}")["KeyMetadata"]
            assert (meta["KeySpec"], meta["KeyUsage"]) == (spec, usage)
            public = None
            if usage != "GENERATE_VERIFY_MAC":
                public = self.kms.get_public_key(KeyId=meta["KeyId"])
            self._made[(spec, usage)] = Key(meta["KeyId"], meta["Arn"], spec, usage,
                                            public["PublicKey"] if public else None, public)
        return self._made[(spec, usage)]

    def made(self) -> list[Key]:
        return list(self._made.values())


@pytest.fixture(scope="module")
def keys(kms) -> Keys:
    return Keys(kms)


@pytest.fixture(scope="module")
def symmetric_key(kms) -> dict:
    return kms.create_key(Description="interop: wraps data key pairs")["KeyMetadata"]


def code_of(call, **kwargs) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"]


def flip(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


RSA_SPECS = ["RSA_2048", "RSA_3072", "RSA_4096"]
ECDH_SPECS = ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"]
ML_DSA_SPECS = ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"]
ML_KEM_SPECS = ["ML_KEM_512", "ML_KEM_768", "ML_KEM_1024"]
RSA_SIGNING = [f"RSASSA_{p}_SHA_{n}" for p in ("PKCS1_V1_5", "PSS") for n in (256, 384, 512)]
ECDSA_OF = {"ECC_NIST_P256": "ECDSA_SHA_256", "ECC_NIST_P384": "ECDSA_SHA_384", "ECC_NIST_P521": "ECDSA_SHA_512",
            "ECC_SECG_P256K1": "ECDSA_SHA_256"}

# (KeySpec, KeyUsage) → the algorithm lists AWS reports for it.
EXPECTED_ALGORITHMS: dict[tuple[str, str], dict[str, set[str]]] = {
    **{(s, "SIGN_VERIFY"): {"SigningAlgorithms": set(RSA_SIGNING)} for s in RSA_SPECS},
    **{(s, "ENCRYPT_DECRYPT"): {"EncryptionAlgorithms": {"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}} for s in RSA_SPECS},
    **{(s, "SIGN_VERIFY"): {"SigningAlgorithms": {a}} for s, a in ECDSA_OF.items()},
    **{(s, "KEY_AGREEMENT"): {"KeyAgreementAlgorithms": {"ECDH"}} for s in ECDH_SPECS},
    ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY"): {"SigningAlgorithms": {"ED25519_SHA_512", "ED25519_PH_SHA_512"}},
    **{(s, "SIGN_VERIFY"): {"SigningAlgorithms": {"ML_DSA_SHAKE_256"}} for s in ML_DSA_SPECS},
    **{(s, "ENCAPSULATE_DECAPSULATE"): {"EncapsulationAlgorithms": {"ML_KEM"}} for s in ML_KEM_SPECS},
    ("SM2", "SIGN_VERIFY"): {"SigningAlgorithms": {"SM2DSA"}},
    ("SM2", "ENCRYPT_DECRYPT"): {"EncryptionAlgorithms": {"SM2PKE"}},
    ("SM2", "KEY_AGREEMENT"): {"KeyAgreementAlgorithms": {"ECDH"}},
}


# ---------------------------------------------------------------------------------------------
# GetPublicKey


@pytest.mark.parametrize("spec,usage", sorted(EXPECTED_ALGORITHMS))
def test_get_public_key_is_a_standard_spki_of_the_key_spec(keys: Keys, spec: str, usage: str):
    key = keys(spec, usage)
    assert key.public_response["KeyId"] == key.arn
    assert (key.public_response["KeySpec"], key.public_response["KeyUsage"]) == (spec, usage)
    for member in ("EncryptionAlgorithms", "SigningAlgorithms", "KeyAgreementAlgorithms", "EncapsulationAlgorithms"):
        expected = EXPECTED_ALGORITHMS[(spec, usage)].get(member, set())
        assert set(key.public_response.get(member, [])) == expected, member
    spki = interop.parse_spki(key.public_key)
    assert (spki.algorithm, spki.parameters) == interop.expected_spki(spec)
    if spec.startswith("RSA_"):
        assert interop.rsa_modulus_bits(spki) == int(spec[4:])
    elif spec in interop.EC_POINT_LEN:
        assert spki.public_key[0] == 0x04 and len(spki.public_key) == interop.EC_POINT_LEN[spec]
    elif spec == "ECC_NIST_EDWARDS25519":
        assert len(spki.public_key) == 32
    elif spec in ML_DSA_SPECS:
        assert len(spki.public_key) == interop.ML_DSA_PUBLIC_KEY_LEN[spec]
    else:
        assert len(spki.public_key) == interop.ML_KEM_PUBLIC_KEY_LEN[spec]
    if spec.startswith("ML_"):
        if spec != "ML_KEM_512":  # pyca/cryptography has no ML-KEM-512
            parsed = serialization.load_der_public_key(key.public_key)
            assert parsed.public_bytes_raw() == spki.public_key
    else:
        # OpenSSL reads it and writes back the very same DER (the PEM body).
        pem = interop.openssl_public_pem(key.public_key).strip().splitlines()
        assert pem[0] == "-----BEGIN PUBLIC KEY-----" and pem[-1] == "-----END PUBLIC KEY-----"
        assert base64.b64decode("".join(pem[1:-1])) == key.public_key


# ---------------------------------------------------------------------------------------------
# Signatures verified by openssl


SIGNING_CASES = [(s, a) for s in RSA_SPECS for a in RSA_SIGNING] + sorted(ECDSA_OF.items()) + [("SM2", "SM2DSA")]


def caller_digest(key: Key, algorithm: str, message: bytes) -> bytes:
    """What a caller sends with MessageType DIGEST: the message's hash, or for SM2DSA e = SM3(Z_A ‖ M)
    with the signer's Z_A (default distinguishing ID)."""
    if algorithm == "SM2DSA":
        return interop.sm2_digest(key.public_key, message)
    return interop.digest(algorithm, message)


@pytest.mark.parametrize("spec,algorithm", SIGNING_CASES)
def test_openssl_verifies_raw_signature(kms, keys: Keys, spec: str, algorithm: str):
    key = keys(spec, "SIGN_VERIFY")
    message = os.urandom(777)
    out = kms.sign(KeyId=key.key_id, Message=message, MessageType="RAW", SigningAlgorithm=algorithm)
    assert out["KeyId"] == key.arn and out["SigningAlgorithm"] == algorithm
    assert interop.openssl_verify(key.public_key, algorithm, message, out["Signature"])
    assert not interop.openssl_verify(key.public_key, algorithm, flip(message, 500), out["Signature"])


@pytest.mark.parametrize("spec,algorithm", SIGNING_CASES)
def test_openssl_verifies_digest_signature_against_message_and_digest(kms, keys: Keys, spec: str, algorithm: str):
    key = keys(spec, "SIGN_VERIFY")
    message = os.urandom(3000)
    message_digest = caller_digest(key, algorithm, message)
    out = kms.sign(KeyId=key.key_id, Message=message_digest, MessageType="DIGEST", SigningAlgorithm=algorithm)
    signature = out["Signature"]
    # KMS skipped the hash step: the signature is over `message`, checked two ways.
    assert interop.openssl_verify(key.public_key, algorithm, message, signature)
    assert interop.openssl_verify_digest(key.public_key, algorithm, message_digest, signature)
    # And Trent agrees that a DIGEST signature is the RAW message's signature.
    assert kms.verify(KeyId=key.key_id, Message=message, MessageType="RAW", Signature=signature,
                      SigningAlgorithm=algorithm)["SignatureValid"] is True
    # A digest signed as a RAW message is hashed twice: a different signature.
    twice = kms.sign(KeyId=key.key_id, Message=message_digest, MessageType="RAW",
                     SigningAlgorithm=algorithm)["Signature"]
    assert not interop.openssl_verify(key.public_key, algorithm, message, twice)
    assert interop.openssl_verify(key.public_key, algorithm, message_digest, twice)


@pytest.mark.parametrize("spec,algorithm", [("RSA_2048", "RSASSA_PSS_SHA_256"), ("ECC_NIST_P521", "ECDSA_SHA_512"),
                                            ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512")])
def test_openssl_verifies_signature_over_the_largest_raw_message(kms, keys: Keys, spec: str, algorithm: str):
    key = keys(spec, "SIGN_VERIFY")
    message = os.urandom(4096)
    signature = kms.sign(KeyId=key.key_id, Message=message, MessageType="RAW", SigningAlgorithm=algorithm)["Signature"]
    assert interop.openssl_verify(key.public_key, algorithm, message, signature)


def test_rsa_pss_signatures_are_salted_and_pkcs1_signatures_are_not(kms, keys: Keys):
    key = keys("RSA_2048", "SIGN_VERIFY")
    message = b"same message twice"
    pss = {kms.sign(KeyId=key.key_id, Message=message, SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
           for _ in range(2)}
    assert len(pss) == 2  # a fresh random salt each time
    pkcs1 = {kms.sign(KeyId=key.key_id, Message=message, SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")["Signature"]
             for _ in range(2)}
    assert len(pkcs1) == 1  # PKCS#1 v1.5 is deterministic
    for sig in pss | pkcs1:
        assert len(sig) == 256


def test_openssl_verifies_raw_ed25519_signature_which_is_deterministic(kms, keys: Keys):
    key = keys("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    message = os.urandom(1000)
    sigs = [kms.sign(KeyId=key.key_id, Message=message, MessageType="RAW", SigningAlgorithm="ED25519_SHA_512")
            for _ in range(2)]
    assert sigs[0]["SigningAlgorithm"] == "ED25519_SHA_512"
    assert sigs[0]["Signature"] == sigs[1]["Signature"] and len(sigs[0]["Signature"]) == 64  # RFC 8032
    assert interop.openssl_verify(key.public_key, "ED25519_SHA_512", message, sigs[0]["Signature"])
    assert not interop.openssl_verify(key.public_key, "ED25519_SHA_512", flip(message), sigs[0]["Signature"])


def test_ed25519ph_digest_signature_verifies_with_pycryptodome_as_hashed_twice(kms, keys: Keys):
    key = keys("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    message = os.urandom(5000)  # larger than Sign accepts: the point of signing a digest
    message_digest = hashlib.sha512(message).digest()
    out = kms.sign(KeyId=key.key_id, Message=message_digest, MessageType="DIGEST",
                   SigningAlgorithm="ED25519_PH_SHA_512")
    assert out["SigningAlgorithm"] == "ED25519_PH_SHA_512" and len(out["Signature"]) == 64
    # HashEdDSA over the caller's digest: KMS applied SHA-512 once more (PH), as AWS documents.
    assert interop.ed25519ph_verify(key.public_key, message_digest, out["Signature"])
    assert not interop.ed25519ph_verify(key.public_key, message, out["Signature"])
    assert not interop.ed25519ph_verify(key.public_key, flip(message_digest), out["Signature"])
    # Ed25519ph is not pure Ed25519 over the same bytes (dom2 separates them).
    assert not interop.openssl_verify(key.public_key, "ED25519_SHA_512", message_digest, out["Signature"])


# ---------------------------------------------------------------------------------------------
# RSA-OAEP: OpenSSL encrypts, Trent decrypts


OAEP_HASH_LEN = {"RSAES_OAEP_SHA_1": 20, "RSAES_OAEP_SHA_256": 32}


@pytest.mark.parametrize("algorithm", sorted(OAEP_HASH_LEN))
@pytest.mark.parametrize("spec", RSA_SPECS)
def test_openssl_oaep_ciphertext_decrypts_in_trent(kms, keys: Keys, spec: str, algorithm: str):
    key = keys(spec, "ENCRYPT_DECRYPT")
    modulus_len = int(spec[4:]) // 8
    longest = modulus_len - 2 * OAEP_HASH_LEN[algorithm] - 2  # AWS: 214/190 bytes for RSA_2048, and so on
    for plaintext in (b"\x00", os.urandom(longest)):
        ciphertext = interop.openssl_oaep_encrypt(key.public_key, algorithm, plaintext)
        assert len(ciphertext) == modulus_len
        out = kms.decrypt(CiphertextBlob=ciphertext, KeyId=key.key_id, EncryptionAlgorithm=algorithm)
        assert out["Plaintext"] == plaintext
        assert out["KeyId"] == key.arn and out["EncryptionAlgorithm"] == algorithm


def test_oaep_ciphertext_does_not_decrypt_under_the_other_oaep_hash(kms, keys: Keys):
    key = keys("RSA_2048", "ENCRYPT_DECRYPT")
    ciphertext = interop.openssl_oaep_encrypt(key.public_key, "RSAES_OAEP_SHA_256", b"secret")
    assert code_of(kms.decrypt, CiphertextBlob=ciphertext, KeyId=key.key_id,
                   EncryptionAlgorithm="RSAES_OAEP_SHA_1") == "InvalidCiphertextException"


# ---------------------------------------------------------------------------------------------
# ECDH


@pytest.mark.parametrize("spec", ECDH_SPECS)
def test_openssl_ecdh_secret_matches_derive_shared_secret(kms, keys: Keys, spec: str):
    key = keys(spec, "KEY_AGREEMENT")
    secrets = []
    for _ in range(2):
        peer = interop.openssl_genpkey(spec)
        expected = interop.openssl_derive(peer.private_pem, key.public_key)
        out = kms.derive_shared_secret(KeyId=key.key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer.public_der)
        assert out["SharedSecret"] == expected
        assert out["KeyId"] == key.arn and out["KeyAgreementAlgorithm"] == "ECDH"
        assert len(expected) == (interop.EC_POINT_LEN[spec] - 1) // 2
        secrets.append(expected)
    assert secrets[0] != secrets[1]


# ---------------------------------------------------------------------------------------------
# SM2: SM2PKE ciphertext from OpenSSL, ECDH on the SM2 curve in plain Python


def test_openssl_sm2_ciphertext_decrypts_in_trent(kms, keys: Keys):
    key = keys("SM2", "ENCRYPT_DECRYPT")
    for plaintext in (b"\x01", os.urandom(1024)):  # AWS: SM2PKE takes up to 1024 bytes
        ciphertext = interop.openssl_sm2_encrypt(key.public_key, plaintext)
        out = kms.decrypt(CiphertextBlob=ciphertext, KeyId=key.key_id, EncryptionAlgorithm="SM2PKE")
        assert out["Plaintext"] == plaintext and out["EncryptionAlgorithm"] == "SM2PKE"
    assert code_of(kms.decrypt, CiphertextBlob=flip(ciphertext, len(ciphertext) - 1), KeyId=key.key_id,
                   EncryptionAlgorithm="SM2PKE") == "InvalidCiphertextException"


def test_python_sm2_ecdh_secret_matches_derive_shared_secret(kms, keys: Keys):
    key = keys("SM2", "KEY_AGREEMENT")
    peer = interop.sm2_generate()
    out = kms.derive_shared_secret(KeyId=key.key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer.public_der)
    assert out["SharedSecret"] == interop.sm2_ecdh(peer.d, key.public_key)


# ---------------------------------------------------------------------------------------------
# GenerateDataKeyPair


DATA_KEY_PAIRS = [("RSA_2048", "RSASSA_PSS_SHA_256"), ("RSA_3072", "RSASSA_PKCS1_V1_5_SHA_384"),
                  ("RSA_4096", "RSASSA_PSS_SHA_512"), ("ECC_NIST_P256", "ECDSA_SHA_256"),
                  ("ECC_NIST_P384", "ECDSA_SHA_384"), ("ECC_NIST_P521", "ECDSA_SHA_512"),
                  ("ECC_SECG_P256K1", "ECDSA_SHA_256"), ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"),
                  ("SM2", "SM2DSA")]


@pytest.mark.parametrize("spec,algorithm", DATA_KEY_PAIRS)
def test_data_key_pair_private_key_signs_what_openssl_verifies_with_its_public_key(
        kms, symmetric_key: dict, spec: str, algorithm: str):
    out = kms.generate_data_key_pair(KeyId=symmetric_key["KeyId"], KeyPairSpec=spec, EncryptionContext=CONTEXT)
    assert out["KeyId"] == symmetric_key["Arn"] and out["KeyPairSpec"] == spec
    private, public = out["PrivateKeyPlaintext"], out["PublicKey"]
    assert interop.parse_pkcs8(private) == interop.expected_spki(spec)
    spki = interop.parse_spki(public)
    assert (spki.algorithm, spki.parameters) == interop.expected_spki(spec)
    if spec.startswith("RSA_"):
        assert interop.rsa_modulus_bits(spki) == int(spec[4:])
    assert interop.openssl_private_to_public(private) == public
    message = os.urandom(300)
    signature = interop.openssl_sign(private, algorithm, message)
    assert interop.openssl_verify(public, algorithm, message, signature)
    back = kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext=CONTEXT)
    assert back["Plaintext"] == private and back["KeyId"] == symmetric_key["Arn"]
    assert code_of(kms.decrypt, CiphertextBlob=out["PrivateKeyCiphertextBlob"]) == "InvalidCiphertextException"


@pytest.mark.parametrize("spec", ML_KEM_SPECS)
def test_ml_kem_data_key_pair_private_key_decapsulates_what_kyber_py_encapsulates_to_its_public_key(
        kms, symmetric_key: dict, spec: str):
    out = kms.generate_data_key_pair(KeyId=symmetric_key["KeyId"], KeyPairSpec=spec, EncryptionContext=CONTEXT)
    assert out["KeyPairSpec"] == spec
    private, public = out["PrivateKeyPlaintext"], out["PublicKey"]
    key_spec, dk = interop.ml_kem_private_key(private)
    assert key_spec == spec
    assert interop.ml_kem_check_decapsulation_key(spec, dk) == interop.ml_kem_public_key(public)[1]
    secret, ciphertext = interop.ml_kem_encapsulate(public)
    assert interop.ml_kem_decapsulate(spec, dk, ciphertext) == secret
    if spec != "ML_KEM_512":  # pyca/cryptography reads the PKCS#8 as well
        assert serialization.load_der_private_key(private, None).decapsulate(ciphertext) == secret
    back = kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext=CONTEXT)
    assert back["Plaintext"] == private


@pytest.mark.parametrize("spec", ["RSA_2048", "ECC_NIST_P256", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519"])
def test_data_key_pair_without_plaintext_holds_the_private_key_of_its_public_key(kms, symmetric_key: dict, spec: str):
    out = kms.generate_data_key_pair_without_plaintext(KeyId=symmetric_key["KeyId"], KeyPairSpec=spec)
    assert "PrivateKeyPlaintext" not in out and out["KeyPairSpec"] == spec
    private = kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"])["Plaintext"]
    assert interop.openssl_private_to_public(private) == out["PublicKey"]
    again = kms.generate_data_key_pair_without_plaintext(KeyId=symmetric_key["KeyId"], KeyPairSpec=spec)
    assert again["PublicKey"] != out["PublicKey"]


# ---------------------------------------------------------------------------------------------
# HMAC


HMAC_SPECS = {"HMAC_224": ("HMAC_SHA_224", hashlib.sha224, 28),
              "HMAC_256": ("HMAC_SHA_256", hashlib.sha256, 32),
              "HMAC_384": ("HMAC_SHA_384", hashlib.sha384, 48),
              "HMAC_512": ("HMAC_SHA_512", hashlib.sha512, 64)}


def stored_material(trent: Trent, kms, key: Key) -> bytes:
    """The key's one version of material, unwrapped from the store with the root key file."""
    versions = interop.stored_key_material(trent.data_dir, key.key_id, key.arn)
    assert len(versions) == 1, f"{key.spec}: {len(versions)} stored versions"
    _material_id, material = versions[0]
    # Only keys that rotate (symmetric encryption keys) show CurrentKeyMaterialId, as in AWS.
    assert "CurrentKeyMaterialId" not in kms.describe_key(KeyId=key.key_id)["KeyMetadata"]
    return material


@pytest.mark.parametrize("spec", sorted(HMAC_SPECS))
def test_generate_mac_matches_python_hmac_under_the_stored_key(trent: Trent, kms, keys: Keys, spec: str):
    algorithm, hash_fn, length = HMAC_SPECS[spec]
    key = keys(spec, "GENERATE_VERIFY_MAC")
    material = stored_material(trent, kms, key)
    assert len(material) == length  # AWS: HMAC_224 keys are 224 bits, and so on
    for message in (b"\x00", b"The quick brown fox jumps over the lazy dog", os.urandom(4096)):
        out = kms.generate_mac(KeyId=key.key_id, Message=message, MacAlgorithm=algorithm)
        assert out["KeyId"] == key.arn and out["MacAlgorithm"] == algorithm
        assert len(out["Mac"]) == hash_fn().digest_size
        assert out["Mac"] == hmac.new(material, message, hash_fn).digest()


@pytest.mark.parametrize("spec", sorted(HMAC_SPECS))
def test_verify_mac_accepts_a_python_hmac_and_rejects_a_flipped_bit(trent: Trent, kms, keys: Keys, spec: str):
    algorithm, hash_fn, _ = HMAC_SPECS[spec]
    key = keys(spec, "GENERATE_VERIFY_MAC")
    message = os.urandom(100)
    mac = hmac.new(stored_material(trent, kms, key), message, hash_fn).digest()  # made outside Trent
    out = kms.verify_mac(KeyId=key.key_id, Message=message, Mac=mac, MacAlgorithm=algorithm)
    assert out["MacValid"] is True and out["KeyId"] == key.arn and out["MacAlgorithm"] == algorithm
    for bad in (flip(mac), flip(mac, len(mac) - 1), mac[:-1]):
        assert code_of(kms.verify_mac, KeyId=key.key_id, Message=message, Mac=bad,
                       MacAlgorithm=algorithm) == "KMSInvalidMacException"
    assert code_of(kms.verify_mac, KeyId=key.key_id, Message=flip(message), Mac=mac,
                   MacAlgorithm=algorithm) == "KMSInvalidMacException"


def test_hmac_keys_of_one_spec_have_different_material(kms):
    macs = set()
    for _ in range(2):
        key_id = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
        macs.add(kms.generate_mac(KeyId=key_id, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"])
    assert len(macs) == 2


# ---------------------------------------------------------------------------------------------
# ML-DSA


@pytest.mark.parametrize("spec", ML_DSA_SPECS)
def test_ml_dsa_raw_signature_verifies_with_dilithium_py_and_pyca(kms, keys: Keys, spec: str):
    key = keys(spec, "SIGN_VERIFY")
    message = os.urandom(4096)
    out = kms.sign(KeyId=key.key_id, Message=message, MessageType="RAW", SigningAlgorithm="ML_DSA_SHAKE_256")
    signature = out["Signature"]
    assert out["SigningAlgorithm"] == "ML_DSA_SHAKE_256" and len(signature) == interop.ML_DSA_SIGNATURE_LEN[spec]
    assert interop.ml_dsa_verify(key.public_key, message, signature)  # pure ML-DSA, empty context
    assert not interop.ml_dsa_verify(key.public_key, flip(message, 4000), signature)
    assert not interop.ml_dsa_verify(key.public_key, message, signature, context=b"\x00")
    serialization.load_der_public_key(key.public_key).verify(signature, message)
    with pytest.raises(InvalidSignature):
        serialization.load_der_public_key(key.public_key).verify(flip(signature, 100), message)


@pytest.mark.parametrize("spec", ML_DSA_SPECS)
def test_ml_dsa_external_mu_signature_verifies_as_pure_ml_dsa_over_the_message(kms, keys: Keys, spec: str):
    key = keys(spec, "SIGN_VERIFY")
    _, public_key = interop.ml_dsa_public_key(key.public_key)
    message = os.urandom(20000)  # far beyond Sign's 4096 bytes: only mu travels
    mu = interop.ml_dsa_external_mu(public_key, message)
    out = kms.sign(KeyId=key.key_id, Message=mu, MessageType="EXTERNAL_MU", SigningAlgorithm="ML_DSA_SHAKE_256")
    assert interop.ml_dsa_verify(key.public_key, message, out["Signature"])
    assert kms.verify(KeyId=key.key_id, Message=mu, MessageType="EXTERNAL_MU", Signature=out["Signature"],
                      SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"] is True
    # A RAW signature of a short message verifies through its mu, and vice versa.
    short = os.urandom(64)
    raw = kms.sign(KeyId=key.key_id, Message=short, MessageType="RAW", SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
    assert kms.verify(KeyId=key.key_id, Message=interop.ml_dsa_external_mu(public_key, short),
                      MessageType="EXTERNAL_MU", Signature=raw,
                      SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"] is True


@pytest.mark.parametrize("spec", ML_DSA_SPECS)
def test_openssl_cli_verifies_ml_dsa_signature(kms, keys: Keys, spec: str):
    if interop.openssl_version() < (3, 5, 0):
        pytest.skip(f"openssl CLI {'.'.join(map(str, interop.openssl_version()))} has no ML-DSA (3.5+); "
                    "dilithium-py and pyca/cryptography verify ML-DSA instead")
    key = keys(spec, "SIGN_VERIFY")
    message = os.urandom(500)
    signature = kms.sign(KeyId=key.key_id, Message=message, SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
    assert interop.openssl_verify_ml_dsa(key.public_key, message, signature)
    assert not interop.openssl_verify_ml_dsa(key.public_key, flip(message), signature)


# ---------------------------------------------------------------------------------------------
# ML-KEM


@pytest.mark.parametrize("spec", ML_KEM_SPECS)
def test_ml_kem_secret_encapsulated_by_kyber_py_decapsulates_in_trent(kms, keys: Keys, spec: str):
    key = keys(spec, "ENCAPSULATE_DECAPSULATE")
    secret, ciphertext = interop.ml_kem_encapsulate(key.public_key)
    out = kms.decapsulate(KeyId=key.key_id, SharedSecretCiphertextBlob=ciphertext, EncapsulationAlgorithm="ML_KEM")
    assert out["SharedSecret"] == secret and len(secret) == 32
    assert out["KeyId"] == key.arn and out["EncapsulationAlgorithm"] == "ML_KEM"


@pytest.mark.parametrize("spec", ["ML_KEM_768", "ML_KEM_1024"])
def test_ml_kem_secret_encapsulated_by_pyca_decapsulates_in_trent(kms, keys: Keys, spec: str):
    key = keys(spec, "ENCAPSULATE_DECAPSULATE")
    secret, ciphertext = serialization.load_der_public_key(key.public_key).encapsulate()
    out = kms.decapsulate(KeyId=key.key_id, SharedSecretCiphertextBlob=ciphertext, EncapsulationAlgorithm="ML_KEM")
    assert out["SharedSecret"] == secret


@pytest.mark.parametrize("spec", ML_KEM_SPECS)
def test_ml_kem_encapsulate_gives_a_standard_sized_ciphertext_that_decapsulates(kms, keys: Keys, spec: str):
    key = keys(spec, "ENCAPSULATE_DECAPSULATE")
    out = kms.encapsulate(KeyId=key.key_id, EncapsulationAlgorithm="ML_KEM")
    assert out["KeyId"] == key.arn and out["EncapsulationAlgorithm"] == "ML_KEM"
    assert len(out["SharedSecret"]) == 32
    assert len(out["SharedSecretCiphertextBlob"]) == interop.ML_KEM_CIPHERTEXT_LEN[spec]
    back = kms.decapsulate(KeyId=key.key_id, SharedSecretCiphertextBlob=out["SharedSecretCiphertextBlob"],
                           EncapsulationAlgorithm="ML_KEM")
    assert back["SharedSecret"] == out["SharedSecret"]


@pytest.mark.parametrize("spec", ML_KEM_SPECS)
def test_ml_kem_changed_ciphertext_gives_a_different_secret_not_an_error(kms, keys: Keys, spec: str):
    key = keys(spec, "ENCAPSULATE_DECAPSULATE")
    secret, ciphertext = interop.ml_kem_encapsulate(key.public_key)
    changed = flip(ciphertext, 10)
    rejected = [kms.decapsulate(KeyId=key.key_id, SharedSecretCiphertextBlob=changed,
                                EncapsulationAlgorithm="ML_KEM")["SharedSecret"] for _ in range(2)]
    assert len(rejected[0]) == 32 and rejected[0] != secret
    assert rejected[0] == rejected[1]  # FIPS 203 implicit rejection is deterministic: K̄ = J(z ‖ c)
    assert code_of(kms.decapsulate, KeyId=key.key_id, SharedSecretCiphertextBlob=ciphertext[:-1],
                   EncapsulationAlgorithm="ML_KEM") == "InvalidCiphertextException"


@pytest.mark.parametrize("spec", ML_KEM_SPECS)
def test_openssl_cli_ml_kem_secret_decapsulates_in_trent(kms, keys: Keys, spec: str):
    if interop.openssl_version() < (3, 5, 0):
        pytest.skip(f"openssl CLI {'.'.join(map(str, interop.openssl_version()))} has no ML-KEM (3.5+); "
                    "kyber-py and pyca/cryptography encapsulate instead")
    key = keys(spec, "ENCAPSULATE_DECAPSULATE")
    secret, ciphertext = interop.openssl_ml_kem_encapsulate(key.public_key)
    out = kms.decapsulate(KeyId=key.key_id, SharedSecretCiphertextBlob=ciphertext, EncapsulationAlgorithm="ML_KEM")
    assert out["SharedSecret"] == secret


# ---------------------------------------------------------------------------------------------
# Material at rest


def test_every_keys_material_is_stored_only_wrapped_by_the_root_key(trent: Trent, kms, keys: Keys):
    """For each key this module made: its one stored version opens with the root key under an AAD
    bound to its ARN and material id; the plaintext appears nowhere in the database files; and the
    stored private key is the one whose public key GetPublicKey returns (checked by OpenSSL for
    PKCS#8 RSA/EC/Ed25519/SM2 keys, by dilithium-py from an ML-DSA PKCS#8's seed, and for ML-KEM
    from the FIPS 203 seed or decapsulation key, which also decapsulates a kyber-py ciphertext)."""
    for spec, usage in [*sorted(EXPECTED_ALGORITHMS), *((s, "GENERATE_VERIFY_MAC") for s in sorted(HMAC_SPECS))]:
        keys(spec, usage)
    database = b"".join(p.read_bytes() for p in sorted(Path(trent.data_dir).glob("trent.db*")))
    for key in keys.made():
        material = stored_material(trent, kms, key)
        assert material not in database, f"{key.spec} material stored in the clear"
        if key.spec.startswith(("RSA_", "ECC_", "SM2")):
            assert interop.openssl_private_to_public(material) == key.public_key, key.spec
        elif key.spec in ML_DSA_SPECS:
            assert interop.ml_dsa_private_key_public_key(material) == interop.ml_dsa_public_key(key.public_key)
        elif key.spec in ML_KEM_SPECS:
            _, ek = interop.ml_kem_public_key(key.public_key)
            dk = interop.ml_kem_stored_decapsulation_key(key.spec, material)
            assert interop.ml_kem_check_decapsulation_key(key.spec, dk) == ek
            secret, ciphertext = interop.ml_kem_encapsulate(key.public_key)
            assert interop.ml_kem_decapsulate(key.spec, dk, ciphertext) == secret
        else:
            assert key.spec in HMAC_SPECS  # compared with Python's hmac in the HMAC tests


# ---------------------------------------------------------------------------------------------
# The unmodified AWS CLI


def cli_public_key(aws: Aws, key_id: str) -> bytes:
    return unb64(aws.text("kms", "get-public-key", "--key-id", key_id, "--query", "PublicKey"))


@pytest.mark.parametrize("spec,algorithm,message_type", [("ECC_NIST_P256", "ECDSA_SHA_256", "RAW"),
                                                         ("RSA_3072", "RSASSA_PSS_SHA_384", "DIGEST"),
                                                         ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", "RAW")])
def test_cli_signature_verifies_with_openssl_and_the_cli_public_key(
        aws: Aws, keys: Keys, tmp_path: Path, spec: str, algorithm: str, message_type: str):
    key = keys(spec, "SIGN_VERIFY")
    public_key = cli_public_key(aws, key.key_id)
    assert public_key == key.public_key
    message = os.urandom(1000)
    (tmp_path / "msg.bin").write_bytes(message if message_type == "RAW" else interop.digest(algorithm, message))
    signature = unb64(aws.text("kms", "sign", "--key-id", key.key_id, "--message", f"fileb://{tmp_path / 'msg.bin'}",
                               "--message-type", message_type, "--signing-algorithm", algorithm,
                               "--query", "Signature"))
    assert interop.openssl_verify(public_key, algorithm, message, signature)
    (tmp_path / "sig.bin").write_bytes(signature)
    assert aws.text("kms", "verify", "--key-id", key.key_id, "--message", f"fileb://{tmp_path / 'msg.bin'}",
                    "--message-type", message_type, "--signing-algorithm", algorithm,
                    "--signature", f"fileb://{tmp_path / 'sig.bin'}", "--query", "SignatureValid") == "True"


def test_cli_decrypts_openssl_oaep_ciphertext(aws: Aws, keys: Keys, tmp_path: Path):
    key = keys("RSA_4096", "ENCRYPT_DECRYPT")
    plaintext = os.urandom(446)  # the RSA_4096 / SHA-256 maximum
    ciphertext = interop.openssl_oaep_encrypt(cli_public_key(aws, key.key_id), "RSAES_OAEP_SHA_256", plaintext)
    (tmp_path / "ct.bin").write_bytes(ciphertext)
    out = aws.text("kms", "decrypt", "--key-id", key.key_id, "--ciphertext-blob", f"fileb://{tmp_path / 'ct.bin'}",
                   "--encryption-algorithm", "RSAES_OAEP_SHA_256", "--query", "Plaintext")
    assert unb64(out) == plaintext


def test_cli_derive_shared_secret_matches_openssl(aws: Aws, keys: Keys, tmp_path: Path):
    key = keys("ECC_NIST_P384", "KEY_AGREEMENT")
    peer = interop.openssl_genpkey("ECC_NIST_P384")
    (tmp_path / "peer.der").write_bytes(peer.public_der)
    out = aws.text("kms", "derive-shared-secret", "--key-id", key.key_id, "--key-agreement-algorithm", "ECDH",
                   "--public-key", f"fileb://{tmp_path / 'peer.der'}", "--query", "SharedSecret")
    assert unb64(out) == interop.openssl_derive(peer.private_pem, cli_public_key(aws, key.key_id))


def test_cli_generate_mac_matches_python_hmac_and_verify_mac_rejects_a_flipped_bit(
        trent: Trent, kms, aws: Aws, keys: Keys, tmp_path: Path):
    key = keys("HMAC_384", "GENERATE_VERIFY_MAC")
    message = os.urandom(333)
    (tmp_path / "msg.bin").write_bytes(message)
    mac = unb64(aws.text("kms", "generate-mac", "--key-id", key.key_id, "--mac-algorithm", "HMAC_SHA_384",
                         "--message", f"fileb://{tmp_path / 'msg.bin'}", "--query", "Mac"))
    assert mac == hmac.new(stored_material(trent, kms, key), message, hashlib.sha384).digest()
    (tmp_path / "bad.bin").write_bytes(flip(mac, 7))
    failed = aws.fails("kms", "verify-mac", "--key-id", key.key_id, "--mac-algorithm", "HMAC_SHA_384",
                       "--message", f"fileb://{tmp_path / 'msg.bin'}", "--mac", f"fileb://{tmp_path / 'bad.bin'}")
    assert "KMSInvalidMacException" in failed.stderr


def test_cli_data_key_pair_private_key_signs_for_openssl(aws: Aws, symmetric_key: dict):
    out = aws.json("kms", "generate-data-key-pair", "--key-id", symmetric_key["KeyId"],
                   "--key-pair-spec", "ECC_NIST_P521")
    private, public = unb64(out["PrivateKeyPlaintext"]), unb64(out["PublicKey"])
    message = os.urandom(64)
    signature = interop.openssl_sign(private, "ECDSA_SHA_512", message)
    assert interop.openssl_verify(public, "ECDSA_SHA_512", message, signature)


def test_cli_ml_dsa_signature_verifies_with_dilithium_py(aws: Aws, keys: Keys, tmp_path: Path):
    key = keys("ML_DSA_65", "SIGN_VERIFY")
    message = os.urandom(2048)
    (tmp_path / "msg.bin").write_bytes(message)
    signature = unb64(aws.text("kms", "sign", "--key-id", key.key_id, "--message", f"fileb://{tmp_path / 'msg.bin'}",
                               "--message-type", "RAW", "--signing-algorithm", "ML_DSA_SHAKE_256",
                               "--query", "Signature"))
    assert interop.ml_dsa_verify(cli_public_key(aws, key.key_id), message, signature)
