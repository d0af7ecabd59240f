//! aviary-sample-app: a small instrumented HTTP service used as the demo's baseline and canary
//! and by the monitoring checks. `/` says hello with its role (and carries the injected latency
//! and errors), `/health` is always 200, `/metrics` is Prometheus text.
//!
//! Standard library only: one thread per connection, bounded by `--max-connections`.

mod config;
mod faults;
mod http;
mod metrics;

use std::io::{BufReader, BufWriter};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use config::{Config, ConfigError};
use faults::{ErrorInjector, Work};
use metrics::{method_label, route_label, Metrics};

/// Idle keep-alive connections are closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

struct App {
    config: Config,
    metrics: Metrics,
    injector: ErrorInjector,
    work: Work,
    active: AtomicUsize,
}

struct Response {
    code: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

impl App {
    fn new(config: Config) -> App {
        let start = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        App {
            metrics: Metrics::new(start, &config.role),
            injector: ErrorInjector::new(config.error_rate),
            work: Work::new(config.work_ms, config.slowdown_percent),
            active: AtomicUsize::new(0),
            config,
        }
    }

    fn route(&self, req: &http::Request) -> Response {
        let text =
            |code, body: String| Response { code, content_type: "text/plain; charset=utf-8", body: body.into_bytes() };
        if req.method != "GET" && req.method != "HEAD" {
            return text(405, "method not allowed\n".into());
        }
        match req.path.as_str() {
            "/" => {
                if let Some(d) = self.work.next() {
                    std::thread::sleep(d);
                }
                if self.config.extra_latency_ms > 0 {
                    std::thread::sleep(Duration::from_millis(self.config.extra_latency_ms));
                }
                if self.injector.next_fails() {
                    text(500, "injected error\n".into())
                } else {
                    text(200, format!("hello from aviary-sample-app (role: {})\n", self.config.role))
                }
            }
            "/health" if self.config.health_status == 200 => text(200, "ok\n".into()),
            "/health" => text(self.config.health_status, "unhealthy (--health-status)\n".into()),
            "/metrics" => Response {
                code: 200,
                content_type: "text/plain; version=0.0.4; charset=utf-8",
                body: self.metrics.render().into_bytes(),
            },
            _ => text(404, "not found\n".into()),
        }
    }

    fn serve_connection(&self, stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
        let _ = stream.set_nodelay(true);
        let Ok(read_half) = stream.try_clone() else { return };
        let mut reader = BufReader::new(read_half);
        let mut writer = BufWriter::new(stream);
        loop {
            let req = match http::read_request(&mut reader) {
                Ok(r) => r,
                Err(e) => {
                    if let Some(code) = e.status() {
                        let _ = http::write_response(
                            &mut writer,
                            code,
                            "text/plain",
                            format!("{e}\n").as_bytes(),
                            false,
                            false,
                        );
                    }
                    return;
                }
            };
            let started = Instant::now();
            let resp = self.route(&req);
            let ok = http::write_response(
                &mut writer,
                resp.code,
                resp.content_type,
                &resp.body,
                req.keep_alive,
                req.method == "HEAD",
            );
            // Scrapes are not traffic: counting them would dilute the error ratio the canary is judged on.
            if req.path != "/metrics" {
                self.metrics.observe(resp.code, method_label(&req.method), route_label(&req.path), started.elapsed());
            }
            if ok.is_err() || !req.keep_alive {
                return;
            }
        }
    }
}

/// Accepts connections until the listener fails.
fn serve(app: Arc<App>, listener: TcpListener) {
    for conn in listener.incoming() {
        let Ok(stream) = conn else { continue };
        if app.active.fetch_add(1, Ordering::SeqCst) >= app.config.max_connections {
            app.active.fetch_sub(1, Ordering::SeqCst);
            let mut w = BufWriter::new(stream);
            let _ = http::write_response(&mut w, 503, "text/plain", b"busy\n", false, false);
            continue;
        }
        let app = Arc::clone(&app);
        let spawned = std::thread::Builder::new().name("conn".into()).spawn(move || {
            app.serve_connection(stream);
            app.active.fetch_sub(1, Ordering::SeqCst);
        });
        if spawned.is_err() {
            // Thread creation failed (resource limits); the closure and its stream were dropped.
            eprintln!("aviary-sample-app: could not spawn a connection thread");
        }
    }
}

#[cfg(unix)]
mod signals {
    //! Exit promptly on SIGTERM/SIGINT. As PID 1 in a container the process would otherwise
    //! ignore SIGTERM and `docker stop` would wait for its SIGKILL timeout.
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
        fn _exit(status: i32) -> !;
    }
    extern "C" fn on_signal(_: i32) {
        // SAFETY: _exit is async-signal-safe; nothing else runs in the handler.
        unsafe { _exit(0) }
    }
    pub fn install() {
        const SIGINT: i32 = 2;
        const SIGTERM: i32 = 15;
        // SAFETY: installs a handler that only calls _exit; signal() has no other preconditions.
        unsafe {
            signal(SIGINT, on_signal as extern "C" fn(i32) as usize);
            signal(SIGTERM, on_signal as extern "C" fn(i32) as usize);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::parse(&args, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(ConfigError::Help) => {
            print!("{}", config::USAGE);
            return;
        }
        Err(e) => {
            eprintln!("aviary-sample-app: {e}");
            std::process::exit(2);
        }
    };
    #[cfg(unix)]
    signals::install();
    let addr = SocketAddr::new(config.bind, config.port);
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("aviary-sample-app: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    eprintln!(
        "aviary-sample-app: role={} listening on {addr} (work {} ms, {}% slower, extra latency {} ms, error rate {})",
        config.role, config.work_ms, config.slowdown_percent, config.extra_latency_ms, config.error_rate
    );
    serve(Arc::new(App::new(config)), listener);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn start(config: Config) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Arc::new(App::new(config));
        std::thread::spawn(move || serve(app, listener));
        addr
    }

    fn get(addr: SocketAddr, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let code = out[9..12].parse().unwrap();
        let body = out.split_once("\r\n\r\n").unwrap().1.to_string();
        (code, body)
    }

    fn config(role: &str, error_rate: f64, latency: u64) -> Config {
        let args: Vec<String> = vec![
            "--role".into(),
            role.into(),
            "--error-rate".into(),
            error_rate.to_string(),
            "--extra-latency-ms".into(),
            latency.to_string(),
        ];
        Config::parse(&args, |_| None).unwrap()
    }

    #[test]
    fn serves_hello_health_and_metrics() {
        let addr = start(config("baseline", 0.0, 0));
        let (code, body) = get(addr, "/");
        assert_eq!(code, 200);
        assert!(body.contains("role: baseline"));
        assert_eq!(get(addr, "/health").0, 200);
        assert_eq!(get(addr, "/nope").0, 404);
        let (code, metrics) = get(addr, "/metrics");
        assert_eq!(code, 200);
        assert!(metrics.contains("http_requests_total{code=\"200\",method=\"GET\",path=\"/\"} 1\n"), "{metrics}");
        assert!(metrics.contains("http_requests_total{code=\"404\",method=\"GET\",path=\"other\"} 1\n"));
        assert!(!metrics.contains("path=\"/metrics\""), "scrapes are not counted");
    }

    #[test]
    fn injects_errors_and_latency() {
        let addr = start(config("canary", 0.5, 20));
        let t = Instant::now();
        let codes: Vec<u16> = (0..4).map(|_| get(addr, "/").0).collect();
        assert!(t.elapsed() >= Duration::from_millis(80));
        assert_eq!(codes.iter().filter(|c| **c == 500).count(), 2);
        assert_eq!(get(addr, "/health").0, 200, "health is never failed on purpose");
        let metrics = get(addr, "/metrics").1;
        assert!(metrics.contains("http_requests_total{code=\"500\",method=\"GET\",path=\"/\"} 2\n"));
        // 20 ms latency lands above the 0.01 s bucket.
        assert!(metrics.contains("http_request_duration_seconds_bucket{path=\"/\",le=\"0.01\"} 0\n"), "{metrics}");
    }

    #[test]
    fn keep_alive_serves_several_requests() {
        let addr = start(config("baseline", 0.0, 0));
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET /health HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2);
    }

    #[test]
    fn rejects_other_methods() {
        let addr = start(config("baseline", 0.0, 0));
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "DELETE / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 405"));
    }
}
