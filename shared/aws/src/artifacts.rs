//! The artifact bucket: reading a canary's spec and streaming its tarballs through the
//! docker-save checker without ever writing them to disk.

use async_trait::async_trait;
use aviary_core::StepError;
use aviary_docker_save::{Limits, TarballChecker};
use aviary_ports::{ArtifactProblem, ArtifactStore, CheckedTarball, ObjectMeta, VersionedObject, CREATED_BY_METADATA};
use aws_sdk_s3::Client;
use sha2::{Digest, Sha256};

use crate::errors::{aws_err, code, is_not_found};

/// The artifact bucket on S3.
#[derive(Clone)]
pub struct S3Artifacts {
    client: Client,
    bucket: String,
}

impl S3Artifacts {
    pub fn new(client: Client, bucket: &str) -> Self {
        S3Artifacts { client, bucket: bucket.into() }
    }

    /// Path-style addressing when `AWS_S3_FORCE_PATH_STYLE=true` (emulators serve buckets by
    /// path; real S3 works either way).
    pub fn from_conf(config: &aws_config::SdkConfig, bucket: &str) -> Self {
        S3Artifacts::new(Client::from_conf(s3_config(config)), bucket)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// The S3 client configuration Aviary uses everywhere (presigning included).
pub fn s3_config(config: &aws_config::SdkConfig) -> aws_sdk_s3::Config {
    aws_sdk_s3::config::Builder::from(config)
        .force_path_style(std::env::var("AWS_S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true"))
        .build()
}

#[async_trait]
impl ArtifactStore for S3Artifacts {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StepError> {
        let bucket = &self.bucket;
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
    async fn get_small(&self, key: &str, max_bytes: usize) -> Result<Option<Vec<u8>>, StepError> {
        let bucket = &self.bucket;
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

    /// Reads at most `max_bytes + 1` bytes: an object that grew past its declared size (or
    /// declares none) is refused without reading the rest.
    async fn get_versioned(&self, key: &str, max_bytes: usize) -> Result<Result<VersionedObject, ArtifactProblem>, StepError> {
        let bucket = &self.bucket;
        let out = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(o) => o,
            Err(e) if is_not_found(&e) => return Ok(Err(ArtifactProblem::Missing { bucket: bucket.clone(), key: key.into() })),
            Err(e) => return Err(aws_err("GetObject")(e)),
        };
        let declared = out.content_length().unwrap_or(0).max(0) as u64;
        let too_large = |bytes| ArtifactProblem::TooLarge { key: key.into(), bytes, limit: max_bytes as u64 };
        if declared > max_bytes as u64 {
            return Ok(Err(too_large(declared)));
        }
        let version = out.version_id().map(str::to_string);
        let created_by = out.metadata().and_then(|m| m.get(CREATED_BY_METADATA)).filter(|c| !c.is_empty()).cloned();
        let mut body = out.body;
        let mut bytes = Vec::with_capacity(declared as usize);
        while let Some(chunk) = body.try_next().await.map_err(|e| StepError::aws("GetObject", true, e.to_string()))? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > max_bytes {
                return Ok(Err(too_large(bytes.len() as u64)));
            }
        }
        Ok(Ok(VersionedObject { bytes, version, created_by }))
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StepError> {
        let bucket = &self.bucket;
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
    async fn check_tarball(&self, key: &str, limits: Limits) -> Result<Result<CheckedTarball, ArtifactProblem>, StepError> {
        let bucket = &self.bucket;
        let out = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(o) => o,
            Err(e) if is_not_found(&e) => {
                return Ok(Err(ArtifactProblem::Missing { bucket: bucket.clone(), key: key.into() }));
            }
            Err(e) => return Err(aws_err("GetObject")(e)),
        };
        // The version of the bytes checked: what the instances will fetch.
        let version = out.version_id().map(str::to_string);
        let mut body = out.body;
        let mut checker = TarballChecker::new(limits);
        let mut digest = Sha256::new();
        while let Some(chunk) = body.try_next().await.map_err(|e| StepError::aws("GetObject", true, e.to_string()))? {
            digest.update(&chunk);
            if let Err(source) = checker.feed(&chunk) {
                // Stop reading at the first problem: no need to download the rest.
                return Ok(Err(ArtifactProblem::BadTarball { key: key.into(), source }));
            }
        }
        Ok(checker
            .finish()
            .map(|summary| CheckedTarball { summary, version, sha256: hex::encode(digest.finalize()) })
            .map_err(|source| ArtifactProblem::BadTarball { key: key.into(), source }))
    }
}
