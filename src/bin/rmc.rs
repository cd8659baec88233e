//! `rmc`: the native command line of replicate-model-classifier.
//!
//! ```text
//! rmc eval --models models.json --labels labels.jsonl [--seed seed.json] [--misses-only] [--seed-misses]
//! rmc classify <owner/model> [--models models.json] [--debug]
//! rmc classify-all --models models.json
//! rmc bench --models models.json [--iterations N]
//! rmc seed --api URL [--top N | --models models.json] [--concurrency K] [--force] [--state FILE]
//! ```

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use anyhow::{anyhow, bail, Context, Result};
    use replicate_model_classifier::modality::Modality;
    use replicate_model_classifier::offline::{self, OfflineResult};
    use replicate_model_classifier::replicate::{self, Model};
    use replicate_model_classifier::taxonomy::Task;
    use serde::Deserialize;
    use serde_json::{json, Value};
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    use std::io::{BufWriter, IsTerminal, Write};
    use std::time::{Duration, Instant};

    const USAGE: &str = "usage:
  rmc eval --models <models.json> --labels <labels.jsonl> [--seed <seed.json>] [--seed-misses]
  rmc classify <owner/model> [--models <models.json>] [--debug]
  rmc classify-all --models <models.json>
  rmc bench --models <models.json> [--iterations <n>]
  rmc seed --api <URL> [--top <n>] [--models <models.json>] [--concurrency <k>] [--force] [--state <file>]
      requests the most-run models (from the snapshot, or from Replicate's GET /models with
      REPLICATE_API_TOKEN) from the API so they are cached; --force reclassifies (sends
      ADMIN_TOKEN); --state <file> records finished models and skips them next time";

    pub fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let code = match run(&args) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("rmc: {e:#}");
                2
            }
        };
        std::process::exit(code);
    }

    /// Parsed `--flag value` options, `--switch`es and positional arguments.
    struct Args {
        values: HashMap<String, String>,
        switches: BTreeSet<String>,
        positional: Vec<String>,
    }

    /// Options that take a value; everything else starting with `--` is a switch.
    const VALUED: &[&str] =
        &["--models", "--labels", "--seed", "--iterations", "--api", "--top", "--concurrency", "--state", "--max-pages"];

    fn parse(args: &[String]) -> Result<Args> {
        let mut a = Args { values: HashMap::new(), switches: BTreeSet::new(), positional: Vec::new() };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if let Some((k, v)) = arg.split_once('=').filter(|(k, _)| k.starts_with("--")) {
                a.values.insert(k.to_string(), v.to_string());
            } else if VALUED.contains(&arg.as_str()) {
                let v = it.next().ok_or_else(|| anyhow!("{arg} needs a value"))?;
                a.values.insert(arg.clone(), v.clone());
            } else if arg.starts_with("--") {
                a.switches.insert(arg.clone());
            } else {
                a.positional.push(arg.clone());
            }
        }
        Ok(a)
    }

    impl Args {
        fn get(&self, k: &str) -> Option<&str> {
            self.values.get(k).map(String::as_str)
        }
        fn need(&self, k: &str) -> Result<&str> {
            self.get(k).ok_or_else(|| anyhow!("{k} is required\n{USAGE}"))
        }
        fn on(&self, k: &str) -> bool {
            self.switches.contains(k)
        }
    }

    fn run(args: &[String]) -> Result<()> {
        let Some(cmd) = args.first() else { bail!("{USAGE}") };
        let rest = parse(&args[1..])?;
        match cmd.as_str() {
            "eval" => eval(&rest),
            "classify" => classify(&rest),
            "classify-all" => classify_all(&rest),
            "bench" => bench(&rest),
            "seed" => seed(&rest),
            "help" | "--help" | "-h" => {
                println!("{USAGE}");
                Ok(())
            }
            other => bail!("unknown subcommand {other:?}\n{USAGE}"),
        }
    }

    /// `seed`: fills the API's cache with the most-run models.
    fn seed(a: &Args) -> Result<()> {
        use replicate_model_classifier::seed;
        let api = a.need("--api")?.to_string();
        let number = |k: &str| -> Result<Option<usize>> {
            a.get(k).map(|v| v.parse::<usize>().with_context(|| format!("{k} must be a number"))).transpose()
        };
        let top = number("--top")?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let models = match a.get("--models") {
            Some(path) => seed::top_from_snapshot(&load_models(path)?, top),
            None => {
                let token = std::env::var("REPLICATE_API_TOKEN")
                    .ok()
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| anyhow!("without --models, REPLICATE_API_TOKEN must be set"))?;
                let base = std::env::var("REPLICATE_API_BASE_URL").unwrap_or_else(|_| replicate::DEFAULT_BASE_URL.into());
                let client = replicate::Client::new(&base, Some(token), Duration::from_secs(30));
                rt.block_on(seed::top_from_replicate(&client, top, number("--max-pages")?.unwrap_or(100)))?
            }
        };
        let opts = seed::Options {
            api,
            models,
            concurrency: number("--concurrency")?.unwrap_or(4),
            force: a.on("--force"),
            admin_token: std::env::var("ADMIN_TOKEN").ok().filter(|t| !t.is_empty()),
            state: a.get("--state").map(Into::into),
            attempts: 4,
        };
        let summary = rt.block_on(seed::run(opts))?;
        eprintln!("skipped (already done): {}", summary.skipped);
        for (outcome, n) in &summary.outcomes {
            println!("{outcome}\t{n}");
        }
        if summary.outcomes.keys().any(|k| k.starts_with("error")) {
            std::process::exit(1);
        }
        Ok(())
    }

    fn load_models(path: &str) -> Result<Vec<Model>> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {path} as a list of models"))
    }

    fn line(id: &str, r: &OfflineResult, debug: bool) -> Value {
        let mut v = json!({"model": id, "classification": r.classification});
        if debug {
            v["confidence"] = json!(r.confidence);
            v["evidence"] = json!(r.evidence);
            v["classifier"] = json!(offline::CLASSIFIER_ID);
        }
        v
    }

    // ---- eval -------------------------------------------------------------------------------

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Label {
        id: String,
        tasks: Vec<String>,
        acceptable: Vec<String>,
        input_types: Vec<String>,
        output_types: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct SeedEntry {
        task: String,
        #[serde(default)]
        input_types: Vec<String>,
        #[serde(default)]
        output_types: Vec<String>,
    }

    fn names(v: &[Modality]) -> BTreeSet<String> {
        v.iter().map(|m| m.name().to_string()).collect()
    }

    /// Free-form type names mapped onto the vocabulary; names outside it are dropped.
    fn vocab(v: &[String]) -> BTreeSet<String> {
        v.iter().filter_map(|s| s.parse::<Modality>().ok()).map(|m| m.name().to_string()).collect()
    }

    fn pct(n: usize, d: usize) -> String {
        if d == 0 {
            "n/a".into()
        } else {
            format!("{:.1}% ({n}/{d})", 100.0 * n as f64 / d as f64)
        }
    }

    fn eval(a: &Args) -> Result<()> {
        let models = load_models(a.need("--models")?)?;
        let labels_path = a.need("--labels")?;
        let labels_text = std::fs::read_to_string(labels_path).with_context(|| format!("reading {labels_path}"))?;
        let labels: Vec<Label> = labels_text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .context("parsing labels")?;
        let by_id: HashMap<String, &Model> = models.iter().map(|m| (m.id(), m)).collect();

        let start = Instant::now();
        let (mut strict, mut lenient, mut inputs_ok, mut outputs_ok, mut n) = (0, 0, 0, 0, 0);
        let mut missing = Vec::new();
        let mut misses = Vec::new();
        let mut type_misses = Vec::new();
        let mut results: HashMap<String, OfflineResult> = HashMap::new();
        for l in &labels {
            let Some(m) = by_id.get(&l.id) else {
                missing.push(l.id.clone());
                continue;
            };
            let r = offline::classify(m, &[]);
            n += 1;
            let task = r.classification.task.name();
            let s = l.tasks.iter().any(|t| t == task);
            let le = s || l.acceptable.iter().any(|t| t == task);
            strict += s as usize;
            lenient += le as usize;
            let pi = names(&r.classification.input_types);
            let po = names(&r.classification.output_types);
            let ei: BTreeSet<String> = l.input_types.iter().cloned().collect();
            let eo: BTreeSet<String> = l.output_types.iter().cloned().collect();
            inputs_ok += (pi == ei) as usize;
            outputs_ok += (po == eo) as usize;
            if !s {
                misses.push(format!(
                    "  {}{}: predicted {task}, expected {} (acceptable {})",
                    if le { "~ " } else { "✗ " },
                    l.id,
                    l.tasks.join("|"),
                    l.acceptable.join("|")
                ));
            }
            if pi != ei || po != eo {
                type_misses.push(format!(
                    "  {}: inputs {:?} vs {:?}; outputs {:?} vs {:?}",
                    l.id, pi, ei, po, eo
                ));
            }
            results.insert(l.id.clone(), r);
        }
        let elapsed = start.elapsed();
        println!("labels: {} ({} found in {})", labels.len(), n, a.need("--models")?);
        println!("strict accuracy:        {}", pct(strict, n));
        println!("lenient accuracy:       {}", pct(lenient, n));
        println!("input types exact:      {}", pct(inputs_ok, n));
        println!("output types exact:     {}", pct(outputs_ok, n));
        println!("classified in {:.2} ms", elapsed.as_secs_f64() * 1e3);
        if !missing.is_empty() {
            println!("not in the snapshot: {}", missing.join(", "));
        }
        if !misses.is_empty() {
            println!("task misses (✗ wrong, ~ acceptable):");
            for m in &misses {
                println!("{m}");
            }
        }
        if !type_misses.is_empty() {
            println!("type mismatches:");
            for m in &type_misses {
                println!("{m}");
            }
        }

        if let Some(seed_path) = a.get("--seed") {
            let text = std::fs::read_to_string(seed_path).with_context(|| format!("reading {seed_path}"))?;
            let seed: BTreeMap<String, SeedEntry> = serde_json::from_str(&text).context("parsing seed")?;
            let (mut agree, mut total, mut in_ok, mut out_ok, mut valid_tasks) = (0, 0, 0, 0, 0);
            let (mut lab_agree, mut lab_n, mut lab_seed_strict, mut lab_seed_lenient) = (0, 0, 0, 0);
            let mut seed_misses = Vec::new();
            let labels_by_id: HashMap<&str, &Label> = labels.iter().map(|l| (l.id.as_str(), l)).collect();
            for (id, e) in &seed {
                let Some(m) = by_id.get(id) else { continue };
                let r = offline::classify(m, &[]);
                total += 1;
                valid_tasks += e.task.parse::<Task>().is_ok() as usize;
                let same = r.classification.task.name() == e.task;
                agree += same as usize;
                in_ok += (names(&r.classification.input_types) == vocab(&e.input_types)) as usize;
                out_ok += (names(&r.classification.output_types) == vocab(&e.output_types)) as usize;
                if !same {
                    seed_misses.push(format!("  {id}: offline {} vs seed {}", r.classification.task, e.task));
                }
                if let Some(l) = labels_by_id.get(id.as_str()) {
                    lab_n += 1;
                    lab_agree += same as usize;
                    lab_seed_strict += l.tasks.contains(&e.task) as usize;
                    lab_seed_lenient += (l.tasks.contains(&e.task) || l.acceptable.contains(&e.task)) as usize;
                }
            }
            println!("seed {seed_path}: {} entries, {} in the snapshot ({} with a task in the taxonomy)", seed.len(), total, valid_tasks);
            println!("task agreement with seed:           {}", pct(agree, total));
            println!("input types agreement (vocab only): {}", pct(in_ok, total));
            println!("output types agreement (vocab only):{}", pct(out_ok, total));
            println!(
                "on labelled models in the seed: offline/seed task agreement {}; seed itself scores strict {}, lenient {}",
                pct(lab_agree, lab_n),
                pct(lab_seed_strict, lab_n),
                pct(lab_seed_lenient, lab_n)
            );
            if a.on("--seed-misses") {
                println!("seed disagreements:");
                for m in &seed_misses {
                    println!("{m}");
                }
            }
        }
        Ok(())
    }

    // ---- classify ---------------------------------------------------------------------------

    fn classify(a: &Args) -> Result<()> {
        let id = a.positional.first().ok_or_else(|| anyhow!("classify needs <owner/model>\n{USAGE}"))?;
        let (owner, name) = id.split_once('/').ok_or_else(|| anyhow!("{id:?} is not owner/model"))?;
        let debug = a.on("--debug");
        let (model, examples) = match a.get("--models") {
            Some(path) => {
                let models = load_models(path)?;
                let m = models
                    .into_iter()
                    .find(|m| m.owner == owner && m.name == name)
                    .ok_or_else(|| anyhow!("{id} is not in {path}"))?;
                (m, Vec::new())
            }
            None => {
                let token = std::env::var("REPLICATE_API_TOKEN")
                    .ok()
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| anyhow!("without --models, REPLICATE_API_TOKEN must be set"))?;
                let base = std::env::var("REPLICATE_API_BASE_URL")
                    .ok()
                    .filter(|b| !b.is_empty())
                    .unwrap_or_else(|| replicate::DEFAULT_BASE_URL.to_string());
                let client = replicate::Client::new(&base, Some(token), Duration::from_secs(20));
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                rt.block_on(async {
                    let m = client.model(owner, name).await.map_err(|e| anyhow!("{e}"))?;
                    let ex = client.examples(owner, name).await.map_err(|e| anyhow!("{e}"))?;
                    Ok::<_, anyhow::Error>((m, ex))
                })?
            }
        };
        let r = offline::classify(&model, &examples);
        println!("{}", serde_json::to_string_pretty(&line(&model.id(), &r, debug))?);
        Ok(())
    }

    // ---- classify-all -----------------------------------------------------------------------

    fn classify_all(a: &Args) -> Result<()> {
        let models = load_models(a.need("--models")?)?;
        let tty = std::io::stderr().is_terminal();
        let bar = if tty {
            let b = indicatif::ProgressBar::new(models.len() as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Some(b)
        } else {
            None
        };
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        let mut histogram: BTreeMap<&'static str, usize> = BTreeMap::new();
        for m in &models {
            let r = offline::classify(m, &[]);
            *histogram.entry(r.classification.task.name()).or_default() += 1;
            serde_json::to_writer(&mut out, &line(&m.id(), &r, false))?;
            out.write_all(b"\n")?;
            if let Some(b) = &bar {
                b.inc(1);
            }
        }
        out.flush()?;
        if let Some(b) = bar {
            b.finish_and_clear();
            let mut rows: Vec<_> = histogram.into_iter().collect();
            rows.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
            eprintln!("{} models", models.len());
            for (task, count) in rows {
                eprintln!("{count:>6}  {task}");
            }
        }
        Ok(())
    }

    // ---- bench ------------------------------------------------------------------------------

    fn bench(a: &Args) -> Result<()> {
        let path = a.need("--models")?;
        let load = Instant::now();
        let models = load_models(path)?;
        let load_ms = load.elapsed().as_secs_f64() * 1e3;
        let iterations: usize = a.get("--iterations").map(str::parse).transpose()?.unwrap_or(1).max(1);
        let mut best = f64::MAX;
        let mut checksum = 0usize;
        for _ in 0..iterations {
            let start = Instant::now();
            for m in &models {
                let r = offline::classify(m, &[]);
                checksum = checksum.wrapping_add(r.classification.task as usize + r.evidence.len());
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!("loaded {} models in {load_ms:.0} ms (not counted)", models.len());
        println!(
            "classified {} models in {:.1} ms ({:.0} models/s; best of {iterations}) [{checksum}]",
            models.len(),
            best * 1e3,
            models.len() as f64 / best
        );
        Ok(())
    }
}
