//! The console's pages, embedded in the binary: one HTML shell, a stylesheet and JavaScript
//! modules (no build step; charts are drawn as SVG by `chart.js`).

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// `(path under /assets/, content type, contents)`.
pub const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("../assets/app.css")),
    ("js/app.js", "text/javascript; charset=utf-8", include_str!("../assets/js/app.js")),
    ("js/api.js", "text/javascript; charset=utf-8", include_str!("../assets/js/api.js")),
    ("js/dom.js", "text/javascript; charset=utf-8", include_str!("../assets/js/dom.js")),
    ("js/deployments.js", "text/javascript; charset=utf-8", include_str!("../assets/js/deployments.js")),
    ("js/form.js", "text/javascript; charset=utf-8", include_str!("../assets/js/form.js")),
    ("js/new.js", "text/javascript; charset=utf-8", include_str!("../assets/js/new.js")),
    ("js/detail.js", "text/javascript; charset=utf-8", include_str!("../assets/js/detail.js")),
    ("js/judge.js", "text/javascript; charset=utf-8", include_str!("../assets/js/judge.js")),
    ("js/verdict.js", "text/javascript; charset=utf-8", include_str!("../assets/js/verdict.js")),
    ("js/chart.js", "text/javascript; charset=utf-8", include_str!("../assets/js/chart.js")),
];

pub const INDEX: &str = include_str!("../assets/index.html");

pub async fn index() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], INDEX).into_response()
}

pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, ct, body)) => ([(header::CONTENT_TYPE, *ct), (header::CACHE_CONTROL, "no-cache")], *body).into_response(),
        None => not_found().await,
    }
}

pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "application/json")], r#"{"error":"NotFound","message":"no such page"}"#).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_pages_import_is_embedded() {
        for (name, _, body) in ASSETS {
            for line in body.lines().filter(|l| l.trim_start().starts_with("import ")) {
                let Some(start) = line.find("'./") else { continue };
                let rest = &line[start + 3..];
                let target = format!("js/{}", &rest[..rest.find('\'').unwrap()]);
                assert!(ASSETS.iter().any(|(n, _, _)| *n == target), "{name} imports {target}, which is not embedded");
            }
        }
        assert!(INDEX.contains("/assets/js/app.js") && INDEX.contains("/assets/app.css"));
    }
}
