//! `aviary deploy <dir>`: checks the canary directory locally (the spec with the server's own
//! validation, both tarballs with the server's streaming checker) so nothing is uploaded when
//! anything is wrong, then deploys it one of two ways, and follows it until it takes traffic
//! (ACTIVE, exit 0) or fails (exit 3):
//!
//! * through the API (default): the idempotency key is a digest of the spec and every file, so
//!   the deployment id is known before anything is sent; when it exists already (the same spec
//!   and files), a re-run just follows it, and any change is a new deployment. Otherwise the compose file and tarballs are uploaded through
//!   presigned URLs (`POST /uploads`) under *content-addressed* names
//!   (`canary-<sha256 prefix>.tar`, the canary tarball last) and `POST /deployments` starts
//!   the deployment with a spec naming those files. `aviary.json` itself is not uploaded: the
//!   S3 trigger only starts a deployment for the canary tarball the prefix's `aviary.json`
//!   names (`canary.tar` when there is none), so these uploads never start a second one, and
//!   a later upload can never overwrite the files a running canary uses.
//! * `--s3-bucket B`: the files go as they are to `s3://B/canaries/<name>/` with the AWS SDK,
//!   `aviary.json` first and the canary tarball last; that upload starts the deployment (the
//!   S3 trigger), whose id follows from the canary tarball's version id.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use aviary_core::ids::{canary_prefix, deployment_id_for_request, deployment_id_for_upload, SPEC_FILE};
use aviary_core::model::{Deployment, Source};
use aviary_core::spec::{parse_and_validate, DeploymentSpec};
use aviary_core::status::Status;
use aviary_docker_save::{check_reader, ImageSummary, Layout, Limits};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

use crate::cli::{ApiArgs, DeployArgs};
use aviary_client::{ApiDeployment, Client, UploadFile, UploadTarget};
use crate::commands::{connect, Ctx};
use crate::error::CliError;
use crate::output::{bytes, interactive, key_values, percent, print_json, weights_table, Progress, ProgressHandle};
use crate::watch::{EventCursor, EventOutput, Follow};

/// One file of the canary directory.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalFile {
    /// The name in the directory (and in the spec).
    pub name: String,
    pub path: PathBuf,
    pub len: u64,
    pub sha256: [u8; 32],
}

impl LocalFile {
    /// The content-addressed name it is uploaded under through the API:
    /// `canary.tar` → `canary-0123456789ab.tar`.
    pub fn addressed_name(&self) -> String {
        let tag = &hex::encode(self.sha256)[..12];
        match self.name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => format!("{stem}-{tag}.{ext}"),
            _ => format!("{}-{tag}", self.name),
        }
    }
}

/// A canary directory that passed every local check.
#[derive(Debug, Clone)]
pub struct CanaryDir {
    pub spec: DeploymentSpec,
    /// The spec as written.
    pub spec_json: serde_json::Value,
    pub spec_file: LocalFile,
    pub compose: LocalFile,
    pub baseline: LocalFile,
    pub canary: LocalFile,
    pub baseline_image: ImageSummary,
    pub canary_image: ImageSummary,
}

impl CanaryDir {
    /// The artifacts in upload order, the canary tarball last.
    pub fn artifacts(&self) -> [&LocalFile; 3] {
        [&self.compose, &self.baseline, &self.canary]
    }

    /// The spec sent to `POST /deployments`: the user's, naming the content-addressed files.
    pub fn api_spec(&self) -> serde_json::Value {
        let mut spec = self.spec_json.clone();
        let artifacts = spec
            .as_object_mut()
            .expect("a valid spec is an object")
            .entry("artifacts")
            .or_insert_with(|| serde_json::json!({}));
        artifacts["baselineTarball"] = self.baseline.addressed_name().into();
        artifacts["canaryTarball"] = self.canary.addressed_name().into();
        artifacts["composeFile"] = self.compose.addressed_name().into();
        spec
    }
}

/// `req-<40 hex digits>`: a digest of everything the deployment is made of — the spec as sent
/// (parsed, so reformatting `aviary.json` changes nothing) and each artifact's sha256. Re-running
/// `aviary deploy` on the same directory returns the same deployment; changing the spec (a new
/// listener, other conditions) or any file is a new deployment, never the old one.
pub fn idempotency_key(c: &CanaryDir) -> String {
    let mut h = Sha256::new();
    h.update(c.api_spec().to_string().as_bytes());
    for f in c.artifacts() {
        h.update(f.sha256);
    }
    format!("req-{}", &hex::encode(h.finalize())[..40])
}

struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

fn open(dir: &Path, name: &str) -> Result<(std::fs::File, PathBuf, u64), CliError> {
    let path = dir.join(name);
    let file = std::fs::File::open(&path).map_err(CliError::read(&path))?;
    let len = file.metadata().map_err(CliError::read(&path))?.len();
    Ok((file, path, len))
}

fn plain_file(dir: &Path, name: &str) -> Result<LocalFile, CliError> {
    let (file, path, len) = open(dir, name)?;
    let mut reader = Hashing { inner: file, hasher: Sha256::new() };
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(CliError::read(&path))?;
    Ok(LocalFile { name: name.to_string(), path, len, sha256: reader.hasher.finalize().into() })
}

fn check_tarball(dir: &Path, name: &str) -> Result<(LocalFile, ImageSummary), CliError> {
    let (file, path, len) = open(dir, name)?;
    let mut reader = Hashing { inner: std::io::BufReader::with_capacity(1 << 20, file), hasher: Sha256::new() };
    let summary = check_reader(&mut reader, Limits::default()).map_err(|source| CliError::Tarball { file: path.display().to_string(), source })?;
    // The checker may stop before the end (trailing zero blocks): hash the rest too.
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(CliError::read(&path))?;
    Ok((LocalFile { name: name.to_string(), path, len, sha256: reader.hasher.finalize().into() }, summary))
}

/// Runs every local check: the spec (same validation as the server), the compose file's
/// presence, and both tarballs through the server's streaming checker.
pub fn load(dir: &Path) -> Result<CanaryDir, CliError> {
    let spec_path = dir.join(SPEC_FILE);
    let spec_bytes = std::fs::read(&spec_path).map_err(CliError::read(&spec_path))?;
    let spec = parse_and_validate(&spec_bytes).map_err(|errors| CliError::InvalidSpec { path: spec_path.display().to_string(), errors })?;
    let spec_json: serde_json::Value = serde_json::from_slice(&spec_bytes).map_err(|e| CliError::Usage(e.to_string()))?;
    let spec_file = LocalFile { name: SPEC_FILE.into(), path: spec_path, len: spec_bytes.len() as u64, sha256: Sha256::digest(&spec_bytes).into() };
    // Every missing file at once, not one per run.
    let a = &spec.artifacts;
    let missing: Vec<&str> = [&a.compose_file, &a.baseline_tarball, &a.canary_tarball]
        .into_iter()
        .filter(|n| !dir.join(n.as_str()).is_file())
        .map(|n| n.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(CliError::Usage(format!(
            "{} is missing {} (named in the spec's artifacts; the defaults are compose.yml, baseline.tar and canary.tar)",
            dir.display(),
            missing.join(", ")
        )));
    }
    let compose = plain_file(dir, &spec.artifacts.compose_file)?;
    let (baseline, baseline_image) = check_tarball(dir, &spec.artifacts.baseline_tarball)?;
    let (canary, canary_image) = check_tarball(dir, &spec.artifacts.canary_tarball)?;
    Ok(CanaryDir { spec, spec_json, spec_file, compose, baseline, canary, baseline_image, canary_image })
}

fn image_text(s: &ImageSummary, len: u64) -> String {
    let layout = match s.layout {
        Layout::Legacy => "legacy",
        Layout::Oci => "OCI",
    };
    let tags = if s.repo_tags.is_empty() { "untagged".to_string() } else { s.repo_tags.join(", ") };
    format!("docker save ({layout}) {tags}, {} layer(s), {}", s.layers, bytes(len))
}

/// What the local checks found, for humans.
pub fn summary(c: &CanaryDir) -> String {
    let s = &c.spec;
    let listener = s.listener_arn.split(":listener/app/").nth(1).unwrap_or(&s.listener_arn);
    key_values(&[
        (SPEC_FILE, format!("valid: {}, {} canary + {} baseline on listener {listener}, app port {}", s.name, percent(s.traffic_percent), percent(s.traffic_percent), s.app_port)),
        (&s.artifacts.compose_file, bytes(c.compose.len)),
        (&s.artifacts.baseline_tarball, image_text(&c.baseline_image, c.baseline.len)),
        (&s.artifacts.canary_tarball, image_text(&c.canary_image, c.canary.len)),
    ])
}

/// An `AsyncRead` that reports every byte read to a progress bar.
struct Counting<R> {
    inner: R,
    progress: ProgressHandle,
}

impl<R: AsyncRead + Unpin> AsyncRead for Counting<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &r {
            self.progress.advance((buf.filled().len() - before) as u64);
        }
        r
    }
}

async fn put_presigned(http: &reqwest::Client, target: &UploadTarget, file: &LocalFile, progress: &Progress) -> Result<(), CliError> {
    if target.content_length.is_some_and(|n| n != file.len) {
        return Err(CliError::Upload { file: file.name.clone(), message: "the file changed size since it was checked".into() });
    }
    let fail = |message: String| CliError::Upload { file: file.name.clone(), message };
    let f = tokio::fs::File::open(&file.path).await.map_err(CliError::read(&file.path))?;
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(Counting { inner: f, progress: progress.handle() }, 256 * 1024));
    let method = reqwest::Method::from_bytes(target.method.to_ascii_uppercase().as_bytes()).map_err(|e| fail(e.to_string()))?;
    let mut req = http.request(method, &target.url).header(reqwest::header::CONTENT_LENGTH, file.len).timeout(Duration::from_secs(3600));
    for (k, v) in &target.headers {
        if !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("host") {
            req = req.header(k.as_str(), v.as_str());
        }
    }
    progress.start_bar(file.len, file.name.clone());
    let resp = req.body(body).send().await.map_err(|e| fail(e.to_string()));
    progress.end_bar();
    let resp = resp?;
    if !resp.status().is_success() {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        return Err(fail(format!("HTTP {status}: {}", text.chars().take(300).collect::<String>())));
    }
    Ok(())
}

/// Uploads the artifacts through presigned URLs under their content-addressed names, the
/// canary tarball last.
async fn upload_presigned(client: &Client, c: &CanaryDir, progress: &Progress, ctx: Ctx) -> Result<(), CliError> {
    let asked: Vec<UploadFile> = c.artifacts().iter().map(|f| UploadFile { file: f.addressed_name(), content_length: f.len }).collect();
    let plan = client.create_uploads(&c.spec.name, &asked).await?;
    for f in c.artifacts() {
        let name = f.addressed_name();
        let target = plan
            .uploads
            .iter()
            .find(|u| u.file == name)
            .ok_or_else(|| CliError::Upload { file: f.name.clone(), message: format!("the API gave no upload URL for {name}") })?;
        put_presigned(client.http(), target, f, progress).await?;
        if !ctx.json {
            progress.println(format!("  uploaded {} as {name} ({})", f.name, bytes(f.len)));
        }
    }
    Ok(())
}

/// Uploads straight to `s3://bucket/canaries/<name>/` (canary tarball last); returns the
/// canary tarball's version id.
async fn upload_s3(c: &CanaryDir, bucket: &str, endpoint: Option<&str>, api: &ApiArgs, progress: &Progress, ctx: Ctx) -> Result<Option<String>, CliError> {
    let config = super::aws_loader(api)?.load().await;
    if config.region().is_none() {
        return Err(CliError::Usage("no AWS region for the S3 upload: pass --region, set AWS_REGION, or name one in your AWS profile".into()));
    }
    let mut s3 = aws_sdk_s3::config::Builder::from(&config);
    if let Some(e) = endpoint {
        s3 = s3.endpoint_url(e).force_path_style(true);
    }
    let s3 = aws_sdk_s3::Client::from_conf(s3.build());
    let prefix = canary_prefix(&c.spec.name);
    let mut version = None;
    for f in [&c.spec_file, &c.compose, &c.baseline, &c.canary] {
        let key = format!("{prefix}{}", f.name);
        progress.set_message(format!("uploading {} ({}) to s3://{bucket}/{key}", f.name, bytes(f.len)));
        let body = aws_sdk_s3::primitives::ByteStream::from_path(&f.path).await.map_err(|e| CliError::Upload { file: f.name.clone(), message: e.to_string() })?;
        let out = s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .body(body)
            .send()
            .await
            .map_err(|e| CliError::Upload { file: f.name.clone(), message: s3_error_text(&e, bucket, &key, endpoint) })?;
        version = out.version_id;
        if !ctx.json {
            progress.println(format!("  uploaded s3://{bucket}/{key} ({})", bytes(f.len)));
        }
    }
    Ok(version)
}

/// One line for a failed S3 upload: what is wrong and what to check (never the raw XML body
/// or the SDK's nested Debug output).
fn s3_error_text<E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: &aws_sdk_s3::error::SdkError<E, R>,
    bucket: &str,
    key: &str,
    endpoint: Option<&str>,
) -> String {
    use aws_sdk_s3::error::SdkError;
    let at = endpoint.map(|e| format!(" at {e}")).unwrap_or_default();
    match e {
        SdkError::ServiceError(s) => match s.err().code() {
            Some("NoSuchBucket") => format!("bucket {bucket} does not exist{at}: pass the stack's ArtifactBucketName output as --s3-bucket (and check --s3-endpoint/--region)"),
            Some("AccessDenied") => format!("access denied writing s3://{bucket}/{key}: your credentials may not upload to this bucket (check --profile and the bucket's policy)"),
            Some(code) => format!("{code}: {}", s.err().message().unwrap_or("no message")),
            None => format!("S3 answered an error without a code{at}: is --s3-endpoint an S3 endpoint?"),
        },
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => format!("cannot reach S3{at}: check --s3-endpoint, the network and --region"),
        SdkError::ConstructionFailure(_) => "cannot build the S3 request: set a region (--region or AWS_REGION) and credentials (--profile or AWS_ACCESS_KEY_ID)".into(),
        other => {
            let text = aws_sdk_s3::error::DisplayErrorContext(other).to_string();
            text.lines().next().unwrap_or("S3 upload failed").chars().take(300).collect()
        }
    }
}

/// The canary tarball upload that should start a deployment.
pub struct UploadedCanary<'a> {
    pub name: &'a str,
    pub key: &'a str,
    pub version: Option<&'a str>,
    /// The id the trigger gives it when it sees the same version id.
    pub expected: Option<&'a str>,
    /// Unix seconds just before the uploads began.
    pub since: i64,
}

/// Whether a deployment is the one this upload started: same object version, or (when the
/// notification carried no version id, as on some emulators) created from that key since.
pub fn started_by(d: &Deployment, u: &UploadedCanary) -> bool {
    match &d.source {
        Source::S3 { key, version, .. } if d.name == u.name && key == u.key => {
            u.version.is_some_and(|v| v == version) || d.created_at >= u.since - 1
        }
        _ => false,
    }
}

/// Waits for the deployment the S3 trigger starts: by its expected id, else by looking at the
/// newest deployments.
async fn find_s3_deployment(client: &Client, u: &UploadedCanary<'_>, poll: Duration, timeout: Duration) -> Result<String, CliError> {
    let start = std::time::Instant::now();
    loop {
        if let Some(id) = u.expected {
            match client.get(id).await {
                Ok(d) => return Ok(d.id.clone()),
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let page = client.list(None, 20, None).await?;
        if let Some(d) = page.items.iter().find(|d| started_by(d, u)) {
            return Ok(d.id.clone());
        }
        if start.elapsed() >= timeout {
            return Err(CliError::Timeout {
                id: u.expected.unwrap_or("(unknown)").to_string(),
                status: "not started by the upload".into(),
                secs: timeout.as_secs(),
            });
        }
        tokio::time::sleep(poll).await;
    }
}

pub async fn run(args: DeployArgs, outer: &ApiArgs, ctx: Ctx) -> Result<u8, CliError> {
    let api = args.api.or(outer);
    let c = load(&args.dir)?;
    // `--stack`: the endpoint is known before anything is uploaded (it decides whether to wait).
    let api = crate::stack::resolve(api).await?;
    if !ctx.json {
        println!("checked {}", args.dir.display());
        print!("{}", summary(&c));
    }
    let mut progress = Progress::new(!ctx.json && interactive());
    let key = args.idempotency_key.clone().unwrap_or_else(|| idempotency_key(&c));

    let (client, id) = match &args.s3_bucket {
        Some(bucket) => {
            if !ctx.json {
                progress.println(format!("uploading to s3://{bucket}/{} (the canary tarball last: it starts the deployment)", canary_prefix(&c.spec.name)));
            }
            let started = crate::output::now_secs();
            let version = upload_s3(&c, bucket, args.s3_endpoint.as_deref(), &api, &progress, ctx).await?;
            let canary_key = format!("{}{}", canary_prefix(&c.spec.name), c.spec.artifacts.canary_tarball);
            // The S3 trigger names the deployment after the object version it was told about.
            let expected = version.as_deref().map(|v| deployment_id_for_upload(&c.spec.name, bucket, &canary_key, v));
            if api.endpoint.is_none() || args.no_wait {
                progress.finish();
                match &expected {
                    Some(id) if ctx.json => print_json(&serde_json::json!({"id": id, "bucket": bucket, "key": canary_key, "version": version})),
                    Some(id) => println!("deployment {id} starts from the upload; follow it with `aviary events {id} --follow`"),
                    None => println!("uploaded; the bucket has no versioning, so the deployment id is not known here: find it with `aviary ls`"),
                }
                return Ok(0);
            }
            let client = connect(&api).await?;
            progress.set_message("waiting for the S3 trigger to start the deployment");
            let wanted = UploadedCanary { name: &c.spec.name, key: &canary_key, version: version.as_deref(), expected: expected.as_deref(), since: started };
            let id = find_s3_deployment(&client, &wanted, Duration::from_millis(args.wait.poll_ms), Duration::from_secs(args.wait.timeout.min(300))).await?;
            if !ctx.json {
                progress.println(format!("deployment {id} started from the upload"));
            }
            (client, id)
        }
        None => {
            let client = connect(&api).await?;
            check_listener(&client, &c.spec.listener_arn).await?;
            let id = deployment_id_for_request(&c.spec.name, &key);
            let existing = match client.get(&id).await {
                Ok(d) => Some(d),
                Err(e) if e.status() == Some(404) => None,
                Err(e) => return Err(e.into()),
            };
            let d = match existing {
                Some(d) => {
                    if !ctx.json {
                        progress.println(format!("deployment {} already exists for this spec and these files (idempotency key {key}): {}", d.id, d.status));
                    }
                    d
                }
                None => {
                    if !ctx.json {
                        progress.println(format!("uploading {} files through {}", c.artifacts().len(), client.base()));
                    }
                    upload_presigned(&client, &c, &progress, ctx).await?;
                    progress.set_message("creating the deployment");
                    let (d, created) = client.create_deployment(&c.api_spec(), &key).await?;
                    if !ctx.json {
                        let how = if created { "created" } else { "already existed" };
                        progress.println(format!("deployment {} {how} (idempotency key {key})", d.id));
                    }
                    d
                }
            };
            if d.status.is_final() && d.status != Status::Rejected {
                progress.finish();
                return Err(CliError::Usage(format!(
                    "this canary tarball was deployed before as {} and that deployment is {}; pass --idempotency-key <new key> to deploy it again",
                    d.id, d.status
                )));
            }
            if args.no_wait {
                progress.finish();
                if ctx.json {
                    print_json(&d);
                } else {
                    println!("follow it with `aviary events {} --follow`", d.id);
                }
                return Ok(0);
            }
            (client, d.id.clone())
        }
    };

    let follow = Follow {
        client: &client,
        id: &id,
        events: if ctx.json { EventOutput::Hidden } else { EventOutput::Lines },
        poll: Duration::from_millis(args.wait.poll_ms),
        timeout: Duration::from_secs(args.wait.timeout),
        waiting_for: "ACTIVE",
    };
    let d = follow.until(&mut EventCursor::default(), &progress, |d| d.status == Status::Active || d.status.is_final()).await?;
    progress.finish();
    finish(d, ctx)
}

/// Refuses before any upload when the installation cannot see the spec's listener (a typo,
/// another region or account), naming the listeners it can see.
async fn check_listener(client: &Client, listener_arn: &str) -> Result<(), CliError> {
    let env = client.environment().await?;
    let known = listener_arns(&env);
    if known.iter().any(|l| l == listener_arn) {
        return Ok(());
    }
    let seen = if known.is_empty() { "it sees no listeners".to_string() } else { format!("it sees {}", known.join(", ")) };
    Err(CliError::Usage(format!(
        "listenerArn {listener_arn} is not a listener this installation can see ({seen}); nothing was uploaded. `aviary env` lists load balancers, listeners and their rules"
    )))
}

fn listener_arns(env: &serde_json::Value) -> Vec<String> {
    let empty = Vec::new();
    env["loadBalancers"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .flat_map(|lb| lb["listeners"].as_array().unwrap_or(&empty).iter())
        .filter_map(|l| l["listenerArn"].as_str().map(str::to_string))
        .collect()
}

fn finish(d: ApiDeployment, ctx: Ctx) -> Result<u8, CliError> {
    if d.status != Status::Active {
        let reason = d.failure_reason.clone().or(d.status_reason.clone()).unwrap_or_else(|| "no reason recorded".into());
        if ctx.json {
            print_json(&d);
        }
        return Err(CliError::DeploymentFailed { id: d.id.clone(), status: d.status.to_string(), reason });
    }
    if ctx.json {
        print_json(&d);
        return Ok(0);
    }
    println!("\n{} is ACTIVE: the canary takes traffic", d.id);
    if let Some(w) = &d.weights {
        print!("{}", weights_table(w));
    }
    if let Some(m) = &d.monitoring {
        println!("grafana {}  prometheus {}  referee {}  kayenta {}", m.grafana, m.prometheus, m.referee, m.kayenta);
    }
    println!("next: aviary status {id} | aviary traffic {id} --percent N | aviary destroy {id} --wait", id = d.id);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aviary_docker_save::{build_image, BuildOptions};

    pub(crate) fn write_dir(dir: &Path, spec: serde_json::Value) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("aviary.json"), serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
        std::fs::write(dir.join("baseline.tar"), build_image(&BuildOptions::new(Layout::Legacy, "app:1.0"))).unwrap();
        std::fs::write(dir.join("canary.tar"), build_image(&BuildOptions::new(Layout::Oci, "app:1.1"))).unwrap();
        std::fs::write(dir.join("compose.yml"), "services: {}\n").unwrap();
    }

    pub(crate) fn valid_spec() -> serde_json::Value {
        serde_json::json!({
            "name": "web",
            "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/prod/1/2",
            "trafficPercent": 5, "appPort": 8080
        })
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("aviary-cli-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn key_changes_with_the_spec_or_any_file_and_not_with_formatting() {
        let a = tmp("key-a");
        let b = tmp("key-b");
        write_dir(&a, valid_spec());
        write_dir(&b, valid_spec());
        let (ca, cb) = (load(&a).unwrap(), load(&b).unwrap());
        let expected: [u8; 32] = Sha256::digest(std::fs::read(a.join("canary.tar")).unwrap()).into();
        assert_eq!(ca.canary.sha256, expected);
        let key = idempotency_key(&ca);
        assert_eq!(key, idempotency_key(&cb), "the same directory contents, the same key");
        assert!(key.starts_with("req-") && key.len() == 44, "{key}");
        // Reformatted, the same spec: the same key.
        std::fs::write(b.join("aviary.json"), serde_json::to_string_pretty(&valid_spec()).unwrap()).unwrap();
        assert_eq!(idempotency_key(&load(&b).unwrap()), key);
        // Another share (same tarball): a new key, so a new deployment, never the old one.
        let mut other = valid_spec();
        other["trafficPercent"] = 10.into();
        std::fs::write(b.join("aviary.json"), other.to_string()).unwrap();
        assert_ne!(idempotency_key(&load(&b).unwrap()), key);
        write_dir(&b, valid_spec());
        std::fs::write(b.join("canary.tar"), build_image(&BuildOptions::new(Layout::Oci, "app:1.2"))).unwrap();
        assert_ne!(idempotency_key(&load(&b).unwrap()), key);
        write_dir(&b, valid_spec());
        std::fs::write(b.join("compose.yml"), "services:\n  app:\n    image: ${AVIARY_IMAGE}\n    restart: always\n").unwrap();
        assert_ne!(idempotency_key(&load(&b).unwrap()), key);
        let s = summary(&ca);
        assert!(s.contains("valid: web, 5% canary") && s.contains("app:1.1"), "{s}");
    }

    #[test]
    fn api_uploads_are_content_addressed_and_the_spec_names_them() {
        let d = tmp("addressed");
        let mut spec = valid_spec();
        spec["artifacts"] = serde_json::json!({"composeFile": "docker-compose.yaml"});
        write_dir(&d, spec);
        std::fs::rename(d.join("compose.yml"), d.join("docker-compose.yaml")).unwrap();
        let c = load(&d).unwrap();
        let tag = |f: &LocalFile| hex::encode(f.sha256)[..12].to_string();
        let names: Vec<String> = c.artifacts().iter().map(|f| f.addressed_name()).collect();
        assert_eq!(
            names,
            vec![
                format!("docker-compose-{}.yaml", tag(&c.compose)),
                format!("baseline-{}.tar", tag(&c.baseline)),
                format!("canary-{}.tar", tag(&c.canary)),
            ],
            "canary tarball last"
        );
        let api = c.api_spec();
        assert_eq!(api["artifacts"]["canaryTarball"], names[2].as_str());
        assert_eq!(api["artifacts"]["composeFile"], names[0].as_str());
        assert_eq!(api["trafficPercent"], 5);
        // The server's validation accepts what we send.
        assert!(parse_and_validate(api.to_string().as_bytes()).is_ok());
        // None of them is the name the S3 trigger starts deployments for.
        assert!(names.iter().all(|n| n != "canary.tar"));
    }

    #[test]
    fn s3_deployments_are_matched_by_version_or_time() {
        let mut d = crate::commands::show::tests::sample(Status::Pending);
        d.source = Source::S3 { bucket: "b".into(), key: "canaries/web/canary.tar".into(), version: "v2".into() };
        d.created_at = 100;
        let u = |version, since| UploadedCanary { name: "web", key: "canaries/web/canary.tar", version, expected: None, since };
        assert!(started_by(&d, &u(Some("v2"), 500)), "same version");
        assert!(started_by(&d, &u(None, 100)), "no version: created since the upload");
        assert!(!started_by(&d, &u(Some("v1"), 500)), "another version, older");
        assert!(!started_by(&d, &u(None, 200)), "created before the upload");
        d.source = Source::Api { idempotency_key: "k".into() };
        assert!(!started_by(&d, &u(Some("v2"), 0)));
    }

    #[test]
    fn a_deployment_that_ends_without_traffic_exits_3_with_its_reason() {
        let mut d = crate::commands::show::tests::sample(Status::Failed);
        d.failure_reason = Some("canary target group unhealthy".into());
        let api = ApiDeployment { deployment: d, extra: Default::default() };
        let e = finish(api.clone(), Ctx { json: false, output: None }).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("is FAILED: canary target group unhealthy"), "{e}");
        let mut active = api;
        active.deployment.status = Status::Active;
        assert_eq!(finish(active, Ctx { json: true, output: Some(crate::cli::OutputFormat::Json) }).unwrap(), 0);
    }

    #[test]
    fn invalid_spec_lists_every_field() {
        let d = tmp("bad-spec");
        let mut spec = valid_spec();
        spec["trafficPercent"] = 75.into();
        spec["name"] = "Not Valid".into();
        write_dir(&d, spec);
        let e = load(&d).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        let text = e.to_string();
        assert!(text.contains("  name: ") && text.contains("  trafficPercent: "), "{text}");
    }

    #[test]
    fn bad_tarball_and_missing_files_are_usage_errors() {
        let d = tmp("bad-tar");
        write_dir(&d, valid_spec());
        std::fs::write(d.join("canary.tar"), b"not a tarball at all").unwrap();
        let e = load(&d).unwrap_err();
        assert!(matches!(e, CliError::Tarball { .. }), "{e:?}");
        assert_eq!(e.exit_code(), 1);
        write_dir(&d, valid_spec());
        std::fs::remove_file(d.join("compose.yml")).unwrap();
        let e = load(&d).unwrap_err();
        assert!(e.to_string().contains("missing compose.yml"), "{e}");
        assert_eq!(e.exit_code(), 1);
        // Every missing file in one message.
        std::fs::remove_file(d.join("canary.tar")).unwrap();
        std::fs::remove_file(d.join("baseline.tar")).unwrap();
        let e = load(&d).unwrap_err();
        assert!(e.to_string().contains("missing compose.yml, baseline.tar, canary.tar"), "{e}");
    }

    #[test]
    fn s3_errors_are_one_line_saying_what_to_check() {
        use aws_sdk_s3::error::{ErrorMetadata, SdkError};
        use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
        use aws_smithy_runtime_api::http::StatusCode;
        let err = |code: Option<&str>| {
            let mut m = ErrorMetadata::builder().message("The specified bucket does not exist");
            if let Some(c) = code {
                m = m.code(c);
            }
            SdkError::<ErrorMetadata, HttpResponse>::service_error(m.build(), HttpResponse::new(StatusCode::try_from(404).unwrap(), aws_smithy_types::body::SdkBody::empty()))
        };
        let t = s3_error_text(&err(Some("NoSuchBucket")), "wrong", "canaries/web/aviary.json", Some("http://127.0.0.1:9000"));
        assert_eq!(t, "bucket wrong does not exist at http://127.0.0.1:9000: pass the stack's ArtifactBucketName output as --s3-bucket (and check --s3-endpoint/--region)");
        assert!(s3_error_text(&err(Some("AccessDenied")), "b", "k", None).starts_with("access denied writing s3://b/k"));
        assert_eq!(s3_error_text(&err(Some("SlowDown")), "b", "k", None), "SlowDown: The specified bucket does not exist");
        assert!(s3_error_text(&err(None), "b", "k", Some("http://x")).contains("is --s3-endpoint an S3 endpoint?"));
        for code in [Some("NoSuchBucket"), Some("AccessDenied"), None] {
            assert_eq!(s3_error_text(&err(code), "b", "k", None).lines().count(), 1);
        }
    }

    #[test]
    fn listener_arns_are_read_from_every_load_balancer() {
        let env = serde_json::json!({"loadBalancers": [
            {"listeners": [{"listenerArn": "arn:a"}, {"listenerArn": "arn:b"}]},
            {"listeners": []},
            {"listeners": [{"listenerArn": "arn:c"}]}
        ]});
        assert_eq!(listener_arns(&env), vec!["arn:a", "arn:b", "arn:c"]);
        assert!(listener_arns(&serde_json::json!({})).is_empty());
    }
}
