//! `aviary judge <config.json> <data.json>`: the offline judge (`aviary_judge`). A
//! stable interface for outside checks: the JSON report on stdout (default) or a table, and
//! the verdict as the exit code — 0 Pass, 1 Marginal, 2 Fail; 4 when an input is unreadable.

use aviary_judge::{judge, parse_config, parse_data, ScoreThresholds, Verdict};

use crate::cli::{JudgeArgs, JudgeFormat, OutputFormat};
use crate::commands::Ctx;
use crate::error::CliError;

pub fn verdict_code(v: Verdict) -> u8 {
    match v {
        Verdict::Pass => 0,
        Verdict::Marginal => 1,
        Verdict::Fail => 2,
    }
}

pub fn run(args: JudgeArgs, ctx: Ctx) -> Result<u8, CliError> {
    let read = |p: &std::path::Path| std::fs::read_to_string(p).map_err(|source| CliError::JudgeInput { path: p.display().to_string(), source });
    let config = parse_config(&read(&args.config)?)?;
    let data = parse_data(&read(&args.data)?)?;
    let thresholds = match (args.marginal, args.pass) {
        (Some(m), Some(p)) => Some(ScoreThresholds::new(m, p)?),
        _ => None,
    };
    let report = judge(&config, &data, thresholds);
    let format = match ctx.output {
        Some(OutputFormat::Json) => JudgeFormat::Json,
        Some(OutputFormat::Table | OutputFormat::Text) => JudgeFormat::Table,
        None => args.format.unwrap_or(JudgeFormat::Json),
    };
    match format {
        JudgeFormat::Json => println!("{}", report.to_json_pretty()),
        JudgeFormat::Table => print!("{}", report.to_table()),
    }
    Ok(verdict_code(report.classification))
}
