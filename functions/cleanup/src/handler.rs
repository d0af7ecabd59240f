//! The Lambda's event and configuration: `AVIARY_CLEANUP_DRY_RUN=true` in the environment makes
//! every invocation a dry run; `{"dryRun": true}` in the event (top level, or in `detail` of an
//! EventBridge event) makes one invocation a dry run. Everything else is the sweep of
//! [`aviary_lifecycle::cleanup`].

use aviary_core::StepError;
use aviary_lifecycle::cleanup::{run_cleanup, CleanupOptions, CleanupReport};
use aviary_lifecycle::Ports;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

/// Environment variable that turns every invocation into a dry run.
pub const DRY_RUN_ENV: &str = "AVIARY_CLEANUP_DRY_RUN";

/// The defaults, with `AVIARY_CLEANUP_DRY_RUN=true` selecting a dry run.
pub fn options_from_env() -> CleanupOptions {
    options_from(std::env::var(DRY_RUN_ENV).ok().as_deref())
}

fn options_from(dry_run_setting: Option<&str>) -> CleanupOptions {
    CleanupOptions { dry_run: is_true(dry_run_setting), ..Default::default() }
}

/// The options for one invocation: the configured ones, made a dry run if the event asks for
/// one. An event cannot turn a dry run configured in the environment off.
pub fn options_for_event(defaults: &CleanupOptions, event: &Value) -> CleanupOptions {
    let flag = |v: &Value| match v.get("dryRun") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => is_true(Some(s)),
        _ => false,
    };
    let requested = flag(event) || event.get("detail").is_some_and(flag);
    CleanupOptions { dry_run: defaults.dry_run || requested, ..defaults.clone() }
}

fn is_true(v: Option<&str>) -> bool {
    v.is_some_and(|s| matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

/// The Lambda handler: any JSON input (the scheduled event); see [`options_for_event`].
pub async fn handler(ports: &Ports, defaults: &CleanupOptions, event: LambdaEvent<Value>) -> Result<CleanupReport, StepError> {
    let opts = options_for_event(defaults, &event.payload);
    let report = run_cleanup(ports, &opts).await?;
    tracing::info!(
        dry_run = report.dry_run,
        actions = report.actions.len(),
        failed = report.failures().count(),
        listing_errors = report.errors.len(),
        "cleanup sweep finished"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use aviary_core::status::Status;
    use aviary_lifecycle::cleanup::ActionKind;
    use aviary_lifecycle::testing::World;
    use lambda_runtime::{Context, LambdaEvent};
    use serde_json::json;

    use super::*;

    #[test]
    fn dry_run_comes_from_the_event_or_the_environment_setting() {
        let defaults = CleanupOptions::default();
        let dry = |event: Value| options_for_event(&defaults, &event).dry_run;
        assert!(!dry(json!({"source": "aws.events", "detail": {}})));
        assert!(dry(json!({"dryRun": true})));
        assert!(dry(json!({"dryRun": "true"})));
        assert!(dry(json!({"detail-type": "Scheduled Event", "detail": {"dryRun": true}})));
        assert!(!dry(json!({"dryRun": false})));
        assert!(!dry(json!(null)));
        let configured = options_from(Some("true"));
        assert!(options_for_event(&configured, &json!({"dryRun": false})).dry_run, "an event cannot switch a configured dry run off");
        assert_eq!(options_for_event(&configured, &json!({})), CleanupOptions { dry_run: true, ..Default::default() });
        assert_eq!(options_from(None), CleanupOptions::default());
    }

    #[test]
    fn truthy_values() {
        for v in ["true", "TRUE", " 1 ", "yes"] {
            assert!(is_true(Some(v)), "{v}");
        }
        for v in ["", "false", "0", "no"] {
            assert!(!is_true(Some(v)), "{v}");
        }
        assert!(!is_true(None));
    }

    #[tokio::test]
    async fn a_dry_run_event_reaches_the_sweep() {
        let w = World::new();
        w.active("web-1").await;
        w.clock.advance_secs(241 * 60);
        w.cloud.log.clear();
        let event = LambdaEvent::new(json!({"detail": {"dryRun": true}}), Context::default());
        let report = handler(&w.ports, &CleanupOptions::default(), event).await.unwrap();
        assert!(report.dry_run && report.for_deployment("web-1").count() == 1, "{report:?}");
        assert!(w.cloud.log.cloud_mutations().is_empty());
        assert_eq!(w.store.peek("web-1").unwrap().status, Status::Active);
    }

    #[tokio::test]
    async fn a_scheduled_event_runs_the_sweep() {
        let w = World::new();
        w.active("web-1").await;
        w.clock.advance_secs(241 * 60);
        let event = LambdaEvent::new(json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}), Context::default());
        let report = handler(&w.ports, &CleanupOptions::default(), event).await.unwrap();
        assert!(!report.dry_run && report.for_deployment("web-1").any(|a| a.kind == ActionKind::Expired && a.done), "{report:?}");
        assert_eq!(w.store.peek("web-1").unwrap().status, Status::TearingDown);
    }

    #[tokio::test]
    async fn an_unreadable_table_fails_the_invocation() {
        let w = World::new();
        w.cloud.faults.fail_next("Query:deployments", StepError::aws("Query", true, "Throttling: Rate exceeded"));
        let err = handler(&w.ports, &CleanupOptions::default(), LambdaEvent::new(json!({}), Context::default())).await.unwrap_err();
        assert_eq!(err.name(), "AwsTransient");
    }
}
