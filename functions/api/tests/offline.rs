//! The API against an AWS that cannot be reached, on the Lambda path: API Gateway payload-2.0
//! events go through `lambda_http`'s conversion into the router, as on AWS. Every request
//! that is refused for what the client sent must be answered (400/404/405/413) before any AWS
//! call — a call would fail here and turn the answer into a 502/503. `POST /uploads` works
//! fully offline (presigning is local), so its URLs are checked here too.

use std::sync::Arc;
use std::time::Duration;

use aviary_aws::artifacts::S3Artifacts;
use aviary_aws::elb::AlbRouter;
use aviary_aws::store::DynamoStore;
use aviary_aws::workflow::SfnWorkflow;
use aviary_lifecycle::{Ports, Settings};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::request::LambdaRequest;
use serde_json::{json, Value};
use tower::ServiceExt;

fn unreachable_aws() -> api::ApiState {
    let creds = aws_sdk_s3::config::Credentials::new("AKIDTEST", "secret", None, None, "test");
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        // Port 9 (discard) refuses connections: any AWS call fails fast.
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(creds))
        .timeout_config(aws_config::timeout::TimeoutConfig::builder().connect_timeout(Duration::from_millis(200)).build())
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let artifacts = S3Artifacts::from_conf(&config, "aviary-artifacts-123456789012-us-east-1");
    let ports = Ports::new(Settings { region: "us-east-1".into(), ..Default::default() })
        .with_store(Arc::new(DynamoStore::from_conf(&config, "aviary-deployments")))
        .with_router(Arc::new(AlbRouter::from_conf(&config, "aviary-offline")))
        .with_workflow(Arc::new(SfnWorkflow::from_conf(
            &config,
            "arn:aws:states:us-east-1:123456789012:stateMachine:deploy",
            "arn:aws:states:us-east-1:123456789012:stateMachine:teardown",
        )))
        .with_artifacts(Arc::new(artifacts.clone()));
    api::ApiState::new(ports, api::Presigner::new(&artifacts))
}

fn event(method: &str, path_and_query: &str, body: Option<&str>) -> ApiGatewayV2httpRequest {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let mut e = ApiGatewayV2httpRequest::default();
    e.raw_path = Some(path.into());
    e.raw_query_string = Some(query.into());
    e.body = body.map(str::to_string);
    e.request_context.http.method = http::Method::from_bytes(method.as_bytes()).unwrap();
    e.request_context.request_id = Some("req-1".into());
    e
}

/// What the Lambda runtime does with an event: `lambda_http` makes it a request, the router answers.
async fn send(e: ApiGatewayV2httpRequest) -> (u16, Value, http::HeaderMap) {
    let req = http::Request::from(LambdaRequest::ApiGatewayV2(e));
    let r = api::router(unreachable_aws()).oneshot(req).await.unwrap();
    let (parts, body) = r.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let t = String::from_utf8_lossy(&bytes).to_string();
    (parts.status.as_u16(), serde_json::from_str(&t).unwrap_or_else(|_| panic!("not JSON: {t}")), parts.headers)
}

async fn call(method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let b = body.map(|b| b.to_string());
    let (s, v, _) = send(event(method, path, b.as_deref())).await;
    (s, v)
}

fn fields(v: &Value) -> Vec<&str> {
    v["fields"].as_array().map(|a| a.iter().filter_map(|f| f["field"].as_str()).collect()).unwrap_or_default()
}

const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/prod/50dc6c495c0c9188/f2f7dc8efc522ab2";

fn spec() -> Value {
    json!({"name": "web", "listenerArn": LISTENER, "trafficPercent": 5, "appPort": 8080})
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    for p in ["/", "/nope", "/deployments/", "/deployments/a/b", "/deployments//events", "/uploads/x"] {
        let (s, v) = call("GET", p, None).await;
        assert_eq!((s, v["error"].as_str().unwrap()), (404, "NotFound"), "{p}");
    }
    for (m, p, allow) in [
        ("PUT", "/deployments", "GET, POST"),
        ("DELETE", "/deployments", "GET, POST"),
        ("POST", "/deployments/web-0123456789", "GET, DELETE"),
        ("GET", "/deployments/web-0123456789/traffic", "PATCH"),
        ("GET", "/uploads", "POST"),
        ("POST", "/environment", "GET"),
        ("OPTIONS", "/environment", "GET"),
    ] {
        let (s, v, h) = send(event(m, p, None)).await;
        assert_eq!((s, v["error"].as_str().unwrap()), (405, "MethodNotAllowed"), "{m} {p}");
        assert_eq!(h.get("allow").unwrap(), allow);
    }
}

#[tokio::test]
async fn malformed_path_ids_are_400_on_every_route() {
    for (m, p) in [
        ("GET", "/deployments/Web_1"),
        ("DELETE", "/deployments/a%20b"),
        ("GET", "/deployments/a%2Fb/events"),
        ("PATCH", "/deployments/%C3%A9/traffic"),
        ("POST", "/deployments/-x/analyses"),
        ("GET", "/deployments/x/analyses/a%20b"),
    ] {
        let (s, v) = call(m, p, Some(json!({"trafficPercent": 5}))).await;
        assert_eq!(s, 400, "{m} {p}: {v}");
        assert!(fields(&v) == ["id"] || fields(&v) == ["aid"], "{m} {p}: {v}");
    }
    let long = format!("/deployments/{}", "a".repeat(65));
    assert_eq!(call("GET", &long, None).await.0, 400);
}

#[tokio::test]
async fn query_parameters_are_checked_before_aws_is_asked() {
    for (p, field) in [
        ("/deployments?status=active", "status"),
        ("/deployments?status=", "status"),
        ("/deployments?limit=0", "limit"),
        ("/deployments?limit=101", "limit"),
        ("/deployments?limit=ten", "limit"),
        ("/deployments?cursor=zz", "cursor"),
        ("/deployments?cursor=", "cursor"),
        ("/deployments?order=asc", "order"),
        ("/deployments?limit=1&limit=2", "limit"),
        ("/deployments/web-0123456789?x=1", "x"),
        ("/deployments/web-0123456789/events?limit=501", "limit"),
        ("/deployments/web-0123456789/events?cursor=00", "cursor"),
        ("/environment?region=eu-west-1", "region"),
    ] {
        let (s, v) = call("GET", p, None).await;
        assert_eq!(s, 400, "{p}: {v}");
        assert_eq!(fields(&v), vec![field], "{p}");
    }
}

#[tokio::test]
async fn create_bodies_are_validated_field_by_field() {
    let with = |f: &dyn Fn(&mut Value)| {
        let mut s = spec();
        f(&mut s);
        json!({ "spec": s })
    };
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        ("no spec", json!({}), vec!["spec"]),
        ("unknown top-level field", json!({"spec": spec(), "dryRun": true}), vec!["dryRun"]),
        ("unknown spec field", with(&|s| s["weight"] = json!(3)), vec!["spec.weight"]),
        ("wrong type", with(&|s| s["trafficPercent"] = json!("ten")), vec!["spec.trafficPercent"]),
        ("out of range for the type", with(&|s| s["appPort"] = json!(70000)), vec!["spec.appPort"]),
        ("negative", with(&|s| s["ttlMinutes"] = json!(-1)), vec!["spec.ttlMinutes"]),
        ("nested wrong type", with(&|s| s["conditions"] = json!({"httpMethods": [1]})), vec!["spec.conditions.httpMethods[0]"]),
        ("null spec", json!({"spec": null}), vec!["spec"]),
        ("array body", json!([spec()]), vec!["body"]),
        ("bad idempotency key in the body", json!({"spec": spec(), "idempotencyKey": "has space"}), vec!["idempotencyKey"]),
        (
            "every invalid value at once",
            with(&|s| {
                s["trafficPercent"] = json!(60);
                s["stickiness"] = json!({"durationSeconds": 0});
                s["ttlMinutes"] = json!(5);
                s["name"] = json!("Bad Name");
            }),
            vec!["spec.name", "spec.trafficPercent", "spec.stickiness.durationSeconds", "spec.ttlMinutes"],
        ),
        // Longer than DynamoDB could store as a key: must be a 400, not a 502.
        ("huge name", with(&|s| s["name"] = json!("a".repeat(5000))), vec!["spec.name"]),
    ];
    for (what, body, want) in cases {
        let (s, v) = call("POST", "/deployments", Some(body)).await;
        assert_eq!((s, v["error"].as_str().unwrap()), (400, "ValidationFailed"), "{what}: {v}");
        assert_eq!(fields(&v), want, "{what}: {v}");
    }
    for raw in ["{\"spec\": ", "not json", "{} {}", "{\"spec\": 1e999}"] {
        let (s, v, _) = send(event("POST", "/deployments", Some(raw))).await;
        assert_eq!(s, 400, "{raw}");
        assert!(fields(&v) == ["body"] || fields(&v) == ["spec"], "{raw}: {v}");
    }
    let (s, v, _) = send(event("POST", "/deployments", None)).await;
    assert_eq!((s, fields(&v)), (400, vec!["body"]));
    let (s, v) = call("POST", "/deployments?dry=1", Some(json!({"spec": spec()}))).await;
    assert_eq!((s, fields(&v)), (400, vec!["dry"]));
}

#[tokio::test]
async fn idempotency_keys_are_checked() {
    let body = json!({"spec": spec(), "idempotencyKey": "b"}).to_string();
    let mut e = event("POST", "/deployments", Some(&body));
    e.headers.insert("idempotency-key", "a".parse().unwrap());
    let (s, v, _) = send(e).await;
    assert_eq!((s, fields(&v)), (400, vec!["idempotencyKey"]), "{v}");
    let mut e = event("POST", "/deployments", Some(&json!({"spec": spec()}).to_string()));
    e.headers.insert("idempotency-key", "x".repeat(129).parse().unwrap());
    let (s, v, _) = send(e).await;
    assert_eq!((s, fields(&v)), (400, vec!["Idempotency-Key"]), "{v}");
}

#[tokio::test]
async fn traffic_bodies_are_validated_before_the_deployment_is_read() {
    for (body, field) in [
        (json!({"trafficPercent": "ten"}), "trafficPercent"),
        (json!({"weights": 1}), "weights"),
        (json!({"conditions": {"httpMethods": "GET"}}), "conditions.httpMethods"),
        (json!({"stickiness": {"enabled": false}}), "stickiness.durationSeconds"),
        (json!([]), "body"),
        (json!({}), "body"),
        (json!({"trafficPercent": null}), "trafficPercent"),
        (json!({"trafficPercent": 5, "stickiness": null}), "stickiness"),
    ] {
        let (s, v) = call("PATCH", "/deployments/web-0123456789/traffic", Some(body.clone())).await;
        assert_eq!((s, fields(&v)), (400, vec![field]), "{body}: {v}");
    }
    let (s, v, _) = send(event("PATCH", "/deployments/web-0123456789/traffic", None)).await;
    assert_eq!((s, fields(&v)), (400, vec!["body"]));
}

#[tokio::test]
async fn oversized_and_binary_bodies_are_refused() {
    let big = json!({"spec": spec(), "idempotencyKey": "k", "pad": "x".repeat(300 * 1024)}).to_string();
    let (s, v, _) = send(event("POST", "/deployments", Some(&big))).await;
    assert_eq!((s, v["error"].as_str().unwrap()), (413, "PayloadTooLarge"));
    // A body API Gateway passed base64-encoded (a binary content type) that is not JSON.
    let mut e = event("POST", "/uploads", Some("//79"));
    e.is_base64_encoded = true;
    let (s, v, _) = send(e).await;
    assert_eq!((s, fields(&v)), (400, vec!["body"]));
}

#[tokio::test]
async fn analyses_check_input_before_touching_aws() {
    // An unusable request is a 400 without any AWS call (AWS is unreachable here).
    let (s, v) = call("POST", "/deployments/web-0123456789/analyses", Some(json!({"source": "nope"}))).await;
    assert_eq!((s, v["error"].as_str().unwrap()), (400, "ValidationFailed"), "{v}");
    let (s, _) = call("GET", "/deployments/web-0123456789/analyses/a%20b", None).await;
    assert_eq!(s, 400);
    // A valid request reaches the store, which is unreachable: an upstream error, never a 500.
    let (s, _) = call("POST", "/deployments/web-0123456789/analyses", Some(json!({}))).await;
    assert!(s == 502 || s == 503, "{s}");
}

#[tokio::test]
async fn a_named_stage_prefix_routes_like_default() {
    let mut e = event("GET", "/v1/deployments?limit=0", None);
    e.request_context.stage = Some("v1".into());
    let (s, v, _) = send(e).await;
    // Routed to the listing (whose limit check answers), not a 404.
    assert_eq!((s, fields(&v)), (400, vec!["limit"]));
}

#[tokio::test]
async fn aws_failures_are_503_with_the_error_name_not_500() {
    // A valid request that needs AWS: the unreachable endpoint is a transient failure.
    let (s, v, h) = send(event("GET", "/deployments/web-0123456789", None)).await;
    assert_eq!((s, v["error"].as_str().unwrap()), (503, "AwsTransient"), "{v}");
    assert!(h.get("retry-after").is_some());
    assert_eq!(call("GET", "/environment", None).await.0, 503);
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map(|x| x.1).unwrap_or("");
    api::validation::parse_query(q)
}

/// An operator of the installation (so `POST /uploads` needs no name claim, which would be a
/// DynamoDB call), as API Gateway's IAM authoriser names it.
const OPERATOR: &str = "arn:aws:iam::123456789012:user/operator";

#[tokio::test]
async fn uploads_are_presigned_with_the_length_in_the_signature() {
    let body = json!({"name": "web", "files": [
        {"file": "canary.tar", "contentLength": 2048},
        {"file": "aviary.json", "contentLength": 300},
        {"file": "compose.yml", "contentLength": 120},
        {"file": "baseline.tar", "contentLength": 4096}
    ]})
    .to_string();
    let mut e = event("POST", "/uploads", Some(&body));
    let mut authorizer = lambda_http::aws_lambda_events::apigw::ApiGatewayRequestAuthorizer::default();
    let mut iam = lambda_http::aws_lambda_events::apigw::ApiGatewayRequestAuthorizerIamDescription::default();
    iam.user_arn = Some(OPERATOR.into());
    authorizer.iam = Some(iam);
    e.request_context.authorizer = Some(authorizer);
    let req = http::Request::from(LambdaRequest::ApiGatewayV2(e));
    let mut state = unreachable_aws();
    state.ports.settings = state.ports.settings.clone().with_guardrails(aviary_core::guardrails::Guardrails {
        ownership: aviary_core::ownership::Ownership { operators: vec![OPERATOR.into()] },
        ..Default::default()
    });
    let r = api::router(state).oneshot(req).await.unwrap();
    let s = r.status().as_u16();
    let v: Value = serde_json::from_slice(&axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap()).unwrap();
    assert_eq!(s, 200, "{v}");
    let uploads = v["uploads"].as_array().unwrap();
    let order: Vec<&str> = uploads.iter().map(|u| u["file"].as_str().unwrap()).collect();
    assert_eq!(order, vec!["aviary.json", "compose.yml", "baseline.tar", "canary.tar"], "the canary tarball goes last");
    assert!(v["instructions"].as_str().unwrap().contains("canary tarball last"));
    assert_eq!(v["prefix"], "canaries/web/");
    for u in uploads {
        let url = u["url"].as_str().unwrap();
        let q = query_of(url);
        let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, b)| b.as_str()).unwrap_or_else(|| panic!("{k} missing in {url}"));
        assert_eq!(u["method"], "PUT");
        assert!(url.contains(&format!("canaries/web/{}", u["file"].as_str().unwrap())), "{url}");
        assert_eq!(get("X-Amz-Expires"), "900");
        // The length is signed: S3 refuses a body of another size with SignatureDoesNotMatch.
        assert!(get("X-Amz-SignedHeaders").split(';').any(|h| h == "content-length"), "{url}");
        assert_eq!(u["headers"]["content-length"].as_str().unwrap(), u["contentLength"].to_string());
        // So is who asked (the IAM caller API Gateway named), which becomes the owner.
        assert!(get("X-Amz-SignedHeaders").split(';').any(|h| h == "x-amz-meta-aviary-created-by"), "{url}");
        assert_eq!(u["headers"]["x-amz-meta-aviary-created-by"], OPERATOR);
        // No checksum of an empty body may be signed in (it would fail every real upload).
        assert!(!url.to_ascii_lowercase().contains("x-amz-checksum-crc32="), "{url}");
    }
}

#[tokio::test]
async fn upload_requests_are_validated() {
    for (body, want) in [
        (json!({"name": "Web", "files": [{"file": "canary.tar", "contentLength": 1}]}), vec!["name"]),
        (json!({"name": "web", "files": []}), vec!["files"]),
        (json!({"name": "web", "files": [{"file": "../canary.tar", "contentLength": 1}]}), vec!["files[0].file"]),
        (json!({"name": "web", "files": [{"file": "sub/compose.yml", "contentLength": 1}]}), vec!["files[0].file"]),
        (json!({"name": "web", "files": [{"file": "compose.yml", "contentLength": 1048577}]}), vec!["files[0].contentLength"]),
        (json!({"name": "web", "files": [{"file": "aviary.json", "contentLength": 300000}]}), vec!["files[0].contentLength"]),
        (json!({"name": "web", "files": [{"file": "canary.tar", "contentLength": 0}]}), vec!["files[0].contentLength"]),
        (json!({"name": "web", "files": [{"file": "canary.tar", "contentLength": 5368709121u64}]}), vec!["files[0].contentLength"]),
        (json!({"name": "web", "files": [{"file": "canary.tar", "contentLength": -1}]}), vec!["files[0].contentLength"]),
        (json!({"name": "web", "files": [{"file": "canary.tar"}]}), vec!["files[0].contentLength"]),
        (json!({"name": "web", "files": [{"file": "canary.tar", "contentLength": 1, "md5": "x"}]}), vec!["files[0].md5"]),
        (
            json!({"name": "web", "files": [{"file": "canary.tar", "contentLength": 1}, {"file": "canary.tar", "contentLength": 2}]}),
            vec!["files[1].file"],
        ),
    ] {
        let (s, v) = call("POST", "/uploads", Some(body.clone())).await;
        assert_eq!((s, fields(&v)), (400, want), "{body}: {v}");
    }
}
