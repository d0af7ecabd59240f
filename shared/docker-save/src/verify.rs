//! Whole-archive checks once every entry has been seen: `manifest.json` describes one image,
//! everything it references is present (through at most one allowed layer link), the config
//! agrees with the layers, and the layout's own files are well formed.
//!
//! Only what `manifest.json` references must be present: with the containerd store,
//! `index.json` may name a nested index and other platforms' blobs that were not saved. An
//! archive without `manifest.json` (`podman save --format oci-archive`) is read from
//! `index.json`: it must name exactly one image manifest, whose config and layers are then
//! checked the same way.

use serde_json::{Map, Value};

use super::check::{ConfigInfo, FileRecord, Inventory, Record, TarballChecker};
use super::names::{self, Name};
use super::{ImageSummary, Layout, TarballError};

/// The one image `manifest.json` describes.
#[derive(Debug)]
struct ManifestImage {
    config: String,
    repo_tags: Vec<String>,
    layers: Vec<String>,
}

/// The keys Docker reads. Go matches JSON keys case-insensitively — with Unicode simple case
/// folding, so `ſ` (U+017F) reads as `s` and `K` (U+212A) as `k` — and `config` or `Layerſ`
/// would be read as `Config` / `Layers` by `docker load` but ignored here: such keys are refused.
const MANIFEST_KEYS: [&str; 5] = ["Config", "RepoTags", "Layers", "Parent", "LayerSources"];

impl TarballChecker {
    /// Ends the archive and runs the whole-archive checks.
    pub fn finish(self) -> Result<ImageSummary, TarballError> {
        let (inventory, total_bytes) = self.into_inventory()?;
        verify(inventory, total_bytes)
    }
}

fn verify(inventory: Inventory, total_bytes: u64) -> Result<ImageSummary, TarballError> {
    let image = match (&inventory.manifest, &inventory.index) {
        (Some(manifest), _) => parse_manifest(manifest)?,
        (None, Some(_)) => image_from_index(&inventory)?,
        (None, None) => return Err(TarballError::MissingManifest),
    };

    let config_path = reference(&image.config)?;
    let config = find_file(&inventory, &config_path)?;
    if !matches!(config.name, Name::LegacyConfig | Name::DigestConfig | Name::Blob) {
        return Err(TarballError::invalid_manifest(format!("`Config` is `{config_path}`, which is not an image config file")));
    }
    let mut layers = Vec::with_capacity(image.layers.len());
    for layer in &image.layers {
        let path = reference(layer)?;
        let (path, file) = find_layer(&inventory, path)?;
        if !matches!(file.name, Name::LegacyLayer | Name::RootLayer | Name::Blob) {
            return Err(TarballError::invalid_manifest(format!("layer `{path}` is not a layer file")));
        }
        layers.push((path, file));
    }
    check_config(&config_path, config, &layers)?;

    let layout = if config.name == Name::Blob || inventory.oci_layout.is_some() || inventory.index.is_some() {
        Layout::Oci
    } else {
        Layout::Legacy
    };
    if layout == Layout::Oci {
        check_oci_layout(inventory.oci_layout.as_deref())?;
        check_index(inventory.index.as_deref())?;
    }
    if let Some(repositories) = &inventory.repositories {
        check_repositories(repositories)?;
    }
    let digest = config.sha256.as_deref().expect("configs are always hashed while streaming");
    Ok(ImageSummary {
        layout,
        repo_tags: image.repo_tags,
        layers: image.layers.len(),
        total_bytes,
        config_digest: format!("sha256:{digest}"),
    })
}

fn parse_manifest(bytes: &[u8]) -> Result<ManifestImage, TarballError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| TarballError::invalid_manifest(format!("not valid JSON: {e}")))?;
    let images = value.as_array().ok_or_else(|| TarballError::invalid_manifest("not a JSON array"))?;
    if images.len() != 1 {
        return Err(TarballError::NotSingleImage { count: images.len() });
    }
    let image = images[0].as_object().ok_or_else(|| TarballError::invalid_manifest("the image entry is not an object"))?;
    for key in image.keys() {
        if let Some(known) = MANIFEST_KEYS.iter().find(|k| go_fold(k) == go_fold(key) && *k != key) {
            return Err(TarballError::invalid_manifest(format!("key `{key}` differs from `{known}` only in case")));
        }
    }
    let config = image
        .get("Config")
        .and_then(Value::as_str)
        .ok_or_else(|| TarballError::invalid_manifest("`Config` is missing or not a string"))?
        .to_string();
    let layers = strings(image, "Layers")?.ok_or_else(|| TarballError::invalid_manifest("`Layers` is missing"))?;
    let repo_tags = strings(image, "RepoTags")?.unwrap_or_default();
    if let Some(tag) = repo_tags.iter().find(|t| !is_valid_repo_tag(t)) {
        return Err(TarballError::invalid_manifest(format!("`{tag}` is not a valid image name:tag")));
    }
    Ok(ManifestImage { config, repo_tags, layers })
}

/// The one image of an OCI archive without `manifest.json`: `index.json` names exactly one
/// image manifest blob (read while streaming), which names the config and the layers.
fn image_from_index(inventory: &Inventory) -> Result<ManifestImage, TarballError> {
    let index = parse_object("index.json", inventory.index.as_deref())?;
    let invalid = |reason: &str| TarballError::invalid_metadata("index.json", reason);
    let manifests = index.get("manifests").and_then(Value::as_array).ok_or_else(|| invalid("no `manifests` array"))?;
    if manifests.len() != 1 {
        return Err(TarballError::NotSingleImage { count: manifests.len() });
    }
    let entry = manifests[0].as_object().ok_or_else(|| invalid("a `manifests` entry is not an object"))?;
    let media_type = entry.get("mediaType").and_then(Value::as_str).unwrap_or_default();
    if media_type.contains("index") || media_type.contains("manifest.list") {
        return Err(invalid(
            "it names an image index (a multi-platform image), and there is no manifest.json; save a single-platform image",
        ));
    }
    let digest = entry.get("digest").and_then(Value::as_str).ok_or_else(|| invalid("the manifest entry has no `digest`"))?;
    let path = blob_path(digest).ok_or_else(|| invalid("the manifest's `digest` is not a sha256:<64 hex> digest"))?;
    let file = find_file(inventory, &path)?;
    let manifest = file.oci_manifest.as_ref().ok_or_else(|| {
        TarballError::invalid_metadata(&path, "not an OCI image manifest (a `config` and `layers` with sha256 digests)")
    })?;
    // Digests were checked while parsing the manifest blob.
    let config = blob_path(&manifest.config).expect("a checked digest");
    let layers = manifest.layers.iter().map(|d| blob_path(d).expect("a checked digest")).collect();
    let annotations = entry.get("annotations").and_then(Value::as_object);
    let repo_tags = ["io.containerd.image.name", "org.opencontainers.image.ref.name"]
        .iter()
        .filter_map(|key| annotations.and_then(|a| a.get(*key)).and_then(Value::as_str))
        .find(|name| name.contains(':') && is_valid_repo_tag(name))
        .map(|name| vec![name.to_string()])
        .unwrap_or_default();
    Ok(ManifestImage { config, repo_tags, layers })
}

/// `sha256:<hex>` → `blobs/sha256/<hex>`.
fn blob_path(digest: &str) -> Option<String> {
    let hex = digest.strip_prefix("sha256:").filter(|hex| names::is_hex64(hex))?;
    Some(format!("blobs/sha256/{hex}"))
}

/// A key as Go's `encoding/json` compares it with a field name: case-insensitive, where the
/// only non-ASCII letters that fold onto ASCII ones are `ſ` → `s` and the Kelvin sign → `k`.
fn go_fold(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '\u{017F}' => 's',
            '\u{212A}' => 'k',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// An optional array of strings (`null` counts as absent, as in Go).
fn strings(object: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, TarballError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| TarballError::invalid_manifest(format!("`{key}` holds a non-string"))),
        Some(_) => Err(TarballError::invalid_manifest(format!("`{key}` is not an array"))),
    }
}

/// A Docker reference `[host[:port]/]path[:tag]`. Besides catching corrupt manifests, this
/// keeps tags to a shell- and URL-safe alphabet, since they are shown and passed on.
pub(crate) fn is_valid_repo_tag(reference: &str) -> bool {
    if reference.is_empty() || reference.len() > 255 {
        return false;
    }
    let (name, tag) = match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (reference, None),
    };
    if let Some(tag) = tag {
        let mut bytes = tag.bytes();
        let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !first_ok || tag.len() > 128 || !bytes.all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) {
            return false;
        }
    }
    let components: Vec<&str> = name.split('/').collect();
    components.iter().enumerate().all(|(i, component)| {
        let is_host = i == 0
            && components.len() > 1
            && (component.contains('.') || component.contains(':') || *component == "localhost");
        if is_host {
            !component.is_empty() && component.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b))
        } else {
            let edge_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            edge_ok(component.bytes().next())
                && edge_ok(component.bytes().last())
                && component.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        }
    })
}

/// A manifest path as an entry key: the same normalisation and escape checks as entry names.
fn reference(path: &str) -> Result<String, TarballError> {
    let normalized = names::normalize(path, false)?;
    if normalized.is_empty() {
        return Err(TarballError::invalid_manifest(format!("reference `{path}` names no file")));
    }
    Ok(normalized)
}

fn find_file<'a>(inventory: &'a Inventory, path: &str) -> Result<&'a FileRecord, TarballError> {
    match inventory.records.get(path) {
        Some(Record::File(file)) => Ok(file),
        Some(Record::Dir) => Err(TarballError::invalid_manifest(format!("`{path}` is a directory"))),
        Some(Record::LayerLink { .. }) => Err(TarballError::invalid_manifest(format!("`{path}` is a link"))),
        None => Err(TarballError::MissingReference { path: path.to_string() }),
    }
}

/// A layer file, following one allowed legacy layer link (never a chain).
fn find_layer(inventory: &Inventory, path: String) -> Result<(String, &FileRecord), TarballError> {
    if let Some(Record::LayerLink { target }) = inventory.records.get(&path) {
        return find_file(inventory, target).map(|file| (target.clone(), file));
    }
    find_file(inventory, &path).map(|file| (path, file))
}

/// The config's diff_ids must match the layers in number and, for uncompressed layers (whose
/// sha256 is their diff_id), in value. `docker load` checks this too, but only after copying
/// the upload to an instance.
fn check_config(path: &str, config: &FileRecord, layers: &[(String, &FileRecord)]) -> Result<(), TarballError> {
    let diff_ids = match &config.config {
        // A blob over the metadata limit was not read; its digest was still verified.
        ConfigInfo::NotRead => return Ok(()),
        ConfigInfo::Invalid(reason) => return Err(TarballError::invalid_metadata(path, reason.clone())),
        ConfigInfo::Valid { diff_ids } => diff_ids,
    };
    if diff_ids.len() != layers.len() {
        return Err(TarballError::LayerCountMismatch {
            config: path.to_string(),
            diff_ids: diff_ids.len(),
            layers: layers.len(),
        });
    }
    for ((layer_path, layer), expected) in layers.iter().zip(diff_ids) {
        if layer.compressed {
            continue;
        }
        let Some(sha256) = &layer.sha256 else { continue };
        let actual = format!("sha256:{sha256}");
        if &actual != expected {
            return Err(TarballError::DiffIdMismatch { path: layer_path.clone(), expected: expected.clone(), actual });
        }
    }
    Ok(())
}

fn parse_object(path: &str, bytes: Option<&[u8]>) -> Result<Map<String, Value>, TarballError> {
    let bytes = bytes.ok_or_else(|| TarballError::MissingOciFile { path: path.to_string() })?;
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(TarballError::invalid_metadata(path, "not a JSON object")),
        Err(e) => Err(TarballError::invalid_metadata(path, format!("not valid JSON: {e}"))),
    }
}

fn check_oci_layout(bytes: Option<&[u8]>) -> Result<(), TarballError> {
    let layout = parse_object("oci-layout", bytes)?;
    match layout.get("imageLayoutVersion") {
        Some(Value::String(_)) => Ok(()),
        _ => Err(TarballError::invalid_metadata("oci-layout", "no `imageLayoutVersion` string")),
    }
}

fn check_index(bytes: Option<&[u8]>) -> Result<(), TarballError> {
    let index = parse_object("index.json", bytes)?;
    if let Some(version) = index.get("schemaVersion") {
        if version.as_u64() != Some(2) {
            return Err(TarballError::invalid_metadata("index.json", "`schemaVersion` is not 2"));
        }
    }
    match index.get("manifests") {
        Some(Value::Array(_)) => Ok(()),
        _ => Err(TarballError::invalid_metadata("index.json", "no `manifests` array")),
    }
}

/// `{"name": {"tag": "<id>"}}`.
fn check_repositories(bytes: &[u8]) -> Result<(), TarballError> {
    let invalid = |reason: &str| TarballError::invalid_metadata("repositories", reason);
    let value: Value = serde_json::from_slice(bytes).map_err(|e| invalid(&format!("not valid JSON: {e}")))?;
    let names = value.as_object().ok_or_else(|| invalid("not a JSON object"))?;
    for tags in names.values() {
        let tags = tags.as_object().ok_or_else(|| invalid("a repository is not an object of tags"))?;
        if !tags.values().all(Value::is_string) {
            return Err(invalid("a tag does not map to a string id"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{go_fold, is_valid_repo_tag, parse_manifest};

    #[test]
    fn keys_that_go_folds_onto_a_manifest_key_are_refused() {
        for evil in ["layers", "LAYERS", "Layer\u{017F}", "RepoTag\u{017F}", "LayerSource\u{017F}"] {
            let m = format!(r#"[{{"Config": "c.json", "Layers": [], "{evil}": ["x"]}}]"#);
            let e = parse_manifest(m.as_bytes()).unwrap_err().to_string();
            assert!(e.contains("only in case"), "{evil}: {e}");
        }
        assert_eq!(go_fold("Repo\u{212A}"), "repok");
        assert!(parse_manifest(br#"[{"Config": "c.json", "Layers": [], "Comment": "x"}]"#).is_ok());
    }

    #[test]
    fn repo_tags_follow_the_reference_grammar() {
        for ok in ["sample-app:canary", "app", "my.registry:5000/team/app:v1.2_3", "localhost/app:1", "a/b/c:latest"] {
            assert!(is_valid_repo_tag(ok), "{ok}");
        }
        for bad in ["", "App:1", "app:", "app:-x", "app;rm -rf /:1", "app:$(id)", "/app:1", "a//b:1", "app-:1", "app:a b"] {
            assert!(!is_valid_repo_tag(bad), "{bad}");
        }
    }
}
