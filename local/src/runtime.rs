//! One running local Aviary: the emulator, Aviary's resources on it, the local Step Functions
//! endpoint and the handlers' clients. The demo, the CLI's local mode and the integration
//! tests all drive the lifecycle through this.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aviary_asl::EventCallback;
use aviary_aws::artifacts::S3Artifacts;
use aviary_core::guardrails::Guardrails;
use aviary_core::model::{Deployment, Event};
use aviary_core::status::Status;
use aviary_lifecycle::Ports;
use aviary_ports::{ArtifactStore, RuleSnapshot, TargetHealthSource};
use aws_config::SdkConfig;

use crate::invoker::LocalInvoker;
use crate::moto::{Moto, MotoError};
use crate::sfn::{LocalStepFunctions, SfnError};
use crate::stack::{self, StackError, StackNames};

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(transparent)]
    Moto(#[from] MotoError),
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error(transparent)]
    Sfn(#[from] SfnError),
    #[error("{0}")]
    Step(#[from] aviary_core::StepError),
    #[error("S3 event delivery failed: {0}")]
    Pump(String),
    #[error(transparent)]
    Delivery(#[from] crate::pump::PumpError),
    #[error("cannot read {path}: {message}")]
    Artifacts { path: String, message: String },
    #[error("deployment {id} did not reach {wanted} within {secs}s (it is {actual})")]
    Timeout { id: String, wanted: String, actual: String, secs: u64 },
}

pub struct LocalOptions {
    pub root: PathBuf,
    /// An emulator someone else runs; default: start moto from the project's venv.
    pub endpoint: Option<String>,
    /// Multiplies the state machines' Wait and Retry delays (1.0 = as on AWS).
    pub time_scale: f64,
    /// Replaces the load balancer as the source of target health (tests of the unhealthy path).
    pub health: Option<Arc<dyn TargetHealthSource>>,
    pub on_event: Option<EventCallback>,
    /// Aviary's resource names; `installation` tells two local installations apart.
    pub names: StackNames,
    /// The installation's limits. By default no listener is allowed: the caller allows the
    /// ones it creates or names ([`LocalRuntime::allow_listener`]).
    pub guardrails: Guardrails,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            root: crate::moto::project_root(),
            endpoint: None,
            time_scale: 0.01,
            health: None,
            on_event: None,
            names: StackNames::default(),
            guardrails: Guardrails::default(),
        }
    }
}

pub struct LocalRuntime {
    pub moto: Moto,
    pub config: SdkConfig,
    pub names: StackNames,
    pub queue_url: String,
    /// Events that failed `pump::MAX_RECEIVES` times.
    pub dead_letter_url: String,
    pub sfn: LocalStepFunctions,
    pub invoker: Arc<LocalInvoker>,
    /// The ports the handlers use (Step Functions → the local endpoint).
    pub ports: Ports,
    /// The artifact bucket's adapter (the API presigns uploads with its client).
    pub artifacts: S3Artifacts,
    pub sqs: aws_sdk_sqs::Client,
    /// CloudWatch for the Rust SDK on the emulator ([`crate::cloudwatch_bridge`]).
    pub cloudwatch_bridge: crate::cloudwatch_bridge::CloudWatchBridge,
    /// The live verdict's periods here (as on AWS unless the data plane publishes finer ones).
    pub live: aviary_analysis::live::LiveSettings,
}

impl LocalRuntime {
    pub async fn start(opts: LocalOptions) -> Result<LocalRuntime, LocalError> {
        let moto = match &opts.endpoint {
            Some(url) => Moto::existing(url).await?,
            None => Moto::start(&opts.root).await?,
        };
        let config = stack::sdk_config(&moto.url).await;
        let names = opts.names.clone();
        let queues = stack::ensure(&config, &names).await?;
        let (queue_url, dead_letter_url) = (queues.events, queues.dead_letters);
        // The invoker needs the handlers' clients, which need the endpoint's URL: build the
        // endpoint with a late-bound invoker.
        let late = Arc::new(LateInvoker::default());
        let sfn = LocalStepFunctions::start(&opts.root, late.clone(), opts.time_scale, opts.on_event.clone()).await?;
        let ports = stack::handler_ports(&config, &sfn.url, &names, &opts.guardrails, opts.health.clone());
        let invoker = LocalInvoker::new(ports.clone());
        late.set(invoker.clone());
        let artifacts = stack::artifacts(&config, &names);
        let cloudwatch_bridge = crate::cloudwatch_bridge::start(&moto.url).await.map_err(|e| LocalError::Pump(format!("CloudWatch bridge: {e}")))?;
        Ok(LocalRuntime {
            sqs: aws_sdk_sqs::Client::new(&config),
            moto,
            config,
            names,
            queue_url,
            dead_letter_url,
            sfn,
            invoker,
            ports,
            artifacts,
            cloudwatch_bridge,
            live: Default::default(),
        })
    }

    /// What analyses and the live verdict run against here: `ports`, the table, CloudWatch
    /// through the bridge, and [`LocalRuntime::live`].
    pub fn analysis_ports(&self, ports: Ports) -> aviary_analysis::AnalysisPorts {
        aviary_analysis::AnalysisPorts::new(ports)
            .with_analyses(Arc::new(aviary_aws::store::DynamoStore::from_conf(&self.config, &self.names.table)))
            .with_cloudwatch(Arc::new(aviary_aws::cloudwatch::SdkCloudWatch::new(self.cloudwatch())))
            .with_live(self.live)
    }

    /// A CloudWatch client on the emulator (through the bridge), with this runtime's
    /// credentials. Request compression is off: the bridge reads plain CBOR.
    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        let config = aws_sdk_cloudwatch::config::Builder::from(&self.config)
            .endpoint_url(&self.cloudwatch_bridge.url)
            .disable_request_compression(true)
            .build();
        aws_sdk_cloudwatch::Client::from_conf(config)
    }

    /// Replaces where target health comes from and the handlers' clock (tests of the
    /// unhealthy path and of deadlines).
    pub fn set_health_and_clock(&mut self, health: Arc<dyn TargetHealthSource>, clock: Arc<dyn aviary_core::clock::Clock>) {
        self.ports = self.ports.clone().with_health(health).with_clock(clock);
        self.invoker.set_ports(self.ports.clone());
    }

    /// Lets deployments use `listener_arn` (the installation's AllowedListenerArns).
    pub fn allow_listener(&mut self, listener_arn: &str) {
        let mut settings = self.ports.settings.clone();
        if let Ok(g) = &mut settings.guardrails {
            if !g.listener_allowed(listener_arn) {
                g.allowed_listeners.push(listener_arn.to_string());
            }
        }
        self.set_settings(settings);
    }

    /// These ports, with every cloud adapter rebuilt on the given access key (on an emulator
    /// that enforces IAM, calls through them have exactly that user's permissions).
    pub async fn ports_as(&self, access_key_id: &str, secret_access_key: &str) -> Ports {
        let config = stack::sdk_config_as(&self.moto.url, access_key_id, secret_access_key).await;
        stack::rebind(self.ports.clone(), &config, &self.sfn.url, &self.names)
    }

    /// Runs `function` (a workflow step, `s3-trigger` or `api`) on its own access key.
    pub async fn run_function_as(&self, function: &str, access_key_id: &str, secret_access_key: &str) {
        let ports = self.ports_as(access_key_id, secret_access_key).await;
        self.invoker.set_function_adapters(function, ports);
    }

    /// Uses the given access key for everything that is not a function: the pump's queue,
    /// uploads, and what callers inspect through [`LocalRuntime::ports`].
    pub async fn act_as(&mut self, access_key_id: &str, secret_access_key: &str) {
        self.config = stack::sdk_config_as(&self.moto.url, access_key_id, secret_access_key).await;
        self.sqs = aws_sdk_sqs::Client::new(&self.config);
        self.artifacts = stack::artifacts(&self.config, &self.names);
        self.ports = stack::rebind(self.ports.clone(), &self.config, &self.sfn.url, &self.names);
        self.invoker.set_ports(self.ports.clone());
    }

    /// Replaces the handlers' settings (guardrails included).
    pub fn set_settings(&mut self, settings: aviary_lifecycle::Settings) {
        self.ports.settings = settings;
        self.invoker.set_ports(self.ports.clone());
    }

    /// Stores a deployment's Grafana password as its monitor's user data does on AWS (no
    /// instance boots on the emulator): an SSM SecureString under the installation's path.
    pub async fn store_monitor_password(&self, deployment_id: &str, password: &str) -> Result<String, LocalError> {
        let name = aviary_core::secrets::parameter_name(&self.names.installation, deployment_id, aviary_core::secrets::GRAFANA_PASSWORD);
        aws_sdk_ssm::Client::new(&self.config)
            .put_parameter()
            .name(&name)
            .value(password)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| aviary_core::StepError::aws("PutParameter", false, aws_sdk_ssm::error::DisplayErrorContext(e).to_string()))?;
        Ok(name)
    }

    /// The listener's rules in evaluation order (the default rule last).
    pub async fn rules(&self, listener_arn: &str) -> Result<Vec<RuleSnapshot>, LocalError> {
        Ok(self.ports.router.rules(listener_arn).await?)
    }

    /// Delivers pending S3 notifications to `s3-trigger` (one receive round).
    pub async fn pump(&self, wait: Duration) -> Result<Vec<s3_trigger::RecordOutcome>, LocalError> {
        let queues = crate::pump::Queues { events: &self.queue_url, dead_letters: &self.dead_letter_url };
        let (outcomes, time) = crate::pump::pump_once(&self.invoker.ports_for("s3-trigger"), &self.sqs, queues, wait).await?;
        if !outcomes.is_empty() {
            self.invoker.record("s3-trigger", outcomes.len() as u32, time);
        }
        Ok(outcomes)
    }

    /// Uploads a canary directory the way a user would: the spec, the baseline tarball and
    /// compose file first, the canary tarball last (that upload starts the deployment).
    pub async fn upload_canary(&self, name: &str, dir: &Path) -> Result<(), LocalError> {
        let spec_bytes = read(&dir.join("aviary.json"))?;
        let spec: aviary_core::DeploymentSpec = serde_json::from_slice(&spec_bytes).unwrap_or_else(|_| default_spec_shape());
        let artifacts = &self.artifacts;
        let prefix = aviary_core::ids::canary_prefix(name);
        artifacts.put(&format!("{prefix}aviary.json"), spec_bytes).await?;
        for file in [&spec.artifacts.baseline_tarball, &spec.artifacts.compose_file, &spec.artifacts.canary_tarball] {
            let path = dir.join(file);
            if path.exists() {
                artifacts.put(&format!("{prefix}{file}"), read(&path)?).await?;
            }
        }
        Ok(())
    }

    /// Pumps S3 events and polls the record until `done` holds (or the timeout passes).
    pub async fn wait_for(&self, id: &str, wanted: &str, timeout: Duration, done: impl Fn(Status) -> bool) -> Result<Deployment, LocalError> {
        let start = Instant::now();
        loop {
            if let Some(d) = self.ports.deployments().get(id).await? {
                if done(d.status) {
                    return Ok(d);
                }
                if start.elapsed() > timeout {
                    return Err(LocalError::Timeout { id: id.into(), wanted: wanted.into(), actual: d.status.to_string(), secs: timeout.as_secs() });
                }
            } else if start.elapsed() > timeout {
                return Err(LocalError::Timeout { id: id.into(), wanted: wanted.into(), actual: "unknown".into(), secs: timeout.as_secs() });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The full event log of a deployment.
    pub async fn events(&self, id: &str) -> Result<Vec<Event>, LocalError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.ports.deployments().events(id, 100, cursor.as_deref()).await?;
            all.extend(page.items);
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(all),
            }
        }
    }
}

fn default_spec_shape() -> aviary_core::DeploymentSpec {
    // An unparsable spec is still uploaded (admission rejects it); the artifact names default.
    serde_json::from_value(serde_json::json!({"name": "x", "listenerArn": "x", "trafficPercent": 1, "appPort": 1})).expect("default spec")
}

fn read(path: &Path) -> Result<Vec<u8>, LocalError> {
    std::fs::read(path).map_err(|e| LocalError::Artifacts { path: path.display().to_string(), message: e.to_string() })
}

/// An invoker set after construction (the endpoint and the handlers refer to each other).
#[derive(Default)]
struct LateInvoker(std::sync::OnceLock<Arc<LocalInvoker>>);

impl LateInvoker {
    fn set(&self, inv: Arc<LocalInvoker>) {
        let _ = self.0.set(inv);
    }
}

#[async_trait::async_trait]
impl aviary_asl::TaskInvoker for LateInvoker {
    async fn invoke(&self, resource: &str, input: serde_json::Value) -> Result<serde_json::Value, aviary_asl::TaskFailure> {
        match self.0.get() {
            Some(inv) => inv.invoke(resource, input).await,
            None => Err(aviary_asl::TaskFailure::new("Lambda.ServiceException", "local functions not ready")),
        }
    }
}
