//! The OpenAPI document (`GET /openapi.json`) against the router it describes.
//!
//! The routes are read from `gateway/src/app.rs`'s own source, as `access.rs` does, so a route
//! added to the router without its `#[utoipa::path]` (and its entry in
//! `conserje_gateway::openapi::ApiDoc`) fails here. Whether each answer matches the document is
//! schemathesis' job, against the running service, in `scripts/test.sh`.

use std::collections::{BTreeMap, BTreeSet};

use conserje_gateway::openapi;
use conserje_tests::{fresh_store, StoreKind, TestApp};
use reqwest::StatusCode;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn document() -> Value {
    serde_json::from_str(openapi::json()).expect("the document is JSON")
}

/// `(method, path)` of every route `app.rs` registers, from its `.route("<path>", <methods>)`.
fn routes_in_the_router() -> BTreeSet<(String, String)> {
    let source = include_str!("../../gateway/src/app.rs");
    let mut routes = BTreeSet::new();
    for chunk in source.split(".route(").skip(1) {
        let Some(rest) = chunk.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some((path, handlers)) = rest.split_once('"') else {
            continue;
        };
        // The method router ends where the next builder call on the router starts.
        let handlers = [".layer(", ".fallback(", ".merge(", ".with_state("]
            .iter()
            .filter_map(|end| handlers.find(end))
            .min()
            .map_or(handlers, |end| &handlers[..end]);
        for method in METHODS {
            let call = format!("{method}(");
            let found = handlers.match_indices(&call).any(|(at, _)| {
                at == 0
                    || handlers[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| matches!(c, '.' | ',' | '(' | ' ' | '\n'))
            });
            if found {
                routes.insert((method.to_owned(), path.to_owned()));
            }
        }
    }
    routes
}

/// `(method, path) → operation` of every operation the document describes.
fn operations(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut operations = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                operations.insert((method.to_owned(), path.clone()), operation.clone());
            }
        }
    }
    operations
}

fn security_schemes(operation: &Value) -> BTreeSet<String> {
    operation["security"]
        .as_array()
        .map(|requirements| {
            requirements
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|requirement| requirement.keys().cloned())
                .collect()
        })
        .unwrap_or_default()
}

fn needs_a_key(path: &str) -> bool {
    path.starts_with("/api/v1/") || path == "/metrics"
}

#[test]
fn the_document_describes_every_route_of_the_router_and_nothing_else() {
    let doc = document();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "an OpenAPI 3 document: {}",
        doc["openapi"]
    );
    let router = routes_in_the_router();
    assert!(
        router.contains(&("post".to_owned(), "/api/v1/messages".to_owned()))
            && router.contains(&("get".to_owned(), "/webhooks/whatsapp".to_owned()))
            && router.contains(&("post".to_owned(), "/webhooks/whatsapp".to_owned())),
        "the router's source was read: {router:?}"
    );
    let documented: BTreeSet<(String, String)> = operations(&doc).into_keys().collect();
    let missing: Vec<_> = router.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&router).collect();
    assert!(
        missing.is_empty(),
        "routes of app.rs the document does not describe (add #[utoipa::path] to the handler \
         and the handler to openapi::ApiDoc): {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "operations of the document app.rs does not route: {extra:?}"
    );
}

#[test]
fn every_api_operation_takes_a_bearer_key_and_nothing_else_does() {
    let doc = document();
    let scheme = &doc["components"]["securitySchemes"][openapi::BEARER];
    assert_eq!(scheme["type"], "http", "{scheme}");
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");
    assert_eq!(scheme["bearerFormat"], "cjk_<id>_<secret>", "{scheme}");
    for ((method, path), operation) in operations(&doc) {
        let schemes = security_schemes(&operation);
        if needs_a_key(&path) {
            assert_eq!(
                schemes,
                BTreeSet::from([openapi::BEARER.to_owned()]),
                "{method} {path} takes a bearer key"
            );
            let description = operation["description"].as_str().unwrap_or_default();
            assert!(
                description.contains("Roles:"),
                "{method} {path} says which roles may call it: {description:?}"
            );
            assert!(
                operation["responses"]["401"].is_object()
                    && operation["responses"]["403"].is_object(),
                "{method} {path} documents 401 and 403"
            );
        } else {
            assert!(
                !schemes.contains(openapi::BEARER),
                "{method} {path} is not behind a key"
            );
        }
        if path.starts_with("/webhooks/") && method == "post" {
            assert_eq!(
                schemes.len(),
                1,
                "{method} {path} has its provider's header auth"
            );
        }
    }
    for (scheme, header) in [
        ("whatsapp_signature", "X-Hub-Signature-256"),
        ("telegram_secret_token", "X-Telegram-Bot-Api-Secret-Token"),
    ] {
        let scheme = &doc["components"]["securitySchemes"][scheme];
        assert_eq!(scheme["type"], "apiKey", "{scheme}");
        assert_eq!(scheme["in"], "header", "{scheme}");
        assert_eq!(scheme["name"], header, "{scheme}");
    }
}

#[test]
fn every_error_answers_the_error_body_and_every_429_says_when_to_retry() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for ((method, path), operation) in operations(&doc) {
        let id = operation["operationId"].as_str().expect("an operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        let responses = operation["responses"].as_object().expect("responses");
        for (status, response) in responses {
            if !(status.starts_with('4') || status.starts_with('5')) || path.starts_with("/health/")
            {
                continue;
            }
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path} {status} answers ErrorBody"
            );
            if status == "429" {
                assert!(
                    response["headers"]["Retry-After"].is_object(),
                    "{method} {path} 429 has Retry-After"
                );
            }
            if status == "404" && needs_a_key(&path) {
                assert!(
                    operation["description"]
                        .as_str()
                        .is_some_and(|d| d.contains("404")),
                    "{method} {path} says another hotel's data answers 404"
                );
            }
        }
    }
}

/// Every string of the document, with where it is.
fn strings<'a>(value: &'a Value, at: String, found: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(text) => found.push((at, text)),
        Value::Array(items) => {
            for (n, item) in items.iter().enumerate() {
                strings(item, format!("{at}/{n}"), found);
            }
        }
        Value::Object(fields) => {
            for (name, field) in fields {
                strings(field, format!("{at}/{name}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn descriptions_read_as_written() {
    let doc = document();
    let mut found = Vec::new();
    strings(&doc, String::new(), &mut found);
    // A `\` line continuation the attribute macros did not take as one leaves both behind.
    let broken: Vec<_> = found
        .iter()
        .filter(|(_, text)| text.contains("\\\n") || text.contains("\n        "))
        .collect();
    assert!(
        broken.is_empty(),
        "strings with a broken line continuation: {broken:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_served_without_a_key() {
    let (options, _dir) = fresh_store(StoreKind::Sqlite).await;
    let app = TestApp::spawn(&options).await;
    let response = reqwest::get(app.url("/openapi.json"))
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "served as JSON"
    );
    let served: Value = response.json().await.expect("JSON");
    assert_eq!(served, document());
    app.stop().await;
}
