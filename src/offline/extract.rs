//! What a model takes and gives: modalities from the OpenAPI schema, read together with the
//! example predictions' inputs and outputs.

use super::text::{extension_modality, has_stem, has_word, is_url, normalize, url_extension, words_modality, Words};
use crate::modality::Modality;
use super::view::{self, field, str_field, Comps, Prop};
use serde_json::Value;

/// One input that carries data (parameters such as seeds and scales are left out).
#[derive(Debug, Clone)]
pub(crate) struct InputSig {
    pub name: String,
    pub modality: Modality,
    pub required: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Inputs {
    pub items: Vec<InputSig>,
    /// Every input's normalised name, comma separated (also the parameters').
    pub names: String,
}

impl Inputs {
    pub fn has(&self, m: Modality) -> bool {
        self.items.iter().any(|i| i.modality == m)
    }
    pub fn required(&self, m: Modality) -> bool {
        self.items.iter().any(|i| i.modality == m && i.required)
    }
    pub fn modalities(&self) -> Vec<Modality> {
        let mut v: Vec<Modality> = self.items.iter().map(|i| i.modality).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Name tokens of string inputs that configure rather than carry data.
const CONFIG_TOKENS: &[&str] = &[
    "seed", "token", "tokens", "key", "api", "hf", "url", "lora", "loras", "weights", "weight", "model", "models",
    "version", "scheduler", "sampler", "format", "size", "resolution", "aspect", "ratio", "language", "lang",
    "dtype", "device", "mode", "punctuations", "stop", "webhook", "password", "secret", "replicate", "checkpoint",
    "ckpt", "path", "vae", "repo", "id", "ids", "suffix", "extension", "preset", "quality", "type", "huggingface",
    "civitai", "precision", "quantization", "engine", "method", "voice", "speaker", "accent", "emotion",
    "separator", "delimiter", "sequences", "template", "grammar", "schema", "tools", "adapter", "provider",
    "cookie", "account", "username", "email", "bucket", "region", "endpoint", "host", "upscaler", "controlnet",
];

/// Name tokens of optional string inputs that hold the content itself.
const CORE_TEXT_TOKENS: &[&str] = &[
    "prompt", "prompts", "text", "texts", "question", "questions", "query", "queries", "caption", "captions",
    "message", "messages", "instruction", "instructions", "input", "inputs", "context", "lyrics", "script",
    "transcript", "sentence", "sentences", "document", "documents", "passage", "passages", "argument", "story",
    "content", "description", "des", "desc", "words", "tags", "topic", "subject", "keywords", "dialogue", "conversation", "chat",
    "history", "code", "equation", "source", "target", "premise", "hypothesis", "labels", "classes",
    "categories", "candidates", "title", "article", "paragraph", "utterance", "phrase", "word", "name", "names",
];

/// Name tokens of file inputs that load weights or settings rather than data.
const WEIGHT_TOKENS: &[&str] = &[
    "lora", "loras", "weights", "weight", "checkpoint", "ckpt", "vae", "model", "models", "adapter",
    "safetensors", "embeddings", "config", "tokenizer", "lycoris", "hypernetwork", "textual", "inversion",
];

fn tokens(name: &str) -> Vec<&str> {
    name.split(' ').filter(|t| !t.is_empty()).collect()
}

fn example_input<'a>(examples: &[&'a Value], name: &str) -> Option<&'a Value> {
    examples.iter().find_map(|e| e.get("input")?.get(name).filter(|v| !v.is_null()))
}

/// First string of a value (itself, or the first element of an array).
fn first_str(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Array(a) => a.iter().find_map(Value::as_str),
        _ => None,
    }
}

fn short(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

pub(crate) fn inputs(openapi: &Value, examples: &[&Value], words: &Words, ev: &mut Vec<String>) -> Inputs {
    let props = view::input_props(openapi, Comps::of(openapi));
    let mut out = Inputs::default();
    let mut names = Vec::with_capacity(props.len());
    let mut loose_text: Option<String> = None;
    for p in &props {
        let name = normalize(p.name);
        names.push(name.clone());
        let ex = example_input(examples, p.name);
        if let Some((m, why)) = input_modality(p, &name, ex, words) {
            ev.push(format!("input `{}`: {why} => {m}", p.name));
            out.items.push(InputSig { name, modality: m, required: p.required, });
        } else if loose_text.is_none() && is_loose_text(p, &name) {
            loose_text = Some(p.name.to_string());
        }
    }
    // A model whose only data is an unnamed string still takes text.
    if out.items.is_empty() {
        if let Some(n) = loose_text {
            ev.push(format!("input `{n}`: only free string => text"));
            out.items.push(InputSig { name: normalize(&n), modality: Modality::Text, required: false });
        }
    }
    out.names = names.join(", ");
    out
}

fn is_loose_text(p: &Prop<'_>, name: &str) -> bool {
    p.kind == Some("string")
        && !p.has_enum
        && !tokens(name).iter().any(|t| matches!(*t, "seed" | "token" | "key" | "api" | "url" | "webhook" | "password"))
}

fn input_modality(p: &Prop<'_>, name: &str, ex: Option<&Value>, words: &Words) -> Option<(Modality, String)> {
    let kind = p.kind;
    let ex_str = ex.and_then(first_str);
    let ex_url = ex_str.filter(|s| is_url(s));
    let toks = tokens(name);
    let about = format!(
        "{} {}",
        p.title.unwrap_or("").to_lowercase(),
        p.description.map(|d| short(d, 240)).unwrap_or_default().to_lowercase()
    );
    let file_kind = matches!(kind, Some("string") | Some("array") | None);
    let by_ext = ex_url.and_then(url_extension).and_then(|e| extension_modality(&e).map(|m| (m, e)));
    // A plain string holding a link counts as a file when the link or the name says what it is.
    let spoken = || {
        matches!(words_modality(&about), Some(Modality::Image | Modality::Audio | Modality::Video | Modality::ThreeD))
    };
    let linked = file_kind && ex_url.is_some() && (by_ext.is_some() || media_name(&toks).is_some() || spoken());
    if p.is_file() || linked {
        let weights = toks.iter().any(|t| WEIGHT_TOKENS.contains(t))
            || (toks.is_empty() && has_stem(&about, "weights"));
        if weights && by_ext.as_ref().is_none_or(|(m, _)| *m == Modality::File) {
            return None;
        }
        if let Some((m, e)) = by_ext {
            return Some((m, format!("file, example .{e}")));
        }
        if let Some(m) = words_modality(name) {
            return Some((m, "file named so".into()));
        }
        if let Some(m) = words_modality(&about) {
            return Some((m, "file described so".into()));
        }
        if has_word(&about, "jsonl") || has_word(&about, "json") {
            return Some((Modality::Json, "JSON file".into()));
        }
        if has_word(&about, "txt") || has_stem(&about, "text file") || has_stem(&about, "containing text") {
            return Some((Modality::Text, "text file".into()));
        }
        // An unnamed file: what the model is about, else an image (Replicate's commonest).
        let m = match words_modality(&words.all) {
            Some(m @ (Modality::Audio | Modality::Video | Modality::ThreeD | Modality::Tabular)) => m,
            _ => Modality::Image,
        };
        return Some((m, "unnamed file".into()));
    }
    match kind {
        Some("string") if !p.has_enum => {
            // A link to media given as a plain string (`image_url`, `frame_image_url`).
            if toks.iter().any(|t| matches!(*t, "url" | "uri" | "link" | "b64" | "base64")) {
                if let Some(m @ (Modality::Image | Modality::Audio | Modality::Video)) = media_name(&toks) {
                    return Some((m, "link named so".into()));
                }
            }
            if toks.iter().any(|t| CONFIG_TOKENS.contains(t)) && !p.required {
                return None;
            }
            if has_word(&about, "json") && !has_stem(&about, "strings") && !has_stem(&about, "list of") {
                return Some((Modality::Json, "JSON string".into()));
            }
            // A named media input given as a plain string (base64 or a URL).
            if let Some(m @ (Modality::Image | Modality::Audio | Modality::Video)) = media_name(&toks) {
                return Some((m, "string named so".into()));
            }
            if p.required {
                return Some((Modality::Text, "required string".into()));
            }
            if toks.first() == Some(&"initial") {
                return None;
            }
            if toks.iter().any(|t| CORE_TEXT_TOKENS.contains(t)) {
                return Some((Modality::Text, "string".into()));
            }
            None
        }
        Some("array") => match p.items_kind {
            Some("string") | None if !toks.iter().any(|t| CONFIG_TOKENS.contains(t)) => {
                if let Some(m @ (Modality::Image | Modality::Audio | Modality::Video)) = media_name(&toks) {
                    return Some((m, "list named so".into()));
                }
                if toks.iter().any(|t| CORE_TEXT_TOKENS.contains(t)) || p.required {
                    return Some((Modality::Text, "list of strings".into()));
                }
                None
            }
            Some("number") | Some("integer")
                if toks.iter().any(|t| matches!(*t, "embedding" | "embeddings" | "vector" | "vectors" | "features")) =>
            {
                Some((Modality::Number, "list of numbers".into()))
            }
            _ => None,
        },
        Some("object") if p.required => Some((Modality::Json, "object".into())),
        _ => None,
    }
}

/// A media kind named by a name's tokens alone (`image`, `input_audio`, `video_url`).
fn media_name(toks: &[&str]) -> Option<Modality> {
    toks.iter().find_map(|t| match *t {
        "image" | "images" | "img" | "photo" | "picture" => Some(Modality::Image),
        "audio" | "speech" | "wav" => Some(Modality::Audio),
        "video" | "videos" => Some(Modality::Video),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// Outputs

#[derive(Debug, Default)]
pub(crate) struct Outputs {
    pub mods: Vec<Modality>,
    /// An embedding (vector or file) is among the outputs.
    pub embedding: bool,
    /// Structured fields: boxes, keypoints, ...
    pub boxes: bool,
    pub keypoints: bool,
    /// An `answer` field.
    pub answer: bool,
    /// Retrieved passages.
    pub passages: bool,
    /// Masks are among the outputs.
    pub masks: bool,
    /// Label/score lists.
    pub labels: bool,
    /// The example output is one short string, such as a label.
    pub short_text: bool,
    /// Numbers (scores, coordinates) appear inside the structured output.
    pub number_field: bool,
}

impl Outputs {
    pub fn has(&self, m: Modality) -> bool {
        self.mods.contains(&m)
    }
    pub fn push(&mut self, m: Modality) {
        if !self.mods.contains(&m) {
            self.mods.push(m);
        }
    }
}

/// Accumulates what one reading (schema or example) found.
#[derive(Debug, Default)]
struct Acc {
    mods: Vec<Modality>,
    unknown_uri: bool,
    /// What links (by extension or field name) pointed to.
    uri_mods: Vec<Modality>,
    untyped: bool,
    /// Scalar numbers (scores) seen at top level only.
    scalar_number: bool,
    json_string: bool,
    /// A number was read at any depth (a score or coordinate field).
    number_field: bool,
    flags: Flags,
}

#[derive(Debug, Default, Clone, Copy)]
struct Flags {
    embedding: bool,
    boxes: bool,
    keypoints: bool,
    answer: bool,
    passages: bool,
    masks: bool,
    labels: bool,
}

impl Flags {
    fn or(&mut self, o: Flags) {
        self.embedding |= o.embedding;
        self.boxes |= o.boxes;
        self.keypoints |= o.keypoints;
        self.answer |= o.answer;
        self.passages |= o.passages;
        self.masks |= o.masks;
        self.labels |= o.labels;
    }
}

impl Acc {
    fn push(&mut self, m: Modality) {
        if !self.mods.contains(&m) {
            self.mods.push(m);
        }
    }
    fn media(&self) -> impl Iterator<Item = Modality> + '_ {
        self.mods.iter().copied().filter(|m| is_media(*m))
    }
}

fn is_media(m: Modality) -> bool {
    matches!(m, Modality::Image | Modality::Audio | Modality::Video | Modality::ThreeD | Modality::File | Modality::Tabular)
}

const BOX_KEYS: &[&str] = &[
    "bbox", "bboxes", "box", "boxes", "bounding", "detections", "polygon", "polygons", "coordinates", "xyxy",
    "xywh", "objects", "regions",
];
const KEYPOINT_KEYS: &[&str] = &["keypoints", "keypoint", "landmarks", "joints", "skeleton", "poses"];
const EMBED_KEYS: &[&str] = &["embedding", "embeddings", "vector", "vectors", "features", "feature", "encoding"];
/// Fields that carry content text (kept next to files).
const CONTENT_KEYS: &[&str] = &[
    "text", "caption", "captions", "transcription", "transcript", "description", "prompt", "answer", "response",
    "content", "message", "summary", "lyrics", "translation", "output", "result", "story", "markdown", "srt",
    "subtitles", "txt",
];

fn key_has(key: &str, list: &[&str]) -> bool {
    key.split(' ').any(|t| list.contains(&t))
}

/// A modality for a file field from its name; `None` for generic names (`output`, `file`).
fn uri_name_modality(key: &str) -> Option<Modality> {
    if key_has(key, &["srt", "vtt", "txt", "subtitles", "subtitle", "transcript", "markdown", "md"]) {
        return Some(Modality::Text);
    }
    if key_has(key, &["json", "jsonl"]) {
        return Some(Modality::Json);
    }
    if key_has(key, &["csv", "tsv", "xlsx"]) {
        return Some(Modality::Tabular);
    }
    if key_has(key, EMBED_KEYS)
        || key_has(key, &["weights", "lora", "checkpoint", "trained", "npy", "zip", "tar", "archive", "safetensors"])
    {
        return Some(Modality::File);
    }
    words_modality(key)
}

fn walk_schema(s: &Value, c: Comps<'_>, key: &str, depth: u8, acc: &mut Acc) {
    if depth > 6 {
        return;
    }
    let ty = str_field(s, "type", c);
    let format = str_field(s, "format", c);
    let props = field(s, "properties", c).and_then(Value::as_object);
    match ty {
        Some("string") if format == Some("uri") => match uri_name_modality(key) {
            Some(m) => {
                if m == Modality::File && key_has(key, EMBED_KEYS) {
                    acc.flags.embedding = true;
                }
                if key_has(key, &["mask", "masks"]) {
                    acc.flags.masks = true;
                }
                acc.push(m)
            }
            None => acc.unknown_uri = true,
        },
        Some("string") => acc.push(Modality::Text),
        Some("boolean") => acc.push(Modality::Text),
        Some("integer") | Some("number") => {
            acc.number_field = true;
            if depth == 0 {
                acc.scalar_number = true;
            }
        }
        Some("array") => match field(s, "items", c) {
            Some(items) => {
                let ity = str_field(items, "type", c);
                if matches!(ity, Some("number") | Some("integer")) {
                    if key_has(key, EMBED_KEYS) {
                        acc.flags.embedding = true;
                    }
                    acc.push(Modality::Number);
                } else if ity == Some("array") && is_number_array_schema(items, c) {
                    acc.push(Modality::Number);
                    if key_has(key, EMBED_KEYS) {
                        acc.flags.embedding = true;
                    }
                } else {
                    walk_schema(items, c, key, depth + 1, acc)
                }
            }
            None => acc.untyped = true,
        },
        _ => match props {
            Some(props) if !props.is_empty() => walk_object_schema(props, c, depth, acc),
            _ => acc.untyped = true,
        },
    }
}

fn is_number_array_schema(s: &Value, c: Comps<'_>) -> bool {
    field(s, "items", c).and_then(|i| str_field(i, "type", c)).is_some_and(|t| t == "number" || t == "integer")
}

/// A field named like boxes or keypoints is structured output (`json`); false for other fields.
fn mark_structured_field(key: &str, child: &mut Acc) -> bool {
    if key_has(key, BOX_KEYS) {
        child.flags.boxes = true;
    } else if key_has(key, KEYPOINT_KEYS) {
        child.flags.keypoints = true;
    } else {
        return false;
    }
    child.push(Modality::Json);
    true
}

fn walk_object_schema(props: &serde_json::Map<String, Value>, c: Comps<'_>, depth: u8, acc: &mut Acc) {
    let mut parts: Vec<(String, Acc)> = Vec::with_capacity(props.len());
    for (k, v) in props {
        let key = normalize(k);
        let mut child = Acc::default();
        if !mark_structured_field(&key, &mut child) {
            walk_schema(v, c, &key, depth + 1, &mut child);
            // A scalar number field inside an object is a score, not data.
        }
        parts.push((key, child));
    }
    merge_object(parts, acc);
}

/// Merges an object's fields: next to files, only content text is kept (labels and names are
/// annotations); an object with nothing recognisable is structured data.
fn merge_object(parts: Vec<(String, Acc)>, acc: &mut Acc) {
    let has_media = parts.iter().any(|(_, a)| a.media().next().is_some() || a.unknown_uri);
    // A record: numbers (offsets, scores, ids) next to short strings, no files. Its strings are
    // fields of structured data, unless they are named as content (`text`, `caption`...).
    let record = !has_media && parts.iter().any(|(_, a)| a.number_field && a.mods.is_empty());
    let mut found = false;
    for (key, a) in &parts {
        acc.flags.or(a.flags);
        acc.number_field |= a.number_field;
        if key_has(key, &["answer"]) {
            acc.flags.answer = true;
        }
        if key_has(key, &["passage", "passages", "citation", "citations", "documents", "chunks"]) {
            acc.flags.passages = true;
        }
        if key_has(key, &["label", "labels", "class", "classes", "category", "categories", "tag", "tags"]) {
            acc.flags.labels = true;
        }
        if key_has(key, &["mask", "masks"]) {
            acc.flags.masks = true;
        }
        if a.unknown_uri {
            acc.unknown_uri = true;
            found = true;
        }
        for m in &a.uri_mods {
            if !acc.uri_mods.contains(m) {
                acc.uri_mods.push(*m);
            }
        }
        for m in &a.mods {
            let keep = match m {
                Modality::Text => !has_media || key_has(key, CONTENT_KEYS),
                _ => true,
            };
            if keep {
                let m = if *m == Modality::Text && record && !key_has(key, CONTENT_KEYS) { Modality::Json } else { *m };
                acc.push(m);
                found = true;
            }
        }
    }
    if !found && !parts.is_empty() {
        acc.push(Modality::Json);
    }
}

// Example values.

/// A string that holds a JSON object or array, parsed.
fn parse_json_string(s: &str) -> Option<Value> {
    let t = s.trim();
    let shaped = (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'));
    if !shaped || t.len() > 200_000 {
        return None;
    }
    serde_json::from_str::<Value>(t).ok().filter(|v| v.is_object() || v.is_array())
}

fn walk_value(v: &Value, key: &str, depth: u8, acc: &mut Acc) {
    if depth > 5 {
        return;
    }
    match v {
        Value::String(s) if is_url(s) => {
            let by_ext = url_extension(s).and_then(|e| extension_modality(&e));
            match by_ext.or_else(|| uri_name_modality(key)) {
                Some(m) => {
                    if key_has(key, EMBED_KEYS) {
                        acc.flags.embedding = true;
                    }
                    if !acc.uri_mods.contains(&m) {
                        acc.uri_mods.push(m);
                    }
                    acc.push(m)
                }
                None => acc.unknown_uri = true,
            }
        }
        Value::String(s) => {
            if let Some(parsed) = parse_json_string(s) {
                acc.json_string = true;
                acc.push(Modality::Json);
                let mut inner = Acc::default();
                walk_value(&parsed, key, depth + 1, &mut inner);
                acc.flags.or(inner.flags);
                acc.number_field |= inner.number_field;
                // Scores or records serialised as a string are structured data, not prose.
                if inner.mods.contains(&Modality::Text) {
                    acc.push(Modality::Text);
                }
                return;
            }
            acc.push(Modality::Text);
        }
        Value::Number(_) => {
            acc.number_field = true;
            if depth == 0 {
                acc.scalar_number = true;
            }
        }
        Value::Bool(_) => {
            if depth == 0 {
                acc.push(Modality::Text);
            }
        }
        Value::Array(a) => {
            if a.is_empty() {
                return;
            }
            let numeric = a.iter().take(32).all(|x| x.is_number() || (x.is_array() && x.as_array().is_some_and(|i| i.iter().take(8).all(Value::is_number))));
            if numeric {
                acc.number_field = true;
                if a.len() >= 16 || key_has(key, EMBED_KEYS) || a[0].is_array() {
                    if key_has(key, EMBED_KEYS) || depth == 0 {
                        acc.flags.embedding |= key_has(key, EMBED_KEYS);
                    }
                    acc.push(Modality::Number);
                } else {
                    acc.push(Modality::Json);
                }
                return;
            }
            for x in a.iter().take(6) {
                walk_value(x, key, depth + 1, acc);
            }
        }
        Value::Object(m) => {
            let mut parts = Vec::with_capacity(m.len());
            for (k, x) in m.iter().take(40) {
                let key = normalize(k);
                let mut child = Acc::default();
                if !mark_structured_field(&key, &mut child) {
                    walk_value(x, &key, depth + 1, &mut child);
                }
                parts.push((key, child));
            }
            merge_object(parts, acc);
        }
        Value::Null => {}
    }
}

fn describe_schema(s: &Value, c: Comps<'_>) -> String {
    let ty = str_field(s, "type", c);
    match ty {
        Some("string") if str_field(s, "format", c) == Some("uri") => "uri".into(),
        Some("array") => match field(s, "items", c) {
            Some(i) => format!("array of {}", describe_schema(i, c)),
            None => "array".into(),
        },
        Some(t) if t != "object" => t.into(),
        _ => match field(s, "properties", c).and_then(Value::as_object) {
            Some(p) if !p.is_empty() => {
                let keys: Vec<&str> = p.keys().take(5).map(String::as_str).collect();
                format!("object {{{}}}", keys.join(", "))
            }
            _ => "untyped".into(),
        },
    }
}

fn describe_example(v: &Value) -> String {
    fn find_url(v: &Value, depth: u8) -> Option<&str> {
        if depth > 4 {
            return None;
        }
        match v {
            Value::String(s) if is_url(s) => Some(s),
            Value::Array(a) => a.iter().take(6).find_map(|x| find_url(x, depth + 1)),
            Value::Object(m) => m.values().take(20).find_map(|x| find_url(x, depth + 1)),
            _ => None,
        }
    }
    if let Some(u) = find_url(v, 0) {
        if let Some(e) = url_extension(u) {
            return format!(".{e}");
        }
        return "a link".into();
    }
    match v {
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        Value::Number(_) => "a number".into(),
        _ => "a value".into(),
    }
}

pub(crate) fn outputs(openapi: &Value, examples: &[&Value], words: &Words, ev: &mut Vec<String>) -> Outputs {
    let mut out = Outputs::default();
    let comps = Comps::of(openapi);
    let schema = comps.get("Output");
    let mut s_acc = Acc::default();
    if let Some(s) = schema {
        walk_schema(s, comps, "", 0, &mut s_acc);
    }
    let example = examples.iter().find_map(|e| e.get("output").filter(|o| !o.is_null()));
    let mut e_acc = Acc::default();
    if let Some(x) = example {
        walk_value(x, "", 0, &mut e_acc);
    }
    let schema_known = !s_acc.mods.is_empty() || s_acc.unknown_uri || s_acc.scalar_number;
    let mut mods: Vec<Modality> = Vec::new();
    let mut flags = s_acc.flags;
    if schema_known {
        mods.extend(s_acc.mods.iter().copied());
        let desc = schema.map(|s| describe_schema(s, comps)).unwrap_or_default();
        let ex_desc = example.map(describe_example);
        if s_acc.unknown_uri {
            let from_ex: Vec<Modality> = e_acc.uri_mods.clone();
            if !from_ex.is_empty() {
                mods.extend(from_ex);
                flags.or(e_acc.flags);
            } else if e_acc.mods.iter().any(|m| matches!(m, Modality::Text | Modality::Json)) && !e_acc.unknown_uri {
                // Declared a file, but the example shows plain text.
                mods.push(Modality::Text);
            } else {
                mods.push(fallback_file_modality(words));
            }
        }
        // A plain string that in fact holds links to media, or JSON.
        if s_acc.mods == [Modality::Text] && !s_acc.unknown_uri {
            let media: Vec<Modality> = e_acc.media().collect();
            if !media.is_empty() && !e_acc.mods.contains(&Modality::Text) {
                mods = media;
            } else if e_acc.json_string {
                if !e_acc.mods.contains(&Modality::Text) {
                    mods.retain(|m| *m != Modality::Text);
                }
                mods.push(Modality::Json);
                flags.or(e_acc.flags);
            }
        }
        if s_acc.scalar_number && mods.is_empty() {
            mods.push(Modality::Number);
        }
        // Text fields declared next to files but empty in the example.
        if example.is_some()
            && mods.contains(&Modality::Text)
            && mods.iter().any(|m| is_media(*m))
            && !e_acc.mods.contains(&Modality::Text)
        {
            mods.retain(|m| *m != Modality::Text);
        }
        match ex_desc {
            Some(e) => ev.push(format!("output schema: {desc}; example output {e}")),
            None => ev.push(format!("output schema: {desc}")),
        }
    } else if example.is_some() {
        mods.extend(e_acc.mods.iter().copied());
        flags.or(e_acc.flags);
        if e_acc.unknown_uri && e_acc.media().next().is_none() {
            mods.push(fallback_file_modality(words));
        }
        if e_acc.scalar_number && mods.is_empty() {
            mods.push(Modality::Number);
        }
        ev.push(format!("output untyped; example output {}", describe_example(example.unwrap())));
    } else {
        ev.push("no output schema or example".into());
    }
    for m in mods {
        // A GIF from a model about video or animation is a video.
        let m = if m == Modality::Image && gif_output(example) && words.any(&["video", "gif", "animat"]).is_some() {
            Modality::Video
        } else {
            m
        };
        out.push(m);
    }
    out.embedding = flags.embedding;
    out.boxes = flags.boxes;
    out.keypoints = flags.keypoints;
    out.answer = flags.answer;
    out.passages = flags.passages;
    out.masks = flags.masks;
    out.labels = flags.labels;
    out.short_text = example.and_then(Value::as_str).is_some_and(is_label);
    out.number_field = e_acc.number_field || e_acc.flags.boxes || e_acc.flags.keypoints;
    out
}

/// A label rather than prose: a few words, no sentence.
fn is_label(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && !is_url(t) && t.len() <= 40 && t.split_whitespace().count() <= 3 && !t.contains(". ")
}

/// Whether the example output's files are GIFs.
fn gif_output(example: Option<&Value>) -> bool {
    let first = match example {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Array(a)) => a.iter().find_map(Value::as_str),
        _ => None,
    };
    first.and_then(url_extension).is_some_and(|e| e == "gif")
}

/// What an unnamed output file most likely is, from the model's own words.
fn fallback_file_modality(words: &Words) -> Modality {
    match words_modality(&words.all) {
        Some(m @ (Modality::Audio | Modality::Video | Modality::ThreeD)) => m,
        _ => Modality::Image,
    }
}
