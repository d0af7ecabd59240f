//! The emulated load balancer's front: requests per second on one core, and the latency it adds
//! over calling the sample app directly (`scripts/bench-front.sh`, or
//! `cargo bench -p aviary-local --bench front`).
//!
//! The front runs alone on CPU 0 (its serving runtime on a pinned thread, and the control thread it
//! starts, which inherits the pin); the load
//! generator, the sample-app process and the emulator share CPU 1, so "one core" means the
//! front's and nothing else's. Two measurements, each through the front and then straight to the
//! process on the same core budget:
//! * **saturation**: 32 keep-alive clients sending back to back for 8 s → requests/s;
//! * **added latency at a fixed rate**: requests started on a 2,000/s schedule for 8 s (each in
//!   its own task, so a stalled front cannot slow the schedule down and hide its queue) → p50/p99,
//!   three rounds, and the median of the added p99.

use std::time::{Duration, Instant};

use aviary_local::dataplane::front::{DataPlane, Fault, SampleApp};

const SECONDS: u64 = 8;
const CLIENTS: usize = 32;
const RATE: u64 = 2_000;
const ROUNDS: usize = 3;

fn pin_thread(cpu: usize) {
    pin(0, cpu);
}

/// Pins `pid` (0: the calling thread) to `cpu`.
fn pin(pid: libc::pid_t, cpu: usize) {
    // SAFETY: cpu_set_t is plain data; CPU_SET writes within it; the call only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            panic!("cannot pin {pid} to CPU {cpu}: {}", std::io::Error::last_os_error());
        }
    }
}

async fn saturate(url: String) -> f64 {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().unwrap();
    let until = Instant::now() + Duration::from_secs(SECONDS);
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0u64;
            while Instant::now() < until {
                if client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / SECONDS as f64
}

/// Latencies (ms, sorted) of requests started every 1/RATE s. Each request is its own task, so
/// a slow answer never delays the next start (no coordinated omission); each is timed from its
/// own start, leaving out the timer's up-to-1-ms lateness that both paths would share.
async fn paced(url: String) -> (Vec<f64>, u64) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    let start = Instant::now();
    let n = RATE * SECONDS;
    let mut tasks = Vec::with_capacity(n as usize);
    for i in 0..n {
        let at = start + Duration::from_nanos(i * 1_000_000_000 / RATE);
        tokio::time::sleep_until(at.into()).await;
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let ok = client.get(&url).send().await.is_ok_and(|r| r.status().is_success());
            (ok, t.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let mut lat = Vec::with_capacity(n as usize);
    let mut failed = 0;
    for t in tasks {
        let (ok, ms) = t.await.unwrap();
        if ok {
            lat.push(ms);
        } else {
            failed += 1;
        }
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (lat, failed)
}

fn pct(v: &[f64], p: f64) -> f64 {
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

fn main() {
    if std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) < 2 {
        eprintln!("front benchmark: needs 2 CPUs (the front on one, the load on the other)");
        std::process::exit(2);
    }
    // Everything started from here on (the emulator, the load) inherits CPU 1.
    pin_thread(1);
    let load = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let root = aviary_local::moto::project_root();
    let moto = load.block_on(aviary_local::moto::Moto::start(&root)).expect("moto (run scripts/setup.sh demo first)");
    let config = load.block_on(aviary_local::stack::sdk_config(&moto.url));
    let env = load.block_on(aviary_local::environment::create(&config, "prod")).expect("sample environment");

    // The front: one thread, CPU 0.
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let front = std::thread::spawn(move || {
        pin_thread(0);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let app = SampleApp::built().with_work_ms(0);
            let dp = DataPlane::start(&config, &env.listener_arn, app, Fault::None, None).await.expect("data plane");
            // The processes were forked from this thread: move them to the load's core.
            for pid in dp.process_ids() {
                pin(pid as libc::pid_t, 1);
            }
            let direct = format!("http://127.0.0.1:{}/", dp.processes()[0].2);
            tx.send((format!("{}/", dp.url), direct)).unwrap();
            // Serve until told to stop; dropping the data plane stops its processes.
            let _ = stop_rx.await;
            drop(dp);
        });
    });
    let (through_front, direct) = rx.recv().expect("the front started");

    let (front_rps, direct_rps) = load.block_on(async { (saturate(through_front.clone()).await, saturate(direct.clone()).await) });
    println!("front benchmark (the front alone on CPU 0: its serving thread and its niced control thread; load generator, sample app and emulator on CPU 1; opt-level 3)");
    println!("  saturation, {CLIENTS} keep-alive clients, {SECONDS} s: through the front {front_rps:.0} req/s; straight to the process {direct_rps:.0} req/s");
    // Three rounds, each through the front then straight to the process: the other core is shared
    // with the emulator, whose answers to the control plane's reads come and go.
    let mut added_p99 = Vec::new();
    for round in 1..=ROUNDS {
        let ((front_lat, front_failed), (direct_lat, direct_failed)) = load.block_on(async { (paced(through_front.clone()).await, paced(direct.clone()).await) });
        let (p50, p99) = (pct(&front_lat, 0.5) - pct(&direct_lat, 0.5), pct(&front_lat, 0.99) - pct(&direct_lat, 0.99));
        println!(
            "  round {round} at {RATE} req/s for {SECONDS} s: through the front p50 {:.2} ms, p99 {:.2} ms ({front_failed} failed); straight p50 {:.2} ms, p99 {:.2} ms ({direct_failed} failed); added p50 {p50:+.2} ms, p99 {p99:+.2} ms",
            pct(&front_lat, 0.5),
            pct(&front_lat, 0.99),
            pct(&direct_lat, 0.5),
            pct(&direct_lat, 0.99)
        );
        added_p99.push(p99);
    }
    added_p99.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("  added by the front at p99, median of {ROUNDS} rounds: {:+.2} ms", added_p99[added_p99.len() / 2]);
    let _ = stop_tx.send(());
    front.join().expect("the front stopped");
    drop(moto);
}
