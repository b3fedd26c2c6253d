use super::*;

fn today() -> NaiveDate {
    "2026-11-22".parse().unwrap()
}

const README_EXAMPLE: &str = r#"
title = "books a double in pieces, hyphen range, yes in words"
locale = "en"
channel = "whatsapp"
name = "Emma"
covers = ["pieces", "date_dash", "context_yes"]

[[turn]]
guest = "hi! do you have a double for {M+2/08|mon} {M+2/08|d} - {M+2/11|d}?"
expect = ["ask_guests"]
slots = { check_in = "M+2/08", check_out = "M+2/11", room_type = "double" }

[[turn]]
guest = "2 of us"
expect = ["quote"]
says = "{M+2/08|yyyy}"

[[turn]]
guest = "great, go ahead and book it"
expect = ["ask_email|quote"]
intent = "affirm"
slots = { email = "", guests = 2 }

[[turn]]
guest = "emma.w@example.com"
expect = ["booked"]

[final]
bookings = [{ room = "double", check_in = "M+2/08", check_out = "M+2/11", guests = 2, status = "confirmed" }]
handoff = false
"#;

#[test]
fn the_readme_example_loads_with_its_dates_resolved() {
    let story = parse(README_EXAMPLE, "en", today()).unwrap();
    assert_eq!(story.locale, Locale::En);
    assert_eq!(story.channel, Channel::WhatsApp);
    assert_eq!(story.name.as_deref(), Some("Emma"));
    assert_eq!(story.turns.len(), 4);
    let first = &story.turns[0];
    assert_eq!(first.expect, Some(vec![vec!["ask_guests".to_owned()]]));
    assert_eq!(
        first.slots.check_in,
        Some(Some("2027-01-08".parse().unwrap()))
    );
    assert_eq!(first.slots.room_type, Some(Some("double".to_owned())));
    assert_eq!(first.slots.guests, None);
    assert_eq!(story.turns[1].says, vec!["{M+2/08|yyyy}".to_owned()]);
    let third = &story.turns[2];
    assert_eq!(
        third.expect,
        Some(vec![vec!["ask_email".to_owned(), "quote".to_owned()]])
    );
    assert_eq!(third.slots.email, Some(None));
    assert_eq!(third.slots.guests, Some(Some(2)));
    assert_eq!(third.intent.as_deref(), Some("affirm"));
    let bookings = story.bookings.unwrap();
    assert_eq!(bookings[0].check_out, "2027-01-11".parse().unwrap());
    assert_eq!(story.handoff, Some(false));
}

fn error_of(text: &str, folder: &str) -> String {
    parse(text, folder, today()).expect_err("the story is refused")
}

#[test]
fn broken_stories_are_refused_naming_the_field() {
    let base = "title = \"t\"\nlocale = \"es\"\nchannel = \"telegram\"\n";
    let cases = [
        ("title = \"t\"\nlocale = \"es\"\n", "es", "channel"),
        (&format!("{base}[[turn]]\nguest = \"hola\"\nexpec = []\n"), "es", "expec"),
        (&format!("{base}[[turn]]\nguest = \"hola\"\n"), "en", "filed under en/"),
        (
            &format!("{base}[[turn]]\nguest = \"hola {{M+1/32|d}}\"\n"),
            "es",
            "turn 1, guest",
        ),
        (
            &format!("{base}[[turn]]\nguest = \"a\"\n[[turn]]\nguest = \"b\"\nslots = {{ check_out = \"W+1/lun\" }}\n"),
            "es",
            "turn 2, slots.check_out",
        ),
        (
            &format!("{base}[[turn]]\nguest = \"a\"\nslots = {{ guests = \"two\" }}\n"),
            "es",
            "slots.guests",
        ),
        (
            &format!("{base}[[turn]]\nguest = \"a\"\nsays = [\"{{today|month\"]\n"),
            "es",
            "says[0]",
        ),
        (
            &format!("{base}[[turn]]\nguest = \"a\"\nexpect = [\"quote|\"]\n"),
            "es",
            "expect[0]",
        ),
        (
            &format!("{base}[[turn]]\nguest = \"a\"\n[final]\nbookings = [{{ room = \"double\", check_in = \"M+1/01\", check_out = \"mañana\", guests = 2, status = \"confirmed\" }}]\n"),
            "es",
            "[final] bookings[0].check_out",
        ),
        (base, "es", "no [[turn]]"),
        (
            "title = \"t\"\nlocale = \"pt\"\nchannel = \"whatsapp\"\n[[turn]]\nguest = \"oi\"\n",
            "pt-BR",
            "locale",
        ),
        (
            "title = \"t\"\nlocale = \"es\"\nchannel = \"sms\"\n[[turn]]\nguest = \"hola\"\n",
            "es",
            "channel",
        ),
        ("this is = not toml [", "es", "not a valid story"),
    ];
    for (text, folder, field) in cases {
        let error = error_of(text, folder);
        assert!(error.contains(field), "{text}\n=> {error}");
    }
}

#[test]
fn booking_ref_is_accepted_at_load_time() {
    let text = "title = \"t\"\nlocale = \"pt-PT\"\nchannel = \"whatsapp\"\n\
                [[turn]]\nguest = \"cancelar a {booking_ref}\"\nsays = \"{booking_ref}\"\n";
    let story = parse(text, "pt-PT", today()).unwrap();
    assert_eq!(
        story.locale.language(),
        conserje_domain::understanding::Language::Pt
    );
    assert_eq!(story.turns[0].guest, "cancelar a {booking_ref}");
}

#[test]
fn a_typed_phone_number_becomes_the_guests_own_and_nothing_else_changes() {
    use crate::stories::play::own_phone_numbers;
    assert_eq!(
        own_phone_numbers("mi móvil es +44 7911 123456, gracias", 7),
        "mi móvil es +44 7911 120007, gracias"
    );
    assert_eq!(own_phone_numbers("612345678", 42), "612340042");
    for untouched in [
        "del 20 al 25 de diciembre",
        "2026-12-20 a 2026-12-25",
        "reserva HX48211234",
        "600,00 EUR",
        "somos 2 adultos y 1 niño",
    ] {
        assert_eq!(own_phone_numbers(untouched, 7), untouched);
    }
}
