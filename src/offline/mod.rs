//! The offline classifier: a model's task, input and output types and a short summary, from
//! its OpenAPI schema, its example predictions, its name and its description, by rules.
//!
//! No rule is keyed on a particular model: the rules read the schema's types and formats, the
//! examples' file extensions and JSON shapes, and general words (`upscale`, `caption`, `depth`,
//! `transcribe`...). Plain Rust over `serde_json` values, so it runs natively and in the Worker.

mod decide;
mod extract;
mod summary;
mod text;
mod view;

#[cfg(test)]
mod tests;

use crate::classification::Classification;
use crate::modality::Modality;
use crate::replicate::Model;
use serde::Serialize;
use serde_json::Value;

/// Identifies the rules; bump when they change (cached answers are keyed on it).
pub const CLASSIFIER_ID: &str = "offline-v2";

/// A classification with how sure the rules are and why they chose it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineResult {
    pub classification: Classification,
    /// 0..1: how well the signals agreed, to two decimals (serialises as e.g. `0.6`).
    pub confidence: f64,
    /// Short human-readable reasons.
    pub evidence: Vec<String>,
}

/// Classifies a model from its metadata and example predictions (`{input, output, status}`
/// objects from Replicate's examples endpoint). The model's `default_example` is read first.
pub fn classify(model: &Model, examples: &[Value]) -> OfflineResult {
    let usable = |e: &&Value| {
        e.is_object() && e.get("status").and_then(Value::as_str).is_none_or(|s| s == "succeeded")
    };
    let ex: Vec<&Value> = model.default_example.iter().chain(examples.iter()).filter(usable).collect();
    let words = text::Words::new(&model.name, model.description());
    let mut evidence = Vec::new();
    let openapi = model.openapi_schema();
    if openapi.is_null() {
        evidence.push("no OpenAPI schema".to_string());
    }
    let inputs = extract::inputs(openapi, &ex, &words, &mut evidence);
    let outputs = extract::outputs(openapi, &ex, &words, &mut evidence);
    let decision = decide::decide(&words, &inputs, &outputs);
    evidence.push(format!("task {}: {}", decision.task, decision.reason));

    let input_types = order(inputs.modalities());
    let mut output_types = outputs.mods.clone();
    if decision.task == crate::taxonomy::Task::TextToAudio && inputs.has(Modality::Video) && outputs.has(Modality::Video) {
        // Sound added to a video comes back as the video with its new audio.
        output_types.push(Modality::Audio);
    }
    decide::normalise_outputs(decision.task, &mut output_types);
    let output_types = order(output_types);

    let mut confidence = decision.confidence;
    if openapi.is_null() {
        confidence *= 0.6;
    }
    if ex.is_empty() {
        confidence *= 0.9;
    }
    let summary = summary::summarize(model.description(), decision.task);
    OfflineResult {
        classification: Classification::new(decision.task, &summary, input_types, output_types),
        confidence: round2(confidence.clamp(0.0, 1.0)),
        evidence,
    }
}

/// Two decimals, as an `f64` (an `f32` widened as is would print as 0.6000000238418579).
fn round2(x: f32) -> f64 {
    (f64::from(x) * 100.0).round() / 100.0
}

/// The vocabulary's order, without repeats.
fn order(mut v: Vec<Modality>) -> Vec<Modality> {
    v.sort();
    v.dedup();
    v
}
