//! `GET /console/figures`: the hotel's figures as charts drawn on the server (SVG, no charting
//! script), each naming the SQL view or read model it comes from so an analyst can reproduce it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use conserje_domain::api_key::Role;
use conserje_infra::{business_figures, hotel_figures};
use maud::{html, Markup};

use super::error::ConsoleError;
use super::page::{self, Section};
use super::session::StaffSession;
use crate::error::ApiError;
use crate::Runtime;

/// How many nights ahead the occupancy chart covers.
const OCCUPANCY_NIGHTS: i64 = 14;

/// One bar: its label, its length, and the figure written beside it.
struct Bar {
    label: String,
    value: f64,
    shown: String,
}

/// A horizontal bar chart as SVG, readable by screen readers through its title and the figures
/// written beside the bars.
fn bars(title: &str, rows: &[Bar]) -> Markup {
    const LABEL: f64 = 170.0;
    const WIDTH: f64 = 360.0;
    const ROW: f64 = 26.0;
    let max = rows.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let height = ROW * rows.len().max(1) as f64 + 6.0;
    html! {
        svg viewBox=(format!("0 0 640 {height}")) role="img" aria-label=(title) xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @if rows.is_empty() {
                text x="0" y="18" fill="#5b6475" font-size="14" { "No data yet." }
            }
            @for (i, bar) in rows.iter().enumerate() {
                @let y = ROW * i as f64 + 4.0;
                @let length = if max > 0.0 { (bar.value / max * WIDTH).max(1.0) } else { 1.0 };
                text x="0" y=(y + 15.0) font-size="13" fill="#1d2330" { (bar.label) }
                rect x=(LABEL) y=(y) width=(format!("{length:.1}")) height="18" rx="3" fill="#1f5fbf" {}
                text x=(LABEL + length + 6.0) y=(y + 14.0) font-size="13" fill="#1d2330" { (bar.shown) }
            }
        }
    }
}

fn chart(title: &str, source: &str, rows: &[Bar]) -> Markup {
    html! {
        figure.chart.card {
            h2 { (title) }
            (bars(title, rows))
            figcaption { "From " code { (source) } }
        }
    }
}

fn percent(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// `GET /console/figures`
pub async fn page(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
) -> Result<Response, ConsoleError> {
    staff
        .caller
        .require(&[Role::Staff, Role::Admin, Role::Analyst])?;
    let hotel = staff.hotel().to_string();
    let today = rt.clock.now().date_naive();
    let until = today + chrono::Duration::days(OCCUPANCY_NIGHTS);
    let unavailable = |e: conserje_infra::InfraError| ApiError::Unavailable(e.to_string());
    let views = hotel_figures::read(&rt.db, &hotel, today, until)
        .await
        .map_err(unavailable)?;
    let business = business_figures::read(&rt.db).await.map_err(unavailable)?;

    let mut nights: BTreeMap<chrono::NaiveDate, (i64, Vec<String>)> = BTreeMap::new();
    for row in &views.occupancy {
        let entry = nights.entry(row.night).or_default();
        entry.0 += row.rooms;
        entry.1.push(format!("{} {}", row.rooms, row.room_type));
    }
    let occupancy: Vec<Bar> = (0..OCCUPANCY_NIGHTS)
        .map(|d| today + chrono::Duration::days(d))
        .map(|night| {
            let (rooms, kinds) = nights.remove(&night).unwrap_or_default();
            Bar {
                label: night.format("%a %d %b").to_string(),
                value: rooms as f64,
                shown: if kinds.is_empty() {
                    "0".to_owned()
                } else {
                    kinds.join(", ")
                },
            }
        })
        .collect();

    let mut by_channel: BTreeMap<String, i64> = BTreeMap::new();
    for row in business.reservations.iter().filter(|r| r.hotel == hotel) {
        if row.status == "confirmed" || row.status == "requested" {
            *by_channel.entry(row.channel.clone()).or_default() += row.reservations;
        }
    }
    let bookings: Vec<Bar> = by_channel
        .into_iter()
        .map(|(channel, n)| Bar {
            label: channel,
            value: n as f64,
            shown: n.to_string(),
        })
        .collect();
    let revenue: Vec<Bar> = business
        .revenue
        .iter()
        .filter(|r| r.hotel == hotel)
        .map(|r| Bar {
            label: r.currency.clone(),
            value: r.total_minor as f64,
            shown: page::money(Some(r.total_minor), Some(&r.currency)),
        })
        .collect();
    let intents: Vec<Bar> = views
        .intents
        .iter()
        .map(|i| Bar {
            label: i.intent.clone(),
            value: i.messages as f64,
            shown: match i.avg_confidence {
                Some(c) => format!("{} (confidence {:.0} %)", i.messages, c * 100.0),
                None => i.messages.to_string(),
            },
        })
        .collect();
    let automation: Vec<Bar> = business
        .automation
        .iter()
        .filter(|a| a.hotel == hotel)
        .flat_map(|a| {
            let resolved = a.conversations - a.handed_off;
            [
                Bar {
                    label: "by the bot alone".into(),
                    value: percent(resolved, a.conversations),
                    shown: format!(
                        "{:.0} % ({resolved} of {})",
                        percent(resolved, a.conversations),
                        a.conversations
                    ),
                },
                Bar {
                    label: "handed to staff".into(),
                    value: percent(a.handed_off, a.conversations),
                    shown: format!(
                        "{:.0} % ({} of {})",
                        percent(a.handed_off, a.conversations),
                        a.handed_off,
                        a.conversations
                    ),
                },
            ]
        })
        .collect();
    let handoffs: Vec<Bar> = business
        .handoffs
        .iter()
        .filter(|h| h.hotel == hotel)
        .map(|h| Bar {
            label: h.reason.replace('_', " "),
            value: h.handoffs as f64,
            shown: h.handoffs.to_string(),
        })
        .collect();
    let read_rates: Vec<Bar> = views
        .read_rates
        .iter()
        .map(|r| Bar {
            label: r.channel.clone(),
            value: percent(r.read, r.replies),
            shown: format!(
                "{:.0} % read, {:.0} % delivered, {} failed, of {}",
                percent(r.read, r.replies),
                percent(r.delivered, r.replies),
                r.failed,
                r.replies
            ),
        })
        .collect();
    let body = html! {
        h1 { "Figures" }
        p.muted { "Every figure covers the hotel's whole history unless it says otherwise, and \
            names the SQL view (or read-model table) an analyst can query for it." }
        (chart(&format!("Rooms sold, next {OCCUPANCY_NIGHTS} nights"), "daily_occupancy", &occupancy))
        (chart("Bookings by channel (requested and confirmed)", "reservations (by the channel of each reservation's first event)", &bookings))
        (chart("Revenue booked (confirmed)", "reservations", &revenue))
        (chart("What guests ask (intent mix)", "intent_mix", &intents))
        (chart("Automation rate (conversations)", "analytics_messages + analytics_turns (handoffs)", &automation))
        (chart("Handoffs by reason", "handoff_counts", &handoffs))
        (chart("Read rate of replies", "reply_read_rate", &read_rates))
    };
    Ok(page::page(&staff, Section::Figures, "Figures", body))
}
