//! Behaviour of the whole model, trained once from the embedded corpus.

use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use conserje_domain::understanding::{HotelTopic, Intent, Language};

use super::{ParseContext, Understanding};

fn model() -> &'static Understanding {
    static MODEL: OnceLock<Understanding> = OnceLock::new();
    MODEL.get_or_init(|| Understanding::load().expect("the embedded corpus trains"))
}

fn ctx(prior: Option<Language>) -> ParseContext {
    ParseContext {
        today: NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
        prior_language: prior,
        anchor: None,
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn is_send_and_sync_for_sharing_in_an_arc() {
    fn shareable<T: Send + Sync>(_: &T) {}
    shareable(&Arc::new(model()));
}

#[test]
fn training_is_deterministic() {
    let again = Understanding::load().unwrap();
    assert_eq!(model().model_version(), again.model_version());
    assert!(model().model_version().starts_with("nlu-2026.11-"));
    assert_eq!(model().model_version().len(), "nlu-2026.11-".len() + 12);
    for text in [
        "quiero reservar una doble",
        "how much is it",
        "tem wifi?",
        "blorf zint",
    ] {
        let a = model().understand(text, &ctx(None));
        let b = again.understand(text, &ctx(None));
        assert_eq!(a, b, "{text}");
    }
    let changed = super::corpus::EMBEDDED.replace("seed = 17", "seed = 18");
    let other = Understanding::from_corpus(&changed).unwrap();
    assert_ne!(model().model_version(), other.model_version());
}

#[test]
fn intents_in_three_languages() {
    let cases = [
        ("hola, buenas tardes", Intent::Greeting, Language::Es),
        (
            "quiero reservar una habitación del 20 al 25 de diciembre",
            Intent::MakeReservation,
            Language::Es,
        ),
        (
            "I want to cancel my booking",
            Intent::CancelReservation,
            Language::En,
        ),
        (
            "how much is the suite per night?",
            Intent::AskPrice,
            Language::En,
        ),
        (
            "tem estacionamento no hotel?",
            Intent::HotelInfo,
            Language::Pt,
        ),
        (
            "quero falar com uma pessoa",
            Intent::TalkToHuman,
            Language::Pt,
        ),
    ];
    for (text, intent, language) in cases {
        let u = model().understand(text, &ctx(None));
        assert_eq!((u.intent, u.language), (intent, language), "{text}");
        assert!(u.confidence > 0.45, "{text}: {}", u.confidence);
    }
}

#[test]
fn bare_replies_are_confident() {
    for (text, intent) in [
        ("sí", Intent::Affirm),
        ("si", Intent::Affirm),
        ("yes", Intent::Affirm),
        ("sim", Intent::Affirm),
        ("ok", Intent::Affirm),
        ("vale", Intent::Affirm),
        ("dale", Intent::Affirm),
        ("ok 👍", Intent::Affirm),
        ("no", Intent::Deny),
        ("não", Intent::Deny),
        ("nope", Intent::Deny),
        ("no gracias", Intent::Deny),
    ] {
        let u = model().understand(text, &ctx(None));
        assert_eq!(u.intent, intent, "{text}");
        assert!(u.confidence >= 0.9, "{text}: {}", u.confidence);
    }
}

#[test]
fn short_replies_keep_the_session_language() {
    for prior in Language::ALL {
        assert_eq!(model().understand("ok", &ctx(Some(prior))).language, prior);
    }
    assert_eq!(
        model().understand("no", &ctx(Some(Language::En))).language,
        Language::En
    );
    assert_eq!(
        model().understand("sim", &ctx(Some(Language::Es))).language,
        Language::Pt
    );
    assert_eq!(
        model()
            .understand("obrigado", &ctx(Some(Language::En)))
            .language,
        Language::Pt
    );
    assert_eq!(
        model()
            .understand("gracias", &ctx(Some(Language::Pt)))
            .language,
        Language::Es
    );
}

#[test]
fn gibberish_has_low_confidence() {
    for text in [
        "asdkjh qwpoeiru zxmnv",
        "blorf zint kwazz",
        "🙂🙂🙂",
        "xkcd lmnop vrrr",
    ] {
        let u = model().understand(text, &ctx(None));
        assert!(
            u.confidence < 0.45,
            "{text}: {:?} {}",
            u.intent,
            u.confidence
        );
    }
}

#[test]
fn entities_of_a_whole_message() {
    let u = model().understand(
        "Quiero reservar una doble del 20 al 25 de diciembre, somos 2. ana@gmail.com +34 612 345 678",
        &ctx(None),
    );
    let e = u.entities;
    assert_eq!(e.check_in, Some(date(2026, 12, 20)));
    assert_eq!(e.check_out, Some(date(2026, 12, 25)));
    assert_eq!(e.guests, Some(2));
    assert_eq!(e.room_type.as_deref(), Some("double"));
    assert_eq!(e.email.as_deref(), Some("ana@gmail.com"));
    assert_eq!(e.phone.as_deref(), Some("+34612345678"));
    let e = model()
        .understand("cancel booking 01937c2e please", &ctx(None))
        .entities;
    assert_eq!(e.booking_id.as_deref(), Some("01937c2e"));
    let e = model()
        .understand("a room for three nights from tomorrow", &ctx(None))
        .entities;
    assert_eq!(
        (e.check_in, e.check_out, e.nights),
        (Some(date(2026, 11, 17)), Some(date(2026, 11, 20)), Some(3))
    );
}

#[test]
fn hotel_topics_in_three_languages() {
    let m = model();
    assert_eq!(
        m.hotel_topic("a qué hora es el check-in?", Language::Es),
        Some(HotelTopic::CheckInTime)
    );
    assert_eq!(
        m.hotel_topic("hasta qué hora es la salida", Language::Es),
        Some(HotelTopic::CheckOutTime)
    );
    assert_eq!(
        m.hotel_topic("is breakfast included?", Language::En),
        Some(HotelTopic::Breakfast)
    );
    assert_eq!(
        m.hotel_topic("can I cancel for free?", Language::En),
        Some(HotelTopic::CancellationPolicy)
    );
    assert_eq!(
        m.hotel_topic("tem estacionamento?", Language::Pt),
        Some(HotelTopic::Parking)
    );
    assert_eq!(
        m.hotel_topic("qual a senha do wifi", Language::Pt),
        Some(HotelTopic::Wifi)
    );
    assert_eq!(
        m.hotel_topic("posso levar meu cachorro?", Language::Pt),
        Some(HotelTopic::Pets)
    );
    assert_eq!(
        m.hotel_topic("dónde estáis?", Language::Es),
        Some(HotelTopic::Location)
    );
    assert_eq!(m.hotel_topic("tenéis gimnasio?", Language::Es), None);
}
