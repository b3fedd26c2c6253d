//! The context rules, message by message.

use super::answers::*;
use super::party::*;
use super::requests::*;
use super::*;
use crate::understanding::text::tokens;
use conserje_domain::understanding::{Entities, Language};

fn understood(intent: Intent, language: Language) -> Understood {
    Understood {
        language,
        intent,
        confidence: 0.3,
        entities: Entities::default(),
        locale: None,
        from_context: None,
        choice: None,
    }
}

fn confirming(flow: Intent) -> DialogueContext {
    DialogueContext {
        expecting: Some(Expectation::Confirmation),
        flow_intent: Some(flow),
        prior_locale: None,
    }
}

fn read_as(text: &str, language: Language, context: DialogueContext) -> Understood {
    let mut u = understood(Intent::MakeReservation, language);
    read(&mut u, &tokens(text), &context);
    u
}

#[test]
fn a_yes_in_words_answers_the_confirmation() {
    for (text, language) in [
        ("great, go ahead and book it", Language::En),
        ("pode reservar sim", Language::Pt),
        ("genial, resérvala", Language::Es),
        ("👍", Language::Es),
        ("fechado, pode fazer", Language::Pt),
    ] {
        let u = read_as(text, language, confirming(Intent::MakeReservation));
        assert_eq!(u.intent, Intent::Affirm, "{text}");
        assert_eq!(u.from_context, Some(Expectation::Confirmation));
        assert!(u.confidence >= 0.9);
    }
    let u = read_as(
        "sí, cancélala",
        Language::Es,
        confirming(Intent::CancelReservation),
    );
    assert_eq!(u.intent, Intent::Affirm);
}

#[test]
fn a_no_in_words_declines_and_portuguese_no_is_not_a_no() {
    for (text, language) in [
        ("no, better not", Language::En),
        ("mejor no, gracias", Language::Es),
        ("não, deixa estar", Language::Pt),
    ] {
        let u = read_as(text, language, confirming(Intent::MakeReservation));
        assert_eq!(u.intent, Intent::Deny, "{text}");
    }
    assert_eq!(
        yes_or_no(&tokens("no dia 10 pode ser"), Language::Pt, None),
        Some(true)
    );
    assert_eq!(
        yes_or_no(
            &tokens("cancel it"),
            Language::En,
            Some(Intent::MakeReservation)
        ),
        None,
        "cancelling is a yes only to 'cancel it?'"
    );
}

#[test]
fn a_yes_that_changes_the_stay_is_a_correction_not_a_yes() {
    let mut u = understood(Intent::ModifyReservation, Language::En);
    u.entities.nights = Some(3);
    read(
        &mut u,
        &tokens("ok but make it 3 nights"),
        &confirming(Intent::MakeReservation),
    );
    assert_eq!(u.intent, Intent::ModifyReservation);
    assert_eq!(u.from_context, Some(Expectation::Confirmation));
}

#[test]
fn an_expected_slot_is_read_as_the_flow_going_on() {
    let mut u = understood(Intent::OutOfScope, Language::En);
    u.entities.room_type = Some("king".into());
    read(
        &mut u,
        &tokens("a king would be nice"),
        &DialogueContext {
            expecting: Some(Expectation::RoomType),
            flow_intent: Some(Intent::MakeReservation),
            prior_locale: None,
        },
    );
    assert_eq!(u.intent, Intent::MakeReservation);
    assert_eq!(u.from_context, Some(Expectation::RoomType));
}

#[test]
fn asking_for_a_person_is_never_read_as_an_answer() {
    let mut u = understood(Intent::TalkToHuman, Language::Es);
    read(
        &mut u,
        &tokens("sí, con una persona"),
        &confirming(Intent::MakeReservation),
    );
    assert_eq!(u.intent, Intent::TalkToHuman);
}

#[test]
fn cheaper_and_another_booking() {
    assert!(asks_cheaper(&tokens("Something cheaper?")));
    assert!(asks_cheaper(&tokens("tem algo mais em conta?")));
    assert!(!asks_cheaper(&tokens("how much is it?")));
    let u = read_as(
        "anything cheaper please?",
        Language::En,
        confirming(Intent::MakeReservation),
    );
    assert_ne!(u.intent, Intent::Affirm);
    assert!(reads_as_new_booking(&tokens(
        "quiero reservar otra habitación para mayo"
    )));
    assert!(reads_as_new_booking(&tokens(
        "somos 12 pessoas e queremos ficar de 8 a 10"
    )));
    assert!(!reads_as_new_booking(&tokens(
        "quiero cambiar mi reserva a otra fecha"
    )));
    assert!(!reads_as_new_booking(&tokens(
        "move booking 56789abc to friday"
    )));
}

#[test]
fn thanks_and_goodbyes_close_the_conversation() {
    for text in [
        "thx!",
        "obrigadinho",
        "ok obrigado",
        "valeu, boa noite!",
        "gracias 🙏",
    ] {
        assert!(closes(&tokens(text)), "{text}");
    }
    assert!(!closes(&tokens("gracias, y el desayuno?")));
    assert!(!closes(&tokens("ok")));
    assert!(closes(&tokens("blz obg")));
    let mut greeting = understood(Intent::Greeting, Language::Es);
    greeting.confidence = 0.65;
    assert!(signs_off(
        &greeting,
        &tokens("chao, que tengan buen dia 🙌")
    ));
    assert!(closes(&tokens("ta very much")));
    assert!(closes(&tokens("obrigadíssimo")));
    assert!(!closes(&tokens("ta bom")));
    let mut vague = understood(Intent::OutOfScope, Language::Pt);
    let words = tokens("vou procurar o email e volto, obg");
    assert!(signs_off(&vague, &words));
    vague.entities.guests = Some(2);
    assert!(!signs_off(&vague, &words));
}

#[test]
fn a_person_asked_for_in_passing_and_a_party_of_one_are_told_apart() {
    assert!(wants_a_person(&tokens(
        "mejor paseme con alguien del hotel, tengo dudas"
    )));
    assert!(!wants_a_person(&tokens("habitacion estandar, una persona")));
    let mut u = understood(Intent::TalkToHuman, Language::Es);
    u.entities.guests = Some(1);
    rules(
        &mut u,
        &tokens("habitacion estandar 12/02-15/02, una persona"),
        &DialogueContext::default(),
    );
    assert_eq!(u.intent, Intent::MakeReservation);
}

#[test]
fn cancelling_a_named_booking_in_other_words() {
    let mut u = understood(Intent::MakeReservation, Language::Es);
    u.entities.booking_id = Some("95016624".into());
    rules(
        &mut u,
        &tokens("al final no podemos ir, anula la reserva 95016624 por favor"),
        &DialogueContext::default(),
    );
    assert_eq!(u.intent, Intent::CancelReservation);
    assert!(reads_as_new_booking(&tokens(
        "suite se faz favor de 21 a 24, somos eu e a minha mulher"
    )));
}

#[test]
fn a_question_about_cancelling_is_not_a_cancellation() {
    assert!(asks_about_cancelling(&tokens(
        "se tiver de cancelar, pago alguma coisa?"
    )));
    assert!(asks_about_cancelling(&tokens(
        "what's your cancellation policy?"
    )));
    assert!(!asks_about_cancelling(&tokens(
        "cancel my booking 56789abc"
    )));
}

#[test]
fn short_answers_to_how_many_guests() {
    for (text, n) in [
        ("solo 1", 1),
        ("nós dois", 2),
        ("just me", 1),
        ("una persona nomas", 1),
        ("we're a group of 12", 12),
        ("only 1 person", 1),
        ("vamos mi mujer y yo", 2),
        ("seriamos yo y mi esposo", 2),
        ("a double for my parents, the two of them", 2),
    ] {
        assert_eq!(party_size(&tokens(text), true, false), Some(n), "{text}");
    }
    for (text, n) in [
        ("um quarto de casal para mim e a minha mulher", 2),
        ("uma estandar para mi solo, 15 - 18 ene", 1),
        ("um standard 8 – 11 de março? é só para mim", 1),
        ("um quarto standard para uma pessoa de 10 a 13", 1),
        ("hey we're a group of 12, need somewhere", 12),
    ] {
        assert_eq!(party_size(&tokens(text), false, true), Some(n), "{text}");
    }
    assert_eq!(
        party_size(&tokens("no idea yet, maybe later"), true, true),
        None
    );
    assert_eq!(
        party_size(&tokens("is it 15 euros a person?"), false, true),
        None
    );
    assert_eq!(
        party_size(
            &tokens("habitacion estandar 12/02-15/02, una persona"),
            false,
            true
        ),
        Some(1)
    );
    assert_eq!(party_size(&tokens("solo 1"), false, true), None);
    assert_eq!(
        party_size(
            &tokens("need somewhere to stay for me and two colleagues"),
            false,
            true
        ),
        Some(3)
    );
    assert_eq!(
        party_size(&tokens("it's for me + my husband"), false, true),
        Some(2)
    );
    assert_eq!(
        party_size(
            &tokens("um quarto para mim e para o meu filho"),
            false,
            true
        ),
        Some(2)
    );
}
