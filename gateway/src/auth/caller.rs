//! The authenticated caller of an API route, in the style of realworld-axum-sqlx's `AuthUser`.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use conserje_domain::api_key::{KeyId, Role, Scope};
use conserje_domain::metadata::Actor;
use conserje_domain::values::{Channel, TenantId};
use conserje_domain::EventMetadata;
use std::net::SocketAddr;

use super::key_ring::{Grant, KeyRing};
use crate::error::ApiError;

/// The channel of everything done through the API.
pub const API_CHANNEL: Channel = Channel::Api;

/// Through what a caller acts: the audit trail's "through what" (the events' metadata channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `Authorization: Bearer <key>` on `/api/v1`.
    Api,
    /// A signed-in session of the staff console (`/console`).
    Console,
}

impl Via {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Api => API_CHANNEL.as_str(),
            Self::Console => "console",
        }
    }
}

/// Who is calling, proven by an API key (or a console session opened with one), with where the
/// request came from.
#[derive(Debug, Clone)]
pub struct Caller {
    grant: Grant,
    via: Via,
    source_ip: Option<String>,
    traceparent: Option<String>,
}

/// Router states that can check keys (a local trait: axum's `FromRef` cannot be implemented for
/// `Arc<KeyRing>` from `Arc<Runtime>` here, both being foreign types).
pub trait KeyState {
    fn key_ring(&self) -> &KeyRing;
}

impl<S> FromRequestParts<S> for Caller
where
    S: KeyState + Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthorized {
                code: "unauthenticated",
                message: "this endpoint needs an API key: Authorization: Bearer <key>".into(),
            })?;
        let presented = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthorized {
                code: "unauthenticated",
                message: "the Authorization header must be Bearer <key>".into(),
            })?;
        let grant = state.key_ring().check(presented).await?;
        let source_ip = source_ip(parts);
        let traceparent = parts
            .headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Self {
            grant,
            via: Via::Api,
            source_ip,
            traceparent,
        })
    }
}

/// The address a request came from, as the server saw it.
pub(crate) fn source_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip().to_string())
}

impl Caller {
    /// The caller of a console session opened with the key `grant` describes.
    pub(crate) fn console(grant: Grant, source_ip: Option<String>) -> Self {
        Self {
            grant,
            via: Via::Console,
            source_ip,
            traceparent: None,
        }
    }

    /// Through what the caller acts.
    pub fn via(&self) -> Via {
        self.via
    }

    pub fn role(&self) -> Role {
        self.grant.role
    }

    pub fn key_id(&self) -> &KeyId {
        &self.grant.key_id
    }

    pub fn scope(&self) -> &Scope {
        &self.grant.scope
    }

    /// The actor of what this caller does: `<role>:<key name>`.
    pub fn actor(&self) -> Actor {
        Actor::key(self.grant.role, &self.grant.name)
    }

    /// Refuses (403) a caller whose role is not among `allowed`.
    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.grant.role) {
            return Ok(());
        }
        let roles: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
        Err(ApiError::Forbidden {
            code: "forbidden",
            message: format!(
                "a key of role {} cannot do this; it needs role {}",
                self.grant.role,
                roles.join(" or ")
            ),
        })
    }

    /// Refuses `what` of another hotel as not found (404): a key must not learn that another
    /// hotel's conversation or reservation exists.
    pub fn hotel(&self, tenant: &TenantId, what: &str) -> Result<(), ApiError> {
        if self.grant.scope.covers(tenant) {
            Ok(())
        } else {
            Err(ApiError::NotFound(format!("{what} not found")))
        }
    }

    /// The hotel a request names (`requested`), or the key's own hotel when it names none. A key
    /// of every hotel must name one.
    pub fn hotel_named(&self, requested: Option<&str>) -> Result<TenantId, ApiError> {
        let tenant = match (requested, self.grant.scope.hotel()) {
            (Some(raw), _) => TenantId::parse(raw)
                .map_err(|e| ApiError::bad_request("invalid_tenant", e.to_string()))?,
            (None, Some(own)) => own.clone(),
            (None, None) => {
                return Err(ApiError::bad_request(
                    "tenant_required",
                    "a key of every hotel must name the hotel (tenant_id)",
                ))
            }
        };
        self.hotel(&tenant, &format!("hotel {tenant}"))?;
        Ok(tenant)
    }

    /// The audit metadata of a command this caller sends for `tenant`: actor, channel (`api`, or
    /// `console`),
    /// source address and trace, built here once rather than by each handler. The trace is the
    /// current span's (`webhook.receive` of `POST /api/v1/messages`) when tracing is on, else the
    /// caller's `traceparent` as it came.
    pub fn metadata(&self, tenant: TenantId) -> EventMetadata {
        let mut meta = EventMetadata::new(tenant, self.actor(), self.via.as_str())
            .with_source_ip(self.source_ip.clone());
        meta.traceparent = conserje_trace::current_or(self.traceparent.as_deref());
        meta
    }
}
