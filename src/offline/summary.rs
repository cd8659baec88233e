//! A short plain summary (at most ten words) from a model's description.

use crate::taxonomy::Task;

const MAX_WORDS: usize = 10;

/// Words that praise rather than describe.
const PUFFERY: &[&str] = &[
    "state-of-the-art", "sota", "best", "amazing", "stunning", "beautiful", "beautifully", "powerful", "incredible",
    "incredibly", "super-fast", "blazing", "blazing-fast", "lightning-fast", "ultra-fast", "high-quality",
    "cutting-edge", "revolutionary", "world's", "ultimate", "awesome", "fantastic", "perfect", "perfectly",
    "unparalleled", "unprecedented", "exceptional", "remarkable", "impressive", "superior", "premium",
    "breathtaking", "gorgeous", "insanely", "extremely", "very", "really", "truly", "seamless", "seamlessly",
    "effortlessly", "effortless", "instantly", "next-generation", "next-gen", "leading", "top-tier", "robust",
    "versatile", "advanced", "brilliant", "magical", "wonderful", "outstanding", "excellent", "great",
];

/// Words a summary should not end on.
const DANGLING: &[&str] = &[
    "and", "or", "with", "for", "of", "the", "a", "an", "to", "in", "by", "that", "which", "on", "from", "using",
    "via", "at", "as", "is", "are", "its", "your", "their", "into", "&",
];

pub(crate) fn summarize(description: &str, task: Task) -> String {
    let cleaned = clean(description);
    let sentence = first_sentence(&cleaned);
    let words: Vec<&str> = sentence
        .split_whitespace()
        .filter(|w| {
            let bare = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '\'').to_lowercase();
            !PUFFERY.contains(&bare.as_str())
        })
        .collect();
    // Filler openings ("This is a ...") and joins left dangling by dropped praise ("a and").
    let mut words: Vec<&str> = words;
    let lead = words.iter().take_while(|w| !w.chars().any(char::is_alphanumeric)).count();
    words.drain(..lead);
    if words.first().is_some_and(|w| w.starts_with('\'')) {
        words.remove(0);
    }
    for filler in [&["this", "is", "a"][..], &["this", "is", "an"], &["this", "model", "is", "a"], &["this", "model", "is", "an"], &["this", "is"]] {
        if words.len() > filler.len() + 2 && words.iter().zip(filler.iter()).all(|(w, f)| w.eq_ignore_ascii_case(f)) {
            words.drain(..filler.len());
            break;
        }
    }
    let mut k = 1;
    while k < words.len() {
        let prev = words[k - 1].to_ascii_lowercase();
        if matches!(words[k], "and" | "or" | "&" | ",") && matches!(prev.as_str(), "a" | "an" | "the") {
            words.remove(k);
        } else {
            k += 1;
        }
    }
    let mut words = shorten(words);
    while let Some(last) = words.last() {
        let bare = last.trim_end_matches([',', ';', ':', '-', '.']).to_lowercase();
        if DANGLING.contains(&bare.as_str()) || bare.is_empty() {
            words.pop();
        } else {
            break;
        }
    }
    if words.len() < 2 {
        return fallback(task);
    }
    let mut s = words.join(" ");
    s = s.trim_end_matches([',', ';', ':', '-', '.', ' ']).to_string();
    capitalise(&s)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Drops links, handles, markup, emoji and bracketed asides.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0u8;
    for word in s.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("http") || lower.starts_with("www.") || word.starts_with('@') {
            continue;
        }
        let mut w = String::with_capacity(word.len());
        for c in word.chars() {
            match c {
                '(' | '[' => depth = depth.saturating_add(1),
                ')' | ']' => depth = depth.saturating_sub(1),
                _ if depth > 0 => {}
                c if c.is_alphanumeric() || "-'.,;:!?&/+%".contains(c) => w.push(c),
                _ => {}
            }
        }
        if !w.is_empty() && depth == 0 {
            out.push_str(&w);
            out.push(' ');
        } else if !w.is_empty() && depth > 0 {
            // inside brackets: skipped
        }
    }
    out.trim().to_string()
}

fn first_sentence(s: &str) -> &str {
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(b, b'.' | b'!' | b'?') {
            let next = bytes.get(i + 1).copied();
            if next.is_none() || next == Some(b' ') {
                // not an abbreviation such as "v1.5" (no space) or "e.g."
                let before = &s[..i];
                if before.ends_with("e.g") || before.ends_with("i.e") || before.ends_with(" vs") {
                    continue;
                }
                return &s[..i];
            }
        }
    }
    s
}

fn shorten(words: Vec<&str>) -> Vec<&str> {
    if words.len() <= MAX_WORDS {
        return words;
    }
    // Prefer to cut at a clause boundary within the limit.
    let mut cut = None;
    for (i, w) in words.iter().enumerate().take(MAX_WORDS) {
        if i >= 3 && (w.ends_with(',') || w.ends_with(';') || w.ends_with(':')) {
            cut = Some(i + 1);
        }
        if i >= 4 && matches!(words.get(i + 1).copied(), Some("-") | Some("that") | Some("which") | Some("|")) {
            cut = Some(i + 1);
        }
    }
    let n = cut.unwrap_or(MAX_WORDS);
    words.into_iter().take(n).collect()
}

fn fallback(task: Task) -> String {
    let phrase = match task {
        Task::TextToImage => "Generates images from text prompts",
        Task::ImageToImage => "Transforms an input image into a new image",
        Task::ImageTextToImage => "Edits or generates images from an image and prompt",
        Task::TextGeneration => "Generates text from a prompt",
        Task::TextToVideo => "Generates videos from text prompts",
        Task::ImageToVideo => "Animates an image into a video",
        Task::TextToAudio => "Generates audio from a text prompt",
        Task::TextToSpeech => "Converts text to speech",
        Task::AutomaticSpeechRecognition => "Transcribes speech to text",
        Task::ImageToText => "Describes images in text",
        Task::ImageTextToText => "Answers prompts about images",
        Task::ImageSegmentation => "Segments images into masks",
        Task::FeatureExtraction => "Computes embeddings",
        Task::Other => "Runs a custom model",
        t => return capitalise(&t.name().replace('-', " ")) + " model",
    };
    phrase.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_short() {
        assert_eq!(
            summarize("A text-to-image generative AI model that creates beautiful images", Task::TextToImage),
            "A text-to-image generative AI model that creates images"
        );
        assert_eq!(
            summarize("🦙 LaMa: Resolution-robust Large Mask Inpainting with Fourier Convolutions", Task::ImageToImage),
            "LaMa: Resolution-robust Large Mask Inpainting with Fourier Convolutions"
        );
        assert_eq!(summarize("", Task::TextToImage), "Generates images from text prompts");
        assert_eq!(
            summarize("Practical face restoration algorithm for *old photos* or *AI-generated faces*", Task::ImageToImage),
            "Practical face restoration algorithm for old photos or AI-generated faces"
        );
        let long = summarize(
            "Recraft V3 (code-named red_panda) is a text-to-image model with the ability to generate long texts, and images in a wide list of styles. As of today, it is SOTA",
            Task::TextToImage,
        );
        assert!(long.split(' ').count() <= 10, "{long}");
        assert!(!long.contains("red_panda"));
        assert_eq!(summarize("Generate images. See https://x.y for more", Task::TextToImage), "Generate images");
    }
}
