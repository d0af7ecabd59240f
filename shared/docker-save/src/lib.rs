//! Streaming checks of uploaded `docker save` tarballs, and a builder of valid ones.
//!
//! Uploads are checked without extracting anything: bytes are pushed into a
//! [`TarballChecker`] as they arrive (e.g. S3 `ByteStream` chunks), which parses tar headers
//! itself, accepts only the regular files and directories `docker save` writes, verifies every
//! sha256 a name or the image config promises, and at [`TarballChecker::finish`] checks that
//! `manifest.json` describes exactly one image whose files are all present. Accepted: both
//! `docker save` layouts, legacy (Docker < 25) and OCI (Docker ≥ 25, including the containerd
//! store); containers/image's docker-archive (`podman save`, `skopeo copy docker-archive:`);
//! crane's image tarballs (`crane pull`); and OCI archives with only
//! `index.json` (`podman save --format oci-archive`).
//!
//! [`build_image`] writes valid archives in either layout for tests and the local demo.
//!
//! Owns: the tar and image-layout checks. Must never import: another Aviary crate, an AWS SDK
//! crate or an async runtime — callers push bytes in (S3 chunks, a file, a test buffer).

mod build;
mod check;
mod error;
mod header;
mod names;
mod stream;
mod verify;
pub mod write;

#[cfg(test)]
mod tests;

pub use build::{build_image, BuildOptions, LayerFile};
pub use check::{check_reader, TarballChecker};
pub use error::TarballError;

use serde::{Deserialize, Serialize};

/// Caps that bound the work and memory spent on one upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Archive members (files and directories, not counting extended headers).
    pub max_entries: usize,
    /// Bytes of the whole archive.
    pub max_total_bytes: u64,
    /// Bytes of one layer or blob.
    pub max_entry_bytes: u64,
    /// Bytes of one metadata file (`manifest.json`, configs, `index.json`, ...). Metadata is
    /// held in memory to be parsed, so this bounds memory use.
    pub max_metadata_bytes: u64,
    /// Accept the layer symlinks `docker load` is given by real tools, and no other link:
    /// `<id>/layer.tar -> ../<other id>/layer.tar` (Docker < 25, a repeated layer) and
    /// `<id>/layer.tar -> ../<diff id>.tar` (containers/image: `podman save`, skopeo). The
    /// target must be another layer file of the archive, which is itself checked. On by
    /// default; off refuses every link.
    pub allow_legacy_layer_symlinks: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_total_bytes: 10 << 30,
            max_entry_bytes: 5 << 30,
            max_metadata_bytes: 1 << 20,
            allow_legacy_layer_symlinks: true,
        }
    }
}

impl Limits {
    /// Rejects an object whose declared size (e.g. S3 `ContentLength`) is over the total
    /// limit, before downloading any of it.
    pub fn check_declared_size(&self, bytes: u64) -> Result<(), TarballError> {
        if bytes > self.max_total_bytes {
            Err(TarballError::TooLarge { limit: self.max_total_bytes })
        } else {
            Ok(())
        }
    }
}

/// Which `docker save` format the archive uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// `<id>/layer.tar` directories and a `<hex>.json` config (Docker < 25).
    Legacy,
    /// `blobs/sha256/…`, `index.json` and `oci-layout` (Docker ≥ 25).
    Oci,
}

/// What an accepted archive contains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSummary {
    pub layout: Layout,
    /// From `manifest.json`; empty when the image was saved by id.
    pub repo_tags: Vec<String>,
    /// Number of layers in `manifest.json`.
    pub layers: usize,
    /// Size of the archive in bytes.
    pub total_bytes: u64,
    /// `sha256:<hex>` of the image config: the image id Docker shows after `docker load`.
    pub config_digest: String,
}
