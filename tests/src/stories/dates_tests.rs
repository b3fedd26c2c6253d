use super::*;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Sunday 22 November 2026: late in the year, so months roll over into the next.
fn sunday() -> NaiveDate {
    day("2026-11-22")
}

fn at(expr: &str, today: NaiveDate) -> NaiveDate {
    resolve(expr, today).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

#[test]
fn today_moves_by_days_across_months_and_years() {
    assert_eq!(at("today", sunday()), sunday());
    assert_eq!(at("today+10", sunday()), day("2026-12-02"));
    assert_eq!(at("today+40", sunday()), day("2027-01-01"));
    assert_eq!(at("today-1", sunday()), day("2026-11-21"));
    assert_eq!(at("today-22", sunday()), day("2026-10-31"));
    assert_eq!(at(" today+0 ", sunday()), sunday());
}

#[test]
fn month_expressions_roll_over_the_year() {
    assert_eq!(at("M+0/20", sunday()), day("2026-11-20"));
    assert_eq!(at("M+1/31", sunday()), day("2026-12-31"));
    assert_eq!(at("M+2/08", sunday()), day("2027-01-08"));
    assert_eq!(at("M+3/28", sunday()), day("2027-02-28"));
    assert_eq!(at("M+14/01", sunday()), day("2028-01-01"));
    // From the 31st the month still counts from the first, not by 30-day steps.
    assert_eq!(at("M+1/15", day("2027-01-31")), day("2027-02-15"));
}

#[test]
fn week_expressions_count_iso_weeks_from_this_one() {
    assert_eq!(at("W+0/mon", sunday()), day("2026-11-16"));
    assert_eq!(at("W+0/sun", sunday()), sunday());
    assert_eq!(at("W+1/mon", sunday()), day("2026-11-23"));
    assert_eq!(at("W+1/wed", sunday()), day("2026-11-25"));
    assert_eq!(at("W+6/fri", sunday()), day("2027-01-01"));
    let monday = day("2026-11-23");
    assert_eq!(at("W+0/mon", monday), monday);
    assert_eq!(at("W+1/sat", monday), day("2026-12-05"));
}

#[test]
fn year_expressions_name_a_day_of_a_later_year() {
    assert_eq!(at("Y+0/12/24", sunday()), day("2026-12-24"));
    assert_eq!(at("Y+1/03/15", sunday()), day("2027-03-15"));
    assert_eq!(at("Y+2/02/29", sunday()), day("2028-02-29"));
}

#[test]
fn invalid_expressions_are_rejected_with_the_reason() {
    for bad in [
        "",
        "tomorrow",
        "today+",
        "today+x",
        "today*3",
        "todayé",
        "today+-3",
        "M+2/8",
        "M+/08",
        "M-1/08",
        "M+1",
        "M+1/00",
        "M+3/31",
        "M+1/32",
        "W+1/monday",
        "W+1/Mon",
        "W+x/mon",
        "W+1",
        "Y+1/3/15",
        "Y+1/13/01",
        "Y+1/02/29",
        "Y+1/02/28/1",
        "2027-01-08",
    ] {
        let error = resolve(bad, sunday()).expect_err(bad);
        assert!(error.contains("date expression"), "{bad}: {error}");
    }
    assert!(resolve("M+3/31", sunday()).unwrap_err().contains("2027-02"));
}

/// Monday 8 March 2027.
fn march_8() -> NaiveDate {
    day("2027-03-08")
}

#[test]
fn numeric_formats_are_the_same_in_every_language() {
    for language in Language::ALL {
        assert_eq!(format(march_8(), "d", language).unwrap(), "8");
        assert_eq!(format(march_8(), "dd", language).unwrap(), "08");
        assert_eq!(format(march_8(), "mm", language).unwrap(), "03");
        assert_eq!(format(march_8(), "yyyy", language).unwrap(), "2027");
    }
    assert_eq!(format(day("2026-12-25"), "d", Language::Es).unwrap(), "25");
}

#[test]
fn names_are_written_in_the_story_language() {
    let cases = [
        (Language::Es, "marzo", "mar", "lunes"),
        (Language::En, "March", "Mar", "Monday"),
        (Language::Pt, "março", "mar", "segunda-feira"),
    ];
    for (language, month, mon, weekday) in cases {
        assert_eq!(format(march_8(), "month", language).unwrap(), month);
        assert_eq!(format(march_8(), "mon", language).unwrap(), mon);
        assert_eq!(format(march_8(), "weekday", language).unwrap(), weekday);
    }
}

#[test]
fn every_month_and_weekday_has_its_name() {
    let months: Vec<String> = (1..=12)
        .map(|m| NaiveDate::from_ymd_opt(2027, m, 1).unwrap())
        .map(|d| format(d, "mon", Language::Es).unwrap())
        .collect();
    assert_eq!(
        months.join(" "),
        "ene feb mar abr may jun jul ago sep oct nov dic"
    );
    let months: Vec<String> = (1..=12)
        .map(|m| NaiveDate::from_ymd_opt(2027, m, 1).unwrap())
        .map(|d| format(d, "mon", Language::Pt).unwrap())
        .collect();
    assert_eq!(
        months.join(" "),
        "jan fev mar abr mai jun jul ago set out nov dez"
    );
    let december = NaiveDate::from_ymd_opt(2027, 12, 1).unwrap();
    assert_eq!(
        format(december, "month", Language::Es).unwrap(),
        "diciembre"
    );
    assert_eq!(format(december, "month", Language::En).unwrap(), "December");
    assert_eq!(format(december, "month", Language::Pt).unwrap(), "dezembro");
    assert_eq!(format(december, "mon", Language::En).unwrap(), "Dec");
    // 14 March 2027 is a Sunday, 13 a Saturday, 10 a Wednesday.
    let sunday = day("2027-03-14");
    assert_eq!(format(sunday, "weekday", Language::Es).unwrap(), "domingo");
    assert_eq!(format(sunday, "weekday", Language::En).unwrap(), "Sunday");
    assert_eq!(format(sunday, "weekday", Language::Pt).unwrap(), "domingo");
    let saturday = day("2027-03-13");
    assert_eq!(format(saturday, "weekday", Language::Es).unwrap(), "sábado");
    assert_eq!(format(saturday, "weekday", Language::Pt).unwrap(), "sábado");
    let wednesday = day("2027-03-10");
    assert_eq!(
        format(wednesday, "weekday", Language::Es).unwrap(),
        "miércoles"
    );
    assert_eq!(
        format(wednesday, "weekday", Language::Pt).unwrap(),
        "quarta-feira"
    );
}

#[test]
fn unknown_formats_are_rejected() {
    for bad in ["", "D", "m", "yy", "Month", "day"] {
        assert!(format(march_8(), bad, Language::En).is_err(), "{bad:?}");
    }
}

fn context(language: Language, booking_ref: Option<&str>) -> Context<'_> {
    Context {
        today: sunday(),
        language,
        booking_ref,
    }
}

#[test]
fn placeholders_expand_in_text() {
    let en = context(Language::En, None);
    assert_eq!(
        expand(
            "hi! a double for {M+2/08|mon} {M+2/08|d} - {M+2/11|d}?",
            &en
        )
        .unwrap(),
        "hi! a double for Jan 8 - 11?"
    );
    let es = context(Language::Es, None);
    assert_eq!(
        expand("del {W+1/fri|weekday} {W+1/fri|d} de {W+1/fri|month}", &es).unwrap(),
        "del viernes 27 de noviembre"
    );
    let pt = context(Language::Pt, None);
    assert_eq!(
        expand("{Y+1/03/08|dd}/{Y+1/03/08|mm}/{Y+1/03/08|yyyy} 👍", &pt).unwrap(),
        "08/03/2027 👍"
    );
    assert_eq!(
        expand("no placeholders, ok", &pt).unwrap(),
        "no placeholders, ok"
    );
    let booked = context(Language::Es, Some("A1B2C3D4"));
    assert_eq!(
        expand("cancela la {booking_ref} porfa", &booked).unwrap(),
        "cancela la A1B2C3D4 porfa"
    );
}

#[test]
fn invalid_placeholders_are_rejected_with_the_reason() {
    let en = context(Language::En, None);
    let cases = [
        ("{M+2/08}", "EXPR|FORMAT"),
        ("{M+2/08|month", "without its"),
        ("M+2/08|month}", "without its"),
        ("{M+2/8|d}", "two digits"),
        ("{M+2/08|D}", "unknown date format"),
        ("{today+1|d} {nope|d}", "date expression \"nope\""),
        ("{{today|d}}", "inside a placeholder"),
        ("cancel {booking_ref}", "before the bot gave"),
        ("{booking_id}", "EXPR|FORMAT"),
    ];
    for (text, why) in cases {
        let error = expand(text, &en).expect_err(text);
        assert!(error.contains(why), "{text}: {error}");
    }
}
