//! Reading a Cog model's OpenAPI schema: its input properties and its output, with `$ref`s and
//! `allOf` wrappers resolved so callers see plain types, formats and enums.

use serde_json::{Map, Value};

/// One input of a model, as the prompt and the offline classifier need it.
#[derive(Debug, Clone, PartialEq)]
pub struct InputProperty {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// JSON Schema type (`string`, `integer`, `array`, ...); `None` when unstated.
    pub kind: Option<String>,
    /// `format`, e.g. `uri` for a file; for arrays, the items' format.
    pub format: Option<String>,
    /// For arrays, the items' type.
    pub items_kind: Option<String>,
    pub enum_values: Vec<Value>,
    pub default: Option<Value>,
    pub required: bool,
}

impl InputProperty {
    /// Whether the input takes a file (or a list of files): Cog marks these `format: uri`.
    pub fn is_file(&self) -> bool {
        self.format.as_deref() == Some("uri")
    }
}

/// The schema components of a model version, if any.
pub fn components(openapi: &Value) -> Option<&Map<String, Value>> {
    openapi.get("components")?.get("schemas")?.as_object()
}

/// Follows `$ref` and single-element `allOf`/`anyOf` wrappers, merging sibling keys, so that
/// `{"allOf":[{"$ref":"#/components/schemas/task"}],"default":..}` reads as the enum it is.
pub fn resolve(schema: &Value, comps: Option<&Map<String, Value>>) -> Value {
    resolve_depth(schema, comps, 0)
}

fn resolve_depth(schema: &Value, comps: Option<&Map<String, Value>>, depth: u8) -> Value {
    let Some(obj) = schema.as_object() else { return schema.clone() };
    if depth > 8 {
        return schema.clone();
    }
    let mut merged = Map::new();
    if let Some(target) = obj.get("$ref").and_then(Value::as_str).and_then(|r| lookup(r, comps)) {
        if let Value::Object(m) = resolve_depth(target, comps, depth + 1) {
            merged.extend(m);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(parts) = obj.get(key).and_then(Value::as_array) {
            // Only unwrap when it adds a single real schema (Cog's enum and Optional wrappers).
            let real: Vec<&Value> = parts
                .iter()
                .filter(|p| p.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            if real.len() == 1 {
                if let Value::Object(m) = resolve_depth(real[0], comps, depth + 1) {
                    for (k, v) in m {
                        merged.entry(k).or_insert(v);
                    }
                }
            }
        }
    }
    for (k, v) in obj {
        if k == "$ref" || ((k == "allOf" || k == "anyOf" || k == "oneOf") && !merged.is_empty()) {
            continue;
        }
        merged.insert(k.clone(), v.clone());
    }
    if let Some(items) = merged.get("items").cloned() {
        merged.insert("items".into(), resolve_depth(&items, comps, depth + 1));
    }
    Value::Object(merged)
}

fn lookup<'a>(reference: &str, comps: Option<&'a Map<String, Value>>) -> Option<&'a Value> {
    let name = reference.strip_prefix("#/components/schemas/")?;
    comps?.get(name)
}

/// The model's inputs in their intended order (`x-order`, then name).
pub fn input_properties(openapi: &Value) -> Vec<InputProperty> {
    let comps = components(openapi);
    let Some(input) = comps.and_then(|c| c.get("Input")) else { return Vec::new() };
    let input = resolve(input, comps);
    let required: Vec<&str> = input
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = input.get("properties").and_then(Value::as_object) else { return Vec::new() };
    let mut out: Vec<(i64, InputProperty)> = props
        .iter()
        .map(|(name, raw)| {
            let p = resolve(raw, comps);
            let s = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
            let items = p.get("items");
            let items_kind = items.and_then(|i| i.get("type")).and_then(Value::as_str).map(str::to_string);
            let format = s("format").or_else(|| items.and_then(|i| i.get("format")).and_then(Value::as_str).map(str::to_string));
            let order = p.get("x-order").and_then(Value::as_i64).unwrap_or(i64::MAX);
            (
                order,
                InputProperty {
                    name: name.clone(),
                    title: s("title"),
                    description: s("description"),
                    kind: s("type"),
                    format,
                    items_kind,
                    enum_values: p.get("enum").and_then(Value::as_array).cloned().unwrap_or_default(),
                    default: p.get("default").cloned(),
                    required: required.contains(&name.as_str()),
                },
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    out.into_iter().map(|(_, p)| p).collect()
}

/// The model's `Output` schema with references resolved (recursively through items and
/// object properties), or `None` when the version has no schema.
pub fn output_schema(openapi: &Value) -> Option<Value> {
    let comps = components(openapi);
    let out = comps?.get("Output")?;
    Some(resolve_deep(out, comps, 0))
}

fn resolve_deep(schema: &Value, comps: Option<&Map<String, Value>>, depth: u8) -> Value {
    let mut v = resolve(schema, comps);
    if depth > 6 {
        return v;
    }
    if let Some(obj) = v.as_object_mut() {
        if let Some(items) = obj.get("items").cloned() {
            obj.insert("items".into(), resolve_deep(&items, comps, depth + 1));
        }
        if let Some(Value::Object(props)) = obj.get("properties").cloned() {
            let resolved: Map<String, Value> =
                props.iter().map(|(k, p)| (k.clone(), resolve_deep(p, comps, depth + 1))).collect();
            obj.insert("properties".into(), Value::Object(resolved));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn blip_schema() -> Value {
        json!({"components":{"schemas":{
            "task":{"enum":["image_captioning","visual_question_answering","image_text_matching"],"type":"string","title":"task"},
            "Input":{"type":"object","required":["image"],"properties":{
                "task":{"allOf":[{"$ref":"#/components/schemas/task"}],"default":"image_captioning","x-order":1,"description":"Choose a task."},
                "image":{"type":"string","title":"Image","format":"uri","x-order":0,"description":"Input image"},
                "caption":{"type":"string","x-order":3},
                "question":{"type":"string","x-order":2}}},
            "Output":{"type":"string","title":"Output"}}}})
    }

    #[test]
    fn inputs_are_ordered_and_resolved() {
        let props = input_properties(&blip_schema());
        let names: Vec<&str> = props.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["image", "task", "question", "caption"]);
        assert!(props[0].is_file() && props[0].required);
        assert_eq!(props[1].kind.as_deref(), Some("string"));
        assert_eq!(props[1].enum_values.len(), 3);
        assert_eq!(props[1].default, Some(json!("image_captioning")));
        assert_eq!(props[1].description.as_deref(), Some("Choose a task."));
    }

    #[test]
    fn output_refs_resolved() {
        let s = json!({"components":{"schemas":{
            "Output":{"type":"array","items":{"$ref":"#/components/schemas/ModelOutput"}},
            "ModelOutput":{"type":"object","properties":{"file":{"type":"string","format":"uri"}}}}}});
        let out = output_schema(&s).unwrap();
        assert_eq!(out["items"]["properties"]["file"]["format"], "uri");
        assert_eq!(output_schema(&json!({})), None);
    }

    #[test]
    fn optional_anyof_unwrapped() {
        let s = json!({"components":{"schemas":{"Input":{"properties":{
            "audio":{"anyOf":[{"type":"string","format":"uri"},{"type":"null"}],"description":"Audio"}}}}}});
        let p = &input_properties(&s)[0];
        assert!(p.is_file());
        assert_eq!(p.description.as_deref(), Some("Audio"));
    }
}
