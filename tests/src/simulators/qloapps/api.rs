//! `webservice/dispatcher.php` and `WebserviceRequest::fetch`: the URL, the key, the output
//! format and the checks every request passes, in QloApps' order, then the resource.
//!
//! Order of checks: no key at all → the dispatcher's plain-text 401; webservice off → 503
//! (code 22); bad key → 401 (17, 18, or 20 + 21); unknown resource → 400 (27); resource not
//! granted to the key → 401 (26); bad or forbidden method → 405 (23, 101, 25).

use std::time::Instant;

use base64::Engine as _;
use hyper::HeaderMap;

use super::store::Store;
use super::wire::{attr, closest, xml_document, ApiError, Format, Out};
use super::{ari, bookings, entities, Shared};

/// Every resource QloApps 1.6.1 registers (core plus the hotel module), `ksort`ed.
const RESOURCES: &[&str] = &[
    "addresses",
    "advance_payments",
    "booking_extra_demands",
    "bookings",
    "carriers",
    "cart_bookings",
    "cart_rules",
    "carts",
    "categories",
    "combinations",
    "configurations",
    "contacts",
    "content_management_system",
    "countries",
    "currencies",
    "customer_messages",
    "customer_threads",
    "customers",
    "customizations",
    "deliveries",
    "demand_advance_options",
    "employees",
    "extra_demands",
    "extra_services",
    "feature_prices",
    "groups",
    "guests",
    "hotel_ari",
    "hotel_features",
    "hotel_refund_rules",
    "hotel_room_types",
    "hotel_rooms",
    "hotels",
    "image_types",
    "images",
    "languages",
    "manufacturers",
    "order_carriers",
    "order_details",
    "order_discounts",
    "order_histories",
    "order_invoices",
    "order_payments",
    "order_slip",
    "order_states",
    "orders",
    "price_ranges",
    "product_customization_fields",
    "product_suppliers",
    "qlo",
    "room_bookings",
    "room_type_feature_values",
    "room_type_features",
    "room_type_option_values",
    "room_type_options",
    "room_types",
    "search",
    "services",
    "shop_groups",
    "shop_urls",
    "shops",
    "specific_price_rules",
    "specific_prices",
    "states",
    "stock_availables",
    "stock_movement_reasons",
    "stock_movements",
    "stocks",
    "stores",
    "suppliers",
    "supply_order_details",
    "supply_order_histories",
    "supply_order_receipt_histories",
    "supply_order_states",
    "supply_orders",
    "tags",
    "tax_rule_groups",
    "tax_rules",
    "taxes",
    "translated_configurations",
    "warehouse_product_locations",
    "warehouses",
    "weight_ranges",
    "zones",
];

/// A resource the simulator's key is granted, with the methods ticked for it.
struct Grant {
    name: &'static str,
    description: &'static str,
    methods: &'static [&'static str],
    /// Specific management resources list no schema links.
    specific: bool,
}

const ALL_METHODS: &[&str] = &["GET", "PUT", "POST", "DELETE", "HEAD"];
const READ_ONLY: &[&str] = &["GET", "HEAD"];

/// The key can use exactly these (the generic entities read-only: their writes are not
/// simulated, so they are refused the way a key without those boxes ticked is refused).
const GRANTS: &[Grant] = &[
    Grant {
        name: "bookings",
        description: "The Customer bookings",
        methods: ALL_METHODS,
        specific: true,
    },
    Grant {
        name: "hotel_ari",
        description: "Search availability, rates and inventory",
        methods: ALL_METHODS,
        specific: true,
    },
    Grant {
        name: "hotels",
        description: "Hotel Branch Information",
        methods: READ_ONLY,
        specific: false,
    },
    Grant {
        name: "orders",
        description: "The Customers orders",
        methods: READ_ONLY,
        specific: false,
    },
    Grant {
        name: "room_types",
        description: "The room types",
        methods: READ_ONLY,
        specific: false,
    },
];

/// A request's query string, PHP-decoded; the last of repeated names wins, as in `$_GET`.
#[derive(Debug, Default)]
pub(super) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(name), percent_decode(value))
            })
            .collect();
        Self { pairs }
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `filter[field]=value` pairs, in order, the last per field winning.
    pub(super) fn filters(&self) -> Vec<(String, String)> {
        let mut filters: Vec<(String, String)> = Vec::new();
        for (name, value) in &self.pairs {
            let Some(field) = name
                .strip_prefix("filter[")
                .and_then(|rest| rest.strip_suffix(']'))
            else {
                continue;
            };
            filters.retain(|(f, _)| f != field);
            filters.push((field.to_owned(), value.clone()));
        }
        filters
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One request as the resources see it.
pub(super) struct Request<'a> {
    /// After `ps_method`.
    pub(super) method: String,
    /// `url` split on `/`: the resource, then the id.
    pub(super) segments: Vec<String>,
    pub(super) query: Query,
    pub(super) body: &'a [u8],
    pub(super) format: Format,
    /// `{shop}/api/`, the base of every `xlink:href`.
    pub(super) ws_url: String,
    /// `PS_SHOP_DOMAIN`: the `source` of orders that give none.
    pub(super) shop_domain: String,
}

impl Request<'_> {
    /// The id segment, if one was given (`bookings/5`); an empty segment (`bookings/`) is none.
    pub(super) fn id_segment(&self) -> Option<&str> {
        self.segments
            .get(1)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// A resource's successful (or 404) answer.
#[derive(Debug)]
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: Option<String>,
    /// A booking was committed by this request (for `commit_then_hang_next`).
    pub(super) committed: bool,
}

impl Reply {
    pub(super) fn ok(body: String) -> Self {
        Self {
            status: 200,
            body: Some(body),
            committed: false,
        }
    }

    /// An unknown id: 404 with no body at all (`setOutputEnabled(false)`).
    pub(super) fn not_found() -> Self {
        Self {
            status: 404,
            body: None,
            committed: false,
        }
    }
}

/// What goes back on the wire.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: Option<String>,
    pub(super) committed: bool,
}

/// The output format a request asks for: header `Io-Format`, header `Output-Format`, query
/// `output_format`, query `io_format`, the first present deciding.
pub(super) fn format_of(headers: &HeaderMap, query: Option<&str>) -> Format {
    let query = Query::parse(query);
    let choice = headers
        .get("io-format")
        .or_else(|| headers.get("output-format"))
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .or_else(|| query.get("output_format").map(str::to_owned))
        .or_else(|| query.get("io_format").map(str::to_owned));
    Format::from_choice(choice.as_deref())
}

/// The key as the dispatcher finds it: Basic auth user name (`PHP_AUTH_USER`), else `ws_key`.
fn key_of(headers: &HeaderMap, query: &Query) -> Option<String> {
    let basic = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, credentials) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(credentials)
        })
        .and_then(|c| {
            base64::engine::general_purpose::STANDARD
                .decode(c.trim())
                .ok()
        })
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .map(|user_pass| {
            user_pass
                .split_once(':')
                .map_or(user_pass.clone(), |(user, _)| user.to_owned())
        });
    basic.or_else(|| query.get("ws_key").map(str::to_owned))
}

/// Handles one request that passed the fault injection.
pub(super) fn handle(
    shared: &Shared,
    method: &str,
    path: &str,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Answer {
    let started = Instant::now();
    let query = Query::parse(raw_query);
    let url = if path == "/api" {
        String::new()
    } else if let Some(rest) = path.strip_prefix("/api/") {
        percent_decode(rest)
    } else if path == "/webservice/dispatcher.php" {
        query.get("url").unwrap_or("").to_owned()
    } else {
        // Not the webservice: the web server's own 404.
        return Answer {
            status: 404,
            headers: Vec::new(),
            body: None,
            committed: false,
        };
    };
    let Some(key) = key_of(headers, &query) else {
        return unauthorized_plain();
    };
    let format = format_of(headers, raw_query);
    let method = query.get("ps_method").unwrap_or(method).to_owned();
    let request = Request {
        method,
        segments: url.split('/').map(str::to_owned).collect(),
        query,
        body,
        format,
        ws_url: format!("{}/api/", shared.base_url),
        shop_domain: shared.base_url.trim_start_matches("http://").to_owned(),
    };
    let mut headers = Vec::new();
    let outcome =
        checks(shared, &key, &request, &mut headers).and_then(|()| route(shared, &request));
    let (status, body, committed) = match outcome {
        Ok(reply) => (reply.status, reply.body, reply.committed),
        Err(error) => (error.status, Some(error.body(format)), false),
    };
    headers.extend([
        (
            "Access-Time",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
                .to_string(),
        ),
        ("X-Powered-By", "PrestaShop Webservice".to_owned()),
        ("PSWS-Version", "1.6.1.23".to_owned()),
        (
            "Execution-Time",
            format!("{:.3}", started.elapsed().as_secs_f64()),
        ),
    ]);
    if body.is_some() {
        headers.push(("Content-Type", format.content_type().to_owned()));
    }
    Answer {
        status,
        headers,
        body,
        committed,
    }
}

/// The dispatcher's answer when neither Basic auth nor `ws_key` was sent: plain text.
fn unauthorized_plain() -> Answer {
    Answer {
        status: 401,
        headers: vec![
            (
                "WWW-Authenticate",
                "Basic realm=\"Welcome to PrestaShop Webservice, please enter the authentication key as the login. No password required.\"".to_owned(),
            ),
            ("Content-Type", "text/html; charset=UTF-8".to_owned()),
        ],
        body: Some("401 Unauthorized".to_owned()),
        committed: false,
    }
}

/// `webserviceChecks`, `checkResource`, `checkHTTPMethod`.
fn checks(
    shared: &Shared,
    key: &str,
    request: &Request<'_>,
    headers: &mut Vec<(&'static str, String)>,
) -> Result<(), ApiError> {
    if !shared.faults.webservice_enabled() {
        return Err(ApiError::new(
            503,
            22,
            "The QloApps webservice is disabled. Please activate it in the QloApps Back Office",
        ));
    }
    let key = key.trim();
    let refused = if key.is_empty() {
        Some(ApiError::new(401, 17, "Authentication key is empty"))
    } else if key.len() != 32 {
        Some(ApiError::new(401, 18, "Invalid authentication key format"))
    } else if key != shared.api_key {
        // A well-formed key QloApps does not know: `isKeyActive` fails (20), and then there are
        // no permissions (21); PrestaShop answers both.
        Some(
            ApiError::new(401, 20, "Authentification key is not active")
                .and(21, "No permission for this authentication key"),
        )
    } else {
        None
    };
    if let Some(error) = refused {
        headers.push((
            "WWW-Authenticate",
            "Basic realm=\"Welcome to QloApps Webservice, please enter the authentication key as the login. No password required.\"".to_owned(),
        ));
        return Err(error);
    }
    let resource = request.segments[0].as_str();
    if resource.is_empty() {
        return check_method(request, None);
    }
    if !RESOURCES.contains(&resource) {
        return Err(ApiError::new(400, 27, did_you_mean(resource)));
    }
    let Some(grant) = GRANTS.iter().find(|g| g.name == resource) else {
        return Err(ApiError::new(
            401,
            26,
            format!("Resource of type \"{resource}\" is not allowed with this authentication key"),
        ));
    };
    check_method(request, Some(grant))
}

fn did_you_mean(resource: &str) -> String {
    format!(
        "Resource of type \"{resource}\" does not exists. Did you mean: \"{}\"? The full list is: \"{}\"",
        closest(resource, RESOURCES),
        RESOURCES.join("\", \"")
    )
}

fn check_method(request: &Request<'_>, grant: Option<&Grant>) -> Result<(), ApiError> {
    let method = request.method.as_str();
    if !ALL_METHODS.contains(&method) {
        return Err(ApiError::new(
            405,
            23,
            format!("Method {method} is not valid"),
        ));
    }
    let Some(grant) = grant else {
        return Ok(());
    };
    if grant.name == "bookings" && method == "DELETE" {
        return Err(ApiError::new(
            405,
            101,
            format!(
                "Method DELETE is not allowed for the resource {}",
                grant.name
            ),
        ));
    }
    if !grant.methods.contains(&method) {
        return Err(ApiError::new(
            405,
            25,
            format!(
                "Method {method} is not allowed for the resource {} with this authentication key",
                grant.name
            ),
        ));
    }
    Ok(())
}

fn route(shared: &Shared, request: &Request<'_>) -> Result<Reply, ApiError> {
    let mut store = super::lock(&shared.store);
    let store: &mut Store = &mut store;
    match request.segments[0].as_str() {
        "" => Ok(Reply::ok(resource_list(request))),
        "bookings" => bookings::handle(store, request),
        "hotel_ari" => ari::handle(store, request),
        other => entities::handle(store, request, other),
    }
}

/// `GET /api/`: the resources the key may use (`getResourcesList`). In JSON the renderer keeps
/// nothing but the node names, so the answer is a bare array of them.
fn resource_list(request: &Request<'_>) -> String {
    if request.format == Format::Json {
        let names = GRANTS.iter().map(|g| Out::str(g.name)).collect();
        return Out::List(names).json(false);
    }
    let mut out = String::from("<api shopName=\"QloApps\">\n");
    for grant in GRANTS {
        let flag = |m: &str| grant.methods.contains(&m).to_string();
        let attrs = format!(
            " xlink:href=\"{}\" get=\"{}\" put=\"{}\" post=\"{}\" delete=\"{}\" head=\"{}\"",
            attr(&format!("{}{}", request.ws_url, grant.name)),
            flag("GET"),
            flag("PUT"),
            flag("POST"),
            flag("DELETE"),
            flag("HEAD")
        );
        out.push_str(&format!(
            "<{name}{attrs}>\n<description{attrs}>\n{}</description>\n",
            grant.description,
            name = grant.name
        ));
        if !grant.specific {
            for schema in ["blank", "synopsis"] {
                out.push_str(&format!(
                    "<schema xlink:href=\"{}{}?schema={schema}\" type=\"{schema}\"/>\n",
                    request.ws_url, grant.name
                ));
            }
        }
        out.push_str(&format!("</{}>\n", grant.name));
    }
    out.push_str("</api>\n");
    xml_document(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_like_php() {
        let query = Query::parse(Some(
            "filter%5Bsource%5D=%5Bweb%7Cphone%5D&display=full&a=1+2",
        ));
        assert_eq!(
            query.filters(),
            vec![("source".to_owned(), "[web|phone]".to_owned())]
        );
        assert_eq!(query.get("display"), Some("full"));
        assert_eq!(query.get("a"), Some("1 2"));
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn unknown_resources_suggest_the_closest() {
        assert!(did_you_mean("booking").contains("Did you mean: \"bookings\"?"));
    }
}
