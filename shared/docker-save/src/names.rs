//! The entry names an image archive may contain, and path safety. Besides `docker save`'s two
//! layouts, the names other tools write for `docker load`: containers/image (`podman save`,
//! `skopeo copy docker-archive:`) puts layers at the root as `<diff id>.tar`, crane names the
//! config `sha256:<hex>` and layers `<hex>.tar.gz`, and `podman save --format oci-archive` has
//! no `manifest.json`, only `index.json`. The list is an allow-list: anything not named here
//! is rejected, and every content-addressed name is checked against the content's sha256.

use super::TarballError;

/// What an accepted entry is, from its (normalised) name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Name {
    Manifest,
    Repositories,
    Index,
    OciLayout,
    /// Legacy `<64hex>.json` image config; the hex is its sha256.
    LegacyConfig,
    /// Legacy `<id>/layer.tar`.
    LegacyLayer,
    /// Legacy `<id>/json` (v1 layer metadata; not read).
    LegacyLayerJson,
    /// Legacy `<id>/VERSION`.
    LegacyVersion,
    /// `blobs/sha256/<64hex>`; the hex is its sha256.
    Blob,
    /// `<64hex>.tar` (containers/image) or `<64hex>.tar.gz` (crane) at the root; the hex is
    /// its sha256.
    RootLayer,
    /// `sha256:<64hex>`, crane's image config; the hex is its sha256.
    DigestConfig,
    /// `blobs`, `blobs/sha256` or a legacy `<id>` directory.
    Dir,
}

impl Name {
    /// Small files that are capped at the metadata limit (and buffered where they are read).
    pub(crate) fn is_metadata(self) -> bool {
        matches!(
            self,
            Name::Manifest
                | Name::Repositories
                | Name::Index
                | Name::OciLayout
                | Name::LegacyConfig
                | Name::DigestConfig
                | Name::LegacyLayerJson
                | Name::LegacyVersion
        )
    }

    /// The sha256 (hex) the content must have, for content-addressed names.
    pub(crate) fn expected_digest(self, path: &str) -> Option<&str> {
        match self {
            Name::LegacyConfig => path.strip_suffix(".json"),
            Name::Blob => path.strip_prefix("blobs/sha256/"),
            Name::RootLayer => path.strip_suffix(".tar.gz").or_else(|| path.strip_suffix(".tar")),
            Name::DigestConfig => path.strip_prefix("sha256:"),
            _ => None,
        }
    }
}

/// Checks a stored path and returns it without `./` prefixes, and for a directory without its
/// trailing `/` (so `./manifest.json` and `manifest.json` count as the same entry). A file
/// keeps a trailing `/`, which no expected name has. The empty string is the root (`./`).
pub(crate) fn normalize(path: &str, is_dir: bool) -> Result<String, TarballError> {
    if path.starts_with('/') {
        return Err(TarballError::AbsolutePath { path: path.to_string() });
    }
    // Backslashes too: the archive may be unpacked by something that treats them as separators.
    if path.split(['/', '\\']).any(|component| component == "..") {
        return Err(TarballError::PathTraversal { path: path.to_string() });
    }
    let mut rest = path;
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped;
    }
    if rest == "." {
        rest = "";
    }
    if is_dir {
        rest = rest.strip_suffix('/').unwrap_or(rest);
    }
    Ok(rest.to_string())
}

/// Classifies a normalised path, or `None` if `docker save` never writes it.
pub(crate) fn classify(path: &str, is_dir: bool) -> Option<Name> {
    if is_dir {
        let ok = path == "blobs" || path == "blobs/sha256" || is_layer_id(path);
        return ok.then_some(Name::Dir);
    }
    match path {
        "manifest.json" => return Some(Name::Manifest),
        "repositories" => return Some(Name::Repositories),
        "index.json" => return Some(Name::Index),
        "oci-layout" => return Some(Name::OciLayout),
        _ => {}
    }
    if let Some(hex) = path.strip_prefix("blobs/sha256/") {
        return is_hex64(hex).then_some(Name::Blob);
    }
    if let Some(hex) = path.strip_suffix(".json") {
        if is_hex64(hex) {
            return Some(Name::LegacyConfig);
        }
    }
    if let Some(hex) = path.strip_suffix(".tar.gz").or_else(|| path.strip_suffix(".tar")) {
        if is_hex64(hex) {
            return Some(Name::RootLayer);
        }
    }
    if let Some(hex) = path.strip_prefix("sha256:") {
        return is_hex64(hex).then_some(Name::DigestConfig);
    }
    let (dir, file) = path.split_once('/')?;
    if !is_layer_id(dir) {
        return None;
    }
    match file {
        "layer.tar" => Some(Name::LegacyLayer),
        "json" => Some(Name::LegacyLayerJson),
        "VERSION" => Some(Name::LegacyVersion),
        _ => None,
    }
}

/// A lowercase sha256 in hex, as digests are written.
pub(crate) fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A legacy layer directory: every known writer (docker, skopeo, bazel, nix) names it by a
/// 64-hex id, so nothing else is allowed (no `.`, `..` or arbitrary directories).
fn is_layer_id(s: &str) -> bool {
    is_hex64(s)
}

/// The target of a legacy layer symlink, as a normalised path: `<id>/layer.tar ->
/// ../<other id>/layer.tar` (Docker < 25, for a layer repeated in one save) or `->
/// ../<diff id>.tar` (containers/image, for every layer). Nothing else.
pub(crate) fn legacy_layer_link_target(link: &str) -> Option<String> {
    let target = link.strip_prefix("../")?;
    matches!(classify(target, false), Some(Name::LegacyLayer | Name::RootLayer)).then(|| target.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn expected_names_classify() {
        assert_eq!(classify("manifest.json", false), Some(Name::Manifest));
        assert_eq!(classify(&format!("blobs/sha256/{HEX}"), false), Some(Name::Blob));
        assert_eq!(classify(&format!("{HEX}.json"), false), Some(Name::LegacyConfig));
        assert_eq!(classify(&format!("{HEX}/layer.tar"), false), Some(Name::LegacyLayer));
        assert_eq!(classify(&format!("{HEX}/VERSION"), false), Some(Name::LegacyVersion));
        assert_eq!(classify("blobs/sha256", true), Some(Name::Dir));
        assert_eq!(classify(HEX, true), Some(Name::Dir));
        assert_eq!(classify(&format!("{HEX}.tar"), false), Some(Name::RootLayer));
        assert_eq!(classify(&format!("{HEX}.tar.gz"), false), Some(Name::RootLayer));
        assert_eq!(classify(&format!("sha256:{HEX}"), false), Some(Name::DigestConfig));
        assert_eq!(Name::RootLayer.expected_digest(&format!("{HEX}.tar.gz")), Some(HEX));
        assert_eq!(Name::DigestConfig.expected_digest(&format!("sha256:{HEX}")), Some(HEX));
    }

    #[test]
    fn unexpected_names_do_not_classify() {
        for path in [
            "etc/passwd",
            "manifest.json/x",
            &format!("blobs/sha256/{}", HEX.to_uppercase()),
            &format!("blobs/sha512/{HEX}"),
            &format!("blobs/sha256/{HEX}/x"),
            &format!("{HEX}/layer.tar/x"),
            &format!("{HEX}/other"),
            "blobs/layer.tar",
            "abc/layer.tar",
            "x.json",
            "x.tar",
            &format!("{HEX}.tar.bz2"),
            &format!("{HEX}/{HEX}.tar"),
            &format!("sha512:{HEX}"),
            &format!("sha256:{HEX}.json"),
        ] {
            assert_eq!(classify(path, false), None, "{path}");
        }
        assert_eq!(classify("blobs/sha256/x", true), None);
        assert_eq!(classify("etc", false), None);
        assert_eq!(classify("etc", true), None);
    }

    #[test]
    fn normalize_strips_dot_slash_and_rejects_escapes() {
        assert_eq!(normalize("./manifest.json", false).unwrap(), "manifest.json");
        assert_eq!(normalize("manifest.json/", false).unwrap(), "manifest.json/");
        assert_eq!(normalize("././blobs/", true).unwrap(), "blobs");
        assert_eq!(normalize("./", true).unwrap(), "");
        assert!(matches!(normalize("/etc/passwd", false), Err(TarballError::AbsolutePath { .. })));
        assert!(matches!(normalize("blobs/../../x", false), Err(TarballError::PathTraversal { .. })));
        assert!(matches!(normalize("..\\x", true), Err(TarballError::PathTraversal { .. })));
    }

    #[test]
    fn only_sibling_layer_links_are_layer_link_targets() {
        assert_eq!(legacy_layer_link_target(&format!("../{HEX}/layer.tar")), Some(format!("{HEX}/layer.tar")));
        assert_eq!(legacy_layer_link_target(&format!("../{HEX}.tar")), Some(format!("{HEX}.tar")));
        assert_eq!(legacy_layer_link_target(&format!("{HEX}/layer.tar")), None);
        assert_eq!(legacy_layer_link_target(&format!("../{HEX}.json")), None);
        assert_eq!(legacy_layer_link_target(&format!("../../{HEX}.tar")), None);
        assert_eq!(legacy_layer_link_target("../../etc/passwd"), None);
        assert_eq!(legacy_layer_link_target("/etc/passwd"), None);
    }
}
