//! One file per subcommand: its parsed arguments → one library call →
//! what it prints. Shared here: the progress bar, stdout, reports, and the
//! exit code of a finished command.

pub mod compare;
pub mod enhance;
pub mod eval;
pub mod info;
pub mod join;
pub mod plan;
pub mod presets;
pub mod signals;
pub mod slurm;
pub mod triplets;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use ainimotion::cli::Cli;
use ainimotion::progress::{BarProgress, NoProgress, Progress};
use ainimotion::Error;

/// The exit code of a command's result; an error is printed first
/// (`{:#}`: with its context) unless it already said what went wrong.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `ainimotion info x | head`: a closed pipe is not an error.
        Err(err)
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        // A folder run: its table already says which files failed.
        Err(err) if err.is::<ainimotion::batch::FolderFailed>() => {
            let code = err
                .downcast_ref::<ainimotion::batch::FolderFailed>()
                .map_or(1, |f| f.exit_code);
            ExitCode::from(code as u8)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            let code = match err.chain().find_map(|e| e.downcast_ref::<Error>()) {
                // 128 + the signal, as a shell reports a process it killed.
                Some(e) if e.is_interrupted() => match signals::first_signal() {
                    0 => e.exit_code(),
                    signo => 128 + signo,
                },
                Some(e) => e.exit_code(),
                None => 1,
            };
            ExitCode::from(code as u8)
        }
    }
}

/// A progress bar, or nothing but warnings with `--quiet`.
pub fn progress_for(cli: &Cli) -> Box<dyn Progress> {
    if cli.quiet {
        Box::new(NoProgress)
    } else {
        Box::new(BarProgress::new())
    }
}

/// Write to stdout without panicking on a closed pipe.
pub fn out(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// `--report FILE`: the figures as pretty JSON.
pub fn write_report(path: &Path, report: &impl serde::Serialize) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(report)?;
    std::fs::write(path, json + "\n")
        .with_context(|| format!("cannot write report {}", path.display()))
}
