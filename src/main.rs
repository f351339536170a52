//! ainimotion binary: arguments → library → exit code.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use ainimotion::cli::{Cli, Command, EncodeArgs, EnhanceArgs, InfoArgs};
use ainimotion::media::encode::{Codec, EncodeSettings};
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
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

fn encode_settings(args: &EncodeArgs) -> anyhow::Result<EncodeSettings> {
    let codec = args.codec.unwrap_or(Codec::X264);
    let crf = args.crf.unwrap_or(match codec {
        Codec::X264 => 16.0,
        Codec::X265 => 18.0,
        Codec::Av1 => 24.0,
        Codec::H264Nvenc | Codec::HevcNvenc => 19.0,
    });
    if !(0.0..=codec.max_crf()).contains(&crf) || !crf.is_finite() {
        return Err(Error::Config(format!(
            "--crf {crf} is out of range for {} (expected 0 to {})",
            codec.encoder_name(),
            codec.max_crf()
        ))
        .into());
    }
    let preset = args
        .encoder_preset
        .clone()
        .unwrap_or_else(|| codec.default_preset().to_string());
    Ok(EncodeSettings { codec, crf, preset })
}

fn run_enhance(args: &EnhanceArgs, cli: &Cli, abort: Arc<AtomicBool>) -> anyhow::Result<()> {
    let opts = ainimotion::EnhanceOptions {
        input: args.input.clone(),
        output: args.out.clone(),
        overwrite: args.overwrite,
        clip: args.clip,
        encode: encode_settings(&args.encode)?,
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
        eprintln!(
            "done: {} frames in, {} frames out, {:.1} s ({:.1} fps), {} ({:.1} MB, {} stream(s) copied)",
            report.frames_in,
            report.frames_out,
            report.wall_s,
            report.output_fps,
            report.output.path.display(),
            report.output.bytes as f64 / 1e6,
            report.output.copied_streams
        );
        let stages: Vec<String> = report
            .stages
            .iter()
            .map(|(k, v)| format!("{k} {:.1} s", v.busy_s))
            .collect();
        eprintln!("busy: {}", stages.join(", "));
    }
    Ok(())
}

fn run_info(args: &InfoArgs) -> anyhow::Result<()> {
    let info = ainimotion::probe(&args.input, args.count)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        print!("{}", ainimotion::media::probe::render_text(&info));
    }
    Ok(())
}
