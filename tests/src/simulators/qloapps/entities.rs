//! The generic, read-only entity resources the simulator serves: `orders`, `room_types` and
//! `hotels`, with `display`, `filter[…]`, `sort`, `limit` and `schema` as `WebserviceRequest`
//! applies them.
//!
//! Values are what MySQL hands PHP: strings (`"242.000000"` for a price column), except `id`,
//! which is an integer in JSON. A field computed by a getter (`id_hotel`, `adults` and
//! `children` of a room type) cannot be filtered on — QloApps answers 400, code 34 — and
//! `date_add`/`date_upd` are filterable only with `date=1`.

use std::cmp::Ordering;

use super::api::{Reply, Request};
use super::store::{decimal6, Order, Store};
use super::wire::{attr, cdata, closest, xml_document, ApiError, Format, Out};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Plain,
    /// `<name><language id="1">…</language></name>`; a plain string in JSON.
    I18n,
    /// Has a getter: shown, never filtered on.
    Dynamic,
}

struct FieldDef {
    name: &'static str,
    kind: Kind,
    /// The resource an `xlink:href` on the field points into.
    xlink: Option<&'static str>,
}

const fn plain(name: &'static str) -> FieldDef {
    FieldDef {
        name,
        kind: Kind::Plain,
        xlink: None,
    }
}

const fn link(name: &'static str, resource: &'static str) -> FieldDef {
    FieldDef {
        name,
        kind: Kind::Plain,
        xlink: Some(resource),
    }
}

struct AssocDef {
    name: &'static str,
    node: &'static str,
    /// `None` for a virtual entity (no API of its own).
    api: Option<&'static str>,
}

struct Schema {
    plural: &'static str,
    singular: &'static str,
    /// The first is always `id`.
    fields: &'static [FieldDef],
    assocs: &'static [AssocDef],
}

/// One row: a value per schema field, an id list per association.
struct Record {
    id: u32,
    values: Vec<String>,
    assocs: Vec<Vec<u32>>,
}

const ORDERS: Schema = Schema {
    plural: "orders",
    singular: "order",
    fields: &[
        plain("id"),
        link("id_address_delivery", "addresses"),
        link("id_address_invoice", "addresses"),
        link("id_cart", "carts"),
        link("id_currency", "currencies"),
        link("id_lang", "languages"),
        link("id_customer", "customers"),
        link("current_state", "order_states"),
        plain("secure_key"),
        plain("payment"),
        plain("payment_type"),
        plain("module"),
        plain("total_discounts"),
        plain("total_discounts_tax_incl"),
        plain("total_discounts_tax_excl"),
        plain("total_paid"),
        plain("total_paid_tax_incl"),
        plain("total_paid_tax_excl"),
        plain("total_paid_real"),
        plain("total_products"),
        plain("total_products_wt"),
        plain("conversion_rate"),
        plain("invoice_number"),
        plain("invoice_date"),
        plain("source"),
        plain("valid"),
        plain("reference"),
        plain("is_advance_payment"),
        plain("advance_paid_amount"),
        plain("with_occupancy"),
        plain("date_add"),
        plain("date_upd"),
    ],
    assocs: &[AssocDef {
        name: "bookings",
        node: "booking",
        api: None,
    }],
};

const ROOM_TYPES: Schema = Schema {
    plural: "room_types",
    singular: "room_type",
    fields: &[
        plain("id"),
        FieldDef {
            name: "id_hotel",
            kind: Kind::Dynamic,
            xlink: Some("hotels"),
        },
        FieldDef {
            name: "adults",
            kind: Kind::Dynamic,
            xlink: None,
        },
        FieldDef {
            name: "children",
            kind: Kind::Dynamic,
            xlink: None,
        },
        link("id_category_default", "categories"),
        link("id_tax_rules_group", "tax_rule_groups"),
        FieldDef {
            name: "type",
            kind: Kind::Dynamic,
            xlink: None,
        },
        plain("reference"),
        plain("price"),
        plain("wholesale_price"),
        plain("active"),
        plain("available_for_order"),
        plain("show_price"),
        plain("date_add"),
        plain("date_upd"),
        FieldDef {
            name: "name",
            kind: Kind::I18n,
            xlink: None,
        },
        FieldDef {
            name: "link_rewrite",
            kind: Kind::I18n,
            xlink: None,
        },
    ],
    assocs: &[AssocDef {
        name: "hotel_rooms",
        node: "hotel_room",
        api: Some("hotel_rooms"),
    }],
};

const HOTELS: Schema = Schema {
    plural: "hotels",
    singular: "hotel",
    fields: &[
        plain("id"),
        plain("id_category"),
        plain("email"),
        plain("rating"),
        plain("check_in"),
        plain("check_out"),
        plain("active"),
        plain("latitude"),
        plain("longitude"),
        plain("active_refund"),
        plain("date_add"),
        plain("date_upd"),
        FieldDef {
            name: "hotel_name",
            kind: Kind::I18n,
            xlink: None,
        },
        plain("phone"),
        plain("address"),
        link("id_country", "countries"),
        link("id_state", "states"),
        plain("city"),
        plain("zipcode"),
    ],
    assocs: &[AssocDef {
        name: "room_types",
        node: "room_type",
        api: Some("room_types"),
    }],
};

/// The fixed creation date of the catalogue (room types, the hotel).
const CATALOGUE_DATE: &str = "2024-10-10 10:00:00";

pub(super) fn handle(
    store: &Store,
    request: &Request<'_>,
    resource: &str,
) -> Result<Reply, ApiError> {
    let (schema, records) = match resource {
        "orders" => (&ORDERS, store.orders.iter().map(order_record).collect()),
        "room_types" => (&ROOM_TYPES, room_type_records(store)),
        _ => (&HOTELS, hotel_records(store)),
    };
    if let Some(schema_kind) = request.query.get("schema") {
        return blank_schema(schema, schema_kind, request.format).map(Reply::ok);
    }
    let display = display(schema, request)?;
    if let Some(id) = request.id_segment() {
        let found = id
            .parse::<u32>()
            .ok()
            .and_then(|id| records.iter().find(|r| r.id == id));
        return Ok(match found {
            Some(record) => Reply::ok(render_one(schema, record, display.as_deref(), request)),
            None => Reply::not_found(),
        });
    }
    let mut records = filter(schema, records, request)?;
    sort(schema, &mut records, request)?;
    let records = limit(records, request)?;
    Ok(Reply::ok(render_list(
        schema,
        &records,
        display.as_deref(),
        request,
    )))
}

fn order_record(order: &Order) -> Record {
    let excl = order.total_excl();
    let incl = order.total_incl();
    let valid = matches!(order.current_state, 2 | 3 | 8 | 10);
    let values = [
        order.id.to_string(),
        "0".to_owned(),
        "0".to_owned(),
        order.id.to_string(),
        "1".to_owned(),
        order.id_lang.to_string(),
        order.id_customer.to_string(),
        order.current_state.to_string(),
        format!(
            "{:032x}",
            u128::from(order.id).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
        ),
        order.payment.clone(),
        "1".to_owned(),
        "wsorder".to_owned(),
        decimal6(0),
        decimal6(0),
        decimal6(0),
        decimal6(incl),
        decimal6(incl),
        decimal6(excl),
        decimal6(order.paid),
        decimal6(excl),
        decimal6(incl),
        decimal6(1_000_000),
        "0".to_owned(),
        "0000-00-00 00:00:00".to_owned(),
        order.source.clone(),
        u8::from(valid).to_string(),
        order.reference.clone(),
        "0".to_owned(),
        decimal6(0),
        "1".to_owned(),
        order.date_add.clone(),
        order.date_upd.clone(),
    ];
    Record {
        id: order.id,
        values: values.into(),
        assocs: vec![order.lines.iter().map(|l| l.id_hotel_booking).collect()],
    }
}

fn room_type_records(store: &Store) -> Vec<Record> {
    store
        .hotel
        .room_types
        .iter()
        .map(|t| {
            let price = super::store::parse_money(&t.price_per_night).unwrap_or(0);
            let slug = t.name.to_lowercase().replace(' ', "-");
            Record {
                id: t.id,
                values: vec![
                    t.id.to_string(),
                    store.hotel.id_hotel.to_string(),
                    t.base_adults.to_string(),
                    "0".to_owned(),
                    "2".to_owned(),
                    "1".to_owned(),
                    "simple".to_owned(),
                    String::new(),
                    decimal6(price),
                    decimal6(0),
                    "1".to_owned(),
                    "1".to_owned(),
                    "1".to_owned(),
                    CATALOGUE_DATE.to_owned(),
                    CATALOGUE_DATE.to_owned(),
                    t.name.clone(),
                    slug,
                ],
                assocs: vec![store.active_rooms(t.id).map(|r| r.id).collect()],
            }
        })
        .collect()
}

fn hotel_records(store: &Store) -> Vec<Record> {
    let hotel = &store.hotel;
    vec![Record {
        id: hotel.id_hotel,
        values: vec![
            hotel.id_hotel.to_string(),
            "3".to_owned(),
            "reception@example.com".to_owned(),
            "3".to_owned(),
            "14:00".to_owned(),
            "11:00".to_owned(),
            "1".to_owned(),
            decimal6(0),
            decimal6(0),
            "1".to_owned(),
            CATALOGUE_DATE.to_owned(),
            CATALOGUE_DATE.to_owned(),
            hotel.name.clone(),
            "0123456789".to_owned(),
            "1 Main Street".to_owned(),
            "6".to_owned(),
            "0".to_owned(),
            "Madrid".to_owned(),
            "28001".to_owned(),
        ],
        assocs: vec![hotel.room_types.iter().map(|t| t.id).collect()],
    }]
}

/// `display=full` or `display=[a,b]`: the fields to show (`None`: the minimal list view).
fn display(schema: &Schema, request: &Request<'_>) -> Result<Option<Vec<usize>>, ApiError> {
    let Some(display) = request.query.get("display") else {
        return Ok(None);
    };
    let names = || {
        schema
            .fields
            .iter()
            .map(|f| f.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if display == "full" {
        return Ok(Some((0..schema.fields.len()).collect()));
    }
    let Some(inner) = display.strip_prefix('[').and_then(|d| d.strip_suffix(']')) else {
        return Err(ApiError::new(
            400,
            36,
            format!(
                "The 'display' syntax is wrong. You can set 'full' or '[field_1,field_2,field_3,...]'. These are available: {}",
                names()
            ),
        ));
    };
    inner
        .split(',')
        .map(str::trim)
        .map(|name| {
            schema
                .fields
                .iter()
                .position(|f| f.name == name)
                .ok_or_else(|| {
                    ApiError::new(
                        400,
                        35,
                        format!(
                        "Unable to display this field \"{name}\". However, these are available: {}",
                        names()
                    ),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The fields a filter or sort may name: no getters, dates only with `date=1`.
fn filterable(schema: &Schema, request: &Request<'_>) -> Vec<&'static str> {
    let with_dates = request
        .query
        .get("date")
        .is_some_and(|d| !d.is_empty() && d != "0");
    schema
        .fields
        .iter()
        .filter(|f| f.kind != Kind::I18n)
        .filter(|f| with_dates || !matches!(f.name, "date_add" | "date_upd"))
        .map(|f| f.name)
        .collect()
}

fn filter(
    schema: &Schema,
    records: Vec<Record>,
    request: &Request<'_>,
) -> Result<Vec<Record>, ApiError> {
    let available = filterable(schema, request);
    let mut records = records;
    for (field, value) in request.query.filters() {
        let def = schema.fields.iter().position(|f| f.name == field);
        let usable = def.filter(|i| {
            let f = &schema.fields[*i];
            available.contains(&f.name) || f.kind == Kind::I18n
        });
        let Some(index) = usable else {
            return Err(ApiError::new(
                400,
                32,
                format!(
                    "This filter does not exist. Did you mean: \"{}\"? The full list is: \"{}\"",
                    closest(&field, &available),
                    available.join("\", \"")
                ),
            ));
        };
        if value.is_empty() {
            return Err(ApiError::new(
                400,
                33,
                format!("The filter \"{field}\" is malformed."),
            ));
        }
        if schema.fields[index].kind == Kind::Dynamic {
            return Err(ApiError::new(
                400,
                34,
                format!("The field \"{field}\" is dynamic. It is not possible to filter GET query with this field."),
            ));
        }
        records.retain(|r| matches_filter(&r.values[index], &value));
    }
    Ok(records)
}

/// `getSQLRetrieveFilter`, against MySQL's case-insensitive comparisons.
fn matches_filter(value: &str, filter: &str) -> bool {
    let Some(open) = filter.find('[') else {
        return eq(value, filter);
    };
    let Some(close) = filter.rfind(']').filter(|c| *c > open) else {
        return eq(value, filter);
    };
    let (before, inner, after) = (
        &filter[..open],
        &filter[open + 1..close],
        &filter[close + 1..],
    );
    if before == "%" || after == "%" {
        return like(value, &format!("{before}{inner}{after}"));
    }
    match before {
        "" if after.is_empty() => {
            if inner.find('|').is_some_and(|p| p > 0) {
                inner.split('|').any(|v| eq(value, v))
            } else if let Some((low, high)) = range(inner) {
                compare(value, low) != Ordering::Less && compare(value, high) != Ordering::Greater
            } else {
                eq(value, inner)
            }
        }
        ">" => compare(value, inner) == Ordering::Greater,
        "<" => compare(value, inner) == Ordering::Less,
        "!" => inner.split('|').all(|v| !eq(value, v)),
        _ => false,
    }
}

/// `[x,y]` with digits, dots, colons, dashes and spaces on both sides; ends sorted.
fn range(inner: &str) -> Option<(&str, &str)> {
    let (a, b) = inner.split_once(',')?;
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || ".:- ".contains(c));
    (ok(a) && ok(b)).then(|| if a <= b { (a, b) } else { (b, a) })
}

fn eq(value: &str, wanted: &str) -> bool {
    compare(value, wanted) == Ordering::Equal
}

/// Numbers compare as numbers (`"1.000000" = "1"`), text case-insensitively.
fn compare(value: &str, other: &str) -> Ordering {
    match (value.trim().parse::<f64>(), other.trim().parse::<f64>()) {
        (Ok(a), Ok(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        _ => value.to_lowercase().cmp(&other.to_lowercase()),
    }
}

/// SQL `LIKE` with `%` wildcards, case-insensitive.
fn like(value: &str, pattern: &str) -> bool {
    let value = value.to_lowercase();
    let parts: Vec<String> = pattern
        .to_lowercase()
        .split('%')
        .map(str::to_owned)
        .collect();
    let mut rest = value.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(stripped) = rest.strip_prefix(part.as_str()) else {
                return false;
            };
            rest = stripped;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part.as_str());
        } else {
            let Some(at) = rest.find(part.as_str()) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    rest.is_empty()
}

/// `sort=[field_ASC,other_DESC]` (or one `field_DIR` without brackets).
fn sort(schema: &Schema, records: &mut [Record], request: &Request<'_>) -> Result<(), ApiError> {
    let Some(sort) = request.query.get("sort") else {
        return Ok(());
    };
    let inner = sort
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(sort);
    let available = filterable(schema, request);
    let mut keys = Vec::new();
    for part in inner.split(',') {
        let Some((name, direction)) = part
            .rsplit_once('_')
            .filter(|(_, d)| matches!(d.to_uppercase().as_str(), "ASC" | "DESC"))
        else {
            return Err(ApiError::new(
                400,
                37,
                "The \"sort\" value has to be formed as this example: \"field_ASC\" or '[field_1_DESC,field_2_ASC,field_3_ASC,...]' (\"field\" has to be an available field)",
            ));
        };
        let Some(index) = schema
            .fields
            .iter()
            .position(|f| f.name == name)
            .filter(|_| available.contains(&name))
        else {
            return Err(ApiError::new(
                400,
                38,
                format!(
                    "Unable to filter by this field. However, these are available: {}, for i18n fields:",
                    available.join(", ")
                ),
            ));
        };
        keys.push((index, direction.eq_ignore_ascii_case("DESC")));
    }
    records.sort_by(|a, b| {
        keys.iter()
            .map(|(i, desc)| {
                let order = compare(&a.values[*i], &b.values[*i]);
                if *desc {
                    order.reverse()
                } else {
                    order
                }
            })
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
    Ok(())
}

/// `limit=N` or `limit=offset,N`.
fn limit(records: Vec<Record>, request: &Request<'_>) -> Result<Vec<Record>, ApiError> {
    let Some(limit) = request.query.get("limit") else {
        return Ok(records);
    };
    let parts: Vec<&str> = limit.split(',').collect();
    let number = |s: &str| s.trim().parse::<usize>().unwrap_or(0);
    let (offset, count) = match parts.as_slice() {
        [count] => (0, number(count)),
        [offset, count] => (number(offset), number(count)),
        _ => {
            return Err(ApiError::new(
                400,
                39,
                "The \"limit\" value has to be formed as this example: \"5,25\" or \"10\"",
            ))
        }
    };
    Ok(records.into_iter().skip(offset).take(count).collect())
}

fn render_list(
    schema: &Schema,
    records: &[Record],
    display: Option<&[usize]>,
    request: &Request<'_>,
) -> String {
    match request.format {
        Format::Json if records.is_empty() => "[]".to_owned(),
        Format::Json => {
            let items = records
                .iter()
                .map(|r| match display {
                    Some(fields) => json_record(schema, r, fields),
                    None => Out::map([("id", Out::Int(i64::from(r.id)))]),
                })
                .collect();
            Out::map([(schema.plural, Out::List(items))]).json(false)
        }
        Format::Xml => {
            let mut out = format!("<{}>\n", schema.plural);
            for record in records {
                match display {
                    Some(fields) => out.push_str(&xml_record(schema, record, fields, request)),
                    None => out.push_str(&format!(
                        "<{} id=\"{}\" xlink:href=\"{}{}/{}\"/>\n",
                        schema.singular, record.id, request.ws_url, schema.plural, record.id
                    )),
                }
            }
            out.push_str(&format!("</{}>\n", schema.plural));
            xml_document(&out)
        }
    }
}

/// One record. In JSON a `display` parameter turns even a single record into a list — the
/// renderer checks `$_GET['display']`, not the view.
fn render_one(
    schema: &Schema,
    record: &Record,
    display: Option<&[usize]>,
    request: &Request<'_>,
) -> String {
    let all: Vec<usize> = (0..schema.fields.len()).collect();
    let fields = display.unwrap_or(&all);
    match request.format {
        Format::Json if display.is_some() => Out::map([(
            schema.plural,
            Out::List(vec![json_record(schema, record, fields)]),
        )])
        .json(false),
        Format::Json => {
            Out::map([(schema.singular, json_record(schema, record, fields))]).json(false)
        }
        Format::Xml => xml_document(&xml_record(schema, record, fields, request)),
    }
}

fn json_record(schema: &Schema, record: &Record, fields: &[usize]) -> Out {
    let mut entries: Vec<(String, Out)> = fields
        .iter()
        .map(|i| {
            let def = &schema.fields[*i];
            let value = if def.name == "id" {
                Out::Int(i64::from(record.id))
            } else {
                Out::Str(record.values[*i].clone())
            };
            (def.name.to_owned(), value)
        })
        .collect();
    if fields.len() == schema.fields.len() {
        let assocs = schema
            .assocs
            .iter()
            .zip(&record.assocs)
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(def, ids)| {
                let rows = ids
                    .iter()
                    .map(|id| Out::map([("id", Out::Str(id.to_string()))]))
                    .collect();
                (def.name.to_owned(), Out::List(rows))
            })
            .collect::<Vec<_>>();
        if !assocs.is_empty() {
            entries.push(("associations".to_owned(), Out::Map(assocs)));
        }
    }
    Out::Map(entries)
}

fn xml_record(schema: &Schema, record: &Record, fields: &[usize], request: &Request<'_>) -> String {
    let mut out = format!("<{}>\n", schema.singular);
    for i in fields {
        let def = &schema.fields[*i];
        let value = &record.values[*i];
        match (def.kind, def.xlink) {
            (Kind::I18n, _) => out.push_str(&format!(
                "<{name}><language id=\"1\" xlink:href=\"{}languages/1\">{}</language></{name}>\n",
                request.ws_url,
                cdata(value),
                name = def.name
            )),
            (_, Some(resource)) => out.push_str(&format!(
                "<{name} xlink:href=\"{}{resource}/{}\">{}</{name}>\n",
                request.ws_url,
                attr(value),
                cdata(value),
                name = def.name
            )),
            _ if value.is_empty() => out.push_str(&format!("<{name}></{name}>\n", name = def.name)),
            _ => out.push_str(&format!(
                "<{name}>{}</{name}>\n",
                cdata(value),
                name = def.name
            )),
        }
    }
    if fields.len() == schema.fields.len() && !schema.assocs.is_empty() {
        out.push_str("<associations>\n");
        for (def, ids) in schema.assocs.iter().zip(&record.assocs) {
            let kind = match def.api {
                Some(api) => format!(" nodeType=\"{}\" api=\"{api}\"", def.node),
                None => format!(" nodeType=\"{}\" virtualEntity=\"true\"", def.node),
            };
            out.push_str(&format!("<{}{kind}>\n", def.name));
            for id in ids {
                let href = def
                    .api
                    .map(|api| format!(" xlink:href=\"{}{api}/{id}\"", request.ws_url))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "<{node}{href}>\n<id>{}</id>\n</{node}>\n",
                    cdata(&id.to_string()),
                    node = def.node
                ));
            }
            out.push_str(&format!("</{}>\n", def.name));
        }
        out.push_str("</associations>\n");
    }
    out.push_str(&format!("</{}>\n", schema.singular));
    out
}

/// `?schema=blank|synopsis`: every field, empty (synopsis adds no detail here).
fn blank_schema(schema: &Schema, kind: &str, format: Format) -> Result<String, ApiError> {
    if kind != "blank" && kind != "synopsis" {
        return Err(ApiError::new(
            400,
            28,
            "Please select a schema of type 'synopsis' to get the whole schema informations (which fields are required, which kind of content...) or 'blank' to get an empty schema to fill before using POST request",
        ));
    }
    Ok(match format {
        Format::Json => {
            let fields = schema
                .fields
                .iter()
                .map(|f| (f.name.to_owned(), Out::str("")))
                .collect();
            Out::map([(schema.singular, Out::Map(fields))]).json(false)
        }
        Format::Xml => {
            let mut out = format!("<{}>\n", schema.singular);
            for f in schema.fields {
                match f.kind {
                    Kind::I18n => out.push_str(&format!(
                        "<{name}><language id=\"1\"></language></{name}>\n",
                        name = f.name
                    )),
                    _ => out.push_str(&format!("<{name}></{name}>\n", name = f.name)),
                }
            }
            out.push_str(&format!("</{}>\n", schema.singular));
            xml_document(&out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_follow_get_sql_retrieve_filter() {
        assert!(matches_filter("web", "[web|phone]"));
        assert!(matches_filter("Phone", "[web|phone]"));
        assert!(!matches_filter("desk", "[web|phone]"));
        assert!(matches_filter("5", "[3,7]"));
        assert!(matches_filter("5", ">[4]"));
        assert!(matches_filter("conserje-web", "[conserje]%"));
        assert!(!matches_filter("web", "![web|phone]"));
        assert!(matches_filter("1.000000", "[1]"));
    }
}
