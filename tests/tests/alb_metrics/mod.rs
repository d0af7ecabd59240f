//! ALB metrics in the emulator's CloudWatch (through the local runtime's bridge) for a canary's
//! target groups: what the analysis tests and the API contract judge.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};

/// Deterministic noise in [0, 1) per point and role.
pub fn noise(i: usize, seed: u64) -> f64 {
    let x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let x = (x ^ (x >> 31)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// `minutes` one-minute points from `start` (Unix seconds) for target group `tg` of load balancer
/// `lb` (their CloudWatch dimension values): `TargetResponseTime` from `latency`, a noisy
/// `RequestCount` around 100, and `HTTPCode_Target_5XX_Count` from `errors` where not 0.
pub async fn put_alb_metrics(cw: &aws_sdk_cloudwatch::Client, lb: &str, tg: &str, start: i64, minutes: usize, latency: impl Fn(usize) -> f64, errors: impl Fn(usize) -> u32) {
    let dims = [
        Dimension::builder().name("LoadBalancer").value(lb).build(),
        Dimension::builder().name("TargetGroup").value(tg).build(),
    ];
    let mut data = Vec::new();
    for i in 0..minutes {
        // Mid-minute: the point belongs to its period whatever the rounding.
        let at = DateTime::from_secs(start + i as i64 * 60 + 30);
        let datum = |name: &str, v: f64| {
            MetricDatum::builder().metric_name(name).set_dimensions(Some(dims.to_vec())).timestamp(at).value(v).build()
        };
        data.push(datum("TargetResponseTime", latency(i)));
        data.push(datum("RequestCount", 100.0 + (noise(i, 11) * 20.0).round()));
        if errors(i) > 0 {
            data.push(datum("HTTPCode_Target_5XX_Count", f64::from(errors(i))));
        }
    }
    for chunk in data.chunks(500) {
        cw.put_metric_data().namespace("AWS/ApplicationELB").set_metric_data(Some(chunk.to_vec())).send().await.expect("PutMetricData");
    }
}
