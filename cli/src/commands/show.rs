//! Read-only commands: `aviary ls`, `aviary status <id>`, `aviary events <id> [--follow]`.

use std::time::Duration;

use aviary_core::model::{Deployment, Source};
use aviary_core::spec::{DeploymentSpec, RuleConditions};
use aviary_core::status::Status;

use crate::cli::{ApiArgs, LsArgs, WaitArgs};
use crate::commands::{connect, Ctx};
use crate::error::CliError;
use crate::output::{self, duration, key_values, now_secs, percent, print_json, time_secs, Progress, Table};
use crate::watch::{EventCursor, EventOutput, Follow};

pub async fn ls(args: LsArgs, outer: &ApiArgs, ctx: Ctx) -> Result<u8, CliError> {
    let client = connect(&args.api.or(outer)).await?;
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    while (items.len() as u32) < args.limit {
        let page = client.list(args.status, (args.limit - items.len() as u32).min(100), cursor.as_deref()).await?;
        items.extend(page.items);
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    items.truncate(args.limit as usize);
    if ctx.json {
        print_json(&items);
    } else if items.is_empty() {
        println!("no deployments{}", args.status.map(|s| format!(" in {s}")).unwrap_or_default());
    } else {
        print!("{}", list_table(&items.iter().map(|d| d.deployment.clone()).collect::<Vec<_>>(), now_secs()));
    }
    Ok(0)
}

/// The `aviary ls` table.
pub fn list_table(items: &[Deployment], now: i64) -> String {
    let mut t = Table::new(["ID", "NAME", "STATUS", "CANARY", "CREATED", "EXPIRES IN"]);
    for d in items {
        let share = match (&d.weights, &d.spec) {
            (Some(w), _) => percent(output::canary_share(w)),
            (None, Some(s)) => format!("({})", percent(s.traffic_percent)),
            _ => "-".into(),
        };
        let expires = if d.status.is_final() { "-".into() } else { duration(d.expires_at - now) };
        t.row([d.id.clone(), d.name.clone(), d.status.to_string(), share, time_secs(d.created_at), expires]);
    }
    t.render()
}

pub async fn status(id: String, credentials: bool, api: ApiArgs, outer: &ApiArgs, ctx: Ctx) -> Result<u8, CliError> {
    let client = connect(&api.or(outer)).await?;
    let d = client.get(&id).await?;
    let login = match credentials {
        true => Some(client.credentials(&id).await?),
        false => None,
    };
    if ctx.json {
        match &login {
            Some(login) => print_json(&serde_json::json!({ "deployment": d, "grafana": login })),
            None => print_json(&d),
        }
    } else {
        print!("{}", status_text(&d.deployment, now_secs()));
        if let Some(login) = &login {
            print!("{}", credentials_text(login));
        }
    }
    Ok(0)
}

pub fn conditions_text(c: &RuleConditions) -> String {
    c.describe()
}

fn spec_lines(s: &DeploymentSpec, out: &mut Vec<(&'static str, String)>) {
    out.push(("listener", s.listener_arn.clone()));
    out.push(("traffic", format!("{} canary + {} baseline (requested)", percent(s.traffic_percent), percent(s.traffic_percent))));
    out.push(("conditions", conditions_text(&s.conditions)));
    out.push((
        "stickiness",
        match &s.stickiness {
            Some(st) if st.enabled => format!("{} s", st.duration_seconds),
            _ => "off".into(),
        },
    ));
    out.push(("app", format!("port {}, {} instances, health check {} on port {}", s.app_port, s.instance_type, s.health_check.path, s.health_check_port())));
    out.push(("monitoring", if s.monitoring.enabled { format!("on ({})", s.monitoring.instance_type) } else { "off".into() }));
}

/// The `aviary status` text.
/// The Grafana login, after `aviary status --credentials`.
pub fn credentials_text(login: &aviary_client::GrafanaLogin) -> String {
    let mut kv = vec![("grafana user", login.username.clone()), ("grafana password", login.password.clone())];
    if let Some(url) = &login.url {
        kv.insert(0, ("grafana", url.clone()));
    }
    format!("\n{}", key_values(&kv))
}

/// Each status with how long it lasted (the current one so far), from the status history:
/// `PENDING 1.2s → PROVISIONING 40s → … → ACTIVE 5m 02s so far`.
pub fn timeline(d: &Deployment, now: i64) -> String {
    let mut seq: Vec<(String, i64)> = vec![(Status::Pending.to_string(), d.created_at * 1000)];
    seq.extend(d.status_history.iter().map(|c| (c.status.to_string(), c.at_ms)));
    if d.status_history.is_empty() && d.status != Status::Pending {
        // A record from before the history was kept: only its status is known.
        return d.status.to_string();
    }
    let lasted = |ms: i64| if ms < 10_000 { format!("{:.1}s", ms.max(0) as f64 / 1000.0) } else { duration(ms / 1000) };
    let parts: Vec<String> = seq
        .iter()
        .enumerate()
        .map(|(i, (status, at))| match seq.get(i + 1) {
            Some((_, next)) => format!("{status} {}", lasted(next - at)),
            None if d.status.is_final() => status.clone(),
            None => format!("{status} {} so far", lasted(now * 1000 - at)),
        })
        .collect();
    parts.join(" → ")
}

pub fn status_text(d: &Deployment, now: i64) -> String {
    let mut kv: Vec<(&'static str, String)> = vec![("deployment", d.id.clone()), ("name", d.name.clone()), ("status", d.status.to_string())];
    if let Some(r) = &d.status_reason {
        kv.push(("reason", r.clone()));
    }
    if let Some(r) = &d.failure_reason {
        kv.push(("failure", r.clone()));
    }
    kv.push((
        "source",
        match &d.source {
            Source::S3 { bucket, key, version } => format!("upload s3://{bucket}/{key} (version {version})"),
            Source::Api { idempotency_key } => format!("API (idempotency key {idempotency_key})"),
        },
    ));
    kv.push(("created", format!("{} ({} ago)", time_secs(d.created_at), duration(now - d.created_at))));
    kv.push(("timeline", timeline(d, now)));
    if !d.status.is_final() {
        kv.push(("expires", format!("{} (in {})", time_secs(d.expires_at), duration(d.expires_at - now))));
    }
    match &d.spec {
        Some(s) => spec_lines(s, &mut kv),
        None => kv.push(("spec", format!("invalid: {}", d.raw_spec.clone().unwrap_or_default()))),
    }
    let mut out = key_values(&kv.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>());
    if let Some(w) = &d.weights {
        out.push_str("\nweights (share of the rule's traffic)\n");
        out.push_str(&output::weights_table(w));
    }
    let r = &d.resources;
    let mut res = Table::new(["RESOURCE", "ID"]);
    let mut add = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            res.row([k.to_string(), v.clone()]);
        }
    };
    add("rule", &r.rule_arn);
    add("rule priority", &r.rule_priority.map(|p| p.to_string()));
    add("baseline target group", &r.baseline_target_group_arn);
    add("canary target group", &r.canary_target_group_arn);
    add("baseline instance", &r.baseline_instance_id);
    add("canary instance", &r.canary_instance_id);
    add("monitor instance", &r.monitor_instance_id);
    add("instance security group", &r.instance_security_group_id);
    add("monitor security group", &r.monitor_security_group_id);
    add("load balancer", &r.load_balancer_arn);
    if !res.is_empty() {
        out.push_str("\nresources\n");
        out.push_str(&res.render());
    }
    if let Some(m) = &d.monitoring {
        out.push_str("\nmonitoring\n");
        out.push_str(&key_values(&[
            ("grafana", m.grafana.clone()),
            ("prometheus", m.prometheus.clone()),
            ("referee", m.referee.clone()),
            ("kayenta", m.kayenta.clone()),
        ]));
    }
    out
}

pub async fn env(api: ApiArgs, outer: &ApiArgs, ctx: Ctx) -> Result<u8, CliError> {
    let client = connect(&api.or(outer)).await?;
    let env = client.environment().await?;
    if ctx.json {
        print_json(&env);
    } else {
        print!("{}", env_text(&env));
    }
    Ok(0)
}

/// The `aviary env` text: one block per listener with its rules.
pub fn env_text(env: &serde_json::Value) -> String {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
    let tg_name = |t: &serde_json::Value| {
        format!("{}={}", output::target_group_name(t["targetGroupArn"].as_str().unwrap_or("-")), t["weight"].as_u64().unwrap_or(0))
    };
    let empty = Vec::new();
    let lbs = env["loadBalancers"].as_array().unwrap_or(&empty);
    if lbs.is_empty() {
        return "no application load balancers in this region\n".into();
    }
    let mut out = String::new();
    for lb in lbs {
        // Only what the load balancer reports: an emulator may leave the scheme empty.
        let facts: Vec<&str> =
            [&lb["scheme"], &lb["state"], &lb["dnsName"]].into_iter().filter_map(|v| v.as_str()).filter(|v| !v.is_empty()).collect();
        match facts.is_empty() {
            true => out.push_str(&format!("{}\n", s(&lb["name"]))),
            false => out.push_str(&format!("{} ({})\n", s(&lb["name"]), facts.join(", "))),
        }
        for l in lb["listeners"].as_array().unwrap_or(&empty) {
            out.push_str(&format!("  listener {} {} {}\n", s(&l["protocol"]), l["port"], s(&l["listenerArn"])));
            let mut t = Table::new(["PRIORITY", "CONDITIONS", "FORWARD", "AVIARY"]);
            for r in l["rules"].as_array().unwrap_or(&empty) {
                let conditions: Vec<String> = r["conditions"].as_array().unwrap_or(&empty).iter().map(s).collect();
                let forward: Vec<String> = r["forward"].as_array().unwrap_or(&empty).iter().map(tg_name).collect();
                t.row([
                    // A number; null for the listener's default rule (a string from an older API).
                    match &r["priority"] {
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::String(p) => p.clone(),
                        _ => "default".to_string(),
                    },
                    if conditions.is_empty() { "-".into() } else { conditions.join(" & ") },
                    if forward.is_empty() { "-".into() } else { forward.join(", ") },
                    r["aviaryDeploymentId"].as_str().unwrap_or("").to_string(),
                ]);
            }
            for line in t.render().lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out
}

pub async fn events(id: String, follow: bool, wait: WaitArgs, api: ApiArgs, outer: &ApiArgs, ctx: Ctx) -> Result<u8, CliError> {
    let client = connect(&api.or(outer)).await?;
    let mode = if ctx.json { EventOutput::Json } else { EventOutput::Lines };
    let mut cursor = EventCursor::default();
    if !follow {
        let all = cursor.fetch_new(&client, &id).await?;
        if all.is_empty() {
            // Tell "no events yet" from "no such deployment".
            client.get(&id).await?;
        }
        for e in &all {
            match mode {
                EventOutput::Json => println!("{}", serde_json::to_string(e).expect("event serialises")),
                _ => println!("{}", output::event_line(e)),
            }
        }
        return Ok(0);
    }
    let mut progress = Progress::new(!ctx.json && output::interactive());
    let f = Follow {
        client: &client,
        id: &id,
        events: mode,
        poll: Duration::from_millis(wait.poll_ms),
        timeout: Duration::from_secs(wait.timeout),
        waiting_for: "a final status",
    };
    let d = f.until(&mut cursor, &progress, |d| d.status.is_final()).await?;
    progress.finish();
    if !ctx.json {
        println!("{} is {}{}", d.id, d.status, d.status_reason.clone().map(|r| format!(": {r}")).unwrap_or_default());
    }
    Ok(0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use aviary_core::model::{MonitoringLinks, Resources};
    use aviary_core::traffic::{RuleWeights, WeightedTarget};

    pub(crate) fn sample(status: Status) -> Deployment {
        let spec: DeploymentSpec = serde_json::from_value(serde_json::json!({
            "name": "web",
            "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/prod/1/2",
            "trafficPercent": 5, "appPort": 8080,
            "conditions": {"httpMethods": ["GET", "HEAD"], "httpHeaders": [{"name": "x-canary", "values": ["1"]}]},
            "stickiness": {"durationSeconds": 600}
        }))
        .unwrap();
        let tg = |n: &str, w| WeightedTarget { target_group_arn: format!("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/{n}/x"), weight: w };
        Deployment {
            id: "web-0123456789".into(),
            name: "web".into(),
            spec: Some(spec),
            raw_spec: None,
            status,
            status_reason: None,
            status_history: Vec::new(),
            failure_reason: None,
            version: 3,
            source: Source::Api { idempotency_key: "k".into() },
            artifact_bucket: "b".into(),
            artifact_prefix: "canaries/web/".into(),
            created_at: 1_000_000,
            updated_at: 1_000_100,
            expires_at: 1_000_000 + 4 * 3600,
            health_deadline: None,
            resources: Resources { canary_instance_id: Some("i-c".into()), rule_priority: Some(11), ..Default::default() },
            weights: Some(RuleWeights { production: vec![tg("prod-web", 900)], baseline: tg("av-b", 50), canary: tg("av-c", 50) }),
            monitoring: Some(MonitoringLinks {
                grafana: "http://m:3000/".into(),
                prometheus: "http://m:9090/".into(),
                referee: "http://m:3001/dashboard/".into(),
                kayenta: "http://m:8090/".into(),
            }),
            execution_arn: None,
            teardown_execution_arn: None,
            pinned_artifacts: None,
            created_by: None,
            traffic_lease_until: None,
        }
    }

    #[test]
    fn list_table_shows_shares_and_expiry() {
        let mut gone = sample(Status::Destroyed);
        gone.id = "web-9999999999".into();
        gone.weights = None;
        let t = list_table(&[sample(Status::Active), gone], 1_000_000 + 3600);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "ID              NAME  STATUS     CANARY  CREATED               EXPIRES IN");
        assert_eq!(lines[1], "web-0123456789  web   ACTIVE     5%      1970-01-12 13:46:40Z  3h 00m");
        assert_eq!(lines[2], "web-9999999999  web   DESTROYED  (5%)    1970-01-12 13:46:40Z  -");
    }

    #[test]
    fn env_text_lists_listeners_and_rules() {
        let env = serde_json::json!({"loadBalancers": [{
            "name": "prod-alb", "scheme": "internet-facing", "state": "active", "dnsName": "prod.example.com",
            "listeners": [{"listenerArn": "arn:l", "port": 80, "protocol": "HTTP", "rules": [
                {"priority": 10, "conditions": ["path-pattern:/static/*"], "forward": [{"targetGroupArn": "arn:aws:elasticloadbalancing:r:1:targetgroup/prod-web/x", "weight": 1}]},
                {"priority": 11, "conditions": [], "forward": [], "aviaryDeploymentId": "web-0123456789"},
                {"priority": null, "isDefault": true, "conditions": [], "forward": [{"targetGroupArn": "arn:aws:elasticloadbalancing:r:1:targetgroup/prod-web/x", "weight": 1}]}
            ]}]
        }], "targetGroups": []});
        let t = env_text(&env);
        assert!(t.starts_with("prod-alb (internet-facing, active, prod.example.com)\n  listener HTTP 80 arn:l\n"), "{t}");
        assert!(t.contains("    10        path-pattern:/static/*  prod-web=1"), "{t}");
        assert!(t.contains("web-0123456789"), "{t}");
        assert!(t.contains("    default "), "the default rule by name: {t}");
        assert_eq!(env_text(&serde_json::json!({"loadBalancers": []})), "no application load balancers in this region\n");
        // What the load balancer does not report is left out, never printed as an empty slot.
        let bare = serde_json::json!({"loadBalancers": [{"name": "lb", "scheme": "", "state": "active", "dnsName": "lb.local", "listeners": []}]});
        assert_eq!(env_text(&bare), "lb (active, lb.local)\n");
        let nothing = serde_json::json!({"loadBalancers": [{"name": "lb", "scheme": "", "listeners": []}]});
        assert_eq!(env_text(&nothing), "lb\n");
    }

    #[test]
    fn the_timeline_says_how_long_each_status_lasted() {
        use aviary_core::model::StatusChange;
        let mut d = sample(Status::Active);
        d.status_history = [(Status::Provisioning, 1_000_000_400), (Status::Registering, 1_000_045_400), (Status::Active, 1_000_050_000)]
            .into_iter()
            .map(|(status, at_ms)| StatusChange { status, at_ms })
            .collect();
        assert_eq!(timeline(&d, 1_000_110), "PENDING 0.4s → PROVISIONING 45s → REGISTERING 4.6s → ACTIVE 1m 00s so far");
        d.status = Status::Destroyed;
        d.status_history.push(StatusChange { status: Status::Destroyed, at_ms: 1_000_070_000 });
        assert!(timeline(&d, 1_000_110).ends_with("ACTIVE 20s → DESTROYED"), "{}", timeline(&d, 1_000_110));
        assert!(status_text(&d, 1_000_110).contains("timeline    PENDING 0.4s → PROVISIONING 45s"), "{}", status_text(&d, 1_000_110));
        // Without a history (an older record), only the status.
        assert_eq!(timeline(&sample(Status::Active), 1_000_110), "ACTIVE");
    }

    #[test]
    fn status_text_has_every_section() {
        let t = status_text(&sample(Status::Active), 1_000_000 + 60);
        for want in [
            "deployment  web-0123456789",
            "status      ACTIVE",
            "conditions  method GET | HEAD & header x-canary: 1",
            "stickiness  600 s",
            "expires     1970-01-12 17:46:40Z (in 3h 59m)",
            "production  prod-web      900     90%",
            "canary      av-c          50      5%",
            "canary instance  i-c",
            "rule priority    11",
            "grafana     http://m:3000/",
        ] {
            assert!(t.contains(want), "missing {want:?} in\n{t}");
        }
    }
}
