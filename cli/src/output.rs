//! Human output: aligned tables, formatting of times, weights and events, and a spinner /
//! progress bar drawn on stderr only when stdout is a terminal (so piped output and `--json`
//! stay clean).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use aviary_core::model::{Event, Outcome};
use aviary_core::traffic::RuleWeights;

/// `--output text`: every table renders as tab-separated lines without its header.
static TEXT_TABLES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn set_text_tables(on: bool) {
    TEXT_TABLES.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// A plain text table: columns padded to their widest cell, two spaces apart (or, with
/// `--output text`, tab-separated without the header).
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Table { headers: headers.into_iter().map(Into::into).collect(), rows: Vec::new() }
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        if TEXT_TABLES.load(std::sync::atomic::Ordering::Relaxed) {
            return self.render_tsv();
        }
        self.render_aligned()
    }

    /// Tab-separated rows, no header; tabs and newlines inside a cell become spaces.
    pub fn render_tsv(&self) -> String {
        self.rows.iter().map(|r| r.iter().map(|c| c.replace(['\t', '\n'], " ")).collect::<Vec<_>>().join("\t") + "\n").collect()
    }

    pub fn render_aligned(&self) -> String {
        let cols = self.rows.iter().map(Vec::len).chain([self.headers.len()]).max().unwrap_or(0);
        let mut widths = vec![0usize; cols];
        for r in std::iter::once(&self.headers).chain(&self.rows) {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        let lines = if self.headers.is_empty() { None } else { Some(&self.headers) };
        for r in lines.into_iter().chain(&self.rows) {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(c);
                if i + 1 < r.len() {
                    line.push_str(&" ".repeat(widths[i] - c.chars().count()));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Key/value lines (`status   ACTIVE`), keys padded to the widest.
pub fn key_values(pairs: &[(&str, String)]) -> String {
    let mut t = Table::default();
    for (k, v) in pairs {
        t.row([k.to_string(), v.clone()]);
    }
    t.render()
}

/// `2026-11-26 17:28:18Z` from Unix seconds.
pub fn time_secs(secs: i64) -> String {
    let s = aviary_core::clock::rfc3339_ms(secs * 1000);
    format!("{} {}Z", &s[..10], &s[11..19])
}

/// `3h 05m`, `12m 30s`, `45s` (negative: `-`).
pub fn duration(secs: i64) -> String {
    if secs < 0 {
        return "-".into();
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A target group's name from its ARN (`…:targetgroup/<name>/<id>`).
pub fn target_group_name(arn: &str) -> &str {
    arn.rsplit('/').nth(1).unwrap_or(arn)
}

/// `12.5%` with at most one decimal (`5%`, `0.1%`).
pub fn percent(p: f64) -> String {
    let r = (p * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}%")
    } else {
        format!("{r:.1}%")
    }
}

/// The rule's weights as shares of its traffic: (role, target group, weight, share %).
pub fn weight_shares(w: &RuleWeights) -> Vec<(&'static str, String, u32, f64)> {
    let total: u32 = w.all().iter().map(|t| t.weight).sum();
    let share = |x: u32| if total == 0 { 0.0 } else { f64::from(x) * 100.0 / f64::from(total) };
    let mut out: Vec<(&'static str, String, u32, f64)> =
        w.production.iter().map(|t| ("production", target_group_name(&t.target_group_arn).to_string(), t.weight, share(t.weight))).collect();
    out.push(("baseline", target_group_name(&w.baseline.target_group_arn).to_string(), w.baseline.weight, share(w.baseline.weight)));
    out.push(("canary", target_group_name(&w.canary.target_group_arn).to_string(), w.canary.weight, share(w.canary.weight)));
    out
}

pub fn weights_table(w: &RuleWeights) -> String {
    let mut t = Table::new(["ROLE", "TARGET GROUP", "WEIGHT", "SHARE"]);
    for (role, tg, weight, share) in weight_shares(w) {
        t.row([role.to_string(), tg, weight.to_string(), percent(share)]);
    }
    t.render()
}

/// The canary's share of the rule's traffic, from the weights.
pub fn canary_share(w: &RuleWeights) -> f64 {
    weight_shares(w).last().map(|s| s.3).unwrap_or(0.0)
}

pub fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Info => "info",
        Outcome::Error => "error",
    }
}

/// One event as a line: `17:28:18.123  provision  ok     created …`.
pub fn event_line(e: &Event) -> String {
    let t = e.time.get(11..23).unwrap_or(&e.time);
    format!("{t}  {:<18} {:<5}  {}", e.step, outcome(e.outcome), e.detail)
}

/// Whether to draw spinners and bars (stdout is a terminal and stderr too).
pub fn interactive() -> bool {
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

struct Shared {
    message: Mutex<String>,
    /// (total bytes, label) while a bar is shown.
    bar: Mutex<Option<(u64, String)>>,
    done: AtomicU64,
    stop: AtomicBool,
    draw: Mutex<()>,
}

/// A spinner with a message, or a byte progress bar, redrawn every 100 ms on stderr. Lines
/// printed through [`Progress::println`] appear above it. Inert when not interactive.
pub struct Progress {
    shared: Option<Arc<Shared>>,
    ticker: Option<JoinHandle<()>>,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        if !enabled {
            return Progress { shared: None, ticker: None };
        }
        let shared = Arc::new(Shared {
            message: Mutex::new(String::new()),
            bar: Mutex::new(None),
            done: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            draw: Mutex::new(()),
        });
        let s = shared.clone();
        let ticker = std::thread::spawn(move || {
            let mut frame = 0usize;
            while !s.stop.load(Ordering::Relaxed) {
                {
                    let _g = s.draw.lock().expect("draw lock");
                    let line = match &*s.bar.lock().expect("bar") {
                        Some((total, label)) => bar_line(s.done.load(Ordering::Relaxed), *total, label),
                        None => format!("{} {}", FRAMES[frame % FRAMES.len()], s.message.lock().expect("message")),
                    };
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "\r\x1b[2K{line}");
                    let _ = err.flush();
                }
                frame += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Progress { shared: Some(shared), ticker: Some(ticker) }
    }

    pub fn set_message(&self, m: impl Into<String>) {
        if let Some(s) = &self.shared {
            *s.message.lock().expect("message") = m.into();
        }
    }

    /// Switches to a byte bar for one file.
    pub fn start_bar(&self, total: u64, label: impl Into<String>) {
        if let Some(s) = &self.shared {
            s.done.store(0, Ordering::Relaxed);
            *s.bar.lock().expect("bar") = Some((total, label.into()));
        }
    }

    /// A cheap handle to advance the bar from elsewhere (an upload's body stream).
    pub fn handle(&self) -> ProgressHandle {
        ProgressHandle(self.shared.clone())
    }

    pub fn end_bar(&self) {
        if let Some(s) = &self.shared {
            *s.bar.lock().expect("bar") = None;
        }
    }

    /// Prints a line on stdout above the spinner.
    pub fn println(&self, line: impl AsRef<str>) {
        match &self.shared {
            Some(s) => {
                let _g = s.draw.lock().expect("draw lock");
                let _ = write!(std::io::stderr(), "\r\x1b[2K");
                println!("{}", line.as_ref());
            }
            None => println!("{}", line.as_ref()),
        }
        let _ = std::io::stdout().flush();
    }

    /// Stops drawing and clears the line.
    pub fn finish(&mut self) {
        if let Some(s) = self.shared.take() {
            s.stop.store(true, Ordering::Relaxed);
            if let Some(t) = self.ticker.take() {
                let _ = t.join();
            }
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}

/// Advances a [`Progress`] bar; does nothing when the progress is inert.
#[derive(Clone)]
pub struct ProgressHandle(Option<Arc<Shared>>);

impl ProgressHandle {
    pub fn advance(&self, bytes: u64) {
        if let Some(s) = &self.0 {
            s.done.fetch_add(bytes, Ordering::Relaxed);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `[#########-----------]  45%  12.3/27.0 MiB  canary.tar`
pub fn bar_line(done: u64, total: u64, label: &str) -> String {
    const WIDTH: usize = 24;
    let frac = if total == 0 { 1.0 } else { (done as f64 / total as f64).min(1.0) };
    let filled = (frac * WIDTH as f64).round() as usize;
    format!(
        "[{}{}] {:>3}%  {}/{}  {label}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        (frac * 100.0).floor() as u32,
        bytes(done),
        bytes(total)
    )
}

/// `512 B`, `12.3 KiB`, `1.5 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).expect("output serialises"));
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_tables_are_tab_separated_without_a_header() {
        let mut t = super::Table::new(["K", "V"]);
        t.row(["a", "one\ttwo"]).row(["bb", ""]);
        assert_eq!(t.render_tsv(), "a\tone two\nbb\t\n");
        assert_eq!(t.render_aligned(), "K   V\na   one\ttwo\nbb\n");
    }

    use super::*;
    use aviary_core::traffic::WeightedTarget;

    #[test]
    fn tables_align_columns_and_trim() {
        let mut t = Table::new(["ID", "STATUS", "NOTE"]);
        t.row(["web-1", "ACTIVE", ""]).row(["checkout-22", "WAITING_HEALTHY", "slow"]);
        assert_eq!(
            t.render(),
            "ID           STATUS           NOTE\nweb-1        ACTIVE\ncheckout-22  WAITING_HEALTHY  slow\n"
        );
        assert!(Table::new(["A"]).is_empty());
    }

    #[test]
    fn tables_count_characters_not_bytes() {
        let mut t = Table::new(["K", "V"]);
        t.row(["é", "1"]).row(["ab", "2"]);
        assert_eq!(t.render(), "K   V\né   1\nab  2\n");
    }

    #[test]
    fn formats() {
        assert_eq!(percent(5.0), "5%");
        assert_eq!(percent(12.34), "12.3%");
        assert_eq!(percent(0.1), "0.1%");
        assert_eq!(duration(3 * 3600 + 5 * 60 + 7), "3h 05m");
        assert_eq!(duration(750), "12m 30s");
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(-3), "-");
        assert_eq!(time_secs(1_764_178_098), "2025-11-26 17:28:18Z");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 << 30), "5.0 GiB");
        assert_eq!(target_group_name("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/prod-web/abc"), "prod-web");
        assert_eq!(bar_line(50, 100, "c.tar"), "[############------------]  50%  50 B/100 B  c.tar");
        assert!(bar_line(0, 0, "x").contains("100%"));
    }

    #[test]
    fn weights_as_percentages() {
        let tg = |n: &str, w| WeightedTarget { target_group_arn: format!("arn:aws:elasticloadbalancing:r:1:targetgroup/{n}/x"), weight: w };
        let w = RuleWeights { production: vec![tg("prod", 900)], baseline: tg("b", 50), canary: tg("c", 50) };
        let shares = weight_shares(&w);
        assert_eq!(shares.iter().map(|s| s.3).collect::<Vec<_>>(), vec![90.0, 5.0, 5.0]);
        assert_eq!(canary_share(&w), 5.0);
        let table = weights_table(&w);
        assert!(table.contains("production  prod          900     90%"), "{table}");
        assert!(table.contains("canary      c             50      5%"), "{table}");
    }

    #[test]
    fn event_lines() {
        let e = Event::new(1_764_178_098_123, "provision", Outcome::Ok, "created i-1");
        assert_eq!(event_line(&e), "17:28:18.123  provision          ok     created i-1");
    }
}
