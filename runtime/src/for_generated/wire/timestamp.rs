//! Stone's `Timestamp`: a UTC instant written with the spec's strftime format.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

use super::adapters::Adapter;
use crate::json::{self, Reader, Writer};

/// The Rust type of Stone's `Timestamp`: a UTC instant, formatted on the wire with the
/// spec's strftime format.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// A strftime format for [`Ts`].
pub trait TimestampFormat {
    /// The format, such as `%Y-%m-%dT%H:%M:%SZ`.
    const FORMAT: &'static str;
}

/// `common.DropboxTimestamp`: `%Y-%m-%dT%H:%M:%SZ`.
pub struct DropboxTimestampFormat;

impl TimestampFormat for DropboxTimestampFormat {
    const FORMAT: &'static str = "%Y-%m-%dT%H:%M:%SZ";
}

/// `common.Date`: `%Y-%m-%d`.
pub struct DateFormat;

impl TimestampFormat for DateFormat {
    const FORMAT: &'static str = "%Y-%m-%d";
}

/// A [`Timestamp`] written with format `F`.
pub struct Ts<F>(PhantomData<F>);

/// Formats a timestamp with a strftime format.
pub fn format_timestamp(value: &Timestamp, format: &str) -> String {
    use fmt::Write as _;
    // Fast path for Dropbox's own format, used by nearly every timestamp.
    if format == DropboxTimestampFormat::FORMAT
        && let Some(bytes) = dropbox_timestamp_bytes(value)
    {
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let mut out = String::new();
    // A format the generator accepted is valid; if it somehow is not, fall back to RFC 3339
    // instead of panicking inside chrono's Display.
    let items: Vec<chrono::format::Item<'_>> = chrono::format::StrftimeItems::new(format).collect();
    if items
        .iter()
        .any(|i| matches!(i, chrono::format::Item::Error))
    {
        return value.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    }
    if write!(out, "{}", value.format_with_items(items.into_iter())).is_err() {
        return value.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    }
    out
}

/// `YYYY-MM-DDTHH:MM:SSZ` written into a buffer, for years 0 to 9999 (`None` outside).
#[inline]
fn dropbox_timestamp_bytes(value: &Timestamp) -> Option<[u8; 20]> {
    use chrono::{Datelike as _, Timelike as _};
    // The UTC fields directly: `date_naive`/`time` would add the (zero) offset first.
    let naive = value.naive_utc();
    let date = naive.date();
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    let secs = naive.time().num_seconds_from_midnight();
    let mut out = *b"0000-00-00T00:00:00Z";
    let mut two = |at: usize, v: u32| {
        out[at] = b'0' + (v / 10 % 10) as u8;
        out[at + 1] = b'0' + (v % 10) as u8;
    };
    two(0, year / 100);
    two(2, year % 100);
    two(5, date.month());
    two(8, date.day());
    // A leap second (nanosecond >= 1e9) is written as second 59.
    two(11, secs / 3600);
    two(14, secs / 60 % 60);
    two(17, secs % 60);
    Some(out)
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` without interpreting a format string.
fn parse_dropbox_timestamp(s: &str) -> Option<Timestamp> {
    parse_dropbox_bytes(s.as_bytes().try_into().ok()?)
}

/// Parses the 20 bytes of `YYYY-MM-DDTHH:MM:SSZ`.
#[inline]
fn parse_dropbox_bytes(b: &[u8; 20]) -> Option<Timestamp> {
    if b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let digit = |i: usize| {
        let v = b[i].wrapping_sub(b'0');
        (v < 10).then_some(u32::from(v))
    };
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let year = two(0)? * 100 + two(2)?;
    let date = chrono::NaiveDate::from_ymd_opt(year as i32, two(5)?, two(8)?)?;
    let time = chrono::NaiveTime::from_hms_opt(two(11)?, two(14)?, two(17)?)?;
    Some(chrono::NaiveDateTime::new(date, time).and_utc())
}

/// Parses a timestamp with a strftime format (date-only formats give midnight UTC).
pub fn parse_timestamp(s: &str, format: &str) -> Option<Timestamp> {
    if format == DropboxTimestampFormat::FORMAT {
        return parse_dropbox_timestamp(s);
    }
    if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(s, format) {
        return Some(naive.and_utc());
    }
    if let Ok(dt) = chrono::DateTime::parse_from_str(s, format) {
        return Some(dt.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(s, format)
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
}

impl<F: TimestampFormat> Adapter<Timestamp> for Ts<F> {
    fn serialize<S: Serializer>(value: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        // Dropbox's format is written from a buffer on the stack, without an allocation.
        if F::FORMAT == DropboxTimestampFormat::FORMAT
            && let Some(bytes) = dropbox_timestamp_bytes(value)
            && let Ok(text) = std::str::from_utf8(&bytes)
        {
            return s.serialize_str(text);
        }
        s.serialize_str(&format_timestamp(value, F::FORMAT))
    }

    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        struct V<F>(PhantomData<F>);
        impl<F: TimestampFormat> Visitor<'_> for V<F> {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a timestamp formatted as {}", F::FORMAT)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                parse_timestamp(v, F::FORMAT).ok_or_else(|| {
                    E::custom(format_args!("timestamp {v:?} does not match {}", F::FORMAT))
                })
            }
        }
        d.deserialize_str(V::<F>(PhantomData))
    }

    #[inline]
    fn write(value: &Timestamp, w: &mut Writer) {
        if F::FORMAT == DropboxTimestampFormat::FORMAT
            && let Some(bytes) = dropbox_timestamp_bytes(value)
        {
            // Digits and punctuation: nothing to escape.
            w.byte(b'"');
            w.raw(&bytes);
            w.byte(b'"');
            return;
        }
        w.str(&format_timestamp(value, F::FORMAT));
    }

    #[inline]
    fn read(r: &mut Reader<'_>) -> Result<Timestamp, json::Error> {
        // Dropbox's format is read in place: 20 bytes between quotes.
        if F::FORMAT == DropboxTimestampFormat::FORMAT {
            let start = r.mark();
            if let Some(t) = r.quoted::<20>().and_then(parse_dropbox_bytes) {
                return Ok(t);
            }
            r.rewind(start);
        }
        read_timestamp(r, F::FORMAT)
    }
}

/// A timestamp in `format` (or an error naming the format), the general path.
#[cold]
fn read_timestamp(r: &mut Reader<'_>, format: &'static str) -> Result<Timestamp, json::Error> {
    {
        let text = r.str(&"a timestamp")?;
        match parse_timestamp(&text, format) {
            Some(t) => Ok(t),
            None => Err(r.error(json::ErrorKind::InvalidValue(format!(
                "timestamp {text:?} does not match {format}"
            )))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_in_both_formats() {
        let t = parse_timestamp("2026-03-14T09:26:53Z", DropboxTimestampFormat::FORMAT).unwrap();
        assert_eq!(
            format_timestamp(&t, DropboxTimestampFormat::FORMAT),
            "2026-03-14T09:26:53Z"
        );
        let d = parse_timestamp("2024-01-31", DateFormat::FORMAT).unwrap();
        assert_eq!(format_timestamp(&d, DateFormat::FORMAT), "2024-01-31");
        assert!(parse_timestamp("2026-03-14 09:26:53", DropboxTimestampFormat::FORMAT).is_none());
    }

    #[test]
    fn fast_path_agrees_with_chrono() {
        for s in [
            "2026-03-14T09:26:53Z",
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
        ] {
            let fast = parse_timestamp(s, DropboxTimestampFormat::FORMAT).unwrap();
            let slow = chrono::NaiveDateTime::parse_from_str(s, DropboxTimestampFormat::FORMAT)
                .unwrap()
                .and_utc();
            assert_eq!(fast, slow);
            assert_eq!(format_timestamp(&fast, DropboxTimestampFormat::FORMAT), s);
            assert_eq!(
                format_timestamp(&fast, "%Y-%m-%dT%H:%M:%SZ "),
                format!("{s} ")
            );
        }
        for bad in [
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-03-14T24:00:00Z",
            "2026-03-14T09:26:53",
            "2026-03-14t09:26:53Z",
            "+026-03-14T09:26:53Z",
        ] {
            assert!(
                parse_timestamp(bad, DropboxTimestampFormat::FORMAT).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn buffer_formatting_agrees_with_chrono_and_falls_back_outside_four_digit_years() {
        use serde::Serialize as _;
        struct Wire(Timestamp);
        impl serde::Serialize for Wire {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                Ts::<DropboxTimestampFormat>::serialize(&self.0, s)
            }
        }
        // Every hour of 400 days around 2000-01-01 (29 February included), and the edges of
        // the four-digit years.
        let mut instants: Vec<i64> = (0..24 * 400)
            .map(|h| 946_684_800 - 200 * 3600 + h * 3600 + h * 61 % 3600)
            .collect();
        instants.extend([
            -62_167_219_200, // 0000-01-01T00:00:00Z
            -62_167_219_201, // one second before year 0
            253_402_300_799, // 9999-12-31T23:59:59Z
            253_402_300_800, // 10000-01-01T00:00:00Z
            1_773_480_413,
            4_107_542_400 + 59, // 2100-03-01T00:00:59Z (2100 is not a leap year)
        ]);
        for secs in instants {
            let t = chrono::DateTime::from_timestamp(secs, 0).unwrap();
            let want = t.format(DropboxTimestampFormat::FORMAT).to_string();
            assert_eq!(format_timestamp(&t, DropboxTimestampFormat::FORMAT), want);
            let written = Wire(t).serialize(serde_json::value::Serializer).unwrap();
            assert_eq!(written, serde_json::Value::String(want.clone()), "{secs}");
            if want.len() == 20 {
                assert_eq!(
                    parse_timestamp(&want, DropboxTimestampFormat::FORMAT),
                    Some(t)
                );
            }
        }
    }
    #[test]
    fn bad_format_does_not_panic() {
        let t = parse_timestamp("2026-03-14T09:26:53Z", DropboxTimestampFormat::FORMAT).unwrap();
        assert_eq!(format_timestamp(&t, "%Q"), "2026-03-14T09:26:53Z");
    }
}
