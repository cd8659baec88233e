//! The fixed vocabulary of input and output types.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a model takes or produces. `number` is for numbers that are the data (embeddings),
/// `json` for structured output (detections), `file` for other files (weights, archives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Text,
    Image,
    Audio,
    Video,
    #[serde(rename = "3d")]
    ThreeD,
    Tabular,
    Number,
    Json,
    File,
}

impl Modality {
    pub const ALL: [Modality; 9] = [
        Modality::Text,
        Modality::Image,
        Modality::Audio,
        Modality::Video,
        Modality::ThreeD,
        Modality::Tabular,
        Modality::Number,
        Modality::Json,
        Modality::File,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Modality::Text => "text",
            Modality::Image => "image",
            Modality::Audio => "audio",
            Modality::Video => "video",
            Modality::ThreeD => "3d",
            Modality::Tabular => "tabular",
            Modality::Number => "number",
            Modality::Json => "json",
            Modality::File => "file",
        }
    }
}

impl fmt::Display for Modality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Modality {
    type Err = String;
    /// Accepts the vocabulary's names and a few common synonyms an LLM might answer with.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let m = match s.as_str() {
            "text" | "string" | "prompt" => Modality::Text,
            "image" | "images" | "mask" => Modality::Image,
            "audio" | "speech" | "sound" | "music" => Modality::Audio,
            "video" | "videos" => Modality::Video,
            "3d" | "mesh" | "3d model" | "3d-model" => Modality::ThreeD,
            "tabular" | "table" | "csv" => Modality::Tabular,
            "number" | "numbers" | "embedding" | "embeddings" | "vector" => Modality::Number,
            "json" | "structured" | "object" => Modality::Json,
            "file" | "files" | "weights" => Modality::File,
            _ => return Err(s),
        };
        Ok(m)
    }
}
