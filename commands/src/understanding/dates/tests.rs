//! The date grammar, against a fixed today.

use super::*;
use crate::understanding::text::tokens;

/// A Monday.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(if m >= 11 { 2026 } else { 2027 }, m, day).unwrap()
}

fn dates_on(text: &str, today: NaiveDate) -> StayDates {
    let words = tokens(text);
    find(&words, &vec![false; words.len()], today, None)
}

fn dates(text: &str) -> (Option<NaiveDate>, Option<NaiveDate>, Option<u32>) {
    let s = dates_on(text, today());
    (s.check_in, s.check_out, s.nights)
}

fn ymd(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A Tuesday, a month before the year ends.
fn december_first() -> NaiveDate {
    ymd(2026, 12, 1)
}

/// Check-in and check-out of `text` on `today`, with an optional anchor.
fn stay(
    text: &str,
    today: NaiveDate,
    anchor: Option<NaiveDate>,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let words = tokens(text);
    let s = find(&words, &vec![false; words.len()], today, anchor);
    (s.check_in, s.check_out)
}

fn range(from: NaiveDate, to: NaiveDate) -> (Option<NaiveDate>, Option<NaiveDate>) {
    (Some(from), Some(to))
}

#[test]
fn ranges_in_three_languages() {
    let expected = (Some(d(12, 20)), Some(d(12, 25)), None);
    assert_eq!(dates("del 20 al 25 de diciembre"), expected);
    assert_eq!(dates("from Dec 20 to 25"), expected);
    assert_eq!(dates("de 20 a 25 de dezembro"), expected);
    assert_eq!(dates("december 20th to the 25th"), expected);
    assert_eq!(dates("20-25 dezembro"), expected);
    assert_eq!(dates("entre el 20/12 y el 25/12"), expected);
    assert_eq!(
        dates("del 28 de diciembre al 3 de enero"),
        (Some(d(12, 28)), Some(d(1, 3)), None)
    );
    assert_eq!(
        dates("del 28 al 3 de enero"),
        (Some(d(12, 28)), Some(d(1, 3)), None)
    );
}

#[test]
fn tomorrow_in_three_languages() {
    for text in ["mañana", "manana", "tomorrow", "amanhã", "amanha"] {
        assert_eq!(dates(text), (Some(d(11, 17)), None, None), "{text}");
    }
    for text in [
        "pasado mañana",
        "the day after tomorrow",
        "depois de amanhã",
    ] {
        assert_eq!(dates(text), (Some(d(11, 18)), None, None), "{text}");
    }
    assert_eq!(dates("mañana por la mañana"), (Some(d(11, 17)), None, None));
}

#[test]
fn next_weekend_in_three_languages() {
    let coming = (Some(d(11, 20)), Some(d(11, 22)), None);
    for text in [
        "next weekend",
        "el fin de semana que viene",
        "próximo fim de semana",
        "este finde",
        "this weekend",
    ] {
        assert_eq!(dates(text), coming, "{text}");
    }
    let saturday = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    let s = dates_on("next weekend", saturday);
    assert_eq!(
        (s.check_in, s.check_out),
        (Some(d(11, 27)), Some(d(11, 29)))
    );
    let s = dates_on("este fin de semana", saturday);
    assert_eq!(
        (s.check_in, s.check_out),
        (Some(d(11, 21)), Some(d(11, 22)))
    );
}

#[test]
fn nights_in_three_languages() {
    assert_eq!(dates("for three nights"), (None, None, Some(3)));
    assert_eq!(dates("quiero quedarme 91 noches"), (None, None, Some(91)));
    assert_eq!(dates("por tres noches"), (None, None, Some(3)));
    assert_eq!(dates("por 3 noites"), (None, None, Some(3)));
    assert_eq!(dates("por una semana"), (None, None, Some(7)));
    assert_eq!(dates("vamos ficar uma semana"), (None, None, Some(7)));
    let with_start = (Some(d(11, 20)), Some(d(11, 23)), Some(3));
    assert_eq!(dates("three nights from friday"), with_start);
    assert_eq!(dates("3 noches desde el viernes"), with_start);
    assert_eq!(dates("3 noites a partir de sexta"), with_start);
}

#[test]
fn check_out_only_and_with_check_in() {
    assert_eq!(dates("saindo dia 6"), (None, Some(d(12, 6)), None));
    assert_eq!(
        dates("chegando sexta, saindo dia 6"),
        (Some(d(11, 20)), Some(d(12, 6)), None)
    );
    assert_eq!(
        dates("llegamos el 18 y salimos el 20"),
        (Some(d(11, 18)), Some(d(11, 20)), None)
    );
    assert_eq!(dates("leaving on the 6th"), (None, Some(d(12, 6)), None));
}

#[test]
fn single_dates_resolve_to_the_next_occurrence() {
    assert_eq!(dates("el 15 de mayo"), (Some(d(5, 15)), None, None));
    assert_eq!(dates("on the 10th"), (Some(d(12, 10)), None, None));
    assert_eq!(dates("no dia 20"), (Some(d(11, 20)), None, None));
    assert_eq!(dates("20/11/2026"), (Some(d(11, 20)), None, None));
    assert_eq!(dates("2027-01-05"), (Some(d(1, 5)), None, None));
    assert_eq!(dates("el viernes"), (Some(d(11, 20)), None, None));
    assert_eq!(dates("next monday"), (Some(d(11, 23)), None, None));
}

#[test]
fn quantities_and_times_are_not_dates() {
    assert_eq!(dates("para 2 personas"), (None, None, None));
    assert_eq!(dates("a las 15 horas"), (None, None, None));
    assert_eq!(dates("cuesta 120 euros"), (None, None, None));
}

#[test]
fn ranges_with_a_hyphen_or_a_dash() {
    let january = (Some(d(1, 8)), Some(d(1, 11)), None);
    for text in [
        "Jan 8 - 11",
        "jan 8-11",
        "8-11 enero",
        "from jan 8 – 11th",
        "del 8 - 11 de enero",
    ] {
        assert_eq!(dates(text), january, "{text}");
    }
    let march = (Some(d(3, 8)), Some(d(3, 11)), None);
    for text in ["8 – 11 de março", "08/03 - 11/03", "8-11 march", "mar 8—11"] {
        assert_eq!(dates(text), march, "{text}");
    }
    let december = (Some(d(12, 8)), Some(d(12, 11)), None);
    for text in ["8–11", "8—11", "from the 8th - 11th", "del 8 - 11", "8 -11"] {
        assert_eq!(dates(text), december, "{text}");
    }
    assert_eq!(
        dates("dec 20 – jan 2"),
        (Some(d(12, 20)), Some(d(1, 2)), None)
    );
    let numeric = (Some(d(12, 20)), Some(d(12, 25)), None);
    for text in [
        "20/12-25/12",
        "20/12/2026-25/12/2026",
        "2026-12-20 - 2026-12-25",
    ] {
        assert_eq!(dates(text), numeric, "{text}");
    }
    // A day, then a stay length.
    assert_eq!(
        dates("para el 20 - 3 noches"),
        (Some(d(11, 20)), Some(d(11, 23)), Some(3))
    );
}

#[test]
fn a_dash_between_hours_or_counts_is_no_stay() {
    assert_eq!(dates("a las 15 - 17"), (None, None, None));
    assert_eq!(dates("check-in 15:00 - 17:00"), (None, None, None));
    assert_eq!(dates("de 2 a 3 personas"), (None, None, None));
    assert_eq!(dates("3 a 4 noches"), (None, None, Some(4)));
    assert_eq!(dates("covid-19"), (None, None, None));
}

#[test]
fn ranges_of_bare_days() {
    let expected = (Some(d(12, 10)), Some(d(12, 14)), None);
    for text in [
        "from the 10th to the 14th",
        "the 10th to 14th",
        "10th-14th",
        "10 to 14",
        "del 10 al 14",
        "do dia 10 ao dia 14",
        "de 10 a 14",
    ] {
        assert_eq!(dates(text), expected, "{text}");
    }
    assert_eq!(
        dates("del 28 al 3"),
        (Some(d(11, 28)), Some(d(12, 3)), None)
    );
}

#[test]
fn weekday_ranges_in_three_languages() {
    let cases = [
        ("monday to wednesday", (16, 18)),
        ("de lunes a miércoles", (16, 18)),
        ("de segunda a quarta", (16, 18)),
        ("segunda a quarta", (16, 18)),
        ("from Monday to Wednesday", (16, 18)),
        ("del viernes al domingo", (20, 22)),
        ("sexta a domingo", (20, 22)),
        ("de terça a sexta", (17, 20)),
        ("del viernes al lunes", (20, 23)),
        ("da próxima segunda a quarta", (23, 25)),
        ("from Monday to Wednesday next week", (23, 25)),
        ("next week from tuesday to friday", (24, 27)),
        ("la semana que viene de lunes a jueves", (23, 26)),
        ("la próxima semana del martes al jueves", (24, 26)),
        ("semana que vem de segunda a sexta", (23, 27)),
        ("na próxima semana, de quarta a sexta-feira", (25, 27)),
    ];
    for (text, (from, to)) in cases {
        assert_eq!(
            stay(text, today(), None),
            range(d(11, from), d(11, to)),
            "{text}"
        );
    }
    // The check-out is the first such weekday after the check-in, not after today.
    let saturday = ymd(2026, 11, 21);
    assert_eq!(
        stay("del viernes al domingo", saturday, None),
        range(d(11, 27), d(11, 29))
    );
    let thursday = ymd(2026, 11, 19);
    assert_eq!(
        stay("from monday to wednesday", thursday, None),
        range(d(11, 23), d(11, 25))
    );
    assert_eq!(
        stay("chegando sexta, saindo domingo", saturday, None),
        range(d(11, 27), d(11, 29))
    );
    // "next weekend" is not "next week".
    assert_eq!(
        stay("el fin de semana que viene", today(), None),
        range(d(11, 20), d(11, 22))
    );
}

#[test]
fn portuguese_ordinals_are_weekdays_only_with_a_cue() {
    assert_eq!(dates("a quarta noite"), (None, None, None));
    assert_eq!(dates("a segunda opção"), (None, None, None));
    assert_eq!(dates("quinta"), (None, None, None));
    assert_eq!(dates("na quarta"), (Some(d(11, 18)), None, None));
    assert_eq!(dates("quarta-feira"), (Some(d(11, 18)), None, None));
    assert_eq!(dates("de quinta"), (Some(d(11, 19)), None, None));
}

#[test]
fn written_years_are_kept() {
    let june_2028 = range(ymd(2028, 6, 2), ymd(2028, 6, 5));
    for text in [
        "June 2 to 5, 2028",
        "june 2 - 5, 2028",
        "from 2 to 5 june 2028",
        "del 2 al 5 de junio de 2028",
        "2/6/2028 - 5/6/2028",
        "de 2 a 5 de junho de 2028",
        "June 2, 2028 to June 5, 2028",
    ] {
        assert_eq!(stay(text, today(), None), june_2028, "{text}");
    }
    let march_2027 = range(ymd(2027, 3, 3), ymd(2027, 3, 6));
    assert_eq!(
        stay("march 3rd 2027 to march 6th 2027", today(), None),
        march_2027
    );
    assert_eq!(
        stay("march 3rd 2027 to march 6th", today(), None),
        march_2027
    );
    assert_eq!(
        stay("del 28 de diciembre al 3 de enero de 2028", today(), None),
        range(ymd(2027, 12, 28), ymd(2028, 1, 3))
    );
    // Too far or past: resolved exactly, for the dialogue to refuse.
    assert_eq!(
        stay("del 2 al 5 de junio de 2030", today(), None),
        range(ymd(2030, 6, 2), ymd(2030, 6, 5))
    );
    assert_eq!(
        stay("June 2 to 5, 2026", today(), None),
        range(ymd(2026, 6, 2), ymd(2026, 6, 5))
    );
}

#[test]
fn recent_past_dates_stay_in_the_past() {
    let today = december_first();
    assert_eq!(
        stay("nov 30 to dec 3", today, None),
        range(ymd(2026, 11, 30), ymd(2026, 12, 3))
    );
    let late_november = range(ymd(2026, 11, 29), ymd(2026, 12, 2));
    for text in [
        "del 29 de noviembre al 2 de diciembre",
        "del 29 al 2 de diciembre",
        "29/11 - 02/12",
        "de 29 de novembro a 2 de dezembro",
    ] {
        assert_eq!(stay(text, today, None), late_november, "{text}");
    }
    assert_eq!(
        stay("el 17 de noviembre", today, None),
        (Some(ymd(2026, 11, 17)), None)
    );
    assert_eq!(
        stay("saindo 30 de novembro", today, None),
        (None, Some(ymd(2026, 11, 30)))
    );
    // Further back than 14 days: next year's, as before.
    assert_eq!(
        stay("el 16 de noviembre", today, None),
        (Some(ymd(2027, 11, 16)), None)
    );
    assert_eq!(
        stay("del 10 al 12 de noviembre", today, None),
        range(ymd(2027, 11, 10), ymd(2027, 11, 12))
    );
    // Bare days: the next occurrence, as before.
    assert_eq!(
        stay("del 28 al 3", today, None),
        range(ymd(2026, 12, 28), ymd(2027, 1, 3))
    );
    // Across the new year.
    assert_eq!(
        stay("dec 28 to jan 2", ymd(2027, 1, 5), None),
        range(ymd(2026, 12, 28), ymd(2027, 1, 2))
    );
}

#[test]
fn ranges_over_the_new_year() {
    let today = december_first();
    let expected = range(ymd(2026, 12, 30), ymd(2027, 1, 2));
    for text in [
        "dec 30 - jan 2",
        "dec 30 to 2",
        "del 30 de diciembre al 2 de enero",
        "del 30 al 2 de enero",
        "30/12 – 02/01",
        "de 30 de dezembro a 2 de janeiro",
    ] {
        assert_eq!(stay(text, today, None), expected, "{text}");
    }
}

#[test]
fn an_anchor_gives_bare_days_its_month() {
    let anchor = Some(ymd(2027, 1, 20));
    let january = range(ymd(2027, 1, 10), ymd(2027, 1, 14));
    for text in [
        "actually make it the 10th to the 14th",
        "mejor del 10 al 14",
        "do dia 10 ao 14",
        "10th-14th",
    ] {
        assert_eq!(stay(text, today(), anchor), january, "{text}");
        assert_eq!(
            stay(text, today(), None),
            range(d(12, 10), d(12, 14)),
            "{text}"
        );
    }
    assert_eq!(
        stay("the 12th instead", today(), anchor),
        (Some(ymd(2027, 1, 12)), None)
    );
    let s = {
        let words = tokens("3 nights from the 12th");
        find(&words, &vec![false; words.len()], today(), anchor)
    };
    assert_eq!(
        (s.check_in, s.check_out),
        range(ymd(2027, 1, 12), ymd(2027, 1, 15))
    );
    // A bare check-out alone is the first such day after the anchor.
    assert_eq!(
        stay(
            "leaving the 2nd instead",
            ymd(2026, 12, 20),
            Some(ymd(2026, 12, 28))
        ),
        (None, Some(ymd(2027, 1, 2)))
    );
    // Explicit months and weekdays ignore the anchor.
    assert_eq!(
        stay("del 10 al 14 de diciembre", today(), anchor),
        range(d(12, 10), d(12, 14))
    );
    assert_eq!(stay("el viernes", today(), anchor), (Some(d(11, 20)), None));
}

#[test]
fn an_anchored_day_already_past_moves_to_the_next_month() {
    let today = ymd(2026, 12, 12);
    let anchor = Some(ymd(2026, 12, 20));
    assert_eq!(
        stay("mejor del 10 al 14", today, anchor),
        range(ymd(2027, 1, 10), ymd(2027, 1, 14))
    );
    // Before the anchor's day but not past: the anchor's month still.
    assert_eq!(
        stay("mejor del 15 al 18", today, anchor),
        range(ymd(2026, 12, 15), ymd(2026, 12, 18))
    );
    assert_eq!(
        stay("mejor del 15 al 18", today, Some(ymd(2027, 1, 20))),
        range(ymd(2027, 1, 15), ymd(2027, 1, 18))
    );
    assert_eq!(
        stay("the 22nd to the 26th", today, anchor),
        range(ymd(2026, 12, 22), ymd(2026, 12, 26))
    );
}

#[test]
fn the_replaced_value_of_a_correction_is_no_date() {
    assert_eq!(dates("vamos ser 3 em vez de 2"), (None, None, None));
    assert_eq!(dates("somos 3 en vez de 2"), (None, None, None));
    assert_eq!(
        dates("the 12th instead of the 10th"),
        (Some(d(12, 12)), None, None)
    );
    assert_eq!(
        dates("mejor el 12 en vez del 10"),
        (Some(d(12, 12)), None, None)
    );
    assert_eq!(
        dates("em vez do dia 10, dia 12"),
        (Some(d(12, 12)), None, None)
    );
}

#[test]
fn a_weekday_beside_a_date_only_restates_it() {
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let feb = |d| NaiveDate::from_ymd_opt(2027, 2, d).unwrap();
    for text in [
        "desde el sábado 13 de febrero hasta el martes 16",
        "coming down on Saturday the 13th of February and heading back on the Tuesday so that's the 16th",
        "chegando sábado dia 13 de fevereiro e voltando dia 16",
    ] {
        let s = dates_on(text, today);
        assert_eq!((s.check_in, s.check_out), (Some(feb(13)), Some(feb(16))), "{text}");
    }
    let s = dates_on("del viernes al domingo", today);
    assert!(
        s.check_in.is_some(),
        "weekday ranges without dates still count"
    );
}

#[test]
fn a_month_named_alone_places_the_bare_days() {
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let s = dates_on("e em fevereiro, do 10 ao 14?", today);
    assert_eq!(
        (s.check_in, s.check_out),
        (
            Some(NaiveDate::from_ymd_opt(2027, 2, 10).unwrap()),
            Some(NaiveDate::from_ymd_opt(2027, 2, 14).unwrap())
        )
    );
    let s = dates_on("may I come on the 10th?", today);
    assert_eq!(
        s.check_in,
        Some(NaiveDate::from_ymd_opt(2026, 12, 10).unwrap())
    );
}

#[test]
fn some_weekend_is_no_dates_yet() {
    for text in [
        "queremos escaparnos un finde a Madrid",
        "after a room for a weekend in madrid",
        "queremos passar um fim de semana em Madri",
    ] {
        let s = dates(text);
        assert_eq!((s.0, s.1), (None, None), "{text}");
    }
    assert!(dates("this weekend").0.is_some());
}
