//! Progress reporting: the library reports to `&mut dyn Progress`; the CLI
//! draws it with indicatif on stderr; `--quiet` gets [`NoProgress`].

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub trait Progress {
    /// Work begins; `total` frames if known.
    fn start(&mut self, total: Option<u64>, unit: &str);
    /// `done` frames so far, and a one-line status of the stages.
    fn update(&mut self, done: u64, status: &str);
    /// A warning the user should see (printed even when the bar is drawn).
    fn warn(&mut self, message: &str);
    /// An informational line (device choice, etc.).
    fn info(&mut self, message: &str);
    fn finish(&mut self);
}

/// Prints nothing but warnings (for `--quiet`).
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _: Option<u64>, _: &str) {}
    fn update(&mut self, _: u64, _: &str) {}
    fn warn(&mut self, message: &str) {
        eprintln!("warning: {message}");
    }
    fn info(&mut self, _: &str) {}
    fn finish(&mut self) {}
}

/// An indicatif bar on stderr: frames done/total, fps, ETA, stage status.
pub struct BarProgress {
    bar: Option<ProgressBar>,
}

impl BarProgress {
    pub fn new() -> BarProgress {
        BarProgress { bar: None }
    }
}

impl Default for BarProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for BarProgress {
    fn start(&mut self, total: Option<u64>, unit: &str) {
        let bar = match total {
            Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        let template = if total.is_some() {
            format!("{{bar:30}} {{pos}}/{{len}} {unit} {{per_sec}} ETA {{eta}} {{msg}}")
        } else {
            format!("{{spinner}} {{pos}} {unit} {{per_sec}} {{msg}}")
        };
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        self.bar = Some(bar);
    }

    fn update(&mut self, done: u64, status: &str) {
        if let Some(b) = &self.bar {
            if let Some(len) = b.length() {
                if done > len {
                    b.set_length(done);
                }
            }
            b.set_position(done);
            b.set_message(status.to_string());
        }
    }

    fn warn(&mut self, message: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("warning: {message}")),
            None => eprintln!("warning: {message}"),
        }
    }

    fn info(&mut self, message: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{message}")),
            None => eprintln!("{message}"),
        }
    }

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
