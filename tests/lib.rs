//! Helpers shared by the integration tests in `tests/tests/*.rs`: a local Aviary on a fresh
//! emulator with a sample production environment, and the checks every test repeats.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aviary_local::environment::ProductionEnv;
use aviary_local::runtime::{LocalOptions, LocalRuntime};
use aviary_core::model::Deployment;
use aviary_ports::{RuleSnapshot, TargetHealthSource};

pub struct Harness {
    pub rt: LocalRuntime,
    pub env: ProductionEnv,
    pub rules_before: Vec<RuleSnapshot>,
    pub dir: PathBuf,
}

/// A fresh emulator, Aviary's resources, a sample production environment and a sample
/// canary directory (`web`), with the listener's rules recorded before anything happens.
pub async fn harness(health: Option<Arc<dyn TargetHealthSource>>) -> Harness {
    let mut rt = LocalRuntime::start(LocalOptions { time_scale: 0.002, health, ..Default::default() }).await.expect("local runtime");
    let env = aviary_local::environment::create(&rt.config, "prod").await.expect("sample environment");
    rt.allow_listener(&env.listener_arn);
    let dir = std::env::temp_dir().join(format!("aviary-test-{}-{}", std::process::id(), rand_suffix()));
    aviary_local::demo::write_sample(&dir, &env.listener_arn).expect("sample canary");
    let rules_before = rt.rules(&env.listener_arn).await.expect("rules");
    Harness { rt, env, rules_before, dir }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

impl Harness {
    /// Rewrites the sample spec with `f` applied to its JSON.
    pub fn edit_spec(&self, f: impl FnOnce(&mut serde_json::Value)) {
        let path = self.dir.join("aviary.json");
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).expect("spec")).expect("json");
        f(&mut v);
        std::fs::write(&path, serde_json::to_vec_pretty(&v).expect("json")).expect("write spec");
    }

    /// Uploads the canary directory under `name` and returns the deployment id s3-trigger
    /// assigned (pumping S3 notifications until the canary tarball's event arrives).
    pub async fn upload(&self, name: &str) -> String {
        self.rt.upload_canary(name, &self.dir).await.expect("upload");
        for _ in 0..60 {
            for o in self.rt.pump(Duration::from_millis(500)).await.expect("pump") {
                if let Some(id) = o.deployment_id {
                    return id;
                }
            }
        }
        panic!("no S3 event reached s3-trigger");
    }

    pub async fn wait_final(&self, id: &str) -> Deployment {
        self.rt.wait_for(id, "a final status", Duration::from_secs(120), |s| s.is_final()).await.expect("final status")
    }

    pub async fn rules_now(&self) -> Vec<RuleSnapshot> {
        self.rt.rules(&self.env.listener_arn).await.expect("rules")
    }

    /// Nothing tagged with the deployment id is left, and the listener is exactly as before.
    pub async fn assert_nothing_left(&self, id: &str) {
        let ec2 = &self.rt.ports.compute;
        let elb = &self.rt.ports.router;
        assert_eq!(ec2.instances(id, None).await.expect("instances"), vec![], "instances of {id} left");
        assert_eq!(ec2.aviary_security_groups(Some(id)).await.expect("sgs"), vec![], "security groups of {id} left");
        let tgs: Vec<_> = elb.aviary_target_groups().await.expect("tgs").into_iter().filter(|(_, d)| d == id).collect();
        assert_eq!(tgs, vec![], "target groups of {id} left");
        let rules: Vec<_> = elb.aviary_rules(&self.env.listener_arn).await.expect("rules").into_iter().filter(|(_, d)| d == id).collect();
        assert!(rules.is_empty(), "rules of {id} left");
        assert_eq!(self.rules_now().await, self.rules_before, "listener rules differ from before");
    }

    /// Nothing Aviary-tagged exists at all (for tests where nothing may be created).
    pub async fn assert_no_aviary_resources(&self) {
        let ec2 = &self.rt.ports.compute;
        let elb = &self.rt.ports.router;
        assert_eq!(ec2.aviary_instances().await.expect("instances"), vec![]);
        assert_eq!(ec2.aviary_security_groups(None).await.expect("sgs"), vec![]);
        assert_eq!(elb.aviary_target_groups().await.expect("tgs"), vec![]);
        assert_eq!(self.rules_now().await, self.rules_before);
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
