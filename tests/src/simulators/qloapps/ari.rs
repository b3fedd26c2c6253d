//! `hotel_ari` (`WebserviceSpecificManagementHotelAri`): availability, rates and inventory for
//! one hotel and a date range, XML in, XML or JSON out.
//!
//! Quirks kept on purpose:
//! - the occupancies sent do **not** filter availability; their count only multiplies
//!   `total_price` (the search reads another key than the one they are passed under);
//! - `base_price` is the stay total (rounded to cents) divided by the nights, unrounded;
//! - an unknown hotel or room type is not an error: the answer just has no counts and no
//!   `room_types`;
//! - JSON (1.6.1) gives the internal structures: rooms keyed by id_room, DB strings, `[]` when
//!   empty;
//! - with `date_wise_breakdown`, `total_booked_rooms` and `total_unavailable_rooms` repeat the
//!   available count (a QloApps bug).

use chrono::{Days, NaiveDate};
use serde_json::Value;

use super::api::{Reply, Request};
use super::store::{as_f64, nights, parse_php_date, round2, Money, Room, Store};
use super::wire::{cdata, parse_xml, php_float, truthy, xml_document, ApiError, Format, Out};
use super::SimRoomType;

/// The fields of `WebserviceSpecificManagementHotelAri::$definition`, in order, with their
/// requirement and validator.
const FIELDS: &[(&str, bool, Validator)] = &[
    ("id_hotel", true, Validator::UnsignedInt),
    ("id_room_type", false, Validator::UnsignedInt),
    ("date_from", true, Validator::Date),
    ("date_to", true, Validator::Date),
    ("get_available_rooms", false, Validator::Bool),
    ("get_booked_rooms", false, Validator::Bool),
    ("get_partial_available_rooms", false, Validator::Bool),
    ("get_unavailable_rooms", false, Validator::Bool),
    ("date_wise_breakdown", false, Validator::Bool),
];

#[derive(Clone, Copy)]
enum Validator {
    UnsignedInt,
    Date,
    Bool,
}

impl Validator {
    fn accepts(self, value: &str) -> bool {
        match self {
            Self::UnsignedInt => is_unsigned_int(value),
            Self::Date => parse_php_date(value).is_some(),
            Self::Bool => value == "0" || value == "1",
        }
    }
}

/// `Validate::isUnsignedInt`: the canonical decimal form of a value in `[0, 2³²)`.
pub(super) fn is_unsigned_int(value: &str) -> bool {
    value
        .parse::<u64>()
        .is_ok_and(|n| n < 1 << 32 && n.to_string() == value)
}

/// A validated search.
struct Search {
    /// As sent: it is echoed back verbatim.
    id_hotel: String,
    id_room_type: u32,
    from: NaiveDate,
    to: NaiveDate,
    available: bool,
    booked: bool,
    partial: bool,
    unavailable: bool,
    breakdown: bool,
    /// The number of occupancies sent (1 when none).
    occupancies: i64,
}

pub(super) fn handle(store: &Store, request: &Request<'_>) -> Result<Reply, ApiError> {
    if let Some(kind) = request.query.get("schema") {
        if request.method != "GET" {
            return Err(not_valid(&request.method));
        }
        return schema(kind).map(Reply::ok);
    }
    if request.method != "POST" {
        return Err(not_valid(&request.method));
    }
    let search = validate(&String::from_utf8_lossy(request.body))?;
    let body = if search.breakdown {
        breakdown(store, &search, request)
    } else {
        whole_range(store, &search, request)
    };
    Ok(Reply::ok(body))
}

fn not_valid(method: &str) -> ApiError {
    ApiError::new(405, 23, format!("Method {method} is not valid"))
}

/// `validateRequestXml` and what `manage` then reads.
fn validate(body: &str) -> Result<Search, ApiError> {
    if body.is_empty() {
        return Err(ApiError::ari_validation(
            "ARI search parameters are missing.",
        ));
    }
    let Some(root) = parse_xml(body) else {
        return Err(ApiError::ari_validation(
            "Invalid ARI search parameters found.",
        ));
    };
    let mut fields: Vec<Option<String>> = vec![None; FIELDS.len()];
    for entity in &root.children {
        for (i, (name, required, _)) in FIELDS.iter().enumerate() {
            match entity.child(name) {
                Some(node) => fields[i] = Some(node.string_value()),
                None if *required => {
                    return Err(ApiError::new(
                        400,
                        41,
                        format!("parameter \"{name}\" required"),
                    ))
                }
                None => {}
            }
        }
    }
    for (i, (name, required, validator)) in FIELDS.iter().enumerate() {
        let value = fields[i].as_deref().unwrap_or("");
        if *required && value.is_empty() {
            return Err(ApiError::ari_validation(&format!(
                "\"The {name} field is required.\""
            )));
        }
        if !value.is_empty() && !validator.accepts(value) {
            return Err(ApiError::ari_validation(&format!(
                "\"The {name} field is invalid.\""
            )));
        }
    }
    let Some(node) = root.child("hotel_ari").filter(|n| !n.children.is_empty()) else {
        return Err(ApiError::ari_validation("Invalid request XML"));
    };
    if node.has_cdata_only_value() {
        // PHP goes on with empty arrays for those values and dies on the first one it uses.
        return Err(ApiError::new(
            500,
            127,
            "XML error : a value inside a CDATA section is invisible to QloApps (SimpleXML without LIBXML_NOCDATA drops it); send it as plain text (simulator message)",
        ));
    }
    let params = root.php_value()["hotel_ari"].clone();
    let text = |name: &str| params[name].as_str().unwrap_or("").to_owned();
    let (Some(from), Some(to)) = (
        parse_php_date(&text("date_from")),
        parse_php_date(&text("date_to")),
    ) else {
        return Err(ApiError::ari_validation(
            "\"The date_from field is invalid.\"",
        ));
    };
    if to <= from {
        return Err(ApiError::ari_validation(
            "\"Date to\" must be after \"date from\"",
        ));
    }
    let occupancies = occupancies(&params)?;
    let flag = |name: &str| params.get(name).map(truthy);
    let flags = [
        flag("get_available_rooms"),
        flag("get_booked_rooms"),
        flag("get_partial_available_rooms"),
        flag("get_unavailable_rooms"),
    ];
    let any_sent = flags.iter().any(Option::is_some);
    let on = |i: usize| flags[i].unwrap_or(false);
    Ok(Search {
        id_hotel: text("id_hotel"),
        id_room_type: text("id_room_type").parse().unwrap_or(0),
        from,
        to,
        available: if any_sent { on(0) } else { true },
        booked: on(1),
        partial: on(2),
        unavailable: on(3),
        breakdown: flag("date_wise_breakdown").unwrap_or(false),
        occupancies,
    })
}

/// `associations/room_occupancies/room_occupancy`, validated: how many were sent.
fn occupancies(params: &Value) -> Result<i64, ApiError> {
    let list = &params["associations"]["room_occupancies"]["room_occupancy"];
    if !truthy(list) {
        return Ok(1);
    }
    let items: Vec<Value> = match list {
        Value::Array(items) => items.clone(),
        Value::Object(map) if map.contains_key("adults") => vec![list.clone()],
        Value::Object(map) => map.values().cloned().collect(),
        other => vec![other.clone()],
    };
    for (i, occupancy) in items.iter().enumerate() {
        let room = i + 1;
        match occupancy.get("adults") {
            Some(adults) if !truthy(adults) || !is_unsigned_int(adults.as_str().unwrap_or("")) => {
                return Err(ApiError::ari_validation(&format!(
                    "Invalid value for number of adults for Room-{room} occupancy(value must be greater than 0)."
                )))
            }
            Some(_) => {}
            None => {
                return Err(ApiError::ari_validation(&format!(
                    "Missing information for adults for Room-{room} occupancy."
                )))
            }
        }
        match occupancy.get("children") {
            Some(children) if !is_unsigned_int(children.as_str().unwrap_or("")) => {
                return Err(ApiError::ari_validation(&format!(
                    "Invalid value for number of children for Room-{room} occupancy."
                )))
            }
            Some(_) => {}
            None => {
                return Err(ApiError::ari_validation(&format!(
                    "Missing information for children for Room-{room} occupancy."
                )))
            }
        }
    }
    Ok(items.len() as i64)
}

/// The room types the search covers: none for another hotel or an unknown type.
fn room_types<'a>(store: &'a Store, search: &Search) -> Vec<&'a SimRoomType> {
    if search.id_hotel.parse::<u32>().ok() != Some(store.hotel.id_hotel) {
        return Vec::new();
    }
    store
        .hotel
        .room_types
        .iter()
        .filter(|t| search.id_room_type == 0 || t.id == search.id_room_type)
        .collect()
}

/// Per-night and total prices of a room type over `[from, to)`, as `hotel_ari` reports them.
struct Prices {
    base: f64,
    base_with_tax: f64,
    total: f64,
    total_with_tax: f64,
}

fn prices(
    store: &Store,
    room_type: &SimRoomType,
    from: NaiveDate,
    to: NaiveDate,
    occupancies: i64,
) -> Prices {
    let (excl, incl) = store.stay_price(room_type, from, to);
    let count = nights(from, to).count().max(1) as f64;
    let (excl, incl): (Money, Money) = (round2(excl), round2(incl));
    Prices {
        base: as_f64(excl) / count,
        base_with_tax: as_f64(incl) / count,
        total: as_f64(excl * occupancies),
        total_with_tax: as_f64(incl * occupancies),
    }
}

/// The rooms of one type by category, for the whole range.
struct Rooms {
    /// Categories in the order QloApps fills them: unavailable, booked, available, partial.
    categories: Vec<(&'static str, Category)>,
}

enum Category {
    Plain(Vec<Room>),
    /// Per night, the partially available rooms free that night.
    Partial(Vec<(NaiveDate, Vec<Room>)>),
}

impl Category {
    fn count(&self) -> usize {
        match self {
            Self::Plain(rooms) => rooms.len(),
            Self::Partial(nights) => {
                let mut ids: Vec<u32> = nights
                    .iter()
                    .flat_map(|(_, r)| r.iter().map(|r| r.id))
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                ids.len()
            }
        }
    }
}

fn rooms_of(store: &Store, room_type: &SimRoomType, search: &Search) -> Rooms {
    let all: Vec<Room> = store.active_rooms(room_type.id).cloned().collect();
    let available: Vec<Room> = all
        .iter()
        .filter(|r| store.free(r, search.from, search.to))
        .cloned()
        .collect();
    let booked: Vec<Room> = all
        .iter()
        .filter(|r| nights(search.from, search.to).any(|n| store.taken(r.id, n, None)))
        .cloned()
        .collect();
    let mut categories = Vec::new();
    if search.unavailable {
        categories.push(("unavailable", Category::Plain(Vec::new())));
    }
    if search.booked {
        categories.push(("booked", Category::Plain(booked.clone())));
    }
    if search.available {
        categories.push(("available", Category::Plain(available)));
    }
    if search.partial {
        let per_night = nights(search.from, search.to)
            .map(|night| {
                let free = booked
                    .iter()
                    .filter(|r| !store.taken(r.id, night, None))
                    .cloned()
                    .collect();
                (night, free)
            })
            .filter(|(_, free): &(NaiveDate, Vec<Room>)| !free.is_empty())
            .collect();
        categories.push(("partially_available", Category::Partial(per_night)));
    }
    Rooms { categories }
}

fn next_day(date: NaiveDate) -> NaiveDate {
    date.checked_add_days(Days::new(1)).unwrap_or(date)
}

/// The whole-range answer: one `hotel_ari`.
fn whole_range(store: &Store, search: &Search, request: &Request<'_>) -> String {
    let types = room_types(store, search);
    let mut head = vec![
        ("id_hotel", Out::Str(search.id_hotel.clone())),
        ("date_from", Out::Str(search.from.to_string())),
        ("date_to", Out::Str(search.to.to_string())),
        ("currency", Out::Str(store.hotel.currency.clone())),
    ];
    let mut room_types = Vec::new();
    if !types.is_empty() {
        let results: Vec<(&SimRoomType, Rooms)> = types
            .iter()
            .map(|t| (*t, rooms_of(store, t, search)))
            .collect();
        let total_rooms: usize = types.iter().map(|t| store.active_rooms(t.id).count()).sum();
        head.push(("total_rooms", Out::Int(total_rooms as i64)));
        for (flag, key, category) in [
            (search.available, "total_available_rooms", "available"),
            (search.unavailable, "total_unavailable_rooms", "unavailable"),
            (
                search.partial,
                "total_partial_available_rooms",
                "partially_available",
            ),
            (search.booked, "total_booked_rooms", "booked"),
        ] {
            if flag {
                let count: usize = results
                    .iter()
                    .flat_map(|(_, rooms)| {
                        rooms
                            .categories
                            .iter()
                            .filter(|(name, _)| *name == category)
                    })
                    .map(|(_, c)| c.count())
                    .sum();
                head.push((key, Out::Int(count as i64)));
            }
        }
        room_types = results
            .into_iter()
            .map(|(t, rooms)| {
                (
                    t,
                    prices(store, t, search.from, search.to, search.occupancies),
                    rooms,
                )
            })
            .collect();
    }
    match request.format {
        Format::Json => {
            let mut entries: Vec<(String, Out)> =
                head.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            if !types.is_empty() {
                let list = room_types
                    .iter()
                    .map(|(t, p, rooms)| json_room_type(t, p, rooms_json(store, rooms)))
                    .collect();
                entries.push(("room_types".to_owned(), Out::List(list)));
            }
            Out::map([("hotel_ari", Out::Map(entries))]).json(false)
        }
        Format::Xml => {
            let mut out = String::from("<hotel_ari>\n");
            head_xml(&mut out, &head, request);
            if !room_types.is_empty() {
                out.push_str("<room_types>\n");
                for (t, p, rooms) in &room_types {
                    room_type_xml(&mut out, t, p, request, |out| rooms_xml(out, rooms));
                }
                out.push_str("</room_types>\n");
            }
            out.push_str("</hotel_ari>\n");
            xml_document(&out)
        }
    }
}

/// The `date_wise_breakdown` answer: a `hotel_ari` per night under `hotel_aris`.
fn breakdown(store: &Store, search: &Search, request: &Request<'_>) -> String {
    let types = room_types(store, search);
    let days: Vec<NaiveDate> = nights(search.from, search.to).collect();
    let mut json_days = Vec::new();
    let mut xml = String::from("<hotel_aris>\n");
    for night in days {
        let next = next_day(night);
        let mut head = vec![
            ("id_hotel", Out::Str(search.id_hotel.clone())),
            ("date_from", Out::Str(night.to_string())),
            ("date_to", Out::Str(next.to_string())),
            ("currency", Out::Str(store.hotel.currency.clone())),
        ];
        let mut per_type = Vec::new();
        if !types.is_empty() {
            let mut total_rooms = 0;
            let mut available_total = 0;
            for t in &types {
                let all: Vec<Room> = store.active_rooms(t.id).cloned().collect();
                total_rooms += all.len();
                let (free, taken): (Vec<Room>, Vec<Room>) = all
                    .into_iter()
                    .partition(|r| !store.taken(r.id, night, None));
                available_total += free.len();
                let mut categories = Vec::new();
                if search.available {
                    categories.push(("available", free));
                }
                if search.booked {
                    categories.push(("booked", taken));
                }
                if search.unavailable {
                    categories.push(("unavailable", Vec::new()));
                }
                per_type.push((
                    *t,
                    prices(store, t, night, next, search.occupancies),
                    categories,
                ));
            }
            head.push(("total_rooms", Out::Int(total_rooms as i64)));
            for (flag, key) in [
                (search.available, "total_available_rooms"),
                (search.unavailable, "total_unavailable_rooms"),
                (search.booked, "total_booked_rooms"),
            ] {
                if flag {
                    // QloApps adds the available count to all three.
                    head.push((key, Out::Int(available_total as i64)));
                }
            }
        }
        match request.format {
            Format::Json => {
                let mut entries: Vec<(String, Out)> = Vec::new();
                for (i, (k, v)) in head.iter().enumerate() {
                    entries.push(((*k).to_owned(), v.clone()));
                    if i == 4 {
                        let list = per_type
                            .iter()
                            .map(|(t, p, categories)| {
                                let rooms = categories
                                    .iter()
                                    .map(|(name, rooms)| {
                                        let map = rooms
                                            .iter()
                                            .map(|r| {
                                                (
                                                    r.id.to_string(),
                                                    Out::map([
                                                        ("id_room", Out::Str(r.id.to_string())),
                                                        ("room_num", Out::Str(r.number.clone())),
                                                    ]),
                                                )
                                            })
                                            .collect();
                                        ((*name).to_owned(), Out::Map(map))
                                    })
                                    .collect();
                                json_room_type(t, p, Out::Map(rooms))
                            })
                            .collect();
                        entries.push(("room_types".to_owned(), Out::List(list)));
                    }
                }
                json_days.push(Out::Map(entries));
            }
            Format::Xml => {
                xml.push_str("<hotel_ari>\n");
                head_xml(&mut xml, &head, request);
                if !per_type.is_empty() {
                    xml.push_str("<room_types>\n");
                    for (t, p, categories) in &per_type {
                        room_type_xml(&mut xml, t, p, request, |out| {
                            for (name, rooms) in categories {
                                out.push_str(&format!("<{name}>\n"));
                                rooms.iter().for_each(|r| room_xml(out, r));
                                out.push_str(&format!("</{name}>\n"));
                            }
                        });
                    }
                    xml.push_str("</room_types>\n");
                }
                xml.push_str("</hotel_ari>\n");
            }
        }
    }
    match request.format {
        Format::Json => Out::map([("hotel_aris", Out::List(json_days))]).json(false),
        Format::Xml => {
            xml.push_str("</hotel_aris>\n");
            xml_document(&xml)
        }
    }
}

fn json_room_type(t: &SimRoomType, p: &Prices, rooms: Out) -> Out {
    Out::map([
        ("id_room_type", Out::Str(t.id.to_string())),
        ("base_price", Out::Float(p.base)),
        ("base_price_with_tax", Out::Float(p.base_with_tax)),
        ("total_price", Out::Float(p.total)),
        ("total_price_with_tax", Out::Float(p.total_with_tax)),
        ("name", Out::Str(t.name.clone())),
        ("rooms", rooms),
    ])
}

/// A room as `getSearchAvailableRooms` selects it (DB strings).
fn raw_room(store: &Store, room: &Room) -> Out {
    let adults = store
        .room_type(room.id_room_type)
        .map_or(2, |t| t.base_adults);
    Out::map([
        ("id_room", Out::Str(room.id.to_string())),
        ("id_product", Out::Str(room.id_room_type.to_string())),
        ("id_hotel", Out::Str(store.hotel.id_hotel.to_string())),
        ("room_num", Out::Str(room.number.clone())),
        ("room_comment", Out::str("")),
        ("max_adult", Out::Str(adults.to_string())),
        ("max_children", Out::str("0")),
        ("max_occupancy", Out::Str(adults.to_string())),
    ])
}

/// The 1.6.1 JSON `rooms`: the search's own maps, keyed by id_room.
fn rooms_json(store: &Store, rooms: &Rooms) -> Out {
    let by_id = |list: &[Room]| {
        Out::Map(
            list.iter()
                .map(|r| (r.id.to_string(), raw_room(store, r)))
                .collect(),
        )
    };
    let entries = rooms
        .categories
        .iter()
        .map(|(name, category)| {
            let value = match category {
                Category::Plain(list) => by_id(list),
                Category::Partial(per_night) => Out::List(
                    per_night
                        .iter()
                        .map(|(night, list)| {
                            Out::map([
                                ("date_from", Out::Str(night.to_string())),
                                ("date_to", Out::Str(next_day(*night).to_string())),
                                ("rooms", by_id(list)),
                            ])
                        })
                        .collect(),
                ),
            };
            ((*name).to_owned(), value)
        })
        .collect();
    Out::Map(entries)
}

fn head_xml(out: &mut String, head: &[(&str, Out)], request: &Request<'_>) {
    for (key, value) in head {
        let text = match value {
            Out::Str(s) => s.clone(),
            Out::Int(n) => n.to_string(),
            _ => String::new(),
        };
        if *key == "id_hotel" {
            out.push_str(&format!(
                "<id_hotel xlink:href=\"{}hotels/{text}\">{}</id_hotel>\n",
                request.ws_url,
                cdata(&text)
            ));
        } else {
            out.push_str(&format!("<{key}>{}</{key}>\n", cdata(&text)));
        }
    }
}

fn room_type_xml(
    out: &mut String,
    t: &SimRoomType,
    p: &Prices,
    request: &Request<'_>,
    rooms: impl FnOnce(&mut String),
) {
    let href = format!("{}room_types/{}", request.ws_url, t.id);
    out.push_str(&format!(
        "<room_type id=\"{}\" xlink:href=\"{href}\">\n",
        t.id
    ));
    out.push_str(&format!(
        "<id_room_type xlink:href=\"{href}\">{}</id_room_type>\n",
        cdata(&t.id.to_string())
    ));
    for (key, value) in [
        ("base_price", p.base),
        ("base_price_with_tax", p.base_with_tax),
        ("total_price", p.total),
        ("total_price_with_tax", p.total_with_tax),
    ] {
        out.push_str(&format!("<{key}>{}</{key}>\n", cdata(&php_float(value))));
    }
    out.push_str(&format!(
        "<name><language id=\"1\" xlink:href=\"{}languages/1\">{}</language></name>\n",
        request.ws_url,
        cdata(&t.name)
    ));
    let mut inner = String::new();
    rooms(&mut inner);
    if !inner.is_empty() {
        out.push_str("<rooms>\n");
        out.push_str(&inner);
        out.push_str("</rooms>\n");
    }
    out.push_str("</room_type>\n");
}

fn room_xml(out: &mut String, room: &Room) {
    out.push_str(&format!(
        "<room id=\"{id}\">\n<id_room>{}</id_room>\n<room_number>{}</room_number>\n</room>\n",
        cdata(&room.id.to_string()),
        cdata(&room.number),
        id = room.id
    ));
}

fn rooms_xml(out: &mut String, rooms: &Rooms) {
    for (name, category) in &rooms.categories {
        let node = if *name == "partially_available" {
            "partial_available"
        } else {
            name
        };
        out.push_str(&format!("<{node}>\n"));
        match category {
            Category::Plain(list) => list.iter().for_each(|r| room_xml(out, r)),
            Category::Partial(per_night) => {
                for (night, list) in per_night {
                    out.push_str(&format!(
                        "<rooms date_from=\"{night}\" date_to=\"{}\">\n",
                        next_day(*night)
                    ));
                    list.iter().for_each(|r| room_xml(out, r));
                    out.push_str("</rooms>\n");
                }
            }
        }
        out.push_str(&format!("</{node}>\n"));
    }
}

/// `GET /api/hotel_ari?schema=blank|synopsis`.
fn schema(kind: &str) -> Result<String, ApiError> {
    if kind != "blank" && kind != "synopsis" {
        return Err(ApiError::new(
            400,
            28,
            "Please select a schema of type 'synopsis' to get the whole schema informations (which fields are required, which kind of content...) or 'blank' to get an empty schema to fill before using POST request",
        ));
    }
    let mut out = String::from("<hotel_ari>\n");
    for (name, required, validator) in FIELDS {
        if kind == "synopsis" {
            let format = match validator {
                Validator::UnsignedInt => "isUnsignedInt",
                Validator::Date => "isDate",
                Validator::Bool => "isBool",
            };
            let required = if *required { " required=\"true\"" } else { "" };
            out.push_str(&format!(
                "<{name}{required} format=\"{format}\"></{name}>\n"
            ));
        } else {
            out.push_str(&format!("<{name}></{name}>\n"));
        }
    }
    out.push_str("<associations>\n<room_occupancies nodeType=\"room_occupancy\" api=\"room_occupancies\">\n<room_occupancy>\n<adults></adults>\n<children></children>\n</room_occupancy>\n</room_occupancies>\n</associations>\n</hotel_ari>\n");
    Ok(xml_document(&out))
}

#[cfg(test)]
mod tests {
    use super::is_unsigned_int;

    #[test]
    fn unsigned_ints_are_canonical() {
        assert!(is_unsigned_int("0"));
        assert!(is_unsigned_int("42"));
        assert!(!is_unsigned_int("042"));
        assert!(!is_unsigned_int("-1"));
        assert!(!is_unsigned_int("1.5"));
        assert!(!is_unsigned_int("4294967296"));
    }
}
