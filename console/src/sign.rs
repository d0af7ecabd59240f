//! SigV4 signing of proxied API calls (API Gateway with IAM authorisation, service
//! `execute-api`), with credentials from the standard AWS chain resolved per request (so the
//! chain's cache refreshes expiring credentials).

use std::time::SystemTime;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign as sigv4_sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::ConsoleError;

pub const SERVICE: &str = "execute-api";

#[derive(Clone)]
pub struct Signer {
    provider: SharedCredentialsProvider,
    pub region: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("region", &self.region).finish_non_exhaustive()
    }
}

impl Signer {
    pub fn new(provider: SharedCredentialsProvider, region: impl Into<String>) -> Self {
        Signer { provider, region: region.into() }
    }

    /// The region from the option, the endpoint's host, else the AWS config; the credentials
    /// from the option, else the AWS config's chain.
    pub async fn from_options(
        endpoint: &reqwest::Url,
        region: Option<String>,
        credentials: Option<SharedCredentialsProvider>,
    ) -> Result<Signer, ConsoleError> {
        let region = region.or_else(|| region_from_host(endpoint));
        if let (Some(r), Some(c)) = (&region, &credentials) {
            return Ok(Signer::new(c.clone(), r.clone()));
        }
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let region = region.or_else(|| config.region().map(|r| r.to_string())).ok_or(ConsoleError::NoRegion)?;
        let provider = credentials.or_else(|| config.credentials_provider()).ok_or(ConsoleError::NoCredentials)?;
        Ok(Signer::new(provider, region))
    }

    /// The headers to add (`authorization`, `x-amz-date`, `x-amz-security-token` for
    /// temporary credentials).
    pub async fn sign(&self, method: &str, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<Vec<(String, String)>, String> {
        let creds = self.provider.provide_credentials().await.map_err(|e| format!("no AWS credentials: {e}"))?;
        sign_request(method, url, headers, body, &creds, &self.region, SystemTime::now())
    }
}

/// Signs one request (pure). Every header given (which must include `host`) is signed.
pub fn sign_request(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    creds: &Credentials,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let identity: Identity = creds.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign: {e}"))?;
    let request = SignableRequest::new(method, url, headers.iter().map(|(k, v)| (k.as_str(), v.as_str())), SignableBody::Bytes(body))
        .map_err(|e| format!("cannot sign: {e}"))?;
    let (instructions, _) = sigv4_sign(request, &params.into()).map_err(|e| format!("cannot sign: {e}"))?.into_parts();
    Ok(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// Whether the endpoint is this machine (then calls are not signed by default).
pub fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    }
}

/// The region in `<id>.execute-api.<region>.amazonaws.com`.
pub fn region_from_host(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    let mut parts = host.split('.');
    parts.by_ref().find(|p| *p == "execute-api")?;
    parts.next().filter(|r| !r.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn authorization_header_has_the_sigv4_shape() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("TOKEN".into()), None, "test");
        let headers = vec![
            ("host".to_string(), "abc.execute-api.eu-west-1.amazonaws.com".to_string()),
            ("content-type".to_string(), "application/json".to_string()),
        ];
        let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let out = sign_request("POST", "https://abc.execute-api.eu-west-1.amazonaws.com/prod/deployments", &headers, b"{}", &creds, "eu-west-1", time)
            .unwrap();
        let get = |n: &str| out.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
        let auth = get("authorization");
        let prefix = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/execute-api/aws4_request, \
                      SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=";
        assert!(auth.starts_with(prefix), "{auth}");
        let sig = &auth[prefix.len()..];
        assert_eq!(sig.len(), 64);
        assert!(sig.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(get("x-amz-date"), "20150830T123600Z");
        assert_eq!(get("x-amz-security-token"), "TOKEN");
    }

    #[test]
    fn loopback_and_region() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(is_loopback(&u("http://127.0.0.1:9/")));
        assert!(is_loopback(&u("http://localhost:9/")));
        assert!(is_loopback(&u("http://[::1]:9/")));
        assert!(!is_loopback(&u("https://abc.execute-api.eu-west-1.amazonaws.com/prod")));
        assert_eq!(region_from_host(&u("https://abc.execute-api.eu-west-1.amazonaws.com/prod")).as_deref(), Some("eu-west-1"));
        assert_eq!(region_from_host(&u("https://api.example.com/")), None);
    }
}
