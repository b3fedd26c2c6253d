//! Filling the slots of a stay from what each message names.

use chrono::Days;
use conserje_domain::session::Slots;
use conserje_domain::understanding::Entities;

/// Takes what `entities` names into `slots`. A new check-in drops a check-out that no longer
/// follows it, and a number of nights becomes a check-out as soon as there is a check-in.
pub fn merge(slots: &mut Slots, entities: &Entities) {
    if let Some(check_in) = entities.check_in {
        slots.check_in = Some(check_in);
        if entities.check_out.is_none() && slots.check_out.is_some_and(|out| out <= check_in) {
            slots.check_out = None;
        }
    }
    if let Some(check_out) = entities.check_out {
        slots.check_out = Some(check_out);
    }
    if let Some(nights) = entities.nights {
        slots.nights = Some(nights);
        if entities.check_out.is_none() {
            slots.check_out = None;
        }
    }
    if let (Some(check_in), None, Some(nights)) = (slots.check_in, slots.check_out, slots.nights) {
        slots.check_out = check_in.checked_add_days(Days::new(u64::from(nights)));
    }
    if let Some(guests) = entities.guests {
        slots.guests = Some(guests);
    }
    if let Some(room_type) = &entities.room_type {
        slots.room_type = Some(room_type.clone());
    }
    if let Some(email) = &entities.email {
        slots.email = Some(email.clone());
    }
    if let Some(phone) = &entities.phone {
        slots.phone = Some(phone.clone());
    }
}

/// A message that is only a number ("2", "dos", "two", "duas"): the answer to "how many guests?".
pub fn bare_count(text: &str) -> Option<u32> {
    let word = text.trim().trim_end_matches(['.', '!', ' ']).to_lowercase();
    if let Ok(n) = word.parse::<u32>() {
        return (1..=20).contains(&n).then_some(n);
    }
    const WORDS: [(&[&str], u32); 6] = [
        (&["uno", "una", "one", "um", "uma"], 1),
        (&["dos", "two", "dois", "duas"], 2),
        (&["tres", "three", "três"], 3),
        (&["cuatro", "four", "quatro"], 4),
        (&["cinco", "five"], 5),
        (&["seis", "six"], 6),
    ];
    WORDS
        .iter()
        .find(|(words, _)| words.contains(&word.as_str()))
        .map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn nights_become_a_check_out_once_there_is_a_check_in() {
        let mut slots = Slots::default();
        merge(
            &mut slots,
            &Entities {
                nights: Some(3),
                ..Entities::default()
            },
        );
        assert_eq!(slots.check_out, None);
        merge(
            &mut slots,
            &Entities {
                check_in: Some(d("2026-12-20")),
                ..Entities::default()
            },
        );
        assert_eq!(slots.check_out, Some(d("2026-12-23")));
    }

    #[test]
    fn a_later_check_in_drops_a_check_out_before_it() {
        let mut slots = Slots {
            check_in: Some(d("2026-12-01")),
            check_out: Some(d("2026-12-03")),
            ..Slots::default()
        };
        merge(
            &mut slots,
            &Entities {
                check_in: Some(d("2026-12-10")),
                ..Entities::default()
            },
        );
        assert_eq!(
            (slots.check_in, slots.check_out),
            (Some(d("2026-12-10")), None)
        );
    }

    #[test]
    fn bare_counts_in_three_languages() {
        assert_eq!(bare_count("2"), Some(2));
        assert_eq!(bare_count("Dos"), Some(2));
        assert_eq!(bare_count("duas."), Some(2));
        assert_eq!(bare_count("three"), Some(3));
        assert_eq!(bare_count("0"), None);
        assert_eq!(bare_count("2 adultos y un niño"), None);
    }
}
