//! Settings: built-in preset → `--config` file → command-line flags.
//!
//! Each layer is a TOML table: the preset and the config file as written,
//! the flags as [`crate::cli::SettingFlags`] serialised (a flag not given
//! writes no key). Every layer is first checked on its own against the
//! schema (unknown keys, wrong types and values that do not parse, such as
//! `fps = "abc"`, are reported with the layer's name: the preset file, the
//! config file, or "command line", and the key); the tables are then merged
//! key by key (later layers win, whatever the order of the flags) and the
//! result is deserialised into the typed [`Config`] and validated once.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::media::encode::{Codec, EncodeSettings};

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
pub use crate::timing::{CadenceMode, FlowMode, InbetweenMode};
use crate::timing::{FpsTarget, GridRequest};

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
    pub decode: DecodeConfig,
}

/// What happens between the decoder and the gate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecodeConfig {
    /// Telecine and interlace: auto (decided from the pictures), film,
    /// deinterlace or progressive (frames untouched).
    pub fields: crate::fields::FieldsMode,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InterpolateConfig {
    /// Output frame rate: "none", a multiple ("2x"), or a rate ("48", "59.94", "60000/1001").
    pub fps: FpsSetting,
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
    /// Output height in pixels; the width follows the aspect ratio. A layer
    /// that sets it drops the `width` of the layers below (0 reads as unset).
    #[serde(
        deserialize_with = "zero_is_unset",
        skip_serializing_if = "Option::is_none"
    )]
    pub height: Option<u32>,
    /// Output width in pixels (used when no height is set); the height
    /// follows. A layer that sets it drops the `height` of the layers below
    /// (0 reads as unset).
    #[serde(
        deserialize_with = "zero_is_unset",
        skip_serializing_if = "Option::is_none"
    )]
    pub width: Option<u32>,
    /// Super-resolution model name from models/models.toml.
    pub model: String,
    /// Tile size in input pixels (0 = automatic).
    pub tile: u32,
    /// Reuse the result of a repeated picture instead of running the model again.
    pub reuse: bool,
    /// With interpolation: `upscale` runs each in-between through the
    /// upscaler; `warp` makes it at output size from the upscaled drawings
    /// beside it with the interpolator's flow (needs a model with
    /// `flow_output`).
    pub inbetweens: InbetweenMode,
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
    /// Encoder speed preset; absent (or "") = the default for the codec.
    #[serde(
        deserialize_with = "empty_is_unset",
        skip_serializing_if = "Option::is_none"
    )]
    pub preset: Option<String>,
}

/// `0`, which earlier versions wrote for "not set", reads as unset.
fn zero_is_unset<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u32>, D::Error> {
    Ok(Option::<u32>::deserialize(d)?.filter(|&v| v != 0))
}

/// `""`, which earlier versions wrote for "not set", reads as unset.
fn empty_is_unset<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|v| !v.is_empty()))
}

impl Default for InterpolateConfig {
    fn default() -> Self {
        InterpolateConfig {
            fps: FpsSetting::None,
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
            height: None,
            width: None,
            model: "animevideov3".into(),
            tile: 0,
            reuse: true,
            inbetweens: InbetweenMode::Upscale,
        }
    }
}

impl Default for EncodeConfig {
    fn default() -> Self {
        EncodeConfig {
            codec: Codec::X264,
            crf: None,
            lossless: false,
            preset: None,
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
        match &self.preset {
            Some(p) => p.clone(),
            None => self.codec.default_preset().to_string(),
        }
    }

    /// What the encoder is opened with.
    pub fn settings(&self) -> EncodeSettings {
        EncodeSettings {
            codec: self.codec,
            crf: self.effective_crf(),
            lossless: self.lossless,
            preset: self.effective_preset(),
        }
    }
}

/// The `fps` setting, parsed once when the settings are read. In TOML and
/// on the command line it is the text [`parse_fps`] takes; it is written
/// back as "none", "2x", "48" or "60000/1001".
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
    check_fps_target(target, text)?;
    Ok(FpsSetting::Target(target))
}

/// A multiple from 2 to 8, or a rate within [`crate::timing::resolve_rate`]'s
/// limits; `text` is how the user wrote it.
fn check_fps_target(target: FpsTarget, text: &str) -> std::result::Result<(), String> {
    match target {
        FpsTarget::Multiple(k) if !(2..=8).contains(&k) => Err(format!(
            "'{text}': the multiple must be a whole number from 2 to 8"
        )),
        FpsTarget::Multiple(_) => Ok(()),
        FpsTarget::Rate { .. } => crate::timing::resolve_rate(target, (1, 1)).map(|_| ()),
    }
}

impl FromStr for FpsSetting {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        parse_fps(text)
    }
}

impl fmt::Display for FpsSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FpsSetting::None => f.write_str("none"),
            FpsSetting::Target(t) => t.fmt(f),
        }
    }
}

impl Serialize for FpsSetting {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FpsSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_fps(&text).map_err(serde::de::Error::custom)
    }
}

/// A setting out of range: the key and what is wrong with it.
type Invalid = (&'static str, String);

impl Config {
    /// Semantic checks; `layer` names where the values came from.
    pub fn validate(&self, layer: &str) -> Result<()> {
        let bad = |(key, msg): Invalid| Error::Config(format!("{layer}: {key} {msg}"));
        self.gate
            .validate()
            .map_err(|e| Error::Config(format!("{layer}: {e}")))?;
        self.interpolate.check().map_err(bad)?;
        self.upscale.check().map_err(bad)?;
        self.encode.check().map_err(bad)
    }

    /// The output frame rate asked for.
    pub fn fps(&self) -> FpsSetting {
        self.interpolate.fps
    }

    /// What the output time grid is built from; `None` keeps the input's
    /// frame timing.
    pub fn grid_request(&self) -> Option<GridRequest> {
        let FpsSetting::Target(fps) = self.fps() else {
            return None;
        };
        Some(GridRequest {
            fps,
            cadence: self.interpolate.cadence,
            max_cadence_hold_s: self.interpolate.max_cadence_hold_s,
        })
    }

    /// The output size asked for, when upscaling is (`--height`, else
    /// `--width`, else `--scale`).
    pub fn size_request(&self) -> Option<crate::resize::size::SizeRequest> {
        use crate::resize::size::SizeRequest;
        if !self.upscales() {
            return None;
        }
        let u = &self.upscale;
        Some(match (u.height, u.width) {
            (Some(h), _) => SizeRequest::Height(h),
            (None, Some(w)) => SizeRequest::Width(w),
            (None, None) => SizeRequest::Scale(u.scale),
        })
    }

    /// Whether any upscaling is asked for.
    pub fn upscales(&self) -> bool {
        let u = &self.upscale;
        u.height.is_some() || u.width.is_some() || (u.scale - 1.0).abs() > 1e-9
    }
}

impl InterpolateConfig {
    fn check(&self) -> std::result::Result<(), Invalid> {
        if let FpsSetting::Target(t) = self.fps {
            check_fps_target(t, &t.to_string()).map_err(|e| ("interpolate.fps", e))?;
        }
        let h = self.max_cadence_hold_s;
        if !(h.is_finite() && (0.0..=5.0).contains(&h)) {
            return Err((
                "interpolate.max_cadence_hold_s",
                format!("= {h} is out of range (expected 0 to 5 seconds)"),
            ));
        }
        Ok(())
    }
}

impl UpscaleConfig {
    fn check(&self) -> std::result::Result<(), Invalid> {
        let s = self.scale;
        if !(s.is_finite() && s > 0.0 && s <= 8.0) {
            return Err((
                "upscale.scale",
                format!("= {s} is out of range (expected more than 0, at most 8)"),
            ));
        }
        if self.height.into_iter().chain(self.width).any(|v| v > 16384) {
            return Err((
                "upscale.height/width",
                "is too large (expected at most 16384)".into(),
            ));
        }
        if self.tile != 0 && !(32..=4096).contains(&self.tile) {
            return Err((
                "upscale.tile",
                format!(
                    "= {} is out of range (expected 0 for automatic, or 32 to 4096)",
                    self.tile
                ),
            ));
        }
        Ok(())
    }
}

impl EncodeConfig {
    fn check(&self) -> std::result::Result<(), Invalid> {
        let name = self.codec.encoder_name();
        if let Some(crf) = self.crf {
            if !self.codec.has_quality_scale() {
                return Err((
                    "encode.crf",
                    format!("does not apply to {name}, which is always lossless (leave crf out)"),
                ));
            }
            let (min, max) = self.codec.crf_range();
            if !(crf.is_finite() && (min..=max).contains(&crf)) {
                return Err((
                    "encode.crf",
                    format!(
                        "= {crf} is out of range for {name} (expected {min} to {max}; leave it out for the default)"
                    ),
                ));
            }
        }
        if let (false, Some(preset)) = (self.codec.has_quality_scale(), &self.preset) {
            return Err((
                "encode.preset",
                format!(
                    "= \"{preset}\" does not apply to {name}, which has no speed presets (leave it out)"
                ),
            ));
        }
        if self.lossless && !self.codec.has_lossless() {
            return Err((
                "encode.lossless",
                format!("is not available with {name} (it has no lossless mode in this FFmpeg; use codec ffv1, x264 or x265)"),
            ));
        }
        Ok(())
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
    let table: toml::Table = source
        .parse()
        .map_err(|e: toml::de::Error| layer_error(layer, &e))?;
    check_layer(&table, layer)?;
    Ok(table)
}

/// Schema-check a table alone (on top of the defaults).
pub fn check_layer(table: &toml::Table, layer: &str) -> Result<()> {
    let cfg: Config = toml::Value::Table(table.clone())
        .try_into()
        .map_err(|e| layer_error(layer, &e))?;
    cfg.validate(layer)
}

/// A TOML or schema error, on one line after the layer's name.
fn layer_error(layer: &str, e: &toml::de::Error) -> Error {
    Error::Config(format!("{layer}: {}", one_line(&e.to_string())))
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

/// `(section, key, keys it supersedes)`: a layer that sets `key` without
/// the others drops them from the layers below. A codec's `crf` and speed
/// `preset` were meant for another encoder (the new codec's defaults
/// apply); `height` and `width` are two ways to give one size.
const SUPERSEDES: &[(&str, &str, &[&str])] = &[
    ("encode", "codec", &["crf", "preset"]),
    ("upscale", "height", &["width"]),
    ("upscale", "width", &["height"]),
];

/// Put layer `over` on top of `base`: drop what it supersedes, then merge.
fn merge_layer(base: &mut toml::Table, over: &toml::Table) {
    for (section, key, dropped) in SUPERSEDES {
        let Some(toml::Value::Table(o)) = over.get(*section) else {
            continue;
        };
        if !o.contains_key(*key) {
            continue;
        }
        if let Some(toml::Value::Table(b)) = base.get_mut(*section) {
            for d in dropped.iter().filter(|d| !o.contains_key(**d)) {
                b.remove(*d);
            }
        }
    }
    merge(base, over);
}

/// The flags as a settings layer: their TOML serialisation.
fn flag_layer(flags: &impl Serialize) -> Result<toml::Table> {
    match toml::Value::try_from(flags) {
        Ok(toml::Value::Table(t)) => Ok(t),
        Ok(other) => Err(Error::Internal(format!(
            "command-line settings serialise to a {}, not a table",
            other.type_str()
        ))),
        Err(e) => Err(Error::Internal(format!(
            "command-line settings as TOML: {e}"
        ))),
    }
}

/// Resolve preset → config file → flags into a validated [`Config`].
/// `flags` is anything whose TOML serialisation is a settings layer: the
/// command line's [`crate::cli::SettingFlags`] (a flag not given writes no
/// key), or a [`toml::Table`] (`&toml::Table::new()` for none).
pub fn resolve(preset: &str, config_file: Option<&Path>, flags: &impl Serialize) -> Result<Config> {
    let mut merged = parse_layer(
        preset_source(preset)?,
        &format!("preset '{preset}' (presets/{preset}.toml)"),
    )?;
    if let Some(path) = config_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!("{}: cannot read config file: {e}", path.display()))
        })?;
        let layer = parse_layer(&text, &path.display().to_string())?;
        merge_layer(&mut merged, &layer);
    }
    let flags = flag_layer(flags)?;
    check_layer(&flags, "command line")?;
    merge_layer(&mut merged, &flags);
    let cfg: Config = toml::Value::Table(merged)
        .try_into()
        .map_err(|e| layer_error("settings", &e))?;
    cfg.validate("settings")?;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resize::size::SizeRequest;

    #[test]
    fn every_builtin_preset_resolves() {
        for (name, _) in PRESETS {
            let cfg = resolve(name, None, &toml::Table::new()).unwrap();
            assert!(!cfg.description.is_empty(), "{name} has no description");
        }
    }

    #[test]
    fn flags_override_config_override_preset() {
        let (_dir, file) = config_file(
            "my.toml",
            "[encode]\ncrf = 20\npreset = \"slow\"\n[interpolate]\nfps = \"60\"\n",
        );
        let mut flags = toml::Table::new();
        let mut enc = toml::Table::new();
        enc.insert("crf".into(), toml::Value::Float(12.0));
        flags.insert("encode".into(), toml::Value::Table(enc));
        let cfg = resolve("anime-clean", Some(&file), &flags).unwrap();
        assert_eq!(cfg.encode.crf, Some(12.0));
        assert_eq!(cfg.encode.preset.as_deref(), Some("slow"));
        assert_eq!(
            cfg.fps(),
            FpsSetting::Target(FpsTarget::Rate { num: 60, den: 1 })
        );
        assert_eq!(cfg.interpolate.cadence, CadenceMode::Preserve);
    }

    #[test]
    fn errors_name_the_file_and_key() {
        let (_dir, file) = config_file("bad.toml", "[interpolate]\nfpps = \"60\"\n");
        let e = resolve_err("anime-clean", Some(&file), &toml::Table::new());
        assert!(
            e.contains("bad.toml") && e.contains("fpps") && e.contains("fps"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        std::fs::write(&file, "[encode]\ncrf = 99\n").unwrap();
        let e = resolve_err("anime-clean", Some(&file), &toml::Table::new());
        assert!(e.contains("bad.toml") && e.contains("encode.crf"), "{e}");
        std::fs::write(&file, "[encode]\ncodec = \"divx\"\n").unwrap();
        let e = resolve_err("anime-clean", Some(&file), &toml::Table::new());
        assert!(e.contains("bad.toml") && e.contains("divx"), "{e}");
        std::fs::write(&file, "not toml [").unwrap();
        let e = resolve_err("anime-clean", Some(&file), &toml::Table::new());
        assert!(e.contains("bad.toml") && !e.contains('\n'), "{e}");
        let e = resolve_err("nope", None, &toml::Table::new());
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

    /// A config file holding `text`, in a folder that lives as long as the guard.
    fn config_file(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        (dir, file)
    }

    /// The one-line message of a resolution that must fail.
    fn resolve_err(preset: &str, file: Option<&Path>, flags: &toml::Table) -> String {
        resolve(preset, file, flags).unwrap_err().to_string()
    }

    /// A flag layer the way `cli::SettingFlags` writes one.
    fn flags(toml_text: &str) -> toml::Table {
        toml_text.parse().expect("flag layer")
    }

    #[test]
    fn bad_fps_fails_at_resolution_naming_layer_and_key() {
        let (_dir, file) = config_file("my.toml", "[interpolate]\nfps = \"abc\"\n");
        let e = resolve_err("anime-clean", Some(&file), &toml::Table::new());
        assert!(e.starts_with(&format!("{}: ", file.display())), "{e}");
        assert!(e.contains("interpolate.fps") && e.contains("`abc`"), "{e}");
        for bad in ["1000", "9x", "abc"] {
            let over = flags(&format!("[interpolate]\nfps = \"{bad}\"\n"));
            let e = resolve_err("anime-clean", None, &over);
            assert!(e.starts_with("command line: "), "{e}");
            assert!(e.contains("interpolate.fps") && !e.contains('\n'), "{e}");
        }
        // Parsed once: the resolved config holds the value, not its text.
        let cfg = resolve("reencode", None, &flags("[interpolate]\nfps = \"59.94\"\n")).unwrap();
        let ntsc = FpsTarget::Rate {
            num: 60000,
            den: 1001,
        };
        assert_eq!(cfg.fps(), FpsSetting::Target(ntsc));
        // A library caller's Config is checked as well.
        let mut cfg = Config::default();
        cfg.interpolate.fps = FpsSetting::Target(FpsTarget::Multiple(9));
        let e = cfg.validate("test").unwrap_err().to_string();
        assert!(e.contains("interpolate.fps") && e.contains("9x"), "{e}");
    }

    #[test]
    fn fps_is_written_back_in_a_form_it_reads() {
        for text in [
            "none",
            "2x",
            "x3",
            "48",
            "59.94",
            "60000/1001",
            "12.5",
            "off",
            "",
        ] {
            let fps = parse_fps(text).unwrap();
            assert_eq!(parse_fps(&fps.to_string()), Ok(fps), "{text} -> {fps}");
        }
        assert_eq!(parse_fps("none").unwrap().to_string(), "none");
        assert_eq!(parse_fps("59.94").unwrap().to_string(), "60000/1001");
    }

    #[test]
    fn height_and_width_are_unset_unless_given_and_supersede_each_other() {
        let cfg = resolve("anime-clean", None, &toml::Table::new()).unwrap();
        assert_eq!((cfg.upscale.height, cfg.upscale.width), (None, None));
        assert_eq!(cfg.size_request(), Some(SizeRequest::Scale(2.0)));
        let reencode = resolve("reencode", None, &toml::Table::new()).unwrap();
        assert_eq!(reencode.size_request(), None);
        assert!(!reencode.upscales());

        let (_dir, file) = config_file("my.toml", "[upscale]\nwidth = 1280\n");
        let cfg = resolve("reencode", Some(&file), &toml::Table::new()).unwrap();
        assert_eq!(cfg.size_request(), Some(SizeRequest::Width(1280)));
        // --height over a file's width: the height wins and the width goes.
        let cfg = resolve("reencode", Some(&file), &flags("[upscale]\nheight = 720\n")).unwrap();
        assert_eq!((cfg.upscale.height, cfg.upscale.width), (Some(720), None));
        assert_eq!(cfg.size_request(), Some(SizeRequest::Height(720)));
        // and --width over a file's height
        std::fs::write(&file, "[upscale]\nheight = 720\n").unwrap();
        let cfg = resolve("reencode", Some(&file), &flags("[upscale]\nwidth = 640\n")).unwrap();
        assert_eq!(cfg.size_request(), Some(SizeRequest::Width(640)));
        // Both in one layer: the height wins, as before.
        std::fs::write(&file, "[upscale]\nheight = 720\nwidth = 640\n").unwrap();
        let cfg = resolve("reencode", Some(&file), &toml::Table::new()).unwrap();
        assert_eq!(cfg.size_request(), Some(SizeRequest::Height(720)));
    }

    #[test]
    fn earlier_unset_spellings_still_read_as_unset() {
        // What `presets --show` used to print: height/width 0, preset "".
        let (_dir, file) = config_file(
            "old.toml",
            "[upscale]\nscale = 1.0\nheight = 0\nwidth = 0\n[encode]\npreset = \"\"\n",
        );
        let cfg = resolve("anime-clean", Some(&file), &toml::Table::new()).unwrap();
        assert_eq!((cfg.upscale.height, cfg.upscale.width), (None, None));
        assert!(!cfg.upscales());
        assert_eq!(cfg.encode.preset, None);
        assert_eq!(cfg.encode.effective_preset(), Codec::X264.default_preset());
    }

    #[test]
    fn resolved_settings_read_back_as_a_layer() {
        // `presets --show NAME` output, used as a config file, gives the
        // same settings.
        for (name, _) in PRESETS {
            let cfg = resolve(name, None, &toml::Table::new()).unwrap();
            let text = toml::to_string_pretty(&cfg).unwrap();
            let layer = parse_layer(&text, "shown").unwrap();
            let back: Config = toml::Value::Table(layer).try_into().unwrap();
            assert_eq!(back, cfg, "{name}:\n{text}");
        }
    }

    #[test]
    fn a_codec_flag_drops_the_crf_and_preset_below() {
        let cfg = resolve("anime-clean", None, &flags("[encode]\ncodec = \"x265\"\n")).unwrap();
        assert_eq!((cfg.encode.crf, cfg.encode.preset.as_deref()), (None, None));
        let cfg = resolve(
            "anime-clean",
            None,
            &flags("[encode]\ncodec = \"x265\"\ncrf = 20\n"),
        )
        .unwrap();
        assert_eq!(
            (cfg.encode.crf, cfg.encode.preset.as_deref()),
            (Some(20.0), None)
        );
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
