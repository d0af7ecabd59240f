//! `aviary watch <id>`: the live verdict (`GET /deployments/{id}/verdict`) refreshed every
//! `--interval` seconds until it decides, as a table (redrawn in place on a terminal) or, with
//! `--json`, one JSON document per refresh. Refreshing often is safe: the verdict is
//! anytime-valid (docs/judge.md).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::ApiArgs;
use crate::commands::{connect, Ctx};
use crate::error::CliError;
use crate::output::Table;

/// The exit code for a decision: 2 canary-worse (like a failed judgement), 0 canary-better,
/// None while undecided.
pub fn exit_for(decision: &str) -> Option<u8> {
    match decision {
        "canary-worse" => Some(2),
        "canary-better" => Some(0),
        _ => None,
    }
}

fn number(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.abs() >= 1e6 => format!("{x:.2e}"),
        Some(x) => format!("{x:.3}"),
        None => "-".into(),
    }
}

/// The verdict as people read it: the decision, then one line per metric.
pub fn verdict_text(v: &Value) -> String {
    let empty = Vec::new();
    let mut out = format!(
        "{}  {}  (α = {}, {} periods of {} s, source {})\n",
        v["deploymentId"].as_str().unwrap_or("-"),
        v["decision"].as_str().unwrap_or("-"),
        v["alpha"],
        v["metrics"].as_array().and_then(|m| m.first()).map(|m| m["samples"]["baseline"].to_string()).unwrap_or_else(|| "0".into()),
        v["periodSeconds"],
        v["source"].as_str().filter(|s| !s.is_empty()).unwrap_or("none yet"),
    );
    let mut t = Table::new(["METRIC", "TEST", "DECISION", "E-VALUE", "THRESHOLD", "PERIODS B/C", "EFFECT"]);
    for m in v["metrics"].as_array().unwrap_or(&empty) {
        t.row([
            m["name"].as_str().unwrap_or("-").to_string(),
            m["test"].as_str().unwrap_or("-").to_string(),
            m["decision"].as_str().unwrap_or("-").to_string(),
            number(&m["eValue"]),
            number(&m["threshold"]),
            format!("{}/{}", m["samples"]["baseline"], m["samples"]["canary"]),
            number(&m["effect"]),
        ]);
    }
    if !t.is_empty() {
        out.push_str(&t.render());
    }
    for n in v["notes"].as_array().unwrap_or(&empty) {
        out.push_str(&format!("note: {}\n", n.as_str().unwrap_or("")));
    }
    out
}

pub async fn watch(id: String, interval: u64, timeout: u64, api: ApiArgs, outer: &ApiArgs, ctx: Ctx) -> Result<u8, CliError> {
    if interval == 0 {
        return Err(CliError::Usage("--interval must be at least 1 second".into()));
    }
    let client = connect(&api.or(outer)).await?;
    let redraw = !ctx.json && std::io::stdout().is_terminal();
    let started = Instant::now();
    loop {
        let v = client.verdict(&id).await?;
        if ctx.json {
            println!("{}", serde_json::to_string(&v).unwrap_or_default());
        } else {
            if redraw {
                print!("\x1b[H\x1b[2J");
            }
            print!("{}", verdict_text(&v));
        }
        if let Some(code) = v["decision"].as_str().and_then(exit_for) {
            return Ok(code);
        }
        let d = client.get(&id).await?;
        if d.status.is_final() {
            if !ctx.json {
                println!("{id} is {}: no more traffic, no decision", d.status);
            }
            return Ok(3);
        }
        if started.elapsed() >= Duration::from_secs(timeout) {
            if !ctx.json {
                println!("no decision within {timeout} s");
            }
            return Ok(3);
        }
        if !ctx.json && !redraw {
            println!();
        }
        tokio::time::sleep(Duration::from_secs(interval)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decisions_map_to_exit_codes() {
        assert_eq!(exit_for("canary-worse"), Some(2));
        assert_eq!(exit_for("canary-better"), Some(0));
        assert_eq!(exit_for("no-difference-yet"), None);
    }

    #[test]
    fn the_table_has_every_metric_and_the_notes() {
        let v = json!({"deploymentId": "web-1", "decision": "canary-worse", "alpha": 0.05, "source": "cloudwatch", "periodSeconds": 60, "through": 1,
            "metrics": [
                {"name": "target_response_time", "test": "sign", "direction": "increase", "decision": "canary-worse", "eValue": 123.4567, "threshold": 60.0,
                 "samples": {"baseline": 40, "canary": 40}, "effect": 0.95},
                {"name": "target_5xx", "test": "count-mixture", "direction": "increase", "decision": "no-difference-yet", "eValue": 0.5, "threshold": 60.0,
                 "samples": {"baseline": 40, "canary": 39}}],
            "notes": ["something to know"]});
        let t = verdict_text(&v);
        assert!(t.starts_with("web-1  canary-worse  (α = 0.05, 40 periods of 60 s, source cloudwatch)\n"), "{t}");
        assert!(t.contains("target_response_time  sign") && t.contains("123.457") && t.contains("40/40") && t.contains("0.950"), "{t}");
        assert!(t.contains("target_5xx") && t.contains("40/39"), "{t}");
        assert!(t.ends_with("note: something to know\n"), "{t}");
        let before = json!({"deploymentId": "web-1", "decision": "no-difference-yet", "alpha": 0.05, "source": "", "periodSeconds": 60, "through": null, "metrics": [], "notes": ["web-1 has not taken traffic yet"]});
        assert!(verdict_text(&before).contains("source none yet"), "{}", verdict_text(&before));
    }
}
