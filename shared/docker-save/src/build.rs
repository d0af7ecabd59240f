//! Builds valid `docker save` archives in memory, for tests and the local demo: one image with
//! one uncompressed layer holding the given files, a config whose `rootfs.diff_ids` is the
//! layer's sha256, and the manifest files of the chosen layout. Output is deterministic (all
//! timestamps are the epoch).

use serde_json::json;
use sha2::{Digest, Sha256};

use super::write::TarWriter;
use super::Layout;

/// One file in the image's layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerFile {
    /// Path inside the image, e.g. `app/run.sh` (a leading `/` is ignored).
    pub path: String,
    pub contents: Vec<u8>,
    /// Unix permissions, e.g. `0o755`.
    pub mode: u32,
}

/// What to put in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    pub layout: Layout,
    /// `name:tag`, e.g. `sample-app:canary`.
    pub repo_tag: String,
    pub files: Vec<LayerFile>,
    pub entrypoint: Vec<String>,
    /// `KEY=value` entries.
    pub env: Vec<String>,
    /// GOARCH-style, e.g. `amd64` or `arm64`.
    pub architecture: String,
}

impl BuildOptions {
    /// An image holding a small shell script at `/app/hello.sh` as its entrypoint. Replace
    /// `files` and `entrypoint` for anything else (the image has no shell of its own).
    pub fn new(layout: Layout, repo_tag: impl Into<String>) -> Self {
        BuildOptions {
            layout,
            repo_tag: repo_tag.into(),
            files: vec![LayerFile {
                path: "app/hello.sh".into(),
                contents: b"#!/bin/sh\necho hello from aviary\n".to_vec(),
                mode: 0o755,
            }],
            entrypoint: vec!["/app/hello.sh".into()],
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            architecture: "amd64".into(),
        }
    }
}

const EPOCH: &str = "1970-01-01T00:00:00Z";
const MEDIA_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn to_json(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("a serde_json::Value always serialises")
}

/// Builds a `docker save` tarball for `opts`.
pub fn build_image(opts: &BuildOptions) -> Vec<u8> {
    let layer = layer_tar(&opts.files);
    let layer_hex = sha256_hex(&layer);
    let config = to_json(&json!({
        "architecture": opts.architecture,
        "os": "linux",
        "created": EPOCH,
        "config": { "Env": opts.env, "Entrypoint": opts.entrypoint },
        "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{layer_hex}")] },
        "history": [{ "created": EPOCH, "created_by": "aviary build_image" }],
    }));
    let config_hex = sha256_hex(&config);
    let (name, tag) = split_tag(&opts.repo_tag);
    match opts.layout {
        Layout::Legacy => legacy(opts, &layer, &layer_hex, &config, &config_hex, name, tag),
        Layout::Oci => oci(opts, &layer, &layer_hex, &config, &config_hex, name, tag),
    }
}

/// A layer tar with each file's parent directories before it.
fn layer_tar(files: &[LayerFile]) -> Vec<u8> {
    let mut tar = TarWriter::new();
    let mut dirs: Vec<String> = Vec::new();
    for file in files {
        let path = file.path.trim_start_matches('/');
        let mut parent = String::new();
        for component in path.split('/').take(path.split('/').count().saturating_sub(1)) {
            parent.push_str(component);
            parent.push('/');
            if !dirs.contains(&parent) {
                tar.dir(&parent);
                dirs.push(parent.clone());
            }
        }
        tar.file(path, file.mode, &file.contents);
    }
    tar.finish()
}

/// `name:tag` → (`name`, `tag`), with `latest` when there is no tag.
fn split_tag(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (reference, "latest"),
    }
}

fn legacy(opts: &BuildOptions, layer: &[u8], layer_hex: &str, config: &[u8], config_hex: &str, name: &str, tag: &str) -> Vec<u8> {
    // Docker derives v1 layer ids from the chain; any stable 64-hex id loads the same way.
    let id = sha256_hex(format!("{layer_hex} {config_hex}").as_bytes());
    let v1 = to_json(&json!({ "id": id, "created": EPOCH, "os": "linux", "architecture": opts.architecture }));
    let manifest = to_json(&json!([{
        "Config": format!("{config_hex}.json"),
        "RepoTags": [opts.repo_tag],
        "Layers": [format!("{id}/layer.tar")],
    }]));
    let repositories = to_json(&json!({ name: { tag: id } }));
    let mut tar = TarWriter::new();
    tar.dir(&id);
    tar.file(&format!("{id}/VERSION"), 0o644, b"1.0");
    tar.file(&format!("{id}/json"), 0o644, &v1);
    tar.file(&format!("{id}/layer.tar"), 0o644, layer);
    tar.file(&format!("{config_hex}.json"), 0o644, config);
    tar.file("manifest.json", 0o644, &manifest);
    tar.file("repositories", 0o644, &repositories);
    tar.finish()
}

fn oci(opts: &BuildOptions, layer: &[u8], layer_hex: &str, config: &[u8], config_hex: &str, name: &str, tag: &str) -> Vec<u8> {
    let image_manifest = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": format!("sha256:{config_hex}"),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": format!("sha256:{layer_hex}"),
            "size": layer.len(),
        }],
    }));
    let manifest_hex = sha256_hex(&image_manifest);
    let index = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": MEDIA_MANIFEST,
            "digest": format!("sha256:{manifest_hex}"),
            "size": image_manifest.len(),
            "annotations": {
                "io.containerd.image.name": containerd_name(name, tag),
                "org.opencontainers.image.ref.name": tag,
            },
        }],
    }));
    let manifest = to_json(&json!([{
        "Config": format!("blobs/sha256/{config_hex}"),
        "RepoTags": [opts.repo_tag],
        "Layers": [format!("blobs/sha256/{layer_hex}")],
    }]));
    let repositories = to_json(&json!({ name: { tag: layer_hex } }));
    let mut blobs: Vec<(&str, &[u8])> =
        vec![(layer_hex, layer), (config_hex, config), (&manifest_hex, &image_manifest)];
    blobs.sort();
    let mut tar = TarWriter::new();
    tar.dir("blobs");
    tar.dir("blobs/sha256");
    for (hex, bytes) in blobs {
        tar.file(&format!("blobs/sha256/{hex}"), 0o444, bytes);
    }
    tar.file("index.json", 0o644, &index);
    tar.file("manifest.json", 0o644, &manifest);
    tar.file("oci-layout", 0o444, br#"{"imageLayoutVersion":"1.0.0"}"#);
    tar.file("repositories", 0o644, &repositories);
    tar.finish()
}

/// The fully qualified name containerd records, e.g. `docker.io/library/app:tag`.
fn containerd_name(name: &str, tag: &str) -> String {
    let first = name.split('/').next().unwrap_or(name);
    let has_host = name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_host {
        format!("{name}:{tag}")
    } else if name.contains('/') {
        format!("docker.io/{name}:{tag}")
    } else {
        format!("docker.io/library/{name}:{tag}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containerd_names_are_fully_qualified() {
        assert_eq!(containerd_name("sample-app", "canary"), "docker.io/library/sample-app:canary");
        assert_eq!(containerd_name("team/app", "v1"), "docker.io/team/app:v1");
        assert_eq!(containerd_name("reg.example:5000/app", "v1"), "reg.example:5000/app:v1");
    }

    #[test]
    fn split_tag_defaults_to_latest() {
        assert_eq!(split_tag("sample-app:canary"), ("sample-app", "canary"));
        assert_eq!(split_tag("localhost:5000/app"), ("localhost:5000/app", "latest"));
    }

    #[test]
    fn output_is_deterministic() {
        let opts = BuildOptions::new(Layout::Oci, "sample-app:canary");
        assert_eq!(build_image(&opts), build_image(&opts));
    }
}
