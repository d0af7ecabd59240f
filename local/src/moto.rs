//! The emulated AWS: a moto server from the project's venv (`.venv/bin/moto_server`, installed
//! by `scripts/setup.sh`), started on a free loopback port and stopped on drop; or an already
//! running endpoint someone else prepared.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error("moto_server not found at {0}: run scripts/setup.sh first (it creates .venv with moto[server])")]
    NotInstalled(PathBuf),
    #[error("could not start moto_server: {0}")]
    Spawn(std::io::Error),
    #[error("moto_server at {url} did not answer within {secs}s")]
    NotReady { url: String, secs: u64 },
    #[error("no free loopback port: {0}")]
    NoPort(std::io::Error),
}

/// A running emulator endpoint.
pub struct Moto {
    pub url: String,
    child: Option<Child>,
}

impl Moto {
    /// Starts moto_server from `<root>/.venv` on a free port and waits until it answers.
    pub async fn start(project_root: &Path) -> Result<Moto, MotoError> {
        Moto::start_program(project_root, &project_root.join(".venv/bin/moto_server"), &[]).await
    }

    /// Starts `program` (moto_server or a wrapper of it, run with `args` and then moto's
    /// `-H 127.0.0.1 -p <port>`) and waits until it answers.
    pub async fn start_program(project_root: &Path, program: &Path, args: &[&str]) -> Result<Moto, MotoError> {
        let bin = program.to_path_buf();
        if !bin.exists() || !project_root.join(".venv").exists() {
            return Err(MotoError::NotInstalled(bin));
        }
        let port = free_port().map_err(MotoError::NoPort)?;
        let mut cmd = Command::new(&bin);
        // The emulator stops with its owner even when the owner is killed outright.
        crate::child::dies_with_starting_thread(&mut cmd);
        let child = cmd
            .args(args)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(MotoError::Spawn)?;
        let moto = Moto { url: format!("http://127.0.0.1:{port}"), child: Some(child) };
        moto.wait_ready(Duration::from_secs(30)).await?;
        Ok(moto)
    }

    /// Uses an endpoint that is already running (not stopped on drop).
    pub async fn existing(url: &str) -> Result<Moto, MotoError> {
        let moto = Moto { url: url.trim_end_matches('/').to_string(), child: None };
        moto.wait_ready(Duration::from_secs(10)).await?;
        Ok(moto)
    }

    async fn wait_ready(&self, limit: Duration) -> Result<(), MotoError> {
        let start = Instant::now();
        let addr = self.url.trim_start_matches("http://").to_string();
        let mut delay = Duration::from_millis(50);
        while start.elapsed() < limit {
            if tokio::net::TcpStream::connect(&addr).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(500));
        }
        Err(MotoError::NotReady { url: self.url.clone(), secs: limit.as_secs() })
    }

    /// Whether this process owns (and will stop) the server.
    pub fn is_owned(&self) -> bool {
        self.child.is_some()
    }
}

/// A free TCP port on 127.0.0.1 (the OS picks it).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The project root: `AVIARY_ROOT`, else the nearest ancestor of the current directory (or
/// of this crate at build time) holding `statemachines/`.
pub fn project_root() -> PathBuf {
    if let Ok(r) = std::env::var("AVIARY_ROOT") {
        return PathBuf::from(r);
    }
    let candidates = [std::env::current_dir().ok(), Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")))];
    for start in candidates.into_iter().flatten() {
        for dir in start.ancestors() {
            if dir.join("statemachines").is_dir() && dir.join("Cargo.toml").is_file() {
                return dir.to_path_buf();
            }
        }
    }
    PathBuf::from(".")
}
