use super::*;
use crate::values::Channel;
use chrono::TimeZone;
use cqrs_es::test::TestFramework;

fn message(id: &str) -> GuestMessage {
    GuestMessage {
        location: None,
        guest_name: None,
        tenant_id: TenantId::parse("hotel-sol").unwrap(),
        channel: Channel::WhatsApp,
        guest_ref: GuestRef::parse("5491155551234").unwrap(),
        provider_message_id: id.into(),
        text: Some("hola".into()),
        media: None,
        received_at: Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
        choice: None,
        reaction: None,
        contacts: None,
        edit: None,
    }
}

fn received(id: &str) -> SessionEvent {
    let m = message(id);
    SessionEvent::GuestMessageReceived {
        provider_message_id: m.provider_message_id,
        text: m.text,
        media: None,
        location: None,
        guest_name: None,
        received_at: m.received_at,
        reaction: None,
        contacts: None,
        edit: None,
    }
}

fn started() -> SessionEvent {
    let m = message("x");
    SessionEvent::SessionStarted {
        tenant_id: m.tenant_id,
        channel: m.channel,
        guest_ref: m.guest_ref,
        started_at: m.received_at,
    }
}

#[test]
fn a_message_is_bounded_in_length_and_in_time() {
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    let mut long = message("m");
    long.text = Some("ñ".repeat(MAX_TEXT_CHARS + 10));
    long.received_at = Utc.with_ymd_and_hms(9999, 1, 1, 0, 0, 0).unwrap();
    let bounded = long.bounded(now);
    assert_eq!(bounded.text.unwrap().chars().count(), MAX_TEXT_CHARS);
    assert_eq!(bounded.received_at, now + RECEIVED_AT_FUTURE);
    let old = Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(
        GuestMessage::bounded_received_at(old, now),
        now - RECEIVED_AT_PAST
    );
    let fine = now - chrono::Duration::hours(3);
    assert_eq!(GuestMessage::bounded_received_at(fine, now), fine);
}

#[test]
fn first_message_starts_the_session() {
    TestFramework::<Session>::with(())
        .given_no_previous_events()
        .when(SessionCommand::RecordGuestMessage(message("wamid.1")))
        .then_expect_events(vec![started(), received("wamid.1")]);
}

#[test]
fn a_provider_message_id_is_recorded_once() {
    TestFramework::<Session>::with(())
        .given(vec![started(), received("wamid.1")])
        .when(SessionCommand::RecordGuestMessage(message("wamid.1")))
        .then_expect_events(vec![]);
}

#[test]
fn an_empty_message_is_refused() {
    let mut empty = message("wamid.2");
    empty.text = Some(String::new());
    TestFramework::<Session>::with(())
        .given_no_previous_events()
        .when(SessionCommand::RecordGuestMessage(empty))
        .then_expect_error(SessionError::EmptyMessage);
}

#[test]
fn a_message_of_another_conversation_is_refused() {
    let mut other = message("wamid.3");
    other.channel = Channel::Telegram;
    TestFramework::<Session>::with(())
        .given(vec![started()])
        .when(SessionCommand::RecordGuestMessage(other))
        .then_expect_error(SessionError::WrongConversation {
            expected: "hotel-sol/whatsapp/5491155551234".into(),
        });
}

fn reply(text: &str) -> Reply {
    Reply {
        reply_id: Uuid::from_u128(7),
        text: text.into(),
        language: crate::understanding::Language::Es,
        locale: None,
        template: "greeting".into(),
        message_template: None,
        choices: None,
        proactive: None,
    }
}

fn turn(key: &str, handoff: Option<HandoffReason>) -> Turn {
    Turn {
        turn_key: key.into(),
        understood: None,
        model_version: None,
        dialogue: None,
        replies: vec![reply("¡Hola!")],
        handoff,
    }
}

fn composed(key: &str) -> SessionEvent {
    SessionEvent::ReplyComposed {
        turn_key: Some(key.into()),
        author: "bot".into(),
        reply: reply("¡Hola!"),
    }
}

#[test]
fn a_turn_is_answered_once() {
    TestFramework::<Session>::with(())
        .given(vec![started(), received("wamid.1"), composed("wamid.1")])
        .when(SessionCommand::RecordTurn(turn("wamid.1", None)))
        .then_expect_events(vec![]);
}

#[test]
fn the_bot_stays_silent_while_staff_have_the_conversation() {
    TestFramework::<Session>::with(())
        .given(vec![
            started(),
            SessionEvent::HandoffRequested {
                reason: HandoffReason::GuestAsked,
                taken_by: None,
            },
        ])
        .when(SessionCommand::RecordTurn(turn("wamid.2", None)))
        .then_expect_error(SessionError::HandedOff);
}

#[test]
fn staff_take_over_a_conversation_once_and_the_bot_falls_silent() {
    let took_over = SessionEvent::HandoffRequested {
        reason: HandoffReason::StaffTookOver,
        taken_by: Some("staff:ana".into()),
    };
    TestFramework::<Session>::with(())
        .given(vec![started()])
        .when(SessionCommand::TakeOver {
            taken_by: "staff:ana".into(),
        })
        .then_expect_events(vec![took_over.clone()]);
    TestFramework::<Session>::with(())
        .given(vec![started(), took_over.clone()])
        .when(SessionCommand::TakeOver {
            taken_by: "staff:luis".into(),
        })
        .then_expect_error(SessionError::AlreadyHandedOff);
    TestFramework::<Session>::with(())
        .given(vec![started(), took_over])
        .when(SessionCommand::RecordTurn(turn("wamid.9", None)))
        .then_expect_error(SessionError::HandedOff);
}

#[test]
fn a_handoff_is_requested_once_and_resolved_only_when_open() {
    TestFramework::<Session>::with(())
        .given(vec![started()])
        .when(SessionCommand::RecordTurn(turn(
            "wamid.3",
            Some(HandoffReason::GuestAsked),
        )))
        .then_expect_events(vec![
            composed("wamid.3"),
            SessionEvent::HandoffRequested {
                reason: HandoffReason::GuestAsked,
                taken_by: None,
            },
        ]);
    TestFramework::<Session>::with(())
        .given(vec![started()])
        .when(SessionCommand::ResolveHandoff {
            resolved_by: "staff:ana".into(),
        })
        .then_expect_error(SessionError::NotHandedOff);
}

#[test]
fn a_delivery_is_recorded_once_and_only_for_a_known_reply() {
    let delivered = SessionEvent::ReplyDelivered {
        reply_id: Uuid::from_u128(7),
        outcome: DeliveryOutcome::KeptInOutbox,
    };
    TestFramework::<Session>::with(())
        .given(vec![started(), composed("wamid.1"), delivered.clone()])
        .when(SessionCommand::RecordDeliveries {
            deliveries: vec![(Uuid::from_u128(7), DeliveryOutcome::KeptInOutbox)],
        })
        .then_expect_events(vec![]);
    TestFramework::<Session>::with(())
        .given(vec![started()])
        .when(SessionCommand::RecordDeliveries {
            deliveries: vec![(Uuid::from_u128(8), DeliveryOutcome::KeptInOutbox)],
        })
        .then_expect_error(SessionError::UnknownReply(Uuid::from_u128(8)));
}

fn receipt(id: &str, status: ReceiptStatus, minute: u32) -> Receipt {
    Receipt {
        provider_message_id: id.into(),
        status,
        at: Utc.with_ymd_and_hms(2026, 11, 22, 12, minute, 0).unwrap(),
        failure: None,
    }
}

fn recorded(id: &str, reply: Option<u128>, status: ReceiptStatus, minute: u32) -> SessionEvent {
    SessionEvent::ReceiptRecorded {
        provider_message_id: id.into(),
        reply_id: reply.map(Uuid::from_u128),
        status,
        at: Utc.with_ymd_and_hms(2026, 11, 22, 12, minute, 0).unwrap(),
        failure: None,
    }
}

#[test]
fn receipts_are_recorded_when_they_tell_more_in_any_order() {
    let sent = SessionEvent::ReplyDelivered {
        reply_id: Uuid::from_u128(7),
        outcome: DeliveryOutcome::sent(Some("wamid.out".into())),
    };
    // A read before its delivered, then the delivered, then the read again: one event, and
    // it names our reply.
    TestFramework::<Session>::with(())
        .given(vec![started(), composed("wamid.1"), sent.clone()])
        .when(SessionCommand::RecordReceipts {
            receipts: vec![
                receipt("wamid.out", ReceiptStatus::Read, 2),
                receipt("wamid.out", ReceiptStatus::Delivered, 1),
                receipt("wamid.out", ReceiptStatus::Read, 2),
            ],
            template_fallback: false,
        })
        .then_expect_events(vec![recorded("wamid.out", Some(7), ReceiptStatus::Read, 2)]);
    // After delivered, a failed (another device) records nothing.
    TestFramework::<Session>::with(())
        .given(vec![
            started(),
            composed("wamid.1"),
            sent,
            recorded("wamid.out", Some(7), ReceiptStatus::Delivered, 1),
        ])
        .when(SessionCommand::RecordReceipts {
            receipts: vec![receipt("wamid.out", ReceiptStatus::Failed, 3)],
            template_fallback: false,
        })
        .then_expect_events(vec![]);
    // A receipt before our record of the send is kept by the platform's id, with no reply.
    TestFramework::<Session>::with(())
        .given(vec![started()])
        .when(SessionCommand::RecordReceipts {
            receipts: vec![receipt("wamid.early", ReceiptStatus::Sent, 1)],
            template_fallback: false,
        })
        .then_expect_events(vec![recorded("wamid.early", None, ReceiptStatus::Sent, 1)]);
    TestFramework::<Session>::with(())
        .given_no_previous_events()
        .when(SessionCommand::RecordReceipts {
            receipts: vec![receipt("wamid.x", ReceiptStatus::Sent, 1)],
            template_fallback: false,
        })
        .then_expect_error(SessionError::NoSession);
}

#[test]
fn a_reply_refused_for_a_closed_window_hands_the_conversation_to_staff_once() {
    let refused = DeliveryOutcome::Failed {
        reason: "131047".into(),
        cause: FailureCause::WindowClosed,
    };
    let handoff = SessionEvent::HandoffRequested {
        reason: HandoffReason::WindowClosed,
        taken_by: None,
    };
    TestFramework::<Session>::with(())
        .given(vec![started(), composed("wamid.1")])
        .when(SessionCommand::RecordDeliveries {
            deliveries: vec![(Uuid::from_u128(7), refused.clone())],
        })
        .then_expect_events(vec![
            SessionEvent::ReplyDelivered {
                reply_id: Uuid::from_u128(7),
                outcome: refused.clone(),
            },
            handoff.clone(),
        ]);
    // Already with staff: the failure is recorded, no second handoff.
    TestFramework::<Session>::with(())
        .given(vec![started(), composed("wamid.1"), handoff.clone()])
        .when(SessionCommand::RecordDeliveries {
            deliveries: vec![(Uuid::from_u128(7), refused.clone())],
        })
        .then_expect_events(vec![SessionEvent::ReplyDelivered {
            reply_id: Uuid::from_u128(7),
            outcome: refused,
        }]);
    // A `failed` receipt with 131047 does the same.
    let mut failed = receipt("wamid.out", ReceiptStatus::Failed, 3);
    failed.failure = Some(ReceiptFailure {
        code: receipt::WINDOW_CLOSED_CODE,
        title: "Re-engagement message".into(),
    });
    let SessionEvent::ReceiptRecorded { at, .. } =
        recorded("wamid.out", None, ReceiptStatus::Failed, 3)
    else {
        unreachable!()
    };
    TestFramework::<Session>::with(())
        .given(vec![started()])
        .when(SessionCommand::RecordReceipts {
            receipts: vec![failed.clone()],
            template_fallback: false,
        })
        .then_expect_events(vec![
            SessionEvent::ReceiptRecorded {
                provider_message_id: "wamid.out".into(),
                reply_id: None,
                status: ReceiptStatus::Failed,
                at,
                failure: failed.failure,
            },
            handoff,
        ]);
}

#[test]
fn the_whatsapp_window_closes_24_hours_after_the_guests_last_message() {
    let mut session = Session::default();
    for event in [started(), received("wamid.1")] {
        session.apply(event);
    }
    let last = message("wamid.1").received_at;
    assert!(session.window_open(last + chrono::Duration::hours(23)));
    assert!(!session.window_open(last + chrono::Duration::hours(24)));
    assert_eq!(
        session.window_closes_at(),
        Some(last + chrono::Duration::hours(24))
    );
    session.channel = Some(Channel::Telegram);
    assert!(session.window_open(last + chrono::Duration::days(30)));
    assert_eq!(session.window_closes_at(), None);
}

#[test]
fn a_voice_note_is_transcribed_once() {
    let mut voice = message("wamid.9");
    voice.text = None;
    voice.media = Some(MediaRef {
        kind: MediaKind::Audio,
        provider_media_id: "media-1".into(),
        mime_type: Some("audio/ogg".into()),
        duration_seconds: None,
    });
    let received_voice = SessionEvent::GuestMessageReceived {
        provider_message_id: "wamid.9".into(),
        text: None,
        media: voice.media.clone(),
        location: None,
        guest_name: None,
        received_at: voice.received_at,
        reaction: None,
        contacts: None,
        edit: None,
    };
    let transcribed = SessionEvent::AudioTranscribed {
        provider_message_id: "wamid.9".into(),
        text: "hola".into(),
    };
    let command = || SessionCommand::RecordTranscript {
        provider_message_id: "wamid.9".into(),
        text: "hola".into(),
    };
    TestFramework::<Session>::with(())
        .given(vec![started(), received_voice.clone()])
        .when(command())
        .then_expect_events(vec![transcribed.clone()]);
    TestFramework::<Session>::with(())
        .given(vec![started(), received_voice, transcribed])
        .when(command())
        .then_expect_events(vec![]);
}

#[test]
fn a_message_and_its_answer_are_recorded_together_and_once() {
    let command = || SessionCommand::RecordAnsweredMessage {
        message: Box::new(message("wamid.1")),
        turn: Box::new(turn("wamid.1", None)),
    };
    TestFramework::<Session>::with(())
        .given_no_previous_events()
        .when(command())
        .then_expect_events(vec![started(), received("wamid.1"), composed("wamid.1")]);
    TestFramework::<Session>::with(())
        .given(vec![started(), received("wamid.1"), composed("wamid.1")])
        .when(command())
        .then_expect_events(vec![]);
    TestFramework::<Session>::with(())
        .given(vec![started(), received("wamid.1")])
        .when(command())
        .then_expect_events(vec![composed("wamid.1")]);
}

#[test]
fn outside_the_window_a_staff_reply_goes_only_as_a_message_template() {
    let late = message("wamid.1").received_at + chrono::Duration::hours(25);
    let free_text = reply("Hola, ¿sigue interesado?");
    TestFramework::<Session>::with(())
        .given(vec![started(), received("wamid.1")])
        .when(SessionCommand::RecordStaffReply {
            reply: free_text.clone(),
            at: late,
        })
        .then_expect_error(SessionError::WindowClosed {
            closed_at: message("wamid.1").received_at + chrono::Duration::hours(24),
        });
    let as_template = Reply {
        message_template: Some(crate::template::TemplateName::parse("respuesta").unwrap()),
        ..free_text
    };
    TestFramework::<Session>::with(())
        .given(vec![started(), received("wamid.1")])
        .when(SessionCommand::RecordStaffReply {
            reply: as_template.clone(),
            at: late,
        })
        .then_expect_events(vec![SessionEvent::ReplyComposed {
            turn_key: None,
            author: "staff".into(),
            reply: as_template,
        }]);
}

#[test]
fn a_reaction_says_yes_or_no_whatever_its_skin_tone() {
    let meaning = |emoji: &str| {
        Reaction {
            to: "wamid.q".into(),
            emoji: emoji.into(),
        }
        .meaning()
    };
    for yes in ["👍", "👍🏽", "👍🏿", "❤️", "❤", "👌", "✅"] {
        assert_eq!(meaning(yes), Some(ReactionMeaning::Yes), "{yes}");
    }
    for no in ["👎", "👎🏻", "❌"] {
        assert_eq!(meaning(no), Some(ReactionMeaning::No), "{no}");
    }
    for neither in ["😂", "😮", "👍👎", ""] {
        assert_eq!(meaning(neither), None, "{neither}");
    }
}

/// A session whose bot reply `offer` (with buttons) went out as `wamid.offer`, then a plain
/// reply as `wamid.plain`, and whose dialogue waits for a yes or no.
fn asking() -> Session {
    let mut session = Session::default();
    let mut offer = reply("¿Cancelo la reserva?");
    offer.reply_id = Uuid::from_u128(1);
    offer.choices = Some(crate::choice::Choices {
        menu: "Opciones".into(),
        buttons: vec![],
    });
    let mut plain = reply("Por cierto…");
    plain.reply_id = Uuid::from_u128(2);
    let sent = |id: u128, wamid: &str| SessionEvent::ReplyDelivered {
        reply_id: Uuid::from_u128(id),
        outcome: DeliveryOutcome::Sent {
            provider_message_id: Some(wamid.into()),
            template: None,
        },
    };
    for event in [
        started(),
        received("wamid.1"),
        SessionEvent::ReplyComposed {
            turn_key: Some("wamid.1".into()),
            author: "bot".into(),
            reply: offer,
        },
        SessionEvent::ReplyComposed {
            turn_key: Some("wamid.1".into()),
            author: "bot".into(),
            reply: plain,
        },
        sent(1, "wamid.offer"),
        sent(2, "wamid.plain"),
    ] {
        session.apply(event);
    }
    session.dialogue.pending = Some(Pending::CancellationConfirmation {
        reservation_id: Uuid::from_u128(9),
        fee_minor: None,
    });
    session
}

#[test]
fn only_a_reaction_on_the_reply_that_asked_answers_the_question() {
    let session = asking();
    let on = |to: &str| Reaction {
        to: to.into(),
        emoji: "👍".into(),
    };
    assert!(session.reacts_to_open_question(&on("wamid.offer")));
    assert!(
        !session.reacts_to_open_question(&on("wamid.plain")),
        "a later reply without buttons is not the question"
    );
    assert!(!session.reacts_to_open_question(&on("wamid.unknown")));
    let mut answered = session.clone();
    answered.dialogue.pending = None;
    assert!(
        !answered.reacts_to_open_question(&on("wamid.offer")),
        "nothing pending: the question was answered already"
    );
}

#[test]
fn a_reaction_is_recorded_but_does_not_open_the_whatsapp_window() {
    let mut session = Session::default();
    for event in [started(), received("wamid.1")] {
        session.apply(event);
    }
    let closes = session.window_closes_at();
    let mut reaction = message("wamid.2");
    reaction.text = None;
    reaction.received_at += chrono::Duration::hours(20);
    reaction.reaction = Some(Reaction {
        to: "wamid.offer".into(),
        emoji: "👍".into(),
    });
    let events = session.record_message(reaction).unwrap();
    assert_eq!(events.len(), 1, "recorded");
    events.into_iter().for_each(|e| session.apply(e));
    assert_eq!(session.message_count, 2);
    assert_eq!(session.window_closes_at(), closes);
}

#[test]
fn a_reply_refused_later_for_the_window_is_undelivered_again_and_kept_from_staff_with_a_template() {
    let mut session = Session::default();
    let sent = SessionEvent::ReplyDelivered {
        reply_id: Uuid::from_u128(7),
        outcome: DeliveryOutcome::sent(Some("wamid.out".into())),
    };
    for event in [started(), composed("wamid.1"), sent] {
        session.apply(event);
    }
    let mut failed = receipt("wamid.out", ReceiptStatus::Failed, 3);
    failed.failure = Some(ReceiptFailure {
        code: receipt::WINDOW_CLOSED_CODE,
        title: "Re-engagement message".into(),
    });
    assert_eq!(
        session.refused_for_window(std::slice::from_ref(&failed)),
        [Uuid::from_u128(7)]
    );
    let with_template = session.record_receipts(vec![failed.clone()], true).unwrap();
    assert_eq!(with_template.len(), 1, "the receipt, and no handoff");
    let without = session
        .record_receipts(vec![failed.clone()], false)
        .unwrap();
    assert!(matches!(
        without.last(),
        Some(SessionEvent::HandoffRequested {
            reason: HandoffReason::WindowClosed,
            taken_by: None,
        })
    ));
    with_template.into_iter().for_each(|e| session.apply(e));
    assert_eq!(
        session.replies.get(&Uuid::from_u128(7)),
        Some(&false),
        "undelivered again, so its resend is recorded"
    );
    assert!(
        session.refused_for_window(&[failed]).is_empty(),
        "a repeated status refuses nothing new"
    );
}

#[test]
fn a_session_id_names_its_conversation_even_with_slashes_in_the_guest() {
    let (tenant, channel, guest) = conversation_of("hotel-sol/telegram/-100/42").unwrap();
    assert_eq!(
        (tenant.as_str(), channel, guest.as_str()),
        ("hotel-sol", Channel::Telegram, "-100/42")
    );
    let id = session_stream_id(&tenant, channel, &guest);
    assert_eq!(conversation_of(&id), Some((tenant, channel, guest)));
    assert!(conversation_of("no-slashes").is_none());
    assert!(
        conversation_of("hotel-sol/sms/1").is_none(),
        "no such channel"
    );
}
