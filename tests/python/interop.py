"""Independent checks of Trent's asymmetric, HMAC, key-agreement and post-quantum cryptography.

Nothing here trusts Trent: every check is made by an implementation that shares no code with
Trent's aws-lc-rs — the `openssl` command line (OpenSSL 3.x), pure-Python FIPS 204/203
(`dilithium-py`, `kyber-py`), PyCryptodome (Ed25519ph, which OpenSSL < 3.2 lacks) and Python's
own `hashlib`/`hmac`. The DER readers below are written by hand (a few dozen lines) so that even
the parsing of Trent's SubjectPublicKeyInfo is checked independently.

The at-rest helpers (`stored_key_material`) re-implement ARCHITECTURE.md §3's wrapped format in Python:
with the root key file of a data dir, they unwrap a KMS key's material from the SQLite store.
That is the one honest way to compare an HMAC key's MACs with Python's `hmac`: the key never
leaves Trent through the API, by design, and only its owner (who holds the root key file) can
read it.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# DER (X.690) reading and a little writing: enough for SubjectPublicKeyInfo and PKCS#8


class DerError(ValueError):
    """Malformed or unexpected DER."""


@dataclass(frozen=True)
class Tlv:
    """One DER element: its tag byte, its contents, and the whole encoding."""

    tag: int
    content: bytes
    encoded: bytes


SEQUENCE, INTEGER, BIT_STRING, OCTET_STRING, NULL, OID = 0x30, 0x02, 0x03, 0x04, 0x05, 0x06


def der_read(data: bytes, pos: int = 0) -> tuple[Tlv, int]:
    """Reads one element at `pos` (definite lengths only, as DER requires); returns it and the next position."""
    start = pos
    if pos + 2 > len(data):
        raise DerError("truncated element header")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte tags are not used by SPKI or PKCS#8")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise DerError("bad length of length")
        length = int.from_bytes(data[pos:pos + count], "big")
        if length < 0x80 or data[pos] == 0:
            raise DerError("non-minimal length (not DER)")
        pos += count
    end = pos + length
    if end > len(data):
        raise DerError("element runs past the end")
    return Tlv(tag, data[pos:end], data[start:end]), end


def der_one(data: bytes, tag: int) -> Tlv:
    """Exactly one element of the given tag filling all of `data`."""
    tlv, end = der_read(data)
    if end != len(data):
        raise DerError("trailing bytes after the element")
    if tlv.tag != tag:
        raise DerError(f"expected tag {tag:#04x}, found {tlv.tag:#04x}")
    return tlv


def der_children(content: bytes) -> list[Tlv]:
    """The elements inside a constructed element's contents."""
    out, pos = [], 0
    while pos < len(content):
        tlv, pos = der_read(content, pos)
        out.append(tlv)
    return out


def oid_decode(content: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER's contents."""
    if not content:
        raise DerError("empty OID")
    arcs, value = [], 0
    for i, byte in enumerate(content):
        if value == 0 and byte == 0x80:
            raise DerError("non-minimal OID arc")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
        elif i == len(content) - 1:
            raise DerError("truncated OID arc")
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_encode(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + der_length(len(content)) + content


def oid_encode(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER element for a dotted OID."""
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return der_encode(OID, bytes(body))


@dataclass(frozen=True)
class Spki:
    """A parsed SubjectPublicKeyInfo: the algorithm, its parameters (an OID or None) and the key bits."""

    algorithm: str
    parameters: str | None  # the named curve for EC keys; None when absent (or NULL, for RSA)
    public_key: bytes


def parse_spki(der: bytes) -> Spki:
    """Parses DER SubjectPublicKeyInfo (RFC 5280 §4.1), strictly: no trailing bytes, no unused bits."""
    top = der_children(der_one(der, SEQUENCE).content)
    if len(top) != 2 or top[0].tag != SEQUENCE or top[1].tag != BIT_STRING:
        raise DerError("SubjectPublicKeyInfo must be SEQUENCE { AlgorithmIdentifier, BIT STRING }")
    alg = der_children(top[0].content)
    if not alg or alg[0].tag != OID or len(alg) > 2:
        raise DerError("AlgorithmIdentifier must be SEQUENCE { OID, parameters OPTIONAL }")
    parameters = None
    if len(alg) == 2:
        if alg[1].tag == OID:
            parameters = oid_decode(alg[1].content)
        elif alg[1].tag != NULL or alg[1].content:
            raise DerError("unexpected AlgorithmIdentifier parameters")
    bits = top[1].content
    if not bits or bits[0] != 0:
        raise DerError("the public key BIT STRING must have 0 unused bits")
    return Spki(oid_decode(alg[0].content), parameters, bits[1:])


def build_spki(algorithm: str, public_key: bytes, parameters: str | None = None) -> bytes:
    """DER SubjectPublicKeyInfo for a raw public key (used to hand kyber-py keys to other parsers)."""
    alg = oid_encode(algorithm) + (oid_encode(parameters) if parameters else b"")
    return der_encode(SEQUENCE, der_encode(SEQUENCE, alg) + der_encode(BIT_STRING, b"\x00" + public_key))


def parse_pkcs8(der: bytes) -> tuple[str, str | None]:
    """The algorithm OID and curve (or None) of a DER PKCS#8 PrivateKeyInfo / OneAsymmetricKey (RFC 5958)."""
    top = der_children(der_one(der, SEQUENCE).content)
    if len(top) < 3 or top[0].tag != INTEGER or top[1].tag != SEQUENCE or top[2].tag != OCTET_STRING:
        raise DerError("PrivateKeyInfo must be SEQUENCE { version, AlgorithmIdentifier, OCTET STRING, ... }")
    if top[0].content not in (b"\x00", b"\x01"):
        raise DerError("PrivateKeyInfo version must be 0 or 1")
    alg = der_children(top[1].content)
    parameters = oid_decode(alg[1].content) if len(alg) == 2 and alg[1].tag == OID else None
    return oid_decode(alg[0].content), parameters


def rsa_modulus_bits(spki: Spki) -> int:
    """The modulus size of an RSA SPKI's RSAPublicKey (RFC 8017 A.1.1)."""
    fields = der_children(der_one(spki.public_key, SEQUENCE).content)
    if len(fields) != 2 or any(f.tag != INTEGER for f in fields):
        raise DerError("RSAPublicKey must be SEQUENCE { modulus, publicExponent }")
    return int.from_bytes(fields[0].content, "big").bit_length()


# Algorithm and curve OIDs (RFC 8017, RFC 5480, RFC 8410, SEC 2, GM/T 0006, FIPS 204/203 via NIST CSOR).
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
ED25519 = "1.3.101.112"
CURVES = {
    "ECC_NIST_P256": "1.2.840.10045.3.1.7",
    "ECC_NIST_P384": "1.3.132.0.34",
    "ECC_NIST_P521": "1.3.132.0.35",
    "ECC_SECG_P256K1": "1.3.132.0.10",
    "SM2": "1.2.156.10197.1.301",
}
ML_DSA = {"ML_DSA_44": "2.16.840.1.101.3.4.3.17", "ML_DSA_65": "2.16.840.1.101.3.4.3.18",
          "ML_DSA_87": "2.16.840.1.101.3.4.3.19"}
ML_KEM = {"ML_KEM_512": "2.16.840.1.101.3.4.4.1", "ML_KEM_768": "2.16.840.1.101.3.4.4.2",
          "ML_KEM_1024": "2.16.840.1.101.3.4.4.3"}
# FIPS 204 Table 2 / FIPS 203 Table 3: public key, signature and ciphertext sizes.
ML_DSA_PUBLIC_KEY_LEN = {"ML_DSA_44": 1312, "ML_DSA_65": 1952, "ML_DSA_87": 2592}
ML_DSA_SIGNATURE_LEN = {"ML_DSA_44": 2420, "ML_DSA_65": 3309, "ML_DSA_87": 4627}
ML_KEM_PUBLIC_KEY_LEN = {"ML_KEM_512": 800, "ML_KEM_768": 1184, "ML_KEM_1024": 1568}
ML_KEM_CIPHERTEXT_LEN = {"ML_KEM_512": 768, "ML_KEM_768": 1088, "ML_KEM_1024": 1568}
# The uncompressed point length of each curve: 0x04 ‖ X ‖ Y.
EC_POINT_LEN = {"ECC_NIST_P256": 65, "ECC_NIST_P384": 97, "ECC_NIST_P521": 133, "ECC_SECG_P256K1": 65, "SM2": 65}


def expected_spki(key_spec: str) -> tuple[str, str | None]:
    """The (algorithm, parameters) a GetPublicKey SPKI of this KeySpec must carry."""
    if key_spec.startswith("RSA_"):
        return RSA_ENCRYPTION, None
    if key_spec in CURVES:
        return EC_PUBLIC_KEY, CURVES[key_spec]
    if key_spec == "ECC_NIST_EDWARDS25519":
        return ED25519, None
    if key_spec in ML_DSA:
        return ML_DSA[key_spec], None
    if key_spec in ML_KEM:
        return ML_KEM[key_spec], None
    raise KeyError(key_spec)


# ---------------------------------------------------------------------------------------------
# Signing algorithms: the hash behind each AWS name


HASH_OF = {
    "RSASSA_PSS_SHA_256": "sha256", "RSASSA_PSS_SHA_384": "sha384", "RSASSA_PSS_SHA_512": "sha512",
    "RSASSA_PKCS1_V1_5_SHA_256": "sha256", "RSASSA_PKCS1_V1_5_SHA_384": "sha384", "RSASSA_PKCS1_V1_5_SHA_512": "sha512",
    "ECDSA_SHA_256": "sha256", "ECDSA_SHA_384": "sha384", "ECDSA_SHA_512": "sha512",
    "ED25519_SHA_512": "sha512", "ED25519_PH_SHA_512": "sha512",
    "SM2DSA": "sm3",
}


def digest(algorithm: str, message: bytes) -> bytes:
    """The hash of `message` named by the signing algorithm. (For SM2DSA the DIGEST a caller
    sends is not this but `sm2_digest`, which also covers the signer's identity.)"""
    return hashlib.new(HASH_OF[algorithm], message).digest()


# ---------------------------------------------------------------------------------------------
# The openssl command line


class OpenSslError(RuntimeError):
    """openssl failed for a reason other than a signature that does not verify."""


def _openssl(args: list[str], cwd: Path, *, ok_codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    if proc.returncode not in ok_codes:
        raise OpenSslError(
            f"openssl {' '.join(args)} exited {proc.returncode}: "
            f"{proc.stdout.decode(errors='replace')} {proc.stderr.decode(errors='replace')}"
        )
    return proc


@lru_cache(maxsize=1)
def openssl_version() -> tuple[int, int, int]:
    """The version of the `openssl` command line, e.g. (3, 0, 19)."""
    out = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=True).stdout
    m = re.match(r"OpenSSL (\d+)\.(\d+)\.(\d+)", out)
    if not m:
        raise OpenSslError(f"unrecognised `openssl version` output: {out!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _write(dir_: Path, name: str, data: bytes) -> Path:
    path = dir_ / name
    path.write_bytes(data)
    return path


def openssl_public_pem(spki_der: bytes) -> str:
    """`openssl pkey -pubin -inform DER`: OpenSSL's own reading of a DER SPKI, as PEM."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        _write(d, "pub.der", spki_der)
        _openssl(["pkey", "-pubin", "-inform", "DER", "-in", "pub.der", "-outform", "PEM", "-out", "pub.pem"], d)
        return (d / "pub.pem").read_text()


def _verified(proc: subprocess.CompletedProcess) -> bool:
    """openssl's verdict: True on success, False on a signature that does not verify."""
    out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    if proc.returncode == 0 and re.search(r"Verified OK|Signature Verified Successfully", out):
        return True
    if proc.returncode == 1 and re.search(r"Verification failure|Signature Verification Failure", out, re.I):
        return False
    raise OpenSslError(f"openssl neither verified nor rejected the signature (exit {proc.returncode}): {out}")


def _rsa_opts(algorithm: str, flag: str) -> list[str]:
    if algorithm.startswith("RSASSA_PSS_"):
        # AWS: RSASSA-PSS with MGF1 on the same hash and a salt as long as the digest. On
        # verification `rsa_pss_saltlen:digest` makes OpenSSL insist on exactly that length.
        return [flag, "rsa_padding_mode:pss", flag, "rsa_pss_saltlen:digest", flag, f"rsa_mgf1_md:{HASH_OF[algorithm]}"]
    if algorithm.startswith("RSASSA_PKCS1_V1_5_"):
        return [flag, "rsa_padding_mode:pkcs1"]
    return []


def openssl_verify(spki_der: bytes, algorithm: str, message: bytes, signature: bytes) -> bool:
    """Verifies a signature over the whole message the way a user would: `openssl dgst -<hash> -verify`
    (RSA, ECDSA) or `openssl pkeyutl -verify -rawin` (pure Ed25519)."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "pub.pem").write_text(openssl_public_pem(spki_der))
        _write(d, "msg.bin", message)
        _write(d, "sig.bin", signature)
        if algorithm == "ED25519_SHA_512":
            args = ["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg.bin",
                    "-sigfile", "sig.bin"]
        elif algorithm == "SM2DSA":
            args = ["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg.bin",
                    "-digest", "sm3", "-pkeyopt", f"distid:{SM2_DEFAULT_ID.decode()}", "-sigfile", "sig.bin"]
        elif algorithm in HASH_OF and algorithm != "ED25519_PH_SHA_512":
            args = ["dgst", f"-{HASH_OF[algorithm]}", "-verify", "pub.pem", "-signature", "sig.bin",
                    *_rsa_opts(algorithm, "-sigopt"), "msg.bin"]
        else:
            raise ValueError(f"no openssl recipe for {algorithm}")
        return _verified(_openssl(args, d, ok_codes=(0, 1)))


def openssl_verify_digest(spki_der: bytes, algorithm: str, message_digest: bytes, signature: bytes) -> bool:
    """Verifies a signature against a digest only: `openssl pkeyutl -verify -pkeyopt digest:<hash>`
    (for RSA the digest goes into PKCS#1's DigestInfo or PSS's M'; for ECDSA and SM2 it is e)."""
    if algorithm.startswith("ED25519"):
        raise ValueError("EdDSA has no verify-a-digest form in openssl pkeyutl")
    # SM2's e is SM3(Z_A ‖ M), not a plain hash, so no `digest:` option: OpenSSL takes e as it is.
    options = [] if algorithm == "SM2DSA" else ["-pkeyopt", f"digest:{HASH_OF[algorithm]}"]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "pub.pem").write_text(openssl_public_pem(spki_der))
        _write(d, "digest.bin", message_digest)
        _write(d, "sig.bin", signature)
        args = ["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", "digest.bin", "-sigfile", "sig.bin",
                *options, *_rsa_opts(algorithm, "-pkeyopt")]
        return _verified(_openssl(args, d, ok_codes=(0, 1)))


OAEP_HASH = {"RSAES_OAEP_SHA_1": "sha1", "RSAES_OAEP_SHA_256": "sha256"}


def openssl_oaep_encrypt(spki_der: bytes, algorithm: str, plaintext: bytes) -> bytes:
    """RSA-OAEP with `openssl pkeyutl -encrypt` (MGF1 on the same hash, empty label, as AWS documents)."""
    md = OAEP_HASH[algorithm]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "pub.pem").write_text(openssl_public_pem(spki_der))
        _write(d, "pt.bin", plaintext)
        _openssl(["pkeyutl", "-encrypt", "-pubin", "-inkey", "pub.pem", "-in", "pt.bin", "-out", "ct.bin",
                  "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", f"rsa_oaep_md:{md}",
                  "-pkeyopt", f"rsa_mgf1_md:{md}"], d)
        return (d / "ct.bin").read_bytes()


OPENSSL_CURVE = {"ECC_NIST_P256": "P-256", "ECC_NIST_P384": "P-384", "ECC_NIST_P521": "P-521",
                 "ECC_SECG_P256K1": "secp256k1"}


@dataclass(frozen=True)
class OpenSslKey:
    """A private key made by `openssl genpkey` (PEM) and its public key as DER SPKI."""

    private_pem: str
    public_der: bytes


def openssl_genpkey(key_spec: str) -> OpenSslKey:
    """A fresh key pair from `openssl genpkey` for an EC curve, RSA size or Ed25519 (by AWS KeySpec)."""
    if key_spec in OPENSSL_CURVE:
        gen = ["-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{OPENSSL_CURVE[key_spec]}",
               "-pkeyopt", "ec_param_enc:named_curve"]
    elif key_spec.startswith("RSA_"):
        gen = ["-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{key_spec[4:]}"]
    elif key_spec == "ECC_NIST_EDWARDS25519":
        gen = ["-algorithm", "ED25519"]
    elif key_spec == "SM2":
        gen = ["-algorithm", "SM2"]
    else:
        raise ValueError(key_spec)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        _openssl(["genpkey", *gen, "-out", "key.pem"], d)
        _openssl(["pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der"], d)
        return OpenSslKey((d / "key.pem").read_text(), (d / "pub.der").read_bytes())


def openssl_derive(private_pem: str, peer_spki_der: bytes) -> bytes:
    """ECDH with `openssl pkeyutl -derive`: the raw shared secret (the x-coordinate)."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "key.pem").write_text(private_pem)
        (d / "peer.pem").write_text(openssl_public_pem(peer_spki_der))
        _openssl(["pkeyutl", "-derive", "-inkey", "key.pem", "-peerkey", "peer.pem", "-out", "secret.bin"], d)
        return (d / "secret.bin").read_bytes()


def openssl_private_to_public(pkcs8_der: bytes) -> bytes:
    """`openssl pkey -inform DER -pubout`: the DER SPKI OpenSSL derives from a DER PKCS#8 private key."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        _write(d, "key.der", pkcs8_der)
        _openssl(["pkey", "-inform", "DER", "-in", "key.der", "-pubout", "-outform", "DER", "-out", "pub.der"], d)
        return (d / "pub.der").read_bytes()


def openssl_sign(private_key: bytes | str, algorithm: str, message: bytes) -> bytes:
    """Signs with `openssl dgst -sign` (RSA, ECDSA) or `openssl pkeyutl -sign -rawin` (Ed25519).
    `private_key` is DER PKCS#8 (bytes) or PEM (str)."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        if isinstance(private_key, str):
            (d / "key.pem").write_text(private_key)
        else:
            _write(d, "key.der", private_key)
            _openssl(["pkey", "-inform", "DER", "-in", "key.der", "-out", "key.pem"], d)
        _write(d, "msg.bin", message)
        if algorithm == "ED25519_SHA_512":
            args = ["pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "msg.bin", "-out", "sig.bin"]
        elif algorithm == "SM2DSA":
            args = ["pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "msg.bin", "-digest", "sm3",
                    "-pkeyopt", f"distid:{SM2_DEFAULT_ID.decode()}", "-out", "sig.bin"]
        else:
            args = ["dgst", f"-{HASH_OF[algorithm]}", "-sign", "key.pem", *_rsa_opts(algorithm, "-sigopt"),
                    "-out", "sig.bin", "msg.bin"]
        _openssl(args, d)
        return (d / "sig.bin").read_bytes()


def openssl_verify_ml_dsa(spki_der: bytes, message: bytes, signature: bytes) -> bool:
    """Pure ML-DSA verification (empty context) with `openssl pkeyutl -verify`: OpenSSL 3.5+ only."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "pub.pem").write_text(openssl_public_pem(spki_der))
        _write(d, "msg.bin", message)
        _write(d, "sig.bin", signature)
        return _verified(_openssl(["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", "msg.bin",
                                   "-sigfile", "sig.bin"], d, ok_codes=(0, 1)))


def openssl_ml_kem_encapsulate(spki_der: bytes) -> tuple[bytes, bytes]:
    """ML-KEM encapsulation with `openssl pkeyutl -encap` (OpenSSL 3.5+): (shared secret, ciphertext)."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "pub.pem").write_text(openssl_public_pem(spki_der))
        _openssl(["pkeyutl", "-encap", "-pubin", "-inkey", "pub.pem", "-secret", "secret.bin", "-out", "ct.bin"], d)
        return (d / "secret.bin").read_bytes(), (d / "ct.bin").read_bytes()


def openssl_sm2_encrypt(spki_der: bytes, plaintext: bytes) -> bytes:
    """SM2 public key encryption with `openssl pkeyutl -encrypt` (SM3; GM/T 0009 DER ciphertext)."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "pub.pem").write_text(openssl_public_pem(spki_der))
        _write(d, "pt.bin", plaintext)
        _openssl(["pkeyutl", "-encrypt", "-pubin", "-inkey", "pub.pem", "-in", "pt.bin", "-out", "ct.bin"], d)
        return (d / "ct.bin").read_bytes()


def openssl_private_scalar(private_pem: str) -> int:
    """The secret scalar of an EC or SM2 private key, read from OpenSSL's DER PKCS#8 by hand
    (PrivateKeyInfo → OCTET STRING → ECPrivateKey → privateKey, RFC 5915)."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "key.pem").write_text(private_pem)
        _openssl(["pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out", "key.der"], d)
        top = der_children(der_one((d / "key.der").read_bytes(), SEQUENCE).content)
    ec_private_key = der_children(der_one(top[2].content, SEQUENCE).content)
    if ec_private_key[0].content != b"\x01" or ec_private_key[1].tag != OCTET_STRING:
        raise DerError("ECPrivateKey must start with version 1 and the private key octets")
    return int.from_bytes(ec_private_key[1].content, "big")


# ---------------------------------------------------------------------------------------------
# SM2 (GB/T 32918) arithmetic in plain Python: Z_A for SM2DSA digests, and ECDH on the SM2 curve,
# which `openssl pkeyutl -derive` refuses for SM2 keys


@dataclass(frozen=True)
class Curve:
    """A short Weierstrass curve y² = x³ + ax + b over GF(p) with base point (gx, gy) of order n."""

    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    @property
    def size(self) -> int:
        return (self.p.bit_length() + 7) // 8

    def on_curve(self, point: tuple[int, int]) -> bool:
        x, y = point
        return 0 <= x < self.p and 0 <= y < self.p and (y * y - x * x * x - self.a * x - self.b) % self.p == 0

    def add(self, p1: tuple[int, int] | None, p2: tuple[int, int] | None) -> tuple[int, int] | None:
        if p1 is None:
            return p2
        if p2 is None:
            return p1
        (x1, y1), (x2, y2) = p1, p2
        if x1 == x2 and (y1 + y2) % self.p == 0:
            return None
        if p1 == p2:
            slope = (3 * x1 * x1 + self.a) * pow(2 * y1, -1, self.p)
        else:
            slope = (y2 - y1) * pow(x2 - x1, -1, self.p)
        x3 = (slope * slope - x1 - x2) % self.p
        return x3, (slope * (x1 - x3) - y1) % self.p

    def mul(self, k: int, point: tuple[int, int]) -> tuple[int, int] | None:
        result, addend = None, point
        while k:
            if k & 1:
                result = self.add(result, addend)
            addend = self.add(addend, addend)
            k >>= 1
        return result

    def encode(self, point: tuple[int, int]) -> bytes:
        """The uncompressed SEC 1 encoding 0x04 ‖ X ‖ Y."""
        return b"\x04" + point[0].to_bytes(self.size, "big") + point[1].to_bytes(self.size, "big")

    def decode(self, encoded: bytes) -> tuple[int, int]:
        if len(encoded) != 1 + 2 * self.size or encoded[0] != 0x04:
            raise DerError("expected an uncompressed point")
        point = (int.from_bytes(encoded[1:1 + self.size], "big"), int.from_bytes(encoded[1 + self.size:], "big"))
        if not self.on_curve(point):
            raise DerError("the point is not on the curve")
        return point


# GB/T 32918.5-2016: the recommended 256-bit curve.
SM2_CURVE = Curve(
    p=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF,
    a=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC,
    b=0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93,
    gx=0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    gy=0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
    n=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123,
)
# The distinguishing ID AWS KMS uses for SM2DSA (GM/T 0009's default).
SM2_DEFAULT_ID = b"1234567812345678"


def sm2_public_point(spki_der: bytes) -> tuple[int, int]:
    spki = parse_spki(spki_der)
    if (spki.algorithm, spki.parameters) != (EC_PUBLIC_KEY, CURVES["SM2"]):
        raise DerError("not an SM2 public key")
    return SM2_CURVE.decode(spki.public_key)


def sm2_za(spki_der: bytes, distinguishing_id: bytes = SM2_DEFAULT_ID) -> bytes:
    """Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GB/T 32918.2 §5.5)."""
    c = SM2_CURVE
    fields = [c.a, c.b, c.gx, c.gy, *sm2_public_point(spki_der)]
    data = (8 * len(distinguishing_id)).to_bytes(2, "big") + distinguishing_id
    data += b"".join(v.to_bytes(c.size, "big") for v in fields)
    return hashlib.new("sm3", data).digest()


def sm2_digest(spki_der: bytes, message: bytes) -> bytes:
    """e = SM3(Z_A ‖ M): what an SM2DSA signer signs, so what a caller sends with MessageType DIGEST."""
    return hashlib.new("sm3", sm2_za(spki_der) + message).digest()


@dataclass(frozen=True)
class Sm2Key:
    """An SM2 key pair made in Python: the scalar and its DER SPKI."""

    d: int
    public_der: bytes


def sm2_generate() -> Sm2Key:
    d = 1 + int.from_bytes(os.urandom(40), "big") % (SM2_CURVE.n - 2)
    point = SM2_CURVE.mul(d, (SM2_CURVE.gx, SM2_CURVE.gy))
    return Sm2Key(d, build_spki(EC_PUBLIC_KEY, SM2_CURVE.encode(point), CURVES["SM2"]))


def sm2_ecdh(d: int, peer_spki_der: bytes) -> bytes:
    """ECDH on the SM2 curve: the x-coordinate of d·Q, as for the NIST curves."""
    shared = SM2_CURVE.mul(d, sm2_public_point(peer_spki_der))
    if shared is None:
        raise DerError("degenerate shared point")
    return shared[0].to_bytes(SM2_CURVE.size, "big")


# ---------------------------------------------------------------------------------------------
# Ed25519ph (RFC 8032 §5.1, HashEdDSA) with PyCryptodome


def ed25519ph_verify(spki_der: bytes, message: bytes, signature: bytes) -> bool:
    """Verifies an Ed25519ph signature over `message` (PH = SHA-512, empty context) with PyCryptodome.

    For AWS's ED25519_PH_SHA_512 the caller sends `SHA-512(m)` with MessageType DIGEST and KMS
    pre-hashes it once more (FIPS 186-5 §7.8.1 step 1), so `message` here is the caller's digest.
    """
    from Crypto.Hash import SHA512
    from Crypto.PublicKey import ECC
    from Crypto.Signature import eddsa

    key = ECC.import_key(spki_der)
    try:
        eddsa.new(key, "rfc8032").verify(SHA512.new(message), signature)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# ML-DSA (FIPS 204) with dilithium-py, ML-KEM (FIPS 203) with kyber-py: pure Python


def _ml_dsa(key_spec: str):
    from dilithium_py.ml_dsa import ML_DSA_44, ML_DSA_65, ML_DSA_87

    return {"ML_DSA_44": ML_DSA_44, "ML_DSA_65": ML_DSA_65, "ML_DSA_87": ML_DSA_87}[key_spec]


def _ml_kem(key_spec: str):
    from kyber_py.ml_kem import ML_KEM_512, ML_KEM_768, ML_KEM_1024

    return {"ML_KEM_512": ML_KEM_512, "ML_KEM_768": ML_KEM_768, "ML_KEM_1024": ML_KEM_1024}[key_spec]


def _spec_of(spki: Spki, table: dict[str, str]) -> str:
    for spec, oid in table.items():
        if spki.algorithm == oid:
            return spec
    raise DerError(f"SPKI algorithm {spki.algorithm} is not one of {sorted(table)}")


def ml_dsa_public_key(spki_der: bytes) -> tuple[str, bytes]:
    """(KeySpec, raw FIPS 204 public key) of an ML-DSA SPKI; the key length is checked."""
    spki = parse_spki(spki_der)
    spec = _spec_of(spki, ML_DSA)
    if spki.parameters is not None or len(spki.public_key) != ML_DSA_PUBLIC_KEY_LEN[spec]:
        raise DerError(f"{spec} SPKI must have absent parameters and a {ML_DSA_PUBLIC_KEY_LEN[spec]}-byte key")
    return spec, spki.public_key


def ml_dsa_verify(spki_der: bytes, message: bytes, signature: bytes, context: bytes = b"") -> bool:
    """FIPS 204 Algorithm 3 (pure ML-DSA.Verify) with dilithium-py."""
    spec, pk = ml_dsa_public_key(spki_der)
    return bool(_ml_dsa(spec).verify(pk, message, signature, ctx=context))


def ml_dsa_external_mu(public_key: bytes, message: bytes, context: bytes = b"") -> bytes:
    """FIPS 204 §6.2 / Algorithm 7 line 6: mu = SHAKE256(SHAKE256(pk, 64) ‖ 0 ‖ len(ctx) ‖ ctx ‖ M, 64),
    computed with hashlib only."""
    if len(context) > 255:
        raise ValueError("an ML-DSA context is at most 255 bytes")
    tr = hashlib.shake_256(public_key).digest(64)
    return hashlib.shake_256(tr + bytes([0, len(context)]) + context + message).digest(64)


def ml_kem_public_key(spki_der: bytes) -> tuple[str, bytes]:
    """(KeySpec, raw FIPS 203 encapsulation key) of an ML-KEM SPKI; the key length is checked."""
    spki = parse_spki(spki_der)
    spec = _spec_of(spki, ML_KEM)
    if spki.parameters is not None or len(spki.public_key) != ML_KEM_PUBLIC_KEY_LEN[spec]:
        raise DerError(f"{spec} SPKI must have absent parameters and a {ML_KEM_PUBLIC_KEY_LEN[spec]}-byte key")
    return spec, spki.public_key


def ml_kem_encapsulate(spki_der: bytes) -> tuple[bytes, bytes]:
    """FIPS 203 ML-KEM.Encaps with kyber-py: (32-byte shared secret, ciphertext)."""
    spec, ek = ml_kem_public_key(spki_der)
    shared_secret, ciphertext = _ml_kem(spec).encaps(ek)
    return shared_secret, ciphertext


def ml_kem_check_decapsulation_key(key_spec: str, dk: bytes) -> bytes:
    """Checks a FIPS 203 decapsulation key dk = dk_PKE ‖ ek ‖ H(ek) ‖ z (§7.1) of `key_spec` and
    returns the ek inside it."""
    k = {"ML_KEM_512": 2, "ML_KEM_768": 3, "ML_KEM_1024": 4}[key_spec]
    if len(dk) != 768 * k + 96:
        raise DerError(f"a {key_spec} decapsulation key is {768 * k + 96} bytes, not {len(dk)}")
    ek = dk[384 * k:768 * k + 32]
    if dk[768 * k + 32:768 * k + 64] != hashlib.sha3_256(ek).digest():
        raise DerError("H(ek) inside the decapsulation key does not match its ek")
    return ek


def _pkcs8_private_key(der: bytes, table: dict[str, str]) -> tuple[str, Tlv]:
    """(KeySpec, the inner private key element) of an ML-DSA or ML-KEM PKCS#8 (no parameters)."""
    top = der_children(der_one(der, SEQUENCE).content)
    if len(top) < 3 or top[2].tag != OCTET_STRING:
        raise DerError("PrivateKeyInfo must be SEQUENCE { version, AlgorithmIdentifier, OCTET STRING, ... }")
    algorithm, parameters = parse_pkcs8(der)
    for spec, oid in table.items():
        if algorithm == oid and parameters is None:
            return spec, der_read(top[2].content)[0]
    raise DerError(f"PKCS#8 algorithm {algorithm} is not one of {sorted(table)}")


def _seed_and_expanded(inner: Tlv) -> tuple[bytes | None, bytes | None]:
    """The private key CHOICE of the ML-DSA and ML-KEM PKCS#8 drafts: seed [0] IMPLICIT OCTET STRING,
    expandedKey OCTET STRING, or both SEQUENCE { seed, expandedKey }."""
    if inner.tag == 0x80:
        return inner.content, None
    if inner.tag == OCTET_STRING:
        return None, inner.content
    if inner.tag == SEQUENCE:
        parts = der_children(inner.content)
        if len(parts) == 2 and all(p.tag == OCTET_STRING for p in parts):
            return parts[0].content, parts[1].content
    raise DerError(f"unknown private key choice (tag {inner.tag:#04x})")


def ml_dsa_private_key_public_key(pkcs8_der: bytes) -> tuple[str, bytes]:
    """(KeySpec, raw public key) of an ML-DSA PKCS#8, recomputed with dilithium-py from the seed ξ
    (FIPS 204 ML-DSA.KeyGen_internal) and/or the expanded key; both must agree when both are present."""
    spec, inner = _pkcs8_private_key(pkcs8_der, ML_DSA)
    seed, expanded = _seed_and_expanded(inner)
    ml_dsa = _ml_dsa(spec)
    public_keys = set()
    if seed is not None:
        if len(seed) != 32:
            raise DerError("an ML-DSA seed is 32 bytes")
        pk, sk = ml_dsa.key_derive(seed)
        public_keys.add(pk)
        if expanded is not None and expanded != sk:
            raise DerError("the expanded ML-DSA key is not the one its seed derives")
    if expanded is not None:
        public_keys.add(ml_dsa.pk_from_sk(expanded))
    if len(public_keys) != 1:
        raise DerError("the seed and the expanded key disagree")
    return spec, public_keys.pop()


def ml_kem_private_key(pkcs8_der: bytes) -> tuple[str, bytes]:
    """(KeySpec, FIPS 203 decapsulation key) of an ML-KEM PKCS#8; a seed (d ‖ z) is expanded with
    kyber-py, and an expanded key is checked."""
    spec, inner = _pkcs8_private_key(pkcs8_der, ML_KEM)
    seed, expanded = _seed_and_expanded(inner)
    if seed is not None:
        if len(seed) != 64:
            raise DerError("an ML-KEM seed is 64 bytes")
        _, derived = _ml_kem(spec).key_derive(seed)
        if expanded is not None and expanded != derived:
            raise DerError("the expanded ML-KEM key is not the one its seed derives")
        expanded = derived
    ml_kem_check_decapsulation_key(spec, expanded)
    return spec, expanded


def ml_kem_stored_decapsulation_key(key_spec: str, stored: bytes) -> bytes:
    """The FIPS 203 decapsulation key behind a stored ML-KEM private key, which may be the 64-byte
    seed d ‖ z (expanded with kyber-py's ML-KEM.KeyGen_internal), dk itself, or a PKCS#8."""
    if len(stored) == 64:
        return _ml_kem(key_spec).key_derive(stored)[1]
    k = {"ML_KEM_512": 2, "ML_KEM_768": 3, "ML_KEM_1024": 4}[key_spec]
    # A raw dk is random-looking and starts with 0x30 one time in 256: judge by length first.
    if len(stored) != 768 * k + 96 and stored[:1] == bytes([SEQUENCE]):
        spec, dk = ml_kem_private_key(stored)
        if spec != key_spec:
            raise DerError(f"stored {spec} material for a {key_spec} key")
        return dk
    ml_kem_check_decapsulation_key(key_spec, stored)
    return stored


def ml_kem_decapsulate(key_spec: str, dk: bytes, ciphertext: bytes) -> bytes:
    """FIPS 203 ML-KEM.Decaps with kyber-py."""
    return _ml_kem(key_spec).decaps(dk, ciphertext)


# ---------------------------------------------------------------------------------------------
# Key material at rest (ARCHITECTURE.md §3), read with the owner's root key file


ROOT_KEY_FILE_MAGIC = b"TRENTRK1"
WRAP_VERSION_1 = 0x01
MATERIAL_PURPOSE = b"trent/v1/key-material"


def _prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def material_wrapping_aad(key_arn: str, key_material_id: bytes) -> bytes:
    """The AAD binding wrapped material to its key and version: length-prefixed purpose, ARN, material id."""
    return _prefixed(MATERIAL_PURPOSE) + _prefixed(key_arn.encode()) + _prefixed(key_material_id)


def load_root_key(path: Path) -> bytes:
    """The 32-byte AES key of a `trent init` root key file (`TRENTRK1` ‖ key)."""
    data = path.read_bytes()
    if len(data) != len(ROOT_KEY_FILE_MAGIC) + 32 or not data.startswith(ROOT_KEY_FILE_MAGIC):
        raise ValueError(f"{path} is not a version-1 Trent root key file")
    return data[len(ROOT_KEY_FILE_MAGIC):]


def unwrap(root_key: bytes, aad: bytes, wrapped: bytes) -> bytes:
    """Opens `0x01 ‖ IV (12) ‖ AES-256-GCM ciphertext ‖ tag (16)` with AAD = 0x01 ‖ aad."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(wrapped) < 1 + 12 + 16 or wrapped[0] != WRAP_VERSION_1:
        raise ValueError("not a version-1 wrapped value")
    return AESGCM(root_key).decrypt(wrapped[1:13], wrapped[13:], bytes([WRAP_VERSION_1]) + aad)


def stored_key_material(data_dir: Path, key_id: str, key_arn: str) -> list[tuple[bytes, bytes]]:
    """Every stored version of a KMS key's material as (key material id, unwrapped plaintext),
    oldest first. Reads the SQLite store read-only; AES-GCM authentication proves each blob is
    bound to this key's ARN and material id."""
    uri = f"file:{data_dir / 'trent.db'}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=30) as db:
        rows = db.execute(
            "SELECT key_material_id, wrapped FROM key_materials WHERE key_id = ? ORDER BY created_ms, seq", (key_id,)
        ).fetchall()
    root = load_root_key(data_dir / "root.key")
    return [(bytes(kmid), unwrap(root, material_wrapping_aad(key_arn, bytes(kmid)), bytes(wrapped)))
            for kmid, wrapped in rows]
