//! `aviary`: the command line. `aviary demo` runs the whole canary lifecycle on an emulated
//! AWS on this machine.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "aviary", version, about = "Manual canary analysis on AWS: deploy, watch, judge and destroy canaries")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one canary's whole lifecycle on an emulated AWS (moto server) and print it.
    Demo {
        /// Use an emulator that is already running instead of starting moto from .venv.
        #[arg(long)]
        endpoint: Option<String>,
        /// Your own canary directory (aviary.json, tarballs, compose file) instead of the sample.
        #[arg(long)]
        spec_dir: Option<PathBuf>,
        /// Multiplies the state machines' waits and retry delays (1.0 = real time).
        #[arg(long, default_value_t = 0.01)]
        time_scale: f64,
        /// Change the canary's share to this percent once it is active (live traffic control).
        #[arg(long, default_value_t = 10.0)]
        change_to: f64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { endpoint, spec_dir, time_scale, change_to } => {
            let root = aviary_local::moto::project_root();
            let opts = aviary_local::demo::DemoOptions {
                local: aviary_local::runtime::LocalOptions { root: root.clone(), endpoint, time_scale, ..Default::default() },
                spec_dir,
                work_dir: root.join(".aviary/demo"),
                change_to_percent: (change_to > 0.0).then_some(change_to),
                quiet: false,
            };
            match aviary_local::demo::run_demo(opts).await {
                Ok(r) if r.listener_restored() => ExitCode::SUCCESS,
                Ok(_) => {
                    eprintln!("error: the listener's rules differ from before the canary");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
