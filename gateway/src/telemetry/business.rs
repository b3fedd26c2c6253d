//! The business figures as gauges, set at each scrape on a recorder made for that scrape.
//!
//! A fresh recorder rather than one kept between scrapes: a gauge, once set, stays on its
//! recorder, so a label set that left the store (the last `requested` reservation of a hotel got
//! confirmed) would go on reporting its old value. Made per scrape, the exposition holds exactly
//! what the store holds now, and two runtimes — or two concurrent scrapes — never share one.
//! The exporter still writes every line.

use conserje_infra::business_figures::{BusinessFigures, QUOTE_INTENTS};
use metrics::{Key, KeyName, Label, Level, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

const METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

pub const RESERVATIONS: &str = "conserje_reservations";
pub const REVENUE_BOOKED: &str = "conserje_revenue_booked_minor";
pub const QUOTE_TO_BOOKING: &str = "conserje_quote_to_booking_ratio";
pub const AUTOMATION: &str = "conserje_automation_ratio";
pub const HANDOFFS: &str = "conserje_handoffs";
pub const MESSAGES: &str = "conserje_messages";
pub const FIGURES_UP: &str = "conserje_business_figures_up";

/// The HELP text of each family: the definition a hotel manager reads off the dashboard.
fn help(name: &str) -> String {
    match name {
        RESERVATIONS => "Reservations in the store, by hotel, current status (requested, \
            confirmed, rejected, cancelled) and the channel they were requested on (api, \
            whatsapp, telegram)."
            .into(),
        REVENUE_BOOKED => "Total price of the hotel's confirmed reservations, in minor units \
            (cents) of the currency; cancelled ones are not counted."
            .into(),
        QUOTE_TO_BOOKING => format!(
            "Of the hotel's conversations (one guest on one channel) with a guest message read \
             as {}, the share in which a reservation was booked that the PMS confirmed \
             (cancelled since or not). Absent while no conversation asked.",
            QUOTE_INTENTS.join(", ")
        ),
        AUTOMATION => "Share of the hotel's conversations (one guest on one channel, with at \
            least one guest message) that were never handed to staff."
            .into(),
        HANDOFFS => "Conversations handed to staff, by hotel and reason.".into(),
        MESSAGES => {
            "Guest messages the bot read, by hotel and the language it read them in.".into()
        }
        FIGURES_UP => "1 when the business figures were read from the store for this scrape, 0 \
            when reading failed (they are then absent)."
            .into(),
        _ => String::new(),
    }
}

struct Figures(PrometheusRecorder);

impl Figures {
    fn new() -> Self {
        let recorder = PrometheusBuilder::new().build_recorder();
        for name in [
            RESERVATIONS,
            REVENUE_BOOKED,
            QUOTE_TO_BOOKING,
            AUTOMATION,
            HANDOFFS,
            MESSAGES,
            FIGURES_UP,
        ] {
            recorder.describe_gauge(
                KeyName::from_const_str(name),
                None,
                SharedString::from(help(name)),
            );
        }
        Self(recorder)
    }

    fn set(&self, name: &'static str, labels: &[(&'static str, &str)], value: f64) {
        let labels: Vec<Label> = labels
            .iter()
            .map(|(key, value)| Label::new(*key, (*value).to_owned()))
            .collect();
        self.0
            .register_gauge(&Key::from_parts(name, labels), &METADATA)
            .set(value);
    }
}

/// `part / whole`, or nothing when there is no whole to take a share of.
fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The exposition of `figures`; `None` when they could not be read (only the `up` gauge, at 0).
pub fn render(figures: Option<&BusinessFigures>) -> String {
    let out = Figures::new();
    out.set(FIGURES_UP, &[], if figures.is_some() { 1.0 } else { 0.0 });
    let Some(figures) = figures else {
        return out.0.handle().render();
    };
    for r in &figures.reservations {
        let labels = [
            ("hotel", r.hotel.as_str()),
            ("status", r.status.as_str()),
            ("channel", r.channel.as_str()),
        ];
        out.set(RESERVATIONS, &labels, r.reservations as f64);
    }
    for r in &figures.revenue {
        let labels = [
            ("hotel", r.hotel.as_str()),
            ("currency", r.currency.as_str()),
        ];
        out.set(REVENUE_BOOKED, &labels, r.total_minor as f64);
    }
    for c in &figures.conversion {
        if let Some(share) = ratio(c.booked, c.quoted) {
            out.set(QUOTE_TO_BOOKING, &[("hotel", c.hotel.as_str())], share);
        }
    }
    for a in &figures.automation {
        if let Some(share) = ratio(a.conversations - a.handed_off, a.conversations) {
            out.set(AUTOMATION, &[("hotel", a.hotel.as_str())], share);
        }
    }
    for h in &figures.handoffs {
        let labels = [("hotel", h.hotel.as_str()), ("reason", h.reason.as_str())];
        out.set(HANDOFFS, &labels, h.handoffs as f64);
    }
    for l in &figures.languages {
        let labels = [
            ("hotel", l.hotel.as_str()),
            ("language", l.language.as_str()),
        ];
        out.set(MESSAGES, &labels, l.messages as f64);
    }
    out.0.handle().render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use conserje_infra::business_figures::{Automation, Conversion, ReservationCount};

    #[test]
    fn figures_render_as_gauges_and_shares_without_a_whole_are_absent() {
        let figures = BusinessFigures {
            reservations: vec![ReservationCount {
                hotel: "default".into(),
                status: "confirmed".into(),
                channel: "whatsapp".into(),
                reservations: 3,
            }],
            conversion: vec![
                Conversion {
                    hotel: "default".into(),
                    quoted: 4,
                    booked: 1,
                },
                Conversion {
                    hotel: "hotel-sol".into(),
                    quoted: 0,
                    booked: 0,
                },
            ],
            automation: vec![Automation {
                hotel: "default".into(),
                conversations: 4,
                handed_off: 1,
            }],
            ..BusinessFigures::default()
        };
        let text = render(Some(&figures));
        assert!(
            text.contains("# TYPE conserje_reservations gauge\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "conserje_reservations{hotel=\"default\",status=\"confirmed\",channel=\"whatsapp\"} 3\n"
            ),
            "{text}"
        );
        assert!(text.contains("conserje_quote_to_booking_ratio{hotel=\"default\"} 0.25\n"));
        assert!(!text.contains("hotel-sol"), "{text}");
        assert!(text.contains("conserje_automation_ratio{hotel=\"default\"} 0.75\n"));
        assert!(text.contains("conserje_business_figures_up 1\n"), "{text}");
        assert!(text.contains("# HELP conserje_quote_to_booking_ratio Of the hotel's"));
    }

    #[test]
    fn unreadable_figures_say_so() {
        let text = render(None);
        assert!(text.contains("conserje_business_figures_up 0\n"), "{text}");
        assert!(!text.contains("conserje_reservations"), "{text}");
    }
}
