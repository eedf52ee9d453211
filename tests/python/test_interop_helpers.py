"""The independent checkers of `interop.py`, proven on keys made locally — no Trent needed.

Each wrapper is exercised against a second implementation (pyca/cryptography with its bundled
OpenSSL, PyCryptodome, RFC 8032's test vector, or a round trip through the other direction), so
a check that passes against Trent means Trent is right, not that two copies of one mistake agree.
Negative controls show each checker can say no.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, mlkem, padding, rsa, utils

import interop

MESSAGE = b"interop helpers: " + bytes(range(256))


def _pkcs8(private_key) -> bytes:
    return private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())

# ---------------------------------------------------------------------------------------------
# DER


@pytest.mark.parametrize("key_spec", ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
                                      "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519"])
def test_parse_spki_reads_openssl_public_keys(key_spec: str):
    key = interop.openssl_genpkey(key_spec)
    spki = interop.parse_spki(key.public_der)
    assert (spki.algorithm, spki.parameters) == interop.expected_spki(key_spec)
    if key_spec == "RSA_2048":
        assert interop.rsa_modulus_bits(spki) == 2048
    elif key_spec == "ECC_NIST_EDWARDS25519":
        assert len(spki.public_key) == 32
    else:
        assert spki.public_key[0] == 0x04 and len(spki.public_key) == interop.EC_POINT_LEN[key_spec]


def test_parse_pkcs8_names_algorithm_and_curve():
    ec_key = ec.generate_private_key(ec.SECP384R1())
    der = _pkcs8(ec_key)
    assert interop.parse_pkcs8(der) == (interop.EC_PUBLIC_KEY, interop.CURVES["ECC_NIST_P384"])
    ed = ed25519.Ed25519PrivateKey.generate()
    der = _pkcs8(ed)
    assert interop.parse_pkcs8(der) == (interop.ED25519, None)


def test_parse_spki_rejects_trailing_bytes_unused_bits_and_truncation():
    good = interop.openssl_genpkey("ECC_NIST_P256").public_der
    with pytest.raises(interop.DerError):
        interop.parse_spki(good + b"\x00")
    with pytest.raises(interop.DerError):
        interop.parse_spki(good[:-1])
    bits_at = good.index(b"\x03\x42\x00\x04")  # BIT STRING, 66 bytes, 0 unused bits, point
    with pytest.raises(interop.DerError):
        interop.parse_spki(good[:bits_at + 2] + b"\x01" + good[bits_at + 3:])


def test_oid_encoding_round_trips_and_matches_known_bytes():
    assert interop.oid_encode("1.2.840.10045.3.1.7") == bytes.fromhex("06082a8648ce3d030107")
    for oid in [*interop.CURVES.values(), *interop.ML_DSA.values(), *interop.ML_KEM.values(), interop.RSA_ENCRYPTION]:
        tlv = interop.der_one(interop.oid_encode(oid), interop.OID)
        assert interop.oid_decode(tlv.content) == oid


def test_build_spki_matches_pyca_encoding_of_ml_kem_and_ml_dsa_keys():
    kem = mlkem.MLKEM768PrivateKey.generate().public_key()
    der = kem.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert interop.build_spki(interop.ML_KEM["ML_KEM_768"], kem.public_bytes_raw()) == der
    dsa = mldsa.MLDSA44PrivateKey.generate().public_key()
    der = dsa.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert interop.build_spki(interop.ML_DSA["ML_DSA_44"], dsa.public_bytes_raw()) == der


# ---------------------------------------------------------------------------------------------
# openssl signature verification


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


HASHES = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pyca_sign(key, algorithm: str, data: bytes, prehashed: bool) -> bytes:
    h = HASHES[interop.HASH_OF[algorithm]]
    alg = utils.Prehashed(h) if prehashed else h
    if algorithm.startswith("RSASSA_PSS_"):
        return key.sign(data, padding.PSS(padding.MGF1(h), padding.PSS.DIGEST_LENGTH), alg)
    if algorithm.startswith("RSASSA_PKCS1_V1_5_"):
        return key.sign(data, padding.PKCS1v15(), alg)
    return key.sign(data, ec.ECDSA(alg))


RSA_ALGORITHMS = [f"RSASSA_{p}_SHA_{n}" for p in ("PSS", "PKCS1_V1_5") for n in (256, 384, 512)]


@pytest.mark.parametrize("algorithm", RSA_ALGORITHMS)
def test_openssl_verify_accepts_rsa_signatures_over_message_and_digest(rsa_key, algorithm: str):
    spki = _spki(rsa_key.public_key())
    sig = _pyca_sign(rsa_key, algorithm, MESSAGE, prehashed=False)
    assert interop.openssl_verify(spki, algorithm, MESSAGE, sig)
    assert interop.openssl_verify_digest(spki, algorithm, interop.digest(algorithm, MESSAGE), sig)
    sig = _pyca_sign(rsa_key, algorithm, interop.digest(algorithm, MESSAGE), prehashed=True)
    assert interop.openssl_verify(spki, algorithm, MESSAGE, sig)
    assert not interop.openssl_verify(spki, algorithm, MESSAGE + b"!", sig)
    assert not interop.openssl_verify_digest(spki, algorithm, interop.digest(algorithm, MESSAGE + b"!"), sig)


def test_openssl_verify_insists_on_a_pss_salt_as_long_as_the_digest(rsa_key):
    h = hashes.SHA256()
    spki = _spki(rsa_key.public_key())
    long_salt = rsa_key.sign(MESSAGE, padding.PSS(padding.MGF1(h), padding.PSS.MAX_LENGTH), h)
    rsa_key.public_key().verify(long_salt, MESSAGE, padding.PSS(padding.MGF1(h), padding.PSS.AUTO), h)
    assert not interop.openssl_verify(spki, "RSASSA_PSS_SHA_256", MESSAGE, long_salt)
    other_mgf = rsa_key.sign(MESSAGE, padding.PSS(padding.MGF1(hashes.SHA1()), padding.PSS.DIGEST_LENGTH), h)
    assert not interop.openssl_verify(spki, "RSASSA_PSS_SHA_256", MESSAGE, other_mgf)


@pytest.mark.parametrize("curve,algorithm", [(ec.SECP256R1(), "ECDSA_SHA_256"), (ec.SECP384R1(), "ECDSA_SHA_384"),
                                             (ec.SECP521R1(), "ECDSA_SHA_512"), (ec.SECP256K1(), "ECDSA_SHA_256")])
def test_openssl_verify_accepts_der_ecdsa_signatures_over_message_and_digest(curve, algorithm: str):
    key = ec.generate_private_key(curve)
    spki = _spki(key.public_key())
    sig = _pyca_sign(key, algorithm, interop.digest(algorithm, MESSAGE), prehashed=True)
    assert interop.openssl_verify(spki, algorithm, MESSAGE, sig)
    assert interop.openssl_verify_digest(spki, algorithm, interop.digest(algorithm, MESSAGE), sig)
    assert not interop.openssl_verify(spki, algorithm, MESSAGE[:-1], sig)


def test_openssl_verify_accepts_pure_ed25519_and_rejects_a_changed_message():
    key = ed25519.Ed25519PrivateKey.generate()
    spki = _spki(key.public_key())
    sig = key.sign(MESSAGE)
    assert interop.openssl_verify(spki, "ED25519_SHA_512", MESSAGE, sig)
    assert not interop.openssl_verify(spki, "ED25519_SHA_512", b"x" + MESSAGE, sig)


def test_openssl_verify_reports_unusable_keys_as_errors_not_verdicts():
    with pytest.raises(interop.OpenSslError):
        interop.openssl_verify(b"\x30\x03\x02\x01\x00", "ECDSA_SHA_256", MESSAGE, b"\x30\x00")


@pytest.mark.parametrize("key_spec,algorithm", [("RSA_2048", "RSASSA_PSS_SHA_256"), ("ECC_NIST_P384", "ECDSA_SHA_384"),
                                                ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
                                                ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512")])
def test_openssl_sign_with_pkcs8_der_verifies_in_pyca(key_spec: str, algorithm: str):
    key = interop.openssl_genpkey(key_spec)
    pem_key = serialization.load_pem_private_key(key.private_pem.encode(), None)
    pkcs8 = _pkcs8(pem_key)
    assert interop.openssl_private_to_public(pkcs8) == key.public_der
    sig = interop.openssl_sign(pkcs8, algorithm, MESSAGE)
    public = serialization.load_der_public_key(key.public_der)
    h = HASHES[interop.HASH_OF[algorithm]]
    if algorithm.startswith("RSASSA_PSS_"):
        public.verify(sig, MESSAGE, padding.PSS(padding.MGF1(h), padding.PSS.DIGEST_LENGTH), h)
    elif algorithm.startswith("ECDSA_"):
        public.verify(sig, MESSAGE, ec.ECDSA(h))
    else:
        public.verify(sig, MESSAGE)
    assert interop.openssl_verify(key.public_der, algorithm, MESSAGE, sig)


# ---------------------------------------------------------------------------------------------
# RSA-OAEP, ECDH


@pytest.mark.parametrize("algorithm,h", [("RSAES_OAEP_SHA_1", hashes.SHA1()), ("RSAES_OAEP_SHA_256", hashes.SHA256())])
def test_openssl_oaep_encrypt_decrypts_in_pyca_with_mgf1_on_the_same_hash(rsa_key, algorithm: str, h):
    longest = 256 - 2 * h.digest_size - 2  # RFC 8017 §7.1.1: k - 2hLen - 2
    for plaintext in (b"\x00", os.urandom(longest)):
        ct = interop.openssl_oaep_encrypt(_spki(rsa_key.public_key()), algorithm, plaintext)
        assert len(ct) == 256
        assert rsa_key.decrypt(ct, padding.OAEP(padding.MGF1(h), h, None)) == plaintext
    with pytest.raises(interop.OpenSslError):
        interop.openssl_oaep_encrypt(_spki(rsa_key.public_key()), algorithm, os.urandom(longest + 1))


@pytest.mark.parametrize("key_spec,curve", [("ECC_NIST_P256", ec.SECP256R1()), ("ECC_NIST_P384", ec.SECP384R1()),
                                            ("ECC_NIST_P521", ec.SECP521R1())])
def test_openssl_derive_matches_pyca_ecdh(key_spec: str, curve):
    mine = interop.openssl_genpkey(key_spec)
    theirs = ec.generate_private_key(curve)
    secret = interop.openssl_derive(mine.private_pem, _spki(theirs.public_key()))
    assert secret == theirs.exchange(ec.ECDH(), serialization.load_der_public_key(mine.public_der))
    assert len(secret) == (curve.key_size + 7) // 8


# ---------------------------------------------------------------------------------------------
# Ed25519ph


# RFC 8032 §7.3, "TEST abc" for Ed25519ph.
RFC8032_PH_PUBLIC = bytes.fromhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
RFC8032_PH_MESSAGE = bytes.fromhex("616263")
RFC8032_PH_SIGNATURE = bytes.fromhex(
    "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
    "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
)


def test_ed25519ph_verify_accepts_the_rfc8032_vector_and_rejects_pure_and_changed_inputs():
    spki = interop.build_spki(interop.ED25519, RFC8032_PH_PUBLIC)
    assert interop.ed25519ph_verify(spki, RFC8032_PH_MESSAGE, RFC8032_PH_SIGNATURE)
    assert not interop.ed25519ph_verify(spki, b"abd", RFC8032_PH_SIGNATURE)
    pure = ed25519.Ed25519PrivateKey.generate()
    sig = pure.sign(RFC8032_PH_MESSAGE)
    assert not interop.ed25519ph_verify(_spki(pure.public_key()), RFC8032_PH_MESSAGE, sig)


# ---------------------------------------------------------------------------------------------
# ML-DSA, ML-KEM


ML_DSA_PYCA = {"ML_DSA_44": mldsa.MLDSA44PrivateKey, "ML_DSA_65": mldsa.MLDSA65PrivateKey,
               "ML_DSA_87": mldsa.MLDSA87PrivateKey}


@pytest.mark.parametrize("key_spec", sorted(ML_DSA_PYCA))
def test_ml_dsa_verify_with_dilithium_py_accepts_pyca_signatures_and_rejects_changes(key_spec: str):
    key = ML_DSA_PYCA[key_spec].generate()
    spki = _spki(key.public_key())
    assert interop.ml_dsa_public_key(spki) == (key_spec, key.public_key().public_bytes_raw())
    sig = key.sign(MESSAGE)
    assert len(sig) == interop.ML_DSA_SIGNATURE_LEN[key_spec]
    assert interop.ml_dsa_verify(spki, MESSAGE, sig)
    assert not interop.ml_dsa_verify(spki, MESSAGE + b"\x00", sig)
    assert not interop.ml_dsa_verify(spki, MESSAGE, sig, context=b"ctx")
    assert interop.ml_dsa_verify(spki, MESSAGE, key.sign(MESSAGE, context=b"ctx"), context=b"ctx")


@pytest.mark.parametrize("key_spec", sorted(ML_DSA_PYCA))
def test_ml_dsa_external_mu_matches_dilithium_py_and_signs_as_pure_ml_dsa(key_spec: str):
    key = ML_DSA_PYCA[key_spec].generate()
    pk = key.public_key().public_bytes_raw()
    mu = interop.ml_dsa_external_mu(pk, MESSAGE)
    assert len(mu) == 64
    assert mu == interop._ml_dsa(key_spec).prehash_external_mu(pk, MESSAGE)
    hasher = mldsa.MLDSAMuHasher(key.public_key())  # pyca's (OpenSSL 4's) own mu, a third opinion
    hasher.update(MESSAGE)
    assert hasher.finalize() == mu
    assert interop.ml_dsa_verify(_spki(key.public_key()), MESSAGE, key.sign_mu(mu))
    assert interop.ml_dsa_external_mu(pk, MESSAGE, b"c") != mu


ML_KEM_PYCA = {"ML_KEM_768": mlkem.MLKEM768PrivateKey, "ML_KEM_1024": mlkem.MLKEM1024PrivateKey}


@pytest.mark.parametrize("key_spec", sorted(ML_KEM_PYCA))
def test_ml_kem_encapsulate_with_kyber_py_decapsulates_in_pyca(key_spec: str):
    key = ML_KEM_PYCA[key_spec].generate()
    secret, ciphertext = interop.ml_kem_encapsulate(_spki(key.public_key()))
    assert len(secret) == 32 and len(ciphertext) == interop.ML_KEM_CIPHERTEXT_LEN[key_spec]
    assert key.decapsulate(ciphertext) == secret
    changed = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
    assert key.decapsulate(changed) != secret  # implicit rejection: a different secret, not an error


def test_ml_kem_512_encapsulate_through_a_built_spki_round_trips_in_kyber_py():
    from kyber_py.ml_kem import ML_KEM_512

    ek, dk = ML_KEM_512.keygen()
    spki = interop.build_spki(interop.ML_KEM["ML_KEM_512"], ek)
    assert interop.ml_kem_public_key(spki) == ("ML_KEM_512", ek)
    secret, ciphertext = interop.ml_kem_encapsulate(spki)
    assert ML_KEM_512.decaps(dk, ciphertext) == secret


def test_ml_key_readers_refuse_keys_of_another_algorithm_or_length():
    ec_spki = interop.openssl_genpkey("ECC_NIST_P256").public_der
    with pytest.raises(interop.DerError):
        interop.ml_dsa_public_key(ec_spki)
    with pytest.raises(interop.DerError):
        interop.ml_kem_public_key(interop.build_spki(interop.ML_KEM["ML_KEM_768"], b"\x00" * 800))


# ---------------------------------------------------------------------------------------------
# Material at rest


def test_material_wrapping_aad_is_length_prefixed_purpose_arn_and_material_id():
    arn = "arn:aws:kms:eu-west-2:123456789012:key/00000000-0000-0000-0000-000000000000"
    kmid = bytes(range(32))
    aad = interop.material_wrapping_aad(arn, kmid)
    assert aad == (b"\x00\x00\x00\x15trent/v1/key-material" + len(arn).to_bytes(4, "big") + arn.encode()
                   + b"\x00\x00\x00\x20" + kmid)


def test_unwrap_opens_aes_gcm_with_the_version_byte_in_the_aad_and_refuses_another_aad():
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    root, iv, secret = os.urandom(32), os.urandom(12), os.urandom(48)
    aad = interop.material_wrapping_aad("arn:x", b"\x01" * 32)
    wrapped = b"\x01" + iv + AESGCM(root).encrypt(iv, secret, b"\x01" + aad)
    assert interop.unwrap(root, aad, wrapped) == secret
    with pytest.raises(InvalidTag):
        interop.unwrap(root, interop.material_wrapping_aad("arn:y", b"\x01" * 32), wrapped)
    with pytest.raises(ValueError):
        interop.unwrap(root, aad, b"\x02" + wrapped[1:])


def test_load_root_key_reads_the_trent_key_file_format(tmp_path):
    good = tmp_path / "root.key"
    good.write_bytes(b"TRENTRK1" + bytes(range(32)))
    assert interop.load_root_key(good) == bytes(range(32))
    bad = tmp_path / "bad.key"
    bad.write_bytes(b"TRENTRK2" + bytes(range(32)))
    with pytest.raises(ValueError):
        interop.load_root_key(bad)


def test_digest_uses_the_hash_named_by_the_signing_algorithm():
    assert interop.digest("ECDSA_SHA_384", b"m") == hashlib.sha384(b"m").digest()
    assert interop.digest("ED25519_PH_SHA_512", b"m") == hashlib.sha512(b"m").digest()
    assert interop.digest("RSASSA_PKCS1_V1_5_SHA_256", b"m") == hashlib.sha256(b"m").digest()


# ---------------------------------------------------------------------------------------------
# SM2 and the plain-Python curve arithmetic

# SEC 2 / FIPS 186-4 P-256, only to anchor `interop.Curve` to OpenSSL's ECDH.
P256 = interop.Curve(
    p=2**256 - 2**224 + 2**192 + 2**96 - 1,
    a=2**256 - 2**224 + 2**192 + 2**96 - 1 - 3,
    b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
    gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
    n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
)


@pytest.mark.parametrize("curve", [P256, interop.SM2_CURVE], ids=["P-256", "SM2"])
def test_curve_base_point_is_on_the_curve_with_order_n(curve: interop.Curve):
    g = (curve.gx, curve.gy)
    assert curve.on_curve(g)
    assert curve.mul(curve.n, g) is None
    assert curve.mul(curve.n - 1, g) == (curve.gx, curve.p - curve.gy)


def test_curve_ecdh_on_p256_matches_openssl_derive():
    mine, theirs = interop.openssl_genpkey("ECC_NIST_P256"), interop.openssl_genpkey("ECC_NIST_P256")
    d = interop.openssl_private_scalar(mine.private_pem)
    assert P256.encode(P256.mul(d, (P256.gx, P256.gy))) == interop.parse_spki(mine.public_der).public_key
    peer = P256.decode(interop.parse_spki(theirs.public_der).public_key)
    assert P256.mul(d, peer)[0].to_bytes(32, "big") == interop.openssl_derive(mine.private_pem, theirs.public_der)


def test_sm2_public_key_of_an_openssl_key_is_its_scalar_times_g_and_ecdh_agrees_both_ways():
    one, two = interop.openssl_genpkey("SM2"), interop.openssl_genpkey("SM2")
    spki = interop.parse_spki(one.public_der)
    assert (spki.algorithm, spki.parameters) == (interop.EC_PUBLIC_KEY, interop.CURVES["SM2"])
    d1, d2 = interop.openssl_private_scalar(one.private_pem), interop.openssl_private_scalar(two.private_pem)
    g = (interop.SM2_CURVE.gx, interop.SM2_CURVE.gy)
    assert interop.SM2_CURVE.encode(interop.SM2_CURVE.mul(d1, g)) == spki.public_key
    assert interop.sm2_ecdh(d1, two.public_der) == interop.sm2_ecdh(d2, one.public_der)
    python_key = interop.sm2_generate()
    assert interop.sm2_ecdh(python_key.d, one.public_der) == interop.sm2_ecdh(d1, python_key.public_der)
    assert interop.openssl_public_pem(python_key.public_der).startswith("-----BEGIN PUBLIC KEY-----")


def test_sm2dsa_openssl_signature_verifies_over_message_and_over_python_computed_e():
    key = interop.openssl_genpkey("SM2")
    signature = interop.openssl_sign(key.private_pem, "SM2DSA", MESSAGE)
    assert interop.openssl_verify(key.public_der, "SM2DSA", MESSAGE, signature)
    assert not interop.openssl_verify(key.public_der, "SM2DSA", MESSAGE + b"!", signature)
    # OpenSSL accepts the signature over e = SM3(Z_A ‖ M) computed here: Z_A is right.
    e = interop.sm2_digest(key.public_der, MESSAGE)
    assert interop.openssl_verify_digest(key.public_der, "SM2DSA", e, signature)
    assert not interop.openssl_verify_digest(key.public_der, "SM2DSA", interop.digest("SM2DSA", MESSAGE), signature)


def test_sm2_digest_of_the_gbt_32918_example_identity_is_sm3_of_za_and_message():
    assert hashlib.new("sm3", b"abc").hexdigest() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    key = interop.openssl_genpkey("SM2")
    za = interop.sm2_za(key.public_der)
    assert interop.sm2_digest(key.public_der, b"m") == hashlib.new("sm3", za + b"m").digest()
    assert interop.sm2_za(key.public_der, b"ALICE123@YAHOO.COM") != za


def test_openssl_sm2_encrypt_round_trips_through_openssl_decrypt(tmp_path):
    key = interop.openssl_genpkey("SM2")
    plaintext = os.urandom(1024)
    ciphertext = interop.openssl_sm2_encrypt(key.public_der, plaintext)
    (tmp_path / "key.pem").write_text(key.private_pem)
    (tmp_path / "ct.bin").write_bytes(ciphertext)
    interop._openssl(["pkeyutl", "-decrypt", "-inkey", "key.pem", "-in", "ct.bin", "-out", "pt.bin"], tmp_path)
    assert (tmp_path / "pt.bin").read_bytes() == plaintext
    fields = interop.der_children(interop.der_one(ciphertext, interop.SEQUENCE).content)  # GM/T 0009: x, y, C3, C2
    assert [f.tag for f in fields] == [interop.INTEGER, interop.INTEGER, interop.OCTET_STRING, interop.OCTET_STRING]
    assert len(fields[2].content) == 32 and len(fields[3].content) == len(plaintext)


# ---------------------------------------------------------------------------------------------
# ML-DSA and ML-KEM private keys: every PKCS#8 private key choice


def _pkcs8_of(oid: str, inner: bytes) -> bytes:
    algorithm = interop.der_encode(interop.SEQUENCE, interop.oid_encode(oid))
    body = interop.der_encode(interop.INTEGER, b"\x00") + algorithm + interop.der_encode(interop.OCTET_STRING, inner)
    return interop.der_encode(interop.SEQUENCE, body)


def test_ml_dsa_private_key_public_key_reads_seed_expanded_and_both_forms():
    key = mldsa.MLDSA87PrivateKey.generate()
    pk = key.public_key().public_bytes_raw()
    assert interop.ml_dsa_private_key_public_key(_pkcs8(key)) == ("ML_DSA_87", pk)  # pyca writes the seed form
    seed = os.urandom(32)
    pk2, sk2 = interop._ml_dsa("ML_DSA_44").key_derive(seed)
    oid = interop.ML_DSA["ML_DSA_44"]
    expanded = interop.der_encode(interop.OCTET_STRING, sk2)
    both = interop.der_encode(interop.SEQUENCE, interop.der_encode(interop.OCTET_STRING, seed) + expanded)
    assert interop.ml_dsa_private_key_public_key(_pkcs8_of(oid, expanded)) == ("ML_DSA_44", pk2)
    assert interop.ml_dsa_private_key_public_key(_pkcs8_of(oid, both)) == ("ML_DSA_44", pk2)
    wrong = interop.der_encode(interop.SEQUENCE, interop.der_encode(interop.OCTET_STRING, os.urandom(32)) + expanded)
    with pytest.raises(interop.DerError):
        interop.ml_dsa_private_key_public_key(_pkcs8_of(oid, wrong))


def test_ml_kem_private_key_reads_seed_and_expanded_forms_and_decapsulates():
    key = mlkem.MLKEM1024PrivateKey.generate()
    spec, dk = interop.ml_kem_private_key(_pkcs8(key))  # pyca writes the seed form
    assert spec == "ML_KEM_1024"
    assert interop.ml_kem_check_decapsulation_key(spec, dk) == key.public_key().public_bytes_raw()
    secret, ciphertext = key.public_key().encapsulate()
    assert interop.ml_kem_decapsulate(spec, dk, ciphertext) == secret
    from kyber_py.ml_kem import ML_KEM_512

    ek, dk512 = ML_KEM_512.keygen()
    der = _pkcs8_of(interop.ML_KEM["ML_KEM_512"], interop.der_encode(interop.OCTET_STRING, dk512))
    assert interop.ml_kem_private_key(der) == ("ML_KEM_512", dk512)
    assert interop.ml_kem_check_decapsulation_key("ML_KEM_512", dk512) == ek
    tampered = dk512[:800] + bytes([dk512[800] ^ 1]) + dk512[801:]  # inside ek: H(ek) no longer matches
    with pytest.raises(interop.DerError):
        interop.ml_kem_check_decapsulation_key("ML_KEM_512", tampered)


def test_ml_kem_stored_decapsulation_key_accepts_seed_dk_and_pkcs8():
    from kyber_py.ml_kem import ML_KEM_768

    seed = os.urandom(64)
    ek, dk = ML_KEM_768.key_derive(seed)
    pkcs8 = _pkcs8_of(interop.ML_KEM["ML_KEM_768"], interop.der_encode(interop.OCTET_STRING, dk))
    for stored in (seed, dk, pkcs8):
        assert interop.ml_kem_stored_decapsulation_key("ML_KEM_768", stored) == dk
    with pytest.raises(interop.DerError):
        interop.ml_kem_stored_decapsulation_key("ML_KEM_1024", pkcs8)
