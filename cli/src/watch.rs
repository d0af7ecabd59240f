//! Following a deployment: new events from the paged event log, and polling the record until
//! a condition holds (ACTIVE, a final status) or a timeout passes. Used by `deploy`,
//! `events --follow` and `destroy --wait`.

use std::time::{Duration, Instant};

use aviary_core::model::{Deployment, Event};

use aviary_client::{ApiDeployment, Client, ClientError};
use crate::error::CliError;
use crate::output::{event_line, Progress};

const PAGE: u32 = 100;

/// Where we are in a deployment's event log. The log is append-only and paged with opaque
/// cursors, so we remember the cursor of the last page and how much of it we have shown.
#[derive(Debug, Default, Clone)]
pub struct EventCursor {
    cursor: Option<String>,
    seen_in_page: usize,
}

impl EventCursor {
    /// Events appended since the last call (all of them on the first call).
    pub async fn fetch_new(&mut self, client: &Client, id: &str) -> Result<Vec<Event>, ClientError> {
        let mut out = Vec::new();
        loop {
            let page = client.events(id, PAGE, self.cursor.as_deref()).await?;
            let n = page.items.len();
            out.extend(page.items.into_iter().skip(self.seen_in_page));
            match page.next {
                Some(next) => {
                    self.cursor = Some(next);
                    self.seen_in_page = 0;
                }
                None => {
                    self.seen_in_page = self.seen_in_page.max(n);
                    return Ok(out);
                }
            }
        }
    }
}

/// How events are shown while following.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutput {
    /// One line per event (above the spinner).
    Lines,
    /// One JSON object per line.
    Json,
    /// Not shown.
    Hidden,
}

pub struct Follow<'a> {
    pub client: &'a Client,
    pub id: &'a str,
    pub events: EventOutput,
    pub poll: Duration,
    pub timeout: Duration,
    /// What the spinner says we wait for ("ACTIVE", "DESTROYED").
    pub waiting_for: &'a str,
}

impl Follow<'_> {
    /// Polls until `done` holds for the deployment, showing new events; times out with
    /// [`CliError::Timeout`]. A deployment that is not there yet (404) is waited for.
    pub async fn until(&self, cursor: &mut EventCursor, progress: &Progress, done: impl Fn(&Deployment) -> bool) -> Result<ApiDeployment, CliError> {
        let start = Instant::now();
        let mut last_status = String::from("unknown");
        loop {
            match self.client.get(self.id).await {
                Ok(d) => {
                    self.show(cursor, progress).await?;
                    last_status = d.status.to_string();
                    if done(&d) {
                        return Ok(d);
                    }
                }
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(e.into()),
            }
            let elapsed = start.elapsed();
            if elapsed >= self.timeout {
                return Err(CliError::Timeout { id: self.id.to_string(), status: last_status, secs: self.timeout.as_secs() });
            }
            progress.set_message(format!("{} is {last_status}, waiting for {} ({}s)", self.id, self.waiting_for, elapsed.as_secs()));
            tokio::time::sleep(self.poll.min(self.timeout - elapsed)).await;
        }
    }

    async fn show(&self, cursor: &mut EventCursor, progress: &Progress) -> Result<(), CliError> {
        if self.events == EventOutput::Hidden {
            return Ok(());
        }
        for e in cursor.fetch_new(self.client, self.id).await? {
            match self.events {
                EventOutput::Lines => progress.println(format!("  {}", event_line(&e))),
                EventOutput::Json => progress.println(serde_json::to_string(&e).expect("event serialises")),
                EventOutput::Hidden => {}
            }
        }
        Ok(())
    }
}
