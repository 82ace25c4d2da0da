//! Who may do what: roles, the central route → minimum-access table ([`ROUTES`]) checked by
//! [`guard`] on every request (a route missing from the table is refused), sessions with CSRF
//! tokens, API bearer tokens, password hashing (Argon2id) and the login lockout rule.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorCode};
use crate::{AppState, ServerError};

/// A user's role, ordered: each role may do what the ones below it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reports and aggregates only.
    Viewer,
    /// Upload, analyse, drafts, the affected-persons list.
    Analyst,
    /// Users, sources, enrolment, the audit trail.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Analyst, Role::Admin];

    /// The stable name (`viewer`, `analyst`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// Parse a stable name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Who may reach a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (login, assets, the API description).
    Public,
    /// A signed-in user with at least this role.
    AtLeast(Role),
}

/// HTTP methods the service routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

impl Verb {
    fn of(m: &Method) -> Option<Verb> {
        match *m {
            Method::GET | Method::HEAD => Some(Verb::Get),
            Method::POST => Some(Verb::Post),
            _ => None,
        }
    }

    /// The method as axum names it.
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
        }
    }
}

/// One row of the access table.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub verb: Verb,
    /// The route pattern exactly as the router declares it.
    pub path: &'static str,
    pub access: Access,
}

const fn r(verb: Verb, path: &'static str, access: Access) -> Route {
    Route { verb, path, access }
}

use Access::{AtLeast, Public};
use Role::{Admin, Analyst, Viewer};
use Verb::{Get, Post};

/// The access table: every route the service has, with its minimum access. The guard refuses a
/// request whose route is not here (deny by default); a test checks that the router and this
/// table list the same routes.
pub const ROUTES: &[Route] = &[
    r(Get, "/assets/{name}", Public),
    r(Get, "/lang/{lang}", Public),
    r(Get, "/login", Public),
    r(Post, "/login", Public),
    r(Post, "/logout", AtLeast(Viewer)),
    r(Get, "/", AtLeast(Viewer)),
    r(Get, "/incidents/new", AtLeast(Analyst)),
    r(Post, "/incidents", AtLeast(Analyst)),
    r(Get, "/incidents/{id}", AtLeast(Viewer)),
    r(Get, "/incidents/{id}/report", AtLeast(Viewer)),
    r(Get, "/incidents/{id}/drafts/{name}", AtLeast(Analyst)),
    r(Get, "/incidents/{id}/drafts/{name}/edit", AtLeast(Analyst)),
    r(Post, "/incidents/{id}/drafts/{name}/edit", AtLeast(Analyst)),
    r(Get, "/incidents/{id}/edited/{name}", AtLeast(Analyst)),
    r(
        Get,
        "/incidents/{id}/affected_persons.csv",
        AtLeast(Analyst),
    ),
    r(Post, "/incidents/{id}/analyse", AtLeast(Analyst)),
    r(Post, "/incidents/{id}/cancel", AtLeast(Analyst)),
    r(Post, "/incidents/{id}/status", AtLeast(Analyst)),
    r(Post, "/incidents/{id}/selfcheck", AtLeast(Analyst)),
    r(Get, "/users", AtLeast(Admin)),
    r(Post, "/users", AtLeast(Admin)),
    r(Get, "/audit", AtLeast(Admin)),
    r(Get, "/sources", AtLeast(Admin)),
    r(Post, "/sources", AtLeast(Admin)),
    r(Get, "/api/v1/openapi.json", Public),
    r(Post, "/api/v1/login", Public),
    r(Post, "/api/v1/logout", AtLeast(Viewer)),
    r(Get, "/api/v1/me", AtLeast(Viewer)),
    r(Post, "/api/v1/tokens", AtLeast(Viewer)),
    r(Get, "/api/v1/incidents", AtLeast(Viewer)),
    r(Post, "/api/v1/incidents", AtLeast(Analyst)),
    r(Get, "/api/v1/incidents/{id}", AtLeast(Viewer)),
    r(Get, "/api/v1/incidents/{id}/events", AtLeast(Viewer)),
    r(Get, "/api/v1/incidents/{id}/report", AtLeast(Viewer)),
    r(
        Get,
        "/api/v1/incidents/{id}/drafts/{name}",
        AtLeast(Analyst),
    ),
    r(
        Get,
        "/api/v1/incidents/{id}/drafts/{name}/edit",
        AtLeast(Analyst),
    ),
    r(
        Post,
        "/api/v1/incidents/{id}/drafts/{name}/edit",
        AtLeast(Analyst),
    ),
    r(
        Get,
        "/api/v1/incidents/{id}/edited/{name}",
        AtLeast(Analyst),
    ),
    r(
        Get,
        "/api/v1/incidents/{id}/affected_persons.csv",
        AtLeast(Analyst),
    ),
    r(Post, "/api/v1/incidents/{id}/analyse", AtLeast(Analyst)),
    r(Post, "/api/v1/incidents/{id}/cancel", AtLeast(Analyst)),
    r(Post, "/api/v1/incidents/{id}/status", AtLeast(Analyst)),
    r(Post, "/api/v1/incidents/{id}/selfcheck", AtLeast(Analyst)),
    r(Get, "/api/v1/users", AtLeast(Admin)),
    r(Post, "/api/v1/users", AtLeast(Admin)),
    r(Get, "/api/v1/audit", AtLeast(Admin)),
    r(Get, "/api/v1/sources", AtLeast(Admin)),
    r(Post, "/api/v1/sources", AtLeast(Admin)),
];

/// The access rule of a route, if the table has it.
pub fn access_of(verb: Verb, path: &str) -> Option<Access> {
    ROUTES
        .iter()
        .find(|r| r.verb == verb && r.path == path)
        .map(|r| r.access)
}

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A session cookie: state changes need the session's CSRF token.
    Session,
    /// An API bearer token (scripts): no cookie, so no CSRF.
    Token,
}

/// The signed-in user of a request (a request extension set by [`guard`]).
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    pub via: Via,
    /// The session's CSRF token (sessions only).
    pub csrf: Option<String>,
    /// SHA-256 of the session cookie (sessions only), to end it.
    pub session: Option<String>,
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "lt_session";
/// Header carrying the CSRF token of a session (API calls, scripts of the pages).
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Failed logins in a row before an account is locked.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// How long a locked account stays locked, in seconds.
pub const LOCKOUT_SECONDS: i64 = 15 * 60;
/// Largest url-encoded form body the guard reads to find a CSRF field (an edited draft of
/// [`crate::drafts_edit::DRAFT_MAX`] bytes, percent-encoded, fits).
const FORM_LIMIT: usize = 1 << 20;

/// SHA-256 hex of a secret (session cookies and API tokens are stored only hashed).
pub fn token_hash(token: &str) -> String {
    crate::audit::hex(&Sha256::digest(token.as_bytes()))
}

/// A new random secret: 32 bytes as hex, with a prefix.
pub fn new_secret(prefix: &str) -> Result<String, ServerError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| ServerError::Random(e.to_string()))?;
    Ok(format!("{prefix}{}", crate::audit::hex(&b)))
}

/// Hash a password with Argon2id (default parameters, random salt), as a PHC string.
pub fn hash_password(password: &str) -> Result<String, ServerError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ServerError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ServerError::Password(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| ServerError::Password(e.to_string()))?
        .to_string())
}

/// Check a password against a PHC string (false on any mismatch or malformed hash).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A password the service accepts: 12 to 1024 characters.
pub fn check_password_policy(password: &str) -> Result<(), ServerError> {
    let n = password.chars().count();
    if !(12..=1024).contains(&n) {
        return Err(ServerError::Input(
            "a password has 12 to 1024 characters".into(),
        ));
    }
    Ok(())
}

/// A user name the service accepts: 1–64 ASCII letters, digits, `.`, `_`, `-`.
pub fn check_user_name(name: &str) -> Result<(), ServerError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ServerError::Input(
            "a user name has 1 to 64 ASCII letters, digits, '.', '_' or '-'".into(),
        ))
    }
}

/// The value of a cookie in a request.
pub fn cookie<'a>(req: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    req.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// What the credentials of a request say.
enum Found {
    None,
    Expired,
    User(Identity),
}

fn identify(state: &AppState, headers: &axum::http::HeaderMap) -> Result<Found, ServerError> {
    let store = state.store();
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let Some(token) = auth.strip_prefix("Bearer ") else {
            return Ok(Found::None);
        };
        return Ok(match store.token_user(&token_hash(token.trim()))? {
            Some(u) if !u.disabled => Found::User(Identity {
                user_id: u.id,
                name: u.name,
                role: u.role,
                via: Via::Token,
                csrf: None,
                session: None,
            }),
            _ => Found::None,
        });
    }
    let Some(c) = cookie(headers, SESSION_COOKIE) else {
        return Ok(Found::None);
    };
    let hash = token_hash(c);
    Ok(match store.session(&hash)? {
        Some(s) if s.expires_at <= crate::now_unix() => {
            store.delete_session(&hash)?;
            Found::Expired
        }
        Some(s) if !s.user.disabled => Found::User(Identity {
            user_id: s.user.id,
            name: s.user.name,
            role: s.user.role,
            via: Via::Session,
            csrf: Some(s.csrf),
            session: Some(hash),
        }),
        _ => Found::None,
    })
}

/// Constant-time comparison of two secrets.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Check a session's CSRF token on a state change: the `x-csrf-token` header, else a `csrf`
/// query parameter (multipart forms), else a `csrf` field of a url-encoded form body (read and
/// put back). Returns the request to pass on.
async fn check_csrf(req: Request, expected: &str) -> Result<Request, ApiError> {
    let bad = || ApiError::new(ErrorCode::CsrfMismatch, "missing or wrong CSRF token");
    if let Some(h) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if same(h, expected) {
            Ok(req)
        } else {
            Err(bad())
        };
    }
    if let Some(q) = query_param(req.uri().query(), "csrf") {
        return if same(q, expected) {
            Ok(req)
        } else {
            Err(bad())
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(bad());
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| ApiError::new(ErrorCode::PayloadTooLarge, "form too large"))?;
    let found = form_urlencoded_field(&bytes, "csrf");
    if !found.as_deref().is_some_and(|v| same(v, expected)) {
        return Err(bad());
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

/// One field of an `application/x-www-form-urlencoded` body (tokens are hex: no decoding
/// beyond `+`/`%XX` is needed, and none is done for other bytes).
fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The middleware on every route: look the route up in [`ROUTES`] (absent → refused), find the
/// user from a bearer token or the session cookie, check the role, and on a state change made
/// with a session check its CSRF token. Pages answer an anonymous request with a redirect to the
/// login page; the API with 401.
pub async fn guard(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let fail = |e: ApiError| if api { e.into_json() } else { e.into_page() };
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let Some(path) = path else {
        // No route matched: the router's own 404/405 answers.
        return next.run(req).await;
    };
    if req.method() == Method::POST && crate::throttle::LOGIN_ROUTES.contains(&path.as_str()) {
        let addr = crate::throttle::client_addr(&req, &state.config.trusted_proxies);
        if let Err(wait) = state.login_throttle.check(addr) {
            return throttled(&state, api, req.headers(), wait);
        }
    }
    let access = Verb::of(req.method()).and_then(|v| access_of(v, &path));
    let Some(access) = access else {
        return fail(ApiError::new(
            ErrorCode::Forbidden,
            "this route has no access rule",
        ));
    };
    let found = match identify(&state, req.headers()) {
        Ok(f) => f,
        Err(e) => return fail(ApiError::internal(&e)),
    };
    let identity = match found {
        Found::User(i) => Some(i),
        Found::Expired if access != Public => {
            return if api {
                ApiError::new(
                    ErrorCode::SessionExpired,
                    "the session has expired; sign in again",
                )
                .into_json()
            } else {
                crate::pages::to_login()
            };
        }
        _ => None,
    };
    if let AtLeast(min) = access {
        let Some(id) = &identity else {
            return if api {
                ApiError::new(ErrorCode::Unauthenticated, "sign in or send a bearer token")
                    .into_json()
            } else {
                crate::pages::to_login()
            };
        };
        if id.role < min {
            return fail(ApiError::new(
                ErrorCode::Forbidden,
                format!("this needs the {} role", min.as_str()),
            ));
        }
    }
    if req.method() == Method::POST {
        if let Some(Identity {
            via: Via::Session,
            csrf: Some(expected),
            ..
        }) = &identity
        {
            let expected = expected.clone();
            req = match check_csrf(req, &expected).await {
                Ok(r) => r,
                Err(e) => return fail(e),
            };
        }
    }
    if let Some(id) = identity {
        req.extensions_mut().insert(id);
    }
    next.run(req).await
}

/// The answer to a sign-in over its address's budget: 429 `too_many_attempts` with
/// `Retry-After`, as JSON for the API and as the login page with a message for the browser. The
/// refusal is audited without the address or the name tried.
fn throttled(
    state: &AppState,
    api: bool,
    headers: &axum::http::HeaderMap,
    wait: std::time::Duration,
) -> Response {
    state.audit("-", crate::audit::Action::LoginThrottled, "login");
    let mut resp = if api {
        ApiError::new(
            ErrorCode::TooManyAttempts,
            "too many sign-in attempts from this address; try again later",
        )
        .into_json()
    } else {
        crate::pages::throttled_page(headers)
    };
    crate::throttle::set_retry_after(resp.headers_mut(), wait);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_parse() {
        assert!(Role::Viewer < Role::Analyst && Role::Analyst < Role::Admin);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn table_has_no_duplicates_and_protects_data() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(!(a.verb == b.verb && a.path == b.path), "{}", a.path);
            }
        }
        // Only these are public; everything about incidents needs a role.
        let public: Vec<&str> = ROUTES
            .iter()
            .filter(|r| r.access == Public)
            .map(|r| r.path)
            .collect();
        assert_eq!(
            public,
            [
                "/assets/{name}",
                "/lang/{lang}",
                "/login",
                "/login",
                "/api/v1/openapi.json",
                "/api/v1/login"
            ]
        );
        for r in ROUTES {
            if r.path.contains("affected_persons")
                || r.path.contains("drafts")
                || r.path.contains("edited")
            {
                assert_eq!(r.access, AtLeast(Analyst), "{}", r.path);
            }
            if r.path.contains("users") || r.path.contains("audit") || r.path.contains("sources") {
                assert_eq!(r.access, AtLeast(Admin), "{}", r.path);
            }
        }
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(check_password_policy("short").is_err());
        assert!(check_user_name("../etc").is_err());
        assert!(check_user_name("alice.dpo").is_ok());
    }
}
