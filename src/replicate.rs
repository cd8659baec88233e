//! Replicate's API: the model object, its examples, and a client for both.

use crate::error::{ApiError, Upstream};
use crate::rt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Duration;

/// Default base URL of Replicate's HTTP API.
pub const DEFAULT_BASE_URL: &str = "https://api.replicate.com/v1";

/// A model as `GET /models/{owner}/{name}` returns it. Fields the classifier reads are typed;
/// everything else is kept as it came so the stored record is the real object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub owner: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub run_count: Option<u64>,
    #[serde(default)]
    pub default_example: Option<Value>,
    #[serde(default)]
    pub latest_version: Option<Version>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A model version; `openapi_schema` holds the Cog input and output schemas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    pub id: String,
    #[serde(default)]
    pub openapi_schema: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Model {
    /// `owner/name`, as Replicate spells it.
    pub fn id(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// The latest version's OpenAPI schema, or `null` when there is none.
    pub fn openapi_schema(&self) -> &Value {
        static NULL: Value = Value::Null;
        self.latest_version.as_ref().and_then(|v| v.openapi_schema.as_ref()).unwrap_or(&NULL)
    }

    pub fn version_id(&self) -> Option<&str> {
        self.latest_version.as_ref().map(|v| v.id.as_str())
    }

    pub fn description(&self) -> &str {
        self.description.as_deref().unwrap_or("")
    }
}

/// One page of `GET /models/{owner}/{name}/examples` (or of `GET /models`).
#[derive(Debug, Clone, Deserialize)]
#[serde(bound(deserialize = "T: serde::de::DeserializeOwned"))]
pub struct Page<T> {
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
}

/// A Replicate API client. One code path natively and inside the Worker (reqwest uses the
/// runtime's `fetch` there).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    token: Option<String>,
    timeout: Duration,
}

impl Client {
    pub fn new(base_url: &str, token: Option<String>, timeout: Duration) -> Self {
        Client {
            http: reqwest::Client::new(),
            base_url: base_url.trim_end_matches('/').to_string(),
            token: token.filter(|t| !t.is_empty()),
            timeout,
        }
    }

    /// `GET /models/{owner}/{name}`. Callers pass names already validated by `ModelId`, so no
    /// path segment can escape.
    pub async fn model(&self, owner: &str, name: &str) -> Result<Model, ApiError> {
        let body = self.get(&format!("/models/{owner}/{name}")).await?;
        serde_json::from_value(body).map_err(|e| {
            ApiError::upstream_invalid(Upstream::Replicate, format!("unexpected model object: {e}"))
        })
    }

    /// The first page of `GET /models/{owner}/{name}/examples`. A model without examples gives
    /// an empty list.
    pub async fn examples(&self, owner: &str, name: &str) -> Result<Vec<Value>, ApiError> {
        match self.get(&format!("/models/{owner}/{name}/examples")).await {
            Ok(body) => Ok(serde_json::from_value::<Page<Value>>(body).map(|p| p.results).unwrap_or_default()),
            Err(ApiError::ModelNotFound(_)) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// One page of `GET /models`, most recently updated first (`url` is a `next` URL from the
    /// previous page, or `None` for the first page).
    pub async fn models_page(&self, url: Option<&str>) -> Result<Page<Model>, ApiError> {
        let body = match url {
            // Only follow `next` links that stay on the configured API.
            Some(u) if u.starts_with(&self.base_url) => self.get_url(u).await?,
            Some(_) => return Err(ApiError::upstream_invalid(Upstream::Replicate, "a `next` link left the API".into())),
            None => self.get("/models?sort_by=latest_version_created_at&sort_direction=desc").await?,
        };
        serde_json::from_value(body)
            .map_err(|e| ApiError::upstream_invalid(Upstream::Replicate, format!("unexpected models page: {e}")))
    }

    async fn get(&self, path: &str) -> Result<Value, ApiError> {
        self.get_url(&format!("{}{}", self.base_url, path)).await
    }

    async fn get_url(&self, url: &str) -> Result<Value, ApiError> {
        let mut req = self.http.get(url).header("accept", "application/json");
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let send = async {
            let resp = req.send().await.map_err(|e| ApiError::upstream_unreachable(Upstream::Replicate, &e))?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let text = resp.text().await.map_err(|e| ApiError::upstream_unreachable(Upstream::Replicate, &e))?;
            Ok::<_, ApiError>((status, retry_after, text))
        };
        let (status, retry_after, text) = rt::timeout(self.timeout, send)
            .await
            .ok_or(ApiError::UpstreamTimeout(Upstream::Replicate))??;
        match status {
            200..=299 => serde_json::from_str(&text)
                .map_err(|_| ApiError::upstream_invalid(Upstream::Replicate, "response was not JSON".into())),
            404 => Err(ApiError::ModelNotFound(problem_detail(&text).unwrap_or_else(|| "Not found.".into()))),
            401 | 403 => Err(ApiError::UpstreamAuth(Upstream::Replicate)),
            429 => Err(ApiError::UpstreamRateLimited { upstream: Upstream::Replicate, retry_after }),
            _ => Err(ApiError::UpstreamStatus { upstream: Upstream::Replicate, status }),
        }
    }
}

/// The `detail` of a problem-details error body, if it has one.
fn problem_detail(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    v.get("detail")?.as_str().map(|s| s.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_round_trips_unknown_fields() {
        let raw = serde_json::json!({
            "owner": "salesforce", "name": "blip", "description": null, "run_count": 5,
            "url": "https://replicate.com/salesforce/blip", "visibility": "public",
            "default_example": null, "latest_version": null, "cover_image_url": null
        });
        let m: Model = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(m.id(), "salesforce/blip");
        assert_eq!(m.description(), "");
        assert_eq!(m.openapi_schema(), &Value::Null);
        assert_eq!(serde_json::to_value(&m).unwrap(), raw);
    }
}
