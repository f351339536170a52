//! Command-line interface (clap derive). Doc comments become `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::clip::ClipRange;
use crate::media::encode::Codec;

#[derive(Debug, Parser)]
#[command(
    name = "ainimotion",
    version,
    about = "Make anime video smoother and sharper without the artefacts generic tools leave",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// More log output (-v: warnings from FFmpeg, -vv: debug)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// No progress bar or summary; warnings and errors only
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Enhance a video: interpolate and upscale it, copying every other stream
    Enhance(EnhanceArgs),
    /// Show what is in a media file
    Info(InfoArgs),
}

#[derive(Debug, Args)]
pub struct EnhanceArgs {
    /// Input video file
    pub input: PathBuf,

    /// Output file (.mkv keeps every stream; .mp4/.mov/.webm drop what they cannot carry)
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,

    /// Overwrite the output if it exists
    #[arg(short = 'y', long = "overwrite")]
    pub overwrite: bool,

    /// Process only this range: START-END as seconds or HH:MM:SS(.ms), e.g. 00:10:00-00:10:20, 600-+20
    #[arg(long, value_name = "START-END")]
    pub clip: Option<ClipRange>,

    /// Write the end-of-run figures as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub encode: EncodeArgs,
}

/// Output encoding.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Encoding")]
pub struct EncodeArgs {
    /// Video encoder [default: x264]
    #[arg(long, value_enum)]
    pub codec: Option<Codec>,

    /// Constant quality (lower is better and bigger) [default: 16 for x264, 18 for x265, 24 for av1]
    #[arg(long, value_name = "N")]
    pub crf: Option<f32>,

    /// Encoder speed preset (x264/x265: ultrafast…veryslow; av1: 0-13; nvenc: p1-p7) [default: medium, 8 for av1]
    #[arg(long, value_name = "NAME")]
    pub encoder_preset: Option<String>,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Media file to describe
    pub input: PathBuf,

    /// Print JSON with stable keys instead of text
    #[arg(long)]
    pub json: bool,

    /// Count frames by decoding the whole video (exact, slower)
    #[arg(long)]
    pub count: bool,
}
