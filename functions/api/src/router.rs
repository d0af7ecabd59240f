//! Which route a method and path name. On AWS, API Gateway only forwards the routes the
//! template declares, but the handler does not rely on that: the local front forwards every
//! request, and a misrouted event must still get a 404 or 405 rather than a wrong action.
//! The same table gives the local front its `routeKey` and `pathParameters`.

use std::collections::HashMap;

use http::Method;

use crate::request::decode_segment;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    CreateDeployment,
    ListDeployments,
    GetDeployment { id: String },
    DestroyDeployment { id: String },
    ListEvents { id: String },
    ChangeTraffic { id: String },
    CreateUploads,
    GetEnvironment,
    StartAnalysis { id: String },
    GetAnalysis { id: String, analysis_id: String },
}

/// A path Aviary serves, with the methods it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    Deployments,
    Deployment,
    Events,
    Traffic,
    Uploads,
    Environment,
    Analyses,
    Analysis,
}

impl Resource {
    fn methods(self) -> &'static [&'static str] {
        match self {
            Resource::Deployments => &["GET", "POST"],
            Resource::Deployment => &["GET", "DELETE"],
            Resource::Events => &["GET"],
            Resource::Traffic => &["PATCH"],
            Resource::Uploads => &["POST"],
            Resource::Environment => &["GET"],
            Resource::Analyses => &["POST"],
            Resource::Analysis => &["GET"],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("no route for {path}")]
    NotFound { path: String },
    #[error("{method} is not allowed on {path}; allowed: {}", allowed.join(", "))]
    MethodNotAllowed { method: String, path: String, allowed: &'static [&'static str] },
}

/// Matches `method` and `path` (segments are percent-decoded; ids are validated later, by
/// the route, so a malformed id gets a 400 naming the field rather than a 404).
pub fn resolve(method: &Method, path: &str) -> Result<Route, RouteError> {
    let not_found = || RouteError::NotFound { path: path.to_string() };
    let raw: Vec<&str> = path.strip_prefix('/').ok_or_else(not_found)?.split('/').collect();
    // Empty segments (`//`, a trailing `/`) never name a resource: API Gateway would not
    // match them either.
    if raw.iter().any(|s| s.is_empty()) {
        return Err(not_found());
    }
    let seg: Vec<String> = raw.iter().map(|s| decode_segment(s)).collect();
    let s: Vec<&str> = seg.iter().map(String::as_str).collect();
    let (resource, id, aid) = match s.as_slice() {
        ["deployments"] => (Resource::Deployments, None, None),
        ["deployments", id] => (Resource::Deployment, Some(*id), None),
        ["deployments", id, "events"] => (Resource::Events, Some(*id), None),
        ["deployments", id, "traffic"] => (Resource::Traffic, Some(*id), None),
        ["deployments", id, "analyses"] => (Resource::Analyses, Some(*id), None),
        ["deployments", id, "analyses", aid] => (Resource::Analysis, Some(*id), Some(*aid)),
        ["uploads"] => (Resource::Uploads, None, None),
        ["environment"] => (Resource::Environment, None, None),
        _ => return Err(not_found()),
    };
    let id = || id.unwrap_or_default().to_string();
    let route = match (resource, method.as_str()) {
        (Resource::Deployments, "GET") => Route::ListDeployments,
        (Resource::Deployments, "POST") => Route::CreateDeployment,
        (Resource::Deployment, "GET") => Route::GetDeployment { id: id() },
        (Resource::Deployment, "DELETE") => Route::DestroyDeployment { id: id() },
        (Resource::Events, "GET") => Route::ListEvents { id: id() },
        (Resource::Traffic, "PATCH") => Route::ChangeTraffic { id: id() },
        (Resource::Uploads, "POST") => Route::CreateUploads,
        (Resource::Environment, "GET") => Route::GetEnvironment,
        (Resource::Analyses, "POST") => Route::StartAnalysis { id: id() },
        (Resource::Analysis, "GET") => Route::GetAnalysis { id: id(), analysis_id: aid.unwrap_or_default().to_string() },
        _ => {
            return Err(RouteError::MethodNotAllowed {
                method: method.to_string(),
                path: path.to_string(),
                allowed: resource.methods(),
            })
        }
    };
    Ok(route)
}

impl Route {
    /// The route as API Gateway names it (`GET /deployments/{id}`), for `routeKey`.
    pub fn route_key(&self) -> &'static str {
        match self {
            Route::CreateDeployment => "POST /deployments",
            Route::ListDeployments => "GET /deployments",
            Route::GetDeployment { .. } => "GET /deployments/{id}",
            Route::DestroyDeployment { .. } => "DELETE /deployments/{id}",
            Route::ListEvents { .. } => "GET /deployments/{id}/events",
            Route::ChangeTraffic { .. } => "PATCH /deployments/{id}/traffic",
            Route::CreateUploads => "POST /uploads",
            Route::GetEnvironment => "GET /environment",
            Route::StartAnalysis { .. } => "POST /deployments/{id}/analyses",
            Route::GetAnalysis { .. } => "GET /deployments/{id}/analyses/{aid}",
        }
    }

    /// What API Gateway puts in `pathParameters`.
    pub fn path_parameters(&self) -> HashMap<String, String> {
        let mut p = HashMap::new();
        match self {
            Route::GetDeployment { id }
            | Route::DestroyDeployment { id }
            | Route::ListEvents { id }
            | Route::ChangeTraffic { id }
            | Route::StartAnalysis { id } => {
                p.insert("id".into(), id.clone());
            }
            Route::GetAnalysis { id, analysis_id } => {
                p.insert("id".into(), id.clone());
                p.insert("aid".into(), analysis_id.clone());
            }
            Route::CreateDeployment | Route::ListDeployments | Route::CreateUploads | Route::GetEnvironment => {}
        }
        p
    }
}

/// Every route key, as declared in the SAM template and `api/openapi.yaml`.
pub const ROUTE_KEYS: [&str; 10] = [
    "POST /deployments",
    "GET /deployments",
    "GET /deployments/{id}",
    "DELETE /deployments/{id}",
    "GET /deployments/{id}/events",
    "PATCH /deployments/{id}/traffic",
    "POST /uploads",
    "GET /environment",
    "POST /deployments/{id}/analyses",
    "GET /deployments/{id}/analyses/{aid}",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn r(m: &str, p: &str) -> Result<Route, RouteError> {
        resolve(&Method::from_bytes(m.as_bytes()).unwrap(), p)
    }

    #[test]
    fn every_route_resolves_with_its_parameters() {
        assert_eq!(r("POST", "/deployments"), Ok(Route::CreateDeployment));
        assert_eq!(r("GET", "/deployments"), Ok(Route::ListDeployments));
        assert_eq!(r("GET", "/deployments/web-0123456789"), Ok(Route::GetDeployment { id: "web-0123456789".into() }));
        assert_eq!(r("DELETE", "/deployments/x"), Ok(Route::DestroyDeployment { id: "x".into() }));
        assert_eq!(r("GET", "/deployments/x/events"), Ok(Route::ListEvents { id: "x".into() }));
        assert_eq!(r("PATCH", "/deployments/x/traffic"), Ok(Route::ChangeTraffic { id: "x".into() }));
        assert_eq!(r("POST", "/uploads"), Ok(Route::CreateUploads));
        assert_eq!(r("GET", "/environment"), Ok(Route::GetEnvironment));
        assert_eq!(r("POST", "/deployments/x/analyses"), Ok(Route::StartAnalysis { id: "x".into() }));
        assert_eq!(r("GET", "/deployments/x/analyses/a1"), Ok(Route::GetAnalysis { id: "x".into(), analysis_id: "a1".into() }));
    }

    #[test]
    fn route_keys_are_the_declared_ones() {
        let routes = [
            r("POST", "/deployments"),
            r("GET", "/deployments"),
            r("GET", "/deployments/x"),
            r("DELETE", "/deployments/x"),
            r("GET", "/deployments/x/events"),
            r("PATCH", "/deployments/x/traffic"),
            r("POST", "/uploads"),
            r("GET", "/environment"),
            r("POST", "/deployments/x/analyses"),
            r("GET", "/deployments/x/analyses/y"),
        ];
        let keys: Vec<&str> = routes.iter().map(|r| r.as_ref().unwrap().route_key()).collect();
        assert_eq!(keys, ROUTE_KEYS.to_vec());
        assert_eq!(r("GET", "/deployments/x/analyses/y").unwrap().path_parameters().get("aid").map(String::as_str), Some("y"));
    }

    #[test]
    fn wrong_methods_are_405_with_the_allowed_list() {
        match r("PUT", "/deployments") {
            Err(RouteError::MethodNotAllowed { allowed, .. }) => assert_eq!(allowed, &["GET", "POST"]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(r("GET", "/deployments/x/traffic"), Err(RouteError::MethodNotAllowed { .. })));
        assert!(matches!(r("OPTIONS", "/environment"), Err(RouteError::MethodNotAllowed { .. })));
    }

    #[test]
    fn unknown_and_malformed_paths_are_404() {
        for p in ["/", "", "/deployment", "/deployments/", "/deployments//events", "/deployments/x/y", "/uploads/x", "deployments"] {
            assert!(matches!(r("GET", p), Err(RouteError::NotFound { .. })), "{p}");
        }
    }

    #[test]
    fn segments_are_percent_decoded() {
        assert_eq!(r("GET", "/deployments/a%20b"), Ok(Route::GetDeployment { id: "a b".into() }));
        // An encoded slash stays inside the id (and the id check rejects it later).
        assert_eq!(r("GET", "/deployments/a%2Fb"), Ok(Route::GetDeployment { id: "a/b".into() }));
    }
}
