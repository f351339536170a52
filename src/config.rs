//! Settings: built-in preset → `--config` file → command-line flags.
//!
//! Each layer is a TOML table. Every layer is first checked on its own
//! against the schema (unknown keys and wrong types are reported with the
//! layer's name: the preset file, the config file, or "command line"); the
//! tables are then merged key by key (later layers win, whatever the order
//! of the flags) and the result is validated once.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::media::encode::Codec;

/// Built-in presets: (name, TOML source). The files live in `presets/`.
pub const PRESETS: &[(&str, &str)] = &[
    ("anime-clean", include_str!("../presets/anime-clean.toml")),
    ("anime-strong", include_str!("../presets/anime-strong.toml")),
    ("fast", include_str!("../presets/fast.toml")),
    (
        "interpolate-only",
        include_str!("../presets/interpolate-only.toml"),
    ),
    ("upscale-only", include_str!("../presets/upscale-only.toml")),
    ("reencode", include_str!("../presets/reencode.toml")),
];

pub const DEFAULT_PRESET: &str = "anime-clean";

use crate::gate::GateParams;
use crate::interp::FpsTarget;
pub use crate::interp::{CadenceMode, FlowMode};

/// The whole resolved configuration. Field names are the TOML keys.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// One line shown by `ainimotion presets`.
    pub description: String,
    pub interpolate: InterpolateConfig,
    pub upscale: UpscaleConfig,
    pub encode: EncodeConfig,
    /// Gate thresholds (see `ainimotion presets --show NAME` for the keys).
    pub gate: GateParams,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InterpolateConfig {
    /// Output frame rate: "none", a multiple ("2x"), or a rate ("48", "59.94", "60000/1001").
    pub fps: String,
    pub cadence: CadenceMode,
    /// Smooth mode: repeats shorter than this (seconds) are cadence, longer ones are holds.
    pub max_cadence_hold_s: f64,
    /// Interpolation model name from models/models.toml.
    pub model: String,
    /// `auto`: frames above 2560x1440 run the model's reduced-flow variant;
    /// `full`: always the model as named.
    pub flow: FlowMode,
    /// Replace implausible in-betweens with the nearer input frame.
    pub guard: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpscaleConfig {
    /// Output size factor (1 = no upscaling). Ignored when height or width is set.
    pub scale: f64,
    /// Output height in pixels (0 = use scale); the width follows the aspect ratio.
    pub height: u32,
    /// Output width in pixels (0 = use scale/height); the height follows.
    pub width: u32,
    /// Super-resolution model name from models/models.toml.
    pub model: String,
    /// Tile size in input pixels (0 = automatic).
    pub tile: u32,
    /// Reuse the result of a repeated picture instead of running the model again.
    pub reuse: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncodeConfig {
    pub codec: Codec,
    /// Constant quality on the encoder's own scale (x264: 0 is lossless);
    /// absent = the default for the codec (16 x264, 18 x265, 24 av1, 19 NVENC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crf: Option<f32>,
    /// Mathematically lossless output (x264 qp 0, x265 lossless, FFV1);
    /// `crf` is then ignored.
    pub lossless: bool,
    /// Encoder speed preset ("" = default for the codec).
    pub preset: String,
}

impl Default for InterpolateConfig {
    fn default() -> Self {
        InterpolateConfig {
            fps: "none".into(),
            cadence: CadenceMode::Preserve,
            max_cadence_hold_s: 0.25,
            model: "rife-4.26".into(),
            flow: FlowMode::Auto,
            guard: true,
        }
    }
}

impl Default for UpscaleConfig {
    fn default() -> Self {
        UpscaleConfig {
            scale: 1.0,
            height: 0,
            width: 0,
            model: "animevideov3".into(),
            tile: 0,
            reuse: true,
        }
    }
}

impl Default for EncodeConfig {
    fn default() -> Self {
        EncodeConfig {
            codec: Codec::X264,
            crf: None,
            lossless: false,
            preset: String::new(),
        }
    }
}

impl EncodeConfig {
    /// The CRF passed to the encoder: the one given, else the codec's
    /// default (none for lossless output or a lossless-only codec).
    pub fn effective_crf(&self) -> Option<f32> {
        if self.lossless {
            None
        } else {
            self.crf.or(self.codec.default_crf())
        }
    }
    pub fn effective_preset(&self) -> String {
        if self.preset.is_empty() {
            self.codec.default_preset().to_string()
        } else {
            self.preset.clone()
        }
    }
}

/// Parsed `fps` setting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FpsSetting {
    /// Keep the input's frame timing (no interpolation).
    None,
    Target(FpsTarget),
}

/// Parse "none", a multiple ("2x") or a rate ("48", "59.94", "60000/1001").
pub fn parse_fps(text: &str) -> std::result::Result<FpsSetting, String> {
    let t = text.trim().to_ascii_lowercase();
    if t == "none" || t == "off" || t.is_empty() || t == "1x" {
        return Ok(FpsSetting::None);
    }
    let target: FpsTarget = t.parse()?;
    match target {
        FpsTarget::Multiple(k) if !(2..=8).contains(&k) => Err(format!(
            "'{text}': the multiple must be a whole number from 2 to 8"
        )),
        FpsTarget::Multiple(_) => Ok(FpsSetting::Target(target)),
        FpsTarget::Rate { .. } => {
            crate::interp::resolve_rate(target, (1, 1))?;
            Ok(FpsSetting::Target(target))
        }
    }
}

impl Config {
    /// Semantic checks; `layer` names where the values came from.
    pub fn validate(&self, layer: &str) -> Result<()> {
        let bad = |key: &str, msg: String| Error::Config(format!("{layer}: {key} {msg}"));
        parse_fps(&self.interpolate.fps).map_err(|e| bad("interpolate.fps", e))?;
        self.gate
            .validate()
            .map_err(|e| Error::Config(format!("{layer}: {e}")))?;
        let h = self.interpolate.max_cadence_hold_s;
        if !(h.is_finite() && (0.0..=5.0).contains(&h)) {
            return Err(bad(
                "interpolate.max_cadence_hold_s",
                format!("= {h} is out of range (expected 0 to 5 seconds)"),
            ));
        }
        let s = self.upscale.scale;
        if !(s.is_finite() && s > 0.0 && s <= 8.0) {
            return Err(bad(
                "upscale.scale",
                format!("= {s} is out of range (expected more than 0, at most 8)"),
            ));
        }
        if self.upscale.height > 16384 || self.upscale.width > 16384 {
            return Err(bad(
                "upscale.height/width",
                "is too large (expected at most 16384)".into(),
            ));
        }
        if self.upscale.tile != 0 && !(32..=4096).contains(&self.upscale.tile) {
            return Err(bad(
                "upscale.tile",
                format!(
                    "= {} is out of range (expected 0 for automatic, or 32 to 4096)",
                    self.upscale.tile
                ),
            ));
        }
        let e = &self.encode;
        let name = e.codec.encoder_name();
        if let Some(crf) = e.crf {
            if !e.codec.has_quality_scale() {
                return Err(bad(
                    "encode.crf",
                    format!("does not apply to {name}, which is always lossless (leave crf out)"),
                ));
            }
            let (min, max) = e.codec.crf_range();
            if !(crf.is_finite() && (min..=max).contains(&crf)) {
                return Err(bad(
                    "encode.crf",
                    format!(
                        "= {crf} is out of range for {name} (expected {min} to {max}; leave it out for the default)"
                    ),
                ));
            }
        }
        if !e.codec.has_quality_scale() && !e.preset.is_empty() {
            return Err(bad(
                "encode.preset",
                format!(
                    "= \"{}\" does not apply to {name}, which has no speed presets (leave it out)",
                    e.preset
                ),
            ));
        }
        if e.lossless && !e.codec.has_lossless() {
            return Err(bad(
                "encode.lossless",
                format!("is not available with {name} (it has no lossless mode in this FFmpeg; use codec ffv1, x264 or x265)"),
            ));
        }
        Ok(())
    }

    pub fn fps(&self) -> FpsSetting {
        parse_fps(&self.interpolate.fps).unwrap_or(FpsSetting::None)
    }

    /// The output size asked for, when upscaling is (`--height`, else
    /// `--width`, else `--scale`).
    pub fn size_request(&self) -> Option<crate::resize::SizeRequest> {
        use crate::resize::SizeRequest;
        let u = &self.upscale;
        if !self.upscales() {
            None
        } else if u.height > 0 {
            Some(SizeRequest::Height(u.height))
        } else if u.width > 0 {
            Some(SizeRequest::Width(u.width))
        } else {
            Some(SizeRequest::Scale(u.scale))
        }
    }

    /// Whether any upscaling is asked for.
    pub fn upscales(&self) -> bool {
        self.upscale.height > 0 || self.upscale.width > 0 || (self.upscale.scale - 1.0).abs() > 1e-9
    }
}

/// Look up a built-in preset's TOML source.
pub fn preset_source(name: &str) -> Result<&'static str> {
    PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, src)| *src)
        .ok_or_else(|| {
            let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
            Error::Config(format!(
                "unknown preset '{name}' (available: {})",
                names.join(", ")
            ))
        })
}

/// Parse and schema-check one layer.
pub fn parse_layer(source: &str, layer: &str) -> Result<toml::Table> {
    let table: toml::Table = source.parse().map_err(|e: toml::de::Error| {
        Error::Config(format!("{layer}: {}", one_line(&e.to_string())))
    })?;
    check_layer(&table, layer)?;
    Ok(table)
}

/// Schema-check a table alone (on top of the defaults).
pub fn check_layer(table: &toml::Table, layer: &str) -> Result<()> {
    let cfg: Config =
        toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| {
                Error::Config(format!("{layer}: {}", one_line(&e.to_string())))
            })?;
    cfg.validate(layer)
}

fn one_line(text: &str) -> String {
    // toml's errors span several lines, with a source excerpt; keep the
    // message parts and the location on one line.
    let mut location = None;
    let mut parts = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(loc) = line.strip_prefix("TOML parse error at ") {
            location = Some(loc.to_string());
        } else if line.starts_with('|')
            || line
                .split_once('|')
                .is_some_and(|(n, _)| n.trim().chars().all(|c| c.is_ascii_digit()))
        {
            continue;
        } else {
            parts.push(line.to_string());
        }
    }
    let mut msg = parts.join(", ");
    if msg.is_empty() {
        msg = "invalid TOML".into();
    }
    match location {
        Some(loc) => format!("{msg} ({loc})"),
        None => msg,
    }
}

/// Merge `over` into `base`, key by key (tables recursively).
pub fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// A layer that chooses a codec without a `crf` or `preset` takes that
/// codec's defaults: the values below it were meant for another encoder.
fn forget_codec_settings(base: &mut toml::Table, over: &toml::Table) {
    let Some(toml::Value::Table(o)) = over.get("encode") else {
        return;
    };
    if !o.contains_key("codec") {
        return;
    }
    if let Some(toml::Value::Table(b)) = base.get_mut("encode") {
        for key in ["crf", "preset"] {
            if !o.contains_key(key) {
                b.remove(key);
            }
        }
    }
}

/// Resolve preset → config file → flags into a validated [`Config`].
pub fn resolve(preset: &str, config_file: Option<&Path>, flags: &toml::Table) -> Result<Config> {
    let mut merged = parse_layer(
        preset_source(preset)?,
        &format!("preset '{preset}' (presets/{preset}.toml)"),
    )?;
    if let Some(path) = config_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!("{}: cannot read config file: {e}", path.display()))
        })?;
        let layer = parse_layer(&text, &path.display().to_string())?;
        forget_codec_settings(&mut merged, &layer);
        merge(&mut merged, &layer);
    }
    check_layer(flags, "command line")?;
    forget_codec_settings(&mut merged, flags);
    merge(&mut merged, flags);
    let cfg: Config = toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| {
            Error::Config(format!("settings: {}", one_line(&e.to_string())))
        })?;
    cfg.validate("settings")?;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_preset_resolves() {
        for (name, _) in PRESETS {
            let cfg = resolve(name, None, &toml::Table::new()).unwrap();
            assert!(!cfg.description.is_empty(), "{name} has no description");
        }
    }

    #[test]
    fn flags_override_config_override_preset() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("my.toml");
        std::fs::write(
            &file,
            "[encode]\ncrf = 20\npreset = \"slow\"\n[interpolate]\nfps = \"60\"\n",
        )
        .unwrap();
        let mut flags = toml::Table::new();
        let mut enc = toml::Table::new();
        enc.insert("crf".into(), toml::Value::Float(12.0));
        flags.insert("encode".into(), toml::Value::Table(enc));
        let cfg = resolve("anime-clean", Some(&file), &flags).unwrap();
        assert_eq!(cfg.encode.crf, Some(12.0));
        assert_eq!(cfg.encode.preset, "slow");
        assert_eq!(cfg.interpolate.fps, "60");
        assert_eq!(cfg.interpolate.cadence, CadenceMode::Preserve);
    }

    #[test]
    fn errors_name_the_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "[interpolate]\nfpps = \"60\"\n").unwrap();
        let e = resolve("anime-clean", Some(&file), &toml::Table::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bad.toml") && e.contains("fpps") && e.contains("fps"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        std::fs::write(&file, "[encode]\ncrf = 99\n").unwrap();
        let e = resolve("anime-clean", Some(&file), &toml::Table::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.toml") && e.contains("encode.crf"), "{e}");
        std::fs::write(&file, "[encode]\ncodec = \"divx\"\n").unwrap();
        let e = resolve("anime-clean", Some(&file), &toml::Table::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.toml") && e.contains("divx"), "{e}");
        std::fs::write(&file, "not toml [").unwrap();
        let e = resolve("anime-clean", Some(&file), &toml::Table::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.toml") && !e.contains('\n'), "{e}");
        let e = resolve("nope", None, &toml::Table::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown preset 'nope'") && e.contains("anime-clean"),
            "{e}"
        );
    }

    #[test]
    fn fps_forms() {
        let rate = |num, den| Ok(FpsSetting::Target(FpsTarget::Rate { num, den }));
        assert_eq!(parse_fps("none"), Ok(FpsSetting::None));
        assert_eq!(
            parse_fps("2x"),
            Ok(FpsSetting::Target(FpsTarget::Multiple(2)))
        );
        assert_eq!(parse_fps("48"), rate(48, 1));
        assert_eq!(parse_fps("59.94"), rate(60000, 1001));
        assert_eq!(parse_fps("60000/1001"), rate(60000, 1001));
        assert_eq!(parse_fps("12.5"), rate(25, 2));
        for bad in [
            "0", "-1", "x", "1.5x", "9x", "1000", "nan", "inf", "1/0", "0/1", "abc",
        ] {
            assert!(parse_fps(bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn random_toml_never_panics() {
        // Property test: random TOML-ish text, and mutations of every
        // built-in preset, are either rejected with one line naming the
        // layer or accepted as a config that passes validation.
        let alphabet: Vec<char> = "[]=\"'.\n abcdefinterpolatefpsencodecrf0123456789x-_#{}"
            .chars()
            .collect();
        let mut rng = crate::testutil::Rng(0x9e37_79b9_7f4a_7c15);
        for i in 0..6000 {
            let s = if i % 3 == 0 {
                rng.string(&alphabet, 60)
            } else {
                let (_, src) = rng.pick(PRESETS);
                crate::testutil::mutate(src, &mut rng, 4)
            };
            match parse_layer(&s, "fuzz.toml") {
                Err(e) => {
                    let msg = e.to_string();
                    assert!(!msg.contains('\n'), "{msg}");
                    assert!(msg.contains("fuzz.toml"), "{msg}");
                }
                Ok(layer) => {
                    // valid alone: merged over a preset it still either
                    // resolves or fails with one line
                    let mut merged =
                        parse_layer(preset_source("anime-clean").expect("preset"), "preset")
                            .expect("preset parses");
                    merge(&mut merged, &layer);
                    let cfg: std::result::Result<Config, _> = toml::Value::Table(merged).try_into();
                    if let Ok(cfg) = cfg {
                        if let Err(e) = cfg.validate("fuzz.toml") {
                            assert!(!e.to_string().contains('\n'), "{e}");
                        }
                    }
                }
            }
        }
    }
}
