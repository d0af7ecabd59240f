//! Aviary on one machine. Everything Aviary's Lambdas do runs here with the same handler code
//! against an emulated AWS (moto server): [`moto`] starts the emulator, [`stack`] creates
//! Aviary's own resources, [`environment`] a sample production environment, [`sfn`] serves
//! the real state machines through a local Step Functions endpoint whose tasks call the
//! handlers in-process ([`invoker`]), and [`pump`] delivers S3 event notifications to
//! `s3-trigger`. [`cloudwatch_bridge`] lets the SDK's CloudWatch client talk to the emulator
//! (analyses and the live verdict). [`demo`] strings it together into the README's first command.
//! Every process it starts dies with it ([`child`]).

pub mod api_server;
pub mod child;
pub mod cloudwatch_bridge;
pub mod dataplane;
pub mod demo;
pub mod environment;
pub mod invoker;
pub mod moto;
pub mod pump;
pub mod runtime;
pub mod sfn;
pub mod stack;

pub use aviary_analysis::live::LiveSettings;
