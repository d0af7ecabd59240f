//! `aviary destroy <id> [--wait]`: asks for the teardown (`DELETE /deployments/{id}`) and,
//! with `--wait`, follows it until the deployment reaches a final status.

use std::time::Duration;

use crate::cli::{ApiArgs, WaitArgs};
use crate::commands::{connect, Ctx};
use crate::error::CliError;
use crate::output::{interactive, print_json, Progress};
use crate::watch::{EventCursor, EventOutput, Follow};

pub async fn run(id: String, wait: bool, w: WaitArgs, api: ApiArgs, outer: &ApiArgs, ctx: Ctx) -> Result<u8, CliError> {
    let client = connect(&api.or(outer)).await?;
    // With --wait, show only what happens from now on: skip the events already in the log
    // (a missing deployment is reported by the DELETE below).
    let mut cursor = EventCursor::default();
    if wait && !ctx.json {
        let _ = cursor.fetch_new(&client, &id).await;
    }
    let accepted = client.destroy(&id).await?;
    if !wait {
        if ctx.json {
            // The deployment as it is now, the same document `--wait` prints at the end.
            print_json(&client.get(&accepted.id).await?);
        } else {
            println!("{}: {} (follow it with `aviary events {} --follow`)", accepted.id, accepted.status, accepted.id);
        }
        return Ok(0);
    }
    if !ctx.json {
        println!("{}: {}", accepted.id, accepted.status);
    }
    let mut progress = Progress::new(!ctx.json && interactive());
    let f = Follow {
        client: &client,
        id: &id,
        events: if ctx.json { EventOutput::Hidden } else { EventOutput::Lines },
        poll: Duration::from_millis(w.poll_ms),
        timeout: Duration::from_secs(w.timeout),
        waiting_for: "DESTROYED",
    };
    let d = f.until(&mut cursor, &progress, |d| d.status.is_final()).await?;
    progress.finish();
    if ctx.json {
        print_json(&d);
    } else {
        println!("{} is {}{}", d.id, d.status, d.status_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default());
    }
    Ok(0)
}
