//! The `pkcs11` provider: the root key's secrets sealed by a non-extractable AES-256 key in a
//! PKCS#11 token (ARCHITECTURE.md §3). Every call here blocks: callers run it on a blocking
//! thread.

use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use zeroize::Zeroizing;

use crate::spec::Pkcs11Uri;
use crate::RootKeyError;

/// AES-GCM's IV length (NIST SP 800-38D's recommended 96 bits).
const GCM_IV_LEN: usize = 12;
/// AES-GCM's tag length in bits.
const GCM_TAG_BITS: u64 = 128;

/// The mechanism a token seals with: AES-GCM where the token offers it for encryption,
/// otherwise AES key wrap with padding (RFC 5649) through `C_Encrypt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SealMechanism {
    /// `CKM_AES_GCM`, with a random 96-bit IV and a 128-bit tag.
    AesGcm,
    /// `CKM_AES_KEY_WRAP_PAD` (no IV).
    AesKeyWrapPad,
}

impl SealMechanism {
    /// The PKCS#11 name, as the sealed file records it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SealMechanism::AesGcm => "CKM_AES_GCM",
            SealMechanism::AesKeyWrapPad => "CKM_AES_KEY_WRAP_PAD",
        }
    }

    /// From [`SealMechanism::name`].
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "CKM_AES_GCM" => Some(SealMechanism::AesGcm),
            "CKM_AES_KEY_WRAP_PAD" => Some(SealMechanism::AesKeyWrapPad),
            _ => None,
        }
    }
}

/// A logged-in session on the token the URI names, with the root key's token key found.
pub(crate) struct Token {
    session: Session,
    key: ObjectHandle,
    mechanism: SealMechanism,
    /// Kept so the library stays initialised as long as the session lives.
    _context: Pkcs11,
}

/// Maps a cryptoki error to a message that names the step and the token, never the PIN.
fn failed(step: &str, uri: &Pkcs11Uri, e: Error) -> RootKeyError {
    match e {
        Error::Pkcs11(RvError::PinIncorrect, _) => RootKeyError::WrongPin(uri.token.clone()),
        Error::Pkcs11(RvError::PinLocked, _) => {
            RootKeyError::Pkcs11(format!("token `{}`: the user PIN is locked", uri.token))
        }
        other => RootKeyError::Pkcs11(format!("token `{}`: {step}: {other}", uri.token)),
    }
}

impl Token {
    /// Loads the module, finds the token by label (and serial), opens a read-write session and
    /// logs in with the URI's PIN. Then finds the AES key labelled `object`, or, when
    /// `create` is set and no key has that label, generates one in the token: AES-256,
    /// sensitive, not extractable, usable only to encrypt and decrypt.
    pub(crate) fn open(uri: &Pkcs11Uri, create: bool) -> Result<Token, RootKeyError> {
        let context = Pkcs11::new(&uri.module_path).map_err(|e| {
            RootKeyError::Pkcs11(format!(
                "cannot load the PKCS#11 module {}: {e}",
                uri.module_path.display()
            ))
        })?;
        match context.initialize(CInitializeArgs::OsThreads) {
            Ok(()) | Err(Error::AlreadyInitialized) => {}
            Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(failed("C_Initialize", uri, e)),
        }
        let slots = context
            .get_slots_with_token()
            .map_err(|e| failed("listing slots", uri, e))?;
        let mut found = None;
        for slot in slots {
            let info = context
                .get_token_info(slot)
                .map_err(|e| failed("reading token info", uri, e))?;
            let serial_ok = uri
                .serial
                .as_deref()
                .is_none_or(|s| info.serial_number().trim_end() == s);
            if info.label().trim_end() == uri.token && serial_ok {
                found = Some(slot);
                break;
            }
        }
        let slot = found.ok_or_else(|| {
            RootKeyError::Pkcs11(format!(
                "no token labelled `{}` in {}",
                uri.token,
                uri.module_path.display()
            ))
        })?;
        let mechanism = {
            // Asked one by one: listing every mechanism makes cryptoki log an error for each
            // type it does not know.
            let can = |m: MechanismType| {
                context
                    .get_mechanism_info(slot, m)
                    .map(|i| i.encrypt() && i.decrypt())
                    .unwrap_or(false)
            };
            if can(MechanismType::AES_GCM) {
                SealMechanism::AesGcm
            } else if can(MechanismType::AES_KEY_WRAP_PAD) {
                SealMechanism::AesKeyWrapPad
            } else {
                return Err(RootKeyError::Pkcs11(format!(
                    "token `{}` offers neither CKM_AES_GCM nor CKM_AES_KEY_WRAP_PAD for encryption",
                    uri.token
                )));
            }
        };
        let session = context
            .open_rw_session(slot)
            .map_err(|e| failed("opening a session", uri, e))?;
        if let Some(pin) = uri.read_pin()? {
            let pin = AuthPin::new(pin.as_str().into());
            match session.login(UserType::User, Some(&pin)) {
                Ok(()) | Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
                Err(e) => return Err(failed("login", uri, e)),
            }
        }
        let key = find_or_create_key(&session, uri, create)?;
        Ok(Token {
            session,
            key,
            mechanism,
            _context: context,
        })
    }

    /// The mechanism this token seals with.
    pub(crate) fn mechanism(&self) -> SealMechanism {
        self.mechanism
    }

    /// Encrypts `plaintext` under the token key; returns the IV (empty for key wrap) and the
    /// ciphertext (with the GCM tag).
    pub(crate) fn seal(
        &self,
        uri: &Pkcs11Uri,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), RootKeyError> {
        match self.mechanism {
            SealMechanism::AesGcm => {
                let mut iv = trent_crypto::random::random_array::<GCM_IV_LEN>()
                    .map_err(|e| RootKeyError::Pkcs11(format!("random IV: {e}")))?;
                let params = GcmParams::new(&mut iv, aad, GCM_TAG_BITS.into())
                    .map_err(|e| failed("GCM parameters", uri, e))?;
                let out = self
                    .session
                    .encrypt(&Mechanism::AesGcm(params), self.key, plaintext)
                    .map_err(|e| failed("C_Encrypt", uri, e))?;
                Ok((iv.to_vec(), out))
            }
            SealMechanism::AesKeyWrapPad => {
                let out = self
                    .session
                    .encrypt(&Mechanism::AesKeyWrapPad, self.key, plaintext)
                    .map_err(|e| failed("C_Encrypt", uri, e))?;
                Ok((Vec::new(), out))
            }
        }
    }

    /// Decrypts what [`Token::seal`] made with `mechanism`. A token that cannot (another key
    /// under the label, tampering) is [`RootKeyError::Unseal`].
    pub(crate) fn unseal(
        &self,
        uri: &Pkcs11Uri,
        mechanism: SealMechanism,
        iv: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, RootKeyError> {
        let out = match mechanism {
            SealMechanism::AesGcm => {
                let mut iv = iv.to_vec();
                let params = GcmParams::new(&mut iv, aad, GCM_TAG_BITS.into())
                    .map_err(|e| failed("GCM parameters", uri, e))?;
                self.session
                    .decrypt(&Mechanism::AesGcm(params), self.key, ciphertext)
            }
            SealMechanism::AesKeyWrapPad => {
                self.session
                    .decrypt(&Mechanism::AesKeyWrapPad, self.key, ciphertext)
            }
        };
        match out {
            Ok(plain) => Ok(Zeroizing::new(plain)),
            Err(Error::Pkcs11(
                RvError::EncryptedDataInvalid
                | RvError::EncryptedDataLenRange
                | RvError::GeneralError
                | RvError::FunctionFailed,
                _,
            )) => Err(RootKeyError::Unseal(format!(
                "token `{}` key `{}` cannot open the sealed root key (another key under that label, or the file was altered)",
                uri.token, uri.object
            ))),
            Err(e) => Err(failed("C_Decrypt", uri, e)),
        }
    }
}

fn find_or_create_key(
    session: &Session,
    uri: &Pkcs11Uri,
    create: bool,
) -> Result<ObjectHandle, RootKeyError> {
    let label = uri.object.as_bytes().to_vec();
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Label(label.clone()),
        ])
        .map_err(|e| failed("finding the key", uri, e))?;
    match found.as_slice() {
        [key] => {
            check_key(session, uri, *key)?;
            Ok(*key)
        }
        [] if create => session
            .generate_key(
                &Mechanism::AesKeyGen,
                &[
                    Attribute::Class(ObjectClass::SECRET_KEY),
                    Attribute::KeyType(KeyType::AES),
                    Attribute::ValueLen(32.into()),
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Sensitive(true),
                    Attribute::Extractable(false),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                    Attribute::Wrap(false),
                    Attribute::Unwrap(false),
                    Attribute::Label(label),
                ],
            )
            .map_err(|e| failed("generating the key", uri, e)),
        [] => Err(RootKeyError::Pkcs11(format!(
            "token `{}` has no secret key labelled `{}`",
            uri.token, uri.object
        ))),
        _ => Err(RootKeyError::Pkcs11(format!(
            "token `{}` has {} secret keys labelled `{}`; the label must name one",
            uri.token,
            found.len(),
            uri.object
        ))),
    }
}

/// An existing key must be AES and must never leave the token.
fn check_key(session: &Session, uri: &Pkcs11Uri, key: ObjectHandle) -> Result<(), RootKeyError> {
    let attrs = session
        .get_attributes(key, &[AttributeType::KeyType, AttributeType::Extractable])
        .map_err(|e| failed("reading the key's attributes", uri, e))?;
    let mut aes = false;
    let mut extractable = true;
    for a in attrs {
        match a {
            Attribute::KeyType(t) => aes = t == KeyType::AES,
            Attribute::Extractable(e) => extractable = e,
            _ => {}
        }
    }
    if !aes {
        return Err(RootKeyError::Pkcs11(format!(
            "token `{}` key `{}` is not an AES key",
            uri.token, uri.object
        )));
    }
    if extractable {
        return Err(RootKeyError::Pkcs11(format!(
            "token `{}` key `{}` is extractable; the root key's token key must not be (CKA_EXTRACTABLE false)",
            uri.token, uri.object
        )));
    }
    Ok(())
}
