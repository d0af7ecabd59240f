//! The CLI's error type and its exit codes.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success |
//! | 1 | usage or validation error (bad flags, invalid `aviary.json`, bad tarball, HTTP 400/422) |
//! | 2 | API error: unreachable, not found, conflict, server error, credentials; a `--stack` that cannot be read or has no `ApiUrl` |
//! | 3 | timeout, or the deployment failed / was rejected while we waited |
//! | 4 | `aviary judge` could not read its inputs (its verdicts use 0, 1 and 2) |

use aviary_core::spec::FieldError;

use aviary_client::ClientError;

pub const EXIT_USAGE: u8 = 1;
pub const EXIT_API: u8 = 2;
pub const EXIT_FAILED: u8 = 3;
pub const EXIT_JUDGE_INPUT: u8 = 4;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{path} is not a valid deployment spec:\n{}", list_fields(.errors))]
    InvalidSpec { path: String, errors: Vec<FieldError> },
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("{file} is not a valid `docker save` tarball: {source}")]
    Tarball { file: String, source: aviary_docker_save::TarballError },
    #[error(transparent)]
    Api(Box<ClientError>),
    /// `--stack`: the stack could not be read or names no API.
    #[error("stack '{name}': {message}")]
    Stack { name: String, message: String },
    #[error("uploading {file} failed: {message}")]
    Upload { file: String, message: String },
    #[error("deployment {id} is {status}: {reason}")]
    DeploymentFailed { id: String, status: String, reason: String },
    #[error("gave up after {secs}s: deployment {id} is still {status} (it goes on; follow it with `aviary events {id} --follow`)")]
    Timeout { id: String, status: String, secs: u64 },
    #[error("{0}")]
    Judge(#[from] aviary_judge::JudgeError),
    #[error("cannot read {path}: {source}")]
    JudgeInput { path: String, source: std::io::Error },
    #[error("{0}")]
    Monitoring(#[from] aviary_monitoring::MonitoringError),
    #[cfg(feature = "local")]
    #[error("local stack: {0}")]
    Local(#[from] aviary_local::runtime::LocalError),
    #[cfg(feature = "local")]
    #[error("local stack: {0}")]
    LocalStack(#[from] aviary_local::stack::StackError),
    /// A failure of the local stack's plumbing (API front, control endpoint, demo).
    #[cfg(feature = "local")]
    #[error("{0}")]
    Other(String),
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        CliError::Api(Box::new(e))
    }
}

fn list_fields(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("  {}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n")
}

impl CliError {
    /// The process exit code for this error (see the module docs).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_)
            | CliError::InvalidSpec { .. }
            | CliError::Read { .. }
            | CliError::Write { .. }
            | CliError::Tarball { .. }
            | CliError::Monitoring(_) => EXIT_USAGE,
            CliError::Api(e) if e.is_validation() => EXIT_USAGE,
            CliError::Api(_) | CliError::Upload { .. } | CliError::Stack { .. } => EXIT_API,
            #[cfg(feature = "local")]
            CliError::Local(_) | CliError::LocalStack(_) | CliError::Other(_) => EXIT_API,
            CliError::DeploymentFailed { .. } | CliError::Timeout { .. } => EXIT_FAILED,
            CliError::Judge(_) | CliError::JudgeInput { .. } => EXIT_JUDGE_INPUT,
        }
    }

    pub fn read(path: impl AsRef<std::path::Path>) -> impl FnOnce(std::io::Error) -> CliError {
        let path = path.as_ref().display().to_string();
        move |source| CliError::Read { path, source }
    }

    pub fn write(path: impl AsRef<std::path::Path>) -> impl FnOnce(std::io::Error) -> CliError {
        let path = path.as_ref().display().to_string();
        move |source| CliError::Write { path, source }
    }
}
