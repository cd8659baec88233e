//! The service's operations, independent of the Worker runtime: classify a model (fetch,
//! prompt, LLM or offline, validate), read and write the cache, list and purge it. The Worker
//! wires these to HTTP; tests and the CLI call them directly.

use crate::anthropic;
use crate::cache::{self, CacheRecord, Store};
use crate::classification::Classification;
use crate::error::{ApiError, Upstream};
use crate::modality::Modality;
use crate::model_id::ModelId;
use crate::offline::{self, OfflineResult};
use crate::prompt::{self, Hints, Prompt};
use crate::replicate::{self, Model};
use crate::rt;
use crate::taxonomy::{Task, TAXONOMY_VERSION};
use serde_json::{json, Map, Value};
use std::time::Duration;

/// Which classifier answers: `auto` uses the LLM when a key is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Auto,
    Llm,
    Offline,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Mode, ApiError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Mode::Auto),
            "llm" => Ok(Mode::Llm),
            "offline" => Ok(Mode::Offline),
            other => Err(ApiError::Config(format!("CLASSIFIER must be auto, llm or offline, not {other:?}"))),
        }
    }
}

/// Everything a classification needs.
#[derive(Clone)]
pub struct Classifier {
    pub replicate: replicate::Client,
    /// `None` when no API key is configured.
    pub anthropic: Option<anthropic::Client>,
    pub mode: Mode,
    /// Total time one classification may take.
    pub budget: Duration,
}

/// A model's metadata as fetched from Replicate.
pub struct Fetched {
    pub model: Model,
    pub examples: Vec<Value>,
}

impl Classifier {
    /// The LLM client to use, `None` for the offline classifier.
    fn llm(&self) -> Result<Option<&anthropic::Client>, ApiError> {
        match (self.mode, &self.anthropic) {
            (Mode::Offline, _) | (Mode::Auto, None) => Ok(None),
            (Mode::Auto | Mode::Llm, Some(c)) => Ok(Some(c)),
            (Mode::Llm, None) => Err(ApiError::Config("CLASSIFIER is llm but ANTHROPIC_API_KEY is not set".into())),
        }
    }

    /// Fetches the model and its examples concurrently.
    pub async fn fetch(&self, id: &ModelId) -> Result<Fetched, ApiError> {
        let (model, examples) =
            futures::future::join(self.replicate.model(id.owner(), id.name()), self.replicate.examples(id.owner(), id.name())).await;
        Ok(Fetched { model: model?, examples: examples? })
    }

    /// The prompt for a model (what `?prompt=1` shows on a miss), within the time budget.
    pub async fn prompt(&self, id: &ModelId) -> Result<String, ApiError> {
        rt::timeout(self.budget, async {
            let f = self.fetch(id).await?;
            let off = offline::classify(&f.model, &f.examples);
            Ok(build_prompt(&f, &off).text())
        })
        .await
        .ok_or(ApiError::DeadlineExceeded)?
    }

    /// Classifies a model from scratch within the time budget. Nothing is stored here.
    pub async fn classify(&self, id: &ModelId) -> Result<CacheRecord, ApiError> {
        let llm = self.llm()?;
        let started = rt::now_ms();
        let deadline = started + self.budget.as_millis() as u64;
        rt::timeout(self.budget, async {
            let fetched = self.fetch(id).await?;
            let off = offline::classify(&fetched.model, &fetched.examples);
            let prompt = build_prompt(&fetched, &off);
            let outcome = match llm {
                None => LlmOutcome::NotAsked,
                Some(client) => ask_llm(client, &prompt, deadline, self.mode == Mode::Llm).await?,
            };
            Ok(record(id, fetched, off, prompt, outcome, llm, started))
        })
        .await
        .ok_or(ApiError::DeadlineExceeded)?
    }
}

fn build_prompt(f: &Fetched, off: &OfflineResult) -> Prompt {
    let hints = Hints {
        task: off.classification.task,
        input_types: off.classification.input_types.clone(),
        output_types: off.classification.output_types.clone(),
    };
    prompt::build(&f.model, &f.examples, Some(&hints))
}

enum LlmOutcome {
    NotAsked,
    Answered { classification: Classification, reply: Value, usage: Value },
    /// The LLM answered but never validly; the offline classifier stands in.
    Unusable { reason: String, reply: Value, usage: Value },
}

/// Asks the LLM; an unusable answer gets one repair attempt. Upstream failures are errors (and
/// nothing is cached); an answer that stays unusable is an error only when `strict`.
async fn ask_llm(client: &anthropic::Client, prompt: &Prompt, deadline: u64, strict: bool) -> Result<LlmOutcome, ApiError> {
    let body = anthropic::request_body(&client.model, prompt);
    let reply = client.send(&body, deadline).await?;
    let mut usage = vec![reply.get("usage").cloned().unwrap_or(Value::Null)];
    let problem = match anthropic::parse_reply(&reply) {
        Ok(classification) => return Ok(LlmOutcome::Answered { classification, reply, usage: usage.remove(0) }),
        Err(p) => p,
    };
    let repair = anthropic::repair_body(&body, &reply, &problem);
    let second = client.send(&repair, deadline).await?;
    usage.push(second.get("usage").cloned().unwrap_or(Value::Null));
    match anthropic::parse_reply(&second) {
        Ok(classification) => Ok(LlmOutcome::Answered { classification, reply: second, usage: Value::Array(usage) }),
        Err(p) if strict => Err(ApiError::upstream_invalid(Upstream::Anthropic, format!("{problem}; after repair: {p}"))),
        Err(p) => Ok(LlmOutcome::Unusable { reason: format!("{problem}; after repair: {p}"), reply: second, usage: Value::Array(usage) }),
    }
}

fn record(
    id: &ModelId,
    fetched: Fetched,
    off: OfflineResult,
    prompt: Prompt,
    outcome: LlmOutcome,
    llm: Option<&anthropic::Client>,
    started: u64,
) -> CacheRecord {
    let offline_json = serde_json::to_value(&off).ok();
    let (classification, classifier, claude_response, agreement, fallback_reason, usage) = match outcome {
        LlmOutcome::NotAsked => (off.classification, offline::CLASSIFIER_ID.to_string(), None, None, None, None),
        LlmOutcome::Answered { classification, reply, usage } => {
            let agree = classification.task == off.classification.task;
            let name = format!("anthropic:{}", llm.map_or("", |c| c.model.as_str()));
            (classification, name, Some(reply), Some(agree), None, Some(usage))
        }
        LlmOutcome::Unusable { reason, reply, usage } => {
            (off.classification, offline::CLASSIFIER_ID.to_string(), Some(reply), None, Some(reason), Some(usage))
        }
    };
    CacheRecord {
        model: id.to_string(),
        classification,
        classifier,
        taxonomy_version: TAXONOMY_VERSION.to_string(),
        classified_at: rt::iso8601(started),
        version_id: fetched.model.version_id().map(str::to_string),
        prompt: prompt.text(),
        claude_response,
        replicate_model: fetched.model,
        examples: fetched.examples,
        offline: offline_json,
        agreement,
        fallback_reason,
        usage,
    }
}

/// Reads a cached record. A stored value that no longer parses (e.g. an older format) reads as
/// a miss rather than an error; a failing store also reads as a miss, after logging.
pub async fn cached<S: Store>(store: &S, id: &ModelId) -> Option<CacheRecord> {
    match store.get(&cache::key(id)).await {
        Ok(Some(text)) => serde_json::from_str(&text).ok(),
        Ok(None) => None,
        Err(e) => {
            log(&format!("cache read failed for {id}: {e}"));
            None
        }
    }
}

/// A cached classification, read from the key's metadata alone when it has some (the fast
/// path of a cache hit: the record itself is not read or parsed).
pub async fn cached_classification<S: Store>(store: &S, id: &ModelId) -> Option<Classification> {
    match store.get_metadata(&cache::key(id)).await {
        Ok(Some(meta)) => match cache::classification_from_metadata(&meta) {
            Some(c) => Some(c),
            None => cached(store, id).await.map(|r| r.classification),
        },
        Ok(None) => None,
        Err(e) => {
            log(&format!("cache read failed for {id}: {e}"));
            None
        }
    }
}

/// Stores a record with its metadata. Failure is logged, not raised: the caller still has
/// its answer.
pub async fn store<S: Store>(store: &S, id: &ModelId, record: &CacheRecord) {
    if let Err(e) = store.put(&cache::key(id), &record.to_stored_json(), &record.metadata()).await {
        log(&format!("cache write failed for {id}: {e}"));
    }
}

/// Filters for listing the catalogue.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub task: Option<Task>,
    pub input_type: Option<Modality>,
    pub output_type: Option<Modality>,
}

impl ListFilter {
    fn matches(&self, c: &Classification) -> bool {
        self.task.is_none_or(|t| c.task == t)
            && self.input_type.is_none_or(|m| c.input_types.contains(&m))
            && self.output_type.is_none_or(|m| c.output_types.contains(&m))
    }
}

/// Page size for listing keys (KV's maximum).
pub const LIST_PAGE: u32 = 1000;

/// One page of cache keys (with their metadata).
async fn list_keys<S: Store>(store: &S, cursor: Option<&str>, limit: u32) -> Result<cache::ListPage, ApiError> {
    store
        .list(cache::KEY_PREFIX, cursor, limit)
        .await
        .map_err(|e| ApiError::Internal(format!("listing the cache failed: {e}")))
}

/// Every cached classification, `owner/model` → classification, walked page by page from KV
/// metadata: one operation per 1,000 entries. Entries without metadata (written before it
/// existed) cost one read each.
pub async fn list_classifications<S: Store>(store: &S, filter: &ListFilter) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    let mut cursor: Option<String> = None;
    loop {
        let next = list_page(store, filter, cursor.as_deref(), LIST_PAGE, &mut out).await?;
        match next {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// One page of the catalogue: scans at most `limit` keys from `cursor`, adds the matching
/// classifications to `out`, and returns the cursor of the next page (`None` at the end).
pub async fn list_page<S: Store>(
    store: &S,
    filter: &ListFilter,
    cursor: Option<&str>,
    limit: u32,
    out: &mut Map<String, Value>,
) -> Result<Option<String>, ApiError> {
    let page = list_keys(store, cursor, limit.clamp(1, LIST_PAGE)).await?;
    for k in &page.keys {
        let Some(model) = cache::model_of_key(&k.name) else { continue };
        let classification = match k.metadata.as_ref().and_then(cache::classification_from_metadata) {
            Some(c) => Some(c),
            None => match store.get(&k.name).await {
                Ok(Some(text)) => serde_json::from_str::<CacheRecord>(&text).ok().map(|r| r.classification),
                _ => None,
            },
        };
        if let Some(c) = classification.filter(|c| filter.matches(c)) {
            out.insert(model.to_string(), serde_json::to_value(c)?);
        }
    }
    Ok(if page.complete { None } else { page.cursor })
}

/// Most deletions one purge request makes: KV allows 1,000 operations per invocation, and the
/// listing needs a few.
pub const PURGE_MAX_DELETES: usize = 900;

/// Deletes cached entries, at most [`PURGE_MAX_DELETES`] per call. Returns
/// `{"deleted": N, "complete": bool}`; a caller repeats until `complete`.
pub async fn purge<S: Store>(store: &S) -> Result<Value, ApiError> {
    let mut deleted = 0usize;
    let mut cursor: Option<String> = None;
    loop {
        let page = list_keys(store, cursor.as_deref(), LIST_PAGE).await?;
        for k in &page.keys {
            if deleted == PURGE_MAX_DELETES {
                return Ok(json!({"deleted": deleted, "complete": false}));
            }
            store.delete(&k.name).await.map_err(|e| ApiError::Internal(format!("deleting from the cache failed: {e}")))?;
            deleted += 1;
        }
        if page.complete || page.cursor.is_none() {
            return Ok(json!({"deleted": deleted, "complete": true}));
        }
        cursor = page.cursor;
    }
}

/// What one freshness run did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshReport {
    pub pages: u32,
    pub scanned: u32,
    /// Cached entries whose model has a newer version than the one classified.
    pub stale: u32,
    pub reclassified: u32,
    pub failed: u32,
}

/// Keeps the cache fresh: walks Replicate's most recently updated models (at most `max_pages`
/// pages) and reclassifies cached entries whose latest version changed, at most
/// `max_reclassify` of them. The cached versions come from KV metadata (one `list` per 1,000
/// entries), so models not in the cache cost nothing.
pub async fn refresh<S: Store>(c: &Classifier, store: &S, max_pages: u32, max_reclassify: u32) -> Result<RefreshReport, ApiError> {
    let mut versions: std::collections::HashMap<String, Option<String>> = std::collections::HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = list_keys(store, cursor.as_deref(), LIST_PAGE).await?;
        for k in page.keys {
            let Some(model) = cache::model_of_key(&k.name) else { continue };
            let version = k.metadata.as_ref().and_then(|m| m.get("version")).and_then(Value::as_str).map(str::to_string);
            versions.insert(model.to_string(), version);
        }
        if page.complete || page.cursor.is_none() {
            break;
        }
        cursor = page.cursor;
    }
    let mut report = RefreshReport::default();
    if versions.is_empty() {
        return Ok(report);
    }
    let mut next: Option<String> = None;
    while report.pages < max_pages {
        let page = c.replicate.models_page(next.as_deref()).await?;
        report.pages += 1;
        for model in &page.results {
            report.scanned += 1;
            let Ok(id) = ModelId::parse(&model.owner, &model.name) else { continue };
            let Some(cached_version) = versions.get(&id.to_string()) else { continue };
            if cached_version.as_deref() == model.version_id() {
                continue;
            }
            report.stale += 1;
            if report.reclassified + report.failed >= max_reclassify {
                continue;
            }
            match c.classify(&id).await {
                Ok(record) => {
                    self::store(store, &id, &record).await;
                    report.reclassified += 1;
                }
                Err(e) => {
                    log(&format!("refresh of {id} failed: {e}"));
                    report.failed += 1;
                }
            }
        }
        match page.next {
            Some(n) => next = Some(n),
            None => break,
        }
    }
    Ok(report)
}

/// Logs to the console (the Worker's log stream) or standard error.
pub fn log(msg: &str) {
    #[cfg(target_arch = "wasm32")]
    worker::console_log!("{msg}");
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{msg}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{MemoryStore, Store};
    use crate::classification::Classification;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    fn meta(task: Task) -> Value {
        let c = Classification::new(task, "Summary here", vec![Modality::Text], vec![Modality::Image]);
        json!({"task": c.task, "summary": c.summary, "inputTypes": c.input_types, "outputTypes": c.output_types,
               "classifier": "offline-v1", "version": null})
    }

    #[test]
    fn lists_every_entry_from_metadata_in_pages() {
        let store = MemoryStore::default();
        block_on(async {
            for i in 0..2_500 {
                let task = if i % 2 == 0 { Task::TextToImage } else { Task::ImageToText };
                store.put(&format!("model:owner/m{i:04}"), "{}", &meta(task)).await.unwrap();
            }
            store.put("other:key", "x", &Value::Null).await.unwrap();
            store.ops.set(0);
            let all = list_classifications(&store, &ListFilter::default()).await.unwrap();
            assert_eq!(all.len(), 2_500);
            assert_eq!(store.ops.get(), 3, "one list operation per 1,000 entries");
            assert_eq!(all["owner/m0000"]["task"], "text-to-image");
            assert_eq!(all["owner/m0001"]["taskSummary"], Task::ImageToText.summary().unwrap());
            let images = list_classifications(&store, &ListFilter { task: Some(Task::ImageToText), ..Default::default() })
                .await
                .unwrap();
            assert_eq!(images.len(), 1_250);
            assert!(images.keys().all(|k| k.ends_with(['1', '3', '5', '7', '9'])));
            let by_type = |i, o| ListFilter { input_type: i, output_type: o, ..Default::default() };
            let text_in = list_classifications(&store, &by_type(Some(Modality::Text), None)).await.unwrap();
            assert_eq!(text_in.len(), 2_500);
            let audio_out = list_classifications(&store, &by_type(None, Some(Modality::Audio))).await.unwrap();
            assert!(audio_out.is_empty());
            // opt-in pages: 1,000 keys, then 1,000, then the last 500 and no cursor
            let mut page = Map::new();
            let c1 = list_page(&store, &ListFilter::default(), None, 1000, &mut page).await.unwrap();
            assert_eq!(page.len(), 1000);
            let c2 = list_page(&store, &ListFilter::default(), c1.as_deref(), 1000, &mut page).await.unwrap();
            let c3 = list_page(&store, &ListFilter::default(), c2.as_deref(), 1000, &mut page).await.unwrap();
            assert_eq!((page.len(), c3), (2_500, None));
        });
    }

    #[test]
    fn entries_without_metadata_are_read() {
        let store = MemoryStore::default();
        let c = Classification::new(Task::AutomaticSpeechRecognition, "Transcribes speech", vec![Modality::Audio], vec![Modality::Text]);
        let old = json!({"classification": c, "model": "a/b"});
        block_on(async {
            store.put("model:a/b", &old.to_string(), &Value::Null).await.unwrap();
            // not a full record: skipped
            let all = list_classifications(&store, &ListFilter::default()).await.unwrap();
            assert!(all.is_empty(), "a value that is not a record is skipped");
            // a full record without metadata is read and listed
            let mut rec = crate::cache::tests::record("c/d", Task::AutomaticSpeechRecognition);
            rec.classification = c.clone();
            store.put("model:c/d", &rec.to_stored_json(), &Value::Null).await.unwrap();
            let all = list_classifications(&store, &ListFilter::default()).await.unwrap();
            assert_eq!(all["c/d"], serde_json::to_value(&c).unwrap());
        });
    }

    #[test]
    fn purge_deletes_in_bounded_batches() {
        let store = MemoryStore::default();
        block_on(async {
            for i in 0..1_200 {
                store.put(&format!("model:o/m{i}"), "{}", &meta(Task::Other)).await.unwrap();
            }
            store.put("other:key", "x", &Value::Null).await.unwrap();
            assert_eq!(purge(&store).await.unwrap(), json!({"deleted": PURGE_MAX_DELETES, "complete": false}));
            assert_eq!(purge(&store).await.unwrap(), json!({"deleted": 1_200 - PURGE_MAX_DELETES, "complete": true}));
            assert_eq!(purge(&store).await.unwrap(), json!({"deleted": 0, "complete": true}));
            assert_eq!(store.entries.borrow().len(), 1, "keys outside the cache prefix are kept");
        });
    }

    #[test]
    fn cache_hit_from_metadata_alone() {
        let kv = MemoryStore::default();
        let store = &kv;
        let id = ModelId::parse("salesforce", "blip").unwrap();
        let rec = crate::cache::tests::record("salesforce/blip", Task::ImageToText);
        block_on(async {
            assert_eq!(cached_classification(store, &id).await, None);
            super::store(store, &id, &rec).await;
            // the value is unreadable, so only the metadata can have answered
            store.entries.borrow_mut().get_mut("model:salesforce/blip").unwrap().0 = "garbage".into();
            assert_eq!(cached_classification(store, &id).await, Some(rec.classification.clone()));
            // without metadata the record is read
            store.put("model:salesforce/blip", &rec.to_stored_json(), &Value::Null).await.unwrap();
            assert_eq!(cached_classification(store, &id).await, Some(rec.classification));
        });
    }

    #[test]
    fn mode_parsing() {
        assert_eq!(Mode::parse("").unwrap(), Mode::Auto);
        assert_eq!(Mode::parse("LLM").unwrap(), Mode::Llm);
        assert_eq!(Mode::parse("offline").unwrap(), Mode::Offline);
        assert_eq!(Mode::parse("gpt").unwrap_err().status(), 500);
    }
}
