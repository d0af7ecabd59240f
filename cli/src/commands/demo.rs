//! `aviary demo`: one canary's whole lifecycle on an emulated AWS (moto server), printed as it
//! happens (`aviary_local::demo`).

use std::path::PathBuf;

use crate::commands::Ctx;
use crate::error::CliError;

pub async fn run(endpoint: Option<String>, spec_dir: Option<PathBuf>, time_scale: f64, change_to: f64, fault: String, load_seconds: u64, ctx: Ctx) -> Result<u8, CliError> {
    let traffic = match fault.as_str() {
        "off" => None,
        f => Some(aviary_local::dataplane::front::Fault::parse(f).map_err(CliError::Usage)?),
    };
    let root = aviary_local::moto::project_root();
    let opts = aviary_local::demo::DemoOptions {
        local: aviary_local::runtime::LocalOptions { root: root.clone(), endpoint, time_scale, ..Default::default() },
        spec_dir,
        work_dir: root.join(".aviary/demo"),
        change_to_percent: (change_to > 0.0).then_some(change_to),
        // With --json the story is one document at the end.
        quiet: ctx.json,
        traffic,
        load_seconds,
    };
    let report = aviary_local::demo::run_demo(opts).await?;
    if ctx.json {
        crate::output::print_json(&report.to_json());
    }
    if report.listener_restored() {
        Ok(0)
    } else {
        Err(CliError::Other("the listener's rules differ from before the canary".into()))
    }
}
