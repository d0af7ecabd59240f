//! Who is asking, and where the request really points: [`Invocation`] (the front's request id
//! and the authenticated caller) and the middleware that reads them from API Gateway's request
//! context on Lambda. API Gateway authenticates (SigV4, IAM authoriser); the router trusts
//! what it says. Another front (the local server) inserts its own [`Invocation`].

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::uri::{PathAndQuery, Uri};
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;

/// A request extension; absent, a request has no id and an unidentified caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Invocation {
    /// The front's request id (the default idempotency key of `POST /deployments`).
    pub request_id: Option<String>,
    /// Who signed the request (an IAM ARN), for the event log.
    pub caller: Option<String>,
}

impl Invocation {
    /// `arn:aws:iam::123456789012:user/alice`, or `an unidentified caller`.
    pub fn caller_label(&self) -> &str {
        self.caller.as_deref().unwrap_or("an unidentified caller")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Invocation {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Invocation>().cloned().unwrap_or_default())
    }
}

/// On Lambda (the request came through `lambda_http` from an HTTP API event): records the
/// request id and IAM caller as an [`Invocation`], and removes a named stage's `/<stage>`
/// prefix from the path so routes match as on `$default`. Runs before routing.
pub async fn from_lambda(mut req: Request, next: Next) -> Response {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.extensions().get::<RequestContext>() {
        let caller = ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.iam.as_ref())
            .and_then(|iam| iam.user_arn.clone().or_else(|| iam.caller_id.clone()))
            .filter(|c| !c.is_empty());
        let invocation = Invocation { request_id: ctx.request_id.clone().filter(|r| !r.is_empty()), caller };
        let stage = ctx.stage.clone().filter(|s| !s.is_empty() && s != "$default");
        req.extensions_mut().insert(invocation);
        if let Some(stage) = stage {
            let stripped = strip_stage(req.uri(), &stage);
            if let Some(uri) = stripped {
                *req.uri_mut() = uri;
            }
        }
    }
    next.run(req).await
}

/// `/<stage>/deployments?x` → `/deployments?x`; `/<stage>` → `/`; anything else unchanged
/// (`None`). A path that merely starts with the stage's letters keeps them.
fn strip_stage(uri: &Uri, stage: &str) -> Option<Uri> {
    let prefix = format!("/{stage}");
    let rest = uri.path().strip_prefix(&prefix)?;
    let path = match rest {
        "" => "/",
        r if r.starts_with('/') => r,
        _ => return None,
    };
    let pq = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(pq).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(u: &str, stage: &str) -> String {
        let uri: Uri = u.parse().unwrap();
        strip_stage(&uri, stage).map(|u| u.to_string()).unwrap_or_else(|| uri.to_string())
    }

    #[test]
    fn a_named_stage_prefix_is_removed_once() {
        assert_eq!(strip("/prod/deployments?limit=1", "prod"), "/deployments?limit=1");
        assert_eq!(strip("https://api.example.com/prod/deployments", "prod"), "https://api.example.com/deployments");
        assert_eq!(strip("/prod", "prod"), "/");
        // A path that merely starts with the stage's letters keeps them.
        assert_eq!(strip("/production", "prod"), "/production");
        assert_eq!(strip("/deployments", "prod"), "/deployments");
    }

    #[test]
    fn an_unidentified_caller_is_named_as_such() {
        assert_eq!(Invocation::default().caller_label(), "an unidentified caller");
    }
}
