//! `info`: what is in a media file (and with `--gate`, how it gates); the
//! models of the manifest with `--models`.

use std::path::Path;

use ainimotion::cli::InfoArgs;
use ainimotion::gate::GateSummary;

use super::out;

pub fn run(args: &InfoArgs) -> anyhow::Result<()> {
    if args.models {
        show_models(args)?;
    }
    let Some(input) = &args.input else {
        return Ok(());
    };
    let info = ainimotion::probe(input, args.count)?;
    if let Some(sheet) = &args.sheet {
        ainimotion::lab::cut_sheet::check_path(sheet)?;
    }
    let gate = if args.gate {
        Some(analyze(args, input)?)
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

/// `--models`: the manifest's models, as text or JSON.
fn show_models(args: &InfoArgs) -> anyhow::Result<()> {
    let info = ainimotion::model::models_info(&args.model.options())?;
    if args.json {
        out(&format!("{}\n", serde_json::to_string_pretty(&info)?))?;
    } else {
        out(&ainimotion::model::render_models(&info))?;
    }
    Ok(())
}

/// `--gate`: every transition classified (and `--sheet` drawn).
fn analyze(args: &InfoArgs, input: &Path) -> anyhow::Result<GateSummary> {
    let mut config = ainimotion::config::resolve(
        ainimotion::config::DEFAULT_PRESET,
        args.config.as_deref(),
        &toml::Table::new(),
    )?;
    if let Some(f) = args.fields {
        config.decode.fields = f;
    }
    let summary = ainimotion::analyze(input, args.clip, &config)?;
    if let Some(sheet) = &args.sheet {
        let n = ainimotion::lab::cut_sheet::write(
            sheet,
            input,
            args.clip,
            config.decode.fields,
            &summary,
        )?;
        eprintln!("sheet: {} break(s) in {}", n, sheet.display());
    }
    Ok(summary)
}
