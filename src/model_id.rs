//! A validated, case-normalised `owner/name`. Only names Replicate could have pass, so nothing a
//! caller sends (percent-encoded `/`, `?`, `#`, `..`) can reach an upstream URL.

use crate::error::ApiError;
use std::fmt;

/// Longest owner or model name accepted.
pub const MAX_PART_LEN: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelId {
    owner: String,
    name: String,
}

impl ModelId {
    /// Validates both parts (letters, digits, `-`, `_`, `.`; 1–100 characters; not starting
    /// with `.`, no `..`) and lower-cases them: Replicate's names are case-insensitive.
    pub fn parse(owner: &str, name: &str) -> Result<Self, ApiError> {
        Ok(ModelId { owner: part("owner", owner)?, name: part("model", name)? })
    }

    /// Parses `owner/name`.
    pub fn parse_full(id: &str) -> Result<Self, ApiError> {
        match id.split_once('/') {
            Some((o, n)) => Self::parse(o, n),
            None => Err(ApiError::BadRequest(format!("expected owner/model, got {:?}", clip(id)))),
        }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

fn part(what: &str, raw: &str) -> Result<String, ApiError> {
    let bad = |why: &str| Err(ApiError::BadRequest(format!("invalid {what} name {:?}: {why}", clip(raw))));
    if raw.is_empty() {
        return bad("it is empty");
    }
    if raw.len() > MAX_PART_LEN {
        return bad(&format!("longer than {MAX_PART_LEN} characters"));
    }
    if let Some(c) = raw.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return bad(&format!("{c:?} is not allowed (use letters, digits, '-', '_' and '.')"));
    }
    if raw.starts_with('.') || raw.contains("..") {
        return bad("it may not start with '.' or contain '..'");
    }
    Ok(raw.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case() {
        let id = ModelId::parse("Salesforce", "BLIP").unwrap();
        assert_eq!(id.to_string(), "salesforce/blip");
        assert_eq!(id, ModelId::parse_full("salesforce/blip").unwrap());
        assert_eq!(ModelId::parse("stability-ai", "sdxl_v1.0").unwrap().to_string(), "stability-ai/sdxl_v1.0");
    }

    #[test]
    fn rejects_what_could_escape_or_is_not_a_name() {
        for (o, n) in [
            ("x", "../../account"),
            ("x", "..%2F..%2Faccount"),
            ("x", "../account"),
            ("x", "a/b"),
            ("x", "a?b"),
            ("x", "a#b"),
            ("x", "a b"),
            ("x", ".hidden"),
            ("", "b"),
            ("x", ""),
            ("x", "é"),
        ] {
            let e = ModelId::parse(o, n).unwrap_err();
            assert_eq!(e.status(), 400, "{o}/{n}");
        }
        let e = ModelId::parse("x", &"a".repeat(101)).unwrap_err();
        assert_eq!(e.message(), format!("invalid model name {:?}: longer than 100 characters", "a".repeat(60)));
        assert_eq!(
            ModelId::parse("x", "a b").unwrap_err().message(),
            "invalid model name \"a b\": ' ' is not allowed (use letters, digits, '-', '_' and '.')"
        );
    }
}
