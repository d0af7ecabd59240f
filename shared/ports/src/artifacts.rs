//! The artifact store (the S3 bucket under `canaries/<name>/`): small objects such as specs,
//! and tarballs streamed through the docker-save checker without being written anywhere.

use async_trait::async_trait;
use aviary_core::StepError;
use aviary_docker_save::{ImageSummary, Limits, TarballError};

/// Size, ETag and version of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMeta {
    pub size: i64,
    pub etag: String,
    pub version: Option<String>,
}

/// Why an artifact is unusable (becomes the REJECTED reason), as opposed to a cloud failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArtifactProblem {
    #[error("{key} is missing from s3://{bucket}")]
    Missing { bucket: String, key: String },
    #[error("{key} is not a docker-save image: {source}")]
    BadTarball { key: String, source: TarballError },
    #[error("{key} is {bytes} bytes; the limit is {limit}")]
    TooLarge { key: String, bytes: u64, limit: u64 },
}

/// A tarball that passed the checker, and which version of the object was read.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedTarball {
    pub summary: ImageSummary,
    pub version: Option<String>,
    /// Lower-case hex sha256 of the bytes checked.
    pub sha256: String,
}

/// The user metadata (`x-amz-meta-…`) a presigned upload carries: the principal that asked
/// for the upload URL. It is part of the URL's signature, so the URL's holder cannot change it.
pub const CREATED_BY_METADATA: &str = "aviary-created-by";

/// A small object's bytes and the version they are.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionedObject {
    pub bytes: Vec<u8>,
    pub version: Option<String>,
    /// The object's [`CREATED_BY_METADATA`], when it was uploaded through `POST /uploads`.
    pub created_by: Option<String>,
}

#[async_trait]
pub trait ArtifactStore: Send + Sync {
    /// The bucket every key is in.
    fn bucket(&self) -> &str;
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StepError>;
    /// The object's bytes, or `None` if it does not exist; larger than `max_bytes` is
    /// `InvalidInput`. Only for small files (specs).
    async fn get_small(&self, key: &str, max_bytes: usize) -> Result<Option<Vec<u8>>, StepError>;
    /// Like `get_small`, with the version the bytes are (what admission pins). Larger than
    /// `max_bytes` is an [`ArtifactProblem::TooLarge`], without reading the rest.
    async fn get_versioned(&self, key: &str, max_bytes: usize) -> Result<Result<VersionedObject, ArtifactProblem>, StepError>;
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StepError>;
    /// Streams the tarball through the checker. The outer error is a cloud failure; the inner
    /// one says what is wrong with the artifact.
    async fn check_tarball(&self, key: &str, limits: Limits) -> Result<Result<CheckedTarball, ArtifactProblem>, StepError>;
}
