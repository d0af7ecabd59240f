//! `aviary traffic <id>`: live traffic control of an ACTIVE canary (`PATCH
//! /deployments/{id}/traffic`): its share, the rule's conditions, stickiness.

use std::io::{IsTerminal, Write};

use aviary_client::TrafficChange;
use aviary_core::spec::{HeaderCondition, QueryStringCondition, RuleConditions, Stickiness};

use crate::cli::{ApiArgs, TrafficArgs};
use crate::commands::{connect, Ctx};
use crate::error::CliError;
use crate::output::{print_json, weights_table};

/// How the flags change the rule's conditions.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionEdit {
    /// No condition flag: the conditions stay.
    Keep,
    /// `--replace-conditions` / `--clear-conditions`: these conditions, whatever was there.
    Replace(RuleConditions),
    /// `--add-…` / `--remove-…`: the current conditions with values added and removed.
    Edit { add: RuleConditions, remove: Removals },
}

/// Values `--remove-…` names (a header without a value removes the whole header).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Removals {
    pub paths: Vec<String>,
    pub methods: Vec<String>,
    pub hosts: Vec<String>,
    pub source_ips: Vec<String>,
    pub headers: Vec<(String, Option<String>)>,
    pub queries: Vec<QueryStringCondition>,
}

/// What the flags ask for, before the rule as it is now is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Requested {
    pub percent: Option<f64>,
    pub conditions: ConditionEdit,
    pub stickiness: Option<Stickiness>,
}

fn query(q: &str) -> QueryStringCondition {
    match q.split_once('=') {
        Some((k, v)) if !k.is_empty() => QueryStringCondition { key: Some(k.to_string()), value: v.to_string() },
        Some((_, v)) => QueryStringCondition { key: None, value: v.to_string() },
        None => QueryStringCondition { key: None, value: q.to_string() },
    }
}

fn headers(pairs: &[(String, String)]) -> Vec<HeaderCondition> {
    let mut out: Vec<HeaderCondition> = Vec::new();
    for (k, v) in pairs {
        match out.iter_mut().find(|h| h.name.eq_ignore_ascii_case(k)) {
            Some(h) => h.values.push(v.clone()),
            None => out.push(HeaderCondition { name: k.clone(), values: vec![v.clone()] }),
        }
    }
    out
}

fn upper(v: &[String]) -> Vec<String> {
    v.iter().map(|m| m.to_ascii_uppercase()).collect()
}

/// Reads the flags. Conditions change only when asked explicitly: `--path` and its siblings
/// replace the rule's conditions, so they need `--replace-conditions`; `--add-…`/`--remove-…`
/// edit them.
pub fn requested_from_args(a: &TrafficArgs) -> Result<Requested, CliError> {
    let plain = !(a.paths.is_empty() && a.methods.is_empty() && a.headers.is_empty() && a.hosts.is_empty() && a.source_ips.is_empty() && a.queries.is_empty());
    let edits = !(a.add_paths.is_empty()
        && a.remove_paths.is_empty()
        && a.add_methods.is_empty()
        && a.remove_methods.is_empty()
        && a.add_headers.is_empty()
        && a.remove_headers.is_empty()
        && a.add_hosts.is_empty()
        && a.remove_hosts.is_empty()
        && a.add_source_ips.is_empty()
        && a.remove_source_ips.is_empty()
        && a.add_queries.is_empty()
        && a.remove_queries.is_empty());
    if plain && !a.replace_conditions {
        return Err(CliError::Usage(
            "--path, --method, --header, --host, --source-ip and --query replace all of the rule's conditions (dropping any gate such as a header); \
             add --replace-conditions to do that, or use --add-path/--remove-path (and --add-…/--remove-… for the others) to edit them"
                .into(),
        ));
    }
    let conditions = if a.clear_conditions || a.replace_conditions {
        ConditionEdit::Replace(RuleConditions {
            path_patterns: a.paths.clone(),
            http_methods: upper(&a.methods),
            host_headers: a.hosts.clone(),
            source_ips: a.source_ips.clone(),
            http_headers: headers(&a.headers),
            query_strings: a.queries.iter().map(|q| query(q)).collect(),
        })
    } else if edits {
        ConditionEdit::Edit {
            add: RuleConditions {
                path_patterns: a.add_paths.clone(),
                http_methods: upper(&a.add_methods),
                host_headers: a.add_hosts.clone(),
                source_ips: a.add_source_ips.clone(),
                http_headers: headers(&a.add_headers),
                query_strings: a.add_queries.iter().map(|q| query(q)).collect(),
            },
            remove: Removals {
                paths: a.remove_paths.clone(),
                methods: upper(&a.remove_methods),
                hosts: a.remove_hosts.clone(),
                source_ips: a.remove_source_ips.clone(),
                headers: a
                    .remove_headers
                    .iter()
                    .map(|h| match h.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (h.clone(), None),
                    })
                    .collect(),
                queries: a.remove_queries.iter().map(|q| query(q)).collect(),
            },
        }
    } else {
        ConditionEdit::Keep
    };
    let stickiness = match (a.sticky, a.no_sticky) {
        (Some(s), _) => Some(Stickiness { enabled: true, duration_seconds: s }),
        (None, true) => Some(Stickiness { enabled: false, duration_seconds: 1 }),
        (None, false) => None,
    };
    if a.percent.is_none() && conditions == ConditionEdit::Keep && stickiness.is_none() {
        return Err(CliError::Usage(
            "nothing to change: pass --percent, a condition flag (--add-path/--remove-path and the like, --replace-conditions, --clear-conditions), --sticky or --no-sticky".into(),
        ));
    }
    if let Some(p) = a.percent {
        if !(p.is_finite() && p > 0.0) {
            return Err(CliError::Usage(format!("--percent must be a positive number, got {p}")));
        }
    }
    Ok(Requested { percent: a.percent, conditions, stickiness })
}

fn remove_values(kind: &str, list: &mut Vec<String>, gone: &[String], same: fn(&str, &str) -> bool) -> Result<(), CliError> {
    for g in gone {
        let before = list.len();
        list.retain(|v| !same(v, g));
        if list.len() == before {
            return Err(CliError::Usage(format!("the rule has no {kind} condition '{g}' to remove (it has: {})", shown(list))));
        }
    }
    Ok(())
}

fn add_values(list: &mut Vec<String>, new: &[String], same: fn(&str, &str) -> bool) {
    for n in new {
        if !list.iter().any(|v| same(v, n)) {
            list.push(n.clone());
        }
    }
}

fn shown(list: &[String]) -> String {
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

fn exact(a: &str, b: &str) -> bool {
    a == b
}

fn ignore_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The conditions after `edit`, or None when they stay. Removing a value the rule does not
/// have is an error (nothing is changed), so a typo never passes as a change.
pub fn apply(current: &RuleConditions, edit: &ConditionEdit) -> Result<Option<RuleConditions>, CliError> {
    let (add, remove) = match edit {
        ConditionEdit::Keep => return Ok(None),
        ConditionEdit::Replace(c) => return Ok(Some(c.clone())),
        ConditionEdit::Edit { add, remove } => (add, remove),
    };
    let mut c = current.clone();
    // ALB: path patterns are case-sensitive; methods, hosts and header names are not.
    remove_values("path", &mut c.path_patterns, &remove.paths, exact)?;
    remove_values("method", &mut c.http_methods, &remove.methods, ignore_case)?;
    remove_values("host", &mut c.host_headers, &remove.hosts, ignore_case)?;
    remove_values("source IP", &mut c.source_ips, &remove.source_ips, exact)?;
    for (name, value) in &remove.headers {
        let Some(i) = c.http_headers.iter().position(|h| h.name.eq_ignore_ascii_case(name)) else {
            let names: Vec<String> = c.http_headers.iter().map(|h| h.name.clone()).collect();
            return Err(CliError::Usage(format!("the rule has no header condition '{name}' to remove (it has: {})", shown(&names))));
        };
        match value {
            None => {
                c.http_headers.remove(i);
            }
            Some(v) => {
                remove_values(&format!("header {name}"), &mut c.http_headers[i].values, std::slice::from_ref(v), exact)?;
                if c.http_headers[i].values.is_empty() {
                    c.http_headers.remove(i);
                }
            }
        }
    }
    for q in &remove.queries {
        let before = c.query_strings.len();
        c.query_strings.retain(|x| x != q);
        if c.query_strings.len() == before {
            return Err(CliError::Usage(format!("the rule has no query condition '{}' to remove", query_text(q))));
        }
    }
    add_values(&mut c.path_patterns, &add.path_patterns, exact);
    add_values(&mut c.http_methods, &add.http_methods, ignore_case);
    add_values(&mut c.host_headers, &add.host_headers, ignore_case);
    add_values(&mut c.source_ips, &add.source_ips, exact);
    for h in &add.http_headers {
        match c.http_headers.iter_mut().find(|x| x.name.eq_ignore_ascii_case(&h.name)) {
            Some(x) => add_values(&mut x.values, &h.values, exact),
            None => c.http_headers.push(h.clone()),
        }
    }
    for q in &add.query_strings {
        if !c.query_strings.contains(q) {
            c.query_strings.push(q.clone());
        }
    }
    Ok(Some(c))
}

fn query_text(q: &QueryStringCondition) -> String {
    match &q.key {
        Some(k) => format!("{k}={}", q.value),
        None => q.value.clone(),
    }
}

/// Why the change lets more requests reach the canary (empty: it does not). A condition kind
/// that goes away, or gains a value (values of a kind are OR-ed), widens the match; a higher
/// share widens it too.
pub fn widening(before_percent: f64, after_percent: f64, before: &RuleConditions, after: &RuleConditions) -> Vec<String> {
    let mut why = Vec::new();
    if after_percent > before_percent {
        why.push(format!("the share grows from {before_percent}% to {after_percent}%"));
    }
    let mut kind = |name: &str, b: Vec<String>, a: Vec<String>| {
        if b.is_empty() {
            return; // a new kind of condition only narrows
        }
        if a.is_empty() {
            why.push(format!("the {name} condition is removed (any {name} now matches)"));
        } else {
            let added: Vec<&String> = a.iter().filter(|v| !b.iter().any(|x| x.eq_ignore_ascii_case(v))).collect();
            if !added.is_empty() {
                why.push(format!("the {name} condition also matches {}", added.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")));
            }
        }
    };
    kind("path", before.path_patterns.clone(), after.path_patterns.clone());
    kind("method", before.http_methods.clone(), after.http_methods.clone());
    kind("host", before.host_headers.clone(), after.host_headers.clone());
    kind("source IP", before.source_ips.clone(), after.source_ips.clone());
    kind("query", before.query_strings.iter().map(query_text).collect(), after.query_strings.iter().map(query_text).collect());
    for h in &before.http_headers {
        let a = after.http_headers.iter().find(|x| x.name.eq_ignore_ascii_case(&h.name)).map(|x| x.values.clone()).unwrap_or_default();
        kind(&format!("header {}", h.name), h.values.clone(), a);
    }
    why
}

fn stickiness_text(s: Option<&Stickiness>) -> String {
    s.filter(|s| s.enabled).map(|s| format!("{} s", s.duration_seconds)).unwrap_or_else(|| "off".into())
}

pub async fn run(args: TrafficArgs, outer: &ApiArgs, ctx: Ctx) -> Result<u8, CliError> {
    let requested = requested_from_args(&args)?;
    let client = connect(&args.api.or(outer)).await?;
    let current = client.get(&args.id).await?;
    let spec = current.spec.clone().ok_or_else(|| CliError::Usage(format!("{} has no spec recorded; nothing to change", current.id)))?;
    let conditions = apply(&spec.conditions, &requested.conditions)?;
    let after_conditions = conditions.clone().unwrap_or_else(|| spec.conditions.clone());
    let after_percent = requested.percent.unwrap_or(spec.traffic_percent);
    let after_sticky = requested.stickiness.clone().or(spec.stickiness.clone());

    // Before → after, on stdout for people, on stderr beside --json.
    let mut plan = String::new();
    plan.push_str(&format!("{}: traffic change\n", current.id));
    plan.push_str(&format!("  share       {}% → {}%\n", spec.traffic_percent, after_percent));
    plan.push_str(&format!("  conditions  {}\n", super::show::conditions_text(&spec.conditions)));
    plan.push_str(&format!("           →  {}\n", super::show::conditions_text(&after_conditions)));
    plan.push_str(&format!("  stickiness  {} → {}\n", stickiness_text(spec.stickiness.as_ref()), stickiness_text(after_sticky.as_ref())));
    if ctx.json {
        eprint!("{plan}");
    } else {
        print!("{plan}");
    }

    let widens = widening(spec.traffic_percent, after_percent, &spec.conditions, &after_conditions);
    if !widens.is_empty() && !args.yes {
        let why = widens.join("; ");
        if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            eprint!("This sends more traffic to the canary ({why}). Apply? [y/N] ");
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer).map_err(|e| CliError::Usage(format!("cannot read the answer: {e}")))?;
            if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
                eprintln!("nothing changed");
                return Ok(1);
            }
        } else {
            return Err(CliError::Usage(format!(
                "this change sends more traffic to the canary ({why}); nothing changed. Pass --yes to apply it without a terminal"
            )));
        }
    }

    let change = TrafficChange { traffic_percent: requested.percent, conditions, stickiness: requested.stickiness };
    let d = client.change_traffic(&args.id, &change).await?;
    if ctx.json {
        print_json(&d);
    } else {
        println!("{}: traffic changed", d.id);
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

    fn gated() -> RuleConditions {
        RuleConditions {
            path_patterns: vec!["/shop/*".into()],
            http_headers: vec![HeaderCondition { name: "X-Canary".into(), values: vec!["1".into()] }],
            ..Default::default()
        }
    }

    fn edited(flags: &[&str]) -> Result<Option<RuleConditions>, CliError> {
        apply(&gated(), &requested_from_args(&args(flags)).unwrap().conditions)
    }

    #[test]
    fn percent_only_leaves_the_conditions() {
        let r = requested_from_args(&args(&["--percent", "10"])).unwrap();
        assert_eq!(r.conditions, ConditionEdit::Keep);
        assert_eq!(apply(&gated(), &r.conditions).unwrap(), None);
    }

    #[test]
    fn a_plain_condition_flag_needs_replace_conditions() {
        let e = requested_from_args(&args(&["--path", "/api/*"])).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("--replace-conditions") && e.to_string().contains("--add-path"), "{e}");
    }

    #[test]
    fn adding_a_path_keeps_the_header_gate() {
        let c = edited(&["--add-path", "/api/*"]).unwrap().unwrap();
        assert_eq!(c.path_patterns, vec!["/shop/*", "/api/*"]);
        assert_eq!(c.http_headers, gated().http_headers, "the gate stays");
        // Adding what is there changes nothing.
        assert_eq!(edited(&["--add-path", "/shop/*"]).unwrap().unwrap(), gated());
    }

    #[test]
    fn removing_values_and_whole_headers() {
        let c = edited(&["--remove-header", "x-canary"]).unwrap().unwrap();
        assert!(c.http_headers.is_empty());
        let c = edited(&["--remove-header", "X-Canary=1", "--add-header", "X-Canary=2"]).unwrap().unwrap();
        assert_eq!(c.http_headers, vec![HeaderCondition { name: "X-Canary".into(), values: vec!["2".into()] }]);
        let c = edited(&["--remove-path", "/shop/*", "--add-method", "get"]).unwrap().unwrap();
        assert!(c.path_patterns.is_empty());
        assert_eq!(c.http_methods, vec!["GET"]);
    }

    #[test]
    fn removing_what_is_not_there_is_an_error_naming_what_is() {
        let e = edited(&["--remove-path", "/api/*"]).unwrap_err();
        assert!(e.to_string().contains("no path condition '/api/*'") && e.to_string().contains("/shop/*"), "{e}");
        let e = edited(&["--remove-header", "X-Other"]).unwrap_err();
        assert!(e.to_string().contains("X-Canary"), "{e}");
        assert!(edited(&["--remove-query", "beta=on"]).is_err());
    }

    #[test]
    fn replace_and_clear_replace_everything() {
        let c = edited(&["--replace-conditions", "--path", "/api/*", "--method", "get", "--header", "x-a=1", "--header", "X-A=2", "--query", "beta=on", "--query", "=any"])
            .unwrap()
            .unwrap();
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({
                "pathPatterns": ["/api/*"], "httpMethods": ["GET"],
                "httpHeaders": [{"name": "x-a", "values": ["1", "2"]}],
                "queryStrings": [{"key": "beta", "value": "on"}, {"value": "any"}]
            })
        );
        assert_eq!(edited(&["--clear-conditions"]).unwrap().unwrap(), RuleConditions::default());
        assert_eq!(edited(&["--replace-conditions"]).unwrap().unwrap(), RuleConditions::default());
        assert!(Cli::try_parse_from(["aviary", "traffic", "w", "--replace-conditions", "--add-path", "/x"]).is_err());
    }

    #[test]
    fn widening_is_detected_and_narrowing_is_not() {
        let g = gated();
        assert!(widening(5.0, 5.0, &g, &g).is_empty());
        assert!(widening(5.0, 2.0, &g, &g).is_empty(), "a smaller share narrows");
        assert_eq!(widening(5.0, 10.0, &g, &g), vec!["the share grows from 5% to 10%"]);
        let dropped = edited(&["--remove-header", "X-Canary"]).unwrap().unwrap();
        assert_eq!(widening(5.0, 5.0, &g, &dropped), vec!["the header X-Canary condition is removed (any header X-Canary now matches)"]);
        let more = edited(&["--add-path", "/api/*"]).unwrap().unwrap();
        assert_eq!(widening(5.0, 5.0, &g, &more), vec!["the path condition also matches /api/*"]);
        let narrower = edited(&["--add-method", "GET"]).unwrap().unwrap();
        assert!(widening(5.0, 5.0, &g, &narrower).is_empty(), "a new kind of condition narrows");
        assert!(!widening(5.0, 5.0, &g, &RuleConditions::default()).is_empty(), "clearing widens");
    }

    #[test]
    fn stickiness_flags() {
        let r = requested_from_args(&args(&["--sticky", "60"])).unwrap();
        assert_eq!(r.stickiness, Some(Stickiness { enabled: true, duration_seconds: 60 }));
        let r = requested_from_args(&args(&["--no-sticky"])).unwrap();
        assert_eq!(r.stickiness, Some(Stickiness { enabled: false, duration_seconds: 1 }));
    }

    #[test]
    fn nothing_to_change_is_a_usage_error() {
        let e = requested_from_args(&args(&[])).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert_eq!(requested_from_args(&args(&["--percent", "0"])).unwrap_err().exit_code(), 1);
    }
}
