//! `presets`: list the built-in presets, or show one resolved.

use ainimotion::cli::PresetsArgs;
use ainimotion::config::{resolve, DEFAULT_PRESET, PRESETS};

use super::out;

pub fn run(args: &PresetsArgs) -> anyhow::Result<()> {
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
