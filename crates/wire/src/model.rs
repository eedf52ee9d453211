//! The embedded botocore KMS model, and the request checks it drives.
//!
//! [`check_request`] walks a request's JSON against the operation's input shape:
//! a value of the wrong JSON type is a `SerializationException`; a value that breaks a
//! member constraint (required, length, pattern, enum, range) is a `ValidationException`
//! worded as AWS words it, e.g.
//! `1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1`.
//! Unknown members are ignored, as AWS ignores them.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use crate::error::WireError;
use crate::operation::Operation;

const MODEL_JSON: &str = include_str!("../model/kms-2014-11-01.json");

#[derive(Deserialize)]
struct RawModel {
    operations: HashMap<String, RawOperation>,
    shapes: HashMap<String, RawShape>,
}

#[derive(Deserialize)]
struct RawOperation {
    input: Option<ShapeRef>,
}

#[derive(Deserialize)]
struct ShapeRef {
    shape: String,
}

#[derive(Deserialize)]
struct RawShape {
    #[serde(rename = "type")]
    ty: String,
    members: Option<BTreeMap<String, ShapeRef>>,
    required: Option<Vec<String>>,
    min: Option<i64>,
    max: Option<i64>,
    pattern: Option<String>,
    #[serde(rename = "enum")]
    enum_values: Option<Vec<String>>,
    sensitive: Option<bool>,
    member: Option<ShapeRef>,
    key: Option<ShapeRef>,
    value: Option<ShapeRef>,
}

/// One shape of the model, with its constraints compiled.
#[derive(Debug)]
pub enum Shape {
    /// A JSON object with named members.
    Structure {
        /// Member name → (shape name, required).
        members: Vec<(String, String, bool)>,
    },
    /// A string with optional length, pattern and enum constraints.
    String {
        /// The min.
        min: Option<i64>,
        /// The max.
        max: Option<i64>,
        /// The pattern.
        pattern: Option<(String, Regex)>,
        /// The enum values.
        enum_values: Option<Vec<String>>,
        /// The sensitive.
        sensitive: bool,
    },
    /// Base64 bytes with optional length limits on the decoded bytes.
    Blob {
        /// The fewest decoded bytes.
        min: Option<i64>,
        /// The most decoded bytes.
        max: Option<i64>,
    },
    /// A whole number with an optional range.
    Integer {
        /// The smallest value.
        min: Option<i64>,
        /// The largest value.
        max: Option<i64>,
    },
    /// true or false.
    Boolean,
    /// Epoch seconds.
    Timestamp,
    /// A JSON array.
    List {
        /// The member.
        member: String,
        /// The min.
        min: Option<i64>,
        /// The max.
        max: Option<i64>,
    },
    /// A JSON object with string keys.
    Map {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// The min.
        min: Option<i64>,
        /// The max.
        max: Option<i64>,
    },
}

/// The compiled model.
pub struct Model {
    inputs: HashMap<String, String>,
    shapes: HashMap<String, Shape>,
}

static MODEL: LazyLock<Model> = LazyLock::new(|| Model::parse(MODEL_JSON));

/// The embedded model, parsed once.
pub fn model() -> &'static Model {
    &MODEL
}

impl Model {
    // The embedded model is part of the build; failing to parse it (or a pattern in it) is a
    // build defect, caught by this crate's tests, so the expects below cannot fire at run time.
    #[allow(clippy::expect_used)]
    fn parse(json: &str) -> Model {
        let raw: RawModel = serde_json::from_str(json).expect("embedded KMS model parses");
        let inputs = raw
            .operations
            .iter()
            .filter_map(|(name, op)| Some((name.clone(), op.input.as_ref()?.shape.clone())))
            .collect();
        let shapes = raw
            .shapes
            .into_iter()
            .map(|(name, s)| {
                let shape = match s.ty.as_str() {
                    "structure" => {
                        let required = s.required.unwrap_or_default();
                        Shape::Structure {
                            members: s
                                .members
                                .unwrap_or_default()
                                .into_iter()
                                .map(|(m, r)| {
                                    let req = required.contains(&m);
                                    (m, r.shape, req)
                                })
                                .collect(),
                        }
                    }
                    "string" => Shape::String {
                        min: s.min,
                        max: s.max,
                        pattern: s.pattern.map(|p| {
                            let re =
                                Regex::new(&format!("^(?:{p})$")).expect("model patterns compile");
                            (p, re)
                        }),
                        enum_values: s.enum_values,
                        sensitive: s.sensitive.unwrap_or(false),
                    },
                    "blob" => Shape::Blob {
                        min: s.min,
                        max: s.max,
                    },
                    "integer" | "long" => Shape::Integer {
                        min: s.min,
                        max: s.max,
                    },
                    "boolean" => Shape::Boolean,
                    "timestamp" => Shape::Timestamp,
                    "list" => Shape::List {
                        member: s.member.expect("list has member").shape,
                        min: s.min,
                        max: s.max,
                    },
                    "map" => Shape::Map {
                        key: s.key.expect("map has key").shape,
                        value: s.value.expect("map has value").shape,
                        min: s.min,
                        max: s.max,
                    },
                    other => panic!("unknown shape type {other} in embedded model"),
                };
                (name, shape)
            })
            .collect();
        Model { inputs, shapes }
    }

    /// The names of every operation in the model.
    pub fn operation_names(&self) -> impl Iterator<Item = &str> {
        self.inputs.keys().map(String::as_str)
    }

    /// A shape by name.
    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }
}

/// Checks a request body against the operation's input shape.
pub fn check_request(op: Operation, body: &Value) -> Result<(), WireError> {
    let m = model();
    let Some(input) = m.inputs.get(op.name()) else {
        return Ok(());
    };
    let mut errors = Vec::new();
    walk(m, input, body, Path::Root, &mut errors)?;
    if errors.is_empty() {
        Ok(())
    } else {
        let n = errors.len();
        let plural = if n == 1 { "error" } else { "errors" };
        Err(WireError::Validation(format!(
            "{n} validation {plural} detected: {}",
            errors.join("; ")
        )))
    }
}

/// Where a value sits in the request, rendered only when an error names it (the hot path
/// checks valid requests and allocates nothing for paths).
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    /// A structure member, by its model name (shown lowerCamelCased).
    Member(&'a Path<'a>, &'a str),
    /// The `i`-th (1-based) list element: `path.i.member`.
    Element(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Member(parent, name) => match parent.render() {
                p if p.is_empty() => lower_camel(name),
                p => format!("{p}.{}", lower_camel(name)),
            },
            Path::Element(parent, i) => format!("{}.{i}.member", parent.render()),
        }
    }
}

/// `KeyId` → `keyId`, as AWS writes member paths in validation messages.
fn lower_camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "BOOLEAN_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

fn type_error(path: Path<'_>, expected: &str, v: &Value) -> WireError {
    let path = path.render();
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" at '{path}'")
    };
    WireError::Serialization(format!(
        "{} can not be converted to {expected}{at}",
        json_kind(v)
    ))
}

/// Length constraint errors; `shown` renders the value's description only when one is reported.
fn length_errors(
    shown: &dyn Fn() -> String,
    path: Path<'_>,
    len: i64,
    min: Option<i64>,
    max: Option<i64>,
    errors: &mut Vec<String>,
) {
    if let Some(min) = min {
        if len < min {
            errors.push(format!(
                "{} at '{}' failed to satisfy constraint: Member must have length greater than or equal to {min}",
                shown(),
                path.render()
            ));
        }
    }
    if let Some(max) = max {
        if len > max {
            errors.push(format!(
                "{} at '{}' failed to satisfy constraint: Member must have length less than or equal to {max}",
                shown(),
                path.render()
            ));
        }
    }
}

fn walk(
    m: &Model,
    shape_name: &str,
    v: &Value,
    path: Path<'_>,
    errors: &mut Vec<String>,
) -> Result<(), WireError> {
    let Some(shape) = m.shapes.get(shape_name) else {
        return Ok(());
    };
    match shape {
        Shape::Structure { members } => {
            let Value::Object(obj) = v else {
                return Err(type_error(path, "a structure", v));
            };
            for (name, member_shape, required) in members {
                let child = Path::Member(&path, name);
                match obj.get(name) {
                    None | Some(Value::Null) => {
                        if *required {
                            errors.push(format!(
                                "Value null at '{}' failed to satisfy constraint: Member must not be null",
                                child.render()
                            ));
                        }
                    }
                    Some(value) => walk(m, member_shape, value, child, errors)?,
                }
            }
        }
        Shape::String { .. } => {
            let Value::String(s) = v else {
                return Err(type_error(path, "a String", v));
            };
            check_string(shape, s, path, errors);
        }
        Shape::Blob { min, max } => {
            let Value::String(s) = v else {
                return Err(type_error(path, "a Blob", v));
            };
            let Some(len) = crate::blob::decoded_len(s) else {
                return Err(WireError::Serialization(format!(
                    "Value at '{}' is not valid base64",
                    path.render()
                )));
            };
            length_errors(
                &|| "Value".to_string(),
                path,
                len as i64,
                *min,
                *max,
                errors,
            );
        }
        Shape::Integer { min, max } => {
            let Some(n) = v.as_i64() else {
                return Err(type_error(path, "an Integer", v));
            };
            if n > i64::from(i32::MAX) || n < i64::from(i32::MIN) {
                return Err(type_error(path, "an Integer", v));
            }
            if let Some(min) = min {
                if n < *min {
                    errors.push(format!(
                        "Value '{n}' at '{}' failed to satisfy constraint: Member must have value greater than or equal to {min}",
                        path.render()
                    ));
                }
            }
            if let Some(max) = max {
                if n > *max {
                    errors.push(format!(
                        "Value '{n}' at '{}' failed to satisfy constraint: Member must have value less than or equal to {max}",
                        path.render()
                    ));
                }
            }
        }
        Shape::Boolean => {
            if !v.is_boolean() {
                return Err(type_error(path, "a Boolean", v));
            }
        }
        Shape::Timestamp => {
            if !v.is_number() {
                return Err(type_error(path, "a Timestamp", v));
            }
        }
        Shape::List { member, min, max } => {
            let Value::Array(items) = v else {
                return Err(type_error(path, "a List", v));
            };
            let shown = || format!("Value '{}'", list_display(items));
            length_errors(&shown, path, items.len() as i64, *min, *max, errors);
            for (i, item) in items.iter().enumerate() {
                if item.is_null() {
                    continue;
                }
                walk(m, member, item, Path::Element(&path, i + 1), errors)?;
            }
        }
        Shape::Map {
            key,
            value,
            min,
            max,
        } => {
            let Value::Object(obj) = v else {
                return Err(type_error(path, "a Map", v));
            };
            length_errors(
                &|| "Value".to_string(),
                path,
                obj.len() as i64,
                *min,
                *max,
                errors,
            );
            for (k, val) in obj {
                if let Some(key_shape @ Shape::String { .. }) = m.shapes.get(key.as_str()) {
                    check_string(key_shape, k, path, errors);
                }
                if !val.is_null() {
                    walk(m, value, val, path, errors)?;
                }
            }
        }
    }
    Ok(())
}

/// A string's length (in UTF-16 code units, as AWS's Java counts), pattern and enum constraints.
fn check_string(shape: &Shape, s: &str, path: Path<'_>, errors: &mut Vec<String>) {
    let Shape::String {
        min,
        max,
        pattern,
        enum_values,
        sensitive,
    } = shape
    else {
        return;
    };
    let shown = || {
        if *sensitive {
            "Value".to_string()
        } else {
            format!("Value '{s}'")
        }
    };
    let len = if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    } as i64;
    length_errors(&shown, path, len, *min, *max, errors);
    if let Some((text, re)) = pattern {
        if !re.is_match(s) {
            errors.push(format!(
                "{} at '{}' failed to satisfy constraint: Member must satisfy regular expression pattern: {text}",
                shown(),
                path.render()
            ));
        }
    }
    if let Some(values) = enum_values {
        if !values.iter().any(|e| e == s) {
            errors.push(format!(
                "{} at '{}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                shown(),
                path.render(),
                aws_enum_order(values).join(", ")
            ));
        }
    }
}

/// The enum values in the order AWS lists them in a validation message: the iteration order of
/// a Java `HashSet` holding the model's values, as AWS's validator builds it (table of 16 buckets,
/// doubled while more than three quarters full; bucket = `(h ^ (h >>> 16)) & (n - 1)` of Java's
/// `String.hashCode`, insertion order within a bucket). This reproduces every recorded answer,
/// e.g. `[HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, HMAC_SHA_512]` for `MacAlgorithmSpec`, whose
/// model order is 224, 256, 384, 512 (ARCHITECTURE.md §5.1).
fn aws_enum_order(values: &[String]) -> Vec<&str> {
    let mut buckets = 16usize;
    while values.len() * 4 > buckets * 3 {
        buckets *= 2;
    }
    let bucket = |s: &str| {
        let h = s
            .encode_utf16()
            .fold(0u32, |h, c| h.wrapping_mul(31).wrapping_add(u32::from(c)));
        ((h ^ (h >> 16)) as usize) & (buckets - 1)
    };
    let mut ordered: Vec<(usize, usize, &str)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (bucket(v), i, v.as_str()))
        .collect();
    ordered.sort_unstable();
    ordered.into_iter().map(|(_, _, v)| v).collect()
}

fn list_display(items: &[Value]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|i| match i {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validation(op: Operation, v: Value) -> String {
        match check_request(op, &v) {
            Err(WireError::Validation(m)) => m,
            other => panic!("expected ValidationException, got {other:?}"),
        }
    }

    #[test]
    fn embedded_model_parses_and_every_operation_has_an_input_shape() {
        for op in Operation::ALL {
            assert!(model().inputs.contains_key(op.name()), "{}", op.name());
        }
    }

    #[test]
    fn missing_required_member_is_a_not_null_validation_error() {
        assert_eq!(
            validation(Operation::DescribeKey, json!({})),
            "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn too_long_key_id_is_a_length_validation_error() {
        let long = "a".repeat(2049);
        assert_eq!(
            validation(Operation::DescribeKey, json!({ "KeyId": long })),
            format!("1 validation error detected: Value '{long}' at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 2048")
        );
    }

    #[test]
    fn oversized_plaintext_is_reported_without_its_value() {
        let pt = crate::blob::encode(&[7u8; 4097]);
        let msg = validation(Operation::Encrypt, json!({"KeyId": "k", "Plaintext": pt}));
        assert_eq!(msg, "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096");
    }

    #[test]
    fn several_violations_are_counted_and_joined() {
        let msg = validation(
            Operation::CreateAlias,
            json!({"AliasName": "alias/bad name!", "TargetKeyId": ""}),
        );
        assert!(msg.starts_with("2 validation errors detected: "), "{msg}");
        assert!(msg.contains("Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"));
        assert!(msg.contains("at 'targetKeyId'"));
    }

    #[test]
    fn enum_violation_lists_the_allowed_values() {
        let msg = validation(
            Operation::GenerateDataKey,
            json!({"KeyId": "k", "KeySpec": "AES_512"}),
        );
        assert_eq!(msg, "1 validation error detected: Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]");
    }

    #[test]
    fn enum_violation_lists_the_values_in_aws_order_not_the_models() {
        // Recorded from AWS (LocalStack's KMS provider reproduces the text); the model lists
        // HMAC_SHA_224, HMAC_SHA_256, HMAC_SHA_384, HMAC_SHA_512.
        let msg = validation(
            Operation::GenerateMac,
            json!({"KeyId": "k", "Message": "bQ==", "MacAlgorithm": "HMAC_SHA_1"}),
        );
        assert_eq!(msg, "1 validation error detected: Value 'HMAC_SHA_1' at 'macAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, HMAC_SHA_512]");
    }

    #[test]
    fn aws_enum_order_doubles_the_table_past_three_quarters_full() {
        // KeySpec's 20 values fill a 32-bucket table (16 would be over three quarters full);
        // with 16 buckets HMAC_512 would come after ML_KEM_1024. Worked out by hand from
        // Java's String.hashCode and HashMap's bucket index.
        let Some(Shape::String {
            enum_values: Some(values),
            ..
        }) = model().shape("KeySpec")
        else {
            panic!("KeySpec is an enum");
        };
        assert_eq!(
            aws_enum_order(values).join(", "),
            "HMAC_256, RSA_2048, HMAC_512, ECC_NIST_EDWARDS25519, HMAC_224, HMAC_384, RSA_3072, \
             ML_DSA_65, ML_DSA_87, ML_KEM_1024, ML_DSA_44, ML_KEM_512, ECC_SECG_P256K1, SM2, \
             ECC_NIST_P256, SYMMETRIC_DEFAULT, RSA_4096, ECC_NIST_P521, ECC_NIST_P384, ML_KEM_768"
        );
    }

    #[test]
    fn integer_range_violation_names_the_bound() {
        let msg = validation(Operation::GenerateRandom, json!({"NumberOfBytes": 1025}));
        assert_eq!(msg, "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024");
    }

    #[test]
    fn nested_list_members_have_indexed_paths() {
        let msg = validation(
            Operation::TagResource,
            json!({"KeyId": "k", "Tags": [{"TagKey": "a", "TagValue": "b"}, {"TagKey": "", "TagValue": "c"}]}),
        );
        assert!(msg.contains("at 'tags.2.member.tagKey'"), "{msg}");
    }

    #[test]
    fn wrong_json_type_is_a_serialization_error() {
        for body in [
            json!({"KeyId": 5}),
            json!({"KeyId": "k", "Plaintext": 3}),
            json!({"KeyId": "k", "Plaintext": "!!!not base64"}),
            json!({"KeyId": "k", "Plaintext": "aGk=", "EncryptionContext": []}),
            json!({"KeyId": "k", "Plaintext": "aGk=", "GrantTokens": "x"}),
            json!([1, 2]),
        ] {
            assert!(
                matches!(
                    check_request(Operation::Encrypt, &body),
                    Err(WireError::Serialization(_))
                ),
                "{body}"
            );
        }
        assert!(matches!(
            check_request(Operation::GenerateRandom, &json!({"NumberOfBytes": 1.5})),
            Err(WireError::Serialization(_))
        ));
    }

    #[test]
    fn unknown_members_and_nulls_are_ignored() {
        check_request(
            Operation::Encrypt,
            &json!({"KeyId": "k", "Plaintext": "aGk=", "Bogus": {"x": 1}, "GrantTokens": null}),
        )
        .unwrap();
    }
}
