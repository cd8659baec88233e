//! Choosing the task from the modalities and the model's own words.

use super::extract::{Inputs, Outputs};
use super::text::{has_word, Words};
use crate::modality::Modality::{self, *};
use crate::taxonomy::Task;

/// The chosen task, how sure the rule is, and why.
pub(crate) struct Decision {
    pub task: Task,
    pub confidence: f32,
    pub reason: String,
}

fn d(task: Task, confidence: f32, reason: impl Into<String>) -> Decision {
    Decision { task, confidence, reason: reason.into() }
}

// Keyword groups (stems that start a word, over name and description).
const TRAIN: &[&str] = &["train", "fine-tun", "finetun", "fine tun"];
const DEPTH: &[&str] = &["depth", "monocular"];
const SEGMENT: &[&str] = &[
    "segment", "background remov", "remove background", "remove the background", "removes background",
    "removes the background", "remove bg", "bg remov", "background eras", "rembg", "matting", "cutout",
    "salient object", "human parsing", "face parsing", "clothes parsing", "remove backgrounds",
    "background-remov", "background removal", "segformer", "maskformer", "mask2former", "oneformer", "deeplab",
];
/// Words of an image-to-mask purpose (when no mask is taken as input).
const MASK_OUT: &[&str] = &[
    "create mask", "creates mask", "generate mask", "generates mask", "mask of", "masks of", "mask for",
    "binary mask", "alpha mask", "alpha matte", "mask from", "masks from", "get mask", "extract mask",
];
const MASK_GEN: &[&str] = &["mask generat", "mask-generat", "automatic mask", "generate masks", "generates masks"];
const DETECT: &[&str] = &[
    "object detect", "detect object", "detects object", "detector", "yolo", "bounding box", "detection", "detect ",
    "detects ", "grounding dino", "owl-vit", "owlv", "localiz",
];
const DETECT_STRONG: &[&str] = &[
    "object detect", "detect object", "detects object", "detector", "yolo", "bounding box", "open-vocabulary detect",
    "open vocabulary detect", "grounding dino", "owl-vit", "owlv", "face detect", "detect face", "detects face",
];
const KEYPOINT: &[&str] = &["keypoint", "pose estimat", "landmark", "human pose", "body pose", "skeleton"];
const IMAGE_EDIT_I2I: &[&str] = &[
    "upscal", "super-res", "super res", "superres", "restor", "enhanc", "deblur", "denois", "coloriz", "colouriz",
    "esrgan", "inpaint", "outpaint", "refin", "img2img", "image-to-image", "image to image", "retouch", "relight",
    "face swap", "faceswap", "swap", "sticker", "uncrop", "expand", "extend", "remov", "eras", "unblur",
    "sharpen", "dehaz", "derain", "low-light", "low light", "hdr", "variation", "cartoon", "anime", "toon",
    "style transfer", "try-on", "try on", "tryon", "virtual try",
];
/// Words that make an image-editing purpose clear even when the image input is optional.
const STRONG_I2I: &[&str] = &[
    "upscal", "super-res", "super res", "superres", "restor", "refiner", "refine image", "refines image",
    "refine an image", "variations of", "coloriz", "colouriz", "deblur", "denois", "sticker", "face swap", "faceswap", "try-on", "virtual try", "relight", "retouch", "unblur",
];
/// Editing words that are often only one feature among several of a generator.
const WEAK_I2I: &[&str] = &["inpaint", "in-paint", "outpaint", "img2img", "image-to-image", "image to image", "i2i"];
/// Words of text-to-image generation.
const GENERATE: &[&str] = &["text2im", "t2i", "txt2img", "text-to-image", "text to image", "generat", "from text", "from prompt"];
const TRANSFORM_WORDS: &[&str] = &[
    "turn", "turns", "turning", "convert", "converts", "converting", "transform", "transforms", "transforming",
];
const CAPTION: &[&str] = &[
    "caption", "interrogat", "img2prompt", "image to prompt", "image-to-prompt", "prompt from", "describe",
    "description of", "describes", "alt text", "alt-text", "tagger", "tagging", "tags", "image to text",
    "image-to-text",
];
const OCR: &[&str] = &[
    "ocr", "text recogni", "text extraction", "extract text", "extracts text", "read text", "optical character",
    "handwrit", "latex", "scene text", "document pars", "pdf to", "to markdown",
];
const CLASSIFY: &[&str] = &[
    "classif", "nsfw", "not safe for work", "age estimat", "predict age", "gender", "emotion", "aesthetic",
    "recogni", "categori", "is it", "identify", "identif", "detect whether", "safety", "rating", "score",
    "predicts", "moderation", "sentiment", "toxic", "spam", "deepfake", "fake detect", "ai-generated detect",
];
const VQA: &[&str] = &["question", "vqa", "answer", "q&a"];
const VLM: &[&str] = &[
    "vision language", "vision-language", "visual language", "multimodal", "multi-modal", "vlm", "llava",
    "vision assistant", "chat", "visual instruction", "conversation", "mllm", "lmm", "gpt", "vicuna", "llama",
    "qwen", "instruct",
];
const SPEECH: &[&str] = &[
    "speech", "tts", "voice", "speak", "narrat", "read aloud", "text-to-speech", "text to speech", "talk",
    "pronunc", "say ", "spoken",
];
const MUSIC: &[&str] = &[
    "music", "song", "sound effect", "sfx", "melod", "beat", "instrument", "audio generat", "generate audio",
    "generates audio", "sound generat", "generate sound", "foley", "ambient", "soundtrack", "jingle", "rap",
    "drum", "loops", "singing", "lyrics",
];
const AUDIO_CLASSIFY: &[&str] = &[
    "classif", "gender", "emotion", "genre", "speaker identif", "speaker verif", "detect", "tagging", "tagger",
    "recognition of", "bpm", "tempo", "key detect", "chord", "identif", "diariz", "who is speaking",
    "who spoke", "analy", "regression", "valence", "arousal", "mood",
];
const ASR: &[&str] = &[
    "transcri", "whisper", "speech recogn", "speech-to-text", "speech to text", "asr", "subtitle", "caption",
    "stt", "dictation",
];
/// Words of source separation (stems of a song, voice from noise).
const SEPARATE: &[&str] = &[
    "separat", "demix", "stems", "isolat", "extract vocal", "extracts vocal", "vocal remov", "remove vocal",
    "karaoke", "tracks",
];
const VAD: &[&str] = &["voice activity", "vad"];
const VIDEO_TO_AUDIO: &[&str] = &[
    "video-to-audio", "video to audio", "add sound", "adds sound", "sound to video", "audio from video",
    "audio for video", "soundtrack for", "foley",
];
const EMBED: &[&str] = &["embed", "feature extract", "features", "vector", "encod", "representation"];
/// Words of an embedding model.
const EMBED_MODEL: &[&str] = &[
    "embedding", "embeddings", "embed text", "embed images", "embeds ", "sentence-transformer",
    "sentence transformer", "text encoder", "image encoder",
];
const SIMILARITY: &[&str] = &["similarity", "similar sentence", "sentence-transformers", "sentence transformers"];
const RANK: &[&str] = &["rerank", "re-rank", "ranking", "ranker", "relevance"];
const RETRIEVAL: &[&str] = &["retriev", "search", "rag", "passage", "citation", "semantic search"];
const TRANSLATE: &[&str] = &["translat"];
const SUMMARY: &[&str] = &["summar"];
const TEXT_CLASSIFY: &[&str] = &[
    "classif", "moderat", "guard", "safeguard", "sentiment", "toxic", "spam", "hate speech", "detect ai",
    "ai detect", "ai-generated text", "sentiment", "jailbreak", "prompt injection", "nli", "entailment",
];
const TOKEN_CLASSIFY: &[&str] = &[
    "named entit", "ner", "token classif", "part-of-speech", "pos tag", "entity recogn", "entity extract",
    "entity link",
];
const QA: &[&str] = &["question answering", "question-answering", "q&a", "extractive"];
const LLM: &[&str] = &["language model", "llm", "chat", "instruct", "assistant", "gpt", "completion"];
const FILL_MASK: &[&str] = &["fill mask", "fill-mask", "masked language", "fill in the blank"];
const FORECAST: &[&str] = &["forecast", "time series", "time-series", "timeseries"];
const THREE_D_STRONG: &[&str] = &[
    "3d model", "3d object", "3d asset", "3d mesh", "point cloud", "3d implicit", "3d generat", "generating 3d",
    "generate 3d", "generates 3d", "text-to-3d", "image-to-3d", "text to 3d", "image to 3d", "3d reconstruct",
    "mesh", "nerf", "3d scene", "gaussian splat", "3d shape",
];
const ZERO_SHOT: &[&str] = &["zero-shot", "zero shot", "open-vocabulary", "open vocabulary", "clip"];
const VIDEO_CLASSIFY: &[&str] = &["classif", "action recogn", "recogni", "detect"];
const DOCUMENT: &[&str] = &["document", "invoice", "receipt", "pdf", "form", "docvqa", "chart", "slide"];

pub(crate) fn decide(w: &Words, i: &Inputs, o: &Outputs) -> Decision {
    let (ii, ia, iv, it, i3) = (i.has(Image), i.has(Audio), i.has(Video), i.has(Text), i.has(ThreeD));
    let (oi, oa, ov, ot, on, oj, of, o3) =
        (o.has(Image), o.has(Audio), o.has(Video), o.has(Text), o.has(Number), o.has(Json), o.has(File), o.has(ThreeD));
    let img_req = i.required(Image);
    let txt_req = i.required(Text);
    let kw = |g: &[&'static str]| w.any(g);
    // Names like "text2image" carry direction; "prompt" inputs mean text-conditioned generation.
    let _ = i3;

    // Tables in: classification, regression or forecasting, whatever form the answer takes.
    if i.has(Tabular) && !(oi || oa || ov || o3) {
        return tabular(w, ot && !on);
    }

    // Rendered views of a 3D result still make a 3D task.
    let three_d = kw(THREE_D_STRONG).is_some() && (oi || ov) && !ot && kw(&["controlnet", "lora"]).is_none();
    // 3D
    if o3 || three_d {
        let prompted = it && i.items.iter().any(|x| x.modality == Text && is_prompt_name(&x.name));
        let image_leads = img_req || i.items.first().is_some_and(|x| x.modality == Image) || !prompted;
        return if ii && image_leads {
            d(Task::ImageTo3D, 0.85, "3d output from an image")
        } else if it || i.items.is_empty() {
            d(Task::TextTo3D, 0.85, "3d output from text")
        } else {
            d(Task::Other, 0.4, "3d output from other input")
        };
    }

    // Training: only files (weights) come out.
    if of && !(oi || oa || ov || ot || on || oj) {
        if ii && (o.embedding || kw(&["encoder", "embed", "feature", "latent"]).is_some()) {
            return d(Task::ImageFeatureExtraction, 0.7, "image in, embedding file out");
        }
        if o.embedding {
            return d(Task::FeatureExtraction, 0.6, "embedding file out");
        }
        if let Some(k) = kw(TRAIN) {
            return d(Task::Other, 0.8, format!("trainer (\"{k}\"), weights out"));
        }
        if let Some(k) = kw(SEPARATE).filter(|_| ia) {
            return d(Task::AudioToAudio, 0.6, format!("audio in, archive of tracks out (\"{k}\")"));
        }
        return d(Task::Other, 0.5, "file output only");
    }

    // Video out.
    if ov {
        // With sound and no image, a video in is the one being changed (lip sync, dubbing).
        let video_leads = i.required(Video) || i.items.first().is_some_and(|x| x.modality == Video) || !ii;
        if iv && video_leads {
            if let Some(k) = kw(VIDEO_TO_AUDIO) {
                return d(Task::TextToAudio, 0.75, format!("adds audio to video (\"{k}\")"));
            }
            if oa && !ia {
                return d(Task::TextToAudio, 0.6, "video in, video with audio out");
            }
            let prompted = it && i.items.iter().any(|x| x.modality == Text && is_prompt_name(&x.name));
            let video_first = i.items.first().is_some_and(|x| x.modality == Video);
            if prompted && !i.required(Video) && !video_first {
                return d(Task::TextToVideo, 0.6, "prompt with optional video, video out");
            }
            let image_first = i.items.first().is_some_and(|x| x.modality == Image);
            if ii && !ia && (i.required(Image) || image_first) {
                if let Some(k) = kw(&["animat", "motion", "portrait", "driving", "dance", "dancing", "talking"]) {
                    return d(Task::ImageToVideo, 0.6, format!("image animated by a video (\"{k}\")"));
                }
            }
            return d(Task::VideoToVideo, 0.8, "video in, video out");
        }
        let first = i.items.first().map(|x| x.modality);
        if ii {
            let prompted = i.items.iter().any(|x| x.modality == Text && is_prompt_name(&x.name));
            if img_req || !prompted || first == Some(Image) {
                return d(Task::ImageToVideo, 0.8, "image in, video out");
            }
            return d(Task::TextToVideo, 0.65, "prompt with optional image, video out");
        }
        if ia && (i.required(Audio) || first == Some(Audio)) {
            return d(Task::Other, 0.4, "audio in, video out");
        }
        if it {
            return d(Task::TextToVideo, 0.85, "text in, video out");
        }
        if ia {
            return d(Task::Other, 0.4, "audio in, video out");
        }
        return d(Task::TextToVideo, 0.4, "video out");
    }

    // Audio out.
    if oa {
        if let Some(k) = kw(&["tts", "text-to-speech", "text to speech"]).filter(|_| it) {
            return d(Task::TextToSpeech, 0.8, format!("text in, speech out (\"{k}\")"));
        }
        if iv && !ia {
            return d(Task::TextToAudio, 0.7, "video in, audio out");
        }
        let speech = kw(SPEECH);
        let music = kw(MUSIC);
        if ia && ot {
            if let Some(k) = kw(ASR) {
                return d(Task::AutomaticSpeechRecognition, 0.8, format!("audio in, text out (\"{k}\")"));
            }
            if it && kw(LLM).is_some() {
                return d(Task::AudioTextToText, 0.6, "speech and text in, speech and text out");
            }
        }
        if ia && kw(TRANSLATE).is_some() {
            return d(Task::Translation, 0.6, "speech translation");
        }
        let prompted = it && i.items.iter().any(|x| x.modality == Text && is_prompt_name(&x.name));
        let audio_leads = i.required(Audio) || i.items.first().is_some_and(|x| x.modality == Audio);
        if ia && (audio_leads || !prompted) {
            if prompted || txt_req {
                if let (Some(k), None) = (speech, music) {
                    return d(Task::TextToSpeech, 0.75, format!("text and reference audio in, speech (\"{k}\")"));
                }
                if let Some(k) = music {
                    return d(Task::TextToAudio, 0.7, format!("prompt and audio in, audio (\"{k}\")"));
                }
            }
            return d(Task::AudioToAudio, 0.8, "audio in, audio out");
        }
        if it {
            return match (speech, music) {
                (Some(k), None) => d(Task::TextToSpeech, 0.85, format!("text in, speech out (\"{k}\")")),
                (Some(_), Some(m)) if !has_word(&w.all, "speech") && !has_word(&w.all, "tts") => {
                    d(Task::TextToAudio, 0.6, format!("text in, audio out (\"{m}\")"))
                }
                (Some(k), Some(_)) => d(Task::TextToSpeech, 0.6, format!("text in, speech out (\"{k}\")")),
                (None, _) => d(Task::TextToAudio, 0.75, "text in, audio out"),
            };
        }
        if ii {
            return d(Task::Other, 0.4, "image in, audio out");
        }
        return d(Task::TextToAudio, 0.5, "audio out");
    }

    // Image in, image or structured out: vision tasks read from the words.
    if ii && (oi || oj) && !ot {
        let prompted = i.items.iter().any(|x| x.modality == Text && is_prompt_name(&x.name));
        if !prompted && kw(&["canny", "lineart", "controlnet", "soft edge", "edge detect"]).is_none() {
            if let Some(k) = kw(DEPTH) {
                return d(Task::DepthEstimation, 0.85, format!("image in, image out, \"{k}\""));
            }
        }
        if o.keypoints || (kw(KEYPOINT).is_some() && !(oi && it)) {
            return d(Task::KeypointDetection, 0.7, "keypoints");
        }
        if oj && (o.boxes || kw(DETECT).is_some()) && kw(SEGMENT).is_none() {
            return detection(w, i, "structured output with boxes");
        }
        if let Some(k) = kw(SEGMENT).or_else(|| if !i.names.contains("mask") { kw(MASK_OUT).or(kw(MASK_GEN)) } else { None }) {
            if !(it && txt_req && kw(IMAGE_EDIT_I2I).is_some()) {
                if let Some(m) = kw(MASK_GEN) {
                    return d(Task::MaskGeneration, 0.6, format!("masks out (\"{m}\")"));
                }
                if let Some(m) = kw(&["segment anything", "segment-anything"]).filter(|_| !it) {
                    return d(Task::MaskGeneration, 0.55, format!("promptless masks (\"{m}\")"));
                }
                return d(Task::ImageSegmentation, 0.8, format!("image in, masks out (\"{k}\")"));
            }
        }
        if o.masks && !(it && kw(IMAGE_EDIT_I2I).is_some()) {
            return d(Task::ImageSegmentation, 0.65, "masks out");
        }
        if oj && !oi {
            if let Some(k) = kw(OCR) {
                return d(Task::ImageToText, 0.6, format!("structured text from image (\"{k}\")"));
            }
            if o.labels || kw(CLASSIFY).is_some() {
                return d(Task::ImageClassification, 0.6, "labels from an image");
            }
            if o.number_field || kw(&["locat", "position", "where"]).is_some() {
                return detection(w, i, "structured output from an image");
            }
            // Records about an image with no boxes, labels or scores: text read from it.
            return d(Task::ImageToText, 0.45, "structured text about an image");
        }
        if oi && kw(DETECT_STRONG).is_some() && kw(IMAGE_EDIT_I2I).is_none() && kw(GENERATE).is_none() {
            return detection(w, i, "image in, annotated image out");
        }
        if oi && kw(DETECT).is_some() && !it && kw(IMAGE_EDIT_I2I).is_none() {
            return detection(w, i, "image in, annotated image out");
        }
    }

    // Image out.
    if oi && !ot {
        if ii {
            let prompt = it && i.items.iter().any(|x| x.modality == Text && is_prompt_name(&x.name));
            if prompt || txt_req {
                // The image leads when it is required or comes first; otherwise the prompt does
                // and the image is an optional img2img/inpainting start.
                let image_first = i.items.first().is_some_and(|x| x.modality == Image);
                // A generator sizes its output (width, height, aspect ratio); an editor keeps
                // its input's size. With the image optional, such settings mean generation.
                let sized = sizes_output(&i.names);
                if img_req {
                    if let Some(k) = kw(IMAGE_EDIT_I2I).or_else(|| w.word(TRANSFORM_WORDS)) {
                        return d(Task::ImageToImage, 0.7, format!("image and prompt in, image out (\"{k}\")"));
                    }
                    return d(Task::ImageTextToImage, 0.7, "image and prompt in, image out");
                }
                if image_first {
                    // An optional image listed first: style words (`anime`, `cartoon`) alone do
                    // not make an editor of a sized generator.
                    if let Some(k) = kw(STRONG_I2I).or_else(|| w.word(TRANSFORM_WORDS)) {
                        return d(Task::ImageToImage, 0.65, format!("optional image first, prompt, image out (\"{k}\")"));
                    }
                    if !sized {
                        if let Some(k) = kw(IMAGE_EDIT_I2I) {
                            return d(Task::ImageToImage, 0.6, format!("optional image first, prompt, image out (\"{k}\")"));
                        }
                        return d(Task::ImageTextToImage, 0.6, "optional image first and prompt in, image out");
                    }
                }
                if let Some(k) = kw(STRONG_I2I).filter(|_| kw(GENERATE).is_none() && !sized) {
                    return d(Task::ImageToImage, 0.6, format!("prompt with optional image, image out (\"{k}\")"));
                }
                // Inpainting or img2img as the model's one stated purpose (its name, or a
                // description that is not a list of features).
                let sole = !w.desc.contains(',') && kw(GENERATE).is_none();
                if let Some(k) = super::text::find_stem(&w.name, WEAK_I2I)
                    .or_else(|| if sole { super::text::find_stem(&w.desc, WEAK_I2I) } else { None })
                {
                    return d(Task::ImageToImage, 0.55, format!("prompt with optional image, image out (\"{k}\")"));
                }
                return d(Task::TextToImage, 0.8, "prompt with optional image, image out");
            }
            return d(Task::ImageToImage, 0.85, "image in, image out");
        }
        if iv {
            return d(Task::Other, 0.4, "video in, image out");
        }
        if ia {
            if let Some(k) = kw(AUDIO_CLASSIFY) {
                return d(Task::AudioClassification, 0.5, format!("audio in, plot out (\"{k}\")"));
            }
            return d(Task::Other, 0.4, "audio in, image out");
        }
        if it || i.has(Json) {
            return d(Task::TextToImage, 0.9, "text in, image out");
        }
        if i.items.is_empty() {
            return d(Task::UnconditionalImageGeneration, 0.6, "no inputs, image out");
        }
        return d(Task::TextToImage, 0.5, "image out");
    }

    // Embeddings, whatever shape they come in (vectors, base64 strings).
    if !oi && !oa && (o.embedding || (kw(EMBED_MODEL).is_some() && (ot || on || oj))) {
        if ii && !it {
            return d(Task::ImageFeatureExtraction, 0.8, "image in, embedding out");
        }
        if let Some(k) = kw(SIMILARITY).filter(|_| !o.embedding && !on) {
            return d(Task::SentenceSimilarity, 0.6, format!("text in, similarity out (\"{k}\")"));
        }
        return d(Task::FeatureExtraction, 0.8, "embedding out");
    }

    // Numbers out (embeddings, scores).
    if on && !ot && !oi {
        if ii && !it {
            if kw(CLASSIFY).is_some() && !o.embedding && kw(EMBED).is_none() {
                return d(Task::ImageClassification, 0.6, "image in, score out");
            }
            return d(Task::ImageFeatureExtraction, 0.8, "image in, vector out");
        }
        if ia {
            if kw(AUDIO_CLASSIFY).is_some() && kw(EMBED).is_none() {
                return d(Task::AudioClassification, 0.6, "audio in, scores out");
            }
            return d(Task::FeatureExtraction, 0.6, "audio in, vector out");
        }
        if i.has(Tabular) {
            return tabular(w, false);
        }
        if ii && it && kw(ZERO_SHOT).is_some() && kw(CLASSIFY).is_some() && !o.embedding {
            return d(Task::ZeroShotImageClassification, 0.6, "image and labels in, scores out");
        }
        if let Some(k) = kw(RANK) {
            return d(Task::TextRanking, 0.7, format!("text in, scores out (\"{k}\")"));
        }
        if let Some(k) = kw(SIMILARITY) {
            if !o.embedding {
                return d(Task::SentenceSimilarity, 0.7, format!("text in, scores out (\"{k}\")"));
            }
        }
        if it && !o.embedding && kw(EMBED).is_none() {
            if let Some(k) = kw(TEXT_CLASSIFY).or_else(|| kw(CLASSIFY)) {
                return d(Task::TextClassification, 0.6, format!("text in, score out (\"{k}\")"));
            }
        }
        return d(Task::FeatureExtraction, 0.8, "vector out");
    }

    // Text or structured out.
    if ot || oj || on {
        if ia {
            if let Some(k) = kw(VAD) {
                return d(Task::VoiceActivityDetection, 0.7, format!("audio in, segments out (\"{k}\")"));
            }
            let asr = kw(ASR);
            if let (Some(k), None) = (kw(AUDIO_CLASSIFY), asr) {
                return d(Task::AudioClassification, 0.75, format!("audio in, label out (\"{k}\")"));
            }
            if asr.is_none() && o.short_text && !it {
                return d(Task::AudioClassification, 0.5, "audio in, a short label out");
            }
            if asr.is_none() && it && (kw(VQA).is_some() || kw(LLM).is_some()) {
                return d(Task::AudioTextToText, 0.6, "audio and prompt in, text out");
            }
            return d(Task::AutomaticSpeechRecognition, if asr.is_some() { 0.9 } else { 0.65 }, "audio in, text out");
        }
        if iv {
            if let Some(k) = kw(&["transcri", "whisper", "subtitle", "speech recogn", "speech-to-text"]) {
                return d(Task::AutomaticSpeechRecognition, 0.7, format!("video in, transcript out (\"{k}\")"));
            }
            if !it {
                if let Some(k) = kw(VIDEO_CLASSIFY) {
                    return d(Task::VideoClassification, 0.6, format!("video in, label out (\"{k}\")"));
                }
            }
            return d(Task::VideoTextToText, 0.75, "video in, text out");
        }
        if ii {
            return image_to_text(w, i, o);
        }
        if i.has(Tabular) {
            return tabular(w, true);
        }
        if it || i.items.is_empty() || i.has(Json) {
            return text_to_text(w, i, o);
        }
    }

    if i.items.is_empty() && o.mods.is_empty() {
        return d(Task::Other, 0.2, "no inputs or outputs known");
    }
    d(Task::Other, 0.3, "no rule matched")
}

/// Whether the inputs set the output's size (`width`, `height`, `aspect_ratio`); tile,
/// crop and detection sizes do not count. `names`: the normalised input names, comma separated.
fn sizes_output(names: &str) -> bool {
    names.split(", ").any(|n| {
        let toks: Vec<&str> = n.split(' ').collect();
        let sizes = toks.iter().any(|t| t.starts_with("width") || t.starts_with("height") || *t == "aspect");
        sizes && !toks.iter().any(|t| matches!(*t, "tile" | "tiling" | "detection" | "detect" | "crop" | "mask"))
    })
}

fn is_prompt_name(name: &str) -> bool {
    name.split(' ').any(|t| {
        matches!(t, "prompt" | "prompts" | "text" | "instruction" | "instructions" | "caption" | "description" | "query" | "lyrics" | "script")
    }) && !name.starts_with("negative")
}

fn detection(w: &Words, i: &Inputs, why: &str) -> Decision {
    let query = i.items.iter().any(|x| {
        x.modality == Text
            && x.name.split(' ').any(|t| {
                matches!(t, "query" | "queries" | "prompt" | "text" | "classes" | "labels" | "categories" | "objects" | "caption" | "names")
            })
    });
    if query || w.any(&["open-vocabulary", "open vocabulary", "zero-shot", "zero shot", "grounding", "owl"]).is_some() {
        return d(Task::ZeroShotObjectDetection, 0.65, format!("{why}, text query"));
    }
    d(Task::ObjectDetection, 0.7, why.to_string())
}

fn image_to_text(w: &Words, i: &Inputs, o: &Outputs) -> Decision {
    let it = i.has(Text);
    let kw = |g: &[&'static str]| w.any(g);
    if it && kw(DOCUMENT).is_some() && kw(VQA).is_some() {
        return d(Task::DocumentQuestionAnswering, 0.6, "document and question in, answer out");
    }
    if o.has(Image) {
        if let Some(k) = kw(IMAGE_EDIT_I2I).or_else(|| kw(&["edit", "manipulat", "image translation"])) {
            return if it && (i.required(Text) || kw(&["instruction", "edit"]).is_some()) {
                d(Task::ImageTextToImage, 0.55, format!("image and text in, edited image out (\"{k}\")"))
            } else {
                d(Task::ImageToImage, 0.55, format!("image in, image out (\"{k}\")"))
            };
        }
    }
    if let Some(k) = kw(OCR).filter(|_| !(it && kw(VLM).is_some())) {
        return d(Task::ImageToText, 0.7, format!("image in, text out (\"{k}\")"));
    }
    if o.boxes || (o.has(Json) && kw(DETECT).is_some() && kw(CLASSIFY).is_none()) {
        return detection(w, i, "image in, detections out");
    }
    let label_input = i.items.iter().any(|x| {
        x.modality == Text && x.name.split(' ').any(|t| matches!(t, "labels" | "classes" | "categories" | "candidates" | "candidate"))
    });
    if label_input || (it && kw(ZERO_SHOT).is_some() && kw(CLASSIFY).is_some()) {
        return d(Task::ZeroShotImageClassification, 0.65, "image and candidate labels in");
    }
    if !it {
        if let Some(k) = kw(SEGMENT) {
            return d(Task::ImageSegmentation, 0.5, format!("image in, segments out (\"{k}\")"));
        }
        if o.short_text && kw(CAPTION).is_none() && kw(OCR).is_none() {
            return d(Task::ImageClassification, 0.55, "image in, a short label out");
        }
        if let Some(k) = kw(CLASSIFY).filter(|_| kw(CAPTION).is_none()) {
            return d(Task::ImageClassification, 0.75, format!("image in, label out (\"{k}\")"));
        }
        if let Some(k) = kw(DETECT).filter(|_| kw(CAPTION).is_none()) {
            return d(Task::ImageClassification, 0.55, format!("image in, label out (\"{k}\")"));
        }
        return d(Task::ImageToText, 0.8, "image in, text out");
    }
    if let Some(k) = kw(VQA) {
        if kw(VLM).is_none() {
            return d(Task::VisualQuestionAnswering, 0.7, format!("image and question in (\"{k}\")"));
        }
    }
    if let Some(k) = kw(CAPTION) {
        if kw(VLM).is_none() && kw(VQA).is_none() {
            return d(Task::ImageToText, 0.6, format!("image and text in, caption out (\"{k}\")"));
        }
    }
    if !i.required(Text) {
        if let Some(k) = kw(CLASSIFY).filter(|_| kw(VLM).is_none() && kw(CAPTION).is_none()) {
            return d(Task::ImageClassification, 0.5, format!("image in, label out (\"{k}\")"));
        }
    }
    d(Task::ImageTextToText, 0.75, "image and prompt in, text out")
}

fn tabular(w: &Words, text_out: bool) -> Decision {
    if let Some(k) = w.any(FORECAST) {
        return d(Task::TimeSeriesForecasting, 0.7, format!("table in (\"{k}\")"));
    }
    if w.any(&["regress", "predict price", "estimat"]).is_some() || !text_out {
        return d(Task::TabularRegression, 0.5, "table in, numbers out");
    }
    d(Task::TabularClassification, 0.5, "table in, labels out")
}

fn text_to_text(w: &Words, i: &Inputs, o: &Outputs) -> Decision {
    let kw = |g: &[&'static str]| w.any(g);
    let llm = kw(LLM);
    if o.answer && (llm.is_none() || kw(QA).is_some()) {
        return d(Task::QuestionAnswering, 0.7, "text in, answer with score out");
    }
    if o.passages || (o.has(Json) && llm.is_none() && kw(RETRIEVAL).is_some()) {
        return d(Task::TextRetrieval, 0.65, "text in, passages out");
    }
    if let Some(k) = kw(FILL_MASK) {
        return d(Task::FillMask, 0.7, format!("\"{k}\""));
    }
    if let Some(k) = kw(TOKEN_CLASSIFY) {
        return d(Task::TokenClassification, 0.65, format!("text in, entities out (\"{k}\")"));
    }
    // A general LLM lists translation and summaries among its skills: only its name counts then.
    let main = |g: &[&'static str]| if llm.is_none() { w.any(g) } else { super::text::find_stem(&w.name, g) };
    if let Some(k) = main(TRANSLATE) {
        return d(Task::Translation, 0.7, format!("text in, text out (\"{k}\")"));
    }
    if let Some(k) = main(SUMMARY) {
        return d(Task::Summarization, 0.65, format!("text in, summary out (\"{k}\")"));
    }
    if let Some(k) = main(TEXT_CLASSIFY) {
        return d(Task::TextClassification, 0.7, format!("text in, label out (\"{k}\")"));
    }
    if let Some(k) = kw(RANK) {
        return d(Task::TextRanking, 0.6, format!("\"{k}\""));
    }
    if llm.is_none() {
        if let Some(k) = kw(QA) {
            return d(Task::QuestionAnswering, 0.6, format!("text in, answer out (\"{k}\")"));
        }
        if o.has(Json) && !o.has(Text)
            && kw(CLASSIFY).is_some() {
                return d(Task::TextClassification, 0.5, "text in, labels out");
            }
    }
    let _ = i;
    d(Task::TextGeneration, if llm.is_some() { 0.9 } else { 0.7 }, "text in, text out")
}

/// Adjusts the output types a task implies (a transcript is text even when it comes with
/// segment timings).
pub(crate) fn normalise_outputs(task: Task, outs: &mut Vec<Modality>) {
    match task {
        Task::AutomaticSpeechRecognition => {
            outs.retain(|m| !matches!(m, Json | Number));
            if !outs.contains(&Text) {
                outs.push(Text);
            }
        }
        Task::FeatureExtraction | Task::ImageFeatureExtraction if !outs.contains(&File) => {
            outs.retain(|m| !matches!(m, Text | Json));
            if !outs.contains(&Number) {
                outs.push(Number);
            }
        }
        Task::TextTo3D | Task::ImageTo3D
            if !outs.contains(&ThreeD) => {
                outs.retain(|m| !matches!(m, Image | Video));
                outs.push(ThreeD);
            }
        Task::TextToAudio | Task::TextToSpeech | Task::AudioToAudio
            if !outs.contains(&Audio) => {
                outs.push(Audio);
            }
        _ => {}
    }
}

