//! Classifies public Replicate models into Hugging Face tasks.
//!
//! The core (taxonomy, schema reading, prompt, LLM request and answer handling, the offline
//! classifier, cache records) is plain Rust, used natively by the CLI and tests; the Worker
//! (`worker_app`, wasm only) is a thin layer of routing, KV and configuration over it.

pub mod anthropic;
pub mod cache;
pub mod classification;
pub mod error;
pub mod modality;
pub mod model_id;
pub mod offline;
pub mod prompt;
pub mod replicate;
pub mod rt;
pub mod schema;
pub mod taxonomy;
pub mod service;

#[cfg(target_arch = "wasm32")]
mod worker_app;

#[cfg(not(target_arch = "wasm32"))]
pub mod seed;
