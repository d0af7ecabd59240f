//! The checker's memory stays bounded on a hostile archive: many blobs just under the metadata
//! limit, each a JSON document listing thousands of layers. Every small blob is read as a
//! possible image config, so what the checker keeps of each must be bounded, not just what it
//! buffers at once. This file is its own test binary with one test, so the process's peak
//! resident size (`VmHWM`) is the checker's.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};

use aviary_docker_save::write::TarWriter;
use aviary_docker_save::{check_reader, Limits, TarballError};
use sha2::{Digest, Sha256};

/// Blobs in the archive; kept whole, their layer lists alone would take about 140 MB.
const BLOBS: usize = 100;
/// Layers listed by each blob: ~1 MB of JSON, under the 1 MiB metadata limit.
const IDS_PER_BLOB: usize = 14_000;
const PEAK_LIMIT_KB: u64 = 64 * 1024;

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("a number of kB")
}

fn hostile_blob(n: usize) -> Vec<u8> {
    let mut json = format!(r#"{{"n":{n},"rootfs":{{"type":"layers","diff_ids":["#).into_bytes();
    for i in 0..IDS_PER_BLOB {
        if i > 0 {
            json.push(b',');
        }
        json.extend_from_slice(format!("\"sha256:{:064x}\"", n * IDS_PER_BLOB + i).as_bytes());
    }
    json.extend_from_slice(b"]}}");
    json
}

#[test]
fn many_megabyte_layer_lists_do_not_grow_the_checker() {
    let dir = std::env::temp_dir().join(format!("aviary-docker-save-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hostile.tar");
    {
        let mut out = BufWriter::new(File::create(&path).unwrap());
        for n in 0..BLOBS {
            let blob = hostile_blob(n);
            assert!(blob.len() as u64 <= Limits::default().max_metadata_bytes, "{} bytes", blob.len());
            let mut tar = TarWriter::new();
            tar.file(&format!("blobs/sha256/{}", hex::encode(Sha256::digest(&blob))), 0o644, &blob);
            out.write_all(tar.as_bytes()).unwrap();
        }
        out.write_all(&TarWriter::new().finish()).unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 100_000_000, "the archive is {size} bytes");

    // Only the check counts: reset the peak (Linux ≥ 4.0; if refused, the peak includes the
    // writing above, which is smaller anyway).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let result = check_reader(BufReader::new(File::open(&path).unwrap()), Limits::default());
    let peak = status_kb("VmHWM:");
    std::fs::remove_dir_all(&dir).ok();

    // Read to the end (no manifest.json), never kept wholesale.
    assert_eq!(result.unwrap_err(), TarballError::MissingManifest);
    eprintln!("checked {size} bytes of hostile blobs; peak resident {peak} kB");
    assert!(peak <= PEAK_LIMIT_KB, "peak resident size {peak} kB, over {PEAK_LIMIT_KB} kB");
}
