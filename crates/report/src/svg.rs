//! Charts as self-contained SVG elements: line charts (optionally log-scaled), horizontal bars, one
//! stacked bar, histograms and heatmaps. No scripts, no external fonts, deterministic bytes (numbers
//! written with fixed precision), so a report is reproducible and opens offline.
//!
//! Architecture invariant: presentation only. Callers hand in numbers already computed by a model;
//! nothing here computes a model figure.

use crate::fmt;
use std::fmt::Write as _;

/// One named line of a line chart.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 760.0;
const H: f64 = 380.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 56.0;
/// Points kept per series after downsampling (min/max per bucket, so peaks survive).
const MAX_POINTS: usize = 1600;
/// Colour-blind-safe palette (Okabe–Ito's eight, then three of Paul Tol's muted scheme), long
/// enough that the step's phases never share a colour.
const PALETTE: [&str; 11] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
    "#882255", "#999933", "#888888",
];

fn esc(s: &str) -> String {
    crate::html::escape(s)
}

fn header(out: &mut String, title: &str, w: f64, h: f64) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w:.0} {h:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" \
         font-family=\"system-ui,sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"{t}\">\
         <title>{t}</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\
         <text x=\"{x:.1}\" y=\"22\" font-size=\"15\" font-weight=\"600\" text-anchor=\"middle\">{t}</text>",
        t = esc(title),
        x = w / 2.0
    );
}

fn empty(title: &str, why: &str) -> String {
    let mut out = String::new();
    header(&mut out, title, W, 120.0);
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"70\" text-anchor=\"middle\" fill=\"#57606a\">{}</text></svg>",
        W / 2.0,
        esc(why)
    );
    out
}

/// A short label for an axis value: three significant figures with an SI prefix.
fn tick_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (0.01..10_000.0).contains(&a) {
        let s = if a >= 100.0 {
            format!("{v:.0}")
        } else if a >= 10.0 {
            format!("{v:.1}")
        } else if a >= 1.0 {
            format!("{v:.2}")
        } else {
            format!("{v:.3}")
        };
        trim(&s)
    } else {
        let s = fmt::si(v, "");
        let mut it = s.split(' ');
        let num = trim(it.next().unwrap_or(""));
        format!("{num}{}", it.next().unwrap_or(""))
    }
}

/// Labels for a linear axis's ticks: one SI prefix for the whole axis and enough decimals that
/// neighbouring ticks never print alike (48.80, 48.85, 48.90 M rather than 48.8, 48.9, 48.9 M).
fn axis_labels(ticks: &[f64]) -> Vec<String> {
    let big = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    let step = ticks
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(f64::INFINITY, f64::min);
    if ticks.len() < 2 || !step.is_finite() || step <= 0.0 {
        return ticks.iter().map(|t| tick_label(*t)).collect();
    }
    let (div, prefix) = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|(d, _)| big >= 10.0 * d)
        .unwrap_or((1.0, ""));
    // as many decimals as the step needs to print exactly (a step of 0.025 needs three: 1.125,
    // not 1.12 beside 1.15)
    let decimals: usize = (0..=6usize)
        .find(|&d| {
            let x = step / div * 10f64.powi(d as i32);
            (x - x.round()).abs() < 1e-6 * x.max(1.0)
        })
        .unwrap_or(6);
    ticks
        .iter()
        .map(|t| {
            let x = if t.abs() < step * 1e-9 { 0.0 } else { t / div };
            format!("{x:.decimals$}{prefix}")
        })
        .collect()
}

/// A log axis's tick (a power of ten): plain between 0.01 and 10,000, else 10 with a superscript
/// exponent ("10⁻⁴", not "100µ", which beside a unit reads as a unit of its own).
fn log_tick_label(v: f64) -> String {
    if (0.01..10_000.0).contains(&v.abs()) {
        return tick_label(v);
    }
    let e = v.abs().log10().round() as i32;
    let sup: String = e
        .to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect();
    format!("{}10{sup}", if v < 0.0 { "−" } else { "" })
}

fn trim(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// "Nice" linear ticks covering [lo, hi].
fn linear_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).abs().max(f64::MIN_POSITIVE);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    let mut t = vec![];
    let mut v = first;
    while v <= hi + step * 1e-9 && t.len() < 20 {
        t.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    t
}

/// Powers of ten covering [lo, hi] (both > 0).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let stride = (((b - a) as f64) / 8.0).ceil().max(1.0) as i32;
    (a..=b)
        .step_by(stride as usize)
        .map(|e| 10f64.powi(e))
        .filter(|v| *v >= lo * 0.999 && *v <= hi * 1.001)
        .collect()
}

/// A mapping from data to pixels on one axis.
#[derive(Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    p0: f64,
    p1: f64,
}

impl Axis {
    fn new(lo: f64, hi: f64, log: bool, p0: f64, p1: f64) -> Axis {
        let (mut lo, mut hi) = (lo, hi);
        if log {
            lo = lo.max(f64::MIN_POSITIVE);
            hi = hi.max(lo * 10.0_f64.powf(0.1));
        } else if hi - lo <= 0.0 {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
            lo -= pad;
            hi += pad;
        }
        Axis {
            lo,
            hi,
            log,
            p0,
            p1,
        }
    }
    fn map(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        self.p0 + t.clamp(-0.05, 1.05) * (self.p1 - self.p0)
    }
    fn ticks(&self) -> Vec<f64> {
        if self.log {
            log_ticks(self.lo, self.hi)
        } else {
            linear_ticks(self.lo, self.hi)
        }
    }
}

/// A long series' envelope: per bucket of consecutive points (`MAX_POINTS / 2` buckets), its first
/// x and its min and max y; `None` when the series is short enough to draw point by point.
fn envelope(points: &[(f64, f64)]) -> Option<Vec<(f64, f64, f64)>> {
    if points.len() <= MAX_POINTS {
        return None;
    }
    let per = points.len().div_ceil(MAX_POINTS / 2);
    Some(
        points
            .chunks(per)
            .map(|c| {
                let lo = c.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
                let hi = c.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
                (c[0].0, lo, hi)
            })
            .collect(),
    )
}

fn axes(out: &mut String, x: &Axis, y: &Axis, x_label: &str, y_label: &str) {
    let (x0, x1, y0, y1) = (x.p0, x.p1, y.p0, y.p1);
    let label = |a: &Axis, t: &[f64]| {
        if a.log {
            t.iter().map(|v| log_tick_label(*v)).collect::<Vec<_>>()
        } else {
            axis_labels(t)
        }
    };
    let yt = y.ticks();
    for (t, l) in yt.iter().copied().zip(label(y, &yt)) {
        let py = y.map(t);
        let _ = write!(
            out,
            "<line x1=\"{x0:.1}\" y1=\"{py:.1}\" x2=\"{x1:.1}\" y2=\"{py:.1}\" stroke=\"#e5e8eb\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#444\">{}</text>",
            x0 - 6.0,
            py + 4.0,
            esc(&l)
        );
    }
    let xt = x.ticks();
    for (t, l) in xt.iter().copied().zip(label(x, &xt)) {
        let px = x.map(t);
        let _ = write!(
            out,
            "<line x1=\"{px:.1}\" y1=\"{y0:.1}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#999\"/>\
             <text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#444\">{}</text>",
            y0 + 5.0,
            y0 + 19.0,
            esc(&l)
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{x0:.1}\" y1=\"{y0:.1}\" x2=\"{x1:.1}\" y2=\"{y0:.1}\" stroke=\"#333\"/>\
         <line x1=\"{x0:.1}\" y1=\"{y0:.1}\" x2=\"{x0:.1}\" y2=\"{y1:.1}\" stroke=\"#333\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        (x0 + x1) / 2.0,
        y0 + 40.0,
        esc(x_label),
        (y0 + y1) / 2.0,
        esc(y_label)
    );
}

/// A line chart of one or more series. Non-finite points are dropped; on a log axis, points ≤ 0 are
/// dropped. A series longer than the chart's pixels is drawn as its min–max envelope with the
/// bucket means as a line (peaks kept); the legend sits under the plot.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_x: bool,
    log_y: bool,
) -> String {
    line_chart_marked(title, x_label, y_label, series, log_x, log_y, &[])
}

/// A reference line across a chart: a limit a rule sets, or where the scenario stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// A horizontal line at this y (else a vertical line at this x).
    pub horizontal: bool,
    pub at: f64,
    pub label: String,
}

/// [`line_chart`] with reference lines (dashed, labelled), the axis widened to show them.
pub fn line_chart_marked(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_x: bool,
    log_y: bool,
    marks: &[Mark],
) -> String {
    let keep = |p: &(f64, f64)| {
        p.0.is_finite() && p.1.is_finite() && (!log_x || p.0 > 0.0) && (!log_y || p.1 > 0.0)
    };
    // a series longer than the chart has pixels for is drawn as its min–max envelope per bucket
    // with the bucket means as a line (a zigzag of every sample would paint a solid block)
    let envelopes: Vec<Option<Vec<(f64, f64, f64)>>> = series
        .iter()
        .map(|s| {
            let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(keep).collect();
            envelope(&pts)
        })
        .collect();
    let clean: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .zip(&envelopes)
        .map(|(s, env)| {
            let pts = match env {
                Some(e) => e
                    .iter()
                    .flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)])
                    .collect(),
                None => s.points.iter().copied().filter(keep).collect(),
            };
            (s.name.clone(), pts)
        })
        .collect();
    let all: Vec<(f64, f64)> = clean.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    if all.is_empty() {
        return empty(title, "no data");
    }
    let (mut xl, mut xh, mut yl, mut yh) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in &all {
        xl = xl.min(x);
        xh = xh.max(x);
        yl = yl.min(y);
        yh = yh.max(y);
    }
    let marks: Vec<&Mark> = marks
        .iter()
        .filter(|m| m.at.is_finite() && (m.at > 0.0 || !(if m.horizontal { log_y } else { log_x })))
        .collect();
    for m in &marks {
        if m.horizontal {
            yl = yl.min(m.at);
            yh = yh.max(m.at);
        } else {
            xl = xl.min(m.at);
            xh = xh.max(m.at);
        }
    }
    if !log_y {
        // Include zero when the data sit close to it, so swings are not exaggerated.
        if yl > 0.0 && yl < 0.5 * yh {
            yl = 0.0;
        }
        let pad = (yh - yl) * 0.05;
        yh += pad;
        if yl != 0.0 {
            yl -= pad;
        }
    }
    let x = Axis::new(xl, xh, log_x, LEFT, W - RIGHT);
    let y = Axis::new(yl, yh, log_y, H - BOTTOM, TOP);
    // the legend goes under the plot, three entries a row, never over the data
    let named = clean.len() > 1 || clean.iter().any(|(n, _)| !n.is_empty());
    let legend_rows = if named { clean.len().div_ceil(3) } else { 0 };
    let mut out = String::new();
    header(&mut out, title, W, H + 18.0 * legend_rows as f64);
    axes(&mut out, &x, &y, x_label, y_label);
    for (i, m) in marks.iter().enumerate() {
        let (x1, y1, x2, y2, tx, ty, anchor) = if m.horizontal {
            let py = y.map(m.at);
            (LEFT, py, W - RIGHT, py, W - RIGHT - 4.0, py - 4.0, "end")
        } else {
            let px = x.map(m.at);
            let ty = TOP + 12.0 + 14.0 * i as f64;
            (px, TOP, px, H - BOTTOM, px + 4.0, ty, "start")
        };
        let _ = write!(
            out,
            "<line class=\"mark\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" \
             stroke=\"#B00020\" stroke-width=\"1.2\" stroke-dasharray=\"6 4\"/>\
             <text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"{anchor}\" fill=\"#B00020\">{}</text>",
            esc(&m.label)
        );
    }
    for (i, (name, pts)) in clean.iter().enumerate() {
        if pts.is_empty() {
            continue;
        }
        let colour = PALETTE[i % PALETTE.len()];
        let line: Vec<(f64, f64)> = match &envelopes[i] {
            Some(env) => {
                out.push_str("<polygon fill-opacity=\"0.3\" stroke=\"none\" fill=\"");
                out.push_str(colour);
                out.push_str("\" points=\"");
                let ring = env
                    .iter()
                    .map(|&(px, _, hi)| (px, hi))
                    .chain(env.iter().rev().map(|&(px, lo, _)| (px, lo)));
                for (j, (px, py)) in ring.enumerate() {
                    if j > 0 {
                        out.push(' ');
                    }
                    let _ = write!(out, "{:.1},{:.1}", x.map(px), y.map(py));
                }
                out.push_str("\"/>");
                env.iter()
                    .map(|&(px, lo, hi)| (px, 0.5 * (lo + hi)))
                    .collect()
            }
            None => pts.clone(),
        };
        out.push_str("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"");
        out.push_str(colour);
        out.push_str("\" points=\"");
        for (j, &(px, py)) in line.iter().enumerate() {
            if j > 0 {
                out.push(' ');
            }
            let _ = write!(out, "{:.1},{:.1}", x.map(px), y.map(py));
        }
        out.push_str("\"/>");
        if named {
            let col = (i % 3) as f64;
            let lx = LEFT + col * (W - LEFT - RIGHT) / 3.0;
            let ly = H + 4.0 + 18.0 * (i / 3) as f64;
            let what = if envelopes[i].is_some() {
                format!("{name} (band: min–max)")
            } else {
                name.clone()
            };
            let _ = write!(
                out,
                "<rect x=\"{lx:.1}\" y=\"{ly:.1}\" width=\"12\" height=\"3\" fill=\"{colour}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#333\">{}</text>",
                lx + 18.0,
                ly + 5.0,
                esc(&what)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars, one per entry, each labelled with its value and unit.
pub fn bar_chart(title: &str, unit: &str, bars: &[(String, f64)]) -> String {
    let bars: Vec<&(String, f64)> = bars.iter().filter(|b| b.1.is_finite()).collect();
    if bars.is_empty() {
        return empty(title, "no data");
    }
    let row = 26.0;
    let h = TOP + 20.0 + row * bars.len() as f64;
    // Room for the longest label at about 6.6 px per character of the 12 px font.
    let longest = bars.iter().map(|b| b.0.chars().count()).max().unwrap_or(0) as f64;
    let label_w = (longest * 6.6 + 16.0).clamp(120.0, 340.0);
    let max = bars
        .iter()
        .map(|b| b.1.abs())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let span = W - label_w - 150.0;
    let mut out = String::new();
    header(&mut out, title, W, h);
    for (i, (name, v)) in bars.iter().map(|b| (&b.0, b.1)).enumerate() {
        let y = TOP + 8.0 + row * i as f64;
        let len = (v.abs() / max * span).max(0.5);
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_w:.1}\" y=\"{y:.1}\" width=\"{len:.1}\" height=\"{:.1}\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#333\">{}</text>",
            label_w - 8.0,
            y + 14.0,
            esc(name),
            row - 8.0,
            PALETTE[i % PALETTE.len()],
            label_w + len + 6.0,
            y + 14.0,
            esc(&value_label(v, unit))
        );
    }
    out.push_str("</svg>");
    out
}

/// A bar's value in its unit; `"%"` values are already percentages (88.9, not 0.889).
fn value_label(v: f64, unit: &str) -> String {
    match unit {
        "%" if v.is_finite() => format!("{v:.1} %"),
        "$" | "USD" => fmt::usd(v),
        "s" => fmt::duration(v),
        "B" | "bytes" => fmt::bytes(v),
        "W" => fmt::power(v),
        u => format!("{} {u}", tick_label(v)).trim().to_string(),
    }
}

/// One horizontal bar split into named parts (e.g. where a step's time goes), with a legend that
/// gives each part's value and share.
pub fn stacked_bar(title: &str, unit: &str, parts: &[(String, f64)]) -> String {
    let parts: Vec<&(String, f64)> = parts
        .iter()
        .filter(|p| p.1.is_finite() && p.1 > 0.0)
        .collect();
    let total: f64 = parts.iter().map(|p| p.1).sum();
    if parts.is_empty() || total <= 0.0 {
        return empty(title, "no data");
    }
    let h = TOP + 60.0 + 18.0 * parts.len().div_ceil(2) as f64 + 10.0;
    let (x0, x1) = (LEFT, W - RIGHT);
    let mut out = String::new();
    header(&mut out, title, W, h);
    let mut x = x0;
    for (i, (_, v)) in parts.iter().map(|p| (&p.0, p.1)).enumerate() {
        let w = v / total * (x1 - x0);
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"28\" fill=\"{}\"/>",
            TOP + 4.0,
            PALETTE[i % PALETTE.len()]
        );
        x += w;
    }
    for (i, (name, v)) in parts.iter().map(|p| (&p.0, p.1)).enumerate() {
        let col = (i % 2) as f64;
        let rowi = (i / 2) as f64;
        let lx = x0 + col * (x1 - x0) / 2.0;
        let ly = TOP + 52.0 + 18.0 * rowi;
        let _ = write!(
            out,
            "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{ly:.1}\">{}: {} ({})</text>",
            ly - 9.0,
            PALETTE[i % PALETTE.len()],
            lx + 15.0,
            esc(name),
            esc(&value_label(v, unit)),
            esc(&fmt::percent(v / total))
        );
    }
    out.push_str("</svg>");
    out
}

/// A histogram of `values` in `bins` equal bins (non-finite values dropped).
pub fn histogram(title: &str, x_label: &str, values: &[f64], bins: usize) -> String {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() || bins == 0 {
        return empty(title, "no data");
    }
    let lo = v.iter().copied().fold(f64::MAX, f64::min);
    let hi = v.iter().copied().fold(f64::MIN, f64::max);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.01 };
        (lo - pad, hi + pad)
    };
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for x in &v {
        let i = (((x - lo) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let cmax = *counts.iter().max().unwrap_or(&1) as f64;
    let x = Axis::new(lo, hi, false, LEFT, W - RIGHT);
    let y = Axis::new(0.0, cmax * 1.08, false, H - BOTTOM, TOP);
    let mut out = String::new();
    header(&mut out, title, W, H);
    axes(&mut out, &x, &y, x_label, "count");
    for (i, c) in counts.iter().enumerate() {
        let a = x.map(lo + width * i as f64);
        let b = x.map(lo + width * (i + 1) as f64);
        let top = y.map(*c as f64);
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"/>",
            a + 0.5,
            (b - a - 1.0).max(0.5),
            (y.p0 - top).max(0.0),
            PALETTE[0]
        );
    }
    out.push_str("</svg>");
    out
}

/// Viridis-like colour ramp for t in [0, 1] (five anchor colours, linear in between).
fn ramp(t: f64) -> String {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let f = t * (STOPS.len() - 1) as f64;
    let i = (f.floor() as usize).min(STOPS.len() - 2);
    let u = f - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * u).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// A heatmap: `z[iy][ix]` at categorical positions `xs` (columns) and `ys` (rows), each cell
/// labelled with its value; a colour bar gives the scale. Non-finite cells are grey.
pub fn heatmap(
    title: &str,
    x_label: &str,
    y_label: &str,
    xs: &[f64],
    ys: &[f64],
    z: &[Vec<f64>],
    z_label: &str,
) -> String {
    if xs.is_empty()
        || ys.is_empty()
        || z.len() != ys.len()
        || z.iter().any(|r| r.len() != xs.len())
    {
        return empty(title, "no data");
    }
    let finite: Vec<f64> = z
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let lo = finite.iter().copied().fold(f64::MAX, f64::min);
    let hi = finite.iter().copied().fold(f64::MIN, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let bar_w = 90.0;
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT - bar_w, H - BOTTOM, TOP);
    let cw = (x1 - x0) / xs.len() as f64;
    let ch = (y0 - y1) / ys.len() as f64;
    let mut out = String::new();
    header(&mut out, title, W, H);
    for (iy, row) in z.iter().enumerate() {
        for (ix, v) in row.iter().enumerate() {
            let cx = x0 + cw * ix as f64;
            let cy = y0 - ch * (iy + 1) as f64;
            let (fill, ink) = if v.is_finite() {
                let t = (v - lo) / span;
                (ramp(t), if t > 0.6 { "#000" } else { "#fff" })
            } else {
                ("#bbbbbb".to_string(), "#000")
            };
            let _ = write!(
                out,
                "<rect x=\"{cx:.1}\" y=\"{cy:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\"/>",
                cw + 0.3,
                ch + 0.3
            );
            if cw >= 34.0 && ch >= 14.0 {
                let _ = write!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{ink}\">{}</text>",
                    cx + cw / 2.0,
                    cy + ch / 2.0 + 3.5,
                    if v.is_finite() { esc(&tick_label(*v)) } else { "–".into() }
                );
            }
        }
    }
    let xstride = xs.len().div_ceil(12).max(1);
    for (ix, v) in xs.iter().enumerate().step_by(xstride) {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#444\">{}</text>",
            x0 + cw * (ix as f64 + 0.5),
            y0 + 16.0,
            esc(&tick_label(*v))
        );
    }
    let ystride = ys.len().div_ceil(12).max(1);
    for (iy, v) in ys.iter().enumerate().step_by(ystride) {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#444\">{}</text>",
            x0 - 6.0,
            y0 - ch * (iy as f64 + 0.5) + 4.0,
            esc(&tick_label(*v))
        );
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        (x0 + x1) / 2.0,
        y0 + 40.0,
        esc(x_label),
        (y0 + y1) / 2.0,
        esc(y_label)
    );
    // Colour bar.
    let bx = x1 + 24.0;
    let steps = 40;
    for k in 0..steps {
        let t = k as f64 / (steps - 1) as f64;
        let by = y0 - (y0 - y1) * (k + 1) as f64 / steps as f64;
        let _ = write!(
            out,
            "<rect x=\"{bx:.1}\" y=\"{by:.1}\" width=\"16\" height=\"{:.1}\" fill=\"{}\"/>",
            (y0 - y1) / steps as f64 + 0.3,
            ramp(t)
        );
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#444\">{}</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#444\">{}</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
        bx + 20.0,
        y1 + 8.0,
        esc(&tick_label(if finite.is_empty() { 0.0 } else { hi })),
        bx + 20.0,
        y0,
        esc(&tick_label(if finite.is_empty() { 0.0 } else { lo })),
        bx + 8.0,
        y1 - 8.0,
        esc(z_label)
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn well_formed(s: &str) {
        assert!(s.starts_with("<svg ") && s.ends_with("</svg>"), "{s}");
        assert!(!s.contains("NaN") && !s.contains("inf"), "{s}");
    }

    #[test]
    fn line_chart_draws_every_series_and_skips_non_finite_points() {
        let s = vec![
            Series {
                name: "raw".into(),
                points: vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0)],
            },
            Series {
                name: "mitigated".into(),
                points: vec![(0.0, 2.0), (2.0, 2.0)],
            },
        ];
        let svg = line_chart("Power", "time (s)", "power (MW)", &s, false, false);
        well_formed(&svg);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(">raw<") && svg.contains(">mitigated<"));
    }

    #[test]
    fn long_series_are_drawn_as_an_envelope_that_keeps_their_peak() {
        let pts: Vec<(f64, f64)> = (0..100_000)
            .map(|i| (i as f64, if i == 77_777 { 9.0 } else { 1.0 }))
            .collect();
        let e = envelope(&pts).expect("long");
        assert!(e.len() <= MAX_POINTS / 2 + 1, "{}", e.len());
        assert!(e.iter().any(|p| p.2 == 9.0));
        let svg = line_chart(
            "Power",
            "t",
            "W",
            &[Series {
                name: "raw".into(),
                points: pts,
            }],
            false,
            false,
        );
        well_formed(&svg);
        // one band and one line of bucket means, the legend under the plot
        assert_eq!(svg.matches("<polygon").count(), 1);
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.contains("raw (band: min–max)"), "{svg}");
        assert!(
            svg.contains(&format!("height=\"{:.0}\"", H + 18.0)),
            "{svg}"
        );
    }

    #[test]
    fn log_ticks_far_from_one_are_powers_of_ten() {
        assert_eq!(log_tick_label(1e-4), "10⁻⁴");
        assert_eq!(log_tick_label(1e6), "10⁶");
        assert_eq!(log_tick_label(0.1), "0.1");
        assert_eq!(log_tick_label(100.0), "100");
    }

    #[test]
    fn eleven_colours_before_one_repeats() {
        let mut p = PALETTE.to_vec();
        p.sort();
        p.dedup();
        assert_eq!(p.len(), 11);
    }

    #[test]
    fn log_axes_drop_non_positive_points() {
        let s = vec![Series {
            name: String::new(),
            points: vec![(0.0, 1.0), (1.0, 10.0), (10.0, 0.0)],
        }];
        let svg = line_chart("Spectrum", "f (Hz)", "W²", &s, true, true);
        well_formed(&svg);
        assert!(svg.contains("<polyline"));
    }

    #[test]
    fn empty_inputs_give_a_message_not_a_panic() {
        well_formed(&line_chart("t", "x", "y", &[], false, false));
        well_formed(&bar_chart("t", "s", &[]));
        well_formed(&stacked_bar("t", "s", &[("a".into(), 0.0)]));
        well_formed(&histogram("t", "x", &[f64::NAN], 10));
        well_formed(&heatmap(
            "t",
            "x",
            "y",
            &[1.0],
            &[1.0, 2.0],
            &[vec![1.0]],
            "z",
        ));
    }

    #[test]
    fn bars_histograms_and_heatmaps_are_well_formed() {
        let b = bar_chart(
            "Capex",
            "$",
            &[("servers".into(), 4.0e9), ("network".into(), 5.0e8)],
        );
        well_formed(&b);
        assert_eq!(b.matches("<rect").count(), 3); // background + 2 bars
        let sb = stacked_bar(
            "Step",
            "s",
            &[("forward".into(), 1.0), ("backward".into(), 2.0)],
        );
        well_formed(&sb);
        assert!(sb.contains("33.3"), "{sb}");
        let h = histogram("ETTR", "ETTR", &[0.9, 0.91, 0.92, 0.92, 0.95], 5);
        well_formed(&h);
        let hm = heatmap(
            "Loss",
            "distance (km)",
            "capacity (Tbps)",
            &[100.0, 1000.0],
            &[1.0, 10.0],
            &[vec![0.1, 0.5], vec![0.01, f64::NAN]],
            "loss",
        );
        well_formed(&hm);
        assert!(hm.contains("#bbbbbb"));
    }

    #[test]
    fn percent_bars_print_the_percentage_they_are_given() {
        // the multi-site chart's bars are percentages already: 88.94 is "88.9 %", not "8894.1 %"
        let b = bar_chart(
            "Efficiency",
            "%",
            &[("dp".into(), 88.94), ("diloco".into(), 52.0)],
        );
        assert!(b.contains(">88.9 %<"), "{b}");
        assert!(b.contains(">52.0 %<"), "{b}");
        assert!(!b.contains("8894"), "{b}");
    }

    #[test]
    fn neighbouring_axis_ticks_never_print_alike() {
        let t = linear_ticks(48.78e6, 48.97e6);
        let l = axis_labels(&t);
        for w in l.windows(2) {
            assert_ne!(w[0], w[1], "{l:?}");
        }
        assert!(l.iter().all(|x| x.ends_with('M')), "{l:?}");
        assert_eq!(axis_labels(&[0.0, 20.0, 40.0]), vec!["0", "20", "40"]);
        assert_eq!(axis_labels(&[0.0, 0.5, 1.0]), vec!["0.0", "0.5", "1.0"]);
        // the PUE chart's ticks every 0.025: 1.125, not "1.12" beside "1.15"
        assert_eq!(
            axis_labels(&[1.1, 1.125, 1.15]),
            vec!["1.100", "1.125", "1.150"]
        );
    }

    #[test]
    fn output_is_deterministic() {
        let s = vec![Series {
            name: "a".into(),
            points: (0..50).map(|i| (i as f64, (i as f64).sin())).collect(),
        }];
        assert_eq!(
            line_chart("a", "x", "y", &s, false, false),
            line_chart("a", "x", "y", &s, false, false)
        );
    }
}
