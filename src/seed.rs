//! Bulk seeding (native only): requests models from a running API so their classifications
//! are cached. Bounded concurrency, retries with backoff, a state file that makes it resumable
//! and safe to interrupt, a progress bar, and a closing summary by outcome.

use crate::model_id::ModelId;
use crate::replicate::{self, Model};
use futures::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

pub struct Options {
    /// Base URL of the API, e.g. `http://127.0.0.1:8787`.
    pub api: String,
    /// Models to request, most-run first.
    pub models: Vec<String>,
    pub concurrency: usize,
    /// Send `?force=1` (with the admin token) to reclassify cached models.
    pub force: bool,
    pub admin_token: Option<String>,
    /// Models already done are listed here, one a line, and skipped on the next run.
    pub state: Option<PathBuf>,
    pub attempts: u32,
}

/// What happened to each model, counted by outcome (`HIT`, `MISS`, `error 404`, ...).
#[derive(Debug, Default)]
pub struct Summary {
    pub outcomes: BTreeMap<String, u32>,
    pub skipped: usize,
}

/// The `top` most-run models of a snapshot (`models.json`), as `owner/name`.
pub fn top_from_snapshot(models: &[Model], top: Option<usize>) -> Vec<String> {
    let mut sorted: Vec<&Model> = models.iter().collect();
    sorted.sort_by(|a, b| b.run_count.unwrap_or(0).cmp(&a.run_count.unwrap_or(0)).then_with(|| a.id().cmp(&b.id())));
    sorted.into_iter().take(top.unwrap_or(usize::MAX)).map(Model::id).collect()
}

/// The `top` most-run models from Replicate's `GET /models` pages (walks at most `max_pages`).
pub async fn top_from_replicate(client: &replicate::Client, top: Option<usize>, max_pages: usize) -> anyhow::Result<Vec<String>> {
    let mut all = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..max_pages {
        let page = client.models_page(next.as_deref()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        all.extend(page.results);
        match page.next {
            Some(n) => next = Some(n),
            None => break,
        }
    }
    Ok(top_from_snapshot(&all, top))
}

/// Requests every model; returns the summary.
pub async fn run(opts: Options) -> anyhow::Result<Summary> {
    let done: HashSet<String> = match &opts.state {
        Some(p) if p.exists() => std::io::BufReader::new(std::fs::File::open(p)?).lines().map_while(Result::ok).collect(),
        _ => HashSet::new(),
    };
    let todo: Vec<&String> = opts.models.iter().filter(|m| !done.contains(m.as_str())).collect();
    let mut summary = Summary { skipped: opts.models.len() - todo.len(), ..Default::default() };
    let mut state = match &opts.state {
        Some(p) => Some(std::fs::OpenOptions::new().create(true).append(true).open(p)?),
        None => None,
    };
    let bar = ProgressBar::new(todo.len() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} eta {eta} {msg}").unwrap());
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let api = opts.api.trim_end_matches('/').to_string();
    let mut results = stream::iter(todo)
        .map(|model| {
            let (http, api, opts) = (&http, &api, &opts);
            async move { (model, request(http, api, model, opts).await) }
        })
        .buffer_unordered(opts.concurrency.max(1));
    while let Some((model, outcome)) = results.next().await {
        let ok = outcome == "HIT" || outcome == "MISS";
        if ok {
            if let Some(f) = state.as_mut() {
                writeln!(f, "{model}")?;
            }
        } else {
            bar.println(format!("{model}: {outcome}"));
        }
        *summary.outcomes.entry(outcome).or_default() += 1;
        bar.inc(1);
        bar.set_message(summary.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "));
    }
    bar.finish();
    Ok(summary)
}

/// One model, retried on throttling, server errors and network failures. Returns the outcome:
/// the `X-Cache` value on success, else `error <status>` or `error network`.
async fn request(http: &reqwest::Client, api: &str, model: &str, opts: &Options) -> String {
    let Ok(id) = ModelId::parse_full(model) else { return "error invalid name".into() };
    let url = format!("{api}/api/models/{}/{}{}", id.owner(), id.name(), if opts.force { "?force=1" } else { "" });
    let mut outcome = String::new();
    for attempt in 0..opts.attempts.max(1) {
        let mut req = http.get(&url);
        if let (true, Some(t)) = (opts.force, &opts.admin_token) {
            req = req.bearer_auth(t);
        }
        let wait = match req.send().await {
            Ok(r) if r.status().is_success() => {
                return r.headers().get("x-cache").and_then(|v| v.to_str().ok()).unwrap_or("MISS").to_string();
            }
            Ok(r) => {
                let status = r.status().as_u16();
                outcome = format!("error {status}");
                if !(status == 429 || status >= 500) {
                    return outcome;
                }
                let after = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
                Duration::from_secs(after.unwrap_or(1 << attempt).min(60))
            }
            Err(_) => {
                outcome = "error network".into();
                Duration::from_secs(1 << attempt)
            }
        };
        if attempt + 1 < opts.attempts {
            tokio::time::sleep(wait).await;
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn top_models_by_run_count() {
        let m = |o: &str, n: &str, r: u64| -> Model { serde_json::from_value(json!({"owner": o, "name": n, "run_count": r})).unwrap() };
        let models = vec![m("a", "low", 1), m("b", "high", 100), m("c", "mid", 50)];
        assert_eq!(top_from_snapshot(&models, Some(2)), ["b/high", "c/mid"]);
        assert_eq!(top_from_snapshot(&models, None).len(), 3);
    }
}
