//! RFC 3339 timestamps as ASL uses them (`Wait.Timestamp`, `Timestamp*` comparisons, the
//! context object's times), held as Unix nanoseconds.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `secs × scale` rounded to whole milliseconds: tokio's timer has millisecond resolution, so
/// rounding here makes the delay recorded in the history exactly the delay slept.
pub(crate) fn scaled_millis(secs: f64, scale: f64) -> std::time::Duration {
    let ms = (secs * scale * 1000.0).round();
    if ms.is_finite() && ms > 0.0 {
        std::time::Duration::from_millis(ms.min(u64::MAX as f64) as u64)
    } else {
        std::time::Duration::ZERO
    }
}

/// Parses an ASL timestamp. The specification requires an uppercase `T` separator and an
/// uppercase `Z` (when used), so lowercase forms that RFC 3339 itself tolerates are refused.
pub(crate) fn parse(s: &str) -> Option<i128> {
    if s.contains(['t', 'z']) {
        return None;
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

/// Formats as Step Functions does in the context object: UTC, milliseconds, `Z`.
pub(crate) fn format_millis(unix_nanos: i128) -> String {
    let t =
        OffsetDateTime::from_unix_timestamp_nanos(unix_nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        let n = parse("2026-11-26T17:28:18.123Z").unwrap();
        assert_eq!(format_millis(n), "2026-11-26T17:28:18.123Z");
        assert_eq!(parse("2026-11-26T18:28:18.123+01:00"), Some(n));
        assert_eq!(parse("2026-11-26t17:28:18Z"), None);
        assert_eq!(parse("2026-11-26T17:28:18z"), None);
        assert_eq!(parse("2026-11-26"), None);
        assert_eq!(parse("yesterday"), None);
    }
}
