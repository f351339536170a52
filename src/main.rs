//! ainimotion binary: arguments → library → exit code. Each subcommand's
//! work is one file of `commands/`.

mod commands;

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Parser;

use ainimotion::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    ainimotion::media::init(cli.verbose);
    let abort = Arc::new(AtomicBool::new(false));
    commands::signals::install_handler(abort.clone());
    let result = match &cli.command {
        Command::Enhance(args) => commands::enhance::run(args, &cli, abort),
        Command::Info(args) => commands::info::run(args),
        Command::Presets(args) => commands::presets::run(args),
        Command::Compare(args) => commands::compare::run(args),
        Command::Plan(args) => commands::plan::run(args, &cli, &abort),
        Command::Join(args) => commands::join::run(args),
        Command::Slurm(args) => commands::slurm::run(args, &cli, &abort),
        Command::Triplets(args) => commands::triplets::run(args, &cli, &abort),
        Command::Eval(args) => commands::eval::run(args, &cli, &abort),
    };
    commands::exit_code(result)
}
