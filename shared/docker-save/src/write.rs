//! A minimal in-memory tar writer (ustar headers with correct checksums, pax records for long
//! names): the counterpart of the checker's reader. [`super::build_image`] uses it, and tests
//! use its low-level methods to craft archives no honest tool writes.

use super::header::BLOCK;

/// A header to write as given; see [`TarWriter::entry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarHeader {
    pub path: String,
    /// `b'0'` regular file, `b'2'` symlink, `b'5'` directory, ...
    pub typeflag: u8,
    /// The size written in the header (normally the data's length).
    pub size: u64,
    pub mode: u32,
    pub link: String,
}

/// Appends entries to a growing archive.
#[derive(Debug, Default, Clone)]
pub struct TarWriter {
    out: Vec<u8>,
}

/// Names longer than the ustar `name` field go in a pax `path` record.
const NAME_LEN: usize = 100;
/// The largest size an 11-digit octal field holds (8 GiB - 1).
const MAX_OCTAL_SIZE: u64 = 0o77_777_777_777;

impl TarWriter {
    pub fn new() -> Self {
        TarWriter::default()
    }

    /// A regular file.
    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) {
        let header = TarHeader { path: path.to_string(), typeflag: b'0', size: data.len() as u64, mode, link: String::new() };
        self.entry(&header, data);
    }

    /// A directory; a trailing `/` is added if missing.
    pub fn dir(&mut self, path: &str) {
        let path = if path.ends_with('/') { path.to_string() } else { format!("{path}/") };
        let header = TarHeader { path, typeflag: b'5', size: 0, mode: 0o755, link: String::new() };
        self.entry(&header, &[]);
    }

    /// Any entry: a pax header first when the path or link does not fit, then the header, then
    /// `data` padded to a block. `header.size` is written as given, even if it differs from
    /// `data.len()`.
    pub fn entry(&mut self, header: &TarHeader, data: &[u8]) {
        let mut records: Vec<(&str, String)> = Vec::new();
        if header.path.len() > NAME_LEN {
            records.push(("path", header.path.clone()));
        }
        if header.link.len() > NAME_LEN {
            records.push(("linkpath", header.link.clone()));
        }
        if header.size > MAX_OCTAL_SIZE {
            records.push(("size", header.size.to_string()));
        }
        if !records.is_empty() {
            let records: Vec<(&str, &str)> = records.iter().map(|(k, v)| (*k, v.as_str())).collect();
            self.pax(&records);
        }
        let name = truncate(&header.path, NAME_LEN);
        let link = truncate(&header.link, NAME_LEN);
        self.out.extend_from_slice(&header_block(name, header.mode, header.size, header.typeflag, link));
        self.data(data);
    }

    /// A pax extended header (`x`) with these records, applying to the next entry.
    pub fn pax(&mut self, records: &[(&str, &str)]) {
        self.pax_header(b'x', records);
    }

    /// A pax global header (`g`) with these records.
    pub fn pax_global(&mut self, records: &[(&str, &str)]) {
        self.pax_header(b'g', records);
    }

    fn pax_header(&mut self, typeflag: u8, records: &[(&str, &str)]) {
        let data: Vec<u8> = records.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
        self.out.extend_from_slice(&header_block(b"././@PaxHeader", 0o644, data.len() as u64, typeflag, b""));
        self.data(&data);
    }

    /// A GNU long-name entry (`L`), applying to the next entry.
    pub fn gnu_long_name(&mut self, name: &str) {
        let mut data = name.as_bytes().to_vec();
        data.push(0);
        self.out.extend_from_slice(&header_block(b"././@LongLink", 0o644, data.len() as u64, b'L', b""));
        self.data(&data);
    }

    /// Raw bytes, e.g. a hand-made block.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// The archive so far, without the end-of-archive marker.
    pub fn as_bytes(&self) -> &[u8] {
        &self.out
    }

    /// Appends the two zero blocks that end an archive.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&[0u8; 2 * BLOCK]);
        self.out
    }

    fn data(&mut self, data: &[u8]) {
        self.out.extend_from_slice(data);
        let pad = (BLOCK - data.len() % BLOCK) % BLOCK;
        self.out.extend(std::iter::repeat_n(0u8, pad));
    }
}

fn truncate(s: &str, len: usize) -> &[u8] {
    &s.as_bytes()[..s.len().min(len)]
}

/// `"<len> <key>=<value>\n"`, where `<len>` counts the whole record including its own digits.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // space, `=`, newline
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    format!("{len} {key}={value}\n").into_bytes()
}

/// A ustar header block with a valid checksum. Fields that do not fit are cut (callers
/// write a pax header first).
pub(crate) fn header_block(name: &[u8], mode: u32, size: u64, typeflag: u8, link: &[u8]) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    let put = |b: &mut [u8; BLOCK], at: usize, field: &[u8]| b[at..at + field.len()].copy_from_slice(field);
    put(&mut b, 0, &name[..name.len().min(NAME_LEN)]);
    put(&mut b, 100, format!("{:07o}\0", mode & 0o7777777).as_bytes());
    put(&mut b, 108, b"0000000\0"); // uid
    put(&mut b, 116, b"0000000\0"); // gid
    if size <= MAX_OCTAL_SIZE {
        put(&mut b, 124, format!("{size:011o}\0").as_bytes());
    } else {
        // Base-256: high bit set, big-endian in the rest of the 12-byte field.
        b[124] = 0x80;
        put(&mut b, 128, &size.to_be_bytes());
    }
    put(&mut b, 136, b"00000000000\0"); // mtime: the epoch, for reproducible output
    b[156] = typeflag;
    put(&mut b, 157, &link[..link.len().min(NAME_LEN)]);
    put(&mut b, 257, b"ustar\0");
    put(&mut b, 263, b"00");
    put(&mut b, 329, b"0000000\0"); // devmajor
    put(&mut b, 337, b"0000000\0"); // devminor
    put(&mut b, 148, b"        ");
    let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
    put(&mut b, 148, format!("{sum:06o}\0 ").as_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{parse_header, parse_pax_records};

    #[test]
    fn header_blocks_round_trip_through_the_parser() {
        let block = header_block(b"blobs/sha256/abc", 0o644, 1234, b'0', b"");
        let raw = parse_header(&block).unwrap();
        assert_eq!(raw.name, b"blobs/sha256/abc");
        assert_eq!(raw.size, 1234);
        assert_eq!(raw.typeflag, b'0');
        let big = header_block(b"big", 0o644, 20 << 30, b'0', b"");
        assert_eq!(parse_header(&big).unwrap().size, 20 << 30);
    }

    #[test]
    fn pax_record_lengths_count_themselves() {
        for value in ["", "a", &"x".repeat(90), &"y".repeat(95), &"z".repeat(995)] {
            let record = pax_record("path", value);
            let parsed = parse_pax_records(&record).unwrap();
            assert_eq!(parsed, vec![("path".to_string(), value.as_bytes().to_vec())]);
        }
    }
}
