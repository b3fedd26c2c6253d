//! `GET /console/live`: server-sent events that tell an open console page its hotel's inbox
//! changed, with how many guests wait for staff (the page title's count).
//!
//! Read from the `inbox` read model, which the checkpointed `inbox` subscription feeds from the
//! event store: every process serving the console sees the same changes, whatever its role, and
//! a page refreshed on an event finds the change already in the rows it reads. One cheap
//! aggregate query per open page every `--console-live-poll-ms`; an event only when the pulse
//! moved.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use conserje_domain::api_key::Role;
use conserje_projections::inbox::InboxPulse;
use futures::stream::{self, Stream};
use serde_json::json;

use super::error::ConsoleError;
use super::session::StaffSession;
use crate::Runtime;

/// Keeps idle connections open through proxies that close silent ones.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub async fn stream(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ConsoleError> {
    staff
        .caller
        .require(&[Role::Staff, Role::Admin, Role::Analyst])?;
    let hotel = staff.hotel().to_string();
    let first = rt.inbox.pulse(&hotel).await?;
    let poll = rt.console.live_poll;
    let shutdown = rt.shutdown_signal();
    let state = (rt, hotel, Some(first), true);
    let events = stream::unfold(state, move |(rt, hotel, last, first_round)| {
        let mut shutdown = shutdown.clone();
        async move {
            // The first event says where the inbox stands now, so the title is right at once.
            if first_round {
                let pulse = last.unwrap_or_default();
                return Some((Ok(pulse_event(pulse)), (rt, hotel, last, false)));
            }
            loop {
                tokio::select! {
                    () = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => return None,
                }
                match rt.inbox.pulse(&hotel).await {
                    Ok(pulse) if Some(pulse) != last => {
                        return Some((Ok(pulse_event(pulse)), (rt, hotel, Some(pulse), false)));
                    }
                    Ok(_) => {}
                    // The store did not answer: say nothing this round and look again.
                    Err(err) => tracing::debug!(error = %err, "console live update skipped"),
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

fn pulse_event(pulse: InboxPulse) -> Event {
    Event::default().event("inbox").data(
        json!({
            "conversations": pulse.conversations,
            "waiting": pulse.waiting,
            "version": pulse.version,
        })
        .to_string(),
    )
}
