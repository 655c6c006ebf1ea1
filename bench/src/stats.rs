//! Samples, medians and the one table everything is printed in.

use std::time::{Duration, Instant};

/// One line of the table.
pub(crate) struct Row {
    pub(crate) case: String,
    /// Timed samples (or, for a wall-time row, updates).
    pub(crate) samples: usize,
    /// The median time per update.
    pub(crate) median: Duration,
    /// The 90th percentile per update; `None` where only a total was measured.
    pub(crate) p90: Option<Duration>,
    /// Peak resident memory of one update in a fresh process, and that less the same
    /// process doing nothing, in KiB.
    pub(crate) rss: Option<(u64, u64)>,
}

impl Row {
    /// A row from per-update samples.
    pub(crate) fn from_samples(case: impl Into<String>, mut samples: Vec<Duration>) -> Row {
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Row { case: case.into(), samples: samples.len(), median: at(0.5), p90: Some(at(0.9)), rss: None }
    }

    /// A row from the wall time of `updates` updates made together (contention).
    pub(crate) fn from_total(case: impl Into<String>, updates: usize, wall: Duration) -> Row {
        Row { case: case.into(), samples: updates, median: wall / updates as u32, p90: None, rss: None }
    }
}

/// Times `f` `samples` times after `warm_up` untimed calls.
pub(crate) fn sample<E>(
    warm_up: usize,
    samples: usize,
    mut f: impl FnMut() -> Result<(), E>,
) -> Result<Vec<Duration>, E> {
    for _ in 0..warm_up {
        f()?;
    }
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    Ok(times)
}

/// Times each of `cases` `samples` times after `warm_up` untimed rounds, taking turns (one
/// call of each per round), so that a slow spell of the disk falls on every case alike and
/// their ratios stay fair. Returns each case's times, in the order of `cases`.
pub(crate) fn sample_in_turn<E>(
    warm_up: usize,
    samples: usize,
    cases: &mut [&mut dyn FnMut() -> Result<(), E>],
) -> Result<Vec<Vec<Duration>>, E> {
    for _ in 0..warm_up {
        for case in cases.iter_mut() {
            case()?;
        }
    }
    let mut times = vec![Vec::with_capacity(samples); cases.len()];
    for _ in 0..samples {
        for (case, times) in cases.iter_mut().zip(&mut times) {
            let start = Instant::now();
            case()?;
            times.push(start.elapsed());
        }
    }
    Ok(times)
}

enum Line {
    Section(String),
    Row(Row),
    /// A line of text in place of rows that were not measured, saying why.
    Note(String),
}

/// Rows under section headings, with each row's ratio to the floor.
#[derive(Default)]
pub(crate) struct Table {
    lines: Vec<Line>,
    floor: Option<Duration>,
}

impl Table {
    pub(crate) fn section(&mut self, title: &str) {
        self.lines.push(Line::Section(title.to_owned()));
    }

    /// A line of text where rows would be: why a section was not measured.
    pub(crate) fn note(&mut self, text: &str) {
        self.lines.push(Line::Note(text.to_owned()));
    }

    pub(crate) fn set_floor(&mut self, row: &Row) {
        self.floor = Some(row.median);
    }

    pub(crate) fn push(&mut self, row: Row) {
        self.lines.push(Line::Row(row));
    }

    pub(crate) fn render(&self) -> String {
        let width = self.lines.iter().filter_map(|l| if let Line::Row(r) = l { Some(r.case.len()) } else { None });
        let width = width.max().unwrap_or(4).max(4);
        let mut out = format!(
            "| {:<width$} | {:>7} | {:>10} | {:>10} | {:>9} | {:>8} | {:>10} | {:>12} |\n",
            "case", "n", "median", "p90", "updates/s", "x floor", "peak RSS", "RSS - no-op"
        );
        out += &format!(
            "|{:-<w$}|{:->9}|{:->12}|{:->12}|{:->11}|{:->10}|{:->12}|{:->14}|\n",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            w = width + 2
        );
        for line in &self.lines {
            match line {
                Line::Section(title) => out += &format!("| **{title}** |{}\n", " |".repeat(7)),
                Line::Note(text) => out += &format!("| {text} |{}\n", " |".repeat(7)),
                Line::Row(r) => {
                    let ratio = self
                        .floor
                        .map_or_else(String::new, |f| format!("{:.2}", r.median.as_secs_f64() / f.as_secs_f64()));
                    let (rss, delta) = r.rss.map_or_else(|| (String::new(), String::new()), |(p, d)| (kib(p), kib(d)));
                    out += &format!(
                        "| {:<width$} | {:>7} | {:>10} | {:>10} | {:>9.0} | {:>8} | {:>10} | {:>12} |\n",
                        r.case,
                        r.samples,
                        time(r.median),
                        r.p90.map_or_else(|| "-".to_owned(), time),
                        1.0 / r.median.as_secs_f64(),
                        ratio,
                        rss,
                        delta,
                    );
                }
            }
        }
        out
    }
}

fn time(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 { format!("{us:.0} µs") } else { format!("{:.2} ms", us / 1000.0) }
}

fn kib(k: u64) -> String {
    if k < 10 * 1024 { format!("{k} KiB") } else { format!("{:.1} MiB", k as f64 / 1024.0) }
}
