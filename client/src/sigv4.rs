//! SigV4 request signing for the Aviary API (API Gateway HTTP API with IAM authorization,
//! service `execute-api`), with credentials from the standard AWS chain (environment, profile,
//! SSO, web identity, container and instance metadata).

use std::time::SystemTime;

use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

/// The signing name of API Gateway's execute API.
pub const SERVICE: &str = "execute-api";

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --no-sign for a local endpoint): {0}")]
    Credentials(String),
    #[error("cannot sign the request: {0}")]
    Signing(String),
}

/// Signs requests for one region with credentials from a provider (resolved per request, so
/// expiring credentials are refreshed by the provider's cache).
#[derive(Clone)]
pub struct Signer {
    provider: aws_credential_types::provider::SharedCredentialsProvider,
    pub region: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("region", &self.region).finish_non_exhaustive()
    }
}

impl Signer {
    pub fn new(provider: aws_credential_types::provider::SharedCredentialsProvider, region: impl Into<String>) -> Self {
        Signer { provider, region: region.into() }
    }

    /// The headers to add (`authorization`, `x-amz-date`, and `x-amz-security-token` for
    /// temporary credentials) for a request with these headers and body.
    pub async fn sign(&self, method: &str, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<Vec<(String, String)>, SignError> {
        let creds = self.provider.provide_credentials().await.map_err(|e| SignError::Credentials(e.to_string()))?;
        sign_request(&Unsigned { method, url, headers, body }, &creds, &self.region, SERVICE, SystemTime::now())
    }
}

/// A request to sign. `headers` must include `host`; every header given is signed.
pub struct Unsigned<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// Signs one request (pure: fixed credentials and time give a fixed signature).
pub fn sign_request(req: &Unsigned<'_>, creds: &Credentials, region: &str, service: &str, time: SystemTime) -> Result<Vec<(String, String)>, SignError> {
    let Unsigned { method, url, headers, body } = *req;
    let identity: Identity = creds.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| SignError::Signing(e.to_string()))?;
    let request = SignableRequest::new(
        method,
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| SignError::Signing(e.to_string()))?;
    let (instructions, _signature) = sign(request, &params.into()).map_err(|e| SignError::Signing(e.to_string()))?.into_parts();
    Ok(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// Whether an endpoint's host is this machine (then requests are not signed by default).
pub fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    }
}

/// Signing was not asked for explicitly and the endpoint is plain `http://` on another host:
/// a signature (and whatever the answer holds) would cross the network unencrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing to sign requests to {endpoint}: it is plain http on a non-loopback host; use its https:// URL (API Gateway serves only https), or pass --sign to sign anyway (or --no-sign to send unsigned)")]
pub struct InsecureEndpoint {
    pub endpoint: String,
}

/// Whether to sign when the user chose neither `--sign` nor `--no-sign`: never for loopback
/// (the local API front has no SigV4 check), always for `https://`, and a refusal for plain
/// `http://` elsewhere.
pub fn auto_sign(url: &reqwest::Url) -> Result<bool, InsecureEndpoint> {
    if is_loopback(url) {
        Ok(false)
    } else if url.scheme() == "https" {
        Ok(true)
    } else {
        Err(InsecureEndpoint { endpoint: url.to_string() })
    }
}

/// The region in an API Gateway host name (`<id>.execute-api.<region>.amazonaws.com`).
pub fn region_from_host(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    let mut parts = host.split('.');
    while let Some(p) = parts.next() {
        if p == "execute-api" {
            return parts.next().filter(|r| !r.is_empty()).map(str::to_string);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_signing_only_over_https_and_never_for_loopback() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        assert_eq!(auto_sign(&url("https://abc.execute-api.eu-west-1.amazonaws.com/")), Ok(true));
        assert_eq!(auto_sign(&url("http://127.0.0.1:8787/")), Ok(false));
        assert_eq!(auto_sign(&url("http://localhost:8787/")), Ok(false));
        assert!(auto_sign(&url("http://api.example.com/")).unwrap_err().to_string().contains("--sign"));
    }
    use sha2::{Digest, Sha256};
    use std::time::{Duration, UNIX_EPOCH};

    fn creds(token: Option<&str>) -> Credentials {
        Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token.map(str::to_string), None, "test")
    }

    /// 2015-08-30T12:36:00Z, the AWS signing test suite's time.
    fn suite_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    fn header<'a>(hs: &'a [(String, String)], name: &str) -> Option<&'a str> {
        hs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    #[test]
    fn matches_the_aws_signing_test_suite_get_vanilla() {
        let headers = vec![("host".to_string(), "example.amazonaws.com".to_string())];
        let out = sign_request(&Unsigned { method: "GET", url: "https://example.amazonaws.com/", headers: &headers, body: b"" }, &creds(None), "us-east-1", "service", suite_time())
            .unwrap();
        assert_eq!(header(&out, "x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(
            header(&out, "authorization"),
            Some("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        );
    }

    // An independent SigV4 (HMAC over sha2) to check the canonical request the CLI's signing
    // produces for an API call: method, path, sorted query, every header we send, body hash.
    fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let inner = Sha256::new().chain_update(&ipad).chain_update(msg).finalize();
        Sha256::new().chain_update(&opad).chain_update(inner).finalize().to_vec()
    }

    fn expected_signature(canonical: &str, date: &str, region: &str, service: &str, secret: &str) -> String {
        let day = &date[..8];
        let scope = format!("{day}/{region}/{service}/aws4_request");
        let to_sign = format!("AWS4-HMAC-SHA256\n{date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
        let k = hmac(format!("AWS4{secret}").as_bytes(), day.as_bytes());
        let k = hmac(&k, region.as_bytes());
        let k = hmac(&k, service.as_bytes());
        let k = hmac(&k, b"aws4_request");
        hex::encode(hmac(&k, to_sign.as_bytes()))
    }

    #[test]
    fn api_request_canonical_form_is_stable() {
        let body = br#"{"spec":{"name":"web"}}"#;
        let headers = vec![
            ("host".to_string(), "abc123.execute-api.eu-west-1.amazonaws.com".to_string()),
            ("content-type".to_string(), "application/json".to_string()),
            ("idempotency-key".to_string(), "sha256-00ff".to_string()),
        ];
        let url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/deployments?limit=5&cursor=a%2Fb";
        let out = sign_request(&Unsigned { method: "POST", url, headers: &headers, body }, &creds(Some("TOKEN")), "eu-west-1", SERVICE, suite_time()).unwrap();
        let canonical = format!(
            "POST\n/prod/deployments\ncursor=a%2Fb&limit=5\ncontent-type:application/json\nhost:abc123.execute-api.eu-west-1.amazonaws.com\nidempotency-key:sha256-00ff\nx-amz-date:20150830T123600Z\nx-amz-security-token:TOKEN\n\ncontent-type;host;idempotency-key;x-amz-date;x-amz-security-token\n{}",
            hex::encode(Sha256::digest(body))
        );
        let sig = expected_signature(&canonical, "20150830T123600Z", "eu-west-1", SERVICE, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let auth = header(&out, "authorization").unwrap();
        assert_eq!(
            auth,
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/execute-api/aws4_request, SignedHeaders=content-type;host;idempotency-key;x-amz-date;x-amz-security-token, Signature={sig}")
        );
        assert_eq!(header(&out, "x-amz-security-token"), Some("TOKEN"));
        // Fixed inputs, fixed output.
        let again = sign_request(&Unsigned { method: "POST", url, headers: &headers, body }, &creds(Some("TOKEN")), "eu-west-1", SERVICE, suite_time()).unwrap();
        assert_eq!(out, again);
        // Any change to the body changes the signature.
        let other = sign_request(&Unsigned { method: "POST", url, headers: &headers, body: b"{}" }, &creds(Some("TOKEN")), "eu-west-1", SERVICE, suite_time()).unwrap();
        assert_ne!(header(&other, "authorization"), Some(auth));
    }

    #[test]
    fn loopback_and_region_detection() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(is_loopback(&u("http://127.0.0.1:8080")));
        assert!(is_loopback(&u("http://localhost:1/x")));
        assert!(is_loopback(&u("http://[::1]:9000")));
        assert!(!is_loopback(&u("https://abc.execute-api.eu-west-1.amazonaws.com/prod")));
        assert_eq!(region_from_host(&u("https://abc.execute-api.eu-west-1.amazonaws.com/prod")), Some("eu-west-1".into()));
        assert_eq!(region_from_host(&u("https://api.example.com")), None);
    }
}
