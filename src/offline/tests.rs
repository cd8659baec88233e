//! Pins the classifier's answers on real model records from the January 2025 snapshot
//! (`fixtures/models.json`: trimmed copies of objects from `all-the-public-replicate-models`,
//! with example outputs shortened and Cog's boilerplate schema components dropped), and on a
//! few hand-written records (`fixtures/synthetic.json`) for tasks no public model in the
//! snapshot has. Every task the rules can produce is covered at least once.

use super::*;
use crate::taxonomy::Task;
use std::collections::BTreeSet;

const REAL: &str = include_str!("fixtures/models.json");
const SYNTHETIC: &str = include_str!("fixtures/synthetic.json");

/// (model, task, input types, output types)
type Expect = (&'static str, &'static str, &'static [&'static str], &'static [&'static str]);

const REAL_EXPECTED: &[Expect] = &[
    ("adirik/owlvit-base-patch32", "zero-shot-object-detection", &["text", "image"], &["image"]),
    ("andreasjansson/blip-2", "visual-question-answering", &["text", "image"], &["text"]),
    ("andreasjansson/deepfloyd-if", "text-to-image", &["text"], &["image"]),
    ("andreasjansson/musicgen-gabba", "text-to-audio", &["text", "audio"], &["audio"]),
    ("andreasjansson/plasma", "text-generation", &[], &["text"]),
    ("anotherjesse/dreambooth-batch", "text-to-image", &["json"], &["image"]),
    ("anotherjesse/facial-landmark-detection", "keypoint-detection", &["image"], &["image"]),
    ("batouresearch/magic-image-refiner", "image-to-image", &["text", "image"], &["image"]),
    ("bfirsh/segformer-b0-finetuned-ade-512-512", "image-segmentation", &["image"], &["image"]),
    ("black-forest-labs/flux-schnell", "text-to-image", &["text"], &["image"]),
    ("bytedance/pulid", "image-text-to-image", &["text", "image"], &["image"]),
    ("bzikst/wav2vec2-large-xlsr-53-gender-recognition-librispeech", "audio-classification", &["audio"], &["text"]),
    ("camenduru/metavoice", "text-to-speech", &["text", "audio"], &["audio"]),
    ("cbx1/sam-vit-h", "image-feature-extraction", &["image"], &["file"]),
    ("cjwbw/point-e", "text-to-3d", &["text", "image"], &["3d"]),
    ("cjwbw/rembg", "image-segmentation", &["image"], &["image"]),
    ("cjwbw/seamless_communication", "translation", &["text", "audio"], &["text", "audio"]),
    ("cjwbw/zoedepth", "depth-estimation", &["image"], &["image"]),
    ("creatorrr/brio-xsum-cased", "summarization", &["text"], &["text"]),
    ("falcons-ai/nsfw_image_detection", "image-classification", &["image"], &["text"]),
    ("fofr/face-to-sticker", "image-to-image", &["text", "image"], &["image"]),
    ("hiscodesmells/florence-2-base", "image-text-to-text", &["text", "image"], &["text", "image"]),
    ("ictnlp/llama-omni", "audio-text-to-text", &["text", "audio"], &["text", "audio"]),
    ("jordillull/acme-assistant", "question-answering", &["text"], &["text"]),
    ("lucataco/apollo-3b", "video-text-to-text", &["text", "video"], &["text"]),
    ("lucataco/moondream-0.5b", "image-text-to-text", &["text", "image"], &["text"]),
    ("lucataco/nsfw_video_detection", "video-classification", &["video"], &["text"]),
    ("lucataco/segment-anything-2", "mask-generation", &["image"], &["image"]),
    ("lucataco/siglip", "zero-shot-image-classification", &["text", "image"], &["text"]),
    ("lucataco/ssd-lora-training", "other", &["text", "file"], &["file"]),
    ("meta/detic", "object-detection", &["image"], &["image"]),
    ("meta/meta-llama-3-70b-instruct", "text-generation", &["text"], &["text"]),
    ("meta/meta-llama-guard-2-8b", "text-classification", &["text"], &["text"]),
    ("nightmareai/arf-svox2", "image-to-3d", &["image"], &["3d"]),
    ("orbin-ahmed/interior", "image-text-to-image", &["text", "image"], &["image"]),
    ("pollinations/adampi", "image-to-video", &["image"], &["video"]),
    ("pollinations/rife-video-interpolation", "video-to-video", &["video"], &["video"]),
    ("replicate/all-mpnet-base-v2", "feature-extraction", &["text"], &["number"]),
    ("riffusion/riffusion", "text-to-audio", &["text"], &["image", "audio"]),
    ("smoretalk/clip-interrogator-turbo", "image-to-text", &["image"], &["text"]),
    ("stability-ai/sdxl", "text-to-image", &["text", "image"], &["image"]),
    ("stability-ai/stable-diffusion-inpainting", "image-to-image", &["text", "image"], &["image"]),
    ("tencentarc/gfpgan", "image-to-image", &["image"], &["image"]),
    ("tobinsouth/autolaw", "text-retrieval", &["text"], &["text", "json"]),
    ("victor-upmeet/whisperx", "automatic-speech-recognition", &["audio"], &["text"]),
    ("wendison/vqmivc", "audio-to-audio", &["audio"], &["audio"]),
    ("xl-sr/projected_gan", "unconditional-image-generation", &[], &["image"]),
    ("yorickvp/llava-v1.6-vicuna-13b", "image-text-to-text", &["text", "image"], &["text"]),
    ("yxzwayne/bge-reranker-v2-m3", "text-ranking", &["text"], &["json"]),
    ("zsxkib/hunyuan-video-lora", "text-to-video", &["text"], &["video"]),
    ("zsxkib/mmaudio", "text-to-audio", &["text", "video"], &["audio", "video"]),
];

const SYNTHETIC_EXPECTED: &[Expect] = &[
    ("synthetic/sentence-pair-scorer", "sentence-similarity", &["text"], &["number"]),
    ("synthetic/invoice-qa", "document-question-answering", &["text", "image"], &["text"]),
    ("synthetic/speech-segments", "voice-activity-detection", &["audio"], &["json"]),
    ("synthetic/ner-tagger", "token-classification", &["text"], &["text"]),
    ("synthetic/bert-fill", "fill-mask", &["text"], &["text"]),
    ("synthetic/churn-classifier", "tabular-classification", &["tabular"], &["text"]),
    ("synthetic/house-price-regressor", "tabular-regression", &["tabular"], &["number"]),
    ("synthetic/sales-forecaster", "time-series-forecasting", &["tabular"], &["tabular"]),
];

fn models(json: &str) -> Vec<Model> {
    serde_json::from_str(json).expect("fixture parses as a list of models")
}

fn check(models: &[Model], expected: &[Expect]) {
    assert_eq!(models.len(), expected.len(), "one expectation per fixture");
    let mut failures = Vec::new();
    for (id, task, inputs, outputs) in expected {
        let m = models.iter().find(|m| m.id() == *id).unwrap_or_else(|| panic!("{id} not in fixtures"));
        let r = classify(m, &[]);
        let c = &r.classification;
        let got_in: Vec<&str> = c.input_types.iter().map(|t| t.name()).collect();
        let got_out: Vec<&str> = c.output_types.iter().map(|t| t.name()).collect();
        let want_in: BTreeSet<&str> = inputs.iter().copied().collect();
        let want_out: BTreeSet<&str> = outputs.iter().copied().collect();
        if c.task.name() != *task
            || got_in.iter().copied().collect::<BTreeSet<_>>() != want_in
            || got_out.iter().copied().collect::<BTreeSet<_>>() != want_out
        {
            failures.push(format!(
                "{id}: got {} {got_in:?} -> {got_out:?}, want {task} {inputs:?} -> {outputs:?}\n  evidence: {:?}",
                c.task, r.evidence
            ));
        }
        assert!((0.0..=1.0).contains(&r.confidence), "{id}: confidence {}", r.confidence);
        assert!(!r.evidence.is_empty(), "{id}: no evidence");
        assert!(!c.summary.is_empty() && c.summary.split_whitespace().count() <= 10, "{id}: summary {:?}", c.summary);
        assert_eq!(c.task_summary.as_deref(), c.task.summary(), "{id}: task summary");
    }
    assert!(failures.is_empty(), "{} fixture(s) changed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn real_models_keep_their_answers() {
    check(&models(REAL), REAL_EXPECTED);
}

#[test]
fn synthetic_models_keep_their_answers() {
    check(&models(SYNTHETIC), SYNTHETIC_EXPECTED);
}

#[test]
fn every_producible_task_has_a_fixture() {
    // The tasks `decide` can return, read from its source, must each be pinned above.
    let source = include_str!("decide.rs");
    let covered: BTreeSet<&str> = REAL_EXPECTED.iter().chain(SYNTHETIC_EXPECTED).map(|e| e.1).collect();
    let mut missing = Vec::new();
    for t in Task::ALL {
        let variant = format!("Task::{:?}", t);
        let produced = source.match_indices(&variant).any(|(i, _)| {
            !source[i + variant.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
        });
        if produced && !covered.contains(t.name()) {
            missing.push(t.name());
        }
    }
    assert!(missing.is_empty(), "tasks without a fixture: {missing:?}");
    assert!(covered.len() >= 45, "{} tasks covered", covered.len());
}

#[test]
fn fixtures_stay_small() {
    assert!(REAL.len() + SYNTHETIC.len() < 200_000);
}

#[test]
fn examples_from_the_endpoint_are_read() {
    // A model without a default example: its outputs come from the examples passed in.
    let mut m = models(REAL).into_iter().find(|m| m.id() == "cjwbw/rembg").unwrap();
    let example = m.default_example.take().unwrap();
    let without = classify(&m, &[]);
    let with = classify(&m, std::slice::from_ref(&example));
    assert_eq!(with.classification.task, Task::ImageSegmentation);
    assert_eq!(with.classification.output_types, vec![Modality::Image]);
    assert!(with.evidence.iter().any(|e| e.contains(".png")), "{:?}", with.evidence);
    assert!(!without.evidence.iter().any(|e| e.contains(".png")));
    // Failed predictions are ignored.
    let mut failed = example;
    failed["status"] = serde_json::json!("failed");
    failed["output"] = serde_json::json!("https://x.test/out.mp4");
    let r = classify(&m, &[failed]);
    assert_eq!(r.classification.output_types, vec![Modality::Image]);
}

#[test]
fn no_schema_and_no_example_is_low_confidence_other() {
    let m: Model = serde_json::from_value(serde_json::json!({"owner": "a", "name": "b", "description": null})).unwrap();
    let r = classify(&m, &[]);
    assert_eq!(r.classification.task, Task::Other);
    assert!(r.confidence < 0.3);
    assert!(r.classification.input_types.is_empty() && r.classification.output_types.is_empty());
}

#[test]
fn serialises_camel_case() {
    let m = models(REAL).into_iter().find(|m| m.id() == "tencentarc/gfpgan").unwrap();
    let v = serde_json::to_value(classify(&m, &[])).unwrap();
    assert_eq!(v["classification"]["task"], "image-to-image");
    assert_eq!(v["classification"]["inputTypes"], serde_json::json!(["image"]));
    assert!(v["confidence"].as_f64().unwrap() > 0.5);
    assert!(v["evidence"].as_array().unwrap().len() >= 2);
}

#[test]
fn confidence_serialises_short() {
    for m in models(REAL) {
        let text = serde_json::to_string(&classify(&m, &[])).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let c = v["confidence"].to_string();
        assert!(c.len() <= 4, "{}: confidence {c}", m.id());
    }
}

/// Hand-made schemas for the rules on schema shapes (no real record needed).
fn synthetic_model(input: serde_json::Value, output: serde_json::Value, example: serde_json::Value) -> Model {
    serde_json::from_value(serde_json::json!({
        "owner": "synthetic", "name": "m", "description": "",
        "latest_version": {"id": "v", "openapi_schema": {"components": {"schemas": {
            "Input": {"type": "object", "properties": input}, "Output": output}}}},
        "default_example": example,
    }))
    .unwrap()
}

#[test]
fn schema_shapes() {
    use serde_json::json;
    let names = |v: &[Modality]| v.iter().map(|m| m.name()).collect::<Vec<_>>();
    // A union of a string and a list of strings is text; a plain string named as an image link is an image.
    let m = synthetic_model(
        json!({"text": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}], "x-order": 0},
               "frame_image_url": {"type": "string", "x-order": 1}}),
        json!({"type": "string"}),
        json!({"input": {"text": "a cat"}, "output": "hello"}),
    );
    assert_eq!(names(&classify(&m, &[]).classification.input_types), ["text", "image"]);
    // Scores serialised in a string are JSON, not prose; records with offsets are JSON.
    let m = synthetic_model(
        json!({"query": {"type": "string", "x-order": 0}}),
        json!({"type": "string"}),
        json!({"input": {"query": "x"}, "output": "{\"toxicity\": 0.9, \"insult\": 0.1}"}),
    );
    assert_eq!(names(&classify(&m, &[]).classification.output_types), ["json"]);
    let m = synthetic_model(
        json!({"input": {"type": "string", "x-order": 0}}),
        json!({"anyOf": [{"type": "array", "items": {"type": "object"}}, {"type": "array", "items": {"type": "array"}}]}),
        json!({"input": {"input": "Einstein"}, "output": [{"start": 0, "end": 8, "wiki": "Albert_Einstein"}]}),
    );
    assert_eq!(names(&classify(&m, &[]).classification.output_types), ["json"]);
    // An optional image next to output size settings: a generator, whatever its name says.
    let mut m = synthetic_model(
        json!({"prompt": {"type": "string", "x-order": 0}, "image": {"type": "string", "format": "uri", "x-order": 1},
               "width": {"type": "integer", "x-order": 2}, "height": {"type": "integer", "x-order": 3}}),
        json!({"type": "string", "format": "uri"}),
        json!({"input": {"prompt": "a cat"}, "output": "https://x.test/out.png"}),
    );
    m.name = "lora-upscaler".into();
    assert_eq!(classify(&m, &[]).classification.task, Task::TextToImage);
}
