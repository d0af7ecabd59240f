//! `aviary traffic <id>`: live traffic control of an ACTIVE canary (`PATCH
//! /deployments/{id}/traffic`): its share, the rule's conditions, stickiness.

use aviary_client::TrafficChange;
use aviary_core::spec::{HeaderCondition, QueryStringCondition, RuleConditions, Stickiness};

use crate::cli::{ApiArgs, TrafficArgs};
use crate::commands::{connect, Ctx};
use crate::error::CliError;
use crate::output::{print_json, weights_table};

/// The change the flags ask for. Any condition flag replaces the rule's conditions as a whole.
pub fn change_from_args(a: &TrafficArgs) -> Result<TrafficChange, CliError> {
    let any_condition = !(a.paths.is_empty()
        && a.methods.is_empty()
        && a.headers.is_empty()
        && a.hosts.is_empty()
        && a.source_ips.is_empty()
        && a.queries.is_empty());
    let conditions = if a.clear_conditions {
        Some(RuleConditions::default())
    } else if any_condition {
        let mut http_headers: Vec<HeaderCondition> = Vec::new();
        for (k, v) in &a.headers {
            match http_headers.iter_mut().find(|h| h.name.eq_ignore_ascii_case(k)) {
                Some(h) => h.values.push(v.clone()),
                None => http_headers.push(HeaderCondition { name: k.clone(), values: vec![v.clone()] }),
            }
        }
        let query_strings = a
            .queries
            .iter()
            .map(|q| match q.split_once('=') {
                Some((k, v)) if !k.is_empty() => QueryStringCondition { key: Some(k.to_string()), value: v.to_string() },
                Some((_, v)) => QueryStringCondition { key: None, value: v.to_string() },
                None => QueryStringCondition { key: None, value: q.clone() },
            })
            .collect();
        Some(RuleConditions {
            path_patterns: a.paths.clone(),
            http_methods: a.methods.iter().map(|m| m.to_ascii_uppercase()).collect(),
            host_headers: a.hosts.clone(),
            source_ips: a.source_ips.clone(),
            http_headers,
            query_strings,
        })
    } else {
        None
    };
    let stickiness = match (a.sticky, a.no_sticky) {
        (Some(s), _) => Some(Stickiness { enabled: true, duration_seconds: s }),
        (None, true) => Some(Stickiness { enabled: false, duration_seconds: 1 }),
        (None, false) => None,
    };
    let change = TrafficChange { traffic_percent: a.percent, conditions, stickiness };
    if change == TrafficChange::default() {
        return Err(CliError::Usage(
            "nothing to change: pass --percent, a condition flag (--path, --method, --header, --host, --source-ip, --query, --clear-conditions), --sticky or --no-sticky".into(),
        ));
    }
    if let Some(p) = a.percent {
        if !(p.is_finite() && p > 0.0) {
            return Err(CliError::Usage(format!("--percent must be a positive number, got {p}")));
        }
    }
    Ok(change)
}

pub async fn run(args: TrafficArgs, outer: &ApiArgs, ctx: Ctx) -> Result<u8, CliError> {
    let change = change_from_args(&args)?;
    let client = connect(&args.api.or(outer)).await?;
    let d = client.change_traffic(&args.id, &change).await?;
    if ctx.json {
        print_json(&d);
    } else {
        println!("{}: traffic changed", d.id);
        if let Some(s) = &d.spec {
            println!("conditions  {}", super::show::conditions_text(&s.conditions));
            println!(
                "stickiness  {}",
                s.stickiness.as_ref().filter(|s| s.enabled).map(|s| format!("{} s", s.duration_seconds)).unwrap_or_else(|| "off".into())
            );
        }
        if let Some(w) = &d.weights {
            print!("{}", weights_table(w));
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn args(extra: &[&str]) -> TrafficArgs {
        let mut v = vec!["aviary", "traffic", "web-1"];
        v.extend_from_slice(extra);
        match Cli::try_parse_from(v).unwrap().command {
            Command::Traffic(t) => t,
            _ => unreachable!(),
        }
    }

    #[test]
    fn percent_only_leaves_the_rest() {
        let c = change_from_args(&args(&["--percent", "10"])).unwrap();
        assert_eq!(serde_json::to_value(&c).unwrap(), serde_json::json!({"trafficPercent": 10.0}));
    }

    #[test]
    fn conditions_and_stickiness_serialise_as_the_api_expects() {
        let c = change_from_args(&args(&[
            "--path", "/api/*", "--method", "get", "--header", "x-a=1", "--header", "X-A=2", "--host", "shop.example.com",
            "--source-ip", "10.0.0.0/8", "--query", "beta=on", "--query", "=any", "--no-sticky",
        ]))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({
                "conditions": {
                    "pathPatterns": ["/api/*"], "httpMethods": ["GET"], "hostHeaders": ["shop.example.com"],
                    "sourceIps": ["10.0.0.0/8"], "httpHeaders": [{"name": "x-a", "values": ["1", "2"]}],
                    "queryStrings": [{"key": "beta", "value": "on"}, {"value": "any"}]
                },
                "stickiness": {"enabled": false, "durationSeconds": 1}
            })
        );
        let c = change_from_args(&args(&["--clear-conditions", "--sticky", "60"])).unwrap();
        assert_eq!(c.conditions, Some(RuleConditions::default()));
        assert_eq!(c.stickiness, Some(Stickiness { enabled: true, duration_seconds: 60 }));
    }

    #[test]
    fn nothing_to_change_is_a_usage_error() {
        let e = change_from_args(&args(&[])).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert_eq!(change_from_args(&args(&["--percent", "0"])).unwrap_err().exit_code(), 1);
    }
}
