//! The artifact bucket: reading a canary's spec and streaming its tarballs through the
//! docker-save checker without ever writing them to disk.

use aws_sdk_s3::Client;

use super::errors::{aws_err, code, is_not_found};
use crate::error::StepError;
use crate::tarball::{ImageSummary, Limits, TarballChecker, TarballError};

/// Size, ETag and version of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMeta {
    pub size: i64,
    pub etag: String,
    pub version: Option<String>,
}

/// Why an artifact is unusable (becomes the REJECTED reason), as opposed to an AWS failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArtifactProblem {
    #[error("{key} is missing from s3://{bucket}")]
    Missing { bucket: String, key: String },
    #[error("{key} is not a docker-save image: {source}")]
    BadTarball { key: String, source: TarballError },
}

#[derive(Clone)]
pub struct Artifacts {
    client: Client,
}

impl Artifacts {
    pub fn new(client: Client) -> Self {
        Artifacts { client }
    }

    pub async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectMeta>, StepError> {
        match self.client.head_object().bucket(bucket).key(key).send().await {
            Ok(o) => Ok(Some(ObjectMeta {
                size: o.content_length().unwrap_or(0),
                etag: o.e_tag().unwrap_or_default().trim_matches('"').to_string(),
                version: o.version_id().map(str::to_string),
            })),
            Err(e) if is_not_found(&e) || code(&e) == Some("NotFound") => Ok(None),
            Err(e) => Err(aws_err("HeadObject")(e)),
        }
    }

    /// The object's bytes, or `None` if it does not exist. Only for small files (specs).
    pub async fn get_small(&self, bucket: &str, key: &str, max_bytes: usize) -> Result<Option<Vec<u8>>, StepError> {
        let out = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(o) => o,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(aws_err("GetObject")(e)),
        };
        if out.content_length().unwrap_or(0) as usize > max_bytes {
            return Err(StepError::InvalidInput(format!("{key} is larger than {max_bytes} bytes")));
        }
        let bytes = out.body.collect().await.map_err(|e| StepError::aws("GetObject", true, e.to_string()))?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    pub async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), StepError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .map_err(aws_err("PutObject"))?;
        Ok(())
    }

    /// Streams the tarball through the checker chunk by chunk. The outer error is an AWS
    /// failure; the inner one says what is wrong with the artifact.
    pub async fn check_tarball(&self, bucket: &str, key: &str, limits: Limits) -> Result<Result<ImageSummary, ArtifactProblem>, StepError> {
        let out = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(o) => o,
            Err(e) if is_not_found(&e) => {
                return Ok(Err(ArtifactProblem::Missing { bucket: bucket.into(), key: key.into() }));
            }
            Err(e) => return Err(aws_err("GetObject")(e)),
        };
        let mut body = out.body;
        let mut checker = TarballChecker::new(limits);
        while let Some(chunk) = body.try_next().await.map_err(|e| StepError::aws("GetObject", true, e.to_string()))? {
            if let Err(source) = checker.feed(&chunk) {
                // Stop reading at the first problem: no need to download the rest.
                return Ok(Err(ArtifactProblem::BadTarball { key: key.into(), source }));
            }
        }
        Ok(checker.finish().map_err(|source| ArtifactProblem::BadTarball { key: key.into(), source }))
    }
}
