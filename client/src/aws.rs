//! The AWS config chain as a user's machine loads it (environment, profiles, SSO, credential
//! processes), with the one HTTPS client Aviary uses everywhere: rustls with ring. The SDK's
//! default client is switched off workspace-wide (it would add aws-lc, a C build, beside the
//! ring that `reqwest` already brings).

use aws_config::{BehaviorVersion, ConfigLoader};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// An HTTPS client for the AWS SDK: rustls with the ring provider, the platform's roots.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// `aws_config::defaults` with [`https_client`]: what every CLI and console SDK call starts from.
pub fn defaults() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_loaded_config_carries_the_client() {
        let config = super::defaults().region(aws_config::Region::new("eu-west-1")).no_credentials().load().await;
        assert!(config.http_client().is_some());
    }
}
