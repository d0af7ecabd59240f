//! The push-based checker: per-entry rules while streaming (names, types, limits, digests),
//! and an inventory of what was seen, which `verify.rs` (where [`TarballChecker::finish`]
//! lives) checks as a whole.

use std::collections::HashMap;
use std::io::Read;

use sha2::{Digest, Sha256};

use super::names::{self, Name};
use super::stream::{compressed_format, Entry, EntryKind, EntrySink, TarStream};
use super::{ImageSummary, Limits, TarballError};

/// Checks a `docker save` tarball pushed in chunks of any size.
///
/// After an error every later call returns the same error, so a caller may stop reading the
/// upload at the first `Err`.
#[derive(Debug)]
pub struct TarballChecker {
    stream: TarStream,
    inventory: Inventory,
    failed: Option<TarballError>,
}

impl TarballChecker {
    pub fn new(limits: Limits) -> Self {
        TarballChecker { stream: TarStream::new(), inventory: Inventory::new(limits), failed: None }
    }

    /// Consumes the next bytes of the archive.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), TarballError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.feed_inner(chunk);
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    fn feed_inner(&mut self, chunk: &[u8]) -> Result<(), TarballError> {
        let limit = self.inventory.limits.max_total_bytes;
        // Feed up to the limit first, so an earlier problem is reported the same way whatever
        // the chunk sizes are.
        let room = limit.saturating_sub(self.stream.offset());
        let allowed = usize::try_from(room).map_or(chunk.len(), |room| room.min(chunk.len()));
        self.stream.feed(&chunk[..allowed], &mut self.inventory)?;
        if allowed < chunk.len() {
            return Err(TarballError::TooLarge { limit });
        }
        Ok(())
    }

    /// Bytes accepted so far.
    pub fn bytes_seen(&self) -> u64 {
        self.stream.offset()
    }

    /// Ends the archive: what was seen, and the archive's size (the whole-archive checks are
    /// [`TarballChecker::finish`]'s).
    pub(crate) fn into_inventory(self) -> Result<(Inventory, u64), TarballError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        self.stream.finish()?;
        let total = self.stream.offset();
        Ok((self.inventory, total))
    }
}

/// Checks everything `reader` yields (a convenience over [`TarballChecker`]).
pub fn check_reader(mut reader: impl Read, limits: Limits) -> Result<ImageSummary, TarballError> {
    let mut checker = TarballChecker::new(limits);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return checker.finish(),
            Ok(n) => checker.feed(&buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(TarballError::Read { message: e.to_string() }),
        }
    }
}

/// What a config-capable file (legacy `<hex>.json`, any blob) parsed as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigInfo {
    /// Too large to buffer, or a name that is never a config.
    NotRead,
    /// Not an image config; the reason is reported only if the manifest uses it as one.
    Invalid(String),
    Valid { diff_ids: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileRecord {
    pub name: Name,
    /// Hex sha256, for files whose digest matters (configs, layers, blobs).
    pub sha256: Option<String>,
    /// Starts with a compression magic, so its sha256 is not a diff_id.
    pub compressed: bool,
    pub config: ConfigInfo,
    /// For a small blob that reads as an OCI image manifest: what it names.
    pub oci_manifest: Option<OciManifestInfo>,
}

/// An OCI image manifest's references (digests, `sha256:<hex>`), for archives whose only
/// entry point is `index.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OciManifestInfo {
    pub config: String,
    pub layers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    Dir,
    File(FileRecord),
    /// An allowed legacy layer symlink; `target` is a normalised path.
    LayerLink { target: String },
}

/// Every accepted entry by normalised path, plus the metadata files' bytes.
#[derive(Debug)]
pub(crate) struct Inventory {
    pub limits: Limits,
    pub records: HashMap<String, Record>,
    pub manifest: Option<Vec<u8>>,
    pub repositories: Option<Vec<u8>>,
    pub index: Option<Vec<u8>>,
    pub oci_layout: Option<Vec<u8>>,
    entries: usize,
    /// diff_ids held in [`ConfigInfo::Valid`] records, against [`MAX_LISTED_LAYERS`].
    listed_layers: usize,
    current: Option<Current>,
}

/// The entry whose data is streaming.
#[derive(Debug)]
struct Current {
    path: String,
    name: Name,
    hasher: Option<Sha256>,
    buf: Option<Vec<u8>>,
    /// The first bytes, to recognise compressed layers.
    head: Vec<u8>,
}

const HEAD_LEN: usize = 6;

impl Inventory {
    fn new(limits: Limits) -> Self {
        Inventory {
            limits,
            records: HashMap::new(),
            manifest: None,
            repositories: None,
            index: None,
            oci_layout: None,
            entries: 0,
            listed_layers: 0,
            current: None,
        }
    }

    /// The one symlink that may be allowed; anything else is a `LinkEntry`.
    fn accept_layer_link(&self, entry: &Entry, path: &str) -> Option<String> {
        if !self.limits.allow_legacy_layer_symlinks || names::classify(path, false) != Some(Name::LegacyLayer) {
            return None;
        }
        names::legacy_layer_link_target(&entry.link)
    }
}

impl EntrySink for Inventory {
    fn begin(&mut self, entry: &Entry) -> Result<(), TarballError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(TarballError::TooManyEntries { limit: self.limits.max_entries });
        }
        let is_dir = entry.kind == EntryKind::Directory;
        let path = names::normalize(&entry.path, is_dir)?;
        match entry.kind {
            EntryKind::Regular | EntryKind::Directory => {}
            EntryKind::Symlink => {
                let Some(target) = self.accept_layer_link(entry, &path) else {
                    return Err(TarballError::LinkEntry { path: entry.path.clone(), target: entry.link.clone() });
                };
                if self.records.contains_key(&path) {
                    return Err(TarballError::DuplicateEntry { path });
                }
                self.records.insert(path, Record::LayerLink { target });
                return Ok(());
            }
            EntryKind::HardLink => {
                return Err(TarballError::LinkEntry { path: entry.path.clone(), target: entry.link.clone() });
            }
            other => {
                let kind = match other {
                    EntryKind::CharDevice => "character device".to_string(),
                    EntryKind::BlockDevice => "block device".to_string(),
                    EntryKind::Fifo => "named pipe (fifo)".to_string(),
                    EntryKind::Other(flag) => format!("tar entry of type {:?}", char::from(flag)),
                    _ => unreachable!("handled above"),
                };
                return Err(TarballError::SpecialEntry { path: entry.path.clone(), kind });
            }
        }
        if is_dir && path.is_empty() {
            return Ok(()); // `./`, the archive root
        }
        let name = names::classify(&path, is_dir).ok_or_else(|| TarballError::UnexpectedEntry { path: path.clone() })?;
        if self.records.contains_key(&path) {
            return Err(TarballError::DuplicateEntry { path });
        }
        if is_dir {
            self.records.insert(path, Record::Dir);
            return Ok(());
        }
        let limit = if name.is_metadata() { self.limits.max_metadata_bytes } else { self.limits.max_entry_bytes };
        if entry.size > limit {
            return Err(TarballError::EntryTooLarge { path, size: entry.size, limit });
        }
        // Fail before streaming gigabytes that cannot fit anyway.
        if entry.data_offset.saturating_add(entry.size) > self.limits.max_total_bytes {
            return Err(TarballError::TooLarge { limit: self.limits.max_total_bytes });
        }
        let hashed = matches!(name, Name::LegacyConfig | Name::DigestConfig | Name::LegacyLayer | Name::RootLayer | Name::Blob);
        // A blob may be the image config (only manifest.json, possibly later in the archive,
        // says which), so small blobs are read as JSON; only a summary is kept.
        let buffered = match name {
            Name::Manifest | Name::Repositories | Name::Index | Name::OciLayout | Name::LegacyConfig | Name::DigestConfig => true,
            Name::Blob => entry.size <= self.limits.max_metadata_bytes,
            _ => false,
        };
        let capacity = if buffered { usize::try_from(entry.size).unwrap_or(0) } else { 0 };
        self.current = Some(Current {
            path,
            name,
            hasher: hashed.then(Sha256::new),
            buf: buffered.then(|| Vec::with_capacity(capacity)),
            head: Vec::with_capacity(HEAD_LEN),
        });
        Ok(())
    }

    fn data(&mut self, bytes: &[u8]) -> Result<(), TarballError> {
        let current = self.current.as_mut().expect("data is only sent between begin and end");
        if let Some(hasher) = &mut current.hasher {
            hasher.update(bytes);
        }
        if let Some(buf) = &mut current.buf {
            buf.extend_from_slice(bytes);
        }
        let want = HEAD_LEN - current.head.len();
        current.head.extend_from_slice(&bytes[..want.min(bytes.len())]);
        Ok(())
    }

    fn end(&mut self) -> Result<(), TarballError> {
        // Directories and links are recorded in `begin`: they have no data.
        let Some(current) = self.current.take() else {
            return Ok(());
        };
        let sha256 = current.hasher.map(|h| hex::encode(h.finalize()));
        if let (Some(expected), Some(actual)) = (current.name.expected_digest(&current.path), &sha256) {
            if expected != actual {
                return Err(TarballError::DigestMismatch { path: current.path, actual: format!("sha256:{actual}") });
            }
        }
        let mut config = ConfigInfo::NotRead;
        let mut oci_manifest = None;
        match (current.name, current.buf) {
            (Name::Manifest, buf) => self.manifest = buf,
            (Name::Repositories, buf) => self.repositories = buf,
            (Name::Index, buf) => self.index = buf,
            (Name::OciLayout, buf) => self.oci_layout = buf,
            (Name::LegacyConfig | Name::DigestConfig, Some(buf)) => config = parse_config(&buf),
            (Name::Blob, Some(buf)) => {
                config = parse_config(&buf);
                oci_manifest = parse_oci_manifest(&buf);
            }
            _ => {}
        }
        let listed = match &config {
            ConfigInfo::Valid { diff_ids } => diff_ids.len(),
            _ => 0,
        } + oci_manifest.as_ref().map_or(0, |m: &OciManifestInfo| m.layers.len() + 1);
        self.listed_layers += listed;
        if self.listed_layers > MAX_LISTED_LAYERS {
            return Err(TarballError::TooManyConfigs { limit: MAX_LISTED_LAYERS });
        }
        let record = FileRecord {
            name: current.name,
            sha256,
            compressed: compressed_format(&current.head).is_some(),
            config,
            oci_manifest,
        };
        self.records.insert(current.path, Record::File(record));
        Ok(())
    }
}

/// Layers one image config may list. Docker itself stops at 127; a longer list is no image
/// anyone can run, and bounding it bounds what one blob can make the checker keep.
pub(crate) const MAX_CONFIG_LAYERS: usize = 1000;

/// `rootfs.diff_ids` kept across the whole archive. Every small blob is read as a possible
/// config (only `manifest.json` says which one is), so without this budget ten thousand blobs
/// of a megabyte each could make the checker hold gigabytes of layer lists.
pub(crate) const MAX_LISTED_LAYERS: usize = 10_000;

/// Reads an image config's `rootfs.diff_ids`, at most [`MAX_CONFIG_LAYERS`] of them, without
/// building a tree of the rest of the document.
fn parse_config(bytes: &[u8]) -> ConfigInfo {
    match serde_json::from_slice::<ConfigDoc>(bytes) {
        Ok(ConfigDoc { rootfs: Some(RootFs { diff_ids: Some(AtMost(diff_ids)) }) }) => {
            ConfigInfo::Valid { diff_ids: diff_ids.into_iter().map(|d| d.0).collect() }
        }
        Ok(_) => ConfigInfo::Invalid("no `rootfs.diff_ids` array".into()),
        Err(e) if e.is_data() => ConfigInfo::Invalid(bounded_reason(format!("not an image config (`rootfs.diff_ids` lists sha256 digests): {e}"))),
        Err(e) => ConfigInfo::Invalid(bounded_reason(format!("not valid JSON: {e}"))),
    }
}

/// Parse errors may quote the input (serde names an unexpected string); one is kept per blob,
/// so it is cut short.
fn bounded_reason(mut reason: String) -> String {
    const MAX: usize = 200;
    if reason.len() > MAX {
        let mut end = MAX;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason.push('…');
    }
    reason
}

/// The one part of an image config the checker needs; every other field is skipped unread.
#[derive(serde::Deserialize)]
struct ConfigDoc {
    rootfs: Option<RootFs>,
}

#[derive(serde::Deserialize)]
struct RootFs {
    diff_ids: Option<AtMost<LayerDigest>>,
}

/// A `sha256:<64 lowercase hex>` digest. Anything else is refused while parsing, so what is
/// kept per listed layer is bounded too (and the error does not repeat the input).
struct LayerDigest(String);

impl<'de> serde::Deserialize<'de> for LayerDigest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        match s.strip_prefix("sha256:") {
            Some(hex) if names::is_hex64(hex) => Ok(LayerDigest(s)),
            _ => Err(serde::de::Error::custom("an entry is not a sha256:<64 hex> digest")),
        }
    }
}

/// Reads a blob as an OCI image manifest (`config` and `layers` descriptors), or `None`.
fn parse_oci_manifest(bytes: &[u8]) -> Option<OciManifestInfo> {
    let doc: OciManifestDoc = serde_json::from_slice(bytes).ok()?;
    Some(OciManifestInfo { config: doc.config.digest.0, layers: doc.layers.0.into_iter().map(|l| l.digest.0).collect() })
}

#[derive(serde::Deserialize)]
struct OciManifestDoc {
    config: Descriptor,
    layers: AtMost<Descriptor>,
}

#[derive(serde::Deserialize)]
struct Descriptor {
    digest: LayerDigest,
}

/// A list that stops at [`MAX_CONFIG_LAYERS`] items.
struct AtMost<T>(Vec<T>);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for AtMost<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Bounded<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Bounded<T> {
            type Value = AtMost<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "an array of at most {MAX_CONFIG_LAYERS} items")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<AtMost<T>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<T>()? {
                    if items.len() == MAX_CONFIG_LAYERS {
                        return Err(serde::de::Error::custom(format!("more than {MAX_CONFIG_LAYERS} layers")));
                    }
                    items.push(item);
                }
                Ok(AtMost(items))
            }
        }
        deserializer.deserialize_seq(Bounded(std::marker::PhantomData))
    }
}
