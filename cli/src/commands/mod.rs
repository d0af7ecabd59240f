//! One module per command. Each returns the exit code of a successful run (0, or the judge's
//! verdict code) or a [`CliError`] whose [`CliError::exit_code`] the process exits with.

#[cfg(feature = "local")]
pub mod demo;
pub mod deploy;
pub mod destroy;
pub mod judge;
#[cfg(feature = "local")]
pub mod local;
pub mod render;
pub mod show;
pub mod traffic;


use crate::cli::ApiArgs;
use aviary_client::Client;
use crate::error::CliError;
use aviary_client::sigv4::{region_from_host, Signer};

/// What every command may look at besides its own arguments.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// `--json`: machine-readable output on stdout.
    pub json: bool,
}

/// Whether requests to this endpoint are signed: `--no-sign` / `--sign` decide, else sign
/// unless the endpoint is loopback.
pub fn should_sign(api: &ApiArgs, url: &reqwest::Url) -> Result<bool, CliError> {
    if api.no_sign {
        Ok(false)
    } else if api.sign {
        Ok(true)
    } else {
        aviary_client::auto_sign(url).map_err(|e| CliError::Usage(e.to_string()))
    }
}

/// The API client for these options, with a SigV4 signer when requests are signed.
pub async fn connect(api: &ApiArgs) -> Result<Client, CliError> {
    let endpoint = api.endpoint.clone().ok_or_else(|| {
        CliError::Usage(
            "no API endpoint: pass --endpoint URL or set AVIARY_ENDPOINT (the stack's ApiUrl output, or the endpoint `aviary local up` prints)".into(),
        )
    })?;
    let url = reqwest::Url::parse(&endpoint).map_err(|e| CliError::Usage(format!("invalid --endpoint '{endpoint}': {e}")))?;
    let signer = if should_sign(api, &url)? {
        let config = aviary_client::aws::defaults().load().await;
        let region = api
            .region
            .clone()
            .or_else(|| region_from_host(&url))
            .or_else(|| config.region().map(|r| r.to_string()))
            .ok_or_else(|| CliError::Usage("no AWS region to sign requests for: pass --region or set AWS_REGION".into()))?;
        let provider = config.credentials_provider().ok_or_else(|| {
            CliError::Usage("no AWS credentials provider configured (pass --no-sign for a local endpoint)".into())
        })?;
        Some(Signer::new(provider, region))
    } else {
        None
    };
    Ok(Client::new(&endpoint, signer)?)
}
