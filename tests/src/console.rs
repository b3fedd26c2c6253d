//! The staff console from the outside, as a browser without JavaScript would use it: sign in with
//! a key (the form's one-off token, then the session cookie), read pages, post forms with the
//! session's CSRF token. Redirects are not followed, so a test sees each 303 and where it leads.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};

use crate::TestApp;

/// A signed-in (or not yet signed-in) console session.
pub struct ConsoleClient {
    http: reqwest::Client,
    base: String,
    /// The `Cookie` header this client sends: the session cookie once signed in.
    pub cookies: Vec<(String, String)>,
}

/// The value of `name="<field>" value="…"` in a page: the forms' hidden fields.
pub fn hidden_field(html: &str, field: &str) -> Option<String> {
    let marker = format!("name=\"{field}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

fn set_cookies(response: &Response) -> Vec<(String, String, String)> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|raw| {
            let (pair, attributes) = raw.split_once(';').unwrap_or((raw, ""));
            let (name, value) = pair.split_once('=')?;
            Some((name.to_owned(), value.to_owned(), attributes.to_owned()))
        })
        .collect()
}

impl ConsoleClient {
    pub fn new(app: &TestApp) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            base: app.url(""),
            cookies: vec![],
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Keeps what the response set (and forgets what it cleared); returns the raw attributes of
    /// each cookie it set, by name.
    fn absorb(&mut self, response: &Response) -> Vec<(String, String)> {
        let mut attributes = vec![];
        for (name, value, attrs) in set_cookies(response) {
            self.cookies.retain(|(n, _)| *n != name);
            if !value.is_empty() {
                self.cookies.push((name.clone(), value));
            }
            attributes.push((name, attrs));
        }
        attributes
    }

    pub async fn get(&mut self, path: &str) -> Response {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("the console answers");
        self.absorb(&response);
        response
    }

    /// The page at `path`, which must answer 200.
    pub async fn page(&mut self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.expect("a page")
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .expect("the console answers");
        self.absorb(&response);
        response
    }

    /// Signs in with `key`: the sign-in form, then its post. Returns the post's response and the
    /// attributes of the session cookie it set (empty when it set none).
    pub async fn sign_in(&mut self, key: &str, hotel: Option<&str>) -> (Response, String) {
        let form = self.page("/console/sign-in").await;
        let token = hidden_field(&form, "csrf").expect("the sign-in form's token");
        let response = self
            .http
            .post(format!("{}/console/sign-in", self.base))
            .header(COOKIE, self.cookie_header())
            .form(&[
                ("key", key),
                ("csrf", token.as_str()),
                ("next", "/console"),
                ("hotel", hotel.unwrap_or("")),
            ])
            .send()
            .await
            .expect("the console answers");
        let attributes = self
            .absorb(&response)
            .into_iter()
            .find(|(name, _)| name == "conserje_console")
            .map(|(_, a)| a)
            .unwrap_or_default();
        (response, attributes)
    }

    /// Signs in with `key`, which must work.
    pub async fn signed_in(app: &TestApp, key: &str) -> Self {
        let mut client = Self::new(app);
        let (response, _) = client.sign_in(key, None).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "signed in");
        client
    }

    /// The session's CSRF token, read off the inbox page's sign-out form.
    pub async fn csrf(&mut self) -> String {
        let page = self.page("/console/figures").await;
        hidden_field(&page, "csrf").expect("a form with the session's token")
    }
}

/// Where a redirect leads.
pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `session_id` as the console's conversation path.
pub fn conversation_path(session_id: &str) -> String {
    format!("/console/conversations/{}", session_id.replace('/', "%2F"))
}
