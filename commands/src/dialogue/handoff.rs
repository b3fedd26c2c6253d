//! When the bot hands the guest to a person, and what it tells them.
//!
//! A guest who asks for a person gets one; so does an urgent request outside office hours, and a
//! conversation the bot keeps not understanding. A message read as the answer to the bot's own
//! question is understood, whatever the model's confidence: "a king would be nice" after "which
//! room type?" must never count towards a handoff (at night it loses the booking).

use conserje_domain::hotel::DeskStatus;
use conserje_domain::session::{DialogueState, HandoffReason};
use conserje_domain::understanding::{Intent, Understood};
use serde_json::json;

use super::format;
use super::talk::Talk;
use super::Scene;
use crate::replies::ReplyKind;
use crate::CommandError;

/// Words that make a request urgent, in the three languages ("urgente" covers es and pt).
pub(super) fn is_urgent(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["urgente", "urgent", "emergencia", "emergência", "emergency"]
        .iter()
        .any(|w| lower.contains(w))
}

/// Counts the turn towards the low-confidence streak and says whether it hands off, and why.
pub(super) fn reason(
    understood: &Understood,
    text: &str,
    desk: DeskStatus,
    threshold: f32,
    state: &mut DialogueState,
) -> Option<HandoffReason> {
    let confident = understood.confidence >= threshold || understood.from_context.is_some();
    state.low_confidence_streak = if confident {
        0
    } else {
        state.low_confidence_streak.saturating_add(1)
    };
    match understood.intent {
        Intent::TalkToHuman => Some(HandoffReason::GuestAsked),
        _ if is_urgent(text) && desk != DeskStatus::Open => Some(HandoffReason::Urgent),
        _ if state.low_confidence_streak >= 2 => Some(HandoffReason::LowConfidence),
        _ => None,
    }
}

/// Tells the guest a person takes over (and when, outside office hours) and clears what the bot
/// was waiting for.
pub(super) fn hand_off(
    scene: &Scene<'_>,
    reason: HandoffReason,
    desk: DeskStatus,
    state: &mut DialogueState,
    talk: &mut Talk<'_>,
) -> Result<Option<HandoffReason>, CommandError> {
    state.pending = None;
    state.low_confidence_streak = 0;
    match (desk, reason) {
        (_, HandoffReason::Urgent) => talk.say(ReplyKind::HandoffUrgent, json!({}))?,
        (DeskStatus::Closed { back_at }, _) => talk.say(
            ReplyKind::HandoffAfterHours,
            json!({ "back_at": format::back_at(back_at, scene.now.with_timezone(&scene.zone), talk.locale.language()) }),
        )?,
        (DeskStatus::Open, _) => talk.say(ReplyKind::Handoff, json!({}))?,
    }
    Ok(Some(reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use conserje_domain::understanding::{Entities, Expectation, Language};

    fn understood(intent: Intent, confidence: f32) -> Understood {
        Understood {
            language: Language::En,
            intent,
            confidence,
            entities: Entities::default(),
            locale: None,
            from_context: None,
            choice: None,
        }
    }

    #[test]
    fn two_unsure_turns_in_a_row_hand_off_unless_context_understood_them() {
        let mut state = DialogueState::default();
        let unsure = understood(Intent::OutOfScope, 0.2);
        assert_eq!(
            reason(&unsure, "hm", DeskStatus::Open, 0.45, &mut state),
            None
        );
        let mut answer = understood(Intent::MakeReservation, 0.2);
        answer.from_context = Some(Expectation::RoomType);
        assert_eq!(
            reason(
                &answer,
                "a king would be nice",
                DeskStatus::Open,
                0.45,
                &mut state
            ),
            None
        );
        assert_eq!(state.low_confidence_streak, 0);
        reason(&unsure, "hm", DeskStatus::Open, 0.45, &mut state);
        assert_eq!(
            reason(&unsure, "hm", DeskStatus::Open, 0.45, &mut state),
            Some(HandoffReason::LowConfidence)
        );
    }

    #[test]
    fn asking_for_a_person_or_urgency_after_hours_hands_off() {
        let mut state = DialogueState::default();
        let human = understood(Intent::TalkToHuman, 0.9);
        assert_eq!(
            reason(
                &human,
                "a person please",
                DeskStatus::Open,
                0.45,
                &mut state
            ),
            Some(HandoffReason::GuestAsked)
        );
        let closed = DeskStatus::Closed {
            back_at: chrono::TimeZone::with_ymd_and_hms(
                &chrono_tz::Europe::Madrid,
                2026,
                11,
                23,
                9,
                0,
                0,
            )
            .unwrap(),
        };
        let question = understood(Intent::HotelInfo, 0.9);
        assert_eq!(
            reason(
                &question,
                "URGENTE: no tengo agua",
                closed,
                0.45,
                &mut state
            ),
            Some(HandoffReason::Urgent)
        );
        assert_eq!(
            reason(&question, "urgente", DeskStatus::Open, 0.45, &mut state),
            None
        );
    }
}
