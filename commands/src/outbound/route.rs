//! How one reply goes out on its channel: as free text, or — on WhatsApp, where only an approved
//! message template reaches a guest whose 24-hour window has closed — as a template.
//!
//! The choice is made before the send from the session's own clock of the window, and made
//! again when WhatsApp refuses free text anyway (131047: its clock and ours may differ by the
//! seconds a reply spends in the log). Without a template the reply cannot reach the guest, and
//! the failure says so, so the conversation goes to staff with the reason instead of the reply
//! sitting "sent" in a transcript the guest never sees.

use chrono::{DateTime, Utc};
use conserje_domain::channel::OutboundReply;
use conserje_domain::hotel::HotelProfile;
use conserje_domain::session::{FailureCause, Session};
use conserje_domain::template::{TemplateMessage, TemplatePurpose, TemplateValues};
use conserje_domain::understanding::Locale;
use conserje_domain::values::Channel;

/// How a reply is to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    /// Its own words.
    Text,
    /// As a filled message template.
    Template(TemplateMessage),
    /// It cannot go: why, in a sentence for the transcript and the dead letter, and what that
    /// means (the closed window sends the conversation to staff).
    Fails { reason: String, cause: FailureCause },
}

/// The route of `reply` at `now`: the template staff named, the hotel's `reply` template when the
/// window is closed, else free text.
pub(super) fn route(
    reply: &OutboundReply,
    session: &Session,
    profile: &HotelProfile,
    now: DateTime<Utc>,
) -> Route {
    // WhatsApp alone has a customer-service window and message templates.
    if reply.channel != Channel::WhatsApp {
        return Route::Text;
    }
    if let Some(name) = &reply.message_template {
        return match profile.templates.named(name) {
            Some(template) => fill(template, reply, session, profile, FailureCause::Refused),
            None => Route::Fails {
                reason: format!(
                    "template {name} is not registered for hotel {}",
                    reply.tenant_id
                ),
                cause: FailureCause::Refused,
            },
        };
    }
    if session.window_open(now) {
        return Route::Text;
    }
    fallback(reply, session, profile)
}

/// The template for a reply WhatsApp will not take as free text: a proactive message's own kind
/// (a pre-arrival note goes as the hotel's `pre_arrival` template), else the hotel's `reply`.
pub(super) fn fallback(reply: &OutboundReply, session: &Session, profile: &HotelProfile) -> Route {
    let own = reply
        .proactive
        .and_then(|kind| profile.templates.for_purpose(kind.purpose()));
    match own.or_else(|| profile.templates.for_purpose(TemplatePurpose::Reply)) {
        Some(template) => fill(
            template,
            reply,
            session,
            profile,
            FailureCause::WindowClosed,
        ),
        None => Route::Fails {
            reason: format!(
                "the guest's 24-hour window is closed and hotel {} registers no `reply` template",
                reply.tenant_id
            ),
            cause: FailureCause::WindowClosed,
        },
    }
}

fn fill(
    template: &conserje_domain::template::MessageTemplate,
    reply: &OutboundReply,
    session: &Session,
    profile: &HotelProfile,
    cause: FailureCause,
) -> Route {
    let values = TemplateValues {
        guest_name: session.guest_name.clone(),
        hotel_name: profile.name.clone(),
        reply: Some(reply.text.clone()),
    };
    match template.fill(Locale::of(reply.language), &values) {
        Ok(message) => Route::Template(message),
        Err(err) => Route::Fails {
            reason: err.to_string(),
            cause,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use conserje_domain::proactive::ProactiveKind;
    use conserje_domain::session::SessionEvent;
    use conserje_domain::template::{
        MessageTemplate, TemplateCategory, TemplateField, TemplateName, TemplateRegistry,
    };
    use conserje_domain::understanding::Language;
    use conserje_domain::values::{GuestRef, TenantId};
    use cqrs_es::Aggregate;

    fn at(hour: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap() + chrono::Duration::hours(hour)
    }

    fn session(channel: Channel) -> Session {
        let mut session = Session::default();
        session.apply(SessionEvent::SessionStarted {
            tenant_id: TenantId::parse("hotel-sol").unwrap(),
            channel,
            guest_ref: GuestRef::parse("34600111222").unwrap(),
            started_at: at(0),
        });
        session.apply(SessionEvent::GuestMessageReceived {
            provider_message_id: "wamid.1".into(),
            text: Some("hola".into()),
            media: None,
            location: None,
            guest_name: Some("Ana".into()),
            received_at: at(0),
            reaction: None,
            contacts: None,
            edit: None,
        });
        session
    }

    fn reply(channel: Channel, named: Option<&str>) -> OutboundReply {
        OutboundReply {
            reply_id: uuid::Uuid::from_u128(1),
            tenant_id: TenantId::parse("hotel-sol").unwrap(),
            channel,
            guest_ref: GuestRef::parse("34600111222").unwrap(),
            text: "Su habitación\nestá lista".into(),
            language: Language::Es,
            message_template: named.map(|n| TemplateName::parse(n).unwrap()),
            choices: None,
            proactive: None,
        }
    }

    fn hotel(with_reply_template: bool) -> HotelProfile {
        let template = |name: &str, purpose| MessageTemplate {
            name: TemplateName::parse(name).unwrap(),
            purpose,
            category: TemplateCategory::Utility,
            languages: vec!["en_US".into(), "es".into()],
            parameters: vec![TemplateField::GuestName, TemplateField::Reply],
        };
        let mut templates = vec![template("seguimiento", None)];
        if with_reply_template {
            templates.push(template("respuesta", Some(TemplatePurpose::Reply)));
        }
        HotelProfile {
            templates: TemplateRegistry::new(templates).unwrap(),
            ..HotelProfile::default()
        }
    }

    fn template(name: &str) -> Route {
        Route::Template(TemplateMessage {
            name: TemplateName::parse(name).unwrap(),
            language: "es".into(),
            parameters: vec!["Ana".into(), "Su habitación está lista".into()],
        })
    }

    #[test]
    fn inside_the_window_the_reply_goes_as_text() {
        let route = route(
            &reply(Channel::WhatsApp, None),
            &session(Channel::WhatsApp),
            &hotel(true),
            at(23),
        );
        assert_eq!(route, Route::Text);
    }

    #[test]
    fn outside_the_window_it_goes_as_the_hotels_reply_template() {
        let route = route(
            &reply(Channel::WhatsApp, None),
            &session(Channel::WhatsApp),
            &hotel(true),
            at(25),
        );
        assert_eq!(route, template("respuesta"));
    }

    #[test]
    fn without_a_reply_template_the_reply_is_unreachable_and_says_why() {
        let Route::Fails {
            reason,
            cause: FailureCause::WindowClosed,
        } = route(
            &reply(Channel::WhatsApp, None),
            &session(Channel::WhatsApp),
            &hotel(false),
            at(25),
        )
        else {
            panic!("no template to fall back to");
        };
        assert!(reason.contains("registers no `reply` template"), "{reason}");
    }

    #[test]
    fn the_template_staff_named_goes_even_inside_the_window() {
        let named = reply(Channel::WhatsApp, Some("seguimiento"));
        assert_eq!(
            route(&named, &session(Channel::WhatsApp), &hotel(true), at(1)),
            template("seguimiento")
        );
        let unknown = reply(Channel::WhatsApp, Some("borrado"));
        assert!(matches!(
            route(&unknown, &session(Channel::WhatsApp), &hotel(true), at(1)),
            Route::Fails {
                cause: FailureCause::Refused,
                ..
            }
        ));
    }

    #[test]
    fn telegram_has_no_window_and_no_templates() {
        let named = reply(Channel::Telegram, Some("seguimiento"));
        assert_eq!(
            route(&named, &session(Channel::Telegram), &hotel(true), at(300)),
            Route::Text
        );
    }

    #[test]
    fn a_proactive_message_goes_as_its_own_kinds_template() {
        let mut hotel = hotel(true);
        let mut registered: Vec<MessageTemplate> = hotel.templates.iter().cloned().collect();
        registered.push(MessageTemplate {
            name: TemplateName::parse("antes_de_llegar").unwrap(),
            purpose: Some(TemplatePurpose::PreArrival),
            category: TemplateCategory::Utility,
            languages: vec!["es".into()],
            parameters: vec![TemplateField::GuestName, TemplateField::Reply],
        });
        hotel.templates = TemplateRegistry::new(registered).unwrap();
        let mut note = reply(Channel::WhatsApp, None);
        note.proactive = Some(ProactiveKind::PreArrival);
        assert_eq!(
            route(&note, &session(Channel::WhatsApp), &hotel, at(25)),
            template("antes_de_llegar")
        );
        assert_eq!(
            route(&note, &session(Channel::WhatsApp), &hotel, at(1)),
            Route::Text,
            "inside the window it goes as text"
        );
        note.proactive = Some(ProactiveKind::ReviewRequest);
        assert_eq!(
            route(&note, &session(Channel::WhatsApp), &hotel, at(25)),
            template("respuesta"),
            "a kind without its own template goes as the reply template"
        );
    }
}
