//! Errors as HTTP answers: a stable code per kind of error, JSON for the API
//! (`{"error": {"code": "...", "message": "..."}}`) and a small page for the browser.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::ServerError;

/// The stable error codes of the service, with their HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthenticated,
    SessionExpired,
    BadCredentials,
    AccountLocked,
    TooManyAttempts,
    Forbidden,
    CsrfMismatch,
    NotFound,
    BadRequest,
    MissingFile,
    EmptyFile,
    BadDiscoveredAt,
    UploadTooLarge,
    UploadInterrupted,
    PayloadTooLarge,
    Conflict,
    EvidenceGone,
    NotReady,
    Internal,
}

/// Every code, for the OpenAPI document and the tests.
pub const ERROR_CODES: &[ErrorCode] = &[
    ErrorCode::Unauthenticated,
    ErrorCode::SessionExpired,
    ErrorCode::BadCredentials,
    ErrorCode::AccountLocked,
    ErrorCode::TooManyAttempts,
    ErrorCode::Forbidden,
    ErrorCode::CsrfMismatch,
    ErrorCode::NotFound,
    ErrorCode::BadRequest,
    ErrorCode::MissingFile,
    ErrorCode::EmptyFile,
    ErrorCode::BadDiscoveredAt,
    ErrorCode::UploadTooLarge,
    ErrorCode::UploadInterrupted,
    ErrorCode::PayloadTooLarge,
    ErrorCode::Conflict,
    ErrorCode::EvidenceGone,
    ErrorCode::NotReady,
    ErrorCode::Internal,
];

impl ErrorCode {
    /// The stable name in JSON answers.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::BadCredentials => "bad_credentials",
            ErrorCode::AccountLocked => "account_locked",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::CsrfMismatch => "csrf_mismatch",
            ErrorCode::NotFound => "not_found",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::MissingFile => "missing_file",
            ErrorCode::EmptyFile => "empty_file",
            ErrorCode::BadDiscoveredAt => "bad_discovered_at",
            ErrorCode::UploadTooLarge => "upload_too_large",
            ErrorCode::UploadInterrupted => "upload_interrupted",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Conflict => "conflict",
            ErrorCode::EvidenceGone => "evidence_gone",
            ErrorCode::NotReady => "not_ready",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status of the code.
    pub fn status(self) -> StatusCode {
        use ErrorCode as C;
        match self {
            C::Unauthenticated | C::SessionExpired | C::BadCredentials => StatusCode::UNAUTHORIZED,
            C::AccountLocked | C::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            C::Forbidden | C::CsrfMismatch => StatusCode::FORBIDDEN,
            C::NotFound => StatusCode::NOT_FOUND,
            C::BadRequest | C::MissingFile | C::EmptyFile | C::BadDiscoveredAt => {
                StatusCode::BAD_REQUEST
            }
            C::UploadInterrupted => StatusCode::BAD_REQUEST,
            C::UploadTooLarge | C::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            C::Conflict | C::EvidenceGone | C::NotReady => StatusCode::CONFLICT,
            C::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    /// An error with a code and a message (never a personal value).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// An internal error: logged on the server's stderr, answered without details.
    pub fn internal(e: &dyn std::fmt::Display) -> ApiError {
        eprintln!("leaktrace serve: internal error: {e}");
        ApiError::new(ErrorCode::Internal, "internal error (see the server's log)")
    }

    /// The JSON answer.
    pub fn into_json(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code.as_str(),
                message: &self.message,
            },
        };
        (self.code.status(), axum::Json(body)).into_response()
    }

    /// The HTML answer.
    pub fn into_page(self) -> Response {
        crate::pages::error_page(&self)
    }
}

impl From<ServerError> for ApiError {
    fn from(e: ServerError) -> ApiError {
        match e {
            ServerError::Input(m) => ApiError::new(ErrorCode::BadRequest, m),
            other => ApiError::internal(&other),
        }
    }
}

/// An API handler's error (JSON).
#[derive(Debug)]
pub struct JsonError(pub ApiError);

impl<E: Into<ApiError>> From<E> for JsonError {
    fn from(e: E) -> JsonError {
        JsonError(e.into())
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        self.0.into_json()
    }
}

/// A page handler's error (HTML).
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> PageError {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.into_page()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_distinct() {
        let names: Vec<&str> = ERROR_CODES.iter().map(|c| c.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        for c in ERROR_CODES {
            let json = serde_json::to_value(c).unwrap();
            assert_eq!(json, c.as_str());
            assert!(c.status().is_client_error() || *c == ErrorCode::Internal);
        }
        assert_eq!(
            ErrorCode::UploadTooLarge.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(ErrorCode::CsrfMismatch.status(), StatusCode::FORBIDDEN);
    }
}
