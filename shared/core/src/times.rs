//! How times look on the wire: RFC 3339 in UTC (`2026-12-04T05:30:00Z`) in every document
//! Aviary writes — the API, the CLI's `--json`, the stored records — while the code keeps Unix
//! seconds. Reading accepts both, so records stored before times became strings still load.

use serde::{de, Deserializer, Serializer};

/// `2026-12-04T05:30:00Z` from Unix seconds.
pub fn rfc3339_secs(secs: i64) -> String {
    let ms = crate::clock::rfc3339_ms(secs.saturating_mul(1000));
    // "…:00.000Z" → "…:00Z": whole seconds are what these fields hold.
    format!("{}Z", &ms[..ms.len() - 5])
}

/// RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`) → Unix seconds, the fraction dropped.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok().map(|t| t.unix_timestamp())
}

/// RFC 3339 → Unix milliseconds.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Reads an RFC 3339 time into an `i64` with `parse`; with `numbers`, also the plain numbers
/// records held before times became strings.
struct TimeVisitor {
    parse: fn(&str) -> Option<i64>,
    example: &'static str,
    numbers: bool,
}

/// Unix seconds; records stored before times were strings hold numbers.
const SECONDS: TimeVisitor = TimeVisitor { parse: parse_rfc3339, example: "2026-12-04T05:30:00Z", numbers: true };
/// Unix milliseconds; no record ever held these as numbers.
const MILLISECONDS: TimeVisitor = TimeVisitor { parse: parse_rfc3339_ms, example: "2026-12-04T05:30:00.123Z", numbers: false };

impl de::Visitor<'_> for TimeVisitor {
    type Value = i64;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an RFC 3339 time such as {}", self.example)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        (self.parse)(v).ok_or_else(|| E::custom(format!("{v:?} is not an RFC 3339 time such as {}", self.example)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        if self.numbers {
            Ok(v)
        } else {
            Err(E::invalid_type(de::Unexpected::Signed(v), &self))
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        if !self.numbers {
            return Err(E::invalid_type(de::Unexpected::Unsigned(v), &self));
        }
        i64::try_from(v).map_err(|_| E::custom("time out of range"))
    }
}

/// `#[serde(with = "crate::times::secs")]` on an `i64` of Unix seconds.
pub mod secs {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339_secs(*v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(SECONDS)
    }
}

/// `#[serde(with = "crate::times::ms")]` on an `i64` of Unix milliseconds: RFC 3339 with
/// milliseconds.
pub mod ms {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::clock::rfc3339_ms(*v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_str(MILLISECONDS)
    }
}

/// `#[serde(default, with = "crate::times::opt_secs", skip_serializing_if = "Option::is_none")]`.
pub mod opt_secs {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&rfc3339_secs(*v)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        struct Opt;
        impl<'de> de::Visitor<'de> for Opt {
            type Value = Option<i64>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an RFC 3339 time or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
                d.deserialize_any(SECONDS).map(Some)
            }
        }
        d.deserialize_option(Opt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct T {
        #[serde(with = "secs")]
        at: i64,
        #[serde(default, with = "opt_secs", skip_serializing_if = "Option::is_none")]
        until: Option<i64>,
    }

    #[test]
    fn times_are_written_as_rfc3339_and_read_back_from_either_form() {
        let t = T { at: 1_800_000_000, until: Some(0) };
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json, serde_json::json!({"at": "2027-01-15T08:00:00Z", "until": "1970-01-01T00:00:00Z"}));
        assert_eq!(serde_json::from_value::<T>(json).unwrap(), t);
        let legacy: T = serde_json::from_str(r#"{"at": 1800000000, "until": 5}"#).unwrap();
        assert_eq!(legacy, T { at: 1_800_000_000, until: Some(5) });
        let none: T = serde_json::from_str(r#"{"at": "2027-01-15T09:00:00+01:00", "until": null}"#).unwrap();
        assert_eq!(none, T { at: 1_800_000_000, until: None });
        assert_eq!(serde_json::to_value(&none).unwrap(), serde_json::json!({"at": "2027-01-15T08:00:00Z"}));
        let e = serde_json::from_str::<T>(r#"{"at": "yesterday"}"#).unwrap_err().to_string();
        assert!(e.contains("\"yesterday\" is not an RFC 3339 time"), "{e}");
        assert_eq!(parse_rfc3339_ms("2027-01-15T08:00:00.123Z"), Some(1_800_000_000_123));
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct M {
        #[serde(with = "ms")]
        at: i64,
    }

    #[test]
    fn millisecond_times_are_strings_only() {
        let m = M { at: 1_800_000_000_123 };
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json, serde_json::json!({"at": "2027-01-15T08:00:00.123Z"}));
        assert_eq!(serde_json::from_value::<M>(json).unwrap(), m);
        let e = serde_json::from_str::<M>(r#"{"at": "soon"}"#).unwrap_err().to_string();
        assert!(e.contains("\"soon\" is not an RFC 3339 time such as 2026-12-04T05:30:00.123Z"), "{e}");
        let e = serde_json::from_str::<M>(r#"{"at": 1800000000123}"#).unwrap_err().to_string();
        assert!(e.contains("expected an RFC 3339 time such as 2026-12-04T05:30:00.123Z"), "{e}");
    }
}
