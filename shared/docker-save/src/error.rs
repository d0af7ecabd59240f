//! Why an uploaded tarball was rejected. The `Display` text is shown to users as the REJECTED
//! reason, so it says what is wrong in their terms; [`TarballError::name`] is a stable
//! machine name for logs and metrics.

/// A reason to reject an uploaded `docker save` tarball.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TarballError {
    /// The upload is empty or its first block is not a tar header.
    #[error("the upload is not a tar archive ({reason}); upload the output of `docker save`")]
    NotTar { reason: String },
    /// The upload is a compressed file (e.g. `docker save | gzip`).
    #[error("the upload is {format}-compressed; upload the uncompressed output of `docker save`")]
    Compressed { format: &'static str },
    /// A header block later in the archive is malformed (checksum, numeric field, pax record).
    #[error("invalid tar header at byte {offset}: {reason}")]
    BadHeader { offset: u64, reason: String },
    /// The data stopped before the end-of-archive marker.
    #[error("the archive is truncated: it ends after {received} bytes without the end-of-archive marker (incomplete upload?)")]
    Truncated { received: u64 },
    /// Non-zero bytes follow the end-of-archive marker.
    #[error("unexpected data after the end of the tar archive, at byte {offset}")]
    TrailingData { offset: u64 },
    /// An entry name (or a manifest reference) starts with `/`.
    #[error("entry `{path}` has an absolute path")]
    AbsolutePath { path: String },
    /// An entry name (or a manifest reference) has a `..` component.
    #[error("path `{path}` contains a `..` component (path traversal)")]
    PathTraversal { path: String },
    /// A symbolic or hard link.
    #[error("entry `{path}` is a link to `{target}`; links are not accepted")]
    LinkEntry { path: String, target: String },
    /// A device, fifo or other non-file entry type.
    #[error("entry `{path}` is a {kind}; only regular files and directories are accepted")]
    SpecialEntry { path: String, kind: String },
    /// A name that `docker save` does not write.
    #[error("unexpected entry `{path}`: it is not part of a `docker save` image")]
    UnexpectedEntry { path: String },
    /// The same name twice (a later copy would silently replace the checked one).
    #[error("entry `{path}` appears more than once")]
    DuplicateEntry { path: String },
    #[error("entry `{path}` is {} ({size} bytes), over the {} limit", human_bytes(.size), human_bytes(.limit))]
    EntryTooLarge { path: String, size: u64, limit: u64 },
    #[error("the archive has more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("the archive is larger than the {} limit", human_bytes(.limit))]
    TooLarge { limit: u64 },
    /// A content-addressed file whose sha256 is not the one in its name.
    #[error("`{path}` does not match the sha256 digest in its name (its content hashes to {actual}); the upload is corrupt or was modified")]
    DigestMismatch { path: String, actual: String },
    #[error("the archive has no manifest.json (nor an OCI index.json); upload the output of `docker save` or `podman save`")]
    MissingManifest,
    #[error("invalid manifest.json: {reason}")]
    InvalidManifest { reason: String },
    /// Aviary deploys one image per file.
    #[error("manifest.json describes {count} images; save exactly one image per file")]
    NotSingleImage { count: usize },
    #[error("manifest.json references `{path}`, which is not in the archive")]
    MissingReference { path: String },
    /// An OCI-layout archive without `oci-layout` or `index.json`.
    #[error("the OCI image layout is incomplete: `{path}` is missing")]
    MissingOciFile { path: String },
    /// `repositories`, `index.json`, `oci-layout` or the image config is malformed.
    #[error("invalid `{path}`: {reason}")]
    InvalidMetadata { path: String, reason: String },
    /// Files that read as image configs list more layers in all than one image could have.
    #[error(
        "the archive's JSON files list more than {limit} layers in all (`rootfs.diff_ids`); a `docker save` of one \
         image lists far fewer"
    )]
    TooManyConfigs { limit: usize },
    #[error("image config `{config}` lists {diff_ids} layers (rootfs.diff_ids) but manifest.json lists {layers}")]
    LayerCountMismatch { config: String, diff_ids: usize, layers: usize },
    /// An uncompressed layer whose sha256 is not the config's diff_id for it.
    #[error("layer `{path}` hashes to {actual} but the image config expects {expected}; the upload is corrupt or was modified")]
    DiffIdMismatch { path: String, expected: String, actual: String },
    /// Reading the upload failed (only from [`super::check_reader`]).
    #[error("could not read the upload: {message}")]
    Read { message: String },
}

impl TarballError {
    /// The stable name of the variant, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            TarballError::NotTar { .. } => "NotTar",
            TarballError::Compressed { .. } => "Compressed",
            TarballError::BadHeader { .. } => "BadHeader",
            TarballError::Truncated { .. } => "Truncated",
            TarballError::TrailingData { .. } => "TrailingData",
            TarballError::AbsolutePath { .. } => "AbsolutePath",
            TarballError::PathTraversal { .. } => "PathTraversal",
            TarballError::LinkEntry { .. } => "LinkEntry",
            TarballError::SpecialEntry { .. } => "SpecialEntry",
            TarballError::UnexpectedEntry { .. } => "UnexpectedEntry",
            TarballError::DuplicateEntry { .. } => "DuplicateEntry",
            TarballError::EntryTooLarge { .. } => "EntryTooLarge",
            TarballError::TooManyEntries { .. } => "TooManyEntries",
            TarballError::TooLarge { .. } => "TooLarge",
            TarballError::DigestMismatch { .. } => "DigestMismatch",
            TarballError::MissingManifest => "MissingManifest",
            TarballError::InvalidManifest { .. } => "InvalidManifest",
            TarballError::NotSingleImage { .. } => "NotSingleImage",
            TarballError::MissingReference { .. } => "MissingReference",
            TarballError::MissingOciFile { .. } => "MissingOciFile",
            TarballError::InvalidMetadata { .. } => "InvalidMetadata",
            TarballError::TooManyConfigs { .. } => "TooManyConfigs",
            TarballError::LayerCountMismatch { .. } => "LayerCountMismatch",
            TarballError::DiffIdMismatch { .. } => "DiffIdMismatch",
            TarballError::Read { .. } => "Read",
        }
    }

    pub(crate) fn bad_header(offset: u64, reason: impl Into<String>) -> Self {
        TarballError::BadHeader { offset, reason: reason.into() }
    }

    pub(crate) fn invalid_manifest(reason: impl Into<String>) -> Self {
        TarballError::InvalidManifest { reason: reason.into() }
    }

    pub(crate) fn invalid_metadata(path: &str, reason: impl Into<String>) -> Self {
        TarballError::InvalidMetadata { path: path.to_string(), reason: reason.into() }
    }
}

/// `1536` → `1.5 KiB`: limits are easier to act on in binary units.
fn human_bytes(n: &u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = *n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_uses_binary_units() {
        assert_eq!(human_bytes(&100), "100 bytes");
        assert_eq!(human_bytes(&1536), "1.5 KiB");
        assert_eq!(human_bytes(&(5 << 30)), "5.0 GiB");
    }

    #[test]
    fn messages_name_the_path_and_limit() {
        let e = TarballError::EntryTooLarge { path: "blobs/sha256/ab".into(), size: 2 << 20, limit: 1 << 20 };
        assert_eq!(
            e.to_string(),
            "entry `blobs/sha256/ab` is 2.0 MiB (2097152 bytes), over the 1.0 MiB limit"
        );
        assert_eq!(e.name(), "EntryTooLarge");
    }
}
