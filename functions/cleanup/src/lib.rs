//! `cleanup`: the Lambda over [`aviary_lifecycle::cleanup`] — the scheduled sweep (EventBridge,
//! e.g. every 10 minutes) for what no workflow will finish on its own:
//!
//! - **expired** deployments (`expiresAt` passed) → the teardown workflow, as a destroy request;
//! - **stuck** deployments: deploying for longer than the deploy workflow's own timeout, or
//!   whose deploy workflow has ended without moving the record on → teardown (ending FAILED);
//!   TEARING_DOWN with no teardown workflow running → the teardown workflow again;
//! - **orphans**: resources carrying Aviary's tags (rules on every ALB listener, target groups,
//!   instances, security groups) whose deployment id has no record or a final one → deleted,
//!   rule first. Found by tag only: untagged resources are never touched.
//!
//! Every step is idempotent, so overlapping or repeated sweeps are harmless, and one failing
//! item never stops the sweep. A dry run reports the same actions and changes nothing (not
//! even the event log). This crate only reads the event and the environment ([`handler`]).

pub mod handler;

pub use handler::{handler, options_for_event, options_from_env, DRY_RUN_ENV};
