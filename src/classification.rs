//! The answer the API gives: what a model does, in the taxonomy's and the vocabulary's terms.

use crate::modality::Modality;
use crate::taxonomy::Task;
use serde::{Deserialize, Serialize};

/// Longest summary kept, in characters (the LLM is asked for at most ten words).
pub const SUMMARY_MAX_CHARS: usize = 120;
/// Most words kept in a summary.
pub const SUMMARY_MAX_WORDS: usize = 12;

/// A classification, as the original service's JSON (`summary`, `inputTypes`, `outputTypes`,
/// `task`, `taskSummary`). Only valid values can be held: the task is a taxonomy name and the
/// types come from the vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Classification {
    pub summary: String,
    pub input_types: Vec<Modality>,
    pub output_types: Vec<Modality>,
    pub task: Task,
    /// The taxonomy's summary of `task`; null for tasks without data.
    #[serde(default)]
    pub task_summary: Option<String>,
}

impl Classification {
    /// Builds a classification with a sanitised summary, de-duplicated types and the task's
    /// summary filled in from the taxonomy.
    pub fn new(task: Task, summary: &str, input_types: Vec<Modality>, output_types: Vec<Modality>) -> Self {
        Classification {
            summary: sanitize_summary(summary),
            input_types: dedup(input_types),
            output_types: dedup(output_types),
            task,
            task_summary: task.summary().map(str::to_string),
        }
    }
}

fn dedup(mut v: Vec<Modality>) -> Vec<Modality> {
    let mut seen = Vec::with_capacity(v.len());
    v.retain(|m| {
        if seen.contains(m) {
            false
        } else {
            seen.push(*m);
            true
        }
    });
    v
}

/// Plain text, one line, no markup, at most [`SUMMARY_MAX_WORDS`] words and
/// [`SUMMARY_MAX_CHARS`] characters. Model metadata is written by strangers and the LLM can be
/// steered by it, so nothing that could render as markup is kept.
pub fn sanitize_summary(s: &str) -> String {
    // Drop anything that looks like a tag, then characters that are markup or control.
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if in_tag => {}
            '>' | '`' | '*' | '#' | '[' | ']' | '{' | '}' | '|' | '\\' => out.push(' '),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    let words: Vec<&str> = out.split_whitespace().take(SUMMARY_MAX_WORDS).collect();
    let mut line = words.join(" ");
    if line.chars().count() > SUMMARY_MAX_CHARS {
        line = line.chars().take(SUMMARY_MAX_CHARS).collect::<String>();
        if let Some(cut) = line.rfind(' ') {
            line.truncate(cut);
        }
    }
    line.trim_end_matches([',', ';', ':', '-', ' ']).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_matches_original() {
        let c = Classification::new(
            Task::ImageToText,
            "Generate image captions",
            vec![Modality::Image, Modality::Text, Modality::Image],
            vec![Modality::Text],
        );
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["task"], "image-to-text");
        assert_eq!(v["inputTypes"], serde_json::json!(["image", "text"]));
        assert_eq!(v["outputTypes"], serde_json::json!(["text"]));
        assert_eq!(v["summary"], "Generate image captions");
        assert!(v["taskSummary"].as_str().unwrap().starts_with("Image to text models"));
        let back: Classification = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn task_without_data_has_null_summary() {
        let c = Classification::new(Task::Other, "x", vec![], vec![]);
        assert_eq!(serde_json::to_value(&c).unwrap()["taskSummary"], serde_json::Value::Null);
    }

    #[test]
    fn summary_is_sanitised() {
        assert_eq!(
            sanitize_summary("<script>alert(1)</script>Best **image** model <b>ever</b>"),
            "alert(1) Best image model ever"
        );
        assert_eq!(sanitize_summary("a\nb\t c"), "a b c");
        let long = "word ".repeat(40);
        assert_eq!(sanitize_summary(&long).split(' ').count(), SUMMARY_MAX_WORDS);
        let giant = "x".repeat(500);
        assert!(sanitize_summary(&giant).chars().count() <= SUMMARY_MAX_CHARS);
    }
}
