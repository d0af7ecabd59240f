//! One 512-byte tar header block, and the records of pax extended headers: pure functions.
//!
//! The rules mirror Go's `archive/tar` (what `docker load` uses) wherever a choice changes how
//! the bytes are read: same checksum rule (unsigned or signed sum), same numeric encodings
//! (octal or base-256), the ustar `prefix` used only for ustar/pax/star headers. A checker that
//! reads an archive differently from the program that later loads it could be shown one set
//! of files while the loader sees another.

pub(crate) const BLOCK: usize = 512;

/// The fields of a header block that decide what the entry is and how much data follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawHeader {
    /// `prefix/name` for ustar-family headers, else `name`; bytes up to the first NUL.
    pub name: Vec<u8>,
    pub linkname: Vec<u8>,
    pub typeflag: u8,
    pub size: u64,
}

pub(crate) fn is_zero_block(block: &[u8; BLOCK]) -> bool {
    block.iter().all(|&b| b == 0)
}

/// Parses and validates one header block. The error is a reason for `BadHeader`.
pub(crate) fn parse_header(block: &[u8; BLOCK]) -> Result<RawHeader, String> {
    verify_checksum(block)?;
    let size = parse_numeric(&block[124..136]).map_err(|e| format!("size field: {e}"))?;
    let magic = &block[257..263];
    // Go: a "ustar\0" magic means ustar/pax (or star, which has a shorter prefix and a
    // trailer); "ustar " with version " \0" is GNU, whose prefix area holds other fields.
    let prefix: &[u8] = if magic == b"ustar\0" {
        if &block[508..512] == b"tar\0" {
            cstr(&block[345..476])
        } else {
            cstr(&block[345..500])
        }
    } else {
        &[]
    };
    let base = cstr(&block[0..100]);
    let mut name = Vec::with_capacity(prefix.len() + 1 + base.len());
    if !prefix.is_empty() {
        name.extend_from_slice(prefix);
        name.push(b'/');
    }
    name.extend_from_slice(base);
    Ok(RawHeader { name, linkname: cstr(&block[157..257]).to_vec(), typeflag: block[156], size })
}

fn verify_checksum(block: &[u8; BLOCK]) -> Result<(), String> {
    let stored = parse_octal(&block[148..156]).map_err(|e| format!("checksum field: {e}"))?;
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (i, &b) in block.iter().enumerate() {
        // The checksum field itself counts as eight spaces.
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    // Some old writers summed signed bytes; Go accepts either, so do we.
    if stored == unsigned || i64::try_from(stored) == Ok(signed) {
        Ok(())
    } else {
        Err(format!("header checksum mismatch (stored {stored}, computed {unsigned})"))
    }
}

/// The bytes up to the first NUL.
fn cstr(field: &[u8]) -> &[u8] {
    match field.iter().position(|&b| b == 0) {
        Some(end) => &field[..end],
        None => field,
    }
}

/// A numeric field: base-256 when the high bit of the first byte is set, else octal text.
pub(crate) fn parse_numeric(field: &[u8]) -> Result<u64, String> {
    match field.first() {
        Some(&first) if first & 0x80 != 0 => {
            if first == 0xff {
                return Err("negative base-256 number".into());
            }
            let mut value = u64::from(first & 0x7f);
            for &b in &field[1..] {
                if value >> 55 != 0 {
                    return Err("base-256 number overflows".into());
                }
                value = (value << 8) | u64::from(b);
            }
            // Go keeps sizes in an i64.
            if value > i64::MAX as u64 {
                return Err("base-256 number overflows".into());
            }
            Ok(value)
        }
        _ => parse_octal(field),
    }
}

/// Octal text, padded with spaces or NULs on either side (empty means 0).
fn parse_octal(field: &[u8]) -> Result<u64, String> {
    let is_pad = |b: &u8| *b == b' ' || *b == 0;
    let start = field.iter().position(|b| !is_pad(b)).unwrap_or(field.len());
    let end = field.iter().rposition(|b| !is_pad(b)).map_or(start, |i| i + 1);
    let mut value: u64 = 0;
    for &b in &field[start..end] {
        if !(b'0'..=b'7').contains(&b) {
            return Err(format!("not an octal number: {:?}", String::from_utf8_lossy(field)));
        }
        value = value
            .checked_mul(8)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .filter(|v| *v <= i64::MAX as u64)
            .ok_or("octal number overflows")?;
    }
    Ok(value)
}

/// Splits pax extended header data into `(key, value)` records (`"%d %s=%s\n"`, where the
/// length counts the whole record). Rejects what Go rejects: bad lengths, missing `=`, empty
/// keys, and NULs in keys or path values.
pub(crate) fn parse_pax_records(mut data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut records = Vec::new();
    // Go stops at a NUL-padded tail the same way: trailing NULs are not records.
    while !data.is_empty() && data.iter().any(|&b| b != 0) {
        let space = data.iter().position(|&b| b == b' ').ok_or("pax record without a length")?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or("pax record with an invalid length")?;
        if len <= space + 1 || len > data.len() {
            return Err("pax record length out of range".into());
        }
        let record = &data[space + 1..len];
        let record = record.strip_suffix(b"\n").ok_or("pax record does not end with a newline")?;
        let eq = record.iter().position(|&b| b == b'=').ok_or("pax record without `=`")?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        let key = std::str::from_utf8(key).map_err(|_| "pax record key is not UTF-8")?;
        if key.is_empty() || key.contains('\0') {
            return Err("pax record with an empty or NUL key".into());
        }
        if matches!(key, "path" | "linkpath" | "uname" | "gname") && value.contains(&0) {
            return Err(format!("pax `{key}` contains a NUL byte"));
        }
        records.push((key.to_string(), value.to_vec()));
        data = &data[len..];
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_fields_allow_padding_and_reject_garbage() {
        assert_eq!(parse_numeric(b"00000001750\0"), Ok(1000));
        assert_eq!(parse_numeric(b"  1750 \0\0\0\0\0"), Ok(1000));
        assert_eq!(parse_numeric(b"\0\0\0\0\0\0\0\0\0\0\0\0"), Ok(0));
        assert!(parse_numeric(b"0000000019\0\0").is_err());
        assert!(parse_numeric(b"12\x003\0\0\0\0\0\0\0\0").is_err());
        assert!(parse_numeric(b"7777777777777777777777").is_err(), "overflow is an error");
    }

    #[test]
    fn base256_fields_are_big_endian_and_non_negative() {
        let mut field = [0u8; 12];
        field[0] = 0x80;
        field[7] = 2;
        field[11] = 1;
        assert_eq!(parse_numeric(&field), Ok((2u64 << 32) | 1));
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[6] = 0x02; // 2 << 40 = 2 TiB
        assert_eq!(parse_numeric(&big), Ok(2u64 << 40));
        assert!(parse_numeric(&[0xff; 12]).is_err());
        let mut huge = [0xffu8; 12];
        huge[0] = 0x81;
        assert!(parse_numeric(&huge).is_err());
    }

    #[test]
    fn pax_records_parse_and_reject_malformed() {
        let data = b"30 path=blobs/sha256/abcdefgh\n11 size=42\n";
        let recs = parse_pax_records(data).unwrap();
        assert_eq!(recs[0], ("path".to_string(), b"blobs/sha256/abcdefgh".to_vec()));
        assert_eq!(recs[1], ("size".to_string(), b"42".to_vec()));
        assert!(parse_pax_records(b"31 path=blobs/sha256/abcdefgh\n").is_err(), "length too long");
        assert!(parse_pax_records(b"11 pathxyz\n").is_err(), "no `=`");
        assert!(parse_pax_records(b"9 path=\0\n").is_err(), "NUL in path");
        assert!(parse_pax_records(b"x path=a\n").is_err(), "bad length");
    }
}
