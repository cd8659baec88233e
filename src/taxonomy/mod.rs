//! The Hugging Face task taxonomy, generated from `@huggingface/tasks` and embedded.

mod generated;

pub use generated::{Task, TAXONOMY_VERSION};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// `TASKS_DATA` as JSON: task name → data (null where the package has none).
pub const TASKS_JSON: &str = include_str!("../../data/tasks.json");

impl Task {
    /// Every task name, in the taxonomy's order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Task::ALL.iter().map(|t| t.name())
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not in the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTask(pub String);

impl fmt::Display for UnknownTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown task {:?}", self.0)
    }
}

impl std::error::Error for UnknownTask {}

impl FromStr for Task {
    type Err = UnknownTask;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Task::ALL
            .iter()
            .copied()
            .find(|t| t.name() == s)
            .ok_or_else(|| UnknownTask(s.to_string()))
    }
}

impl Serialize for Task {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Task {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_embedded_tasks_data() {
        let data: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(TASKS_JSON).unwrap();
        let keys: Vec<&str> = data.keys().map(String::as_str).collect();
        let mut names: Vec<&str> = Task::names().collect();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort();
        names.sort();
        assert_eq!(names, sorted_keys);
        assert_eq!(Task::ALL.len(), 57);
        // tasks without data are still offered, with no summary
        assert_eq!(data["other"], serde_json::Value::Null);
        assert_eq!(Task::Other.summary(), None);
        assert!(Task::TextToAudio.summary().is_none());
        assert!(Task::ImageToText.summary().unwrap().starts_with("Image to text models"));
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!("text-to-image".parse::<Task>().unwrap(), Task::TextToImage);
        assert_eq!("image-text-to-image".parse::<Task>().unwrap(), Task::ImageTextToImage);
        assert!("text2text-generation".parse::<Task>().is_err());
        assert!("audio-to-video".parse::<Task>().is_err());
        let t: Task = serde_json::from_str("\"text-to-3d\"").unwrap();
        assert_eq!(t, Task::TextTo3D);
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"text-to-3d\"");
        assert!(serde_json::from_str::<Task>("\"Text-To-Image\"").is_err());
    }
}
