//! JSON request bodies parsed strictly: an object with the same member twice is refused.
//!
//! `serde_json` keeps the last of duplicated members, so `{"KeyId":"a","KeyId":"b"}` would be
//! read differently by Trent and by anything in front of it that keeps the first (a policy
//! check in a proxy, a log). No AWS source was found that says what KMS does with duplicated
//! members, so Trent refuses them, as malformed JSON: `SerializationException`.
//!
//! This is one pass that builds the same [`Value`] `serde_json::from_slice` would, so it costs
//! no more than parsing did before.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses `body` as JSON, refusing duplicated object members.
pub fn from_slice(body: &[u8]) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = StrictValue.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(StrictValue)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate member {:?}",
                    key.chars().take(64).collect::<String>()
                )));
            }
            let value = map.next_value_seed(StrictValue)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicated_members_are_refused_at_any_depth() {
        let e = from_slice(br#"{"KeyId":"a","KeyId":"b"}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate member \"KeyId\""), "{e}");
        assert!(from_slice(br#"{"EncryptionContext":{"a":"1","a":"2"}}"#).is_err());
        assert!(from_slice(br#"[{"x":1},{"x":1,"x":2}]"#).is_err());
    }

    #[test]
    fn it_parses_what_serde_json_parses() {
        let text = br#"{"a":[1,-2,3.5,true,null,"s\u00e9"],"b":{"c":{}},"d":18446744073709551615}"#;
        assert_eq!(
            from_slice(text).unwrap(),
            serde_json::from_slice::<Value>(text).unwrap()
        );
        assert!(from_slice(b"{} x").is_err(), "trailing characters");
        assert!(from_slice(b"{\"a\":").is_err());
    }
}
