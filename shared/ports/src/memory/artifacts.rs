//! The artifact bucket in memory (versioned like the real one), tarballs checked by the same
//! streaming checker the adapter feeds from S3.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sha2::Digest;
use aviary_core::StepError;
use aviary_docker_save::{Limits, TarballChecker};

use super::Cloud;
use crate::artifacts::{ArtifactProblem, ArtifactStore, CheckedTarball, ObjectMeta, VersionedObject};

#[derive(Clone)]
pub struct MemoryArtifacts {
    bucket: String,
    objects: Arc<Mutex<BTreeMap<String, (Vec<u8>, u64)>>>,
    created_by: Arc<Mutex<BTreeMap<String, String>>>,
    pub cloud: Cloud,
}

impl MemoryArtifacts {
    pub fn new(bucket: &str, cloud: Cloud) -> Self {
        MemoryArtifacts { bucket: bucket.into(), objects: Arc::default(), created_by: Arc::default(), cloud }
    }
    /// Puts an object without a logged call (test setup).
    pub fn insert(&self, key: &str, body: impl Into<Vec<u8>>) {
        let mut objects = self.objects.lock().unwrap();
        let version = objects.get(key).map(|(_, v)| v + 1).unwrap_or(1);
        objects.insert(key.to_string(), (body.into(), version));
        // A new version carries only its own metadata.
        self.created_by.lock().unwrap().remove(key);
    }
    /// Puts an object as a presigned upload by `principal` would (its created-by metadata).
    pub fn insert_by(&self, key: &str, body: impl Into<Vec<u8>>, principal: &str) {
        self.insert(key, body);
        self.created_by.lock().unwrap().insert(key.to_string(), principal.to_string());
    }
    pub fn remove(&self, key: &str) {
        self.objects.lock().unwrap().remove(key);
    }
}

#[async_trait]
impl ArtifactStore for MemoryArtifacts {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "HeadObject")?;
        Ok(self.objects.lock().unwrap().get(key).map(|(b, v)| ObjectMeta {
            size: b.len() as i64,
            etag: format!("{:x}", b.len()),
            version: Some(format!("v{v}")),
        }))
    }

    async fn get_small(&self, key: &str, max_bytes: usize) -> Result<Option<Vec<u8>>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "GetObject")?;
        match self.objects.lock().unwrap().get(key) {
            None => Ok(None),
            Some((b, _)) if b.len() > max_bytes => Err(StepError::InvalidInput(format!("{key} is larger than {max_bytes} bytes"))),
            Some((b, _)) => Ok(Some(b.clone())),
        }
    }

    async fn get_versioned(&self, key: &str, max_bytes: usize) -> Result<Result<VersionedObject, ArtifactProblem>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "GetObject")?;
        Ok(match self.objects.lock().unwrap().get(key) {
            None => Err(ArtifactProblem::Missing { bucket: self.bucket.clone(), key: key.into() }),
            Some((b, _)) if b.len() > max_bytes => Err(ArtifactProblem::TooLarge { key: key.into(), bytes: b.len() as u64, limit: max_bytes as u64 }),
            Some((b, v)) => Ok(VersionedObject {
                bytes: b.clone(),
                version: Some(format!("v{v}")),
                created_by: self.created_by.lock().unwrap().get(key).cloned(),
            }),
        })
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StepError> {
        self.cloud.faults.check(&self.cloud.log, "PutObject")?;
        self.insert(key, body);
        Ok(())
    }

    async fn check_tarball(&self, key: &str, limits: Limits) -> Result<Result<CheckedTarball, ArtifactProblem>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "GetObject")?;
        let Some((bytes, version)) = self.objects.lock().unwrap().get(key).cloned() else {
            return Ok(Err(ArtifactProblem::Missing { bucket: self.bucket.clone(), key: key.into() }));
        };
        let mut checker = TarballChecker::new(limits);
        // Fed in chunks, as S3 delivers them.
        for chunk in bytes.chunks(64 * 1024) {
            if let Err(source) = checker.feed(chunk) {
                return Ok(Err(ArtifactProblem::BadTarball { key: key.into(), source }));
            }
        }
        Ok(checker
            .finish()
            .map(|summary| CheckedTarball { summary, version: Some(format!("v{version}")), sha256: hex::encode(sha2::Sha256::digest(&bytes)) })
            .map_err(|source| ArtifactProblem::BadTarball { key: key.into(), source }))
    }
}
