//! `--root-key` specifications: `file`, `passphrase`, or an RFC 7512 PKCS#11 URI.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use percent_encoding::percent_decode_str;
use zeroize::Zeroizing;

use crate::RootKeyError;

/// Which provider keeps a data dir's root key (ARCHITECTURE.md §3).
#[derive(Clone, PartialEq, Eq)]
pub enum ProviderSpec {
    /// A key file in the data dir (mode 0600): the development default.
    File,
    /// The root key sealed under a key derived from an operator passphrase (Argon2id).
    Passphrase,
    /// The root key sealed by an AES-256 key inside a PKCS#11 token.
    Pkcs11(Pkcs11Uri),
}

impl ProviderSpec {
    /// The provider's name: `file`, `passphrase` or `pkcs11`.
    pub fn name(&self) -> &'static str {
        match self {
            ProviderSpec::File => "file",
            ProviderSpec::Passphrase => "passphrase",
            ProviderSpec::Pkcs11(_) => "pkcs11",
        }
    }

    /// The specification as given (a PKCS#11 URI keeps its `pin-value`, if any: it is stored
    /// in the data dir's settings, which is why `pin-value` is for tests only).
    pub fn to_spec_string(&self) -> String {
        match self {
            ProviderSpec::File => "file".into(),
            ProviderSpec::Passphrase => "passphrase".into(),
            ProviderSpec::Pkcs11(uri) => uri.text.clone(),
        }
    }
}

/// Shows the specification without any PIN: safe for logs, errors and audit records.
impl fmt::Display for ProviderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderSpec::Pkcs11(uri) => write!(f, "{uri}"),
            other => f.write_str(other.name()),
        }
    }
}

impl fmt::Debug for ProviderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProviderSpec({self})")
    }
}

impl FromStr for ProviderSpec {
    type Err = RootKeyError;

    fn from_str(s: &str) -> Result<Self, RootKeyError> {
        match s {
            "file" => Ok(ProviderSpec::File),
            "passphrase" => Ok(ProviderSpec::Passphrase),
            _ if s.starts_with("pkcs11:") => Ok(ProviderSpec::Pkcs11(s.parse()?)),
            _ => Err(RootKeyError::Spec(
                "expected `file`, `passphrase` or a `pkcs11:` URI".into(),
            )),
        }
    }
}

/// Where the token's PIN comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum PinSource {
    /// RFC 7512 `pin-source`: a file holding the PIN (a trailing newline is ignored).
    File(PathBuf),
    /// RFC 7512 `pin-value`: the PIN in the URI itself (tests only).
    Value(Zeroizing<String>),
}

/// A PKCS#11 URI (RFC 7512) naming an AES key in a token, as p11-kit and OpenSSL write them:
/// `pkcs11:token=LABEL;object=KEYLABEL?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/trent/pin`.
///
/// Path attributes understood: `token` and `object` (required), `type` (`secret-key` only),
/// `serial`; query attributes: `module-path` (required), `pin-source` or `pin-value`. Any
/// other attribute is refused rather than ignored, so a URI never names a key Trent did not
/// look for.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// The URI as given.
    text: String,
    /// `token`: the token label.
    pub token: String,
    /// `object`: the key's label (`CKA_LABEL`).
    pub object: String,
    /// `serial`: the token's serial number, when given.
    pub serial: Option<String>,
    /// `module-path`: the PKCS#11 library to load.
    pub module_path: PathBuf,
    /// The PIN's source, if any (a token without login needs none).
    pub pin: Option<PinSource>,
}

impl Pkcs11Uri {
    /// The PIN: read from `pin-source` or taken from `pin-value`.
    pub fn read_pin(&self) -> Result<Option<Zeroizing<String>>, RootKeyError> {
        match &self.pin {
            None => Ok(None),
            Some(PinSource::Value(v)) => Ok(Some(v.clone())),
            Some(PinSource::File(path)) => {
                let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                    RootKeyError::Pkcs11(format!(
                        "cannot read the PIN file {}: {e}",
                        path.display()
                    ))
                })?);
                let pin = text.strip_suffix('\n').unwrap_or(&text);
                let pin = pin.strip_suffix('\r').unwrap_or(pin);
                Ok(Some(Zeroizing::new(pin.to_string())))
            }
        }
    }
}

/// The URI with `pin-value` shown as `***`.
impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((path, query)) = self.text.split_once('?') else {
            return f.write_str(&self.text);
        };
        let query: Vec<String> = query
            .split('&')
            .map(|attr| {
                if attr.starts_with("pin-value=") {
                    "pin-value=***".to_string()
                } else {
                    attr.to_string()
                }
            })
            .collect();
        write!(f, "{path}?{}", query.join("&"))
    }
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs11Uri({self})")
    }
}

fn decode(name: &str, value: &str) -> Result<String, RootKeyError> {
    percent_decode_str(value)
        .decode_utf8()
        .map(|v| v.into_owned())
        .map_err(|_| RootKeyError::Spec(format!("PKCS#11 URI: `{name}` is not UTF-8")))
}

impl FromStr for Pkcs11Uri {
    type Err = RootKeyError;

    fn from_str(text: &str) -> Result<Self, RootKeyError> {
        let bad = |m: String| RootKeyError::Spec(format!("PKCS#11 URI: {m}"));
        let rest = text
            .strip_prefix("pkcs11:")
            .ok_or_else(|| bad("must start with `pkcs11:`".into()))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (mut token, mut object, mut serial) = (None, None, None);
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| bad(format!("`{attr}` is not NAME=VALUE")))?;
            let value = decode(name, value)?;
            let slot = match name {
                "token" => &mut token,
                "object" => &mut object,
                "serial" => &mut serial,
                "type" if value == "secret-key" => continue,
                "type" => return Err(bad(format!("type must be secret-key, not `{value}`"))),
                other => return Err(bad(format!("unsupported path attribute `{other}`"))),
            };
            if slot.replace(value).is_some() {
                return Err(bad(format!("`{name}` is given twice")));
            }
        }
        let (mut module_path, mut pin) = (None, None);
        for attr in query.split('&').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| bad("a query attribute is not NAME=VALUE".into()))?;
            let value = decode(name, value)?;
            match name {
                "module-path" => {
                    if module_path.replace(PathBuf::from(value)).is_some() {
                        return Err(bad("`module-path` is given twice".into()));
                    }
                }
                "pin-source" => {
                    let file = value.strip_prefix("file:").unwrap_or(&value);
                    if pin.replace(PinSource::File(PathBuf::from(file))).is_some() {
                        return Err(bad("give one of `pin-source` and `pin-value`".into()));
                    }
                }
                "pin-value" => {
                    if pin
                        .replace(PinSource::Value(Zeroizing::new(value)))
                        .is_some()
                    {
                        return Err(bad("give one of `pin-source` and `pin-value`".into()));
                    }
                }
                other => return Err(bad(format!("unsupported query attribute `{other}`"))),
            }
        }
        Ok(Pkcs11Uri {
            text: text.to_string(),
            token: token.ok_or_else(|| bad("`token` (the token label) is required".into()))?,
            object: object.ok_or_else(|| bad("`object` (the key label) is required".into()))?,
            serial,
            module_path: module_path
                .ok_or_else(|| bad("`module-path` (the PKCS#11 library) is required".into()))?,
            pin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_p11_kit_form_with_percent_encoding() {
        let spec: ProviderSpec = "pkcs11:token=My%20Token;object=trent-root;type=secret-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/trent/pin"
            .parse()
            .unwrap();
        let ProviderSpec::Pkcs11(uri) = &spec else {
            panic!("{spec:?}")
        };
        assert_eq!(uri.token, "My Token");
        assert_eq!(uri.object, "trent-root");
        assert_eq!(
            uri.module_path,
            PathBuf::from("/usr/lib/softhsm/libsofthsm2.so")
        );
        assert!(uri.pin == Some(PinSource::File("/etc/trent/pin".into())));
        assert_eq!(spec.name(), "pkcs11");
        assert_eq!(spec.to_spec_string().parse::<ProviderSpec>().unwrap(), spec);
    }

    #[test]
    fn pin_value_never_shows() {
        let spec: ProviderSpec = "pkcs11:token=t;object=o?module-path=/m.so&pin-value=s3cr3t-1234"
            .parse()
            .unwrap();
        for shown in [format!("{spec}"), format!("{spec:?}")] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(shown.contains("pin-value=***"), "{shown}");
        }
        let ProviderSpec::Pkcs11(uri) = spec else {
            panic!()
        };
        assert_eq!(uri.read_pin().unwrap().unwrap().as_str(), "s3cr3t-1234");
    }

    #[test]
    fn pin_file_drops_the_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let pin = dir.path().join("pin");
        std::fs::write(&pin, "1234\n").unwrap();
        let uri: Pkcs11Uri = format!(
            "pkcs11:token=t;object=o?module-path=/m.so&pin-source={}",
            pin.display()
        )
        .parse()
        .unwrap();
        assert_eq!(uri.read_pin().unwrap().unwrap().as_str(), "1234");
    }

    #[test]
    fn refuses_what_it_would_otherwise_ignore() {
        for bad in [
            "pkcs11:object=o?module-path=/m.so",
            "pkcs11:token=t?module-path=/m.so",
            "pkcs11:token=t;object=o",
            "pkcs11:token=t;object=o;type=private?module-path=/m.so",
            "pkcs11:token=t;object=o;id=%01?module-path=/m.so",
            "pkcs11:token=t;object=o?module-path=/m.so&module-name=softhsm2",
            "pkcs11:token=t;object=o?module-path=/m.so&pin-value=1&pin-source=/p",
            "pkcs11:token=t;token=u;object=o?module-path=/m.so",
            "pkcs11:token=%FF;object=o?module-path=/m.so",
            "hsm",
            "",
        ] {
            assert!(bad.parse::<ProviderSpec>().is_err(), "{bad}");
        }
        assert_eq!("file".parse::<ProviderSpec>().unwrap(), ProviderSpec::File);
        assert_eq!(
            "passphrase".parse::<ProviderSpec>().unwrap(),
            ProviderSpec::Passphrase
        );
    }
}
