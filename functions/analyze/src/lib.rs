//! `analyze`: runs one canary analysis ([`aviary_analysis::run_analysis`]) for
//! `{"deploymentId": "...", ...AnalysisRequest}` and returns the stored record; and, on its
//! schedule (an EventBridge `Scheduled Event`), refreshes the live verdict of every ACTIVE
//! deployment ([`aviary_analysis::live::refresh_active`]) so decisions reach the event log
//! even when nobody is watching. Errors carry
//! the stable names of [`AnalysisError::name`] as `errorType` (`DeploymentNotFound`,
//! `InvalidRequest`, `NotReady`, `MetricSourceError`, or a step error's name).
//!
//! `analysisId` may be given to store the analysis under an id the caller chose (e.g. one
//! handed out before an asynchronous invoke); it must look like one
//! ([`aviary_analysis::new_analysis_id`]). A taken id is refused (`InvalidRequest` on
//! `analysisId`), never overwritten.

use aviary_analysis::{run_analysis, AnalysisError, AnalysisPorts, AnalysisRecord, AnalysisRequest};
use lambda_runtime::LambdaEvent;
use serde_json::Value;

/// The function's input: the deployment, an optional pre-assigned analysis id, and the
/// request's fields beside them.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzeInput {
    pub deployment_id: String,
    pub request: AnalysisRequest,
}

impl AnalyzeInput {
    pub fn from_value(v: Value) -> Result<AnalyzeInput, AnalysisError> {
        let Value::Object(mut map) = v else {
            return Err(AnalysisError::invalid("body", "the input must be a JSON object"));
        };
        let text = |v: Option<Value>, field: &str| -> Result<Option<String>, AnalysisError> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
                Some(_) => Err(AnalysisError::invalid(field, "must be a non-empty string")),
            }
        };
        let deployment_id =
            text(map.remove("deploymentId"), "deploymentId")?.ok_or_else(|| AnalysisError::invalid("deploymentId", "is required"))?;
        let analysis_id = text(map.remove("analysisId"), "analysisId")?;
        let mut request = AnalysisRequest::from_value(Value::Object(map))?;
        request.analysis_id = analysis_id;
        Ok(AnalyzeInput { deployment_id, request })
    }
}

pub async fn handler(ports: &AnalysisPorts, event: LambdaEvent<Value>) -> Result<Value, AnalysisError> {
    if is_scheduled(&event.payload) {
        let refreshed = aviary_analysis::live::refresh_active(ports).await?;
        return Ok(serde_json::json!({ "refreshed": refreshed }));
    }
    let record = handle(ports, event.payload).await?;
    serde_json::to_value(record).map_err(|e| AnalysisError::Step(aviary_core::StepError::InvalidInput(e.to_string())))
}

/// An EventBridge schedule's event (`"source": "aws.events"`, `"detail-type": "Scheduled Event"`).
pub fn is_scheduled(payload: &Value) -> bool {
    payload["source"] == "aws.events" && payload["detail-type"] == "Scheduled Event"
}

pub async fn handle(ports: &AnalysisPorts, input: Value) -> Result<AnalysisRecord, AnalysisError> {
    let input = AnalyzeInput::from_value(input)?;
    run_analysis(ports, &input.deployment_id, &input.request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aviary_analysis::SourceChoice;
    use lambda_runtime::Diagnostic;
    use serde_json::json;

    /// The lifecycle's fakes with an analysis store and CloudWatch beside them.
    fn fakes() -> (aviary_lifecycle::testing::World, aviary_analysis::memory::MemoryAnalyses, AnalysisPorts) {
        use aviary_analysis::memory::{MemoryAnalyses, MemoryCloudWatch};
        let w = aviary_lifecycle::testing::World::new();
        let analyses = MemoryAnalyses::new(w.cloud.clone());
        let ports = AnalysisPorts::new(w.ports.clone())
            .with_analyses(std::sync::Arc::new(analyses.clone()))
            .with_cloudwatch(std::sync::Arc::new(MemoryCloudWatch::new(w.cloud.clone())));
        (w, analyses, ports)
    }

    #[test]
    fn input_splits_the_ids_from_the_request() {
        let i = AnalyzeInput::from_value(json!({
            "deploymentId": "web-0123456789", "analysisId": "an-1795714098123-00ff00",
            "source": "cloudwatch", "start": "-1h", "thresholds": {"marginal": 60, "pass": 90}
        }))
        .unwrap();
        assert_eq!(i.deployment_id, "web-0123456789");
        assert_eq!(i.request.analysis_id.as_deref(), Some("an-1795714098123-00ff00"));
        assert_eq!(i.request.source, SourceChoice::Cloudwatch);
        assert_eq!(i.request.thresholds.unwrap().marginal(), 60.0);
        let i = AnalyzeInput::from_value(json!({"deploymentId": "d"})).unwrap();
        assert_eq!(i.request, AnalysisRequest::default());
    }

    #[test]
    fn bad_input_is_an_invalid_request_with_its_field() {
        for (v, field) in [
            (json!({}), "deploymentId"),
            (json!({"deploymentId": 7}), "deploymentId"),
            (json!({"deploymentId": "d", "analysisId": ""}), "analysisId"),
            (json!({"deploymentId": "d", "window": 30}), "body"),
            (json!([1]), "body"),
        ] {
            match AnalyzeInput::from_value(v.clone()).unwrap_err() {
                AnalysisError::InvalidRequest { fields } => assert_eq!(fields[0].field, field, "{v}"),
                e => panic!("{v}: {e}"),
            }
        }
    }

    #[tokio::test]
    async fn handle_analyses_the_named_deployment_through_the_ports() {
        let (w, analyses, ports) = fakes();
        let e = handle(&ports, json!({"deploymentId": "web-1"})).await.unwrap_err();
        assert_eq!(e.name(), "DeploymentNotFound");
        w.active("web-1").await;
        w.clock.advance_secs(31 * 60);
        let r = handle(&ports, json!({"deploymentId": "web-1", "analysisId": "an-1800000000000-00ff00", "source": "cloudwatch"}))
            .await
            .expect("analysis");
        assert_eq!((r.analysis_id.as_str(), r.source.as_str(), r.window.points()), ("an-1800000000000-00ff00", "cloudwatch", 30));
        assert_eq!(analyses.stored("web-1"), vec![r]);
    }

    #[tokio::test]
    async fn the_schedule_refreshes_live_verdicts_and_other_events_analyse() {
        use lambda_runtime::Context;

        let (w, analyses, ports) = fakes();
        w.active("web-1").await;
        w.clock.advance_secs(31 * 60);
        let scheduled = json!({"version": "0", "id": "e", "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
                               "time": "2027-01-15T12:00:00Z", "region": "us-east-1", "resources": [], "detail": {}});
        assert!(is_scheduled(&scheduled));
        let out = handler(&ports, LambdaEvent::new(scheduled, Context::default())).await.unwrap();
        assert_eq!(out["refreshed"][0]["deploymentId"], "web-1", "{out}");
        assert_eq!(out["refreshed"][0]["decision"], "no-difference-yet", "{out}");
        use aviary_analysis::AnalysisStore;
        assert!(analyses.get_live("web-1").await.unwrap().is_some(), "the state was stored");
        // Anything else is an analysis request.
        let out = handler(&ports, LambdaEvent::new(json!({"deploymentId": "web-1", "source": "cloudwatch"}), Context::default())).await.unwrap();
        assert_eq!(out["deploymentId"], "web-1");
        assert!(out["analysisId"].as_str().unwrap().starts_with("an-"));
        assert!(!is_scheduled(&json!({"source": "aws.events"})));
    }

    #[test]
    fn errors_reach_lambda_with_their_stable_names() {
        let d: Diagnostic = AnalysisError::NotFound("web-1".into()).into();
        assert_eq!((d.error_type.as_str(), d.error_message.as_str()), ("DeploymentNotFound", "deployment web-1 not found"));
        let d: Diagnostic = AnalysisError::invalid("start", "bad").into();
        assert_eq!(d.error_type, "InvalidRequest");
    }
}
