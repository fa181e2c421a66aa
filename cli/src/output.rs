//! Where things are printed: results on stdout (text or JSON), notes and progress on
//! stderr, nothing but errors with `--quiet`.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dropbox_upload::{Progress, ProgressReporter};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::failure::Failure;

/// How to print.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// JSON on stdout.
    pub json: bool,
    /// Nothing but errors.
    pub quiet: bool,
    /// Stderr is a terminal (progress bars instead of lines).
    pub terminal: bool,
}

impl Output {
    /// From the global flags.
    pub fn new(json: bool, quiet: bool) -> Self {
        Output {
            json,
            quiet,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// A note for a person, on stderr (not with --quiet).
    pub fn note(&self, text: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", text.as_ref());
        }
    }

    /// A line of the result in text mode, on stdout (not with --json or --quiet).
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.json && !self.quiet {
            println!("{}", text.as_ref());
        }
    }

    /// The result in JSON mode, on stdout (also with --quiet: it is the result).
    pub fn json(&self, value: serde_json::Value) {
        if self.json {
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer(&mut out, &value);
            let _ = writeln!(out);
        }
    }

    /// Prints a failure: JSON on stdout with --json, text on stderr always.
    pub fn failure(&self, f: &Failure) {
        if self.json && !f.reported_in_json {
            self.json(serde_json::json!({
                "error": { "kind": f.kind.name(), "exit_code": f.kind.code(), "message": f.message, "hint": f.hint, "request_id": f.request_id }
            }));
        }
        eprintln!("dbx: error: {}", f.message);
        if let Some(h) = &f.hint {
            eprintln!("  hint: {h}");
        }
    }

    /// A progress display for an upload of `files` files.
    pub fn progress(&self, what: &str, files: u64) -> ProgressView {
        ProgressView::new(*self, what, files)
    }
}

/// Bytes as a person reads them.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// A rate in MiB/s.
pub fn rate(n: u64, d: Duration) -> String {
    let s = d.as_secs_f64().max(1e-6);
    format!("{:.1} MiB/s", n as f64 / s / (1 << 20) as f64)
}

/// Progress of one upload: bars on a terminal, a line every few seconds otherwise,
/// nothing with --quiet.
pub struct ProgressView {
    inner: std::sync::Arc<ViewInner>,
}

struct ViewInner {
    bars: Option<(MultiProgress, ProgressBar, Option<ProgressBar>)>,
    plain: Option<Mutex<PlainState>>,
    what: String,
}

struct PlainState {
    started: Instant,
    last: Option<Instant>,
    latest: Option<Progress>,
}

impl ProgressView {
    fn new(out: Output, what: &str, files: u64) -> Self {
        let (bars, plain) = if out.quiet {
            (None, None)
        } else if out.terminal {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
            let files_bar = (files > 1).then(|| {
                let b = multi.add(ProgressBar::new(files));
                b.set_style(
                    ProgressStyle::with_template(
                        "{prefix:>8} [{bar:30.green/white}] {pos}/{len} files",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                b.set_prefix("files");
                b
            });
            let total = multi.add(ProgressBar::new(0));
            total.set_style(
                ProgressStyle::with_template(
                    "{prefix:>8} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            total.set_prefix("bytes");
            total.set_message(what.to_owned());
            (Some((multi, total, files_bar)), None)
        } else {
            (
                None,
                Some(Mutex::new(PlainState {
                    started: Instant::now(),
                    last: None,
                    latest: None,
                })),
            )
        };
        ProgressView {
            inner: std::sync::Arc::new(ViewInner {
                bars,
                plain,
                what: what.to_owned(),
            }),
        }
    }

    /// The reporter to give the upload.
    pub fn reporter(&self) -> ProgressReporter {
        let inner = self.inner.clone();
        ProgressReporter::callback(move |p| inner.update(p))
    }

    /// Ends the display (bars finish and stay on screen; plain output prints a last line).
    pub fn finish(&self) {
        if let Some((_, total, files)) = &self.inner.bars {
            total.finish();
            if let Some(f) = files {
                f.finish();
            }
        }
        if let Some(plain) = &self.inner.plain {
            let s = plain.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(p) = s.latest {
                self.inner.print(&s, p);
            }
        }
    }
}

impl ViewInner {
    fn update(&self, p: Progress) {
        if let Some((_, total, files)) = &self.bars {
            total.set_length(p.bytes_total);
            total.set_position(p.bytes_acked.min(p.bytes_total));
            if let Some(f) = files {
                f.set_position(p.files_done);
            }
        }
        if let Some(plain) = &self.plain {
            let mut s = plain.lock().unwrap_or_else(|e| e.into_inner());
            s.latest = Some(p);
            let now = Instant::now();
            if s.last.is_none_or(|l| now - l >= Duration::from_secs(2)) {
                s.last = Some(now);
                self.print(&s, p);
            }
        }
    }

    fn print(&self, s: &PlainState, p: Progress) {
        let pct = if p.bytes_total == 0 {
            100.0
        } else {
            p.bytes_acked as f64 * 100.0 / p.bytes_total as f64
        };
        eprintln!(
            "progress: {}: {} of {} ({pct:.0}%), {}/{} files, {}",
            self.what,
            bytes(p.bytes_acked),
            bytes(p.bytes_total),
            p.files_done,
            p.files_total,
            rate(p.bytes_acked, s.started.elapsed())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(256 << 20), "256.0 MiB");
    }
}
