//! ainimotion binary: arguments → library → exit code.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use ainimotion::cli::{Cli, Command, EnhanceArgs, InfoArgs, PresetsArgs};
use ainimotion::progress::{BarProgress, NoProgress, Progress};
use ainimotion::Error;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ainimotion::media::init(cli.verbose);
    let abort = Arc::new(AtomicBool::new(false));
    install_signal_handler(abort.clone());
    let result = match &cli.command {
        Command::Enhance(args) => run_enhance(args, &cli, abort),
        Command::Info(args) => run_info(args),
        Command::Presets(args) => run_presets(args),
    };
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
        Err(err) => {
            eprintln!("error: {err:#}");
            let code = err
                .chain()
                .find_map(|e| e.downcast_ref::<Error>())
                .map(Error::exit_code)
                .unwrap_or(1);
            ExitCode::from(code as u8)
        }
    }
}

/// First Ctrl-C / SIGTERM: stop cleanly (no output under the target name).
/// Second: remove temporary outputs and exit at once.
fn install_signal_handler(abort: Arc<AtomicBool>) {
    static PRESSES: AtomicU8 = AtomicU8::new(0);
    let _ = ctrlc::set_handler(move || {
        if PRESSES.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!("\ninterrupted: stopping (press Ctrl-C again to quit at once)");
            abort.store(true, Ordering::SeqCst);
        } else {
            ainimotion::media::mux::remove_partial_outputs();
            std::process::exit(130);
        }
    });
}

fn run_enhance(args: &EnhanceArgs, cli: &Cli, abort: Arc<AtomicBool>) -> anyhow::Result<()> {
    let config = ainimotion::config::resolve(&args.preset, args.config.as_deref(), &args.settings)?;
    let opts = ainimotion::EnhanceOptions {
        input: args.input.clone(),
        output: args.out.clone(),
        overwrite: args.overwrite,
        clip: args.clip,
        config,
        models: args.model.options(),
        no_gate: args.no_gate,
    };
    let mut bar = BarProgress::new();
    let mut quiet = NoProgress;
    let progress: &mut dyn Progress = if cli.quiet { &mut quiet } else { &mut bar };
    let report = ainimotion::enhance(&opts, progress, abort)?;
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write report {}", path.display()))?;
    }
    if !cli.quiet {
        eprint!("{}", ainimotion::stage::runner::render_summary(&report));
    }
    Ok(())
}

fn run_info(args: &InfoArgs) -> anyhow::Result<()> {
    if args.models {
        let info = ainimotion::stage::models::models_info(&args.model.options())?;
        if args.json {
            out(&format!("{}\n", serde_json::to_string_pretty(&info)?))?;
        } else {
            out(&ainimotion::stage::models::render_models(&info))?;
        }
        if args.input.is_none() {
            return Ok(());
        }
    }
    let Some(input) = &args.input else {
        return Ok(());
    };
    let info = ainimotion::probe(input, args.count)?;
    let gate = if args.gate {
        let config = ainimotion::config::resolve(
            ainimotion::config::DEFAULT_PRESET,
            args.config.as_deref(),
            &toml::Table::new(),
        )?;
        Some(ainimotion::analyze(input, args.clip, &config)?)
    } else {
        None
    };
    if args.json {
        let mut v = serde_json::to_value(&info)?;
        if let (Some(g), Some(obj)) = (&gate, v.as_object_mut()) {
            obj.insert("gate".into(), serde_json::to_value(g)?);
        }
        out(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
    } else {
        out(&ainimotion::media::probe::render_text(&info))?;
        if let Some(g) = &gate {
            out(&ainimotion::gate::render_summary(g))?;
        }
    }
    Ok(())
}

fn run_presets(args: &PresetsArgs) -> anyhow::Result<()> {
    use ainimotion::config::{resolve, DEFAULT_PRESET, PRESETS};
    match &args.show {
        Some(name) => {
            let cfg = resolve(name, args.config.as_deref(), &toml::Table::new())?;
            let with = args
                .config
                .as_ref()
                .map(|c| format!(" with {}", c.display()))
                .unwrap_or_default();
            out(&format!(
                "# preset '{name}'{with}, resolved\n{}",
                toml::to_string_pretty(&cfg)?
            ))?;
        }
        None => {
            for (name, _) in PRESETS {
                let cfg = resolve(name, None, &toml::Table::new())?;
                let mark = if *name == DEFAULT_PRESET {
                    " (default)"
                } else {
                    ""
                };
                out(&format!("{name:<18}{}{mark}\n", cfg.description))?;
            }
        }
    }
    Ok(())
}

/// Write to stdout without panicking on a closed pipe.
fn out(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}
