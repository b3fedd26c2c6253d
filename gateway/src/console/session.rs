//! Signing in to the console with a staff key, the session it opens, and the CSRF token of its
//! forms.
//!
//! The key is typed once and exchanged for a session: a random token in an `HttpOnly`,
//! `SameSite=Strict` cookie scoped to `/console`, whose SHA-256 is recorded on the key's own
//! stream (`ConsoleSignedIn`), so sign-ins are audited like every key change, a revoked or
//! expired key ends its sessions, and sign-out (`ConsoleSignedOut`) ends the session everywhere
//! (in other processes within the key cache time, as a revocation). The key itself is never
//! stored in the browser.
//!
//! Every form carries a CSRF token derived from the session cookie (its SHA-256 under a
//! separate label): a page of another site can neither read the cookie nor compute the token,
//! and `SameSite=Strict` keeps the browser from sending the cookie with its requests anyway. The
//! sign-in form, which has no session yet, carries a one-off token doubled in a cookie.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use conserje_domain::api_key::{Role, Scope};
use conserje_domain::metadata::Actor;
use conserje_domain::values::TenantId;
use conserje_domain::EventMetadata;
use maud::html;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ConsoleError;
use super::page;
use crate::auth::{source_ip, Caller, Via};
use crate::error::ApiError;
use crate::routes::keys::tenant_of;
use crate::Runtime;

/// The session cookie: `<key id>.<token>`.
pub const SESSION_COOKIE: &str = "conserje_console";
/// The hotel an admin key of every hotel chose at sign-in (harmless to alter: such a key may see
/// every hotel, and the scope is checked on every read as for any key).
const HOTEL_COOKIE: &str = "conserje_hotel";
/// The sign-in form's one-off CSRF token.
const SIGN_IN_COOKIE: &str = "conserje_sign_in";
/// How long a sign-in form stays usable.
const SIGN_IN_FORM_SECONDS: u64 = 1800;

/// A signed-in member of staff: the extractor of every console page. Without a valid session
/// the request is sent to the sign-in page (see [`ConsoleError::SignIn`]).
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub caller: Caller,
    hotel: TenantId,
    cookie: String,
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn random_hex(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| ApiError::Internal(format!("no randomness from the OS: {e}")))?;
    Ok(hex::encode(buf))
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Where to go after signing in: a console page of this site, never another origin.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with("/console")
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.starts_with("/console/sign-") =>
        {
            path.to_owned()
        }
        _ => "/console".to_owned(),
    }
}

/// A `Set-Cookie` value for the console's cookies.
fn set_cookie(name: &str, value: &str, max_age_seconds: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}"
    ))
    .expect("cookie values are hex digits and hotel ids")
}

fn secure(rt: &Runtime, headers: &HeaderMap) -> bool {
    rt.console.secure_cookie
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

impl FromRequestParts<Arc<Runtime>> for StaffSession {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        rt: &Arc<Runtime>,
    ) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/console".to_owned());
        let sign_in = || ConsoleError::SignIn { next: next.clone() };
        let cookie = cookie(&parts.headers, SESSION_COOKIE)
            .ok_or_else(sign_in)?
            .to_owned();
        let grant = match rt.keys.console_session(&cookie).await {
            Ok(grant) => grant,
            Err(ApiError::Unauthorized { .. }) => return Err(sign_in()),
            Err(other) => return Err(other.into()),
        };
        let hotel = match grant.scope.hotel() {
            Some(own) => own.clone(),
            None => cookie_hotel(&parts.headers).unwrap_or_else(TenantId::default_hotel),
        };
        Ok(Self {
            caller: Caller::console(grant, source_ip(parts)),
            hotel,
            cookie,
        })
    }
}

fn cookie_hotel(headers: &HeaderMap) -> Option<TenantId> {
    cookie(headers, HOTEL_COOKIE).and_then(|raw| TenantId::parse(raw).ok())
}

impl StaffSession {
    /// The hotel the console shows: the key's own, or the one an admin of every hotel chose.
    pub fn hotel(&self) -> &TenantId {
        &self.hotel
    }

    /// The key's name: who the staff member is.
    pub fn name(&self) -> String {
        self.caller.actor().as_str().to_owned()
    }

    pub fn role(&self) -> Role {
        self.caller.role()
    }

    /// The token every form of this session carries.
    pub fn csrf(&self) -> String {
        sha256_hex(&format!("csrf:{}", self.cookie))
    }

    /// Refuses (403) a form whose token is not this session's: a request forged by another
    /// page, or a form from a session since ended.
    pub fn check(&self, presented: &str) -> Result<(), ConsoleError> {
        if equal(presented, &self.csrf()) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                code: "csrf",
                message: "this form is not from your current console session; reload the page \
                          and try again"
                    .into(),
            }
            .into())
        }
    }

    /// The audit metadata of what this member of staff does in the console.
    pub fn metadata(&self) -> EventMetadata {
        self.caller.metadata(self.hotel.clone())
    }
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

/// `GET /console/sign-in`
pub async fn sign_in_page(
    State(rt): State<Arc<Runtime>>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Result<Response, ConsoleError> {
    sign_in_form(&rt, &headers, query.next.as_deref(), None, StatusCode::OK)
}

fn sign_in_form(
    rt: &Runtime,
    headers: &HeaderMap,
    next: Option<&str>,
    problem: Option<&str>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let token = random_hex(16)?;
    let next = safe_next(next);
    let body = html! {
        div.card {
            h1 { "Sign in to the console" }
            p.muted { "Use the staff key the hotel's administrator gave you. It is exchanged for a \
                session that lasts one shift; the key itself is not kept in this browser." }
            @if let Some(problem) = problem {
                p.error role="alert" { (problem) }
            }
            form method="post" action="/console/sign-in" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                label for="key" { "Staff key" }
                input #key type="password" name="key" required autocomplete="off"
                    spellcheck="false" size="48" placeholder="cjk_…";
                label for="hotel" { "Hotel " span.muted { "(only for a key of every hotel)" } }
                input #hotel type="text" name="hotel" autocomplete="off" pattern="[a-z0-9_-]{1,64}";
                div.actions { button type="submit" { "Sign in" } }
            }
        }
    };
    let mut response = page::bare("Sign in", body);
    *response.status_mut() = status;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            SIGN_IN_COOKIE,
            &token,
            SIGN_IN_FORM_SECONDS,
            secure(rt, headers),
        ),
    );
    Ok(response)
}

/// The address a request came from, when the server knows it.
pub struct SourceIp(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for SourceIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(source_ip(parts)))
    }
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    key: String,
    csrf: String,
    next: Option<String>,
    hotel: Option<String>,
}

/// `POST /console/sign-in`: the key for a session cookie.
pub async fn sign_in(
    State(rt): State<Arc<Runtime>>,
    headers: HeaderMap,
    SourceIp(ip): SourceIp,
    Form(form): Form<SignInForm>,
) -> Result<Response, ConsoleError> {
    let next = form.next.as_deref();
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !equal(&form.csrf, expected) {
        return sign_in_form(
            &rt,
            &headers,
            next,
            Some("The sign-in form expired. Please type your key again."),
            StatusCode::FORBIDDEN,
        );
    }
    let chosen_hotel = match form.hotel.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => match TenantId::parse(raw) {
            Ok(hotel) => Some(hotel),
            Err(e) => {
                return sign_in_form(
                    &rt,
                    &headers,
                    next,
                    Some(&e.to_string()),
                    StatusCode::BAD_REQUEST,
                )
            }
        },
    };
    let expires_at = rt.clock.now()
        + chrono::Duration::from_std(rt.console.session).unwrap_or(chrono::Duration::hours(12));
    let signed_in = rt
        .keys
        .sign_in(form.key.trim(), expires_at, |grant| {
            EventMetadata::new(
                tenant_of(&grant.scope),
                Actor::key(grant.role, &grant.name),
                Via::Console.as_str(),
            )
            .with_source_ip(ip.clone())
        })
        .await;
    let (session, grant) = match signed_in {
        Ok(signed_in) => signed_in,
        Err(ApiError::Unauthorized { .. }) => {
            return sign_in_form(
                &rt,
                &headers,
                next,
                Some("That key is unknown, revoked or expired."),
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(ApiError::Refused { message, .. }) => {
            return sign_in_form(&rt, &headers, next, Some(&message), StatusCode::FORBIDDEN)
        }
        Err(other) => return Err(other.into()),
    };
    let secure = secure(&rt, &headers);
    let max_age = rt.console.session.as_secs();
    let mut response = Redirect::to(&safe_next(next)).into_response();
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &session, max_age, secure),
    );
    cookies.append(
        header::SET_COOKIE,
        set_cookie(SIGN_IN_COOKIE, "", 0, secure),
    );
    if grant.scope == Scope::AllHotels {
        let hotel = chosen_hotel.unwrap_or_else(TenantId::default_hotel);
        cookies.append(
            header::SET_COOKIE,
            set_cookie(HOTEL_COOKIE, hotel.as_str(), max_age, secure),
        );
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /console/sign-out`
pub async fn sign_out(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    staff.check(&form.csrf)?;
    rt.keys.sign_out(&staff.cookie, staff.metadata()).await?;
    let secure = secure(&rt, &headers);
    let mut response = Redirect::to("/console/sign-in").into_response();
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, secure),
    );
    cookies.append(header::SET_COOKIE, set_cookie(HOTEL_COOKIE, "", 0, secure));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_pages_of_this_site_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/console/bookings")), "/console/bookings");
        assert_eq!(safe_next(Some("//evil.example/console")), "/console");
        assert_eq!(safe_next(Some("https://evil.example")), "/console");
        assert_eq!(safe_next(Some("/console/sign-out")), "/console");
        assert_eq!(safe_next(Some("/console\\@evil")), "/console");
        assert_eq!(safe_next(None), "/console");
    }

    #[test]
    fn cookies_are_read_by_name_among_several() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; conserje_console=k.t"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("k.t"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
