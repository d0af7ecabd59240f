//! gzip + base64 for files embedded in the monitor's user data: the JSON dashboard alone is
//! several kilobytes, and EC2 caps user data at 16 KiB. The script decodes them with the
//! `base64` and `gzip` every Amazon Linux image has.

use std::io::Write;

/// Standard base64 with padding (the SDK's encoder), wrapped at `wrap` characters per line
/// (0: no wrapping).
pub fn base64(data: &[u8], wrap: usize) -> String {
    let flat = aws_smithy_types::base64::encode(data);
    if wrap == 0 {
        return flat;
    }
    // base64 output is ASCII: splitting bytes never splits a character.
    flat.as_bytes().chunks(wrap).map(|line| std::str::from_utf8(line).expect("base64 is ASCII")).collect::<Vec<_>>().join("\n")
}

/// gzip at maximum compression. The header carries no file name and mtime 0, so the same
/// input always gives the same bytes (renders are reproducible and diffable).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    enc.write_all(data).expect("in-memory gzip write");
    enc.finish().expect("in-memory gzip finish")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes(), 0), expected);
        }
        assert_eq!(base64(&[0xfb, 0xff], 0), "+/8=");
    }

    #[test]
    fn base64_wraps_lines() {
        let s = base64(&[0u8; 120], 76);
        assert!(s.lines().all(|l| l.len() <= 76));
        assert_eq!(s.replace('\n', "").len(), 160);
        assert!(!s.ends_with('\n'));
    }

    #[test]
    fn gzip_round_trips_and_is_deterministic() {
        let text = "{\"panels\": []}\n".repeat(50);
        let z = gzip(text.as_bytes());
        assert_eq!(z, gzip(text.as_bytes()));
        assert!(z.len() < text.len() / 5);
        let mut back = String::new();
        flate2::read::GzDecoder::new(&z[..]).read_to_string(&mut back).unwrap();
        assert_eq!(back, text);
    }
}
