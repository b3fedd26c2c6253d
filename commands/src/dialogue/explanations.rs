//! Telling the guest why something was not done, in their words: each booking rule has its own
//! reply, quoting the limits from the domain; anything the guest cannot fix is an error that
//! hands them to staff instead of leaving them without an answer.

use conserje_domain::session::{DialogueState, HandoffReason};
use conserje_domain::stay::StayError;
use serde_json::{json, Value};

use super::talk::{merged, rule_limits, Talk};
use super::Scene;
use crate::replies::ReplyKind;
use crate::CommandError;

/// Explains a refused command; anything else is an error the guest would otherwise see, so
/// staff take over.
pub(super) fn refusal(
    scene: &Scene<'_>,
    err: CommandError,
    state: &mut DialogueState,
    talk: &mut Talk<'_>,
) -> Result<Option<HandoffReason>, CommandError> {
    match err {
        CommandError::Refused { code, message } => {
            let context = merged(rule_limits(), json!({ "message": message }));
            let kind = ReplyKind::for_rule(code).unwrap_or(ReplyKind::RuleOther);
            talk.say(kind, context)?;
            Ok(None)
        }
        CommandError::NotFound(_) => {
            talk.say(ReplyKind::BookingNotFound, json!({}))?;
            Ok(None)
        }
        other => {
            tracing::error!(error = %other, tenant = %scene.tenant, "a guest's request failed; handing off");
            state.pending = None;
            talk.say(
                ReplyKind::HandoffError,
                json!({ "contact": scene.profile.contact }),
            )?;
            Ok(Some(HandoffReason::Error))
        }
    }
}

/// The reply that explains why a stay cannot be booked.
pub(super) fn stay_rule(err: &StayError) -> (ReplyKind, Value) {
    match err {
        StayError::StayTooLong { nights, max } => (
            ReplyKind::RuleStayTooLong,
            json!({ "nights": nights, "max": max }),
        ),
        StayError::CheckInInPast(_) => (ReplyKind::RuleCheckInInPast, json!({})),
        StayError::CheckOutNotAfterCheckIn => (ReplyKind::RuleCheckOutNotAfterCheckIn, json!({})),
        StayError::BookingTooFarAhead { .. } => (ReplyKind::RuleBookingTooFarAhead, json!({})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn every_stay_rule_has_its_own_reply_with_its_numbers() {
        let (kind, context) = stay_rule(&StayError::StayTooLong {
            nights: 91,
            max: 90,
        });
        assert_eq!(kind, ReplyKind::RuleStayTooLong);
        assert_eq!(context["nights"], 91);
        let past = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(
            stay_rule(&StayError::CheckInInPast(past)).0,
            ReplyKind::RuleCheckInInPast
        );
        assert_eq!(
            stay_rule(&StayError::BookingTooFarAhead {
                days: 400,
                max: 365
            })
            .0,
            ReplyKind::RuleBookingTooFarAhead
        );
    }

    #[test]
    fn a_refusal_code_without_its_own_reply_is_explained_generically() {
        assert_eq!(ReplyKind::for_rule("made_up"), None);
        assert_eq!(
            ReplyKind::for_rule("too_many_active_reservations"),
            Some(ReplyKind::RuleTooManyActiveReservations)
        );
    }
}
