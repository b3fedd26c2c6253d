//! Questions about the hotel, answered from its own facts in the guest's locale. A question in
//! the middle of a booking is answered without losing the booking: the quote still stands.

use conserje_domain::hotel::HotelProfile;
use conserje_domain::understanding::{HotelTopic, Locale};
use serde_json::json;

use super::talk::Talk;
use crate::replies::ReplyKind;
use crate::CommandError;

/// The topics `profile` has a fact about, in the order guests are offered them.
pub(super) fn known_topics(profile: &HotelProfile, locale: Locale) -> Vec<HotelTopic> {
    HotelTopic::ALL
        .into_iter()
        .filter(|t| profile.fact(*t, locale).is_some())
        .collect()
}

/// The most facts one message is answered with: a guest who lists more gets the menu's worth.
const MAX_FACTS_PER_MESSAGE: usize = 3;

/// Answers a question about `topics`, one fact each ("two questions: breakfast and pets?" gets
/// both); none the hotel has a fact for: the topics it can talk about.
pub(super) fn answer(
    profile: &HotelProfile,
    topics: &[HotelTopic],
    talk: &mut Talk<'_>,
) -> Result<(), CommandError> {
    let facts: Vec<&str> = topics
        .iter()
        .filter_map(|t| profile.fact(*t, talk.locale))
        .take(MAX_FACTS_PER_MESSAGE)
        .collect();
    if !facts.is_empty() {
        for fact in facts {
            talk.say(ReplyKind::HotelFact, json!({ "fact": fact }))?;
        }
        return Ok(());
    }
    let topics = known_topics(profile, talk.locale)
        .into_iter()
        .map(|t| talk.word(ReplyKind::topic(t), json!({})))
        .collect::<Result<Vec<_>, _>>()?;
    if topics.is_empty() {
        talk.say(ReplyKind::NoFacts, json!({ "contact": profile.contact }))
    } else {
        talk.say(
            ReplyKind::HotelInfoMenu,
            json!({ "topics": topics.join(", ") }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replies::ReplyBook;
    use conserje_domain::hotel::TextKey;
    use conserje_domain::understanding::Language;

    fn profile() -> HotelProfile {
        let mut profile = HotelProfile::default();
        profile.facts.insert(
            HotelTopic::Breakfast,
            [
                (
                    TextKey::Language(Language::Pt),
                    "O café da manhã é às 7.".to_owned(),
                ),
                (
                    TextKey::Locale(Locale::PtPt),
                    "O pequeno-almoço é às 7.".to_owned(),
                ),
                (
                    TextKey::Language(Language::En),
                    "Breakfast is at 7.".to_owned(),
                ),
            ]
            .into(),
        );
        profile
    }

    #[test]
    fn a_fact_is_given_in_the_guests_variant_or_its_language() {
        let book = ReplyBook::built_in().unwrap();
        let profile = profile();
        for (locale, expected) in [
            (Locale::PtPt, "O pequeno-almoço é às 7."),
            (Locale::PtBr, "O café da manhã é às 7."),
            (Locale::Es, "Breakfast is at 7."),
        ] {
            let mut talk = Talk::new(&book, &profile, locale);
            answer(&profile, &[HotelTopic::Breakfast], &mut talk).unwrap();
            assert_eq!(talk.replies[0].text, expected);
        }
    }

    #[test]
    fn two_questions_get_two_facts() {
        let book = ReplyBook::built_in().unwrap();
        let mut profile = profile();
        profile.facts.insert(
            HotelTopic::Pets,
            [(TextKey::Language(Language::En), "Pets welcome.".to_owned())].into(),
        );
        let mut talk = Talk::new(&book, &profile, Locale::En);
        answer(
            &profile,
            &[HotelTopic::Breakfast, HotelTopic::Pets],
            &mut talk,
        )
        .unwrap();
        let texts: Vec<_> = talk.replies.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["Breakfast is at 7.", "Pets welcome."]);
    }

    #[test]
    fn an_unknown_topic_offers_the_known_ones() {
        let book = ReplyBook::built_in().unwrap();
        let profile = profile();
        let mut talk = Talk::new(&book, &profile, Locale::En);
        answer(&profile, &[HotelTopic::Pets], &mut talk).unwrap();
        assert_eq!(talk.replies[0].template, "hotel_info_menu");
        assert!(talk.replies[0].text.contains("breakfast"));
        let empty = HotelProfile::default();
        let mut talk = Talk::new(&book, &empty, Locale::En);
        answer(&empty, &[], &mut talk).unwrap();
        assert_eq!(talk.replies[0].template, "no_facts");
    }
}
