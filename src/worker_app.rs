//! The Worker: HTTP routing, configuration from the environment, Workers KV, CORS. A thin shell
//! over `service`; every handler returns `Result<Reply, ApiError>` and errors become responses
//! in one place.

use crate::anthropic;
use crate::cache::{CacheRecord, ListPage, ListedKey, Store};
use crate::error::ApiError;
use crate::modality::Modality;
use crate::model_id::ModelId;
use crate::replicate;
use crate::rt;
use crate::service::{self, Classifier, ListFilter, Mode};
use crate::taxonomy::{Task, TASKS_JSON};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;
use worker::{event, Context, Env, Headers, KvStore, Method, Request, Response};

/// The README rendered to HTML at build time (see build.rs).
const INDEX_HTML: &str = include_str!(concat!(env!("OUT_DIR"), "/index.html"));
const KV_BINDING: &str = "CLASSIFICATIONS_CACHE";

/// What a handler answers with; turned into a `Response` (with CORS) in `respond`.
enum Reply {
    Json { status: u16, body: String, headers: Vec<(&'static str, String)> },
    Text(String),
    Html(&'static str),
    NoContent,
}

impl Reply {
    fn json(v: &Value) -> Reply {
        Reply::Json { status: 200, body: v.to_string(), headers: Vec::new() }
    }
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    console_error_panic_hook::set_once();
    let reply = match route(req, &env).await {
        Ok(r) => r,
        Err(e) => {
            if e.status() >= 500 {
                service::log(&format!("{} {}", e.status(), e));
            }
            Reply::Json { status: e.status(), body: e.body().to_string(), headers: e.headers() }
        }
    };
    respond(reply)
}

/// The cron trigger: reclassify cached models whose Replicate version changed.
#[event(scheduled)]
async fn scheduled(_event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    console_error_panic_hook::set_once();
    let setting_u32 = |name: &str, default: u32| setting(&env, name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let run = async {
        let c = classifier(&env)?;
        let store = kv(&env)?;
        service::refresh(&c, &store, setting_u32("REFRESH_MAX_PAGES", 3), setting_u32("REFRESH_MAX_CLASSIFICATIONS", 10)).await
    };
    let result = run.await;
    hot_clear();
    match result {
        Ok(report) => service::log(&format!("refresh: {}", serde_json::to_string(&report).unwrap_or_default())),
        Err(e) => service::log(&format!("refresh failed: {e}")),
    }
}

fn respond(reply: Reply) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("access-control-allow-origin", "*")?;
    headers.set("access-control-expose-headers", "X-Cache, X-KV-Operations, Retry-After, Allow")?;
    let (status, body) = match reply {
        Reply::Json { status, body, headers: extra } => {
            headers.set("content-type", "application/json; charset=utf-8")?;
            for (k, v) in extra {
                headers.set(k, &v)?;
            }
            (status, Some(body))
        }
        Reply::Text(t) => {
            headers.set("content-type", "text/plain; charset=utf-8")?;
            (200, Some(t))
        }
        Reply::Html(h) => {
            headers.set("content-type", "text/html; charset=utf-8")?;
            (200, Some(h.to_string()))
        }
        Reply::NoContent => {
            headers.set("access-control-allow-methods", "GET, POST, OPTIONS")?;
            headers.set("access-control-allow-headers", "Authorization, Content-Type")?;
            headers.set("access-control-max-age", "86400")?;
            (204, None)
        }
    };
    let resp = match body {
        Some(b) => Response::ok(b)?,
        None => Response::empty()?,
    };
    Ok(resp.with_status(status).with_headers(headers))
}

async fn route(req: Request, env: &Env) -> Result<Reply, ApiError> {
    let url = req.url().map_err(|e| ApiError::BadRequest(format!("bad URL: {e}")))?;
    let method = req.method();
    if method == Method::Options {
        return Ok(Reply::NoContent);
    }
    let path = url.path().trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let get = matches!(method, Method::Get | Method::Head);
    let post = method == Method::Post;
    let not_allowed = |allowed| Err(ApiError::MethodNotAllowed { method: method.to_string(), allowed });
    match segments.as_slice() {
        [] if get => Ok(Reply::Html(INDEX_HTML)),
        ["api", "tasks"] if get => Ok(Reply::Json { status: 200, body: TASKS_JSON.trim_end().to_string(), headers: Vec::new() }),
        ["api", "taskNames"] if get => Ok(Reply::json(&json!(Task::names().collect::<Vec<_>>()))),
        ["api", "classifications"] if get => list(&url, env).await,
        ["api", "cache", "purge"] if post => {
            require_admin(&req, &url, env)?;
            hot_clear();
            Ok(Reply::json(&service::purge(&kv(env)?).await?))
        }
        ["api", "models", owner, model] if get => {
            let id = ModelId::parse(&percent_decode(owner), &percent_decode(model))?;
            model_route(&req, &url, env, id).await
        }
        [] | ["api", "tasks" | "taskNames" | "classifications"] | ["api", "models", _, _] => not_allowed("GET"),
        ["api", "cache", "purge"] => not_allowed("POST"),
        _ => Err(ApiError::RouteNotFound(format!("no route for {}", clip(url.path(), 100)))),
    }
}

/// `GET /api/models/:owner/:model` with `?prompt`, `?debug`, `?force`/`?bust`.
async fn model_route(req: &Request, url: &worker::Url, env: &Env, id: ModelId) -> Result<Reply, ApiError> {
    let force = flag(url, "force") || flag(url, "bust");
    let (debug, prompt) = (flag(url, "debug"), flag(url, "prompt"));
    if force {
        require_admin(req, url, env)?;
    }
    let plain = !(force || debug || prompt);
    let key = id.to_string();
    if plain {
        if let Some(body) = hot_get(&key) {
            return Ok(model_reply(body, "HIT"));
        }
    }
    let store = kv(env)?;
    if plain {
        if let Some(c) = service::cached_classification(&store, &id).await {
            let body = json!({"model": key, "classification": c}).to_string();
            hot_put(&key, &body);
            return Ok(model_reply(body, "HIT"));
        }
    }
    // A plain request already looked (metadata first, then the record) and found nothing.
    let hit = if force || plain { None } else { service::cached(&store, &id).await };
    if prompt {
        return match hit {
            Some(r) => Ok(Reply::Text(r.prompt)),
            None => Ok(Reply::Text(classifier(env)?.prompt(&id).await?)),
        };
    }
    let (record, cache) = match hit {
        Some(r) => (r, "HIT"),
        None => (classify_once(classifier(env)?, store, id.clone()).await?, "MISS"),
    };
    let plain_body = json!({"model": record.model, "classification": record.classification}).to_string();
    hot_put(&key, &plain_body);
    let body = if debug { serde_json::to_string(&record)? } else { plain_body };
    Ok(model_reply(body, cache))
}

fn model_reply(body: String, cache: &str) -> Reply {
    Reply::Json { status: 200, body, headers: vec![("x-cache", cache.to_string())] }
}

/// How long this isolate answers a hit from memory: the same window in which Workers KV itself
/// may serve an older value to other locations, so no staleness is added.
const HOT_TTL_MS: u64 = 60_000;
/// Most answers kept in memory; the map is emptied when full.
const HOT_MAX: usize = 4_096;

thread_local! {
    /// Recent plain answers (`{"model", "classification"}` JSON) by model, so repeated hits
    /// need no KV read at all.
    static HOT: RefCell<HashMap<String, (String, u64)>> = RefCell::new(HashMap::new());
}

fn hot_get(key: &str) -> Option<String> {
    HOT.with(|h| h.borrow().get(key).filter(|(_, expires)| *expires > rt::now_ms()).map(|(b, _)| b.clone()))
}

fn hot_put(key: &str, body: &str) {
    HOT.with(|h| {
        let mut h = h.borrow_mut();
        if h.len() >= HOT_MAX {
            h.clear();
        }
        h.insert(key.to_string(), (body.to_string(), rt::now_ms() + HOT_TTL_MS));
    });
}

fn hot_clear() {
    HOT.with(|h| h.borrow_mut().clear());
}

/// A classification under way in this isolate, or its result waiting to be picked up.
#[allow(clippy::large_enum_variant)] // a handful at a time; boxing buys nothing
enum Slot {
    Running { started: u64 },
    Done(Result<CacheRecord, ApiError>),
}

struct Inflight {
    slot: Slot,
    /// Requests waiting for this classification.
    waiters: u32,
}

thread_local! {
    /// Classifications under way in this isolate, so concurrent misses for one model share one
    /// upstream round (and one LLM call). Only plain values are shared: the Workers runtime
    /// forbids one request awaiting I/O started by another, so waiters poll for the result.
    static INFLIGHT: RefCell<HashMap<String, Inflight>> = RefCell::new(HashMap::new());
}

#[allow(clippy::large_enum_variant)]
enum Poll {
    Wait,
    Ready(Result<CacheRecord, ApiError>),
    Gone,
}

/// How often a waiting request looks for the leader's result.
const POLL: Duration = Duration::from_millis(25);

/// Classifies and stores, or waits for the same model's classification already under way.
async fn classify_once(classifier: Classifier, store: Kv, id: ModelId) -> Result<CacheRecord, ApiError> {
    let key = id.to_string();
    // A leader that has not finished well past the budget was cancelled: take over.
    let stale_after = classifier.budget.as_millis() as u64 + 5_000;
    let lead = INFLIGHT.with(|m| {
        let mut m = m.borrow_mut();
        let now = rt::now_ms();
        match m.get_mut(&key) {
            Some(e) if matches!(e.slot, Slot::Running { started } if now.saturating_sub(started) < stale_after) => {
                e.waiters += 1;
                false
            }
            _ => {
                m.insert(key.clone(), Inflight { slot: Slot::Running { started: now }, waiters: 0 });
                true
            }
        }
    });
    if lead {
        let result = match classifier.classify(&id).await {
            Ok(record) => {
                service::store(&store, &id, &record).await;
                Ok(record)
            }
            Err(e) => Err(e),
        };
        INFLIGHT.with(|m| {
            let mut m = m.borrow_mut();
            match m.get_mut(&key) {
                Some(e) if e.waiters > 0 => e.slot = Slot::Done(result.clone()),
                _ => {
                    m.remove(&key);
                }
            }
        });
        return result;
    }
    loop {
        rt::sleep(POLL).await;
        let picked = INFLIGHT.with(|m| {
            let mut m = m.borrow_mut();
            // Gone: taken over and finished by another leader, whose result is in KV if it worked.
            let Some(e) = m.get_mut(&key) else { return Poll::Gone };
            match &e.slot {
                Slot::Done(r) => {
                    let r = r.clone();
                    e.waiters = e.waiters.saturating_sub(1);
                    if e.waiters == 0 {
                        m.remove(&key);
                    }
                    Poll::Ready(r)
                }
                Slot::Running { started } if rt::now_ms().saturating_sub(*started) >= stale_after => {
                    e.waiters = e.waiters.saturating_sub(1);
                    Poll::Ready(Err(ApiError::DeadlineExceeded))
                }
                Slot::Running { .. } => Poll::Wait,
            }
        });
        match picked {
            Poll::Wait => {}
            Poll::Ready(r) => return r,
            Poll::Gone => {
                return service::cached(&store, &id)
                    .await
                    .ok_or_else(|| ApiError::Internal("a concurrent classification of this model failed; retry".into()));
            }
        }
    }
}

/// `GET /api/classifications`: every entry (the original's shape), filtered by `?task=`,
/// `?inputType=`, `?outputType=`; with `?limit=` or `?cursor=`, one page
/// `{"classifications", "cursor", "complete"}` of at most `limit` scanned entries.
async fn list(url: &worker::Url, env: &Env) -> Result<Reply, ApiError> {
    let modality = |name: &str| -> Result<Option<Modality>, ApiError> {
        query(url, name)
            .map(|v| serde_json::from_value::<Modality>(json!(v.trim())).map_err(|_| ApiError::BadRequest(format!("{name} must be one of: {}", Modality::ALL.map(|m| m.name()).join(", ")))))
            .transpose()
    };
    let filter = ListFilter {
        task: query(url, "task").map(|t| t.trim().parse::<Task>().map_err(|e| ApiError::BadRequest(e.to_string()))).transpose()?,
        input_type: modality("inputType")?,
        output_type: modality("outputType")?,
    };
    let store = kv(env)?;
    // How many KV operations the listing took, for operators and the benchmark.
    let counted = |body: Value, store: &Kv| Reply::Json {
        status: 200,
        body: body.to_string(),
        headers: vec![("x-kv-operations", store.operations().to_string())],
    };
    let (limit, cursor) = (query(url, "limit"), query(url, "cursor"));
    if limit.is_none() && cursor.is_none() {
        let all = service::list_classifications(&store, &filter).await?;
        return Ok(counted(Value::Object(all), &store));
    }
    let limit = match limit {
        Some(l) => l.trim().parse::<u32>().ok().filter(|n| (1..=service::LIST_PAGE).contains(n)).ok_or_else(|| {
            ApiError::BadRequest(format!("limit must be a number from 1 to {}", service::LIST_PAGE))
        })?,
        None => service::LIST_PAGE,
    };
    let mut page = serde_json::Map::new();
    let next = service::list_page(&store, &filter, cursor.as_deref().filter(|c| !c.is_empty()), limit, &mut page).await?;
    Ok(counted(json!({"classifications": page, "complete": next.is_none(), "cursor": next}), &store))
}

/// Admin actions (`?force`, purge) need `Authorization: Bearer <ADMIN_TOKEN>` when the secret
/// is set. Without it they are refused, except for requests to a loopback host (local
/// development with `wrangler dev`).
fn require_admin(req: &Request, url: &worker::Url, env: &Env) -> Result<(), ApiError> {
    let Some(token) = setting(env, "ADMIN_TOKEN") else {
        let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        return if local {
            Ok(())
        } else {
            Err(ApiError::Forbidden("admin actions are disabled: no ADMIN_TOKEN is configured".into()))
        };
    };
    let given = req.headers().get("authorization").ok().flatten().unwrap_or_default();
    let Some(bearer) = given.strip_prefix("Bearer ").map(str::trim) else { return Err(ApiError::Unauthorized) };
    if constant_time_eq(bearer.as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("the admin token is wrong".into()))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= (a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff)) as usize;
    }
    diff == 0
}

/// A secret or var, `None` when unset or empty.
fn setting(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
        .filter(|s| !s.trim().is_empty())
}

fn classifier(env: &Env) -> Result<Classifier, ApiError> {
    let mode = Mode::parse(&setting(env, "CLASSIFIER").unwrap_or_default())?;
    let budget_ms = setting(env, "REQUEST_BUDGET_MS").and_then(|v| v.parse::<u64>().ok()).unwrap_or(30_000);
    let budget = Duration::from_millis(budget_ms.clamp(1_000, 120_000));
    let replicate_base = setting(env, "REPLICATE_API_BASE_URL").unwrap_or_else(|| replicate::DEFAULT_BASE_URL.into());
    let replicate = replicate::Client::new(&replicate_base, setting(env, "REPLICATE_API_TOKEN"), budget);
    let anthropic = setting(env, "ANTHROPIC_API_KEY").map(|key| {
        let base = setting(env, "ANTHROPIC_API_BASE_URL").unwrap_or_else(|| anthropic::DEFAULT_BASE_URL.into());
        let model = setting(env, "ANTHROPIC_MODEL").unwrap_or_else(|| "claude-sonnet-4-6".into());
        anthropic::Client::new(&base, key, model)
    });
    Ok(Classifier { replicate, anthropic, mode, budget })
}

/// A query parameter's value, `None` when absent.
fn query(url: &worker::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A flag is on when present, unless its value is `0`, `false`, `no` or `off`.
fn flag(url: &worker::Url, name: &str) -> bool {
    query(url, name).is_some_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off"))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Workers KV as a [`Store`], counting operations (a Worker may make 1,000 per request).
#[derive(Clone)]
struct Kv(KvStore, std::rc::Rc<std::cell::Cell<u32>>);

impl Kv {
    fn count(&self) {
        self.1.set(self.1.get() + 1);
    }

    fn operations(&self) -> u32 {
        self.1.get()
    }
}

fn kv(env: &Env) -> Result<Kv, ApiError> {
    env.kv(KV_BINDING)
        .map(|k| Kv(k, Default::default()))
        .map_err(|_| ApiError::Config(format!("the KV binding {KV_BINDING} is missing")))
}

impl Store for Kv {
    async fn get(&self, key: &str) -> Result<Option<String>, String> {
        self.count();
        self.0.get(key).text().await.map_err(|e| e.to_string())
    }

    async fn get_metadata(&self, key: &str) -> Result<Option<Value>, String> {
        self.count();
        let (stream, meta) = self.0.get(key).stream_with_metadata::<Value>().await.map_err(|e| e.to_string())?;
        let Some(stream) = stream else { return Ok(None) };
        // Release the value unread.
        let _ = worker::wasm_bindgen_futures::JsFuture::from(stream.cancel()).await;
        Ok(Some(meta.unwrap_or(Value::Null)))
    }

    async fn put(&self, key: &str, value: &str, metadata: &Value) -> Result<(), String> {
        self.count();
        self.0
            .put(key, value)
            .and_then(|b| b.metadata(metadata))
            .map_err(|e| e.to_string())?
            .execute()
            .await
            .map_err(|e| e.to_string())
    }

    async fn list(&self, prefix: &str, cursor: Option<&str>, limit: u32) -> Result<ListPage, String> {
        self.count();
        let mut b = self.0.list().prefix(prefix.to_string()).limit(limit as u64);
        if let Some(c) = cursor {
            b = b.cursor(c.to_string());
        }
        let r = b.execute().await.map_err(|e| e.to_string())?;
        Ok(ListPage {
            keys: r.keys.into_iter().map(|k| ListedKey { name: k.name, metadata: k.metadata }).collect(),
            cursor: r.cursor.filter(|c| !c.is_empty()),
            complete: r.list_complete,
        })
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        self.count();
        self.0.delete(key).await.map_err(|e| e.to_string())
    }
}
