//! Which hotel fact a `hotel_info` question is about, by keywords in the three languages.

use conserje_domain::understanding::{HotelTopic, Language};

/// Keyword phrases (folded, matched as whole-word sequences) per topic and language, in the
/// order they are tried: the specific topics first, so that "can I cancel for free?" is the
/// cancellation policy and "check out" beats "check in".
fn keywords(language: Language) -> &'static [(HotelTopic, &'static [&'static str])] {
    use HotelTopic::*;
    match language {
        Language::Es => &[
            (
                CancellationPolicy,
                &[
                    "politica de cancelacion",
                    "cancelar gratis",
                    "cancelacion gratuita",
                    "reembolso",
                    "cancelacion",
                    "devolucion",
                ],
            ),
            (
                Pets,
                &[
                    "mascota", "mascotas", "perro", "perros", "perra", "perrito", "perrita",
                    "gato", "gatos", "gatito", "animales", "animal",
                ],
            ),
            (
                Wifi,
                &[
                    "wifi",
                    "wi fi",
                    "wiffi",
                    "internet",
                    "contrasena",
                    "clave del wifi",
                    "red wifi",
                ],
            ),
            (
                Breakfast,
                &["desayuno", "desayunos", "desayunar", "desayunamos"],
            ),
            (
                Parking,
                &[
                    "parking",
                    "aparcamiento",
                    "aparcar",
                    "garaje",
                    "estacionamiento",
                    "estacionar",
                    "aparco",
                    "aparcamos",
                    "coche",
                    "coches",
                    "parquin",
                    "parqueadero",
                    "parqueo",
                    "plaza de parking",
                    "carro",
                ],
            ),
            (
                CheckOutTime,
                &[
                    "check out",
                    "checkout",
                    "salida",
                    "dejar la habitacion",
                    "late checkout",
                    "irnos",
                    "salir",
                    "salimos",
                    "salgamos",
                    "ultimo dia",
                ],
            ),
            (
                Location,
                &[
                    "donde",
                    "direccion",
                    "ubicacion",
                    "como llego",
                    "como llegar",
                    "aeropuerto",
                    "estacion",
                    "centro",
                    "metro",
                    "situado",
                ],
            ),
            (
                CheckInTime,
                &[
                    "check in", "checkin", "entrada", "llegar", "llegada", "entrar",
                ],
            ),
        ],
        Language::En => &[
            (
                CancellationPolicy,
                &[
                    "cancellation policy",
                    "cancel for free",
                    "free cancellation",
                    "refund",
                    "cancellation",
                    "refundable",
                ],
            ),
            (
                Pets,
                &[
                    "pet", "pets", "dog", "dogs", "doggy", "cat", "cats", "kitten", "animal",
                    "animals", "puppy", "puppies",
                ],
            ),
            (
                Wifi,
                &["wifi", "wi fi", "internet", "wireless", "password", "pw"],
            ),
            (Breakfast, &["breakfast", "breakfasts", "brekkie"]),
            (
                Parking,
                &[
                    "parking", "park", "parked", "garage", "car", "cars", "car park", "carpark",
                    "valet",
                ],
            ),
            (
                CheckOutTime,
                &[
                    "check out",
                    "checkout",
                    "leave the room",
                    "late checkout",
                    "vacate",
                    "last day",
                ],
            ),
            (
                Location,
                &[
                    "where",
                    "address",
                    "location",
                    "located",
                    "get there",
                    "airport",
                    "station",
                    "center",
                    "centre",
                    "downtown",
                ],
            ),
            (
                CheckInTime,
                &["check in", "checkin", "arrive", "arrival", "get the keys"],
            ),
        ],
        Language::Pt => &[
            (
                CancellationPolicy,
                &[
                    "politica de cancelamento",
                    "cancelar de graca",
                    "cancelamento gratis",
                    "reembolso",
                    "cancelamento",
                ],
            ),
            (
                Pets,
                &[
                    "animal",
                    "animais",
                    "pet",
                    "pets",
                    "cachorro",
                    "cachorros",
                    "cachorrinho",
                    "cao",
                    "caes",
                    "cadela",
                    "gato",
                    "gatos",
                    "gatinho",
                ],
            ),
            (
                Wifi,
                &[
                    "wifi",
                    "wi fi",
                    "internet",
                    "net",
                    "senha",
                    "palavra passe",
                    "password",
                ],
            ),
            (Breakfast, &["cafe da manha", "pequeno almoco", "cafe"]),
            (
                Parking,
                &[
                    "estacionamento",
                    "a vaga",
                    "vaga para o carro",
                    "vaga pro carro",
                    "vaga de garagem",
                    "estacionar",
                    "estaciono",
                    "estacionamos",
                    "parque de estacionamento",
                    "garagem",
                    "parking",
                    "carro",
                    "carros",
                    "viatura",
                ],
            ),
            (
                CheckOutTime,
                &[
                    "check out",
                    "checkout",
                    "saida",
                    "deixar o quarto",
                    "sair",
                    "ultimo dia",
                    "ficar no quarto",
                ],
            ),
            (
                Location,
                &[
                    "onde",
                    "endereco",
                    "localizacao",
                    "como chego",
                    "como chegar",
                    "aeroporto",
                    "estacao",
                    "centro",
                    "metro",
                    "fica",
                ],
            ),
            (
                CheckInTime,
                &[
                    "check in", "checkin", "entrada", "chegar", "chegada", "entrar",
                ],
            ),
        ],
    }
}

fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let parts: Vec<&str> = phrase.split(' ').collect();
    words
        .windows(parts.len())
        .any(|w| w.iter().zip(&parts).all(|(a, b)| a == b))
}

/// Every topic a message asks about, in the keywords' order ("what time is check out and do you
/// have parking?": both), from its language's keywords, or the others' when those find none.
pub fn topics(words: &[String], language: Language) -> Vec<HotelTopic> {
    let order =
        std::iter::once(language).chain(Language::ALL.into_iter().filter(|l| *l != language));
    for language in order {
        let mut found: Vec<HotelTopic> = keywords(language)
            .iter()
            .filter(|(_, phrases)| phrases.iter().any(|p| contains_phrase(words, p)))
            .map(|(topic, _)| *topic)
            .collect();
        // "onde deixo o carro?": "where" asks about the car, not the way to the hotel.
        let generic_where = ["onde", "where", "donde"];
        let located_only_by_where = keywords(language)
            .iter()
            .filter(|(t, _)| *t == HotelTopic::Location)
            .flat_map(|(_, phrases)| phrases.iter())
            .filter(|p| contains_phrase(words, p))
            .all(|p| generic_where.contains(p));
        if found.len() > 1 && located_only_by_where {
            found.retain(|t| *t != HotelTopic::Location);
        }
        if !found.is_empty() {
            return found;
        }
    }
    vec![]
}

/// The topic of a hotel question: the message's language first, then the other two (guests mix
/// "check in" and "wifi" into any language).
pub fn topic(words: &[String], language: Language) -> Option<HotelTopic> {
    let order =
        std::iter::once(language).chain(Language::ALL.into_iter().filter(|l| *l != language));
    for language in order {
        for (topic, phrases) in keywords(language) {
            if phrases.iter().any(|p| contains_phrase(words, p)) {
                return Some(*topic);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::understanding::text::tokens;

    fn of(text: &str, language: Language) -> Option<HotelTopic> {
        topic(&tokens(text), language)
    }

    #[test]
    fn cars_and_garages_are_parking_in_every_language() {
        use HotelTopic::Parking;
        assert_eq!(
            of("vamos en coche, tenéis garaje?", Language::Es),
            Some(Parking)
        );
        assert_eq!(of("dónde puedo estacionar?", Language::Es), Some(Parking));
        assert_eq!(of("where do i leave the car?", Language::En), Some(Parking));
        assert_eq!(of("is there a car park?", Language::En), Some(Parking));
        assert_eq!(of("onde deixo o carro?", Language::Pt), Some(Parking));
        assert_eq!(
            of("têm parque de estacionamento?", Language::Pt),
            Some(Parking)
        );
    }

    #[test]
    fn breakfast_wifi_and_pets_in_both_portugueses_and_beyond() {
        use HotelTopic::*;
        assert_eq!(
            of("a que horas é o pequeno-almoço?", Language::Pt),
            Some(Breakfast)
        );
        assert_eq!(
            of("o café da manhã é até que horas?", Language::Pt),
            Some(Breakfast)
        );
        assert_eq!(
            of("qual é a palavra-passe da net?", Language::Pt),
            Some(Wifi)
        );
        assert_eq!(of("me passa a senha?", Language::Pt), Some(Wifi));
        assert_eq!(of("cuál es la contraseña?", Language::Es), Some(Wifi));
        assert_eq!(of("what's the wi-fi password", Language::En), Some(Wifi));
        assert_eq!(of("posso levar o meu cão?", Language::Pt), Some(Pets));
        assert_eq!(of("can we bring the puppies?", Language::En), Some(Pets));
        assert_eq!(of("admiten a mi perrita?", Language::Es), Some(Pets));
    }

    #[test]
    fn two_questions_in_one_message_are_two_topics() {
        use HotelTopic::*;
        let found = topics(
            &tokens("what time is check out and you have parking for car?"),
            Language::En,
        );
        assert!(
            found.contains(&CheckOutTime) && found.contains(&Parking),
            "{found:?}"
        );
        let found = topics(
            &tokens("¿el desayuno va aparte? ¿y admitís perros pequeñitos?"),
            Language::Es,
        );
        assert!(
            found.contains(&Breakfast) && found.contains(&Pets),
            "{found:?}"
        );
    }

    #[test]
    fn leaving_late_is_the_check_out() {
        assert_eq!(
            of("el último día se puede salir más tarde?", Language::Es),
            Some(HotelTopic::CheckOutTime)
        );
        assert_eq!(
            of(
                "how long can we stay in the room on the last day?",
                Language::En
            ),
            Some(HotelTopic::CheckOutTime)
        );
    }
}
