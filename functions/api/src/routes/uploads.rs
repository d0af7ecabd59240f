//! `POST /uploads`: presigned S3 PUT URLs for a canary's artifacts under `canaries/<name>/`,
//! so a client with API access but no S3 permissions can upload. Each URL is valid for 15
//! minutes and has the declared `Content-Length` in its signature, so S3 refuses a body of
//! another size; each kind of file has a size cap (`aviary.json`, `*.tar` images, and any
//! other plain name — the compose file, which the spec may name freely). Uploading the canary tarball starts the
//! deployment (the S3 trigger), so it must be the last upload.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aviary_core::clock::rfc3339_ms;
use aviary_core::ids::{canary_prefix, SPEC_FILE};
use aviary_core::spec::{is_valid_name, FieldError};
use axum::extract::State;
use serde::{Deserialize, Serialize};

use aviary_core::ownership::NotOwner;

use crate::context::Invocation;
use crate::error::ApiError;
use crate::extract::{Body, QueryPairs};
use crate::reply::Reply;
use crate::state::ApiState;
use crate::validation::{json_body, shorten, Query};

pub const UPLOAD_EXPIRY_SECS: u64 = 15 * 60;
/// The S3 trigger reads at most this much of `aviary.json`.
pub const MAX_SPEC_BYTES: u64 = 256 * 1024;
/// A single S3 PUT takes at most 5 GiB.
pub const MAX_TARBALL_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// Compose files.
pub const MAX_TEXT_ARTIFACT_BYTES: u64 = 1024 * 1024;
const MAX_FILES: usize = 10;
const DEFAULT_CANARY_TARBALL: &str = "canary.tar";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UploadRequest {
    name: String,
    files: Vec<UploadFile>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UploadFile {
    file: String,
    content_length: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Spec,
    Tarball,
    Compose,
}

impl Kind {
    fn of(file: &str) -> Option<Kind> {
        let plain = !file.is_empty()
            && file.len() <= 128
            && file != "."
            && file != ".."
            && file.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !plain {
            return None;
        }
        if file == SPEC_FILE {
            Some(Kind::Spec)
        } else if file.ends_with(".tar") {
            Some(Kind::Tarball)
        } else {
            // The spec lets the compose file have any plain name.
            Some(Kind::Compose)
        }
    }

    fn max(self) -> u64 {
        match self {
            Kind::Spec => MAX_SPEC_BYTES,
            Kind::Tarball => MAX_TARBALL_BYTES,
            Kind::Compose => MAX_TEXT_ARTIFACT_BYTES,
        }
    }

    /// Upload order: the spec first, tarballs last (the canary tarball last of all).
    fn rank(self, file: &str) -> u8 {
        match self {
            Kind::Spec => 0,
            Kind::Compose => 1,
            Kind::Tarball if file == DEFAULT_CANARY_TARBALL => 3,
            Kind::Tarball => 2,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadGrant {
    pub file: String,
    pub key: String,
    pub method: String,
    pub url: String,
    /// Headers the PUT must carry exactly (they are part of the signature).
    pub headers: std::collections::BTreeMap<String, String>,
    pub content_length: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadPlan {
    pub name: String,
    pub bucket: String,
    pub prefix: String,
    /// RFC 3339; the URLs stop working then.
    pub expires_at: String,
    /// In the order to upload them.
    pub uploads: Vec<UploadGrant>,
    pub instructions: String,
}

fn validate(body: &UploadRequest) -> Result<Vec<(usize, Kind)>, ApiError> {
    let mut errors = Vec::new();
    if !is_valid_name(&body.name) {
        errors.push(FieldError::new("name", "must be 1-32 characters of lowercase letters, digits and '-', starting with a letter"));
    }
    if body.files.is_empty() || body.files.len() > MAX_FILES {
        errors.push(FieldError::new("files", format!("name 1 to {MAX_FILES} files")));
    }
    let mut kinds = Vec::new();
    for (i, f) in body.files.iter().enumerate() {
        match Kind::of(&f.file) {
            None => errors.push(FieldError::new(
                format!("files[{i}].file"),
                format!("'{}' is not an artifact name: a plain file name of letters, digits, '.', '-' and '_' (aviary.json, a .tar image, the compose file)", shorten(&f.file)),
            )),
            Some(k) => {
                if f.content_length == 0 || f.content_length > k.max() {
                    errors.push(FieldError::new(
                        format!("files[{i}].contentLength"),
                        format!("must be 1 to {} bytes for {}, got {}", k.max(), f.file, f.content_length),
                    ));
                }
                kinds.push((i, k));
            }
        }
        if body.files[..i].iter().any(|g| g.file == f.file) {
            errors.push(FieldError::new(format!("files[{i}].file"), format!("{} is listed twice", shorten(&f.file))));
        }
    }
    if errors.is_empty() {
        Ok(kinds)
    } else {
        Err(ApiError::Validation(errors))
    }
}

pub async fn create(State(state): State<ApiState>, who: Invocation, QueryPairs(q): QueryPairs, Body(body): Body) -> Result<Reply, ApiError> {
    Query::parse(&q, &[])?;
    let body: UploadRequest = json_body(&body)?;
    let mut kinds = validate(&body)?;
    let presigner = &state.uploads;
    let bucket = presigner.bucket()?.to_string();
    let caller = claim_name(&state, &who, &body.name).await?;
    let prefix = canary_prefix(&body.name);
    // The signature is made with the system time S3 checks against, not the core's clock.
    let now = SystemTime::now();
    kinds.sort_by_key(|(i, k)| (k.rank(&body.files[*i].file), *i));
    let mut uploads = Vec::new();
    for (i, _) in kinds {
        let f = &body.files[i];
        let key = format!("{prefix}{}", f.file);
        let content_length = i64::try_from(f.content_length).map_err(|_| ApiError::field(format!("files[{i}].contentLength"), "too large"))?;
        let put = presigner.put(&key, content_length, &caller, now, Duration::from_secs(UPLOAD_EXPIRY_SECS)).await?;
        uploads.push(UploadGrant { file: f.file.clone(), key, method: put.method, url: put.url, headers: put.headers, content_length: f.content_length });
    }
    let expires_ms = now.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0) + (UPLOAD_EXPIRY_SECS as i64) * 1000;
    Ok(Reply::ok(&UploadPlan {
        name: body.name,
        bucket,
        prefix,
        expires_at: rfc3339_ms(expires_ms),
        uploads,
        instructions: "PUT each file to its url with exactly the listed headers, in the order given. Upload the canary \
                       tarball last: once aviary.json is in place, its upload starts the deployment."
            .into(),
    }))
}

/// Uploads go under a canary name only for its owner (the first principal to use it) or an
/// operator; the first caller claims an unowned name. Returns the caller.
async fn claim_name(state: &ApiState, who: &Invocation, name: &str) -> Result<String, ApiError> {
    let what = format!("canary name '{name}'");
    let Some(caller) = who.caller.clone() else {
        return Err(NotOwner::Unidentified { what }.into());
    };
    let ownership = state.ports.settings.guardrails()?.ownership.clone();
    if ownership.is_operator(&caller) {
        return Ok(caller);
    }
    let store = &state.ports.store;
    let owner = match store.name_owner(name).await? {
        Some(owner) => owner,
        None => store.claim_name(name, &caller).await?,
    };
    ownership.authorize(&what, Some(&owner), Some(&caller))?;
    Ok(caller)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> UploadRequest {
        serde_json::from_value(json).unwrap()
    }

    fn fields(r: Result<Vec<(usize, Kind)>, ApiError>) -> Vec<String> {
        match r {
            Err(ApiError::Validation(f)) => f.into_iter().map(|f| f.field).collect(),
            Ok(_) => vec![],
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn artifact_names_are_classified() {
        assert_eq!(Kind::of("aviary.json"), Some(Kind::Spec));
        assert_eq!(Kind::of("canary.tar"), Some(Kind::Tarball));
        assert_eq!(Kind::of("compose.yml"), Some(Kind::Compose));
        assert_eq!(Kind::of("docker-compose.prod.yaml"), Some(Kind::Compose));
        assert_eq!(Kind::of("compose-0123456789ab"), Some(Kind::Compose));
        assert_eq!(Kind::of("canary-0123456789ab.tar"), Some(Kind::Tarball));
        for bad in ["", ".", "..", "../canary.tar", "a/b.tar", "evil name.tar", "tab\t.yml", "ä.yml", &"a".repeat(130)] {
            assert_eq!(Kind::of(bad), None, "{bad}");
        }
    }

    #[test]
    fn sizes_are_capped_per_kind() {
        let ok = body(serde_json::json!({"name": "web", "files": [
            {"file": "aviary.json", "contentLength": MAX_SPEC_BYTES},
            {"file": "canary.tar", "contentLength": MAX_TARBALL_BYTES},
            {"file": "compose.yml", "contentLength": 10}
        ]}));
        assert!(validate(&ok).is_ok());
        let bad = body(serde_json::json!({"name": "Web", "files": [
            {"file": "aviary.json", "contentLength": MAX_SPEC_BYTES + 1},
            {"file": "canary.tar", "contentLength": MAX_TARBALL_BYTES + 1},
            {"file": "compose.yml", "contentLength": 0},
            {"file": "../x.yml", "contentLength": 1},
            {"file": "compose.yml", "contentLength": 1}
        ]}));
        assert_eq!(
            fields(validate(&bad)),
            vec!["name", "files[0].contentLength", "files[1].contentLength", "files[2].contentLength", "files[3].file", "files[4].file"]
        );
        assert_eq!(fields(validate(&body(serde_json::json!({"name": "web", "files": []})))), vec!["files"]);
    }

    #[test]
    fn the_canary_tarball_goes_last() {
        let mut v = [(Kind::Tarball, "canary.tar"), (Kind::Compose, "compose.yml"), (Kind::Tarball, "baseline.tar"), (Kind::Spec, "aviary.json")];
        v.sort_by_key(|(k, f)| k.rank(f));
        assert_eq!(v.iter().map(|x| x.1).collect::<Vec<_>>(), vec!["aviary.json", "compose.yml", "baseline.tar", "canary.tar"]);
    }
}
