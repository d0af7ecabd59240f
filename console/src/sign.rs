//! Building the console's signer from its options: the signing itself is
//! [`aviary_client::sigv4`], which the `aviary` CLI uses too.

use aws_credential_types::provider::SharedCredentialsProvider;

pub use aviary_client::sigv4::{is_loopback, region_from_host, SignError, Signer};
use crate::ConsoleError;

/// The signer for `endpoint`: region from the option, else the endpoint's host, else the AWS
/// config; credentials from the option, else the standard chain.
pub async fn signer_from_options(
    endpoint: &reqwest::Url,
    region: Option<String>,
    credentials: Option<SharedCredentialsProvider>,
) -> Result<Signer, ConsoleError> {
    let region = region.or_else(|| region_from_host(endpoint));
    if let (Some(r), Some(c)) = (&region, &credentials) {
        return Ok(Signer::new(c.clone(), r.clone()));
    }
    let config = aviary_client::aws::defaults().load().await;
    let region = region.or_else(|| config.region().map(|r| r.to_string())).ok_or(ConsoleError::NoRegion)?;
    let provider = credentials.or_else(|| config.credentials_provider()).ok_or(ConsoleError::NoCredentials)?;
    Ok(Signer::new(provider, region))
}
