//! Archive-level tests: valid images from the builder in both layouts, chunking independence,
//! one hand-crafted archive per rejection, and random truncations and bit flips.

use proptest::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::stream::{Entry, EntryKind, EntrySink, TarStream};
use super::write::{TarHeader, TarWriter};
use super::*;

// ---------- helpers ----------

fn image(layout: Layout) -> Vec<u8> {
    build_image(&BuildOptions::new(layout, "sample-app:canary"))
}

fn check(bytes: &[u8]) -> Result<ImageSummary, TarballError> {
    check_with(bytes, Limits::default())
}

fn check_with(bytes: &[u8], limits: Limits) -> Result<ImageSummary, TarballError> {
    let mut checker = TarballChecker::new(limits);
    checker.feed(bytes)?;
    checker.finish()
}

fn check_chunked(bytes: &[u8], chunk: usize, limits: Limits) -> Result<ImageSummary, TarballError> {
    let mut checker = TarballChecker::new(limits);
    for piece in bytes.chunks(chunk.max(1)) {
        checker.feed(piece)?;
    }
    checker.finish()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One archive member, for taking valid archives apart and reassembling them altered.
#[derive(Debug, Clone)]
struct Item {
    path: String,
    typeflag: u8,
    link: String,
    data: Vec<u8>,
}

impl Item {
    fn file(path: &str, data: &[u8]) -> Item {
        Item { path: path.into(), typeflag: b'0', link: String::new(), data: data.to_vec() }
    }
    fn special(path: &str, typeflag: u8, link: &str) -> Item {
        Item { path: path.into(), typeflag, link: link.into(), data: Vec::new() }
    }
}

#[derive(Default)]
struct Collect(Vec<(Entry, Vec<u8>)>);

impl EntrySink for Collect {
    fn begin(&mut self, entry: &Entry) -> Result<(), TarballError> {
        self.0.push((entry.clone(), Vec::new()));
        Ok(())
    }
    fn data(&mut self, bytes: &[u8]) -> Result<(), TarballError> {
        self.0.last_mut().unwrap().1.extend_from_slice(bytes);
        Ok(())
    }
    fn end(&mut self) -> Result<(), TarballError> {
        Ok(())
    }
}

/// Lists a tar with the crate's own reader (no name rules applied).
fn entries(bytes: &[u8]) -> Vec<(Entry, Vec<u8>)> {
    let mut stream = TarStream::new();
    let mut collect = Collect::default();
    stream.feed(bytes, &mut collect).unwrap();
    stream.finish().unwrap();
    collect.0
}

fn items(bytes: &[u8]) -> Vec<Item> {
    entries(bytes)
        .into_iter()
        .map(|(e, data)| {
            let typeflag = match e.kind {
                EntryKind::Directory => b'5',
                EntryKind::Symlink => b'2',
                EntryKind::HardLink => b'1',
                _ => b'0',
            };
            Item { path: e.path, typeflag, link: e.link, data }
        })
        .collect()
}

fn assemble(items: &[Item]) -> Vec<u8> {
    let mut tar = TarWriter::new();
    for item in items {
        let header = TarHeader {
            path: item.path.clone(),
            typeflag: item.typeflag,
            size: item.data.len() as u64,
            mode: 0o644,
            link: item.link.clone(),
        };
        tar.entry(&header, &item.data);
    }
    tar.finish()
}

/// A valid image of `layout` with `extra` entries appended before the end marker.
fn with_extra(layout: Layout, extra: &[Item]) -> Vec<u8> {
    let mut all = items(&image(layout));
    all.extend_from_slice(extra);
    assemble(&all)
}

fn data_of<'a>(items: &'a [Item], path: &str) -> &'a [u8] {
    &items.iter().find(|i| i.path == path).unwrap_or_else(|| panic!("no {path}")).data
}

fn manifest(items: &[Item]) -> Value {
    serde_json::from_slice(data_of(items, "manifest.json")).unwrap()
}

fn set_manifest(items: &mut [Item], manifest: &Value) {
    let item = items.iter_mut().find(|i| i.path == "manifest.json").unwrap();
    item.data = serde_json::to_vec(manifest).unwrap();
}

/// Replaces the image config with `config` (named by its digest) and points the manifest at it.
fn swap_config(all: &mut Vec<Item>, config: &[u8]) {
    let mut m = manifest(all);
    let old = m[0]["Config"].as_str().unwrap().to_string();
    let hex = sha256_hex(config);
    let new = if old.starts_with("blobs/") { format!("blobs/sha256/{hex}") } else { format!("{hex}.json") };
    all.retain(|i| i.path != old);
    all.push(Item::file(&new, config));
    m[0]["Config"] = json!(new);
    set_manifest(all, &m);
}

fn replace_config(layout: Layout, config: &[u8]) -> Vec<u8> {
    let mut all = items(&image(layout));
    swap_config(&mut all, config);
    assemble(&all)
}

fn config_of(all: &[Item]) -> Value {
    serde_json::from_slice(data_of(all, manifest(all)[0]["Config"].as_str().unwrap())).unwrap()
}

fn layer_path(items: &[Item]) -> String {
    manifest(items)[0]["Layers"][0].as_str().unwrap().to_string()
}

/// A real gzip stream (stored deflate blocks), so "compressed upload" tests use the real format.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut crc_table = [0u32; 256];
    for (n, entry) in crc_table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *entry = c;
    }
    let crc = !data.iter().fold(!0u32, |c, &b| crc_table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8));
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let blocks: Vec<&[u8]> = if data.is_empty() { vec![&[][..]] } else { data.chunks(65_535).collect() };
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn assert_err(result: Result<ImageSummary, TarballError>, name: &str) -> TarballError {
    match result {
        Err(e) if e.name() == name => e,
        other => panic!("expected {name}, got {other:?}"),
    }
}

const LAYOUTS: [Layout; 2] = [Layout::Legacy, Layout::Oci];

// ---------- valid archives ----------

#[test]
fn builder_images_are_accepted_in_both_layouts() {
    for layout in LAYOUTS {
        let bytes = image(layout);
        let summary = check(&bytes).unwrap();
        let all = items(&bytes);
        let config_path = manifest(&all)[0]["Config"].as_str().unwrap().to_string();
        assert_eq!(summary.layout, layout);
        assert_eq!(summary.repo_tags, vec!["sample-app:canary".to_string()]);
        assert_eq!(summary.layers, 1);
        assert_eq!(summary.total_bytes, bytes.len() as u64);
        assert_eq!(summary.config_digest, format!("sha256:{}", sha256_hex(data_of(&all, &config_path))));
    }
}

#[test]
fn builder_writes_the_expected_entries() {
    let legacy: Vec<String> = items(&image(Layout::Legacy)).into_iter().map(|i| i.path).collect();
    assert!(legacy.iter().any(|p| p.ends_with("/layer.tar")));
    assert!(legacy.contains(&"repositories".to_string()));
    let oci: Vec<String> = items(&image(Layout::Oci)).into_iter().map(|i| i.path).collect();
    for expected in ["blobs/", "blobs/sha256/", "index.json", "manifest.json", "oci-layout", "repositories"] {
        assert!(oci.contains(&expected.to_string()), "{expected} in {oci:?}");
    }
    assert_eq!(oci.iter().filter(|p| p.starts_with("blobs/sha256/") && p.len() == 77).count(), 3);
}

#[test]
fn builder_layer_holds_the_file_and_config_names_its_diff_id() {
    let mut opts = BuildOptions::new(Layout::Oci, "sample-app:canary");
    let script = b"#!/bin/sh\nexec /app/server\n".to_vec();
    opts.files = vec![LayerFile { path: "/app/bin/run.sh".into(), contents: script.clone(), mode: 0o755 }];
    let all = items(&build_image(&opts));
    let layer = data_of(&all, &layer_path(&all)).to_vec();
    let inner = entries(&layer);
    let paths: Vec<&str> = inner.iter().map(|(e, _)| e.path.as_str()).collect();
    assert_eq!(paths, ["app/", "app/bin/", "app/bin/run.sh"]);
    assert_eq!(inner[2].1, script);
    let config: Value = serde_json::from_slice(data_of(&all, manifest(&all)[0]["Config"].as_str().unwrap())).unwrap();
    assert_eq!(config["rootfs"]["diff_ids"], json!([format!("sha256:{}", sha256_hex(&layer))]));
    assert_eq!(config["config"]["Entrypoint"], json!(["/app/hello.sh"]));
}

#[test]
fn builder_oci_index_names_the_manifest_blob() {
    let all = items(&image(Layout::Oci));
    let index: Value = serde_json::from_slice(data_of(&all, "index.json")).unwrap();
    let descriptor = &index["manifests"][0];
    let digest = descriptor["digest"].as_str().unwrap().strip_prefix("sha256:").unwrap();
    let blob = data_of(&all, &format!("blobs/sha256/{digest}"));
    assert_eq!(descriptor["size"], json!(blob.len()));
    assert_eq!(descriptor["annotations"]["io.containerd.image.name"], "docker.io/library/sample-app:canary");
    let image_manifest: Value = serde_json::from_slice(blob).unwrap();
    assert_eq!(image_manifest["layers"][0]["digest"], json!(format!("sha256:{}", layer_path(&all).trim_start_matches("blobs/sha256/"))));
}

#[test]
fn results_do_not_depend_on_chunk_boundaries() {
    let mut cases: Vec<Vec<u8>> = LAYOUTS.iter().map(|&l| image(l)).collect();
    // Rejections too: the same error (with the same offsets) whatever the chunking.
    cases.push(with_extra(Layout::Oci, &[Item::file("../etc/passwd", b"x")]));
    let mut flipped = image(Layout::Legacy);
    flipped[700] ^= 0x01;
    cases.push(flipped);
    let truncated = image(Layout::Oci);
    cases.push(truncated[..truncated.len() - 700].to_vec());
    for bytes in cases {
        let whole = check(&bytes);
        for chunk in [1, 7, 512, bytes.len()] {
            assert_eq!(check_chunked(&bytes, chunk, Limits::default()), whole, "chunk size {chunk}");
        }
    }
}

#[test]
fn check_reader_reads_to_the_end() {
    /// Yields 3 bytes per read and one `Interrupted` error on the way.
    struct Trickle<'a>(&'a [u8], bool);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if !self.1 {
                self.1 = true;
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(3).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let bytes = image(Layout::Legacy);
    assert_eq!(check_reader(Trickle(&bytes, false), Limits::default()), check(&bytes));
    assert!(check_reader(Trickle(&bytes, false), Limits::default()).is_ok());
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("connection reset"))
        }
    }
    assert_err(check_reader(Failing, Limits::default()), "Read");
}

#[test]
fn dot_slash_prefixes_and_record_padding_are_accepted() {
    // `tar -C dir -cf x.tar .` style names, and GNU tar's zero padding to a 10 KiB record.
    let mut all = items(&image(Layout::Oci));
    for item in &mut all {
        item.path = format!("./{}", item.path);
    }
    all.insert(0, Item::special("./", b'5', ""));
    let mut bytes = assemble(&all);
    bytes.resize(bytes.len().div_ceil(10_240) * 10_240, 0);
    assert_eq!(check(&bytes).unwrap().layout, Layout::Oci);
}

#[test]
fn pax_path_and_size_records_are_honoured() {
    let mut tar = TarWriter::new();
    for item in items(&image(Layout::Legacy)) {
        if item.path == "manifest.json" {
            // The header says `decoy` with size 0; pax says the real name and size.
            let size = item.data.len().to_string();
            tar.pax(&[("path", "manifest.json"), ("size", size.as_str())]);
            let header = TarHeader { path: "decoy".into(), typeflag: b'0', size: 0, mode: 0o644, link: String::new() };
            tar.entry(&header, &item.data);
        } else {
            let flag = item.typeflag;
            tar.entry(&TarHeader { path: item.path, typeflag: flag, size: item.data.len() as u64, mode: 0o644, link: item.link }, &item.data);
        }
    }
    assert!(check(&tar.finish()).is_ok());
}

#[test]
fn gzip_compressed_layers_skip_the_diff_id_comparison() {
    // Containerd-store saves may keep layers gzip-compressed: the blob digest is still checked,
    // but the diff_id is of the uncompressed tar.
    let mut all = items(&image(Layout::Oci));
    let old = layer_path(&all);
    let compressed = gzip(data_of(&all, &old));
    let new = format!("blobs/sha256/{}", sha256_hex(&compressed));
    all.retain(|i| i.path != old);
    all.push(Item::file(&new, &compressed));
    let mut m = manifest(&all);
    m[0]["Layers"] = json!([new]);
    set_manifest(&mut all, &m);
    assert!(check(&assemble(&all)).is_ok());
}

#[test]
fn index_may_reference_blobs_that_are_absent() {
    // E.g. other platforms of a multi-platform image saved from the containerd store.
    let mut all = items(&image(Layout::Oci));
    let item = all.iter_mut().find(|i| i.path == "index.json").unwrap();
    let mut index: Value = serde_json::from_slice(&item.data).unwrap();
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": format!("sha256:{}", "ab".repeat(32)),
        "size": 1234,
    }));
    item.data = serde_json::to_vec(&index).unwrap();
    assert!(check(&assemble(&all)).is_ok());
}

#[test]
fn legacy_layer_symlinks_are_accepted_only_when_allowed_and_well_formed() {
    let mut all = items(&image(Layout::Legacy));
    let real = layer_path(&all);
    let repeat = "f".repeat(64);
    all.push(Item::special(&format!("{repeat}/"), b'5', ""));
    all.push(Item::special(&format!("{repeat}/layer.tar"), b'2', &format!("../{real}")));
    let mut m = manifest(&all);
    m[0]["Layers"] = json!([real, format!("{repeat}/layer.tar")]);
    set_manifest(&mut all, &m);
    let allow = Limits { allow_legacy_layer_symlinks: true, ..Limits::default() };
    // The config still lists one diff_id for two layers: the link counts as a layer.
    let e = assert_err(check_with(&assemble(&all), allow), "LayerCountMismatch");
    assert!(matches!(e, TarballError::LayerCountMismatch { diff_ids: 1, layers: 2, .. }));
    // The same layer twice, as Docker < 25 saves it.
    let mut config = config_of(&all);
    let diff_id = config["rootfs"]["diff_ids"][0].clone();
    config["rootfs"]["diff_ids"] = json!([diff_id, diff_id]);
    swap_config(&mut all, &serde_json::to_vec(&config).unwrap());
    let bytes = assemble(&all);
    assert_eq!(check_with(&bytes, allow).unwrap().layers, 2);
    assert_eq!(check(&bytes).unwrap().layers, 2, "allowed by default");
    assert_err(check_with(&bytes, Limits { allow_legacy_layer_symlinks: false, ..allow }), "LinkEntry");

    let bad = with_extra(Layout::Legacy, &[Item::special(&format!("{repeat}/layer.tar"), b'2', "../../etc/passwd")]);
    assert_err(check_with(&bad, allow), "LinkEntry");
    let wrong_name = with_extra(Layout::Legacy, &[Item::special(&format!("{repeat}/json"), b'2', &format!("../{real}"))]);
    assert_err(check_with(&wrong_name, allow), "LinkEntry");
}

#[test]
fn legacy_layer_symlink_to_a_missing_layer_is_a_missing_reference() {
    let mut all = items(&image(Layout::Legacy));
    let link = format!("{}/layer.tar", "e".repeat(64));
    all.push(Item::special(&link, b'2', &format!("../{}/layer.tar", "d".repeat(64))));
    let mut m = manifest(&all);
    m[0]["Layers"] = json!([link]);
    set_manifest(&mut all, &m);
    let allow = Limits { allow_legacy_layer_symlinks: true, ..Limits::default() };
    let e = assert_err(check_with(&assemble(&all), allow), "MissingReference");
    assert_eq!(e, TarballError::MissingReference { path: format!("{}/layer.tar", "d".repeat(64)) });
}

#[test]
fn declared_size_is_checked_against_the_total_limit() {
    let limits = Limits::default();
    assert!(limits.check_declared_size(10 << 30).is_ok());
    assert_eq!(limits.check_declared_size((10 << 30) + 1), Err(TarballError::TooLarge { limit: 10 << 30 }));
}

// ---------- path and type rejections ----------

#[test]
fn path_traversal_is_rejected() {
    for layout in LAYOUTS {
        let e = assert_err(check(&with_extra(layout, &[Item::file("../etc/passwd", b"root::0:0")])), "PathTraversal");
        assert_eq!(e, TarballError::PathTraversal { path: "../etc/passwd".into() });
    }
    let nested = with_extra(Layout::Oci, &[Item::file("blobs/sha256/../../../../tmp/x", b"x")]);
    assert_err(check(&nested), "PathTraversal");
}

#[test]
fn absolute_paths_are_rejected() {
    let e = assert_err(check(&with_extra(Layout::Oci, &[Item::file("/etc/passwd", b"x")])), "AbsolutePath");
    assert_eq!(e.to_string(), "entry `/etc/passwd` has an absolute path");
}

#[test]
fn symlinks_are_rejected() {
    let e = assert_err(check(&with_extra(Layout::Oci, &[Item::special("index.json", b'2', "/etc/passwd")])), "LinkEntry");
    assert_eq!(e, TarballError::LinkEntry { path: "index.json".into(), target: "/etc/passwd".into() });
}

#[test]
fn hard_links_are_rejected() {
    let extra = [Item::special("oci-layout", b'1', "../../etc/shadow")];
    assert_err(check(&with_extra(Layout::Legacy, &extra)), "LinkEntry");
}

#[test]
fn devices_and_fifos_are_rejected() {
    for (flag, kind) in [(b'3', "character device"), (b'4', "block device"), (b'6', "named pipe (fifo)")] {
        let e = assert_err(check(&with_extra(Layout::Oci, &[Item::special("dev", flag, "")])), "SpecialEntry");
        assert_eq!(e, TarballError::SpecialEntry { path: "dev".into(), kind: kind.into() });
    }
    // Types the checker does not know (here GNU sparse) are refused too.
    assert_err(check(&with_extra(Layout::Oci, &[Item::special("manifest.json", b'S', "")])), "SpecialEntry");
}

#[test]
fn unknown_names_are_rejected() {
    for path in ["evil.sh", "blobs/sha256/not-a-digest", "blobs/sha512/x", "etc/cron.d/x", "index.json/"] {
        let e = assert_err(check(&with_extra(Layout::Oci, &[Item::file(path, b"x")])), "UnexpectedEntry");
        assert_eq!(e, TarballError::UnexpectedEntry { path: path.into() });
    }
    // A directory where only files are expected.
    assert_err(check(&with_extra(Layout::Oci, &[Item::special("etc/", b'5', "")])), "UnexpectedEntry");
}

#[test]
fn duplicate_entries_are_rejected() {
    let evil = serde_json::to_vec(&json!([{"Config": "x", "Layers": []}])).unwrap();
    for layout in LAYOUTS {
        let e = assert_err(check(&with_extra(layout, &[Item::file("manifest.json", &evil)])), "DuplicateEntry");
        assert_eq!(e, TarballError::DuplicateEntry { path: "manifest.json".into() });
    }
    // The same file under an equivalent spelling.
    assert_err(check(&with_extra(Layout::Oci, &[Item::file("./oci-layout", b"{}")])), "DuplicateEntry");
}

#[test]
fn long_names_hiding_dot_dot_are_rejected() {
    let hidden = format!("blobs/sha256/{}/../../../../../etc/passwd", "a".repeat(90));
    // pax `path` record (the header's own name is innocent).
    let mut tar = TarWriter::new();
    tar.pax(&[("path", hidden.as_str())]);
    tar.file("manifest.json", 0o644, b"[]");
    assert_err(check(&tar.finish()), "PathTraversal");
    // The writer moves long names to pax by itself.
    assert_err(check(&with_extra(Layout::Oci, &[Item::file(&hidden, b"x")])), "PathTraversal");
    // GNU long name.
    let mut tar = TarWriter::new();
    tar.gnu_long_name(&hidden);
    tar.file("manifest.json", 0o644, b"[]");
    let e = assert_err(check(&tar.finish()), "PathTraversal");
    assert_eq!(e, TarballError::PathTraversal { path: hidden });
}

#[test]
fn conflicting_or_ambiguous_extended_headers_are_rejected() {
    // Readers disagree on which of these wins, so none is chosen.
    let mut both = TarWriter::new();
    both.gnu_long_name("manifest.json");
    both.pax(&[("path", "index.json")]);
    both.file("x", 0o644, b"{}");
    assert_err(check(&both.finish()), "BadHeader");

    let mut two_pax = TarWriter::new();
    two_pax.pax(&[("path", "../escape")]);
    two_pax.pax(&[("mtime", "0")]);
    two_pax.file("manifest.json", 0o644, b"[]");
    assert_err(check(&two_pax.finish()), "BadHeader");

    let mut global = TarWriter::new();
    global.pax_global(&[("path", "evil.sh")]);
    global.file("manifest.json", 0o644, b"[]");
    assert_err(check(&global.finish()), "BadHeader");
    // Harmless global records (e.g. `git archive`'s comment) are fine on their own.
    let mut comment = TarWriter::new();
    comment.pax_global(&[("comment", "abc")]);
    let mut legit = comment.as_bytes().to_vec();
    legit.extend_from_slice(&image(Layout::Oci));
    assert!(check(&legit).is_ok());

    let mut sparse = TarWriter::new();
    sparse.pax(&[("GNU.sparse.major", "1")]);
    sparse.file("manifest.json", 0o644, b"[]");
    assert_err(check(&sparse.finish()), "BadHeader");

    let mut dangling = TarWriter::new();
    dangling.pax(&[("path", "manifest.json")]);
    assert_err(check(&dangling.finish()), "BadHeader");
}

#[test]
fn data_less_entries_with_a_size_are_rejected() {
    // Go reads no data after a directory header whatever its size, other readers skip `size`
    // bytes: content hidden there would be seen by one and not the other.
    let mut all = items(&image(Layout::Oci));
    let mut tar = TarWriter::new();
    tar.entry(&TarHeader { path: "blobs/".into(), typeflag: b'5', size: 512, mode: 0o755, link: String::new() }, &[0; 512]);
    all.retain(|i| i.path != "blobs/");
    for item in all {
        tar.entry(&TarHeader { path: item.path, typeflag: item.typeflag, size: item.data.len() as u64, mode: 0o644, link: item.link }, &item.data);
    }
    let e = assert_err(check(&tar.finish()), "BadHeader");
    assert!(matches!(e, TarballError::BadHeader { offset: 0, .. }), "{e:?}");
}

// ---------- limits ----------

#[test]
fn oversized_entries_are_rejected() {
    let bytes = image(Layout::Oci);
    let small = Limits { max_entry_bytes: 100, ..Limits::default() };
    let e = assert_err(check_with(&bytes, small), "EntryTooLarge");
    let TarballError::EntryTooLarge { path, limit, .. } = e else { unreachable!() };
    assert!(path.starts_with("blobs/sha256/"));
    assert_eq!(limit, 100);

    let tiny_metadata = Limits { max_metadata_bytes: 20, ..Limits::default() };
    let e = assert_err(check_with(&image(Layout::Legacy), tiny_metadata), "EntryTooLarge");
    assert!(matches!(e, TarballError::EntryTooLarge { limit: 20, .. }));
}

#[test]
fn too_many_entries_are_rejected() {
    let bytes = image(Layout::Oci); // 9 entries
    assert!(check_with(&bytes, Limits { max_entries: 9, ..Limits::default() }).is_ok());
    let e = assert_err(check_with(&bytes, Limits { max_entries: 8, ..Limits::default() }), "TooManyEntries");
    assert_eq!(e, TarballError::TooManyEntries { limit: 8 });
}

#[test]
fn archives_over_the_total_limit_are_rejected() {
    let bytes = image(Layout::Legacy);
    let exact = Limits { max_total_bytes: bytes.len() as u64, ..Limits::default() };
    assert!(check_with(&bytes, exact).is_ok());
    let under = Limits { max_total_bytes: bytes.len() as u64 - 1, ..Limits::default() };
    assert_err(check_with(&bytes, under), "TooLarge");
    // Rejected from the header of the entry that does not fit, before its data arrives.
    let mut checker = TarballChecker::new(Limits { max_total_bytes: 2048, ..Limits::default() });
    assert_err(checker.feed(&bytes[..2048]).map(|_| unreachable!()), "TooLarge");
    // Zero padding after the end counts too.
    let mut padded = bytes.clone();
    padded.extend_from_slice(&[0; 512]);
    assert_err(check_with(&padded, exact), "TooLarge");
}

// ---------- content rejections ----------

#[test]
fn flipped_blob_bytes_are_a_digest_mismatch() {
    let mut all = items(&image(Layout::Oci));
    let path = layer_path(&all);
    let layer = all.iter_mut().find(|i| i.path == path).unwrap();
    layer.data[600] ^= 0x20;
    let e = assert_err(check(&assemble(&all)), "DigestMismatch");
    assert!(matches!(&e, TarballError::DigestMismatch { path: p, .. } if *p == path));

    // A legacy config is named by its digest too.
    let mut all = items(&image(Layout::Legacy));
    let config = manifest(&all)[0]["Config"].as_str().unwrap().to_string();
    all.iter_mut().find(|i| i.path == config).unwrap().data[3] ^= 0x01;
    assert_err(check(&assemble(&all)), "DigestMismatch");
}

#[test]
fn flipped_legacy_layer_bytes_are_a_diff_id_mismatch() {
    // Legacy layers carry no digest in their name; the config's diff_id catches the change.
    let mut all = items(&image(Layout::Legacy));
    let path = layer_path(&all);
    all.iter_mut().find(|i| i.path == path).unwrap().data[600] ^= 0x20;
    let e = assert_err(check(&assemble(&all)), "DiffIdMismatch");
    assert!(matches!(&e, TarballError::DiffIdMismatch { path: p, .. } if *p == path));
}

#[test]
fn configs_that_disagree_with_the_layers_are_rejected() {
    for layout in LAYOUTS {
        let all = items(&image(layout));
        let config_path = manifest(&all)[0]["Config"].as_str().unwrap().to_string();
        let mut config: Value = serde_json::from_slice(data_of(&all, &config_path)).unwrap();
        let diff_id = config["rootfs"]["diff_ids"][0].clone();

        config["rootfs"]["diff_ids"] = json!([diff_id, diff_id]);
        let e = assert_err(check(&replace_config(layout, &serde_json::to_vec(&config).unwrap())), "LayerCountMismatch");
        assert!(matches!(e, TarballError::LayerCountMismatch { diff_ids: 2, layers: 1, .. }));

        config["rootfs"]["diff_ids"] = json!([format!("sha256:{}", "0".repeat(64))]);
        assert_err(check(&replace_config(layout, &serde_json::to_vec(&config).unwrap())), "DiffIdMismatch");

        config.as_object_mut().unwrap().remove("rootfs");
        assert_err(check(&replace_config(layout, &serde_json::to_vec(&config).unwrap())), "InvalidMetadata");
    }
    let e = assert_err(check(&replace_config(Layout::Legacy, b"not json")), "InvalidMetadata");
    assert!(e.to_string().contains("not valid JSON"), "{e}");
}

#[test]
fn a_config_listing_more_layers_than_any_image_is_rejected() {
    let ids: Vec<String> = (0..=super::check::MAX_CONFIG_LAYERS).map(|i| format!("sha256:{i:064x}")).collect();
    let config = json!({ "rootfs": { "type": "layers", "diff_ids": ids } });
    let e = assert_err(check(&replace_config(Layout::Oci, &serde_json::to_vec(&config).unwrap())), "InvalidMetadata");
    assert!(e.to_string().contains(&format!("more than {} layers", super::check::MAX_CONFIG_LAYERS)), "{e}");
    // Non-strings are named too, not taken as "no list".
    let e = assert_err(check(&replace_config(Layout::Oci, br#"{"rootfs":{"diff_ids":[1]}}"#)), "InvalidMetadata");
    assert!(e.to_string().contains("rootfs.diff_ids"), "{e}");
}

#[test]
fn blobs_that_list_more_layers_in_all_than_the_budget_are_rejected() {
    // Every blob below the metadata limit is read as a possible config: many of them, each
    // listing many layers, must not be kept without bound.
    let per_blob = super::check::MAX_CONFIG_LAYERS;
    let ids: Vec<String> = (0..per_blob).map(|i| format!("sha256:{i:064x}")).collect();
    let mut extra = Vec::new();
    for n in 0..=(super::check::MAX_LISTED_LAYERS / per_blob) {
        let blob = serde_json::to_vec(&json!({ "n": n, "rootfs": { "diff_ids": ids } })).unwrap();
        extra.push(Item::file(&format!("blobs/sha256/{}", sha256_hex(&blob)), &blob));
    }
    let e = assert_err(check(&with_extra(Layout::Oci, &extra)), "TooManyConfigs");
    assert_eq!(e, TarballError::TooManyConfigs { limit: super::check::MAX_LISTED_LAYERS });
    // One fewer blob fits the budget (with the image's own config) and is accepted.
    extra.pop();
    extra.pop();
    check(&with_extra(Layout::Oci, &extra)).unwrap();
}

#[test]
fn a_manifest_referencing_a_missing_layer_is_rejected() {
    for layout in LAYOUTS {
        let mut all = items(&image(layout));
        let path = layer_path(&all);
        all.retain(|i| i.path != path);
        let e = assert_err(check(&assemble(&all)), "MissingReference");
        assert_eq!(e, TarballError::MissingReference { path });
    }
    // A missing config.
    let mut all = items(&image(Layout::Oci));
    let mut m = manifest(&all);
    m[0]["Config"] = json!(format!("blobs/sha256/{}", "1".repeat(64)));
    set_manifest(&mut all, &m);
    assert_err(check(&assemble(&all)), "MissingReference");
}

#[test]
fn manifest_references_that_escape_are_rejected() {
    let mut all = items(&image(Layout::Oci));
    let mut m = manifest(&all);
    m[0]["Layers"] = json!(["../../etc/passwd"]);
    set_manifest(&mut all, &m);
    assert_err(check(&assemble(&all)), "PathTraversal");
    m[0]["Layers"] = json!(["manifest.json"]);
    set_manifest(&mut all, &m);
    assert_err(check(&assemble(&all)), "InvalidManifest");
}

#[test]
fn a_missing_manifest_is_rejected() {
    let mut all = items(&image(Layout::Legacy));
    all.retain(|i| i.path != "manifest.json");
    assert_eq!(check(&assemble(&all)), Err(TarballError::MissingManifest));
    // An OCI layout still has index.json, which names the same image (as `docker load` reads it).
    let mut all = items(&image(Layout::Oci));
    all.retain(|i| i.path != "manifest.json");
    assert_eq!(check(&assemble(&all)).unwrap().layers, 1);
    all.retain(|i| i.path != "index.json");
    assert_eq!(check(&assemble(&all)), Err(TarballError::MissingManifest));
    assert_eq!(check(&TarWriter::new().finish()), Err(TarballError::MissingManifest));
}

#[test]
fn malformed_manifests_are_rejected() {
    let cases: [(Value, &str); 7] = [
        (json!({"Config": "x"}), "InvalidManifest"),
        (json!([]), "NotSingleImage"),
        (json!([{"Config": "a", "Layers": []}, {"Config": "b", "Layers": []}]), "NotSingleImage"),
        (json!([{"Layers": []}]), "InvalidManifest"),
        (json!([{"Config": "x", "Layers": "y"}]), "InvalidManifest"),
        // Go would read `config` as `Config`: an ambiguity, refused.
        (json!([{"Config": "x", "config": "y", "Layers": []}]), "InvalidManifest"),
        (json!([{"Config": "x", "Layers": [], "RepoTags": ["app:$(reboot)"]}]), "InvalidManifest"),
    ];
    for (value, name) in cases {
        let mut all = items(&image(Layout::Oci));
        set_manifest(&mut all, &value);
        assert_err(check(&assemble(&all)), name);
    }
    let mut all = items(&image(Layout::Oci));
    all.iter_mut().find(|i| i.path == "manifest.json").unwrap().data = b"[{".to_vec();
    assert_err(check(&assemble(&all)), "InvalidManifest");
}

#[test]
fn images_saved_by_id_have_no_tags() {
    let mut all = items(&image(Layout::Oci));
    let mut m = manifest(&all);
    m[0]["RepoTags"] = Value::Null;
    set_manifest(&mut all, &m);
    assert_eq!(check(&assemble(&all)).unwrap().repo_tags, Vec::<String>::new());
}

#[test]
fn oci_layout_files_are_required_and_validated() {
    for missing in ["oci-layout", "index.json"] {
        let mut all = items(&image(Layout::Oci));
        all.retain(|i| i.path != missing);
        assert_eq!(check(&assemble(&all)), Err(TarballError::MissingOciFile { path: missing.into() }));
    }
    for (path, data) in [
        ("oci-layout", &b"{}"[..]),
        ("oci-layout", b"nope"),
        ("index.json", b"{\"schemaVersion\":2}"),
        ("index.json", b"{\"schemaVersion\":1,\"manifests\":[]}"),
        ("repositories", b"{\"app\":[\"x\"]}"),
    ] {
        let mut all = items(&image(Layout::Oci));
        all.iter_mut().find(|i| i.path == path).unwrap().data = data.to_vec();
        let e = assert_err(check(&assemble(&all)), "InvalidMetadata");
        assert!(matches!(&e, TarballError::InvalidMetadata { path: p, .. } if p == path), "{e:?}");
    }
}

// ---------- framing rejections ----------

#[test]
fn every_truncation_is_rejected() {
    for layout in LAYOUTS {
        let bytes = image(layout);
        assert_eq!(check(&bytes[..0]), Err(TarballError::NotTar { reason: "the file is empty".into() }));
        for len in 1..bytes.len() {
            let result = check(&bytes[..len]);
            let expected = if len < 512 { "NotTar" } else { "Truncated" };
            match result {
                Err(e) if e.name() == expected => {}
                other => panic!("{layout:?} cut at {len}: {other:?}"),
            }
        }
        assert_eq!(check(&bytes[..1536]), Err(TarballError::Truncated { received: 1536 }));
    }
}

#[test]
fn bad_header_checksums_are_rejected() {
    let mut bytes = image(Layout::Oci);
    // The second header (`blobs/sha256/`) starts at 512.
    bytes[512 + 3] ^= 0x01;
    let e = assert_err(check(&bytes), "BadHeader");
    assert!(matches!(&e, TarballError::BadHeader { offset: 512, reason } if reason.contains("checksum")), "{e:?}");
    // At the very start, the file is just not a tar.
    let mut bytes = image(Layout::Oci);
    bytes[0] ^= 0x01;
    assert_err(check(&bytes), "NotTar");
}

#[test]
fn non_tar_garbage_is_rejected() {
    let text = b"<html><body>Access Denied</body></html>\n".repeat(40);
    assert_err(check(&text), "NotTar");
    assert_err(check(b"hello"), "NotTar");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    assert_err(check(&noise), "NotTar");
}

#[test]
fn gzip_files_are_rejected_as_compressed() {
    let e = assert_err(check(&gzip(&image(Layout::Oci))), "Compressed");
    assert_eq!(e, TarballError::Compressed { format: "gzip" });
    assert!(e.to_string().contains("uncompressed output of `docker save`"));
    // Shorter than one tar block.
    assert_eq!(check(&gzip(b"tiny")), Err(TarballError::Compressed { format: "gzip" }));
}

#[test]
fn data_after_the_end_marker_is_rejected() {
    let mut bytes = image(Layout::Legacy);
    let end = bytes.len() as u64;
    bytes.extend_from_slice(&[0; 100]);
    bytes.extend_from_slice(&image(Layout::Oci));
    assert_eq!(check(&bytes), Err(TarballError::TrailingData { offset: end + 100 }));
}

#[test]
fn a_lone_zero_block_inside_the_archive_is_rejected() {
    let all = items(&image(Layout::Oci));
    let mut tar = TarWriter::new();
    tar.file("oci-layout", 0o444, data_of(&all, "oci-layout"));
    tar.raw(&[0; 512]);
    tar.file("manifest.json", 0o644, data_of(&all, "manifest.json"));
    assert_err(check(&tar.finish()), "BadHeader");
}

#[test]
fn errors_are_sticky() {
    let bytes = with_extra(Layout::Oci, &[Item::file("evil.sh", b"x")]);
    let mut checker = TarballChecker::new(Limits::default());
    let first = checker.feed(&bytes).unwrap_err();
    assert_eq!(checker.feed(&image(Layout::Oci)), Err(first.clone()));
    assert_eq!(checker.finish(), Err(first));
}

// ---------- robustness ----------

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Random bit flips never panic, and chunking never changes the verdict.
    #[test]
    fn bit_flips_never_panic_and_chunking_is_irrelevant(
        oci in any::<bool>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4),
        chunk in 1usize..2000,
    ) {
        let mut bytes = image(if oci { Layout::Oci } else { Layout::Legacy });
        for (at, bit) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        let whole = check(&bytes);
        prop_assert_eq!(check_chunked(&bytes, chunk, Limits::default()), whole);
    }

    /// Flips inside any digest-checked content are always caught.
    #[test]
    fn flips_in_checked_content_are_caught(at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut all = items(&image(Layout::Oci));
        let blobs: Vec<usize> = (0..all.len()).filter(|&i| all[i].path.starts_with("blobs/sha256/") && !all[i].data.is_empty()).collect();
        let item = &mut all[blobs[at.index(blobs.len())]];
        let i = at.index(item.data.len());
        item.data[i] ^= 1 << bit;
        prop_assert_eq!(check(&assemble(&all)).map_err(|e| e.name()), Err("DigestMismatch"));
    }

    /// Arbitrary bytes, including ones that start like a tar, never panic.
    #[test]
    fn arbitrary_bytes_never_panic(prefix_len in 0usize..3000, tail in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let valid = image(Layout::Oci);
        let mut bytes = valid[..prefix_len.min(valid.len())].to_vec();
        bytes.extend_from_slice(&tail);
        let _ = check(&bytes);
    }
}

// ---------- archives written by other tools ----------

/// The parts of a valid image: its one layer (uncompressed) and its config.
fn parts() -> (Vec<u8>, Vec<u8>) {
    let all = items(&image(Layout::Legacy));
    let layer = data_of(&all, &layer_path(&all)).to_vec();
    let config = data_of(&all, manifest(&all)[0]["Config"].as_str().unwrap()).to_vec();
    (layer, config)
}

/// `podman save` / `skopeo copy docker-archive:` (containers/image): layers at the root named
/// by their diff id, a legacy directory per layer whose `layer.tar` links to it, and the
/// manifest and `repositories` last.
fn podman_docker_archive() -> Vec<Item> {
    let (layer, config) = parts();
    let (layer_hex, config_hex, legacy_id) = (sha256_hex(&layer), sha256_hex(&config), "c".repeat(64));
    vec![
        Item::file(&format!("{layer_hex}.tar"), &layer),
        Item::file(&format!("{config_hex}.json"), &config),
        Item::special(&format!("{legacy_id}/"), b'5', ""),
        Item::special(&format!("{legacy_id}/layer.tar"), b'2', &format!("../{layer_hex}.tar")),
        Item::file(&format!("{legacy_id}/VERSION"), b"1.0"),
        Item::file(&format!("{legacy_id}/json"), br#"{"id":"x"}"#),
        Item::file(
            "manifest.json",
            &serde_json::to_vec(&json!([{
                "Config": format!("{config_hex}.json"),
                "RepoTags": ["localhost/sample-app:canary"],
                "Layers": [format!("{layer_hex}.tar")],
            }]))
            .unwrap(),
        ),
        Item::file("repositories", &serde_json::to_vec(&json!({ "localhost/sample-app": { "canary": legacy_id } })).unwrap()),
    ]
}

/// crane's image tarball: the config named `sha256:<hex>`, gzipped layers `<hex>.tar.gz`.
fn crane_tarball() -> Vec<Item> {
    let (layer, config) = parts();
    let gz = gzip(&layer);
    let (gz_hex, config_hex) = (sha256_hex(&gz), sha256_hex(&config));
    vec![
        Item::file(&format!("sha256:{config_hex}"), &config),
        Item::file(&format!("{gz_hex}.tar.gz"), &gz),
        Item::file(
            "manifest.json",
            &serde_json::to_vec(&json!([{
                "Config": format!("sha256:{config_hex}"),
                "RepoTags": ["registry.example.com/team/sample-app:canary"],
                "Layers": [format!("{gz_hex}.tar.gz")],
            }]))
            .unwrap(),
        ),
    ]
}

fn descriptor(media_type: &str, bytes: &[u8]) -> Value {
    json!({ "mediaType": media_type, "digest": format!("sha256:{}", sha256_hex(bytes)), "size": bytes.len() })
}

fn blob(bytes: &[u8]) -> Item {
    Item::file(&format!("blobs/sha256/{}", sha256_hex(bytes)), bytes)
}

/// `podman save --format oci-archive`: no manifest.json; `index.json` names the manifest blob.
fn oci_archive_with(manifest_doc: &Value, extra: Vec<Item>) -> Vec<Item> {
    let manifest_bytes = serde_json::to_vec(manifest_doc).unwrap();
    let mut entry = descriptor("application/vnd.oci.image.manifest.v1+json", &manifest_bytes);
    entry["annotations"] = json!({ "org.opencontainers.image.ref.name": "localhost/sample-app:canary" });
    let mut all = vec![Item::file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#), Item::special("blobs/", b'5', "")];
    all.extend(extra);
    all.push(blob(&manifest_bytes));
    all.push(Item::file("index.json", &serde_json::to_vec(&json!({ "schemaVersion": 2, "manifests": [entry] })).unwrap()));
    all
}

fn oci_manifest_doc(config: &[u8], layers: &[&[u8]]) -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", config),
        "layers": layers.iter().map(|l| descriptor("application/vnd.oci.image.layer.v1.tar", l)).collect::<Vec<_>>(),
    })
}

fn oci_archive() -> Vec<Item> {
    let (layer, config) = parts();
    oci_archive_with(&oci_manifest_doc(&config, &[&layer]), vec![blob(&layer), blob(&config)])
}

#[test]
fn archives_from_podman_skopeo_and_crane_are_accepted() {
    let (_, config) = parts();
    let config_digest = format!("sha256:{}", sha256_hex(&config));
    for (tool, all, layout, tag) in [
        ("podman docker-archive", podman_docker_archive(), Layout::Legacy, "localhost/sample-app:canary"),
        ("crane", crane_tarball(), Layout::Legacy, "registry.example.com/team/sample-app:canary"),
        ("podman oci-archive", oci_archive(), Layout::Oci, "localhost/sample-app:canary"),
    ] {
        let bytes = assemble(&all);
        let summary = check(&bytes).unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert_eq!((summary.layout, summary.layers), (layout, 1), "{tool}");
        assert_eq!(summary.repo_tags, vec![tag.to_string()], "{tool}");
        assert_eq!(summary.config_digest, config_digest, "{tool}");
        for chunk in [1, 7, 512, 4096] {
            assert_eq!(check_chunked(&bytes, chunk, Limits::default()).unwrap(), summary, "{tool}, chunks of {chunk}");
        }
    }
}

#[test]
fn other_tools_archives_get_the_same_content_checks() {
    let (layer, config) = parts();
    let layer_hex = sha256_hex(&layer);

    // containers/image: a flipped layer byte breaks its name's digest; a missing layer is named;
    // its links may only point at another layer file.
    let mut all = podman_docker_archive();
    all[0].data[600] ^= 0x20;
    assert_err(check(&assemble(&all)), "DigestMismatch");
    let mut all = podman_docker_archive();
    all.remove(0);
    assert_eq!(assert_err(check(&assemble(&all)), "MissingReference"), TarballError::MissingReference { path: format!("{layer_hex}.tar") });
    let mut all = podman_docker_archive();
    all[3].link = "../../etc/passwd".into();
    assert_err(check(&assemble(&all)), "LinkEntry");
    all[3].link = format!("../{}.json", sha256_hex(&config));
    assert_err(check(&assemble(&all)), "LinkEntry");
    // The manifest naming the link instead of the file reaches the same layer.
    let mut all = podman_docker_archive();
    let mut m = manifest(&all);
    m[0]["Layers"] = json!([format!("{}/layer.tar", "c".repeat(64))]);
    set_manifest(&mut all, &m);
    assert_eq!(check(&assemble(&all)).unwrap().layers, 1);

    // crane: the config's name is its digest; an uncompressed layer under a .tar.gz name still
    // has to match its diff id.
    let mut all = crane_tarball();
    all[0].data.push(b' ');
    assert_err(check(&assemble(&all)), "DigestMismatch");
    let mut tampered = layer.clone();
    tampered[600] ^= 0x20;
    let mut all = crane_tarball();
    let name = format!("{}.tar.gz", sha256_hex(&tampered));
    all[1] = Item::file(&name, &tampered);
    let mut m = manifest(&all);
    m[0]["Layers"] = json!([name]);
    set_manifest(&mut all, &m);
    assert_err(check(&assemble(&all)), "DiffIdMismatch");
}

#[test]
fn oci_archives_without_manifest_json_are_read_from_index_json() {
    let (layer, config) = parts();
    let blobs = || vec![blob(&layer), blob(&config)];

    // A layer the config does not list, a layer that is not in the archive.
    let two = oci_archive_with(&oci_manifest_doc(&config, &[&layer, &layer]), blobs());
    assert!(matches!(assert_err(check(&assemble(&two)), "LayerCountMismatch"), TarballError::LayerCountMismatch { diff_ids: 1, layers: 2, .. }));
    let absent = oci_archive_with(&oci_manifest_doc(&config, &[&layer]), vec![blob(&config)]);
    assert_eq!(
        assert_err(check(&assemble(&absent)), "MissingReference"),
        TarballError::MissingReference { path: format!("blobs/sha256/{}", sha256_hex(&layer)) }
    );
    // A tampered layer under its own (correct) digest still has to be the config's diff id.
    let mut tampered = layer.clone();
    tampered[600] ^= 0x20;
    let swapped = oci_archive_with(&oci_manifest_doc(&config, &[&tampered]), vec![blob(&tampered), blob(&config)]);
    assert_err(check(&assemble(&swapped)), "DiffIdMismatch");

    // index.json: exactly one image manifest, present, and really a manifest.
    let mut all = oci_archive();
    let index_item = all.last_mut().unwrap();
    let mut index: Value = serde_json::from_slice(&index_item.data).unwrap();
    let entry = index["manifests"][0].clone();
    index["manifests"] = json!([entry, entry]);
    index_item.data = serde_json::to_vec(&index).unwrap();
    assert_eq!(assert_err(check(&assemble(&all)), "NotSingleImage"), TarballError::NotSingleImage { count: 2 });

    let mut all = oci_archive();
    let index_item = all.last_mut().unwrap();
    let mut index: Value = serde_json::from_slice(&index_item.data).unwrap();
    index["manifests"][0]["mediaType"] = json!("application/vnd.oci.image.index.v1+json");
    index_item.data = serde_json::to_vec(&index).unwrap();
    assert!(assert_err(check(&assemble(&all)), "InvalidMetadata").to_string().contains("multi-platform"));

    let not_a_manifest = oci_archive_with(&json!({ "schemaVersion": 2, "layers": "none" }), blobs());
    assert!(assert_err(check(&assemble(&not_a_manifest)), "InvalidMetadata").to_string().contains("not an OCI image manifest"));
    let mut doc = oci_manifest_doc(&config, &[&layer]);
    doc["layers"][0]["digest"] = json!("sha256:../../etc/passwd");
    assert_err(check(&assemble(&oci_archive_with(&doc, blobs()))), "InvalidMetadata");

    let mut all = oci_archive();
    all.retain(|i| i.path != "oci-layout");
    assert_err(check(&assemble(&all)), "MissingOciFile");
    let mut all = oci_archive();
    all.retain(|i| i.path != "index.json");
    assert_err(check(&assemble(&all)), "MissingManifest");
}
