//! QloApps' decimal text ↔ conserje's integer minor units, without floating point.
//!
//! QloApps prints prices the PHP way: `121.000000` from the database, `121` or `24.2` from a
//! float cast, now and then a float's noise (`121.00000000000001`) or an exponent (`1.0E-5`).
//! Going through `f64` would turn `0.29` into 28 cents on truncation; parsing the digits keeps
//! every price exact and rounds once, half away from zero, to the currency's minor unit.

/// ISO 4217 currencies without a minor unit: a price of 12000 JPY is 12000 minor units, not
/// 1200000. Every other currency is taken as two decimals, as the rest of conserje formats
/// money (three-decimal currencies such as KWD are rounded to two decimals).
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
];

/// How many decimals `currency`'s minor unit has (0 or 2).
pub(crate) fn decimals(currency: &str) -> u32 {
    if ZERO_DECIMAL
        .iter()
        .any(|code| code.eq_ignore_ascii_case(currency.trim()))
    {
        0
    } else {
        2
    }
}

/// `text` (a decimal as QloApps prints it) in minor units of `currency`, rounded half away
/// from zero; `None` when it is not a number.
pub(crate) fn parse_minor(text: &str, currency: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], unsigned[at + 1..].parse::<i32>().ok()?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // All the digits, and where the decimal point sits among them once the exponent and the
    // currency's minor unit have moved it: `digits[..point]` are whole minor units.
    let digits: Vec<u8> = whole
        .bytes()
        .chain(fraction.bytes())
        .map(|b| b - b'0')
        .collect();
    let point = whole.len() as i64 + i64::from(exponent) + i64::from(decimals(currency));
    let mut minor: i64 = 0;
    for position in 0..point.max(0) {
        let digit = digits.get(position as usize).copied().unwrap_or(0);
        minor = minor.checked_mul(10)?.checked_add(i64::from(digit))?;
    }
    // Only the first dropped digit decides: half (5) or more rounds away from zero. A point
    // left of every digit (`5E-4`) drops an implicit 0.
    let first_dropped = usize::try_from(point)
        .ok()
        .and_then(|p| digits.get(p).copied())
        .unwrap_or(0);
    if first_dropped >= 5 {
        minor = minor.checked_add(1)?;
    }
    Some(if negative { -minor } else { minor })
}

/// `minor` units of `currency` as the decimal text QloApps reads (`28000` EUR → `280.00`).
pub(crate) fn format_minor(minor: i64, currency: &str) -> String {
    let places = decimals(currency);
    if places == 0 {
        return minor.to_string();
    }
    let scale = 10_u64.pow(places);
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = places as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_exactly_in_the_currency_minor_unit() {
        assert_eq!(parse_minor("121.000000", "EUR"), Some(12100));
        assert_eq!(parse_minor("121", "EUR"), Some(12100));
        assert_eq!(parse_minor("24.2", "EUR"), Some(2420));
        assert_eq!(parse_minor("0.29", "EUR"), Some(29));
        assert_eq!(parse_minor(".5", "EUR"), Some(50));
        assert_eq!(parse_minor("121.00000000000001", "EUR"), Some(12100));
        assert_eq!(parse_minor("-3.5", "EUR"), Some(-350));
        assert_eq!(parse_minor(" 12000.000000 ", "JPY"), Some(12000));
        assert_eq!(parse_minor("12000.5", "jpy"), Some(12001));
    }

    #[test]
    fn prices_round_half_away_from_zero() {
        assert_eq!(parse_minor("123.456667", "EUR"), Some(12346));
        assert_eq!(parse_minor("123.454999", "EUR"), Some(12345));
        assert_eq!(parse_minor("0.005", "EUR"), Some(1));
        assert_eq!(parse_minor("-0.005", "EUR"), Some(-1));
        assert_eq!(parse_minor("0.004", "EUR"), Some(0));
    }

    #[test]
    fn exponents_move_the_point() {
        assert_eq!(parse_minor("1.21E+2", "EUR"), Some(12100));
        assert_eq!(parse_minor("1.0E-5", "EUR"), Some(0));
        assert_eq!(parse_minor("5E-3", "EUR"), Some(1));
        assert_eq!(parse_minor("4E-3", "EUR"), Some(0));
    }

    #[test]
    fn what_is_not_a_number_is_refused() {
        for text in [
            "",
            "-",
            ".",
            "abc",
            "1,5",
            "1.2.3",
            "0x10",
            "1e",
            "99999999999999999999",
        ] {
            assert_eq!(parse_minor(text, "EUR"), None, "{text:?}");
        }
    }

    #[test]
    fn minor_units_print_as_qloapps_reads_them() {
        assert_eq!(format_minor(28000, "EUR"), "280.00");
        assert_eq!(format_minor(5, "EUR"), "0.05");
        assert_eq!(format_minor(-150, "EUR"), "-1.50");
        assert_eq!(format_minor(28000, "JPY"), "28000");
    }
}
