//! A push-based tar reader: bytes go in, in chunks of any size; entries come out as
//! `begin` / `data` / `end` calls on an [`EntrySink`]. Nothing is buffered except one header
//! block and the (small, capped) data of pax and GNU long-name headers.
//!
//! It resolves long names (pax `x` records and GNU `L`/`K` entries) and the pax `size`
//! override, and handles the end-of-archive marker. Where tar readers disagree, it rejects the
//! archive instead of picking a reading (see `on_meta_end` and `begin_entry`).

use super::header::{self, RawHeader, BLOCK};
use super::TarballError;

/// Extended header data beyond this is not a docker image (its names are short).
const MAX_META_BYTES: u64 = 64 * 1024;

/// What a header says an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    Regular,
    Directory,
    HardLink,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// Any other type flag (sparse, contiguous, volume label, ...).
    Other(u8),
}

/// One archive member, with long names and the pax size already applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// As stored (not normalised); non-UTF-8 bytes are replaced, which no expected name has.
    pub path: String,
    pub link: String,
    pub kind: EntryKind,
    pub size: u64,
    /// Where this entry's data starts in the archive (after all of its headers).
    pub data_offset: u64,
}

/// Receives entries in archive order. `data` is called zero or more times between `begin` and
/// `end` with exactly `size` bytes in total.
pub(crate) trait EntrySink {
    fn begin(&mut self, entry: &Entry) -> Result<(), TarballError>;
    fn data(&mut self, bytes: &[u8]) -> Result<(), TarballError>;
    fn end(&mut self) -> Result<(), TarballError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MetaKind {
    PaxLocal,
    PaxGlobal,
    GnuLongName,
    GnuLongLink,
}

/// Long names and overrides waiting for the entry they apply to.
#[derive(Debug, Default)]
struct Pending {
    any: bool,
    pax_seen: bool,
    pax_path: Option<String>,
    pax_linkpath: Option<String>,
    pax_size: Option<u64>,
    gnu_name_seen: bool,
    gnu_name: Option<String>,
    gnu_link_seen: bool,
    gnu_link: Option<String>,
}

#[derive(Debug)]
enum State {
    /// Collecting a header block.
    Header,
    /// Collecting the data of a pax or GNU long-name header.
    Meta { kind: MetaKind, offset: u64, remaining: u64, pad: u64, buf: Vec<u8> },
    /// Passing entry data to the sink.
    Data { remaining: u64, pad: u64 },
    /// Skipping the padding to the next block.
    Skip { remaining: u64 },
    /// One zero block seen: the next block must be zero too.
    OneZero,
    /// Two zero blocks seen: only zero padding may follow.
    End,
}

/// The reader's position and partial state between chunks.
#[derive(Debug)]
pub(crate) struct TarStream {
    offset: u64,
    block: [u8; BLOCK],
    block_len: usize,
    state: State,
    pending: Pending,
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// `min(remaining, available)` as a slice length.
fn take(remaining: u64, available: usize) -> usize {
    usize::try_from(remaining).map_or(available, |r| r.min(available))
}

impl TarStream {
    pub(crate) fn new() -> Self {
        TarStream { offset: 0, block: [0; BLOCK], block_len: 0, state: State::Header, pending: Pending::default() }
    }

    /// Bytes consumed so far.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    pub(crate) fn feed(&mut self, mut chunk: &[u8], sink: &mut impl EntrySink) -> Result<(), TarballError> {
        while !chunk.is_empty() {
            match &mut self.state {
                State::Header | State::OneZero => {
                    let n = (BLOCK - self.block_len).min(chunk.len());
                    self.block[self.block_len..self.block_len + n].copy_from_slice(&chunk[..n]);
                    self.block_len += n;
                    self.offset += n as u64;
                    chunk = &chunk[n..];
                    if self.block_len == BLOCK {
                        self.block_len = 0;
                        self.on_block(sink)?;
                    }
                }
                State::Meta { remaining, buf, .. } => {
                    let n = take(*remaining, chunk.len());
                    buf.extend_from_slice(&chunk[..n]);
                    *remaining -= n as u64;
                    self.offset += n as u64;
                    chunk = &chunk[n..];
                    if *remaining == 0 {
                        self.on_meta_end()?;
                    }
                }
                State::Data { remaining, pad } => {
                    let n = take(*remaining, chunk.len());
                    sink.data(&chunk[..n])?;
                    *remaining -= n as u64;
                    self.offset += n as u64;
                    chunk = &chunk[n..];
                    if *remaining == 0 {
                        let pad = *pad;
                        self.state = if pad == 0 { State::Header } else { State::Skip { remaining: pad } };
                        sink.end()?;
                    }
                }
                State::Skip { remaining } => {
                    let n = take(*remaining, chunk.len());
                    *remaining -= n as u64;
                    self.offset += n as u64;
                    chunk = &chunk[n..];
                    if *remaining == 0 {
                        self.state = State::Header;
                    }
                }
                State::End => {
                    // Writers pad archives to a record size with zeros; anything else after the
                    // marker is data some reader (e.g. `tar --ignore-zeros`) might still use.
                    if let Some(i) = chunk.iter().position(|&b| b != 0) {
                        return Err(TarballError::TrailingData { offset: self.offset + i as u64 });
                    }
                    self.offset += chunk.len() as u64;
                    chunk = &[];
                }
            }
        }
        Ok(())
    }

    /// Succeeds only if the end-of-archive marker was read.
    pub(crate) fn finish(&self) -> Result<(), TarballError> {
        match self.state {
            State::End => Ok(()),
            _ if self.offset == 0 => Err(TarballError::NotTar { reason: "the file is empty".into() }),
            // Less than one block in total: too short to be a tar, but say so if it is compressed.
            _ if self.offset < BLOCK as u64 => Err(compressed_format(&self.block[..self.block_len])
                .map(|format| TarballError::Compressed { format })
                .unwrap_or_else(|| TarballError::NotTar {
                    reason: format!("only {} bytes, less than one tar block", self.offset),
                })),
            _ => Err(TarballError::Truncated { received: self.offset }),
        }
    }

    fn on_block(&mut self, sink: &mut impl EntrySink) -> Result<(), TarballError> {
        let offset = self.offset - BLOCK as u64;
        if header::is_zero_block(&self.block) {
            if self.pending.any {
                return Err(TarballError::bad_header(offset, "an extended header is not followed by an entry"));
            }
            self.state = match self.state {
                State::OneZero => State::End,
                _ => State::OneZero,
            };
            return Ok(());
        }
        if matches!(self.state, State::OneZero) {
            // Go's reader also fails here rather than skipping the lone zero block.
            return Err(TarballError::bad_header(offset - BLOCK as u64, "a single zero block inside the archive"));
        }
        let raw = header::parse_header(&self.block).map_err(|reason| {
            if offset == 0 {
                match compressed_format(&self.block) {
                    Some(format) => TarballError::Compressed { format },
                    None => TarballError::NotTar { reason },
                }
            } else {
                TarballError::BadHeader { offset, reason }
            }
        })?;
        let meta = match raw.typeflag {
            b'x' => Some(MetaKind::PaxLocal),
            b'g' => Some(MetaKind::PaxGlobal),
            b'L' => Some(MetaKind::GnuLongName),
            b'K' => Some(MetaKind::GnuLongLink),
            _ => None,
        };
        match meta {
            Some(kind) => self.begin_meta(kind, &raw, offset),
            None => self.begin_entry(raw, offset, sink),
        }
    }

    fn begin_meta(&mut self, kind: MetaKind, raw: &RawHeader, offset: u64) -> Result<(), TarballError> {
        if raw.size > MAX_META_BYTES {
            return Err(TarballError::bad_header(
                offset,
                format!("extended header of {} bytes (limit {MAX_META_BYTES})", raw.size),
            ));
        }
        // Readers differ on repeated headers for one entry (Go keeps only the last pax header,
        // others merge them): refuse rather than pick one reading.
        let repeated = match kind {
            MetaKind::PaxLocal => std::mem::replace(&mut self.pending.pax_seen, true),
            MetaKind::GnuLongName => std::mem::replace(&mut self.pending.gnu_name_seen, true),
            MetaKind::GnuLongLink => std::mem::replace(&mut self.pending.gnu_link_seen, true),
            MetaKind::PaxGlobal => false,
        };
        if repeated {
            return Err(TarballError::bad_header(offset, "two extended headers of the same kind for one entry"));
        }
        if kind != MetaKind::PaxGlobal {
            self.pending.any = true;
        }
        let pad = padding(raw.size);
        // `raw.size` is capped above, so the capacity is small.
        let buf = Vec::with_capacity(raw.size as usize);
        self.state = State::Meta { kind, offset, remaining: raw.size, pad, buf };
        if raw.size == 0 {
            self.on_meta_end()?;
        }
        Ok(())
    }

    fn on_meta_end(&mut self) -> Result<(), TarballError> {
        let State::Meta { kind, offset, pad, buf, .. } =
            std::mem::replace(&mut self.state, State::Header)
        else {
            unreachable!("on_meta_end is only called in the Meta state")
        };
        if pad > 0 {
            self.state = State::Skip { remaining: pad };
        }
        let bad = |reason: String| TarballError::BadHeader { offset, reason };
        match kind {
            MetaKind::PaxLocal | MetaKind::PaxGlobal => {
                for (key, value) in header::parse_pax_records(&buf).map_err(bad)? {
                    let global = kind == MetaKind::PaxGlobal;
                    match key.as_str() {
                        // Tools disagree on whether global headers rename entries (Go and
                        // Docker ignore them, GNU tar applies them): a docker image needs none.
                        "path" | "linkpath" | "size" if global => {
                            return Err(bad(format!("a global pax header sets `{key}`")));
                        }
                        // Sparse files change how the data is read, and images have none.
                        k if k.starts_with("GNU.sparse") => {
                            return Err(bad("sparse files are not accepted".into()));
                        }
                        "path" => self.pending.pax_path = Some(String::from_utf8_lossy(&value).into_owned()),
                        "linkpath" => self.pending.pax_linkpath = Some(String::from_utf8_lossy(&value).into_owned()),
                        "size" => {
                            let size = std::str::from_utf8(&value)
                                .ok()
                                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                                .and_then(|s| s.parse::<u64>().ok())
                                .filter(|s| *s <= i64::MAX as u64)
                                .ok_or_else(|| bad("invalid pax `size`".into()))?;
                            self.pending.pax_size = Some(size);
                        }
                        _ => {}
                    }
                }
            }
            MetaKind::GnuLongName | MetaKind::GnuLongLink => {
                let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
                // Go ignores an empty long name (the header's own name stays), so do we.
                let value = (end > 0).then(|| String::from_utf8_lossy(&buf[..end]).into_owned());
                if kind == MetaKind::GnuLongName {
                    self.pending.gnu_name = value;
                } else {
                    self.pending.gnu_link = value;
                }
            }
        }
        Ok(())
    }

    fn begin_entry(&mut self, raw: RawHeader, offset: u64, sink: &mut impl EntrySink) -> Result<(), TarballError> {
        let pending = std::mem::take(&mut self.pending);
        // Go lets a GNU long name win over a pax path; other readers do the opposite.
        if (pending.gnu_name.is_some() && pending.pax_path.is_some())
            || (pending.gnu_link.is_some() && pending.pax_linkpath.is_some())
        {
            return Err(TarballError::bad_header(offset, "both a GNU long name and a pax path for one entry"));
        }
        let path = pending
            .gnu_name
            .or(pending.pax_path)
            .unwrap_or_else(|| String::from_utf8_lossy(&raw.name).into_owned());
        let link = pending
            .gnu_link
            .or(pending.pax_linkpath)
            .unwrap_or_else(|| String::from_utf8_lossy(&raw.linkname).into_owned());
        let size = pending.pax_size.unwrap_or(raw.size);
        let kind = match raw.typeflag {
            b'0' => EntryKind::Regular,
            // The pre-POSIX regular-file flag; a trailing slash made it a directory.
            0 if path.ends_with('/') => EntryKind::Directory,
            0 => EntryKind::Regular,
            b'1' => EntryKind::HardLink,
            b'2' => EntryKind::Symlink,
            b'3' => EntryKind::CharDevice,
            b'4' => EntryKind::BlockDevice,
            b'5' => EntryKind::Directory,
            b'6' => EntryKind::Fifo,
            other => EntryKind::Other(other),
        };
        // Go reads no data for these types whatever the size says; a reader that skipped
        // `size` bytes would see different entries, so a non-zero size is refused.
        let header_only = !matches!(kind, EntryKind::Regular | EntryKind::Other(_));
        if header_only && size != 0 {
            return Err(TarballError::bad_header(offset, format!("entry `{path}` of a data-less type has size {size}")));
        }
        let entry = Entry { path, link, kind, size, data_offset: self.offset };
        sink.begin(&entry)?;
        if size == 0 {
            sink.end()
        } else {
            self.state = State::Data { remaining: size, pad: padding(size) };
            Ok(())
        }
    }
}

/// Recognises compressed uploads by their magic bytes, to give a useful message.
pub(crate) fn compressed_format(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some("gzip")
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Some("xz")
    } else if head.starts_with(b"BZh") {
        Some("bzip2")
    } else {
        None
    }
}
