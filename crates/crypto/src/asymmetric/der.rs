//! The little DER this crate writes itself: SubjectPublicKeyInfo and PKCS#8 for ML-KEM,
//! which aws-lc-rs encodes only as raw bytes.

use zeroize::Zeroizing;

/// DER tag of SEQUENCE.
const SEQUENCE: u8 = 0x30;
/// DER tag of INTEGER.
const INTEGER: u8 = 0x02;
/// DER tag of BIT STRING.
const BIT_STRING: u8 = 0x03;
/// DER tag of OCTET STRING.
const OCTET_STRING: u8 = 0x04;
/// DER tag of OBJECT IDENTIFIER.
const OBJECT_IDENTIFIER: u8 = 0x06;

/// Appends one tag-length-value with a definite DER length.
fn put_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

/// One TLV in a buffer sized up front, so secret content is never left behind by a
/// reallocation (a header is at most 1 + 1 + 8 bytes).
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 10);
    put_tlv(&mut out, tag, content);
    out
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID }` with parameters absent, as the
/// ML-KEM and ML-DSA OIDs require. `oid` is the OID's content octets.
fn algorithm_identifier(oid: &[u8]) -> Vec<u8> {
    tlv(SEQUENCE, &tlv(OBJECT_IDENTIFIER, oid))
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING }`.
pub(crate) fn subject_public_key_info(oid: &[u8], public_key: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(public_key.len() + 1);
    bits.push(0); // no unused bits
    bits.extend_from_slice(public_key);
    let mut content = algorithm_identifier(oid);
    put_tlv(&mut content, BIT_STRING, &bits);
    tlv(SEQUENCE, &content)
}

/// PKCS#8 v1 `PrivateKeyInfo ::= SEQUENCE { version 0, algorithm, privateKey OCTET STRING }`
/// where `private_key_der` is the DER the algorithm defines for the inner private key.
/// The result holds secret bytes: callers move it into a zeroizing buffer at once.
pub(crate) fn pkcs8_v1(oid: &[u8], private_key_der: &[u8]) -> Vec<u8> {
    let mut content = Zeroizing::new(Vec::with_capacity(private_key_der.len() + 64));
    put_tlv(&mut content, INTEGER, &[0]);
    content.extend_from_slice(&algorithm_identifier(oid));
    put_tlv(&mut content, OCTET_STRING, private_key_der);
    tlv(SEQUENCE, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_short_and_long_forms() {
        assert_eq!(tlv(0x04, &[1, 2]), [0x04, 0x02, 1, 2]);
        assert_eq!(&tlv(0x04, &[0; 0x7f])[..2], [0x04, 0x7f]);
        assert_eq!(&tlv(0x04, &[0; 0x80])[..3], [0x04, 0x81, 0x80]);
        assert_eq!(&tlv(0x04, &[0; 0x1234])[..4], [0x04, 0x82, 0x12, 0x34]);
        assert_eq!(tlv(0x04, &[0; 0x1234]).len(), 4 + 0x1234);
    }

    #[test]
    fn spki_layout() {
        let spki = subject_public_key_info(&[0x2a, 0x03], &[0xaa, 0xbb]);
        assert_eq!(
            spki,
            [0x30, 0x0b, 0x30, 0x04, 0x06, 0x02, 0x2a, 0x03, 0x03, 0x03, 0x00, 0xaa, 0xbb]
        );
    }

    #[test]
    fn pkcs8_layout() {
        let der = pkcs8_v1(&[0x2a], &tlv(OCTET_STRING, &[0xcc]));
        assert_eq!(
            der,
            [
                0x30, 0x0d, 0x02, 0x01, 0x00, 0x30, 0x03, 0x06, 0x01, 0x2a, 0x04, 0x03, 0x04, 0x01,
                0xcc
            ]
        );
    }
}
