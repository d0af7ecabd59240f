//! The three places that declare the API's routes agree: the router (`api::route_keys`), the SAM
//! template's HttpApi events (what API Gateway forwards) and `api/openapi.yaml`.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().parent().unwrap()
}

/// `Properties: { ApiId: !Ref HttpApi, Method: POST, Path: /deployments, ... }`
fn template_routes() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("infra/template.yaml")).expect("infra/template.yaml");
    text.lines()
        .filter(|l| l.contains("ApiId: !Ref HttpApi"))
        .map(|l| {
            let field = |name: &str| {
                let rest = &l[l.find(&format!("{name}: ")).unwrap_or_else(|| panic!("{name} in {l}")) + name.len() + 2..];
                rest.split(',').next().unwrap().trim().trim_matches('"').to_string()
            };
            format!("{} {}", field("Method"), field("Path"))
        })
        .collect()
}

/// Paths at two spaces under `paths:`, methods at four.
fn openapi_routes() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("api/openapi.yaml")).expect("api/openapi.yaml");
    let mut routes = BTreeSet::new();
    let mut in_paths = false;
    let mut path = String::new();
    for l in text.lines() {
        if !l.starts_with(' ') && !l.is_empty() {
            in_paths = l == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = l.strip_prefix("  /") {
            path = format!("/{}", p.trim_end_matches(':'));
        } else if let Some(m) = l.strip_prefix("    ").and_then(|m| m.strip_suffix(':')) {
            if ["get", "post", "put", "patch", "delete"].contains(&m) {
                routes.insert(format!("{} {path}", m.to_uppercase()));
            }
        }
    }
    routes
}

#[test]
fn router_template_and_openapi_declare_the_same_routes() {
    let router: BTreeSet<String> = api::route_keys().iter().map(|s| s.to_string()).collect();
    assert_eq!(router.len(), 12);
    assert_eq!(template_routes(), router, "infra/template.yaml HttpApi events vs the router");
    assert_eq!(openapi_routes(), router, "api/openapi.yaml paths vs the router");
}
