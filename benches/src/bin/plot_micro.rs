//! Reads criterion's results (`<criterion dir>/**/new/{benchmark,estimates}.json`)
//! and writes what `benches/RESULTS.md` shows: a Markdown table per group
//! (oxio's time and throughput, each peer's, and the ratio peer ÷ oxio) and
//! an SVG bar chart of those ratios.
//!
//! ```text
//! cargo run -p oxio-benches --bin plot_micro -- \
//!     [--svg benches/results/micro_ratios.svg] [--md FILE] DIR [DIR...]
//! ```
//!
//! `DIR` is a criterion directory (`$CARGO_TARGET_DIR/criterion`, or a copy
//! of it). The first one is the run the table and chart show; with more
//! than one, a second table gives every run's ratio, so the spread between
//! runs is visible. The time of a benchmark is criterion's "typical"
//! estimate: the slope of the linear regression when there is one, else the
//! mean (what `cargo bench` prints in the middle of `time: [..]`).
#![forbid(unsafe_code)]

use plotters::prelude::*;
use plotters::style::full_palette::{BLUE_600, GREEN_600, ORANGE_600};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The implementation every ratio is relative to.
const OXIO: &str = "oxio";
/// The peers, in table order.
const PEERS: [&str; 2] = ["socketioxide", "serde_json"];
/// oxio's opt-in lazy row (`Decoder::decode_header`), charted against
/// socketioxide as a series of its own.
const LAZY: &str = "oxio_lazy";
/// The chart series (and legend) of the [`LAZY`] bars.
const LAZY_SERIES: &str = "socketioxide (oxio opt-in lazy decode_header)";

/// Why the report could not be made.
#[derive(Debug)]
enum PlotError {
    /// Bad command line.
    Usage(String),
    /// A file or directory could not be read or written.
    Io(PathBuf, std::io::Error),
    /// A criterion file is not the JSON expected.
    Json(PathBuf, serde_json::Error),
    /// The directory holds no benchmark results.
    NoResults(PathBuf),
    /// plotters failed to draw.
    Draw(String),
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::Usage(msg) => write!(
                f,
                "{msg}\nusage: plot_micro [--svg FILE] [--md FILE] CRITERION_DIR [CRITERION_DIR...]"
            ),
            PlotError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            PlotError::Json(path, e) => write!(f, "{}: not criterion's JSON: {e}", path.display()),
            PlotError::NoResults(path) => write!(
                f,
                "{}: no `new/benchmark.json` found; run `cargo bench -p oxio-benches` first",
                path.display()
            ),
            PlotError::Draw(e) => write!(f, "drawing the chart: {e}"),
        }
    }
}

impl std::error::Error for PlotError {}

/// `benchmark.json`: which benchmark a directory holds.
#[derive(Debug, Deserialize)]
struct BenchmarkJson {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
    throughput: Option<serde_json::Value>,
}

/// One estimate of `estimates.json`, in nanoseconds.
#[derive(Debug, Clone, Copy, Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

#[derive(Debug, Deserialize)]
struct EstimatesJson {
    mean: Estimate,
    slope: Option<Estimate>,
}

/// One measured benchmark.
#[derive(Debug, Clone, Copy)]
struct Measure {
    /// Criterion's typical time per iteration, ns, with its 95 % interval.
    time: Estimate,
    /// Bytes per iteration, if the benchmark declared a byte throughput.
    bytes: Option<u64>,
}

impl Measure {
    /// Decimal gigabytes per second at the typical time.
    fn gb_per_s(&self) -> Option<f64> {
        let bytes = self.bytes? as f64;
        (self.time.point_estimate > 0.0).then(|| bytes / self.time.point_estimate)
    }
}

/// (group, input) -> function -> measure, in a stable order.
type Results = BTreeMap<(String, String), BTreeMap<String, Measure>>;

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, PlotError> {
    let text = std::fs::read_to_string(path).map_err(|e| PlotError::Io(path.to_owned(), e))?;
    serde_json::from_str(&text).map_err(|e| PlotError::Json(path.to_owned(), e))
}

fn bytes_of(throughput: Option<&serde_json::Value>) -> Option<u64> {
    let t = throughput?;
    t.get("Bytes")
        .or_else(|| t.get("BytesDecimal"))
        .and_then(serde_json::Value::as_u64)
}

/// Every `new/` directory under `root`, without recursion.
fn load(root: &Path) -> Result<Results, PlotError> {
    let mut results = Results::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| PlotError::Io(dir.clone(), e))?;
        for entry in entries {
            let path = entry.map_err(|e| PlotError::Io(dir.clone(), e))?.path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|n| n == "new") {
                let bench_file = path.join("benchmark.json");
                let est_file = path.join("estimates.json");
                if bench_file.is_file() && est_file.is_file() {
                    let bench: BenchmarkJson = read_json(&bench_file)?;
                    let est: EstimatesJson = read_json(&est_file)?;
                    let measure = Measure {
                        time: est.slope.unwrap_or(est.mean),
                        bytes: bytes_of(bench.throughput.as_ref()),
                    };
                    results
                        .entry((bench.group_id, bench.value_str.unwrap_or_default()))
                        .or_default()
                        .insert(bench.function_id.unwrap_or_default(), measure);
                }
            } else if path
                .file_name()
                .is_none_or(|n| n != "base" && n != "report")
            {
                stack.push(path);
            }
        }
    }
    if results.is_empty() {
        return Err(PlotError::NoResults(root.to_owned()));
    }
    Ok(results)
}

fn fmt_time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// Typical time with the half-width of its 95 % interval, in percent.
fn fmt_time_ci(m: &Measure) -> String {
    let t = m.time.point_estimate;
    let ci = m.time.confidence_interval;
    let half = (ci.upper_bound - ci.lower_bound) / 2.0;
    if t > 0.0 {
        format!("{} ±{:.1}%", fmt_time(t), 100.0 * half / t)
    } else {
        fmt_time(t)
    }
}

fn fmt_rate(m: &Measure) -> String {
    match m.gb_per_s() {
        Some(gb) if gb >= 1.0 => format!("{gb:.2} GB/s"),
        Some(gb) => format!("{:.0} MB/s", gb * 1e3),
        None => "–".into(),
    }
}

/// peer ÷ oxio: how many times faster oxio is.
fn ratio(oxio: &Measure, peer: &Measure) -> Option<f64> {
    (oxio.time.point_estimate > 0.0).then(|| peer.time.point_estimate / oxio.time.point_estimate)
}

/// Orders groups as RESULTS.md discusses them; unknown groups go last.
fn group_rank(group: &str) -> usize {
    const ORDER: [&str; 11] = [
        "eio_decode_text",
        "eio_decode_base64",
        "eio_encode_text",
        "eio_encode_base64",
        "payload_v4_split",
        "payload_v3_text",
        "payload_v3_binary",
        "sio_header_event_name",
        "sio_typed_decode",
        "sio_encode_event",
        "sio_binary_reassembly",
    ];
    ORDER
        .iter()
        .position(|g| *g == group)
        .unwrap_or(ORDER.len())
}

/// Inputs ordered by size (`60B` < `1KB` < `64KB` < `1MB`), then by name.
fn input_rank(input: &str) -> (u64, String) {
    let digits: String = input.chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().unwrap_or(0);
    let unit = input.get(digits.len()..).unwrap_or("");
    let scale = match unit {
        u if u.starts_with("KB") => 1 << 10,
        u if u.starts_with("MB") => 1 << 20,
        u if u.starts_with('x') => 1 << 20, // "2x64KB"
        _ => 1,
    };
    (n.saturating_mul(scale), input.to_owned())
}

/// One (group, input) of [`Results`] with its measures.
type Row<'r> = (&'r (String, String), &'r BTreeMap<String, Measure>);

fn ordered(results: &Results) -> Vec<Row<'_>> {
    let mut rows: Vec<_> = results.iter().collect();
    rows.sort_by_key(|((group, input), _)| (group_rank(group), group.clone(), input_rank(input)));
    rows
}

/// The Markdown tables, one per group.
fn markdown(results: &Results) -> String {
    let mut out = String::new();
    let mut current = None;
    for ((group, input), functions) in ordered(results) {
        let Some(oxio) = functions.get(OXIO) else {
            continue;
        };
        // The peers first, then any other rows of the group (variants of
        // oxio or of a peer), each compared with oxio.
        let mut others: Vec<&str> = results
            .iter()
            .filter(|((g, _), _)| g == group)
            .flat_map(|(_, f)| f.keys().map(String::as_str))
            .filter(|name| *name != OXIO && !PEERS.contains(name))
            .collect();
        others.sort_unstable();
        others.dedup();
        let peers: Vec<&str> = PEERS
            .iter()
            .copied()
            .filter(|p| {
                results
                    .iter()
                    .any(|((g, _), f)| g == group && f.contains_key(*p))
            })
            .chain(others)
            .collect();
        if current != Some(group) {
            current = Some(group);
            let _ = write!(
                out,
                "\n#### `{group}`\n\n| input | bytes | oxio time | oxio throughput |"
            );
            for p in &peers {
                let _ = write!(out, " {p} time | {p} throughput | {p} ÷ oxio |");
            }
            out.push_str("\n|---|--:|--:|--:|");
            for _ in &peers {
                out.push_str("--:|--:|--:|");
            }
            out.push('\n');
        }
        let _ = write!(
            out,
            "| {input} | {} | {} | {} |",
            oxio.bytes.map_or_else(|| "–".into(), |b| b.to_string()),
            fmt_time_ci(oxio),
            fmt_rate(oxio)
        );
        for p in &peers {
            match functions.get(*p) {
                Some(m) => {
                    let r = ratio(oxio, m).map_or_else(|| "–".into(), |r| format!("**{r:.2}×**"));
                    let _ = write!(out, " {} | {} | {r} |", fmt_time_ci(m), fmt_rate(m));
                }
                None => out.push_str(" – | – | – |"),
            }
        }
        out.push('\n');
    }
    out
}

/// Every run's ratio against socketioxide and oxio's throughput, per row.
fn spread(runs: &[(PathBuf, Results)]) -> String {
    let mut out = String::from("\n| group / input |");
    for (i, _) in runs.iter().enumerate() {
        let _ = write!(
            out,
            " run {} oxio time | run {} socketioxide ÷ oxio |",
            i + 1,
            i + 1
        );
    }
    out.push_str("\n|---|");
    for _ in runs {
        out.push_str("--:|--:|");
    }
    out.push('\n');
    let Some((_, first)) = runs.first() else {
        return out;
    };
    for ((group, input), _) in ordered(first) {
        let _ = write!(out, "| {group} / {input} |");
        for (_, results) in runs {
            let row = results.get(&(group.clone(), input.clone()));
            let oxio = row.and_then(|f| f.get(OXIO));
            let peer = row.and_then(|f| f.get("socketioxide"));
            let rate = oxio.map_or_else(|| "–".into(), |m| fmt_time(m.time.point_estimate));
            let r = match (oxio, peer) {
                (Some(o), Some(p)) => {
                    ratio(o, p).map_or_else(|| "–".into(), |r| format!("{r:.2}×"))
                }
                _ => "–".into(),
            };
            let _ = write!(out, " {rate} | {r} |");
        }
        out.push('\n');
    }
    out
}

/// One bar of the chart.
struct Bar {
    label: String,
    peer: &'static str,
    ratio: f64,
}

fn bars(results: &Results) -> Vec<Bar> {
    let mut bars = Vec::new();
    for ((group, input), functions) in ordered(results) {
        let Some(oxio) = functions.get(OXIO) else {
            continue;
        };
        for peer in PEERS {
            if let Some(r) = functions.get(peer).and_then(|m| ratio(oxio, m)) {
                bars.push(Bar {
                    label: format!("{group} {input} vs {peer}"),
                    peer,
                    ratio: r,
                });
            }
        }
        // The codec's opt-in lazy row, against the same socketioxide row.
        let lazy = functions.get(LAZY);
        let peer = functions.get(PEERS[0]);
        if let Some(r) = lazy.zip(peer).and_then(|(l, p)| ratio(l, p)) {
            bars.push(Bar {
                label: format!("{group} {input} (lazy) vs socketioxide"),
                peer: LAZY_SERIES,
                ratio: r,
            });
        }
    }
    bars
}

fn draw(path: &Path, bars: &[Bar], title: &str) -> Result<(), PlotError> {
    let draw_err = |e: &dyn fmt::Display| PlotError::Draw(e.to_string());
    let n = bars.len();
    let height = u32::try_from(n)
        .unwrap_or(100)
        .saturating_mul(24)
        .saturating_add(140);
    let root = SVGBackend::new(path, (1100, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_err(&e))?;
    let max = bars.iter().map(|b| b.ratio).fold(1.0f64, f64::max);
    let min = bars.iter().map(|b| b.ratio).fold(1.0f64, f64::min);
    let x_range = (min / 1.5).max(0.01)..(max * 1.5);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(330)
        .build_cartesian_2d(x_range.clone().log_scale(), (0..n).into_segmented())
        .map_err(|e| draw_err(&e))?;
    chart
        .configure_mesh()
        .x_desc("time of the peer ÷ time of oxio (log scale; > 1 means oxio is faster)")
        .x_label_formatter(&|x| format!("{x}×"))
        .y_labels(n)
        .y_label_formatter(&|y| match y {
            SegmentValue::CenterOf(j) => n
                .checked_sub(j + 1)
                .and_then(|i| bars.get(i))
                .map(|b| b.label.clone())
                .unwrap_or_default(),
            _ => String::new(),
        })
        .y_label_style(("sans-serif", 13))
        .disable_y_mesh()
        .draw()
        .map_err(|e| draw_err(&e))?;

    let colors: [(&str, RGBColor); 3] = [
        ("socketioxide", BLUE_600),
        ("serde_json", ORANGE_600),
        (LAZY_SERIES, GREEN_600),
    ];
    for (peer, color) in colors {
        // Row 0 is at the bottom: the first bar goes on the top row.
        let rows = || {
            bars.iter()
                .enumerate()
                .map(|(i, b)| (n.saturating_sub(i + 1), b))
                .filter(|(_, b)| b.peer == peer)
        };
        let series = rows().map(|(row, b)| {
            let mut bar = Rectangle::new(
                [
                    (x_range.start, SegmentValue::Exact(row)),
                    (b.ratio, SegmentValue::Exact(row + 1)),
                ],
                color.filled(),
            );
            bar.set_margin(3, 3, 0, 0);
            bar
        });
        chart
            .draw_series(series)
            .map_err(|e| draw_err(&e))?
            .label(format!("vs {peer}"))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
        // The ratio at the end of each bar.
        chart
            .draw_series(rows().map(|(row, b)| {
                Text::new(
                    format!("{:.2}×", b.ratio),
                    (b.ratio * 1.03, SegmentValue::CenterOf(row)),
                    ("sans-serif", 12).into_font(),
                )
            }))
            .map_err(|e| draw_err(&e))?;
    }
    // Parity.
    chart
        .draw_series(LineSeries::new(
            [(1.0, SegmentValue::Exact(0)), (1.0, SegmentValue::Exact(n))],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| draw_err(&e))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| draw_err(&e))?;
    root.present().map_err(|e| draw_err(&e))?;
    Ok(())
}

struct Args {
    svg: Option<PathBuf>,
    md: Option<PathBuf>,
    dirs: Vec<PathBuf>,
}

fn parse_args() -> Result<Args, PlotError> {
    let mut args = Args {
        svg: None,
        md: None,
        dirs: Vec::new(),
    };
    let mut it = std::env::args_os().skip(1);
    while let Some(a) = it.next() {
        match a.to_str() {
            Some("--svg") => {
                args.svg = Some(
                    it.next()
                        .ok_or(PlotError::Usage("--svg needs a file".into()))?
                        .into(),
                )
            }
            Some("--md") => {
                args.md = Some(
                    it.next()
                        .ok_or(PlotError::Usage("--md needs a file".into()))?
                        .into(),
                )
            }
            Some("-h" | "--help") => return Err(PlotError::Usage("help".into())),
            _ => args.dirs.push(a.into()),
        }
    }
    if args.dirs.is_empty() {
        return Err(PlotError::Usage("no criterion directory given".into()));
    }
    Ok(args)
}

fn run() -> Result<(), PlotError> {
    let args = parse_args()?;
    let runs = args
        .dirs
        .iter()
        .map(|d| load(d).map(|r| (d.clone(), r)))
        .collect::<Result<Vec<_>, _>>()?;
    let Some((_, first)) = runs.first() else {
        return Err(PlotError::Usage("no criterion directory given".into()));
    };
    let mut report = markdown(first);
    if runs.len() > 1 {
        report.push_str("\n#### Spread between runs (oxio time, ratio socketioxide ÷ oxio)\n");
        report.push_str(&spread(&runs));
    }
    match &args.md {
        Some(path) => std::fs::write(path, &report).map_err(|e| PlotError::Io(path.clone(), e))?,
        None => print!("{report}"),
    }
    if let Some(svg) = &args.svg {
        draw(
            svg,
            &bars(first),
            "oxio-codec vs socketioxide and serde_json: speed-up (peer time ÷ oxio time)",
        )?;
        eprintln!("wrote {}", svg.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plot_micro: {e}");
            ExitCode::FAILURE
        }
    }
}
