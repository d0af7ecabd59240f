//! The `api` Lambda, route by route, against the emulated AWS: the router is called with API
//! Gateway payload-2.0 events through `lambda_http`, exactly as the Lambda runtime calls it; deployments run
//! the real workflow (local Step Functions with the real handlers). Every refused request is
//! checked to have written nothing and to have left the listener's rules as they were.

mod api_support;

use std::sync::Arc;

use async_trait::async_trait;
use aviary_local::runtime::LocalOptions;
use aviary_core::ids::deployment_id_for_request;
use aviary_core::model::Deployment;
use aviary_core::status::Status;
use aviary_core::steps::{GroupHealth, TargetState};
use aviary_core::StepError;
use aviary_ports::{ArtifactStore, TargetHealthSource};
use serde_json::{json, Value};

use api_support::{call, canary_rule, event, fast, invoke, start, Api, CALLER};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_refuses_what_admission_refuses_and_writes_nothing() {
    let api = start(fast()).await;
    api.put_artifacts("web").await;
    let spec = api.spec("web");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut s = spec.clone();
        f(&mut s);
        json!({ "spec": s })
    };
    // Well-formed (it passes the spec's checks) but not on the load balancer.
    let (lb_part, _) = api.env.listener_arn.rsplit_once('/').unwrap();
    let missing_listener = format!("{lb_part}/0123456789abcdef");
    assert_ne!(missing_listener, api.env.listener_arn);
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        ("a listener that does not exist", with(&|s| s["listenerArn"] = json!(missing_listener)), vec!["spec.listenerArn"]),
        ("a priority the user's rule holds", with(&|s| s["priority"] = json!(10)), vec!["spec.priority"]),
        (
            "artifacts that were never uploaded",
            {
                let mut s = spec.clone();
                s["name"] = json!("ghost");
                json!({ "spec": s })
            },
            vec!["spec.artifacts.baselineTarball", "spec.artifacts.canaryTarball", "spec.artifacts.composeFile"],
        ),
        ("a compose file that is not there", with(&|s| s["artifacts"] = json!({"composeFile": "other.yml"})), vec!["spec.artifacts.composeFile"]),
        ("an invalid value", with(&|s| s["trafficPercent"] = json!(50.5)), vec!["spec.trafficPercent"]),
        ("an unknown field", with(&|s| s["weights"] = json!([1])), vec!["spec.weights"]),
    ];
    for (what, body, want) in cases {
        let a = call(&api, "POST", "/deployments", Some(body)).await;
        assert_eq!((a.status, a.error()), (400, "ValidationFailed"), "{what}: {a:?}");
        assert_eq!(a.fields(), want, "{what}: {a:?}");
        assert!(!a.body["message"].as_str().unwrap().is_empty());
    }
    // Not a tarball: the checker streams it and names the field.
    api.rt.artifacts.put("canaries/web/canary.tar", vec![7u8; 4096]).await.unwrap();
    let a = call(&api, "POST", "/deployments", Some(json!({ "spec": spec }))).await;
    assert_eq!((a.status, a.fields()), (400, vec!["spec.artifacts.canaryTarball".to_string()]), "{a:?}");

    assert_eq!(api.deployment_count().await, 0, "a refused request must not be recorded");
    assert_eq!(api.aviary_rules().await, 0);
    assert!(api.rt.ports.router.aviary_target_groups().await.unwrap().is_empty());
    assert_eq!(api.rt.rules(&api.env.listener_arn).await.unwrap(), api.rules_before, "the listener must be untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_is_idempotent_per_key_and_answers_the_same_deployment() {
    let api = start(fast()).await;
    api.put_artifacts("web").await;
    let body = json!({ "spec": api.spec("web") }).to_string();

    let first = invoke(&api, event("POST", "/deployments", Some(&body), &[("Idempotency-Key", "release-42")])).await;
    assert_eq!(first.status, 201, "{first:?}");
    let id = first.body["id"].as_str().unwrap().to_string();
    assert_eq!(id, deployment_id_for_request("web", "release-42"));
    assert_eq!(first.headers.get("location").unwrap(), &format!("/deployments/{id}"));
    assert_eq!(first.body["links"]["self"], json!(format!("/deployments/{id}")));
    assert_eq!(first.body["spec"]["name"], "web");

    // Retries with the same key, by header or in the body: the same deployment, 200.
    let retry = invoke(&api, event("POST", "/deployments", Some(&body), &[("Idempotency-Key", "release-42")])).await;
    assert_eq!((retry.status, retry.body["id"].as_str().unwrap()), (200, id.as_str()), "{retry:?}");
    let in_body = json!({ "spec": api.spec("web"), "idempotencyKey": "release-42" }).to_string();
    let retry = invoke(&api, event("POST", "/deployments", Some(&in_body), &[])).await;
    assert_eq!((retry.status, retry.body["id"].as_str().unwrap()), (200, id.as_str()), "{retry:?}");

    // Without a key, API Gateway's request id decides: its own retry is the same request.
    let mut e = event("POST", "/deployments", Some(&body), &[]);
    e.request_context.request_id = Some("gw-request-1".into());
    let other = invoke(&api, e.clone()).await;
    assert_eq!(other.status, 201, "{other:?}");
    let other_id = other.body["id"].as_str().unwrap().to_string();
    assert_ne!(other_id, id);
    assert_eq!(invoke(&api, e).await.status, 200);
    assert_eq!(api.deployment_count().await, 2);

    let d = api.wait(&id, Status::Active).await;
    let events = api.rt.events(&d.id).await.unwrap();
    assert!(
        events.iter().any(|e| e.step == "api" && e.detail.contains(CALLER) && e.detail.contains("POST /deployments")),
        "the caller is in the event log: {events:#?}"
    );
    assert_eq!(events.iter().filter(|e| e.step == "api").count(), 1, "retries log nothing");
    api.wait(&other_id, Status::Active).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_list_and_events_paginate_and_validate() {
    let api = start(fast()).await;
    let alpha = api.active("alpha").await;
    let beta = api.active("beta").await;

    let a = call(&api, "GET", &format!("/deployments/{}", alpha.id), None).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["status"], "ACTIVE");
    assert_eq!(a.body["traffic"], json!({"canaryPercent": 5.0, "baselinePercent": 5.0, "productionPercent": 90.0}));
    let weights = a.body["weights"].as_array().expect("weights: one list for every role");
    let roles: Vec<&str> = weights.iter().map(|w| w["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["production", "baseline", "canary"]);
    assert_eq!(weights[2]["weight"], 50);
    // Times are RFC 3339 everywhere.
    for field in ["createdAt", "updatedAt", "expiresAt", "healthDeadline"] {
        let t = a.body[field].as_str().unwrap_or_else(|| panic!("{field}: {}", a.body[field]));
        assert!(aviary_core::times::parse_rfc3339(t).is_some() && t.ends_with('Z'), "{field}: {t}");
    }
    assert!(a.body["resources"]["ruleArn"].as_str().unwrap().contains(":listener-rule/app/"));
    assert_eq!(a.body["links"]["events"], json!(format!("/deployments/{}/events", alpha.id)));

    let a = call(&api, "GET", "/deployments/nothing-0123456789", None).await;
    assert_eq!((a.status, a.error()), (404, "NotFound"));
    assert!(a.body["message"].as_str().unwrap().contains("nothing-0123456789"));
    let a = call(&api, "GET", "/deployments/NOT_AN_ID", None).await;
    assert_eq!((a.status, a.fields()), (400, vec!["id".to_string()]));

    // Listing: newest first, filtered by status, paginated with opaque cursors.
    let a = call(&api, "GET", "/deployments", None).await;
    let ids: Vec<&str> = a.body["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&alpha.id.as_str()) && ids.contains(&beta.id.as_str()));
    assert_eq!(call(&api, "GET", "/deployments?status=ACTIVE", None).await.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(call(&api, "GET", "/deployments?status=PENDING", None).await.body["items"].as_array().unwrap().len(), 0);
    for status in [None, Some("ACTIVE")] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..5 {
            let mut q = format!("/deployments?limit=1{}", status.map(|s| format!("&status={s}")).unwrap_or_default());
            if let Some(c) = &cursor {
                q.push_str(&format!("&cursor={c}"));
            }
            let page = call(&api, "GET", &q, None).await;
            assert_eq!(page.status, 200, "{page:?}");
            seen.extend(page.body["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()));
            match page.body["next"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        seen.sort();
        let mut want = vec![alpha.id.clone(), beta.id.clone()];
        want.sort();
        assert_eq!(seen, want, "pages of one cover everything once ({status:?})");
    }
    let page = call(&api, "GET", "/deployments?limit=1&status=ACTIVE", None).await;
    let status_cursor = page.body["next"].as_str().expect("a next page").to_string();
    for (q, field) in [
        (format!("/deployments?cursor={status_cursor}"), "cursor"),
        (format!("/deployments?status=FAILED&cursor={status_cursor}"), "cursor"),
        ("/deployments?cursor=7b7d".to_string(), "cursor"),
        ("/deployments?status=Active".to_string(), "status"),
        ("/deployments?limit=-1".to_string(), "limit"),
    ] {
        let a = call(&api, "GET", &q, None).await;
        assert_eq!((a.status, a.fields()), (400, vec![field.to_string()]), "{q}: {a:?}");
    }

    // The event log: complete, oldest first, paginated; cursors stay with their deployment.
    let all = call(&api, "GET", &format!("/deployments/{}/events", alpha.id), None).await;
    let items = all.body["items"].as_array().unwrap().clone();
    let steps: Vec<&str> = items.iter().map(|e| e["step"].as_str().unwrap()).collect();
    for want in ["admission", "provision", "register-targets", "add-listener-rule", "check-health", "api"] {
        assert!(steps.contains(&want), "{want} in {steps:?}");
    }
    assert!(items.iter().all(|e| e.get("atMs").is_none()), "one time field: time");
    let times: Vec<i64> = items.iter().map(|e| aviary_core::times::parse_rfc3339_ms(e["time"].as_str().unwrap()).unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    let mut alpha_cursor = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/deployments/{}/events?limit=2&cursor={c}", alpha.id),
            None => format!("/deployments/{}/events?limit=2", alpha.id),
        };
        let page = call(&api, "GET", &q, None).await;
        assert_eq!(page.status, 200, "{page:?}");
        paged.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next"].as_str() {
            Some(c) => {
                alpha_cursor.get_or_insert_with(|| c.to_string());
                cursor = Some(c.to_string());
            }
            None => break,
        }
    }
    assert_eq!(paged, items, "pages of two add up to the whole log");
    let a = call(&api, "GET", &format!("/deployments/{}/events?cursor={}", beta.id, alpha_cursor.unwrap()), None).await;
    assert_eq!((a.status, a.fields()), (400, vec!["cursor".to_string()]), "another deployment's cursor");
    let a = call(&api, "GET", "/deployments/nothing-0123456789/events", None).await;
    assert_eq!((a.status, a.error()), (404, "NotFound"), "an unknown id is not an empty log");
}

/// Writes a record in `status` that points at a real ACTIVE deployment's rule: if the status
/// check were missing, a traffic change would really modify that rule.
async fn record_in(api: &Api, template: &Deployment, status: Status) -> String {
    let id = format!("synthetic-{}", status.as_str().to_ascii_lowercase().replace('_', "-"));
    let mut d = template.clone();
    d.id = id.clone();
    d.status = status;
    d.version = 0;
    api.rt.ports.store.create(&d).await.unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_changes_only_an_active_canary_and_only_with_valid_values() {
    let api = start(fast()).await;
    let d = api.active("web").await;
    let path = format!("/deployments/{}/traffic", d.id);
    let before = api.rt.rules(&api.env.listener_arn).await.unwrap();

    let invalid: Vec<(Value, &str)> = vec![
        (json!({"trafficPercent": 60}), "trafficPercent"),
        (json!({"trafficPercent": 0}), "trafficPercent"),
        (json!({"trafficPercent": 1.25}), "trafficPercent"),
        (json!({"trafficPercent": "ten"}), "trafficPercent"),
        (json!({}), "body"),
        (json!({"weights": [1, 2]}), "weights"),
        (json!({"conditions": {"httpMethods": ["FETCH"]}}), "conditions.httpMethods[0]"),
        (json!({"conditions": {"pathPatterns": ["/a", "/b", "/c", "/d", "/e", "/f"]}}), "conditions"),
        (json!({"conditions": {"sourceIps": ["10.0.0.0/33"]}}), "conditions.sourceIps[0]"),
        (json!({"stickiness": {"enabled": true, "durationSeconds": 0}}), "stickiness.durationSeconds"),
        (json!({"stickiness": {"enabled": true, "durationSeconds": 604801}}), "stickiness.durationSeconds"),
    ];
    for (body, field) in &invalid {
        let a = call(&api, "PATCH", &path, Some(body.clone())).await;
        assert_eq!((a.status, a.fields()), (400, vec![field.to_string()]), "{body}: {a:?}");
    }
    assert_eq!(api.rt.rules(&api.env.listener_arn).await.unwrap(), before, "no invalid change reached the rule");

    // A valid change: the ALB rule really changes, and the change is logged with the caller.
    let change = json!({
        "trafficPercent": 12.5,
        "conditions": {"pathPatterns": ["/api/*"], "httpHeaders": [{"name": "X-Canary", "values": ["yes"]}]},
        "stickiness": {"enabled": true, "durationSeconds": 300}
    });
    let a = call(&api, "PATCH", &path, Some(change)).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["traffic"], json!({"canaryPercent": 12.5, "baselinePercent": 12.5, "productionPercent": 75.0}));
    assert_eq!(a.body["spec"]["trafficPercent"], json!(12.5));
    let rules = api.rt.rules(&api.env.listener_arn).await.unwrap();
    let rule = canary_rule(&rules);
    assert_eq!(rule.forward.iter().map(|t| t.weight).collect::<Vec<_>>(), vec![750, 125, 125]);
    assert_eq!(rule.conditions, vec!["http-header:X-Canary=yes".to_string(), "path-pattern:/api/*".to_string()]);
    assert_eq!(rule.stickiness_seconds, Some(300));
    let a = call(&api, "PATCH", &path, Some(json!({"stickiness": {"enabled": false, "durationSeconds": 0}}))).await;
    assert_eq!(a.status, 200, "{a:?}");
    let rules = api.rt.rules(&api.env.listener_arn).await.unwrap();
    assert_eq!(canary_rule(&rules).stickiness_seconds, None, "stickiness off");

    // Three changes at once: applied one at a time; the others are told at once (409), never
    // left waiting for a rule another change is rewriting.
    let started = std::time::Instant::now();
    let (x, y, z) = tokio::join!(
        call(&api, "PATCH", &path, Some(json!({"trafficPercent": 7}))),
        call(&api, "PATCH", &path, Some(json!({"trafficPercent": 8}))),
        call(&api, "PATCH", &path, Some(json!({"trafficPercent": 9}))),
    );
    let statuses = [x.status, y.status, z.status];
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{x:?} {y:?} {z:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    for a in [&x, &y, &z].into_iter().filter(|a| a.status == 409) {
        assert_eq!(a.body["error"], json!("TrafficChangeInProgress"), "{a:?}");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    // The production floor: 30% would leave production 40%.
    let a = call(&api, "PATCH", &path, Some(json!({"trafficPercent": 30}))).await;
    assert_eq!((a.status, a.fields()), (400, vec!["trafficPercent".to_string()]), "{a:?}");
    assert_eq!(canary_rule(&rules).forward.iter().map(|t| t.weight).collect::<Vec<_>>(), vec![750, 125, 125], "weights kept");
    let events = api.rt.events(&d.id).await.unwrap();
    assert!(events.iter().any(|e| e.step == "traffic" && e.detail.contains("canary 12.5%")), "{events:#?}");
    assert!(events.iter().any(|e| e.step == "api" && e.detail.contains("PATCH") && e.detail.contains(CALLER)), "{events:#?}");

    // Every other status: 409 with the status named, and the rule untouched.
    let during = api.rt.rules(&api.env.listener_arn).await.unwrap();
    let current = api.rt.ports.deployments().require(&d.id).await.unwrap();
    for status in Status::ALL.into_iter().filter(|s| *s != Status::Active) {
        let id = record_in(&api, &current, status).await;
        let a = call(&api, "PATCH", &format!("/deployments/{id}/traffic"), Some(json!({"trafficPercent": 20}))).await;
        assert_eq!((a.status, a.error()), (409, "DeploymentNotActive"), "{status}: {a:?}");
        assert!(a.body["message"].as_str().unwrap().contains(status.as_str()), "{a:?}");
        // Invalid values are a 400 whatever the status.
        let a = call(&api, "PATCH", &format!("/deployments/{id}/traffic"), Some(json!({"trafficPercent": 70}))).await;
        assert_eq!(a.status, 400, "{status}: {a:?}");
    }
    assert_eq!(api.rt.rules(&api.env.listener_arn).await.unwrap(), during, "no refused change reached the rule");

    let a = call(&api, "PATCH", "/deployments/nothing-0123456789/traffic", Some(json!({"trafficPercent": 20}))).await;
    assert_eq!((a.status, a.error()), (404, "NotFound"));

    // Torn down: 409 too.
    assert_eq!(call(&api, "DELETE", &format!("/deployments/{}", d.id), None).await.status, 202);
    let a = call(&api, "PATCH", &path, Some(json!({"trafficPercent": 20}))).await;
    assert_eq!((a.status, a.error()), (409, "DeploymentNotActive"), "{a:?}");
    assert_eq!(api.wait_final(&d.id).await.status, Status::Destroyed);
}

/// Targets that never become healthy: the canary stays WAITING_HEALTHY.
struct NeverHealthy;

#[async_trait]
impl TargetHealthSource for NeverHealthy {
    async fn target_health(&self, target_group_arn: &str) -> Result<GroupHealth, StepError> {
        Ok(GroupHealth {
            target_group_arn: target_group_arn.into(),
            targets: vec![TargetState { target_id: "i-0".into(), state: "unhealthy".into(), reason: Some("Target.FailedHealthChecks".into()) }],
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_waiting_for_health_refuses_traffic_and_can_be_destroyed() {
    let api = start(LocalOptions { health: Some(Arc::new(NeverHealthy)), ..fast() }).await;
    api.put_artifacts("web").await;
    let a = call(&api, "POST", "/deployments", Some(json!({ "spec": api.spec("web") }))).await;
    assert_eq!(a.status, 201, "{a:?}");
    let id = a.body["id"].as_str().unwrap().to_string();
    api.wait(&id, Status::WaitingHealthy).await;

    let a = call(&api, "PATCH", &format!("/deployments/{id}/traffic"), Some(json!({"trafficPercent": 10}))).await;
    assert_eq!((a.status, a.error()), (409, "DeploymentNotActive"), "{a:?}");
    assert!(a.body["message"].as_str().unwrap().contains("WAITING_HEALTHY"));
    let rules = api.rt.rules(&api.env.listener_arn).await.unwrap();
    let rule = canary_rule(&rules);
    assert_eq!((rule.forward[1].weight, rule.forward[2].weight), (0, 0), "unhealthy targets get no traffic");

    let a = call(&api, "GET", &format!("/deployments/{id}"), None).await;
    assert_eq!(a.body["traffic"], json!({"canaryPercent": 0.0, "baselinePercent": 0.0, "productionPercent": 100.0}));

    let a = call(&api, "DELETE", &format!("/deployments/{id}"), None).await;
    assert_eq!(a.status, 202, "{a:?}");
    assert_eq!(api.wait_final(&id).await.status, Status::Destroyed);
    assert_eq!(api.rt.rules(&api.env.listener_arn).await.unwrap(), api.rules_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_is_idempotent_and_restores_the_listener() {
    let api = start(fast()).await;
    let d = api.active("web").await;
    let path = format!("/deployments/{}", d.id);

    let a = call(&api, "DELETE", "/deployments/nothing-0123456789", None).await;
    assert_eq!((a.status, a.error()), (404, "NotFound"));
    let a = call(&api, "DELETE", "/deployments/Bad.Id", None).await;
    assert_eq!((a.status, a.fields()), (400, vec!["id".to_string()]));

    let first = call(&api, "DELETE", &path, None).await;
    assert_eq!(first.status, 202, "{first:?}");
    assert_eq!(first.body["id"], json!(d.id));
    assert!(["TEARING_DOWN", "DESTROYED"].contains(&first.body["status"].as_str().unwrap()), "{first:?}");
    assert_eq!(first.body["links"]["self"], json!(path));
    let again = call(&api, "DELETE", &path, None).await;
    assert_eq!(again.status, 202, "{again:?}");

    assert_eq!(api.wait_final(&d.id).await.status, Status::Destroyed);
    let after = call(&api, "DELETE", &path, None).await;
    assert_eq!((after.status, after.body["status"].as_str().unwrap()), (202, "DESTROYED"));
    assert_eq!(api.rt.rules(&api.env.listener_arn).await.unwrap(), api.rules_before, "rules restored exactly");
    let events = api.rt.events(&d.id).await.unwrap();
    let requests: Vec<_> = events.iter().filter(|e| e.step == "destroy").collect();
    assert_eq!(requests.len(), 1, "one teardown request however often DELETE is sent: {events:#?}");
    assert!(requests[0].detail.contains(CALLER), "{:?}", requests[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_shows_load_balancers_rules_and_ownership() {
    let api = start(fast()).await;
    // A network load balancer has no rules: it is not offered.
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&api.rt.config);
    elb.create_load_balancer()
        .name("tcp-nlb")
        .r#type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Network)
        .set_subnets(Some(api.env.subnet_ids.clone()))
        .send()
        .await
        .unwrap();

    let a = call(&api, "GET", "/environment", None).await;
    assert_eq!(a.status, 200, "{a:?}");
    let lbs = a.body["loadBalancers"].as_array().unwrap();
    assert_eq!(lbs.len(), 1, "only application load balancers: {lbs:?}");
    let lb = &lbs[0];
    assert_eq!(lb["loadBalancerArn"], json!(api.env.load_balancer_arn));
    assert_eq!(lb["vpcId"], json!(api.env.vpc_id));
    let listener = &lb["listeners"][0];
    assert_eq!((listener["listenerArn"].as_str().unwrap(), listener["port"].as_i64().unwrap()), (api.env.listener_arn.as_str(), 80));
    assert_eq!(listener["defaultForward"][0]["targetGroupArn"], json!(api.env.production_target_group_arn));
    let rules = listener["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!((rules[0]["priority"].as_u64(), rules[0]["isDefault"].as_bool().unwrap()), (Some(10), false));
    assert_eq!(rules[0]["conditions"], json!(["path-pattern:/static/*"]));
    assert!(rules[0].get("aviaryDeploymentId").is_none(), "the user's rule is not Aviary's");
    assert!(rules[1]["priority"].is_null() && rules[1]["isDefault"] == true, "the default rule: {}", rules[1]);
    let tgs = a.body["targetGroups"].as_array().unwrap();
    let prod = tgs.iter().find(|t| t["targetGroupArn"] == json!(api.env.production_target_group_arn)).expect("production group");
    assert_eq!(prod["loadBalancerArns"], json!([api.env.load_balancer_arn]));
    assert_eq!(prod["healthCheckPath"], "/health");

    let d = api.active("web").await;
    let a = call(&api, "GET", "/environment", None).await;
    let rules = a.body["loadBalancers"][0]["listeners"][0]["rules"].as_array().unwrap().clone();
    let ours: Vec<&Value> = rules.iter().filter(|r| r.get("aviaryDeploymentId").is_some()).collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0]["aviaryDeploymentId"], json!(d.id));
    assert_eq!(ours[0]["forward"].as_array().unwrap().len(), 3);
    assert_eq!(ours[0]["stickinessSeconds"], 600);
    let owned_groups = a.body["targetGroups"].as_array().unwrap().iter().filter(|t| t["aviaryDeploymentId"] == json!(d.id)).count();
    assert_eq!(owned_groups, 2, "baseline and canary groups are marked");

    let a = call(&api, "GET", "/environment?vpc=x", None).await;
    assert_eq!((a.status, a.fields()), (400, vec!["vpc".to_string()]));
}
