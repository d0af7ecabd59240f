//! The browser test's stack: the local runtime (moto + Aviary's resources + local Step
//! Functions), the sample production environment, the local API front and the console
//! pointing at it. Prints one JSON line (`console`, `api`, `listenerArn`, `loadBalancerArn`,
//! `sampleDir`, `debug`) and serves until killed (SIGTERM/SIGINT), pumping S3 notifications.
//!
//! `debug` is a separate loopback server, only here, never in the console:
//! `GET /__test/rules` answers the listener's rules as the load balancer has them.

use std::sync::Arc;
use std::time::Duration;

use aviary_local::api_server::ApiServer;
use aviary_local::runtime::{LocalOptions, LocalRuntime};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rt = LocalRuntime::start(LocalOptions::default()).await?;
    let env = aviary_local::environment::create(&rt.config, "prod").await?;
    rt.allow_listener(&env.listener_arn);
    // The data plane with a slow canary and a steady trickle of requests, so the detail page's
    // live verdict and its charts have real periods to show (2-second periods).
    use aviary_local::dataplane::front::{DataPlane, Fault, MetricsSink, SampleApp};
    let sink = MetricsSink { cloudwatch: rt.cloudwatch(), period_seconds: 2 };
    let dp = Arc::new(DataPlane::start(&rt.config, &env.listener_arn, SampleApp::built(), Fault::Slower(30), Some(sink)).await?);
    rt.set_health_and_clock(dp.clone(), Arc::new(aviary_core::clock::SystemClock));
    rt.live = aviary_local::LiveSettings { period_seconds: 2, settle_seconds: Some(1) };
    // Four clients: with the sample app's 20 ms of work, ~150 requests/s.
    for _ in 0..4 {
        let trickle_url = format!("{}/", dp.url);
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            loop {
                let _ = client.get(&trickle_url).send().await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }
    let rt = Arc::new(rt);
    let dir = std::env::temp_dir().join(format!("aviary-console-e2e-{}", std::process::id()));
    aviary_local::demo::write_sample(&dir, &env.listener_arn)?;
    let api = ApiServer::start(&rt).await?;
    let console = aviary_console::serve(aviary_console::ConsoleOptions::new(api.url.clone(), 0)).await?;

    // S3-triggered starts need the notifications delivered (the console's own start is the
    // API call, so this only keeps the queue drained as the real stack would).
    let pump_rt = rt.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = pump_rt.pump(Duration::from_secs(1)).await {
                eprintln!("pump: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    });

    let listener_arn = env.listener_arn.clone();
    let debug_rt = rt.clone();
    let debug = axum::Router::new().route(
        "/__test/rules",
        axum::routing::get(move || {
            let rt = debug_rt.clone();
            let arn = listener_arn.clone();
            async move {
                match rt.rules(&arn).await {
                    Ok(rules) => axum::Json(serde_json::to_value(rules).unwrap_or_default()).into_response(),
                    Err(e) => (axum::http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
                }
            }
        }),
    );
    let debug_listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let debug_url = format!("http://{}", debug_listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(debug_listener, debug).await;
    });

    println!(
        "{}",
        serde_json::json!({
            "console": console.url,
            "api": api.url,
            "listenerArn": env.listener_arn,
            "loadBalancerArn": env.load_balancer_arn,
            "sampleDir": dir,
            "debug": debug_url,
            "dataPlane": dp.url,
        })
    );

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    console.stop().await;
    api.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    // Dropping the runtime stops the moto server it started.
    drop(rt);
    Ok(())
}

use axum::response::IntoResponse;
