//! `eval`: the models scored on triplets of your own clips.

use std::sync::atomic::AtomicBool;

use anyhow::Context;

use ainimotion::cli::{Cli, EvalArgs};
use ainimotion::lab::eval::{check_png, eval, render_table, write_sheet, EvalOptions, EvalReport};

use super::{out, progress_for};

pub fn run(args: &EvalArgs, cli: &Cli, abort: &AtomicBool) -> anyhow::Result<()> {
    let config =
        ainimotion::config::resolve(&args.preset, args.config.as_deref(), &toml::Table::new())?;
    for p in args.sheet.iter().chain(&args.chart) {
        check_png(p)?;
    }
    let temp = std::env::temp_dir().join(format!("ainimotion-eval-{}", std::process::id()));
    let work = args.work.clone().unwrap_or_else(|| temp.clone());
    let opts = EvalOptions {
        triplets: args.cut.triplet_options(args.inputs.clone(), work),
        interpolators: args.interpolators.clone(),
        upscalers: args.upscalers.clone(),
        max_triplets: args.max_triplets,
        sheet_rows: if args.sheet.is_some() {
            args.sheet_rows
        } else {
            0
        },
        at_output_size: args.at_output_size.clone(),
        models: args.model.options(),
    };
    let mut progress = progress_for(cli);
    let result = eval(&opts, &config, progress.as_mut(), abort);
    if args.work.is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    let (report, rows) = result?;
    out(&render_table(&report))?;
    if let Some(p) = &args.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(p, json + "\n").with_context(|| format!("cannot write {}", p.display()))?;
    }
    if let Some(p) = &args.chart {
        ainimotion::lab::chart::write_chart(p, &report)?;
        out(&format!("wrote {}\n", p.display()))?;
    }
    if let Some(p) = &args.sheet {
        write_sheet(p, &rows)?;
        out(&format!(
            "wrote {} (rows: {}; columns: truth, {})\n",
            p.display(),
            report.worst.join(", "),
            sheet_columns(&report)
        ))?;
    }
    Ok(())
}

/// The sheet's columns after the truth.
fn sheet_columns(report: &EvalReport) -> String {
    if report.at_output_size.is_empty() {
        report
            .interpolation
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        format!(
            "upscale, warp ({}; worst by warp)",
            report.at_output_size_of
        )
    }
}
