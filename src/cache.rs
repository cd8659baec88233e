//! What is cached per model, and the key-value store it lives in. A record holds everything that
//! went into and came out of one classification; a compact copy of the answer rides along as
//! KV metadata so the whole catalogue can be listed from `list` pages alone.

use crate::classification::Classification;
use crate::modality::Modality;
use crate::model_id::ModelId;
use crate::replicate::Model;
use crate::taxonomy::Task;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Every classification key starts with this, so other keys can share the namespace.
pub const KEY_PREFIX: &str = "model:";
/// KV's limit on a key's metadata, in bytes of JSON.
pub const METADATA_MAX_BYTES: usize = 1024;
/// Records bigger than this have their examples shrunk before storing (KV allows 25 MiB).
const RECORD_SOFT_MAX_BYTES: usize = 4 * 1024 * 1024;

pub fn key(id: &ModelId) -> String {
    format!("{KEY_PREFIX}{id}")
}

/// The `owner/name` a key belongs to.
pub fn model_of_key(key: &str) -> Option<&str> {
    key.strip_prefix(KEY_PREFIX)
}

/// One cached classification with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheRecord {
    /// `owner/name`, normalised.
    pub model: String,
    pub classification: Classification,
    /// What produced the classification: `anthropic:<model id>` or the offline classifier's id.
    pub classifier: String,
    /// The `@huggingface/tasks` version the task list came from.
    pub taxonomy_version: String,
    /// RFC 3339 time of classification.
    pub classified_at: String,
    /// Replicate version id the model had then.
    #[serde(default)]
    pub version_id: Option<String>,
    pub prompt: String,
    /// The raw Messages API reply the classification came from (the original's name).
    #[serde(default)]
    pub claude_response: Option<Value>,
    pub replicate_model: Model,
    #[serde(default)]
    pub examples: Vec<Value>,
    /// The offline classifier's answer, confidence and evidence.
    #[serde(default)]
    pub offline: Option<Value>,
    /// Whether the LLM and the offline classifier chose the same task (LLM answers only).
    #[serde(default)]
    pub agreement: Option<bool>,
    /// Why the LLM's answer was not used, when the offline classifier stood in.
    #[serde(default)]
    pub fallback_reason: Option<String>,
    /// Token usage of the LLM calls.
    #[serde(default)]
    pub usage: Option<Value>,
}

impl CacheRecord {
    /// JSON to store: the record, with example values shrunk if it would be unreasonably big.
    pub fn to_stored_json(&self) -> String {
        let text = serde_json::to_string(self).expect("record serialises");
        if text.len() <= RECORD_SOFT_MAX_BYTES {
            return text;
        }
        let mut small = self.clone();
        small.examples = small.examples.iter().map(crate::prompt::shrink).collect();
        if let Some(ex) = small.replicate_model.default_example.as_ref() {
            small.replicate_model.default_example = Some(crate::prompt::shrink(ex));
        }
        serde_json::to_string(&small).expect("record serialises")
    }

    /// The compact classification kept as KV metadata; always within [`METADATA_MAX_BYTES`].
    pub fn metadata(&self) -> Value {
        let c = &self.classification;
        let classifier: String = self.classifier.chars().take(80).collect();
        let version: Option<String> = self.version_id.as_ref().map(|v| v.chars().take(80).collect());
        let meta = json!({
            "task": c.task,
            "summary": c.summary,
            "inputTypes": c.input_types,
            "outputTypes": c.output_types,
            "classifier": classifier,
            "version": version,
        });
        debug_assert!(meta.to_string().len() <= METADATA_MAX_BYTES);
        meta
    }
}

/// Rebuilds a classification from KV metadata; `None` when absent or not ours.
pub fn classification_from_metadata(meta: &Value) -> Option<Classification> {
    let task: Task = meta.get("task")?.as_str()?.parse().ok()?;
    let types = |k: &str| -> Vec<Modality> {
        meta.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| serde_json::from_value(v.clone()).ok()).collect())
            .unwrap_or_default()
    };
    let summary = meta.get("summary").and_then(Value::as_str).unwrap_or("");
    Some(Classification::new(task, summary, types("inputTypes"), types("outputTypes")))
}

/// One page of a key listing.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub keys: Vec<ListedKey>,
    pub cursor: Option<String>,
    pub complete: bool,
}

#[derive(Debug, Clone)]
pub struct ListedKey {
    pub name: String,
    pub metadata: Option<Value>,
}

/// The key-value store the cache lives in: Workers KV in the Worker, memory in tests.
#[allow(async_fn_in_trait)]
pub trait Store {
    async fn get(&self, key: &str) -> Result<Option<String>, String>;
    /// The metadata of a key without reading its value; `Ok(None)` when the key is absent,
    /// `Ok(Some(Value::Null))` when it has no metadata.
    async fn get_metadata(&self, key: &str) -> Result<Option<Value>, String>;
    async fn put(&self, key: &str, value: &str, metadata: &Value) -> Result<(), String>;
    /// At most `limit` keys under `prefix`, from `cursor`.
    async fn list(&self, prefix: &str, cursor: Option<&str>, limit: u32) -> Result<ListPage, String>;
    async fn delete(&self, key: &str) -> Result<(), String>;
}

/// An in-memory [`Store`] with KV's paging, for native tests and the CLI.
#[derive(Default)]
pub struct MemoryStore {
    pub entries: std::cell::RefCell<std::collections::BTreeMap<String, (String, Value)>>,
    pub ops: std::cell::Cell<u32>,
}

impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<String>, String> {
        self.ops.set(self.ops.get() + 1);
        Ok(self.entries.borrow().get(key).map(|(v, _)| v.clone()))
    }
    async fn get_metadata(&self, key: &str) -> Result<Option<Value>, String> {
        self.ops.set(self.ops.get() + 1);
        Ok(self.entries.borrow().get(key).map(|(_, m)| m.clone()))
    }
    async fn put(&self, key: &str, value: &str, metadata: &Value) -> Result<(), String> {
        self.ops.set(self.ops.get() + 1);
        self.entries.borrow_mut().insert(key.to_string(), (value.to_string(), metadata.clone()));
        Ok(())
    }
    async fn list(&self, prefix: &str, cursor: Option<&str>, limit: u32) -> Result<ListPage, String> {
        self.ops.set(self.ops.get() + 1);
        let entries = self.entries.borrow();
        let mut keys: Vec<ListedKey> = entries
            .iter()
            .filter(|(k, _)| k.starts_with(prefix) && cursor.is_none_or(|c| k.as_str() > c))
            .take(limit as usize + 1)
            .map(|(k, (_, m))| ListedKey { name: k.clone(), metadata: (!m.is_null()).then(|| m.clone()) })
            .collect();
        let complete = keys.len() <= limit as usize;
        keys.truncate(limit as usize);
        let cursor = if complete { None } else { keys.last().map(|k| k.name.clone()) };
        Ok(ListPage { keys, cursor, complete })
    }
    async fn delete(&self, key: &str) -> Result<(), String> {
        self.ops.set(self.ops.get() + 1);
        self.entries.borrow_mut().remove(key);
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn record(model: &str, task: Task) -> CacheRecord {
        let (owner, name) = model.split_once('/').unwrap();
        CacheRecord {
            model: model.into(),
            classification: Classification::new(task, "Generate image captions", vec![Modality::Image], vec![Modality::Text]),
            classifier: "anthropic:claude-sonnet-4-6".into(),
            taxonomy_version: crate::taxonomy::TAXONOMY_VERSION.into(),
            classified_at: "2026-01-01T00:00:00.000Z".into(),
            version_id: Some("2e1dddc8621f72155f24cf2e0adbde548458d3cab9f00c0139eea840d0ac4746".into()),
            prompt: "PROMPT".into(),
            claude_response: Some(json!({"id": "msg_1"})),
            replicate_model: serde_json::from_value(json!({"owner": owner, "name": name, "url": "u"})).unwrap(),
            examples: vec![json!({"input": {"image": "x.jpg"}})],
            offline: None,
            agreement: Some(true),
            fallback_reason: None,
            usage: None,
        }
    }

    #[test]
    fn record_round_trips() {
        let r = record("salesforce/blip", Task::ImageToText);
        let text = r.to_stored_json();
        let back: CacheRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["claudeResponse"]["id"], "msg_1");
        assert_eq!(v["replicateModel"]["url"], "u");
        assert_eq!(v["taxonomyVersion"], "0.21.54");
    }

    #[test]
    fn metadata_round_trips_and_fits_even_at_its_largest() {
        let mut r = record("salesforce/blip", Task::ImageToText);
        let c = classification_from_metadata(&r.metadata()).unwrap();
        assert_eq!(c, r.classification);
        // The largest realistic values: longest task name, a summary at its cap in 4-byte
        // characters, every type on both sides, a long classifier id and version id.
        let longest = Task::ALL.iter().max_by_key(|t| t.name().len()).unwrap();
        r.classification = Classification::new(*longest, &"𝔘".repeat(500), Modality::ALL.to_vec(), Modality::ALL.to_vec());
        r.classifier = format!("anthropic:{}", "x".repeat(300));
        r.version_id = Some("v".repeat(300));
        let len = r.metadata().to_string().len();
        assert!(len <= METADATA_MAX_BYTES, "{len} bytes");
    }

    #[test]
    fn huge_examples_are_shrunk_when_stored() {
        let mut r = record("a/b", Task::TextToImage);
        r.examples = vec![json!({"output": "x".repeat(5 * 1024 * 1024)})];
        let text = r.to_stored_json();
        assert!(text.len() < 100_000);
        assert!(serde_json::from_str::<CacheRecord>(&text).is_ok());
    }

    #[test]
    fn keys() {
        let id = ModelId::parse("Salesforce", "BLIP").unwrap();
        assert_eq!(key(&id), "model:salesforce/blip");
        assert_eq!(model_of_key("model:salesforce/blip"), Some("salesforce/blip"));
        assert_eq!(model_of_key("other"), None);
    }
}
