//! The request time: `X-Amz-Date` in ISO 8601 basic format, or an HTTP `Date` header.

use time::format_description::well_known::Rfc2822;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Parses `YYYYMMDDTHHMMSSZ`, strictly (16 characters, UTC only).
pub(crate) fn parse_basic(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let day = u8::try_from(num(6..8)?).ok()?;
    let hour = u8::try_from(num(9..11)?).ok()?;
    let minute = u8::try_from(num(11..13)?).ok()?;
    let second = u8::try_from(num(13..15)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Parses an HTTP `Date` header (`Fri, 24 May 2013 00:00:00 GMT`).
pub(crate) fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc2822)
        .ok()
        .map(|t| t.to_offset(UtcOffset::UTC))
}

/// Formats as `YYYYMMDDTHHMMSSZ` in UTC.
pub(crate) fn format_basic(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn basic_format_round_trips() {
        let t = datetime!(2026-11-29 08:00:00 UTC);
        assert_eq!(format_basic(t), "20261129T080000Z");
        assert_eq!(parse_basic("20261129T080000Z"), Some(t));
    }

    #[test]
    fn malformed_basic_dates_are_rejected() {
        for bad in [
            "",
            "20261129",
            "2026-11-29T08:00:00Z",
            "20261129T080000",
            "20261129T080000z",
            "20261329T080000Z",
            "20261131T080000Z",
            "20261129T250000Z",
            "2026112xT080000Z",
            "+0261129T080000Z",
            "20261129T08000\u{e9}",
        ] {
            assert_eq!(parse_basic(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn http_date_is_parsed_as_utc() {
        assert_eq!(
            parse_http_date("Fri, 24 May 2013 00:00:00 GMT"),
            Some(datetime!(2013-05-24 00:00:00 UTC))
        );
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn formatting_uses_utc_whatever_the_offset() {
        let t = datetime!(2026-11-29 09:00:00 +01:00);
        assert_eq!(format_basic(t), "20261129T080000Z");
    }
}
