//! The CloudTrail-shaped record.
//!
//! Field names and shapes follow AWS's published CloudTrail examples for KMS events
//! (`kms/latest/developerguide/ct-encrypt.html`, `ct-createkey.html`, …) and the CloudTrail
//! record-contents reference (`awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html`).

use serde::{Deserialize, Serialize};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// `eventVersion` Trent writes (the version of AWS's KMS examples that carry `eventCategory`).
pub const EVENT_VERSION: &str = "1.08";
/// `eventSource` of every KMS event.
pub const EVENT_SOURCE: &str = "kms.amazonaws.com";
/// `eventType` of a request made through the API.
pub const EVENT_TYPE: &str = "AwsApiCall";
/// `eventCategory` of KMS API events.
pub const EVENT_CATEGORY: &str = "Management";
/// `resources[].type` of a KMS key.
pub const KMS_KEY_RESOURCE_TYPE: &str = "AWS::KMS::Key";

/// One CloudTrail-shaped record: what the server fills for one request.
///
/// Serialized with CloudTrail's member names. `None` members are omitted, except
/// `requestParameters` and `responseElements`, which CloudTrail always writes (as `null` when
/// there is nothing to show, e.g. the response of every cryptographic operation).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// `eventVersion`, normally [`EVENT_VERSION`].
    pub event_version: String,
    /// `userIdentity`: the caller; `None` when the request failed before authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_identity: Option<UserIdentity>,
    /// `eventTime`: UTC, whole seconds, `2026-11-29T08:00:00Z` (see [`format_event_time`]).
    pub event_time: String,
    /// `eventSource`, normally [`EVENT_SOURCE`].
    pub event_source: String,
    /// `eventName`: the operation (`Encrypt`), or what the target header named.
    pub event_name: String,
    /// `awsRegion`.
    pub aws_region: String,
    /// `sourceIPAddress`.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    /// `userAgent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// `requestParameters`, already redacted ([`crate::redact_request_parameters`]).
    #[serde(default)]
    pub request_parameters: Option<serde_json::Value>,
    /// `responseElements`, already redacted ([`crate::redact_response_elements`]).
    #[serde(default)]
    pub response_elements: Option<serde_json::Value>,
    /// `errorCode`: the AWS error name (`AccessDeniedException`) when the request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `errorMessage`: the message sent to the client when the request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// `requestID`: the `x-amzn-RequestId` sent to the client.
    #[serde(rename = "requestID")]
    pub request_id: String,
    /// `eventID`: a fresh UUID per record ([`new_event_id`]).
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// `readOnly`.
    pub read_only: bool,
    /// `resources`: the KMS keys the request touched (omitted when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// `eventType`, normally [`EVENT_TYPE`].
    pub event_type: String,
    /// `managementEvent`: `true` for every KMS API event.
    pub management_event: bool,
    /// `recipientAccountId`: the account that owns the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_account_id: Option<String>,
    /// `eventCategory`, normally [`EVENT_CATEGORY`].
    pub event_category: String,
    /// `tlsDetails`: for a request that arrived over TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_details: Option<TlsDetails>,
    /// `additionalEventData`: facts outside CloudTrail's fixed members; Trent uses it to mark a
    /// record written at start for a change committed before a crash (`trentRecovery`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_event_data: Option<serde_json::Value>,
    /// `serviceEventDetails`: what a change Trent made by itself (`eventType: AwsServiceEvent`,
    /// e.g. an automatic rotation) did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_event_details: Option<serde_json::Value>,
}

/// CloudTrail's `tlsDetails` element: how a request over TLS was protected.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails {
    /// `tlsVersion`: `TLSv1.2` or `TLSv1.3`.
    pub tls_version: String,
    /// `cipherSuite`: the IANA name for TLS 1.3 (`TLS_AES_128_GCM_SHA256`), the OpenSSL name
    /// for TLS 1.2 (`ECDHE-RSA-AES128-GCM-SHA256`), as CloudTrail writes them.
    pub cipher_suite: String,
    /// `clientProvidedHostHeader`: the `Host` header the client sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_provided_host_header: Option<String>,
}

impl Default for AuditRecord {
    /// A record with CloudTrail's constant members set and everything else empty.
    fn default() -> Self {
        AuditRecord {
            event_version: EVENT_VERSION.to_owned(),
            user_identity: None,
            event_time: String::new(),
            event_source: EVENT_SOURCE.to_owned(),
            event_name: String::new(),
            aws_region: String::new(),
            source_ip_address: String::new(),
            user_agent: None,
            request_parameters: None,
            response_elements: None,
            error_code: None,
            error_message: None,
            request_id: String::new(),
            event_id: String::new(),
            read_only: false,
            resources: Vec::new(),
            event_type: EVENT_TYPE.to_owned(),
            management_event: true,
            recipient_account_id: None,
            event_category: EVENT_CATEGORY.to_owned(),
            tls_details: None,
            additional_event_data: None,
            service_event_details: None,
        }
    }
}

/// CloudTrail's `userIdentity` element.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// `type`: `IAMUser`, `AssumedRole`, `Root`, `AWSAccount`, `AWSService`, …; empty (and
    /// left out) for a service event, which names only `accountId` and `invokedBy`.
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub type_: String,
    /// `principalId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// `arn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// `accountId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// `accessKeyId`: the access key that signed the request (never its secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// `invokedBy`: `AWS Internal` for a service event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<String>,
}

/// One entry of CloudTrail's `resources` list.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Resource {
    /// `accountId`: the owner of the resource.
    #[serde(rename = "accountId")]
    pub account_id: String,
    /// `type`: [`KMS_KEY_RESOURCE_TYPE`] for a KMS key.
    #[serde(rename = "type")]
    pub type_: String,
    /// `ARN`.
    #[serde(rename = "ARN")]
    pub arn: String,
}

impl Resource {
    /// A KMS key resource (`type: AWS::KMS::Key`).
    pub fn kms_key(account_id: impl Into<String>, arn: impl Into<String>) -> Resource {
        Resource {
            account_id: account_id.into(),
            type_: KMS_KEY_RESOURCE_TYPE.to_owned(),
            arn: arn.into(),
        }
    }
}

const EVENT_TIME_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// The current time from the system clock. The audit crate is a leaf without core's `Clock`
/// port (ARCHITECTURE.md §2, §8): a record's own time stamps (checkpoints, acknowledgements)
/// are real time, never a test's manual clock, so this is the crate's one wall-clock read.
#[allow(clippy::disallowed_methods)] // the one place; see above
pub(crate) fn wall_clock_now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Formats a time as CloudTrail's `eventTime`: UTC, whole seconds (`2026-11-29T08:00:00Z`).
pub fn format_event_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return t
            .format(EVENT_TIME_FORMAT)
            .unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"));
    }
    // By hand: this runs for every request, and `time`'s formatter interprets its
    // description each time.
    let mut out = [0u8; 20];
    let fields = [
        (0, 4, year as u32),
        (5, 2, u32::from(u8::from(t.month()))),
        (8, 2, u32::from(t.day())),
        (11, 2, u32::from(t.hour())),
        (14, 2, u32::from(t.minute())),
        (17, 2, u32::from(t.second())),
    ];
    for (at, width, mut value) in fields {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    for (at, sep) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'Z'),
    ] {
        out[at] = sep;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// A fresh `eventID` (a random UUID, as CloudTrail uses).
pub fn new_event_id() -> String {
    random_uuid()
}

/// A fresh request id: the `x-amzn-RequestId` header and the record's `requestID` (a random
/// UUID, as AWS sends).
pub fn new_request_id() -> String {
    random_uuid()
}

/// A random UUID, hyphenated lower case, formatted without `fmt` machinery (every request
/// makes two).
fn random_uuid() -> String {
    let mut buf = uuid::Uuid::encode_buffer();
    uuid::Uuid::new_v4()
        .hyphenated()
        .encode_lower(&mut buf)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn sample() -> AuditRecord {
        AuditRecord {
            user_identity: Some(UserIdentity {
                type_: "IAMUser".into(),
                principal_id: Some("AIDAEXAMPLE".into()),
                arn: Some("arn:aws:iam::111122223333:user/Alice".into()),
                account_id: Some("111122223333".into()),
                access_key_id: Some("AKIAEXAMPLE".into()),
                invoked_by: None,
            }),
            event_time: "2026-11-29T08:00:00Z".into(),
            event_name: "Encrypt".into(),
            aws_region: "us-east-1".into(),
            source_ip_address: "192.0.2.0".into(),
            user_agent: Some("aws-cli/2".into()),
            request_parameters: Some(json!({"keyId": "alias/x"})),
            request_id: "f3423043-63bc-11e4-bc2b-4198b6150d5c".into(),
            event_id: "91235988-eb87-476a-ac2c-0cdc244e6dca".into(),
            read_only: true,
            resources: vec![Resource::kms_key(
                "111122223333",
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            )],
            recipient_account_id: Some("111122223333".into()),
            ..AuditRecord::default()
        }
    }

    #[test]
    fn serializes_with_cloudtrail_member_names() {
        let v = serde_json::to_value(sample()).unwrap();
        let obj = v.as_object().unwrap();
        for k in [
            "eventVersion",
            "userIdentity",
            "eventTime",
            "eventSource",
            "eventName",
            "awsRegion",
            "sourceIPAddress",
            "userAgent",
            "requestParameters",
            "responseElements",
            "requestID",
            "eventID",
            "readOnly",
            "resources",
            "eventType",
            "managementEvent",
            "recipientAccountId",
            "eventCategory",
        ] {
            assert!(obj.contains_key(k), "missing {k}: {v}");
        }
        assert_eq!(v["eventSource"], "kms.amazonaws.com");
        assert_eq!(v["eventType"], "AwsApiCall");
        assert_eq!(v["eventCategory"], "Management");
        assert_eq!(v["managementEvent"], true);
        assert_eq!(v["userIdentity"]["type"], "IAMUser");
        assert_eq!(v["userIdentity"]["accessKeyId"], "AKIAEXAMPLE");
        assert_eq!(v["resources"][0]["type"], "AWS::KMS::Key");
        assert_eq!(v["resources"][0]["accountId"], "111122223333");
        assert!(v["resources"][0]["ARN"].is_string());
        // CloudTrail writes responseElements: null for crypto operations.
        assert!(v["responseElements"].is_null());
    }

    #[test]
    fn none_members_are_omitted_except_request_and_response() {
        let r = AuditRecord {
            user_identity: None,
            user_agent: None,
            request_parameters: None,
            ..sample()
        };
        let v = serde_json::to_value(&r).unwrap();
        let obj = v.as_object().unwrap();
        for k in ["userIdentity", "userAgent", "errorCode", "errorMessage"] {
            assert!(!obj.contains_key(k), "{k} should be omitted");
        }
        assert!(obj.contains_key("requestParameters"));
        assert!(obj.contains_key("responseElements"));
    }

    #[test]
    fn round_trips() {
        let mut r = sample();
        r.error_code = Some("AccessDeniedException".into());
        r.error_message = Some("denied".into());
        let s = serde_json::to_string(&r).unwrap();
        let back: AuditRecord = serde_json::from_str(&s).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn event_time_is_utc_whole_seconds() {
        let t = OffsetDateTime::from_unix_timestamp(1_795_939_200)
            .unwrap()
            .to_offset(UtcOffset::from_hms(2, 0, 0).unwrap())
            + time::Duration::milliseconds(450);
        assert_eq!(format_event_time(t), "2026-11-29T08:00:00Z");
    }

    #[test]
    fn event_ids_are_uuids() {
        let id = new_event_id();
        assert_eq!(id.len(), 36);
        assert_ne!(id, new_event_id());
        let request_id = new_request_id();
        let parsed = uuid::Uuid::parse_str(&request_id).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(parsed.hyphenated().to_string(), request_id);
    }

    proptest::proptest! {
        #[test]
        fn event_time_by_hand_matches_the_time_formatter(
            secs in -62_167_219_200i64..253_402_300_800,
            nanos in 0u32..1_000_000_000,
            offset_minutes in -720i32..=720,
        ) {
            let t = OffsetDateTime::from_unix_timestamp(secs).unwrap()
                + time::Duration::nanoseconds(i64::from(nanos));
            let t = t.to_offset(UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap());
            let expected = t.to_offset(UtcOffset::UTC).format(EVENT_TIME_FORMAT).unwrap();
            proptest::prop_assert_eq!(format_event_time(t), expected);
        }
    }
}
