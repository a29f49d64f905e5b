//! End-to-end: the report of the published study, opened in headless Chromium from `file://`.
//! It must load with no console message, make no request outside the file (Chromium's net log),
//! show every figure (the DOM Chromium parsed), and render a screenshot.
//!
//! Chromium is Debian's `/usr/bin/chromium` (or `$CHROMIUM`). Without it the test skips with a
//! message, or fails when `LLM_ENERGY_REQUIRE_E2E=1`. The same checks are first run on a canary
//! page that does fetch and log, so they cannot pass vacuously. A synthetic study at three
//! concurrencies, with gold labels, shows the serving figures (energy per token by load level,
//! the energy–accuracy and energy–latency frontiers) the same way.

mod common;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Largest `index.html` the issue allows.
const MAX_HTML_BYTES: u64 = 5_000_000;
/// How long one Chromium run may take.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(180);

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.is_file() {
        return Some(path);
    }
    let msg = format!("Chromium is not at {} (set CHROMIUM to its path)", path.display());
    if std::env::var("LLM_ENERGY_REQUIRE_E2E").is_ok_and(|v| v == "1") {
        panic!("{msg}, and LLM_ENERGY_REQUIRE_E2E=1 requires the browser test");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// What one headless Chromium run saw.
struct Visit {
    /// Console messages (`--enable-logging=stderr` prints them as `CONSOLE` lines).
    console: Vec<String>,
    /// URLs the page requested (not Chromium's own background requests).
    page_requests: Vec<String>,
    /// Chromium's own requests (no page initiator), reported for information.
    browser_requests: Vec<String>,
    /// The DOM Chromium parsed (`--dump-dom`).
    dom: String,
    /// The screenshot file.
    screenshot: PathBuf,
}

fn visit(chromium: &Path, page: &Path, work: &Path) -> Visit {
    let net_log = work.join("net-log.json");
    let screenshot = work.join("shot.png");
    let url = format!("file://{}", page.canonicalize().expect("page path").display());
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-features=NetworkTimeServiceQuerying",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1400,4000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", work.join("profile").display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Read both pipes on threads so a full pipe cannot stall Chromium.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait for chromium").is_some() {
            break;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            panic!("chromium did not finish within {CHROMIUM_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let dom = out_thread.join().expect("stdout thread");
    let stderr = err_thread.join().expect("stderr thread");
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    let (page_requests, browser_requests) = requests(&net_log);
    Visit {
        console,
        page_requests,
        browser_requests,
        dom,
        screenshot,
    }
}

/// The URLs of Chromium's net log, split into the page's requests and Chromium's own. A request
/// started by the page carries the page's origin (`file://`) in its network isolation key or
/// an initiator; Chromium's background requests (update checks, account lookups) have the
/// initiator "not an origin". `file:` and `data:` URLs never reach the network stack.
fn requests(net_log: &Path) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(net_log).expect("net log written");
    // Chromium may be killed before it closes the JSON array; close it ourselves then.
    let json: serde_json::Value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(&format!("{}]}}", text.trim_end().trim_end_matches(','))))
        .expect("net log is JSON");
    let mut page = Vec::new();
    let mut browser = Vec::new();
    for e in json["events"].as_array().into_iter().flatten() {
        let p = &e["params"];
        let (Some(url), Some(initiator)) = (p["url"].as_str(), p["initiator"].as_str()) else {
            continue;
        };
        let nik = p["network_isolation_key"].as_str().unwrap_or("");
        if initiator == "not an origin" && !nik.contains("file://") {
            browser.push(url.to_string());
        } else {
            page.push(url.to_string());
        }
    }
    (page, browser)
}

fn leaving(requests: &[String]) -> Vec<&String> {
    requests
        .iter()
        .filter(|u| !u.starts_with("file:") && !u.starts_with("data:"))
        .collect()
}

/// Decodes a PNG and counts its distinct colours (a blank image has one).
fn png_colours(path: &Path) -> (u32, u32, usize) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let decoder = png::Decoder::new(std::io::BufReader::new(file));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    let bytes_per_pixel = info.color_type.samples() * (info.bit_depth as usize).div_ceil(8);
    let mut colours: Vec<&[u8]> = buf[..info.buffer_size()].chunks(bytes_per_pixel).collect();
    colours.sort_unstable();
    colours.dedup();
    (info.width, info.height, colours.len())
}

/// Each `<figure class="plot" …>…</figure>` of a document: (name, inner markup).
fn figures(html: &str) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<figure class=\"plot\"") {
        let from = &rest[start..];
        let end = from.find("</figure>").expect("closed figure");
        let body = &from[..end];
        let name = body
            .split("data-figure=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_default()
            .to_string();
        out.push((name, body));
        rest = &from[end..];
    }
    out
}

#[test]
fn the_checks_catch_a_page_that_fetches_and_logs() {
    let Some(chromium) = chromium() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let page = tmp.path().join("canary.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><img src=\"http://127.0.0.1:9/x.png\">\
         <script>console.error('canary')</script></body></html>",
    )
    .expect("write canary");
    let v = visit(&chromium, &page, tmp.path());
    assert!(
        v.console.iter().any(|l| l.contains("canary")),
        "console not captured: {:?}",
        v.console
    );
    assert_eq!(
        leaving(&v.page_requests),
        [&"http://127.0.0.1:9/x.png".to_string()]
    );
}

#[test]
fn the_published_report_renders_in_headless_chromium_without_errors_or_requests() {
    let Some(data) = common::imported_published() else {
        return;
    };
    let Some(chromium) = chromium() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("report");
    common::analyze()
        .arg(data)
        .arg("--report")
        .arg(&out)
        .assert()
        .success();

    let html_path = out.join("index.html");
    let size = std::fs::metadata(&html_path).expect("index.html").len();
    assert!(size <= MAX_HTML_BYTES, "index.html is {size} bytes");
    let html = std::fs::read_to_string(&html_path).expect("index.html");
    let in_file = figures(&html);
    assert!(
        in_file.len() >= 16,
        "only {} figures in index.html",
        in_file.len()
    );
    for (name, _) in &in_file {
        let svg = std::fs::read_to_string(out.join(format!("figures/{name}.svg"))).expect("figure SVG");
        assert!(svg.matches('<').count() > 20, "figures/{name}.svg is empty");
        let (w, h, colours) = png_colours(&out.join(format!("figures/{name}.png")));
        assert!(w > 0 && h > 0 && colours > 4, "figures/{name}.png is blank");
    }

    let work = tmp.path().join("chromium");
    std::fs::create_dir_all(&work).expect("mkdir");
    let v = visit(&chromium, &html_path, &work);
    assert!(v.console.is_empty(), "console messages: {:#?}", v.console);
    assert!(
        leaving(&v.page_requests).is_empty(),
        "the page requested: {:#?}",
        leaving(&v.page_requests)
    );
    if !v.browser_requests.is_empty() {
        eprintln!(
            "note: Chromium's own background requests (not the page's): {:?}",
            v.browser_requests
        );
    }
    // The parsed DOM holds every figure, each a non-empty inline SVG, and nothing to fetch.
    let in_dom = figures(&v.dom);
    let names = |f: &[(String, &str)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&in_dom), names(&in_file));
    for (name, body) in &in_dom {
        assert!(body.contains("<svg"), "figure {name} has no SVG");
        assert!(
            body.matches("<line").count() + body.matches("<circle").count() + body.matches("<rect").count()
                > 10,
            "figure {name} is empty in the DOM"
        );
    }
    // The "as published" tables are in the parsed DOM with the published numbers: RQ2's ART
    // ANOVA generation row (RQ2_Omnibus_ART_Mixed_Model.csv: F = 30.994 on 3 and 6 df) and
    // RQ3.3's Llama 3 − 3.1 contrast (RQ3.3_Pairwise_Successive_Accuracy.csv: t = −1.401).
    for (caption, row) in [
        (
            "RQ2: as published",
            "<td>ART ANOVA (random run intercept)</td><td>generation</td><td class=\"n\">30.99</td><td class=\"n\">3, 6</td>",
        ),
        (
            "RQ3.3: as published",
            "<td>ART-C contrast (BH)</td><td>3 - 3.1 (accuracy)</td><td class=\"n\">-1.401</td><td class=\"n\">26</td>",
        ),
        (
            "RQ1.2: as published",
            "<td>Gen3_8B - Gen3.1_8B (published: z of Gen3.1_8B − Gen3_8B)</td><td class=\"n\">-0.3279</td>",
        ),
    ] {
        let at = v
            .dom
            .find(caption)
            .unwrap_or_else(|| panic!("no table {caption:?} in the DOM"));
        let table = &v.dom[at..at + v.dom[at..].find("</table>").expect("table end")];
        assert!(table.contains(row), "{caption}: no row {row}");
    }
    for tag in [
        "<script", "<img", "<link", "<iframe", "<object", "<embed", "@import", "url(",
    ] {
        assert!(!v.dom.contains(tag), "the DOM contains {tag}");
    }
    let (w, h, colours) = png_colours(&v.screenshot);
    assert_eq!((w, h), (1400, 4000), "screenshot size");
    assert!(colours > 16, "the screenshot is blank");
}

#[test]
fn a_study_at_three_load_levels_shows_its_serving_figures_in_headless_chromium() {
    let Some(chromium) = chromium() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("synth");
    common::analyze()
        .args(["synth", "--trials", "180", "--samples-per-trial", "60"])
        .args(["--requests-per-trial", "2", "--baseline-samples", "5"])
        .args(["--concurrency", "1,8,32", "--seed", "3", "--out"])
        .arg(&data)
        .assert()
        .success();
    // Gold labels: two answers in three right, so every treatment has an energy per correct
    // answer.
    let ds = dataset::Dataset::open(&data).expect("open");
    let mut gold = Vec::new();
    for run in ds.read_runs().expect("runs") {
        let requests = 2 * run.key.concurrency.expect("a load level");
        for index in 0..requests {
            gold.push(dataset::Judgment {
                run_id: run.key.run_id.to_string(),
                request_index: index,
                scorer: "gold".into(),
                score: Some(if (index + run.key.run) % 3 == 0 { 0.0 } else { 1.0 }),
                reason: None,
                details: None,
            });
        }
    }
    ds.write_judgments("gold", &gold).expect("write gold");
    let out = tmp.path().join("report");
    common::analyze()
        .arg(&data)
        .arg("--report")
        .arg(&out)
        .assert()
        .success();
    let html_path = out.join("index.html");
    let html = std::fs::read_to_string(&html_path).expect("index.html");
    let in_file = figures(&html);
    let names: Vec<&str> = in_file.iter().map(|f| f.0.as_str()).collect();
    for name in [
        "serving_energy_per_token_by_load",
        "serving_frontier_accuracy",
        "serving_frontier_latency",
    ] {
        assert!(names.contains(&name), "no figure {name} in {names:?}");
        let (w, h, colours) = png_colours(&out.join(format!("figures/{name}.png")));
        assert!(w > 0 && h > 0 && colours > 4, "figures/{name}.png is blank");
    }
    assert!(!html.contains("id=\"no-frontier\""));

    let work = tmp.path().join("chromium");
    std::fs::create_dir_all(&work).expect("mkdir");
    let v = visit(&chromium, &html_path, &work);
    assert!(v.console.is_empty(), "console messages: {:#?}", v.console);
    assert!(
        leaving(&v.page_requests).is_empty(),
        "the page requested: {:#?}",
        leaving(&v.page_requests)
    );
    let in_dom = figures(&v.dom);
    for name in [
        "serving_energy_per_token_by_load",
        "serving_frontier_accuracy",
        "serving_frontier_latency",
    ] {
        let (_, body) = in_dom
            .iter()
            .find(|f| f.0 == name)
            .unwrap_or_else(|| panic!("figure {name} not in the DOM"));
        assert!(body.contains("<svg"), "figure {name} has no SVG");
        // Five models' lines with points over three levels; 90 treatments' points.
        assert!(
            body.matches("<line").count()
                + body.matches("<circle").count()
                + body.matches("<polyline").count()
                > 10,
            "figure {name} is empty in the DOM"
        );
    }
    // The tables of the section: the latency table and the frontier with its Pareto marks.
    for caption in [
        "Latencies per model and load level",
        "The energy–accuracy–latency frontier per treatment",
        "Validity gates over all trials",
    ] {
        assert!(v.dom.contains(caption), "no table {caption:?} in the DOM");
    }
    assert!(v.dom.contains("★"), "no Pareto-optimal treatment marked");
}
