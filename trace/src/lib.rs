//! One guest message is one trace, across the hops the log puts between its steps: the W3C
//! `traceparent` a record or an event carries is read here (the next span's parent) and written
//! here (the current span's context), and the attributes a span may carry are derived here.
//!
//! It is its own crate because every hop needs it and none of their crates depends on another:
//! the gateway's webhooks, the conversation worker and the sender (`commands`), the relay and the
//! log subscriptions (`projections`), the store commit (`infra`). `domain` stays pure: a
//! traceparent there is a string.
//!
//! Tracing off (no OpenTelemetry layer installed, see the gateway's `telemetry`) means every
//! span context here is invalid, so [`current_or`] hands on the traceparent that came in,
//! unchanged — what a caller sent still reaches the events.
//!
//! Attributes never carry a raw session id: it is `tenant/channel/guest_ref`, and a WhatsApp
//! guest_ref is a phone number. [`pseudonym`] is the one name a conversation has in telemetry.

use conserje_domain::reservation::Reservation;
use conserje_domain::session::Session;
use cqrs_es::Aggregate;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use sha2::{Digest, Sha256};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The header (on a log record) and the metadata key (on an event) of the W3C trace context.
pub const TRACEPARENT: &str = "traceparent";

/// A conversation's name in spans: the first 16 hex digits of the SHA-256 of its session id.
/// Stable, so a trace search finds every span of one conversation; not the id, so no phone
/// number or chat id is exported. (A pseudonym, not anonymity: a guessed number hashes the same.)
pub fn pseudonym(session_id: &str) -> String {
    hex::encode(&Sha256::digest(session_id.as_bytes())[..8])
}

/// A carrier holding one traceparent: the propagator reads nothing else (no `tracestate`).
struct Carried<'a>(Option<&'a str>);

impl Extractor for Carried<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.filter(|_| key == TRACEPARENT)
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT]
    }
}

/// Makes `span` a child of the remote span `traceparent` names, when it names a valid one.
/// Call it right after creating the span, before it is entered or has children: a started span
/// keeps the parent it has. Without a valid traceparent the span keeps its `tracing` parent (the
/// current span, or none: a new trace).
pub fn follow(span: &Span, traceparent: Option<&str>) {
    let parent = TraceContextPropagator::new().extract(&Carried(traceparent));
    if parent.span().span_context().is_valid() {
        // Fails only when tracing is off (no layer) or the span is disabled: nothing to parent.
        let _ = span.set_parent(parent);
    }
}

/// `span`'s context as a traceparent; `None` when tracing is off or the span is disabled.
pub fn traceparent_of(span: &Span) -> Option<String> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut fields = std::collections::HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut fields);
    fields.remove(TRACEPARENT)
}

/// The traceparent to write on the next hop: the current span's context when tracing is on,
/// else `carried` (what came in) unchanged.
pub fn current_or(carried: Option<&str>) -> Option<String> {
    traceparent_of(&Span::current()).or_else(|| carried.map(str::to_owned))
}

/// Sets `headers`' traceparent to `span`'s context; leaves them as they are when tracing is off.
pub fn stamp(headers: &mut Vec<(String, String)>, span: &Span) {
    let Some(traceparent) = traceparent_of(span) else {
        return;
    };
    headers.retain(|(name, _)| name != TRACEPARENT);
    headers.push((TRACEPARENT.to_owned(), traceparent));
}

/// What a span about an aggregate may say of it: the conversation's pseudonym for a session, the
/// id for a reservation (a UUID), nothing for the others — a guest stream's id is an e-mail
/// address or a phone number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub conversation: Option<String>,
    pub reservation: Option<String>,
}

/// The [`Subject`] of aggregate `aggregate_id` of type `aggregate_type`.
pub fn subject(aggregate_type: &str, aggregate_id: &str) -> Subject {
    if aggregate_type == Session::TYPE {
        Subject {
            conversation: Some(pseudonym(aggregate_id)),
            reservation: None,
        }
    } else if aggregate_type == Reservation::TYPE {
        Subject {
            conversation: None,
            reservation: Some(aggregate_id.to_owned()),
        }
    } else {
        Subject::default()
    }
}

/// One event of a store commit, as [`commit_span`] describes it.
#[derive(Debug, Clone, Copy)]
pub struct Committed<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    /// The command's tenant (`tenant_id` metadata).
    pub tenant: Option<&'a str>,
    /// The command's trace (`traceparent` metadata): the span that decided the event.
    pub traceparent: Option<&'a str>,
}

/// The `store.commit` span of one transaction writing `events`.
///
/// Its parent is the current span when there is one (the worker's `worker.message`, the
/// sender's `outbound.send`); a commit made outside any span — a batch committed after its
/// messages were decided, a store subscription's command — continues the trace of the first
/// event's command instead and links the others', so it never starts a trace of its own.
/// It names the tenant, the conversation and the reservation when the commit has one of each.
pub fn commit_span(events: &[Committed<'_>]) -> Span {
    let span = tracing::info_span!(
        "store.commit",
        otel.kind = "client",
        events = events.len(),
        tenant = tracing::field::Empty,
        conversation = tracing::field::Empty,
        reservation = tracing::field::Empty,
    );
    if let Some(tenant) = only(events.iter().map(|e| e.tenant)).flatten() {
        span.record("tenant", tenant);
    }
    let subjects: Vec<Subject> = events
        .iter()
        .map(|e| subject(e.aggregate_type, e.aggregate_id))
        .collect();
    let conversations = subjects.iter().filter_map(|s| s.conversation.as_deref());
    if let Some(conversation) = only(conversations) {
        span.record("conversation", conversation);
    }
    let reservations = subjects.iter().filter_map(|s| s.reservation.as_deref());
    if let Some(reservation) = only(reservations) {
        span.record("reservation", reservation);
    }
    if traceparent_of(&Span::current()).is_none() {
        let mut traces = events.iter().filter_map(|e| e.traceparent);
        let first = traces.next();
        follow(&span, first);
        let mut linked: std::collections::HashSet<&str> = first.into_iter().collect();
        for traceparent in traces {
            let cx = TraceContextPropagator::new().extract(&Carried(Some(traceparent)));
            let remote = cx.span().span_context().clone();
            if linked.insert(traceparent) {
                span.add_link(remote);
            }
        }
    }
    span
}

/// The one value `values` hold (all equal, at least one), else `None`.
fn only<T: PartialEq>(values: impl IntoIterator<Item = T>) -> Option<T> {
    let mut values = values.into_iter();
    let first = values.next()?;
    values.all(|v| v == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt;

    const INCOMING: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    /// Runs `f` with an OpenTelemetry layer (no exporter: contexts are real, nothing is sent).
    fn traced<T>(f: impl FnOnce() -> T) -> T {
        let provider = SdkTracerProvider::builder().build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, f)
    }

    fn parts(traceparent: &str) -> Vec<String> {
        traceparent.split('-').map(str::to_owned).collect()
    }

    #[test]
    fn the_pseudonym_is_sixteen_hex_digits_of_the_session_ids_sha256() {
        // `printf 'default/whatsapp/34600111222' | sha256sum | cut -c1-16`
        let name = pseudonym("default/whatsapp/34600111222");
        assert_eq!(name, "97cae0d60e1c2aaa");
        assert!(!name.contains("34600111222"));
        assert_ne!(name, pseudonym("default/whatsapp/34600111223"));
    }

    #[test]
    fn a_followed_span_continues_the_incoming_trace_as_a_new_span() {
        let written = traced(|| {
            let span = tracing::info_span!("hop");
            follow(&span, Some(INCOMING));
            traceparent_of(&span).expect("tracing is on")
        });
        let (incoming, written) = (parts(INCOMING), parts(&written));
        assert_eq!(written[1], incoming[1], "same trace id");
        assert_ne!(written[2], incoming[2], "its own span id");
        assert_eq!(written[3], "01", "sampled like its parent");
    }

    #[test]
    fn the_current_span_is_what_the_next_hop_carries() {
        let (inner, outer) = traced(|| {
            let outer = tracing::info_span!("outer");
            let _entered = outer.enter();
            let inner = current_or(Some(INCOMING)).expect("tracing is on");
            (inner, traceparent_of(&outer).unwrap())
        });
        assert_eq!(inner, outer);
        assert_ne!(
            parts(&inner)[1],
            parts(INCOMING)[1],
            "no parent was followed"
        );
    }

    #[test]
    fn without_a_valid_traceparent_a_span_keeps_its_tracing_parent() {
        let (child, parent) = traced(|| {
            let parent = tracing::info_span!("parent");
            let _entered = parent.enter();
            let child = tracing::info_span!("child");
            follow(&child, Some("not-a-traceparent"));
            (
                traceparent_of(&child).unwrap(),
                traceparent_of(&parent).unwrap(),
            )
        });
        assert_eq!(parts(&child)[1], parts(&parent)[1]);
    }

    #[test]
    fn with_tracing_off_what_came_in_is_handed_on_unchanged() {
        let span = tracing::info_span!("hop");
        follow(&span, Some(INCOMING));
        assert_eq!(traceparent_of(&span), None);
        assert_eq!(current_or(Some(INCOMING)).as_deref(), Some(INCOMING));
        assert_eq!(current_or(None), None);
        let mut headers = vec![(TRACEPARENT.to_owned(), INCOMING.to_owned())];
        stamp(&mut headers, &span);
        assert_eq!(headers, vec![(TRACEPARENT.to_owned(), INCOMING.to_owned())]);
    }

    #[test]
    fn stamping_replaces_the_traceparent_and_keeps_the_other_headers() {
        let headers = traced(|| {
            let span = tracing::info_span!("relay");
            let mut headers = vec![
                ("tenant".to_owned(), "default".to_owned()),
                (TRACEPARENT.to_owned(), INCOMING.to_owned()),
            ];
            stamp(&mut headers, &span);
            headers
        });
        assert_eq!(headers.len(), 2);
        assert_eq!(headers[0], ("tenant".to_owned(), "default".to_owned()));
        assert_eq!(headers[1].0, TRACEPARENT);
        assert_ne!(headers[1].1, INCOMING);
    }

    /// Keeps what it is sent (the SDK's in-memory exporter needs its `testing` feature, which
    /// would build the SDK a second time for the workspace's tests).
    #[derive(Debug, Clone, Default)]
    struct Kept(std::sync::Arc<std::sync::Mutex<Vec<opentelemetry_sdk::trace::SpanData>>>);

    impl opentelemetry_sdk::trace::SpanExporter for Kept {
        async fn export(
            &self,
            batch: Vec<opentelemetry_sdk::trace::SpanData>,
        ) -> opentelemetry_sdk::error::OTelSdkResult {
            self.0.lock().unwrap().extend(batch);
            Ok(())
        }
    }

    /// Runs `f` with an OpenTelemetry layer whose spans land in memory, and returns them.
    fn exported(f: impl FnOnce()) -> Vec<opentelemetry_sdk::trace::SpanData> {
        let kept = Kept::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(kept.clone())
            .build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
        let spans = kept.0.lock().unwrap().clone();
        spans
    }

    fn attribute(span: &opentelemetry_sdk::trace::SpanData, key: &str) -> Option<String> {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    }

    const SESSION: &str = "default/whatsapp/34600111222";
    const OTHER: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    fn event<'a>(aggregate_type: &'a str, id: &'a str, trace: &'a str) -> Committed<'a> {
        Committed {
            aggregate_type,
            aggregate_id: id,
            tenant: Some("default"),
            traceparent: Some(trace),
        }
    }

    #[test]
    fn a_commit_outside_any_span_continues_its_first_events_trace_and_links_the_others() {
        let spans = exported(|| {
            let events = [
                event("Session", SESSION, INCOMING),
                event("Session", SESSION, INCOMING),
                event("Session", "default/whatsapp/34600999999", OTHER),
            ];
            drop(commit_span(&events));
        });
        let [commit] = spans.as_slice() else {
            panic!("one span: {spans:?}")
        };
        assert_eq!(commit.name, "store.commit");
        let incoming = parts(INCOMING);
        assert_eq!(commit.span_context.trace_id().to_string(), incoming[1]);
        assert_eq!(commit.parent_span_id.to_string(), incoming[2]);
        let links: Vec<String> = commit
            .links
            .iter()
            .map(|l| l.span_context.span_id().to_string())
            .collect();
        assert_eq!(
            links,
            vec![parts(OTHER)[2].clone()],
            "one link per other trace"
        );
        assert_eq!(attribute(commit, "tenant").as_deref(), Some("default"));
        assert_eq!(attribute(commit, "events").as_deref(), Some("3"));
        assert_eq!(attribute(commit, "conversation"), None, "two conversations");
    }

    #[test]
    fn a_commit_inside_a_span_is_its_child_and_names_its_one_conversation() {
        let spans = exported(|| {
            let worker = tracing::info_span!("worker.message");
            let _entered = worker.enter();
            drop(commit_span(&[event("Session", SESSION, INCOMING)]));
        });
        let commit = spans.iter().find(|s| s.name == "store.commit").unwrap();
        let worker = spans.iter().find(|s| s.name == "worker.message").unwrap();
        assert_eq!(commit.parent_span_id, worker.span_context.span_id());
        assert_eq!(attribute(commit, "conversation"), Some(pseudonym(SESSION)));
        assert!(commit
            .attributes
            .iter()
            .all(|kv| !kv.value.to_string().contains("34600111222")));
    }

    #[test]
    fn a_commit_names_its_reservation_and_never_a_guest_stream() {
        let id = "0193a6c2-7e7b-7cc4-9d1e-3f0c5b0e2a11";
        let spans = exported(|| {
            let events = [
                event("Reservation", id, INCOMING),
                event("Guest", "default/phone:+34600111222", INCOMING),
            ];
            drop(commit_span(&events));
        });
        assert_eq!(attribute(&spans[0], "reservation").as_deref(), Some(id));
        assert!(spans[0]
            .attributes
            .iter()
            .all(|kv| !kv.value.to_string().contains("34600111222")));
    }

    #[test]
    fn only_sessions_and_reservations_are_named_and_a_session_only_by_pseudonym() {
        let session = subject("Session", "default/whatsapp/34600111222");
        assert_eq!(
            session.conversation.as_deref(),
            Some(pseudonym("default/whatsapp/34600111222").as_str())
        );
        assert_eq!(session.reservation, None);
        let id = "0193a6c2-7e7b-7cc4-9d1e-3f0c5b0e2a11";
        assert_eq!(subject("Reservation", id).reservation.as_deref(), Some(id));
        assert_eq!(
            subject("Guest", "default/phone:+34600111222"),
            Subject::default()
        );
    }
}
