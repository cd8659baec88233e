//! Plain string helpers: keyword matching over a model's name and description, file extensions.

use crate::modality::Modality;

/// Lower-cased name (separators turned into spaces) and description of a model.
pub(crate) struct Words {
    pub name: String,
    pub desc: String,
    /// `name + " " + desc`.
    pub all: String,
}

impl Words {
    pub fn new(name: &str, desc: &str) -> Self {
        let name = normalize(name);
        let desc = desc.to_lowercase();
        let all = format!("{name} {desc}");
        Words { name, desc, all }
    }

    /// The first stem that starts a word of the name or description.
    pub fn any<'s>(&self, stems: &[&'s str]) -> Option<&'s str> {
        find_stem(&self.all, stems)
    }

    /// The first whole word of `words` found in the name or description.
    pub fn word<'s>(&self, words: &[&'s str]) -> Option<&'s str> {
        find_word(&self.all, words)
    }
}

/// Lower-cases and turns `-`, `_`, `.` and `/` into spaces.
pub(crate) fn normalize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '-' | '_' | '.' | '/' => ' ',
            c => c.to_ascii_lowercase(),
        })
        .collect::<String>()
        .to_lowercase()
}

/// The first stem that occurs in `hay` at the start of a word (the character before it is not
/// alphanumeric). Stems are lower-case ASCII.
pub(crate) fn find_stem<'s>(hay: &str, stems: &[&'s str]) -> Option<&'s str> {
    stems.iter().copied().find(|s| has_stem(hay, s))
}

pub(crate) fn has_stem(hay: &str, stem: &str) -> bool {
    let bytes = hay.as_bytes();
    let mut from = 0;
    while let Some(i) = hay[from..].find(stem) {
        let at = from + i;
        if at == 0 || !bytes[at - 1].is_ascii_alphanumeric() {
            return true;
        }
        from = at + 1;
        while from < hay.len() && !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// A whole word (not followed by a letter or digit either).
pub(crate) fn has_word(hay: &str, word: &str) -> bool {
    let bytes = hay.as_bytes();
    let mut from = 0;
    while let Some(i) = hay[from..].find(word) {
        let at = from + i;
        let end = at + word.len();
        let before = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
        let after = end >= bytes.len() || !bytes[end].is_ascii_alphanumeric();
        if before && after {
            return true;
        }
        from = at + 1;
        while from < hay.len() && !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

pub(crate) fn find_word<'s>(hay: &str, words: &[&'s str]) -> Option<&'s str> {
    words.iter().copied().find(|w| has_word(hay, w))
}

/// Whether a string is a link to a file: an http(s) URL or a data URI.
pub(crate) fn is_url(s: &str) -> bool {
    let s = s.trim_start();
    s.starts_with("https://") || s.starts_with("http://") || s.starts_with("data:")
}

/// The lower-cased extension of a URL's last path segment (query and fragment ignored), or
/// the sub-type family of a data URI (`image`, `audio`, ...).
pub(crate) fn url_extension(url: &str) -> Option<String> {
    let url = url.trim();
    if let Some(rest) = url.strip_prefix("data:") {
        let mime = rest.split([';', ',']).next()?;
        return Some(mime.to_ascii_lowercase());
    }
    let path = url.split(['?', '#']).next()?;
    let after_scheme = path.split_once("://").map(|(_, p)| p).unwrap_or(path);
    let (_, path) = after_scheme.split_once('/')?;
    let last = path.rsplit('/').next()?;
    let (_, ext) = last.rsplit_once('.')?;
    if ext.is_empty() || ext.len() > 8 {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

/// What an extension (or data URI MIME type) holds.
pub(crate) fn extension_modality(ext: &str) -> Option<Modality> {
    if let Some((family, sub)) = ext.split_once('/') {
        return match family {
            "image" => Some(Modality::Image),
            "audio" => Some(Modality::Audio),
            "video" => Some(Modality::Video),
            "text" if sub == "csv" => Some(Modality::Tabular),
            "text" => Some(Modality::Text),
            "model" => Some(Modality::ThreeD),
            "application" if sub == "json" => Some(Modality::Json),
            "application" => Some(Modality::File),
            _ => None,
        };
    }
    Some(match ext {
        "png" | "jpg" | "jpeg" | "webp" | "gif" | "bmp" | "tif" | "tiff" | "heic" | "heif" | "avif" | "svg"
        | "ico" | "exr" | "hdr" | "jfif" | "pgm" | "ppm" => Modality::Image,
        "wav" | "mp3" | "flac" | "ogg" | "m4a" | "aac" | "opus" | "wma" | "aif" | "aiff" | "mid" | "midi" => {
            Modality::Audio
        }
        "mp4" | "mov" | "webm" | "avi" | "mkv" | "m4v" | "mpeg" | "mpg" | "flv" | "wmv" => Modality::Video,
        "glb" | "gltf" | "obj" | "ply" | "stl" | "fbx" | "usdz" | "usd" | "splat" | "3mf" | "off" => Modality::ThreeD,
        "csv" | "tsv" | "xlsx" | "xls" | "parquet" => Modality::Tabular,
        "txt" | "md" | "srt" | "vtt" => Modality::Text,
        "json" | "jsonl" => Modality::Json,
        "zip" | "tar" | "gz" | "tgz" | "safetensors" | "bin" | "pt" | "pth" | "ckpt" | "npy" | "npz" | "pkl"
        | "onnx" | "h5" | "pdf" | "docx" | "doc" | "7z" => Modality::File,
        _ => return None,
    })
}

/// Position of the first occurrence of `needle` starting a word (and ending one, if `whole`).
fn position(hay: &str, needle: &str, whole: bool) -> Option<usize> {
    let bytes = hay.as_bytes();
    let mut from = 0;
    while let Some(i) = hay[from..].find(needle) {
        let at = from + i;
        let end = at + needle.len();
        let before = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
        let after = !whole || end >= bytes.len() || !bytes[end].is_ascii_alphanumeric();
        if before && after {
            return Some(at);
        }
        from = at + 1;
        while from < hay.len() && !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    None
}

/// Cue words for each kind of file: (modality, word stems, whole words).
const CUES: &[(Modality, &[&str], &[&str])] = &[
    (
        Modality::Image,
        &[
            "image", "img", "photo", "picture", "mask", "face", "portrait", "selfie", "sketch", "drawing", "canny",
            "depth map", "pose", "spectrogram", "visuali", "png", "jpg", "jpeg", "webp", "thumbnail", "logo",
            "icon", "texture", "garment", "cloth", "avatar", "scribble", "lineart", "screenshot", "frame",
        ],
        &["pic", "pics", "sticker"],
    ),
    (
        Modality::Audio,
        &[
            "audio", "speech", "voice", "music", "song", "sound", "wav", "mp3", "melody", "vocal", "speaker",
            "instrumental", "accompaniment", "drums", "waveform", "recording", "podcast", "singing",
        ],
        &["tts", "bass", "flac"],
    ),
    (Modality::Video, &["video", "mp4", "movie", "footage", "animation"], &["gif", "clip", "mov", "webm"]),
    (
        Modality::ThreeD,
        &["mesh", "point cloud", "gaussian splat", "splat", "3d model", "3d asset", "3d object"],
        &["3d", "glb", "gltf", "obj", "ply", "stl", "fbx"],
    ),
    (Modality::Tabular, &["csv", "tabular", "spreadsheet", "xlsx", "dataframe"], &["table"]),
    (
        Modality::File,
        &[
            "zip", "archive", "weights", "lora", "checkpoint", "ckpt", "safetensors", "embedding", "npy",
            "trained", "dataset", "pdf", "document", "tarball",
        ],
        &["tar"],
    ),
];

/// The modality a name or description speaks of: the kind whose cue comes first.
pub(crate) fn words_modality(words: &str) -> Option<Modality> {
    let mut best: Option<(usize, Modality)> = None;
    for (m, stems, whole) in CUES {
        let first = stems
            .iter()
            .filter_map(|s| position(words, s, false))
            .chain(whole.iter().filter_map(|w| position(words, w, true)))
            .min();
        if let Some(p) = first {
            if best.is_none_or(|(b, _)| p < b) {
                best = Some((p, *m));
            }
        }
    }
    best.map(|(_, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_words() {
        assert!(has_stem("an upscaler for faces", "upscal"));
        assert!(!has_stem("subsegment", "segment"));
        assert!(has_stem("image-segmentation", "segment"));
        assert!(has_word("use sam here", "sam"));
        assert!(!has_word("sample", "sam"));
        assert!(has_word("sam", "sam"));
        assert_eq!(find_stem("a tts model", &["music", "tts"]), Some("tts"));
        assert!(has_stem("ünïcode then depth", "depth"));
    }

    #[test]
    fn extensions() {
        assert_eq!(url_extension("https://x.y/a/b/out-0.PNG?x=1").as_deref(), Some("png"));
        assert_eq!(url_extension("https://x.y/a/b/file").as_deref(), None);
        assert_eq!(url_extension("https://x.y").as_deref(), None);
        assert_eq!(url_extension("data:image/png;base64,AAA").as_deref(), Some("image/png"));
        assert_eq!(extension_modality("mp4"), Some(Modality::Video));
        assert_eq!(extension_modality("audio/wav"), Some(Modality::Audio));
        assert_eq!(extension_modality("npy"), Some(Modality::File));
        assert_eq!(extension_modality("xyz"), None);
    }

    #[test]
    fn words_to_modality() {
        assert_eq!(words_modality("input_audio"), Some(Modality::Audio));
        assert_eq!(words_modality("video clip to animate"), Some(Modality::Video));
        assert_eq!(words_modality("init image"), Some(Modality::Image));
        assert_eq!(words_modality("lora weights"), Some(Modality::File));
        assert_eq!(words_modality("output"), None);
        assert_eq!(words_modality("input image to animate into a video"), Some(Modality::Image));
        assert_eq!(words_modality("a .zip or .tar file containing the image files"), Some(Modality::File));
        assert_eq!(words_modality("audio file"), Some(Modality::Audio));
        assert_eq!(words_modality("object to remove"), None);
    }
}
