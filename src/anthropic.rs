//! Anthropic's Messages API: the forced tool-call request, reading and validating the answer,
//! and a client that retries what is worth retrying within a time budget.

use crate::classification::Classification;
use crate::error::{ApiError, Upstream};
use crate::modality::Modality;
use crate::prompt::Prompt;
use crate::rt;
use crate::taxonomy::Task;
use serde_json::{json, Value};
use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const API_VERSION: &str = "2023-06-01";
pub const TOOL_NAME: &str = "classify_model";
const MAX_TOKENS: u32 = 1024;

/// The tool whose input is the classification; `task` is an enum of every taxonomy name and the
/// types an enum of the vocabulary, so a well-behaved model cannot answer outside them.
pub fn tool() -> Value {
    let tasks: Vec<&str> = Task::names().collect();
    let types: Vec<&str> = Modality::ALL.iter().map(|m| m.name()).collect();
    json!({
        "name": TOOL_NAME,
        "description": "Record what the model does, as a Hugging Face task.",
        "input_schema": {
            "type": "object",
            "properties": {
                "summary": {"type": "string", "description": "What the model does, at most 10 words, plain text, no marketing language."},
                "inputTypes": {"type": "array", "items": {"type": "string", "enum": types}, "description": "Kinds of data the model takes."},
                "outputTypes": {"type": "array", "items": {"type": "string", "enum": types}, "description": "Kinds of data the model produces."},
                "task": {"type": "string", "enum": tasks, "description": "The one task that best describes the model."}
            },
            "required": ["summary", "inputTypes", "outputTypes", "task"]
        }
    })
}

/// The Messages API request body. The fixed part of the prompt is the system prompt and marked
/// as a cache breakpoint, so repeated classifications pay for it once.
pub fn request_body(model_id: &str, prompt: &Prompt) -> Value {
    json!({
        "model": model_id,
        "max_tokens": MAX_TOKENS,
        "system": [{"type": "text", "text": prompt.fixed, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": prompt.model}],
        "tools": [tool()],
        "tool_choice": {"type": "tool", "name": TOOL_NAME}
    })
}

/// The body for the one repair attempt: the conversation so far, the assistant's unusable
/// reply, and what was wrong with it.
pub fn repair_body(first: &Value, reply: &Value, problem: &str) -> Value {
    let mut body = first.clone();
    let content = reply.get("content").cloned().filter(|c| c.as_array().is_some_and(|a| !a.is_empty()));
    let messages = body["messages"].as_array_mut().expect("request_body has messages");
    let mut user_content = Vec::new();
    if let Some(content) = content {
        // A tool_use must be answered by a tool_result.
        for block in content.as_array().into_iter().flatten() {
            if block.get("type").and_then(Value::as_str) == Some("tool_use") {
                if let Some(id) = block.get("id") {
                    user_content.push(json!({"type": "tool_result", "tool_use_id": id, "is_error": true,
                        "content": format!("Invalid answer: {problem}")}));
                }
            }
        }
        messages.push(json!({"role": "assistant", "content": content}));
    }
    user_content.push(json!({"type": "text", "text": format!(
        "Your answer could not be used: {problem}. Call the {TOOL_NAME} tool again with a task from the list \
         and types from the vocabulary.")}));
    messages.push(json!({"role": "user", "content": user_content}));
    body
}

/// Reads a Messages API reply into a classification, or says what is wrong with it. Accepts
/// the forced tool call, and as a salvage a JSON object in a text block (possibly fenced).
/// Whatever the source, the answer is validated: a task from the taxonomy, a non-empty summary,
/// types from the vocabulary.
pub fn parse_reply(reply: &Value) -> Result<Classification, String> {
    match reply.get("stop_reason").and_then(Value::as_str) {
        Some("max_tokens") => return Err("the answer was cut off (max_tokens)".into()),
        Some("refusal") => return Err("the model refused to answer".into()),
        _ => {}
    }
    let blocks = reply.get("content").and_then(Value::as_array).ok_or("the reply has no content")?;
    let from_tool = blocks.iter().find(|b| {
        b.get("type").and_then(Value::as_str) == Some("tool_use") && b.get("name").and_then(Value::as_str) == Some(TOOL_NAME)
    });
    let input = match from_tool {
        Some(b) => b.get("input").cloned().ok_or("the tool call has no input")?,
        None => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .find_map(json_in_text)
            .ok_or("the reply has no classify_model tool call")?,
    };
    validate(&input)
}

/// A JSON object inside free text: fenced in ``` or bare between the first `{` and last `}`.
fn json_in_text(text: &str) -> Option<Value> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    if end <= start {
        return None;
    }
    serde_json::from_str::<Value>(&text[start..=end]).ok().filter(Value::is_object)
}

/// Validates a tool input and builds the classification from it.
pub fn validate(input: &Value) -> Result<Classification, String> {
    let task_name = match input.get("task") {
        None | Some(Value::Null) => return Err("`task` is missing".into()),
        Some(Value::String(s)) => s,
        Some(_) => return Err("`task` is not a string".into()),
    };
    let task: Task = task_name
        .trim()
        .parse()
        .map_err(|_| format!("`task` {:?} is not a task of the taxonomy", task_name.chars().take(60).collect::<String>()))?;
    let summary = input.get("summary").and_then(Value::as_str).map(str::trim).unwrap_or("");
    if summary.is_empty() {
        return Err("`summary` is missing".into());
    }
    let types = |field: &str| -> Result<Vec<Modality>, String> {
        let arr = match input.get(field) {
            Some(Value::Array(a)) => a.clone(),
            // Some models send a JSON-encoded array as a string.
            Some(Value::String(s)) => serde_json::from_str::<Vec<Value>>(s).map_err(|_| format!("`{field}` is not a list"))?,
            _ => return Err(format!("`{field}` is missing")),
        };
        let parsed: Vec<Modality> = arr.iter().filter_map(Value::as_str).filter_map(|s| s.parse().ok()).collect();
        if parsed.is_empty() && !arr.is_empty() {
            return Err(format!("`{field}` has no type from the vocabulary"));
        }
        Ok(parsed)
    };
    let classification = Classification::new(task, summary, types("inputTypes")?, types("outputTypes")?);
    if classification.summary.is_empty() {
        return Err("`summary` has no plain text".into());
    }
    Ok(classification)
}

/// Retry policy for one Messages API call.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry { max_attempts: 4, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(8) }
    }
}

/// A Messages API client.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
    pub model: String,
    pub retry: Retry,
    /// Longest a single HTTP call may take.
    pub call_timeout: Duration,
}

/// How a failed attempt should be handled.
enum Attempt {
    Retry { error: ApiError, after: Option<Duration> },
    Fail(ApiError),
}

impl Client {
    pub fn new(base_url: &str, api_key: String, model: String) -> Self {
        Client {
            http: reqwest::Client::new(),
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key,
            model,
            retry: Retry::default(),
            call_timeout: Duration::from_secs(25),
        }
    }

    /// Sends `body`, retrying rate limits (honouring `retry-after`), overloads, server errors
    /// and timeouts with exponential backoff and jitter, never past `deadline_ms` (Unix ms).
    /// Authentication, permission and not-found errors (e.g. a retired model id) are not retried.
    pub async fn send(&self, body: &Value, deadline_ms: u64) -> Result<Value, ApiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = deadline_ms.saturating_sub(rt::now_ms());
            if remaining == 0 {
                return Err(ApiError::DeadlineExceeded);
            }
            let limit = self.call_timeout.min(Duration::from_millis(remaining));
            let outcome = match rt::timeout(limit, self.send_once(body)).await {
                Some(r) => r,
                None => Err(Attempt::Retry { error: ApiError::UpstreamTimeout(Upstream::Anthropic), after: None }),
            };
            let (error, after) = match outcome {
                Ok(v) => return Ok(v),
                Err(Attempt::Fail(e)) => return Err(e),
                Err(Attempt::Retry { error, after }) => (error, after),
            };
            if attempt >= self.retry.max_attempts {
                return Err(error);
            }
            let backoff = self.retry.base_delay.saturating_mul(1 << (attempt - 1)).min(self.retry.max_delay);
            // Full jitter on the backoff; a server's retry-after is a floor.
            let jittered = backoff.mul_f64(0.5 + rt::random() / 2.0);
            let wait = after.map_or(jittered, |a| a.max(jittered));
            if rt::now_ms() + wait.as_millis() as u64 >= deadline_ms {
                return Err(error);
            }
            rt::sleep(wait).await;
        }
    }

    async fn send_once(&self, body: &Value) -> Result<Value, Attempt> {
        let resp = self
            .http
            .post(format!("{}/v1/messages", self.base_url))
            .header("x-api-key", &self.api_key)
            .header("anthropic-version", API_VERSION)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| Attempt::Retry { error: ApiError::upstream_unreachable(Upstream::Anthropic, &e), after: None })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_millis((s * 1000.0) as u64));
        let text = resp
            .text()
            .await
            .map_err(|e| Attempt::Retry { error: ApiError::upstream_unreachable(Upstream::Anthropic, &e), after: None })?;
        match status {
            200..=299 => serde_json::from_str(&text).map_err(|_| {
                Attempt::Retry { error: ApiError::upstream_invalid(Upstream::Anthropic, "response was not JSON".into()), after: None }
            }),
            401 | 403 | 404 => Err(Attempt::Fail(ApiError::UpstreamAuth(Upstream::Anthropic))),
            429 => Err(Attempt::Retry {
                error: ApiError::UpstreamRateLimited {
                    upstream: Upstream::Anthropic,
                    retry_after: retry_after.map(|d| d.as_secs().max(1)),
                },
                after: retry_after,
            }),
            500..=599 => Err(Attempt::Retry { error: ApiError::UpstreamStatus { upstream: Upstream::Anthropic, status }, after: None }),
            _ => Err(Attempt::Fail(ApiError::UpstreamStatus { upstream: Upstream::Anthropic, status })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::Prompt;

    fn prompt() -> Prompt {
        Prompt { fixed: "FIXED".into(), model: "MODEL".into() }
    }

    #[test]
    fn request_forces_the_tool_with_the_taxonomy_enum() {
        let b = request_body("claude-sonnet-4-6", &prompt());
        assert_eq!(b["model"], "claude-sonnet-4-6");
        assert_eq!(b["tool_choice"], json!({"type": "tool", "name": "classify_model"}));
        let tasks = b["tools"][0]["input_schema"]["properties"]["task"]["enum"].as_array().unwrap();
        assert_eq!(tasks.len(), 57);
        assert!(tasks.contains(&json!("image-text-to-image")) && tasks.contains(&json!("other")));
        assert_eq!(b["tools"][0]["input_schema"]["properties"]["inputTypes"]["items"]["enum"][4], "3d");
        assert_eq!(b["system"][0], json!({"type": "text", "text": "FIXED", "cache_control": {"type": "ephemeral"}}));
        assert_eq!(b["messages"], json!([{"role": "user", "content": "MODEL"}]));
        assert_eq!(b["tools"][0]["input_schema"]["required"], json!(["summary", "inputTypes", "outputTypes", "task"]));
    }

    fn reply(content: Value, stop: &str) -> Value {
        json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": content,
               "stop_reason": stop, "usage": {"input_tokens": 10, "output_tokens": 5}})
    }

    fn tool_use(input: Value) -> Value {
        json!([{"type": "tool_use", "id": "toolu_1", "name": "classify_model", "input": input}])
    }

    #[test]
    fn parses_tool_answer() {
        let r = reply(tool_use(json!({"summary": "Generate image captions", "task": "image-to-text",
            "inputTypes": ["image", "text"], "outputTypes": ["text"]})), "tool_use");
        let c = parse_reply(&r).unwrap();
        assert_eq!(c.task, Task::ImageToText);
        assert_eq!(c.input_types, vec![Modality::Image, Modality::Text]);
        assert_eq!(c.output_types, vec![Modality::Text]);
        assert_eq!(c.summary, "Generate image captions");
        assert!(c.task_summary.unwrap().starts_with("Image to text"));
    }

    #[test]
    fn rejects_bad_answers() {
        let ok = json!({"summary": "s", "task": "text-to-image", "inputTypes": ["text"], "outputTypes": ["image"]});
        let with = |k: &str, v: Value| {
            let mut i = ok.clone();
            i[k] = v;
            parse_reply(&reply(tool_use(i), "tool_use"))
        };
        assert_eq!(with("task", json!("audio-to-video")).unwrap_err(), "`task` \"audio-to-video\" is not a task of the taxonomy");
        assert_eq!(with("task", json!(null)).unwrap_err(), "`task` is missing");
        assert_eq!(with("task", json!(7)).unwrap_err(), "`task` is not a string");
        assert_eq!(with("summary", json!("")).unwrap_err(), "`summary` is missing");
        assert_eq!(with("summary", json!("<b></b>")).unwrap_err(), "`summary` has no plain text");
        assert_eq!(with("outputTypes", json!(["hologram"])).unwrap_err(), "`outputTypes` has no type from the vocabulary");
        assert_eq!(
            parse_reply(&reply(tool_use(ok.clone()), "max_tokens")).unwrap_err(),
            "the answer was cut off (max_tokens)"
        );
        assert_eq!(parse_reply(&reply(json!([]), "refusal")).unwrap_err(), "the model refused to answer");
        assert_eq!(
            parse_reply(&reply(json!([{"type": "text", "text": "I think it's text-to-image"}]), "end_turn")).unwrap_err(),
            "the reply has no classify_model tool call"
        );
        // markup in the summary is removed, synonyms of types accepted, unknown types dropped
        let c = with("summary", json!("<img src=x onerror=alert(1)>Makes pictures")).unwrap();
        assert_eq!(c.summary, "Makes pictures");
        let c = with("inputTypes", json!(["Text", "prompt", "smell"])).unwrap();
        assert_eq!(c.input_types, vec![Modality::Text]);
    }

    #[test]
    fn salvages_fenced_json_in_text() {
        let text = "Here you go:\n```json\n{\"summary\": \"Speech to text\", \"task\": \"automatic-speech-recognition\", \"inputTypes\": [\"audio\"], \"outputTypes\": [\"text\"]}\n```";
        let c = parse_reply(&reply(json!([{"type": "text", "text": text}]), "end_turn")).unwrap();
        assert_eq!(c.task, Task::AutomaticSpeechRecognition);
    }

    #[test]
    fn repair_answers_the_tool_call_and_says_why() {
        let first = request_body("m", &prompt());
        let bad = reply(tool_use(json!({"task": "nope"})), "tool_use");
        let b = repair_body(&first, &bad, "`task` \"nope\" is not a task of the taxonomy");
        let msgs = b["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[1]["role"], "assistant");
        assert_eq!(msgs[2]["content"][0]["type"], "tool_result");
        assert_eq!(msgs[2]["content"][0]["tool_use_id"], "toolu_1");
        assert!(msgs[2]["content"][1]["text"].as_str().unwrap().contains("is not a task of the taxonomy"));
        assert_eq!(b["tool_choice"], first["tool_choice"]);
    }
}
