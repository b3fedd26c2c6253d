//! Numbers in configuration that may arrive as text: a file writes `id_hotel = 1`, an
//! environment variable can only say `"1"`. Used with `#[serde(deserialize_with = …)]` on the
//! numeric settings only, so a setting that is text (a phone number id of digits) stays text.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Number(u64),
    Text(String),
}

fn convert<T: TryFrom<u64> + FromStr, E: serde::de::Error>(raw: Raw) -> Result<T, E> {
    let invalid = |shown: String| E::custom(format!("{shown:?} is not a whole number in range"));
    match raw {
        Raw::Number(n) => T::try_from(n).map_err(|_| invalid(n.to_string())),
        Raw::Text(text) => text.trim().parse().map_err(|_| invalid(text)),
    }
}

/// A whole number, written as a number or as text.
pub fn number<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64> + FromStr,
{
    convert(Raw::deserialize(deserializer)?)
}

/// An optional whole number, written as a number or as text (use with `#[serde(default)]`).
pub fn optional_number<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64> + FromStr,
{
    convert(Raw::deserialize(deserializer)?).map(Some)
}

/// A table of whole numbers, each written as a number or as text.
pub fn numbers<'de, D, T>(deserializer: D) -> Result<BTreeMap<String, T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64> + FromStr,
{
    BTreeMap::<String, Raw>::deserialize(deserializer)?
        .into_iter()
        .map(|(k, raw)| convert(raw).map(|v| (k, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct S {
        #[serde(deserialize_with = "number")]
        a: u32,
        #[serde(default, deserialize_with = "optional_number")]
        b: Option<u8>,
        #[serde(default, deserialize_with = "numbers")]
        c: BTreeMap<String, u32>,
    }

    #[test]
    fn numbers_come_as_numbers_or_as_text() {
        let s: S = toml::from_str("a = \"7\"\nb = 3\nc = { x = \"11\", y = 12 }").unwrap();
        assert_eq!((s.a, s.b, s.c["x"], s.c["y"]), (7, Some(3), 11, 12));
        let s: S = toml::from_str("a = 1").unwrap();
        assert_eq!(s.b, None);
        let err = toml::from_str::<S>("a = \"seven\"")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("\"seven\" is not a whole number"), "{err}");
        assert!(toml::from_str::<S>("a = 1\nb = 300").is_err());
    }
}
