//! The API's one error type. Every failure a handler can meet is a variant here, and this is
//! the only place that decides its HTTP status and JSON body (`{"error", "message"}`, the
//! original service's fields). Messages never contain secrets.

use std::fmt;

/// An upstream service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    Replicate,
    Anthropic,
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Upstream::Replicate => "Replicate",
            Upstream::Anthropic => "Anthropic",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The request itself is malformed (bad owner/model name, bad parameter).
    BadRequest(String),
    /// No such route.
    RouteNotFound(String),
    /// The route exists but not for this method; `allowed` is the `Allow` header's value.
    MethodNotAllowed { method: String, allowed: &'static str },
    /// Replicate has no such model (its `detail` text).
    ModelNotFound(String),
    /// An admin-only action without credentials.
    Unauthorized,
    /// An admin-only action with the wrong credentials, or one disabled by configuration.
    Forbidden(String),
    /// The upstream rejected our credentials or model id: a configuration problem.
    UpstreamAuth(Upstream),
    /// The upstream throttled us; `retry_after` in seconds when it said.
    UpstreamRateLimited { upstream: Upstream, retry_after: Option<u64> },
    /// The upstream answered with an unexpected status.
    UpstreamStatus { upstream: Upstream, status: u16 },
    /// The upstream could not be reached.
    UpstreamUnreachable { upstream: Upstream, detail: String },
    /// The upstream answered with something we cannot use.
    UpstreamInvalid { upstream: Upstream, detail: String },
    /// An upstream call ran out of time.
    UpstreamTimeout(Upstream),
    /// The request's total time budget ran out.
    DeadlineExceeded,
    /// The service itself is misconfigured.
    Config(String),
    Internal(String),
}

impl ApiError {
    pub fn upstream_unreachable(upstream: Upstream, e: &dyn fmt::Display) -> Self {
        // reqwest errors carry the URL but never headers, so no token can leak through them.
        ApiError::UpstreamUnreachable { upstream, detail: e.to_string().chars().take(200).collect() }
    }

    pub fn upstream_invalid(upstream: Upstream, detail: String) -> Self {
        ApiError::UpstreamInvalid { upstream, detail }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::RouteNotFound(_) | ApiError::ModelNotFound(_) => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::Unauthorized => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::UpstreamAuth(_)
            | ApiError::UpstreamStatus { .. }
            | ApiError::UpstreamUnreachable { .. }
            | ApiError::UpstreamInvalid { .. } => 502,
            ApiError::UpstreamRateLimited { .. } => 503,
            ApiError::UpstreamTimeout(_) | ApiError::DeadlineExceeded => 504,
            ApiError::Config(_) | ApiError::Internal(_) => 500,
        }
    }

    /// The short `error` field.
    pub fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "Bad request",
            ApiError::RouteNotFound(_) => "Not found",
            ApiError::MethodNotAllowed { .. } => "Method not allowed",
            ApiError::ModelNotFound(_) => "Model not found",
            ApiError::Unauthorized => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::UpstreamAuth(_) => "Upstream configuration error",
            ApiError::UpstreamRateLimited { .. } => "Upstream rate limited",
            ApiError::UpstreamStatus { .. } | ApiError::UpstreamUnreachable { .. } => "Upstream error",
            ApiError::UpstreamInvalid { .. } => "Invalid upstream response",
            ApiError::UpstreamTimeout(_) | ApiError::DeadlineExceeded => "Timeout",
            ApiError::Config(_) => "Configuration error",
            ApiError::Internal(_) => "Internal error",
        }
    }

    /// The `message` field: what happened, for a person.
    pub fn message(&self) -> String {
        match self {
            ApiError::BadRequest(m) | ApiError::RouteNotFound(m) => m.clone(),
            ApiError::MethodNotAllowed { method, allowed } => format!("{method} is not allowed here; use {allowed}"),
            ApiError::ModelNotFound(detail) => format!("Replicate has no such public model ({detail})"),
            ApiError::Unauthorized => "This action needs an admin token: send `Authorization: Bearer <ADMIN_TOKEN>`".into(),
            ApiError::Forbidden(m) => m.clone(),
            ApiError::UpstreamAuth(Upstream::Replicate) => {
                "Replicate rejected the service's credentials; check REPLICATE_API_TOKEN".into()
            }
            ApiError::UpstreamAuth(Upstream::Anthropic) => {
                "Anthropic rejected the service's credentials or model; check ANTHROPIC_API_KEY and ANTHROPIC_MODEL".into()
            }
            ApiError::UpstreamRateLimited { upstream, .. } => format!("{upstream} is throttling requests; try again later"),
            ApiError::UpstreamStatus { upstream, status } => format!("{upstream} answered with status {status}"),
            ApiError::UpstreamUnreachable { upstream, detail } => format!("{upstream} could not be reached: {detail}"),
            ApiError::UpstreamInvalid { upstream, detail } => format!("{upstream} gave an unusable answer: {detail}"),
            ApiError::UpstreamTimeout(upstream) => format!("{upstream} did not answer in time"),
            ApiError::DeadlineExceeded => "The classification did not finish within the request's time budget".into(),
            ApiError::Config(m) => m.clone(),
            ApiError::Internal(m) => m.clone(),
        }
    }

    /// `Retry-After` seconds to send, if any.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::UpstreamRateLimited { retry_after, .. } => Some(retry_after.unwrap_or(30)),
            _ => None,
        }
    }

    /// Extra headers the error is answered with (`Retry-After`, `Allow`).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            ApiError::UpstreamRateLimited { .. } => vec![("retry-after", self.retry_after().unwrap_or(30).to_string())],
            ApiError::MethodNotAllowed { allowed, .. } => vec![("allow", format!("{allowed}, OPTIONS"))],
            _ => Vec::new(),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.title(), "message": self.message() })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.title(), self.message())
    }
}

impl std::error::Error for ApiError {}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::Internal(format!("JSON error: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_bodies() {
        let e = ApiError::ModelNotFound("Not found.".into());
        assert_eq!(e.status(), 404);
        assert_eq!(
            e.body(),
            serde_json::json!({"error": "Model not found", "message": "Replicate has no such public model (Not found.)"})
        );
        let e = ApiError::UpstreamRateLimited { upstream: Upstream::Replicate, retry_after: Some(12) };
        assert_eq!((e.status(), e.retry_after()), (503, Some(12)));
        assert_eq!(ApiError::UpstreamAuth(Upstream::Anthropic).status(), 502);
        assert_eq!(ApiError::DeadlineExceeded.status(), 504);
        assert_eq!(ApiError::BadRequest("x".into()).body()["error"], "Bad request");
        let e = ApiError::MethodNotAllowed { method: "POST".into(), allowed: "GET" };
        assert_eq!((e.status(), e.message()), (405, "POST is not allowed here; use GET".to_string()));
        assert_eq!(e.headers(), vec![("allow", "GET, OPTIONS".to_string())]);
        assert_eq!(
            ApiError::UpstreamRateLimited { upstream: Upstream::Anthropic, retry_after: None }.headers(),
            vec![("retry-after", "30".to_string())]
        );
    }
}
