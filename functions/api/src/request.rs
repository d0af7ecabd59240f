//! The parts of an API Gateway HTTP API (payload format 2.0) event the handler uses, read once
//! and normalised: method, path (without a named stage's prefix), decoded query pairs, the
//! body (base64-decoded when API Gateway encoded it), the request id and the IAM caller.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aviary_shared::spec::FieldError;
use http::HeaderMap;

use crate::responses::ApiError;

/// Largest request body accepted. Specs are at most 256 KiB (the S3 path's limit); the rest
/// of the API takes small JSON documents.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: http::Method,
    pub path: String,
    /// Query parameters in order, percent- and `+`-decoded.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    /// API Gateway's request id (the default idempotency key of `POST /deployments`).
    pub request_id: Option<String>,
    /// Who signed the request (the IAM authoriser's user ARN), for the event log.
    pub caller: Option<String>,
}

impl ApiRequest {
    /// Reads the event. Fails only on what the client sent (an undecodable or oversized body).
    pub fn from_event(event: &ApiGatewayV2httpRequest) -> Result<ApiRequest, ApiError> {
        let ctx = &event.request_context;
        let mut path = event.raw_path.clone().or_else(|| ctx.http.path.clone()).unwrap_or_else(|| "/".into());
        // Behind a named stage the raw path starts with `/<stage>`; `$default` has no prefix.
        if let Some(stage) = ctx.stage.as_deref().filter(|s| !s.is_empty() && *s != "$default") {
            let prefix = format!("/{stage}");
            if path == prefix {
                path = "/".into();
            } else if let Some(rest) = path.strip_prefix(&prefix).filter(|r| r.starts_with('/')) {
                path = rest.to_string();
            }
        }
        let query = match event.raw_query_string.as_deref() {
            Some(raw) => parse_query(raw),
            // Without the raw string (a hand-made event) fall back to the parsed map.
            None => event
                .query_string_parameters
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let body = match event.body.as_deref() {
            None | Some("") => None,
            Some(b) if event.is_base64_encoded => Some(aws_smithy_types::base64::decode(b).map_err(|_| {
                ApiError::Validation(vec![FieldError::new("body", "the body is marked base64-encoded but does not decode")])
            })?),
            Some(b) => Some(b.as_bytes().to_vec()),
        };
        if body.as_ref().is_some_and(|b| b.len() > MAX_BODY_BYTES) {
            return Err(ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES });
        }
        let caller = ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.iam.as_ref())
            .and_then(|iam| iam.user_arn.clone().or_else(|| iam.caller_id.clone()))
            .filter(|c| !c.is_empty());
        Ok(ApiRequest {
            method: ctx.http.method.clone(),
            path,
            query,
            headers: event.headers.clone(),
            body,
            request_id: ctx.request_id.clone().filter(|r| !r.is_empty()),
            caller,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `arn:aws:iam::123456789012:user/alice`, or `an unidentified caller`.
    pub fn caller_label(&self) -> &str {
        self.caller.as_deref().unwrap_or("an unidentified caller")
    }
}

/// Splits `a=1&b=x%20y` into decoded pairs (`+` is a space, as in forms and API Gateway).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &str) -> String {
    let spaced = s.replace('+', " ");
    match urlencoding::decode(&spaced) {
        Ok(c) => c.into_owned(),
        // Invalid UTF-8 after decoding: keep the text as sent, validation rejects it later.
        Err(_) => spaced,
    }
}

/// Percent-decodes one path segment (`%2F` stays inside the segment).
pub fn decode_segment(s: &str) -> String {
    match urlencoding::decode(s) {
        Ok(c) => c.into_owned(),
        Err(_) => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(path: &str, stage: Option<&str>) -> ApiGatewayV2httpRequest {
        let mut e = ApiGatewayV2httpRequest::default();
        e.raw_path = Some(path.into());
        e.request_context.stage = stage.map(str::to_string);
        e.request_context.http.method = http::Method::GET;
        e
    }

    #[test]
    fn query_strings_are_decoded_in_order() {
        assert_eq!(
            parse_query("status=ACTIVE&cursor=a%2Bb&x=1+2&flag&&empty="),
            vec![
                ("status".into(), "ACTIVE".into()),
                ("cursor".into(), "a+b".into()),
                ("x".into(), "1 2".into()),
                ("flag".into(), "".into()),
                ("empty".into(), "".into()),
            ]
        );
    }

    #[test]
    fn a_named_stage_prefix_is_removed_and_default_is_not() {
        assert_eq!(ApiRequest::from_event(&event("/prod/deployments", Some("prod"))).unwrap().path, "/deployments");
        assert_eq!(ApiRequest::from_event(&event("/deployments", Some("$default"))).unwrap().path, "/deployments");
        // A path that merely starts with the stage's letters keeps them.
        assert_eq!(ApiRequest::from_event(&event("/production", Some("prod"))).unwrap().path, "/production");
    }

    #[test]
    fn base64_bodies_are_decoded_and_bad_ones_are_the_callers_fault() {
        let mut e = event("/uploads", None);
        e.body = Some(aws_smithy_types::base64::encode(b"{\"a\":1}"));
        e.is_base64_encoded = true;
        assert_eq!(ApiRequest::from_event(&e).unwrap().body.unwrap(), b"{\"a\":1}");
        e.body = Some("***".into());
        assert!(matches!(ApiRequest::from_event(&e), Err(ApiError::Validation(_))));
    }

    #[test]
    fn oversized_bodies_are_refused() {
        let mut e = event("/deployments", None);
        e.body = Some("x".repeat(MAX_BODY_BYTES + 1));
        assert!(matches!(ApiRequest::from_event(&e), Err(ApiError::PayloadTooLarge { .. })));
    }

    #[test]
    fn the_caller_comes_from_the_iam_authoriser() {
        let mut e = event("/deployments", None);
        assert_eq!(ApiRequest::from_event(&e).unwrap().caller_label(), "an unidentified caller");
        let mut iam = aws_lambda_events::apigw::ApiGatewayRequestAuthorizerIamDescription::default();
        iam.user_arn = Some("arn:aws:iam::123456789012:user/alice".into());
        let mut auth = aws_lambda_events::apigw::ApiGatewayRequestAuthorizer::default();
        auth.iam = Some(iam);
        e.request_context.authorizer = Some(auth);
        assert_eq!(ApiRequest::from_event(&e).unwrap().caller.as_deref(), Some("arn:aws:iam::123456789012:user/alice"));
    }
}
