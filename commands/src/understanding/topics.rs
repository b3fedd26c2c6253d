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
                    "mascota", "mascotas", "perro", "perros", "perrito", "gato", "gatos",
                    "animales", "animal",
                ],
            ),
            (Wifi, &["wifi", "wi fi", "internet", "contrasena del wifi"]),
            (Breakfast, &["desayuno", "desayunos", "desayunar"]),
            (
                Parking,
                &[
                    "parking",
                    "aparcamiento",
                    "aparcar",
                    "garaje",
                    "estacionamiento",
                    "aparco",
                    "coche",
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
                    "pet", "pets", "dog", "dogs", "cat", "cats", "animal", "animals", "puppy",
                ],
            ),
            (Wifi, &["wifi", "wi fi", "internet", "wireless"]),
            (Breakfast, &["breakfast", "breakfasts"]),
            (Parking, &["parking", "park", "garage", "car"]),
            (
                CheckOutTime,
                &[
                    "check out",
                    "checkout",
                    "leave the room",
                    "late checkout",
                    "vacate",
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
                    "cao",
                    "gato",
                    "gatos",
                ],
            ),
            (Wifi, &["wifi", "wi fi", "internet", "senha do wifi"]),
            (Breakfast, &["cafe da manha", "pequeno almoco", "cafe"]),
            (
                Parking,
                &[
                    "estacionamento",
                    "estacionar",
                    "garagem",
                    "parking",
                    "carro",
                ],
            ),
            (
                CheckOutTime,
                &["check out", "checkout", "saida", "deixar o quarto", "sair"],
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
