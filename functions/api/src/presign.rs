//! Presigned S3 PUT URLs for the artifact bucket: the one place the API holds an SDK client,
//! because presigning is a local signature with the S3 client's credentials, not a call.
//! Each URL carries the declared `Content-Length` in its signature, so S3 refuses a body of
//! another size.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aviary_aws::artifacts::S3Artifacts;
use aviary_core::StepError;
use aviary_ports::{ArtifactStore, CREATED_BY_METADATA};
use aws_sdk_s3::presigning::PresigningConfig;

#[derive(Clone)]
pub struct Presigner {
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// What a client needs to upload one file.
#[derive(Debug, Clone, PartialEq)]
pub struct PresignedPut {
    pub method: String,
    pub url: String,
    /// Headers the PUT must carry exactly (they are part of the signature), names lowercase.
    pub headers: BTreeMap<String, String>,
}

impl Presigner {
    /// With the artifact adapter's client and bucket (path-style when the adapter is).
    pub fn new(artifacts: &S3Artifacts) -> Presigner {
        Presigner { client: artifacts.client().clone(), bucket: artifacts.bucket().to_string() }
    }

    /// The bucket, or a configuration error when `AVIARY_BUCKET` was not set.
    pub fn bucket(&self) -> Result<&str, StepError> {
        aviary_lifecycle::Settings::require(&self.bucket, "AVIARY_BUCKET")
    }

    /// A PUT of exactly `content_length` bytes to `key`, valid from `start` for `expires_in`,
    /// carrying `created_by` as the object's [`CREATED_BY_METADATA`] (a signed header, so
    /// the URL's holder cannot change who the upload is attributed to).
    pub async fn put(&self, key: &str, content_length: i64, created_by: &str, start: SystemTime, expires_in: Duration) -> Result<PresignedPut, StepError> {
        let config = PresigningConfig::builder()
            .start_time(start)
            .expires_in(expires_in)
            .build()
            .map_err(|e| StepError::Config(format!("presigning: {e}")))?;
        let presigned = self
            .client
            .put_object()
            .bucket(self.bucket()?)
            .key(key)
            .content_length(content_length)
            .metadata(CREATED_BY_METADATA, created_by)
            .presigned(config)
            .await
            .map_err(|e| StepError::Config(format!("presigning PutObject: {e}")))?;
        Ok(PresignedPut {
            method: presigned.method().to_string(),
            url: presigned.uri().to_string(),
            headers: presigned.headers().map(|(k, v)| (k.to_ascii_lowercase(), v.to_string())).collect(),
        })
    }
}
