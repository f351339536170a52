//! `triplets`: training triplets cut from videos, in the Vimeo-90K layout.

use std::sync::atomic::AtomicBool;

use ainimotion::cli::{Cli, TripletsArgs};
use ainimotion::lab::TripletSummary;

use super::{out, progress_for};

pub fn run(args: &TripletsArgs, cli: &Cli, abort: &AtomicBool) -> anyhow::Result<()> {
    let config =
        ainimotion::config::resolve(&args.preset, args.config.as_deref(), &toml::Table::new())?;
    let mut progress = progress_for(cli);
    let s = ainimotion::lab::triplets(&args.options(), &config, progress.as_mut(), abort)?;
    if !cli.quiet {
        print_sources(&s);
    }
    let read = if s.frames == 0 {
        "every input was done already".to_string()
    } else {
        format!(
            "{} frames in {:.1} s ({:.1} frames/s)",
            s.frames,
            s.wall_s,
            s.fps()
        )
    };
    out(&format!(
        "{} triplets written, {} there already; {} in tri_trainlist.txt, {} in tri_testlist.txt ({}); {read}\n",
        s.written,
        s.existing,
        s.train,
        s.test,
        args.out.display(),
    ))?;
    Ok(())
}

/// One line (stderr) for each input read this time.
fn print_sources(s: &TripletSummary) {
    for src in s.sources.iter().filter(|src| !src.already_done) {
        eprintln!(
            "{}: {} frames, {} shots, {} drawings, {} triplets found: {} too static, {} too fast, {} thinned, {} kept ({} written, {} there already)",
            src.path.display(),
            src.frames,
            src.shots,
            src.drawings,
            src.found,
            src.too_static,
            src.too_fast,
            src.thinned,
            src.kept,
            src.written,
            src.existing
        );
    }
}
