//! The `booking` document `GET`, `POST` and `PUT /api/bookings` answer with
//! (`getBookingDetails`), the list, and the request skeleton (`?schema=`).
//!
//! The document never carries the booking status, the payment status or the order reference.
//! JSON is `json_encode` without flags (non-ASCII as `\uXXXX`); XML is QloApps' array renderer,
//! which turns every empty value or list into `0`.

use chrono::NaiveDate;

use super::api::Request;
use super::store::{as_f64, round2, Customer, Line, Money, Order, Store};
use super::wire::{xml_document, Format, Out};

/// `GET /api/bookings`: every order, cancelled ones included; no filters, no limit.
pub(super) fn list(store: &Store, request: &Request<'_>) -> String {
    match request.format {
        Format::Json if store.orders.is_empty() => "[]".to_owned(),
        Format::Json => {
            let ids = store
                .orders
                .iter()
                .map(|o| Out::map([("id", Out::Int(i64::from(o.id)))]))
                .collect();
            Out::map([("bookings", Out::List(ids))]).json(false)
        }
        Format::Xml => {
            let mut out = String::from("<bookings>\n");
            for order in &store.orders {
                out.push_str(&format!(
                    "<booking xlink:href=\"{}bookings/{id}\" id=\"{id}\"/>\n",
                    request.ws_url,
                    id = order.id
                ));
            }
            out.push_str("</bookings>\n");
            xml_document(&out)
        }
    }
}

/// `getBookingDetails`, rendered.
pub(super) fn render(store: &Store, order: &Order, format: Format) -> String {
    let document = Out::map([("booking", document(store, order))]);
    match format {
        Format::Json => document.json(true),
        Format::Xml => {
            let mut out = String::new();
            document.php_array_xml(&mut out, "");
            xml_document(&out)
        }
    }
}

fn document(store: &Store, order: &Order) -> Out {
    let customer = store.customer(order.id_customer);
    let field =
        |f: fn(&Customer) -> &String| Out::Str(customer.map(f).cloned().unwrap_or_default());
    let id_property = if order.lines.is_empty() {
        0
    } else {
        store.hotel.id_hotel
    };
    let excl = order.total_excl();
    let incl = order.total_incl();
    Out::map([
        ("id", Out::Int(i64::from(order.id))),
        ("id_property", Out::Int(i64::from(id_property))),
        ("currency", Out::Str(store.hotel.currency.to_uppercase())),
        ("source", Out::Str(order.source.clone())),
        ("booking_date", Out::Str(order.date_add.clone())),
        ("id_language", Out::Int(i64::from(order.id_lang))),
        (
            "associations",
            Out::map([
                (
                    "customer_detail",
                    Out::map([
                        ("id_customer", Out::Int(i64::from(order.id_customer))),
                        ("firstname", field(|c| &c.firstname)),
                        ("lastname", field(|c| &c.lastname)),
                        ("email", field(|c| &c.email)),
                        ("phone", field(|c| &c.phone)),
                    ]),
                ),
                (
                    "price_details",
                    Out::map([
                        ("total_paid", Out::Float(as_f64(round2(order.paid)))),
                        ("total_price_without_tax", Out::Float(as_f64(round2(excl)))),
                        ("total_tax", Out::Float(as_f64(round2(incl - excl)))),
                    ]),
                ),
                ("cart_rules", Out::List(Vec::new())),
                (
                    "remarks",
                    Out::List(order.remarks.iter().map(|r| Out::Str(r.clone())).collect()),
                ),
                ("room_types", room_types(store, order)),
            ]),
        ),
    ])
}

/// (room type, check-in, check-out): how lines group into a `room_type`.
type StayKey = (u32, NaiveDate, NaiveDate);

/// The order's lines grouped by (room type, check-in, check-out), in line order.
fn room_types(store: &Store, order: &Order) -> Out {
    let mut groups: Vec<(StayKey, Vec<&Line>)> = Vec::new();
    for line in &order.lines {
        let key = (line.id_room_type, line.date_from, line.date_to);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, lines)) => lines.push(line),
            None => groups.push((key, vec![line])),
        }
    }
    let stamp = |date: NaiveDate| format!("{date} 00:00:00");
    Out::List(
        groups
            .into_iter()
            .map(|((id_room_type, from, to), lines)| {
                let name = store
                    .room_type(id_room_type)
                    .map(|t| t.name.clone())
                    .unwrap_or_default();
                let tax: Money = lines.iter().map(|l| l.tax).sum();
                let rooms = lines
                    .iter()
                    .map(|l| {
                        Out::map([
                            ("id_room", Out::Int(i64::from(l.id_room))),
                            ("id_hotel_booking", Out::Int(i64::from(l.id_hotel_booking))),
                            ("adults", Out::Int(i64::from(l.adults))),
                            ("child", Out::Int(i64::from(l.children))),
                            (
                                "unit_price_without_tax",
                                Out::Float(as_f64(round2(l.price))),
                            ),
                            ("total_tax", Out::Float(as_f64(round2(l.tax)))),
                        ])
                    })
                    .collect();
                Out::map([
                    ("id_room_type", Out::Int(i64::from(id_room_type))),
                    ("checkin_date", Out::Str(stamp(from))),
                    ("checkout_date", Out::Str(stamp(to))),
                    ("total_tax", Out::Float(as_f64(round2(tax)))),
                    ("number_of_rooms", Out::Int(lines.len() as i64)),
                    ("name", Out::Str(name)),
                    ("rooms", Out::List(rooms)),
                ])
            })
            .collect(),
    )
}

/// `GET /api/bookings?schema=…`: the request skeleton (`renderJsonFields` in JSON).
pub(super) fn schema(format: Format) -> String {
    let blank = |names: &[&str]| {
        Out::Map(
            names
                .iter()
                .map(|n| ((*n).to_owned(), Out::str("")))
                .collect(),
        )
    };
    let mut room = match blank(&["id_room", "adults", "child"]) {
        Out::Map(entries) => entries,
        _ => Vec::new(),
    };
    room.push(("child_ages".to_owned(), Out::List(Vec::new())));
    if let Out::Map(rest) = blank(&["unit_price_without_tax", "id_tax_rules_group", "total_tax"]) {
        room.extend(rest);
    }
    let mut room_type = match blank(&[
        "id_room_type",
        "checkin_date",
        "checkout_date",
        "number_of_rooms",
    ]) {
        Out::Map(entries) => entries,
        _ => Vec::new(),
    };
    room_type.push(("rooms".to_owned(), Out::List(vec![Out::Map(room)])));
    let mut booking = match blank(&[
        "id_property",
        "currency",
        "booking_status",
        "payment_status",
        "source",
        "booking_date",
        "remark",
        "id_language",
    ]) {
        Out::Map(entries) => entries,
        _ => Vec::new(),
    };
    booking.push((
        "associations".to_owned(),
        Out::map([
            (
                "customer_detail",
                blank(&[
                    "id_customer",
                    "firstname",
                    "lastname",
                    "email",
                    "phone",
                    "address",
                    "city",
                    "zip",
                    "state_code",
                    "country_code",
                ]),
            ),
            ("price_details", blank(&["total_paid"])),
            (
                "payment_detail",
                blank(&["payment_type", "payment_method", "transaction_id"]),
            ),
            (
                "cart_rules",
                Out::List(vec![blank(&["name", "code", "type", "value", "currency"])]),
            ),
            ("room_types", Out::List(vec![Out::Map(room_type)])),
        ]),
    ));
    let document = Out::map([("booking", Out::Map(booking))]);
    match format {
        Format::Json => document.json(true),
        Format::Xml => {
            let mut out = String::new();
            schema_xml(&mut out, &document, "");
            xml_document(&out)
        }
    }
}

/// A skeleton as empty XML elements, list items named by their parent's singular.
fn schema_xml(out: &mut String, node: &Out, parent: &str) {
    let singular = |p: &str| p.strip_suffix('s').unwrap_or(p).to_owned();
    match node {
        Out::Map(entries) => {
            for (key, value) in entries {
                match value {
                    Out::Map(_) | Out::List(_) => {
                        out.push_str(&format!("<{key}>\n"));
                        schema_xml(out, value, key);
                        out.push_str(&format!("</{key}>\n"));
                    }
                    _ => out.push_str(&format!("<{key}></{key}>\n")),
                }
            }
        }
        Out::List(items) => {
            let name = singular(parent);
            for item in items {
                out.push_str(&format!("<{name}>\n"));
                schema_xml(out, item, &name);
                out.push_str(&format!("</{name}>\n"));
            }
        }
        _ => {}
    }
}
