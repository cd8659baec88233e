//! Renders README.md into the HTML page served at `/`, so the Worker never fetches it at run
//! time. Raw HTML in the README is escaped, not passed through.

use pulldown_cmark::{html, Event, Options, Parser};
use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=README.md");
    let readme = fs::read_to_string("README.md").expect("README.md");
    let parser = Parser::new_ext(&readme, Options::ENABLE_TABLES).map(|e| match e {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        other => other,
    });
    let mut body = String::new();
    html::push_html(&mut body, parser);
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>replicate-model-classifier</title><style>\
body{{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}\
pre,code{{background:#f4f4f4;border-radius:4px}}pre{{padding:.75rem;overflow:auto}}code{{padding:0 .2rem}}\
table{{border-collapse:collapse}}td,th{{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}}\
</style></head><body>\n{body}</body></html>\n"
    );
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("index.html");
    fs::write(out, page).unwrap();
}
