//! `aviary`: the command line. Deploy, watch, change traffic on and destroy canaries through
//! the Aviary API (SigV4-signed); judge canaries offline; render the monitoring files for
//! review; and, built with the `local` feature, run everything on this machine (`aviary demo`,
//! `aviary local up`).
//!
//! Modules: [`cli`] (flags), [`commands`] (one module per command), [`watch`] (following a
//! deployment), [`output`] (tables, spinner), [`error`] (errors and exit codes). The HTTP API
//! client and SigV4 signing are `aviary_client`'s. Every command and exit code: `docs/cli.md`.

mod cli;
mod commands;
mod error;
mod output;
mod stack;
mod watch;

use std::process::ExitCode;

use clap::Parser;

#[cfg(feature = "local")]
use crate::cli::LocalCommand;
use crate::cli::{Cli, Command};
use crate::commands::Ctx;
use crate::error::{CliError, EXIT_JUDGE_INPUT, EXIT_USAGE};

#[tokio::main]
async fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ if is_judge_invocation() => EXIT_JUDGE_INPUT,
                _ => EXIT_USAGE,
            });
        }
    };
    let ctx = match Ctx::from_flags(cli.json, cli.output) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    output::set_text_tables(ctx.output == Some(cli::OutputFormat::Text));
    #[cfg(feature = "local")]
    let is_demo = matches!(cli.command, Command::Demo { .. });
    #[cfg(not(feature = "local"))]
    let is_demo = matches!(cli.command, Command::DemoUnavailable(_));
    match run(cli, ctx).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            // `aviary demo` keeps its original contract: any failure exits 1.
            ExitCode::from(if is_demo { 1 } else { e.exit_code() })
        }
    }
}

/// `aviary --json ls | head` must end quietly, as Unix tools do, instead of panicking in
/// `println!` ("failed printing to stdout: Broken pipe"): the default SIGPIPE action ends the
/// process when the reader has gone. (Rust starts programs with SIGPIPE ignored.)
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition at start-up, before any thread that could
    // race on it exists besides the runtime's idle workers; no handler is installed.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Whether the arguments name the `judge` command (its usage errors must not look like a
/// Marginal verdict, exit 1).
fn is_judge_invocation() -> bool {
    std::env::args().skip(1).find(|a| !a.starts_with('-')).as_deref() == Some("judge")
}

async fn run(cli: Cli, ctx: Ctx) -> Result<u8, CliError> {
    let outer = &cli.api;
    match cli.command {
        #[cfg(feature = "local")]
        Command::Demo { endpoint, spec_dir, time_scale, change_to, fault, load_seconds } => {
            commands::demo::run(endpoint, spec_dir, time_scale, change_to, fault, load_seconds, ctx).await
        }
        Command::Console { port, api } => console(port, api.or(outer)).await,
        Command::Deploy(a) => commands::deploy::run(a, outer, ctx).await,
        Command::Ls(a) => commands::show::ls(a, outer, ctx).await,
        Command::Status { id, credentials, api } => commands::show::status(id, credentials, api, outer, ctx).await,
        Command::Events { id, follow, wait, api } => commands::show::events(id, follow, wait, api, outer, ctx).await,
        Command::Traffic(a) => commands::traffic::run(a, outer, ctx).await,
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut cli::Cli::command(), "aviary", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(cli::Cli::command())
                .render(&mut std::io::stdout())
                .map_err(|e| error::CliError::Usage(format!("cannot write the man page: {e}")))?;
            Ok(0)
        }
        Command::Watch { id, interval, timeout, api } => commands::verdict::watch(id, interval, timeout, api, outer, ctx).await,
        Command::Destroy { id, wait, wait_args, api } => commands::destroy::run(id, wait, wait_args, api, outer, ctx).await,
        Command::Env { api } => commands::show::env(api, outer, ctx).await,
        Command::Judge(a) => commands::judge::run(a, ctx),
        Command::Render(a) => commands::render::run(a, ctx),
        #[cfg(feature = "local")]
        Command::Local { command: LocalCommand::Up(a) } => commands::local::up(a, ctx).await,
        #[cfg(feature = "local")]
        Command::Local { command: LocalCommand::Cleanup { dry_run, state_file } } => commands::local::cleanup(dry_run, state_file, ctx).await,
        #[cfg(feature = "local")]
        Command::Local { command: LocalCommand::Load { seconds, state_file } } => commands::local::load(seconds, state_file, ctx).await,
        #[cfg(not(feature = "local"))]
        Command::DemoUnavailable(_) => Err(CliError::Usage(cli::needs_local("demo"))),
        #[cfg(not(feature = "local"))]
        Command::LocalUnavailable(a) => {
            let sub = a.args.first().filter(|s| !s.starts_with('-')).map(|s| format!("local {s}")).unwrap_or_else(|| "local".into());
            Err(CliError::Usage(cli::needs_local(&sub)))
        }
    }
}

/// `aviary console`: serves the embedded web console until Ctrl-C. It signs what it forwards
/// exactly as the other commands sign their requests (same `--profile`, `--region`, `--sign`).
async fn console(port: u16, api: cli::ApiArgs) -> Result<u8, CliError> {
    let (endpoint, url) = commands::endpoint(&api).await?;
    let mut opts = aviary_console::ConsoleOptions::new(endpoint, port);
    match commands::signing(&api, &url).await? {
        Some((region, credentials)) => {
            opts.sign = aviary_console::SignMode::Always;
            opts.region = Some(region);
            opts.credentials = Some(credentials);
        }
        None => opts.sign = aviary_console::SignMode::Never,
    }
    let server = aviary_console::serve(opts).await.map_err(|e| CliError::Usage(e.to_string()))?;
    println!("Aviary console: {} (Ctrl-C to stop)", server.url);
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    Ok(0)
}
