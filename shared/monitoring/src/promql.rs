//! Every PromQL expression in the rendered dashboard and canary config, with Grafana's and
//! Kayenta's variables bound, so the checks can compile them (`promtool check rules`) and run
//! them against a real Prometheus. Read from the rendered files, not from [`super::queries`],
//! so what is checked is what ships.

use serde_json::Value;

use super::grafana::DASHBOARD_FILE;
use super::rendered::RenderedFile;
use super::ROLES;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PromExpr {
    /// Where it came from, e.g. `dashboard: CPU busy (A)`.
    pub source: String,
    pub expr: String,
    /// The `role` values one evaluation must return: both for the dashboard, the bound scope
    /// for Kayenta.
    pub roles: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PromqlError {
    #[error("{0} is not among the rendered files")]
    Missing(String),
    #[error("{file} is not valid JSON: {source}")]
    Json { file: String, source: serde_json::Error },
}

fn parse(files: &[RenderedFile], path: &str) -> Result<Value, PromqlError> {
    let f = files.iter().find(|f| f.path == path).ok_or_else(|| PromqlError::Missing(path.to_string()))?;
    serde_json::from_str(&f.contents).map_err(|source| PromqlError::Json { file: path.to_string(), source })
}

/// Binds Grafana's variables: `$deployment` and `$__rate_interval` (to `rate_window`).
pub fn bind_grafana(expr: &str, deployment_id: &str, rate_window: &str) -> String {
    expr.replace("$__rate_interval", rate_window).replace("$deployment", deployment_id)
}

/// Binds Kayenta's template variable `${scope}`.
pub fn bind_kayenta(template: &str, scope: &str) -> String {
    template.replace("${scope}", scope)
}

pub fn extract(files: &[RenderedFile], deployment_id: &str, rate_window: &str) -> Result<Vec<PromExpr>, PromqlError> {
    let mut out = Vec::new();
    let dashboard = parse(files, &format!("grafana/dashboards/{DASHBOARD_FILE}"))?;
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            if target["datasource"]["type"] != "prometheus" {
                continue;
            }
            if let Some(expr) = target["expr"].as_str() {
                out.push(PromExpr {
                    source: format!(
                        "dashboard: {} ({})",
                        panel["title"].as_str().unwrap_or("?"),
                        target["refId"].as_str().unwrap_or("?")
                    ),
                    expr: bind_grafana(expr, deployment_id, rate_window),
                    roles: ROLES.iter().map(|r| r.to_string()).collect(),
                });
            }
        }
    }
    let config = parse(files, "kayenta/canary-config.json")?;
    for metric in config["metrics"].as_array().into_iter().flatten() {
        let Some(template) = metric["query"]["customInlineTemplate"].as_str() else { continue };
        let promql = template.strip_prefix("PromQL:").unwrap_or(template);
        for role in ROLES {
            out.push(PromExpr {
                source: format!("canary config: {} (scope {role})", metric["name"].as_str().unwrap_or("?")),
                expr: bind_kayenta(promql, role),
                roles: vec![role.to_string()],
            });
        }
    }
    Ok(out)
}

/// A Prometheus rules file with each expression as a recording rule, for `promtool check rules`.
pub fn recording_rules(exprs: &[PromExpr]) -> String {
    let mut y = String::from("# Every PromQL expression Aviary renders, as recording rules (for promtool check rules).\ngroups:\n  - name: aviary-rendered-queries\n    rules:\n");
    for (i, e) in exprs.iter().enumerate() {
        y.push_str(&format!(
            "      # {}\n      - record: aviary:rendered_query_{}\n        expr: {}\n",
            e.source.replace('\n', " "),
            i + 1,
            super::yaml::q(&e.expr)
        ));
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::MonitorContext;
    use crate::render::{render_all, tests::spec};

    #[test]
    fn finds_every_expression_with_variables_bound() {
        let files = render_all(&spec(Some("/metrics")), &MonitorContext::new("web-1", "eu-west-1"));
        let exprs = extract(&files, "web-1", "30s").unwrap();
        // 11 dashboard targets + 5 canary metrics x 2 scopes.
        assert_eq!(exprs.len(), 21);
        for e in &exprs {
            assert!(!e.expr.contains('$'), "unbound variable in {}: {}", e.source, e.expr);
            assert!(e.expr.contains("deployment=\"web-1\""), "{}", e.expr);
        }
        assert!(exprs.iter().any(|e| e.roles == ["canary"] && e.expr.contains("role=\"canary\"")));
        let rules = recording_rules(&exprs);
        assert_eq!(rules.matches("- record: aviary:rendered_query_").count(), 21);
    }

    #[test]
    fn missing_files_are_reported() {
        assert!(matches!(extract(&[], "x", "1m"), Err(PromqlError::Missing(_))));
    }
}
