//! Borrowed reading of a Cog OpenAPI schema: fields are looked up through `$ref`s and
//! single-schema `allOf`/`anyOf`/`oneOf` wrappers without copying anything (the classifier
//! reads thousands of schemas, and `crate::schema` builds owned, resolved copies).

use serde_json::{Map, Value};

#[derive(Clone, Copy)]
pub(crate) struct Comps<'a>(pub Option<&'a Map<String, Value>>);

impl<'a> Comps<'a> {
    pub fn of(openapi: &'a Value) -> Self {
        Comps(openapi.get("components").and_then(|c| c.get("schemas")).and_then(Value::as_object))
    }
    pub fn get(self, name: &str) -> Option<&'a Value> {
        self.0?.get(name)
    }
}

/// `key` of a schema: its own, else its `$ref` target's, else its one real wrapped schema's.
pub(crate) fn field<'a>(s: &'a Value, key: &str, c: Comps<'a>) -> Option<&'a Value> {
    field_depth(s, key, c, 0)
}

fn field_depth<'a>(s: &'a Value, key: &str, c: Comps<'a>, depth: u8) -> Option<&'a Value> {
    let obj = s.as_object()?;
    if let Some(v) = obj.get(key) {
        return Some(v);
    }
    if depth > 8 {
        return None;
    }
    if let Some(target) = obj
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .and_then(|n| c.get(n))
    {
        if let Some(v) = field_depth(target, key, c, depth + 1) {
            return Some(v);
        }
    }
    for wrapper in ["allOf", "anyOf", "oneOf"] {
        if let Some(parts) = obj.get(wrapper).and_then(Value::as_array) {
            let mut real = parts.iter().filter(|p| p.get("type").and_then(Value::as_str) != Some("null"));
            if let (Some(one), None) = (real.next(), real.next()) {
                if let Some(v) = field_depth(one, key, c, depth + 1) {
                    return Some(v);
                }
            }
        }
    }
    None
}

pub(crate) fn str_field<'a>(s: &'a Value, key: &str, c: Comps<'a>) -> Option<&'a str> {
    field(s, key, c).and_then(Value::as_str)
}

/// One input property, borrowed.
pub(crate) struct Prop<'a> {
    pub name: &'a str,
    pub title: Option<&'a str>,
    pub description: Option<&'a str>,
    pub kind: Option<&'a str>,
    /// `format`, or for arrays the items' format.
    pub format: Option<&'a str>,
    pub items_kind: Option<&'a str>,
    pub has_enum: bool,
    pub required: bool,
}

impl Prop<'_> {
    pub fn is_file(&self) -> bool {
        self.format == Some("uri")
    }
}

/// The model's inputs in their intended order (`x-order`, then name).
pub(crate) fn input_props<'a>(openapi: &'a Value, c: Comps<'a>) -> Vec<Prop<'a>> {
    let Some(input) = c.get("Input") else { return Vec::new() };
    let required: Vec<&str> = field(input, "required", c)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = field(input, "properties", c).and_then(Value::as_object) else { return Vec::new() };
    let _ = openapi;
    let mut out: Vec<(i64, Prop<'a>)> = props
        .iter()
        .map(|(name, raw)| {
            let items = field(raw, "items", c);
            let format = str_field(raw, "format", c).or_else(|| items.and_then(|i| str_field(i, "format", c)));
            let order = field(raw, "x-order", c).and_then(Value::as_i64).unwrap_or(i64::MAX);
            (
                order,
                Prop {
                    name: name.as_str(),
                    title: str_field(raw, "title", c),
                    description: str_field(raw, "description", c),
                    kind: str_field(raw, "type", c).or_else(|| union_kind(raw, c)),
                    format,
                    items_kind: items.and_then(|i| str_field(i, "type", c)),
                    has_enum: field(raw, "enum", c).and_then(Value::as_array).is_some_and(|a| !a.is_empty()),
                    required: required.contains(&name.as_str()),
                },
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(b.1.name)));
    out.into_iter().map(|(_, p)| p).collect()
}

/// The type of a union (`anyOf`/`oneOf` of several schemas) whose real members share one
/// scalar type, lists of it counting as it: `string | array of string` is a string.
fn union_kind<'a>(raw: &'a Value, c: Comps<'a>) -> Option<&'a str> {
    let obj = raw.as_object()?;
    let parts = obj.get("anyOf").or_else(|| obj.get("oneOf"))?.as_array()?;
    let mut kind: Option<&'a str> = None;
    for p in parts {
        let t = str_field(p, "type", c)?;
        let t = match t {
            "null" => continue,
            "array" => field(p, "items", c).and_then(|i| str_field(i, "type", c))?,
            t => t,
        };
        if t == "object" || t == "array" || kind.is_some_and(|k| k != t) {
            return None;
        }
        kind = Some(t);
    }
    kind
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn agrees_with_the_owned_reader() {
        let s = json!({"components":{"schemas":{
            "task":{"enum":["a","b"],"type":"string","title":"task"},
            "Input":{"type":"object","required":["image"],"properties":{
                "task":{"allOf":[{"$ref":"#/components/schemas/task"}],"default":"a","x-order":1,"description":"Choose."},
                "image":{"type":"string","title":"Image","format":"uri","x-order":0},
                "audio":{"anyOf":[{"type":"string","format":"uri"},{"type":"null"}],"x-order":2},
                "images":{"type":"array","items":{"type":"string","format":"uri"},"x-order":3}}},
            "Output":{"type":"string"}}}});
        let c = Comps::of(&s);
        let mine = input_props(&s, c);
        let theirs = crate::schema::input_properties(&s);
        assert_eq!(mine.len(), theirs.len());
        for (a, b) in mine.iter().zip(&theirs) {
            assert_eq!(a.name, b.name);
            assert_eq!(a.kind, b.kind.as_deref());
            assert_eq!(a.format, b.format.as_deref());
            assert_eq!(a.items_kind, b.items_kind.as_deref());
            assert_eq!(a.has_enum, !b.enum_values.is_empty());
            assert_eq!(a.required, b.required);
            assert_eq!(a.description, b.description.as_deref());
        }
    }
}
