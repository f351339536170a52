//! Plans, chunks and joins: a long run as independent pieces of work with
//! durable results.
//!
//! `plan` decodes the input once, labels every transition with the gate
//! and splits the run at drawing starts, preferably cuts ([`split`]). Each
//! chunk is then an ordinary run over its own frames plus one frame of
//! lookahead, with the plan's labels instead of a second opinion from the
//! gate, so it writes exactly the frames a single run writes in its span
//! ([`crate::stage::runner::ChunkPart`]). Its video (no other streams) is
//! written atomically into the plan's work folder, then a journal record
//! beside it (frame count and sha256). `join` checks every record and muxes
//! the chunks' packets, unchanged, with the source's audio, subtitles,
//! fonts, chapters and metadata, exactly as a single run copies them.
//!
//! Chunks may run in any order, on any machine that sees the same input
//! and work folder (Slurm array tasks, [`slurm`]; Kubernetes indexed jobs); each
//! writes only its own two files.

pub mod join;
pub mod resume;
pub mod slurm;
pub mod split;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clip::ClipRange;
use crate::config::{Config, FpsSetting};
use crate::error::{Error, Result};
use crate::gate::Class;
use crate::media::decode::{DecodePart, VideoDecoder};
use crate::model::ModelOptions;
use crate::progress::Progress;
use crate::stage::gate::{gate_file, pts_digest_of, GatePass, GateStage, Gated, Next};
use crate::stage::runner::{ChunkPart, EnhanceOptions};
use crate::stage::Report;

/// Longest chunk unless told otherwise: a minute loses at most a minute
/// of work to a crash, and costs one plan entry and one seam per minute.
pub const DEFAULT_CHUNK_SECONDS: f64 = 60.0;

/// Version of the plan file; a plan of another version is refused.
pub const PLAN_VERSION: u32 = 1;

/// Bytes hashed at each end of the input for its identity.
const IDENTITY_BYTES: u64 = 1 << 20;

/// What identifies the input a plan was made of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputIdentity {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time (ns since the epoch), for messages: a copy of the
    /// file elsewhere (another node) has another, and is still the same.
    pub mtime_ns: u128,
    /// sha256 of the first and last MiB.
    pub ends_sha256: String,
}

impl InputIdentity {
    pub fn of(path: &Path) -> Result<InputIdentity> {
        let fail = |e: std::io::Error| Error::input(path, format!("cannot read: {e}"));
        let mut f = File::open(path).map_err(fail)?;
        let meta = f.metadata().map_err(fail)?;
        let size = meta.len();
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; IDENTITY_BYTES.min(size) as usize];
        f.read_exact(&mut buf).map_err(fail)?;
        hasher.update(&buf);
        if size > IDENTITY_BYTES {
            let tail = IDENTITY_BYTES.min(size - IDENTITY_BYTES);
            f.seek(SeekFrom::End(-(tail as i64))).map_err(fail)?;
            buf.resize(tail as usize, 0);
            f.read_exact(&mut buf).map_err(fail)?;
            hasher.update(&buf);
        }
        let ends_sha256 = hex(&hasher.finalize());
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Ok(InputIdentity {
            path,
            size,
            mtime_ns,
            ends_sha256,
        })
    }

    /// Same content (size and both ends); path and time may differ.
    pub fn same_content(&self, other: &InputIdentity) -> bool {
        self.size == other.size && self.ends_sha256 == other.ends_sha256
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A model the plan's settings run, by manifest name and file hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelIdentity {
    pub name: String,
    pub sha256: String,
}

/// One chunk: its frames (from `first_index`, `frames` of them) and the
/// lookahead frame (the next chunk's first).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkSpec {
    pub index: usize,
    pub first_index: u64,
    pub frames: u64,
    /// Pts of the first frame (clip timeline, stream time base).
    pub first_pts: i64,
    /// The next chunk's first frame: index and pts (none for the last).
    pub next: Option<(u64, i64)>,
    /// Start and end in seconds of the clip, for people.
    pub start_s: f64,
    pub end_s: Option<f64>,
    /// What the chunk starts at: "start", "cut", "motion" or "flash".
    pub starts_at: String,
    /// Incoming label of every frame decoded for it (its own and the
    /// lookahead): c(ut) h(old) m(otion) f(lash).
    pub labels: String,
    /// Digest of those frames' pts (FNV-1a), to see the input unchanged.
    pub pts_digest: u64,
}

/// A run split into chunks (`plan.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub version: u32,
    pub tool: String,
    pub input: InputIdentity,
    /// The `--clip` range (as given), if any.
    pub clip: Option<String>,
    pub settings: Config,
    pub models: Vec<ModelIdentity>,
    /// Where the chunks and their journal records go (the plan's folder).
    pub work_dir: PathBuf,
    pub chunk_seconds: f64,
    pub frames: u64,
    /// Pts of the run's first frame: the output grid's origin.
    pub origin_pts: i64,
    pub time_base: (i32, i32),
    pub chunks: Vec<ChunkSpec>,
}

/// What `plan` needs.
#[derive(Clone, Debug)]
pub struct PlanRequest {
    pub input: PathBuf,
    pub clip: Option<ClipRange>,
    /// Longest chunk in seconds (where the labels allow); 0: one chunk.
    pub chunk_seconds: f64,
    pub config: Config,
    pub models: ModelOptions,
    /// The plan's folder: chunks and journal go here.
    pub work_dir: PathBuf,
}

fn label_char(c: Class) -> char {
    match c {
        Class::Cut => 'c',
        Class::Hold => 'h',
        Class::Motion => 'm',
        Class::Flash => 'f',
    }
}

fn char_label(c: char) -> Option<Class> {
    match c {
        'c' => Some(Class::Cut),
        'h' => Some(Class::Hold),
        'm' => Some(Class::Motion),
        'f' => Some(Class::Flash),
        _ => None,
    }
}

/// The models the settings run, as the plan records them.
fn model_identities(
    cfg: &Config,
    models: &ModelOptions,
    size: (u32, u32),
) -> Result<Vec<ModelIdentity>> {
    let wants_interp = matches!(cfg.fps(), FpsSetting::Target(_));
    if !wants_interp && !cfg.upscales() {
        return Ok(Vec::new());
    }
    let manifest = crate::model::run::manifest(models)?;
    let mut out = Vec::new();
    if wants_interp {
        let e = manifest.interpolator_for(
            &cfg.interpolate.model,
            size.0,
            size.1,
            cfg.interpolate.flow == crate::config::FlowMode::Auto,
        )?;
        out.push(ModelIdentity {
            name: e.name.clone(),
            sha256: e.sha256.clone(),
        });
    }
    if cfg.upscales() {
        let e = manifest.get_kind(&cfg.upscale.model, crate::model::ModelKind::Upscale)?;
        out.push(ModelIdentity {
            name: e.name.clone(),
            sha256: e.sha256.clone(),
        });
    }
    Ok(out)
}

/// Every frame's (pts, incoming label) over the clip, from the same gate
/// stage `enhance` runs.
fn label_frames(
    path: &Path,
    clip: Option<ClipRange>,
    cfg: &Config,
    progress: &mut dyn Progress,
    abort: &AtomicBool,
) -> Result<(crate::media::decode::VideoFormat, Vec<(i64, Class)>)> {
    let decoder = VideoDecoder::open(path, clip, cfg.decode.fields)?;
    let fmt = decoder.format().clone();
    let mut gate = GateStage::new(cfg.gate.clone());
    progress.start(fmt.expected_frames, "frames");
    let mut labels = Labels {
        frames: Vec::new(),
        progress,
    };
    let end = gate_file(decoder, |_| true, &mut gate, Some(abort), &mut labels)?;
    if end.aborted {
        return Err(Error::Interrupted);
    }
    labels.progress.finish();
    end.decoded?;
    Ok((fmt, labels.frames))
}

/// The plan's side of [`label_frames`]: each frame's pts and label, with
/// progress.
struct Labels<'a> {
    frames: Vec<(i64, Class)>,
    progress: &'a mut dyn Progress,
}

impl GatePass for Labels<'_> {
    fn gated(&mut self, g: Gated) {
        self.frames
            .push((g.frame.pts, g.class.unwrap_or(Class::Cut)));
    }

    fn after(&mut self, _read: u64) -> Next {
        if self.frames.len().is_multiple_of(50) {
            self.progress
                .update(self.frames.len() as u64, "planning: gate");
        }
        Next::Go
    }
}

/// Make the plan: label the whole clip, split it, record what it depends on.
pub fn make_plan(
    req: &PlanRequest,
    progress: &mut dyn Progress,
    abort: &AtomicBool,
) -> Result<Plan> {
    req.config.validate("settings")?;
    if !req.chunk_seconds.is_finite() || req.chunk_seconds < 0.0 {
        return Err(Error::Config(format!(
            "--chunk-seconds {}: give a length in seconds (0: one chunk)",
            req.chunk_seconds
        )));
    }
    let input = InputIdentity::of(&req.input)?;
    let (fmt, frames) = label_frames(&req.input, req.clip, &req.config, progress, abort)?;
    let models = model_identities(
        &req.config,
        &req.models,
        (fmt.width as u32, fmt.height as u32),
    )?;
    let tb = fmt.time_base;
    let pts: Vec<i64> = frames.iter().map(|f| f.0).collect();
    let labels: Vec<Class> = frames.iter().map(|f| f.1).collect();
    let limit = crate::media::seconds_ts(req.chunk_seconds, tb);
    let starts = split::chunk_starts(&labels, &pts, limit);
    let secs = |p: i64| crate::media::ts_seconds(p, tb);
    let origin_pts = pts.first().copied().unwrap_or(0);
    let chunks = starts
        .iter()
        .enumerate()
        .map(|(k, &a)| {
            let b = starts.get(k + 1).copied();
            let upto = b.map_or(pts.len(), |b| b + 1);
            ChunkSpec {
                index: k,
                first_index: a as u64,
                frames: (b.unwrap_or(pts.len()) - a) as u64,
                first_pts: pts[a],
                next: b.map(|b| (b as u64, pts[b])),
                start_s: secs(pts[a]),
                end_s: b.map(|b| secs(pts[b])),
                starts_at: if k == 0 {
                    "start".into()
                } else {
                    labels[a].name().to_ascii_lowercase()
                },
                labels: labels[a..upto].iter().map(|&c| label_char(c)).collect(),
                pts_digest: pts_digest_of(pts[a..upto].iter().copied()),
            }
        })
        .collect();
    Ok(Plan {
        version: PLAN_VERSION,
        tool: format!("ainimotion {}", env!("CARGO_PKG_VERSION")),
        input,
        clip: req.clip.map(|c| c.to_string()),
        settings: req.config.clone(),
        models,
        work_dir: std::path::absolute(&req.work_dir).unwrap_or_else(|_| req.work_dir.clone()),
        chunk_seconds: req.chunk_seconds,
        frames: pts.len() as u64,
        origin_pts,
        time_base: (tb.numerator(), tb.denominator()),
        chunks,
    })
}

/// A chunk's journal record (`chunk-NNNN.json`), written after its video.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkRecord {
    pub chunk: usize,
    /// The plan it belongs to ([`Plan::id`]).
    pub plan: String,
    pub file: String,
    pub frames: u64,
    pub bytes: u64,
    pub sha256: String,
    pub wall_s: f64,
}

impl Plan {
    /// Read and check a plan file.
    pub fn read(path: &Path) -> Result<Plan> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(path, format!("cannot read the plan: {e}")))?;
        let version = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("version").and_then(|v| v.as_u64()));
        if version.is_some_and(|v| v != u64::from(PLAN_VERSION)) {
            return Err(Error::input(
                path,
                format!(
                    "plan version {} is not {PLAN_VERSION}, the one this ainimotion reads; make a new plan",
                    version.unwrap_or(0)
                ),
            ));
        }
        serde_json::from_str(&text)
            .map_err(|e| Error::input(path, format!("not an ainimotion plan: {e}")))
    }

    /// Write the plan (atomically).
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Internal(format!("plan to JSON: {e}")))?;
        write_atomic(path, (json + "\n").as_bytes())
    }

    /// Identity of this plan (sha256 of its JSON): journal records name it.
    pub fn id(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex(&Sha256::digest(&json))[..16].to_string()
    }

    pub fn clip_range(&self) -> Result<Option<ClipRange>> {
        self.clip
            .as_deref()
            .map(|c| c.parse::<ClipRange>())
            .transpose()
            .map_err(|e| Error::Config(format!("the plan's clip '{e}' is not a range")))
    }

    pub fn chunk_file(&self, k: usize) -> PathBuf {
        self.work_dir.join(format!("chunk-{k:04}.nut"))
    }

    pub fn record_file(&self, k: usize) -> PathBuf {
        self.work_dir.join(format!("chunk-{k:04}.json"))
    }

    /// Chunk `k`'s journal record, if it is there, belongs to this plan and
    /// its file is whole (size and sha256).
    pub fn done(&self, k: usize) -> Option<ChunkRecord> {
        let text = std::fs::read_to_string(self.record_file(k)).ok()?;
        let rec: ChunkRecord = serde_json::from_str(&text).ok()?;
        let file = self.chunk_file(k);
        let ok = rec.chunk == k
            && rec.plan == self.id()
            && std::fs::metadata(&file).is_ok_and(|m| m.len() == rec.bytes)
            && File::open(&file)
                .ok()
                .and_then(|f| crate::model::sha256_reader(f).ok())
                .is_some_and(|h| h == rec.sha256);
        ok.then_some(rec)
    }

    /// Chunks without a valid journal record, ascending.
    pub fn pending(&self) -> Vec<usize> {
        (0..self.chunks.len())
            .filter(|&k| self.done(k).is_none())
            .collect()
    }

    /// Whether this plan describes the job `req` asks for: the same input
    /// content, clip, settings, chunk length and model files. Only then
    /// may its chunks be reused.
    pub fn describes(&self, req: &PlanRequest) -> Result<bool> {
        let input = InputIdentity::of(&req.input)?;
        if !(self.input.same_content(&input)
            && self.clip == req.clip.map(|c| c.to_string())
            && self.settings == req.config
            && self.chunk_seconds == req.chunk_seconds)
        {
            return Ok(false);
        }
        let fmt = VideoDecoder::open(&req.input, req.clip, crate::fields::FieldsMode::Progressive)?
            .format()
            .clone();
        let models = model_identities(
            &req.config,
            &req.models,
            (fmt.width as u32, fmt.height as u32),
        )?;
        Ok(models == self.models)
    }

    /// Delete every chunk file and journal record (after a join).
    pub fn remove_chunks(&self) {
        for k in 0..self.chunks.len() {
            let _ = std::fs::remove_file(self.chunk_file(k));
            let _ = std::fs::remove_file(self.record_file(k));
        }
    }

    /// The input must be what the plan was made of.
    pub fn check_input(&self, input: &Path) -> Result<()> {
        let now = InputIdentity::of(input)?;
        if now.same_content(&self.input) {
            return Ok(());
        }
        Err(Error::input(
            input,
            format!(
                "is not the file the plan was made of ({}: {} bytes, now {}); make a new plan",
                self.input.path.display(),
                self.input.size,
                now.size
            ),
        ))
    }

    /// The options that run chunk `k` on `input` into the work folder.
    pub fn chunk_options(
        &self,
        input: &Path,
        k: usize,
        models: ModelOptions,
    ) -> Result<EnhanceOptions> {
        let spec = self.chunks.get(k).ok_or_else(|| {
            Error::Config(format!(
                "--chunk {k}: the plan has chunks 0 to {}",
                self.chunks.len().saturating_sub(1)
            ))
        })?;
        let labels = spec
            .labels
            .chars()
            .map(char_label)
            .collect::<Option<Vec<Class>>>()
            .ok_or_else(|| Error::Config(format!("the plan's chunk {k} has unknown labels")))?;
        Ok(EnhanceOptions {
            input: input.to_path_buf(),
            output: self.chunk_file(k),
            overwrite: true,
            clip: self.clip_range()?,
            config: self.settings.clone(),
            models,
            no_gate: false,
            part: Some(ChunkPart {
                decode: DecodePart {
                    first_pts: spec.first_pts,
                    last_pts: spec.next.map(|n| n.1),
                    first_index: spec.first_index,
                },
                labels,
                pts_digest: spec.pts_digest,
                origin_pts: self.origin_pts,
                next: spec.next,
            }),
        })
    }
}

/// The plan for people: one line per chunk.
pub fn render_plan(plan: &Plan) -> String {
    use std::fmt::Write;
    let mut s = format!(
        "{}: {} frames in {} chunk(s) of at most {} s\n",
        plan.input.path.display(),
        plan.frames,
        plan.chunks.len(),
        plan.chunk_seconds
    );
    for c in &plan.chunks {
        let _ = writeln!(
            s,
            "  chunk {:>4}: {} - {}  {:>6} frames, starts at {}",
            c.index,
            crate::clip::format_time(c.start_s),
            c.end_s.map_or("end".into(), crate::clip::format_time),
            c.frames,
            c.starts_at
        );
    }
    s
}

/// Write `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let fail = |e: std::io::Error| Error::output(path, format!("cannot write: {e}"));
    std::fs::write(&tmp, bytes).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// Run chunk `k` of `plan` and journal it. Returns the chunk's report, or
/// `None` when its journal record says it is done already (a requeued
/// array task or a re-created indexed job then costs nothing). `loaded`
/// holds the models of the previous chunk (or `None`: load them) and this
/// chunk's afterwards, so one process doing chunk after chunk loads its
/// models once.
pub fn run_chunk(
    plan: &Plan,
    input: &Path,
    k: usize,
    models: ModelOptions,
    progress: &mut dyn Progress,
    abort: Arc<AtomicBool>,
    loaded: &mut Option<crate::model::RunModels>,
) -> Result<Option<Report>> {
    plan.check_input(input)?;
    let opts = plan.chunk_options(input, k, models)?;
    if plan.done(k).is_some() {
        return Ok(None);
    }
    std::fs::create_dir_all(&plan.work_dir)
        .map_err(|e| Error::output(&plan.work_dir, format!("cannot create the folder: {e}")))?;
    let report = crate::stage::runner::enhance_reusing(&opts, progress, abort, loaded)?;
    let file = plan.chunk_file(k);
    // An input cut short or replaced while the chunk ran would leave a
    // short chunk that a later run on the restored file would reuse.
    plan.check_input(input).inspect_err(|_| {
        let _ = std::fs::remove_file(&file);
    })?;
    let sha256 = File::open(&file)
        .and_then(crate::model::sha256_reader)
        .map_err(|e| Error::output(&file, format!("cannot read back: {e}")))?;
    let rec = ChunkRecord {
        chunk: k,
        plan: plan.id(),
        file: file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        frames: report.frames_out,
        bytes: report.output.bytes,
        sha256,
        wall_s: report.wall_s,
    };
    let json = serde_json::to_string_pretty(&rec)
        .map_err(|e| Error::Internal(format!("record to JSON: {e}")))?;
    write_atomic(&plan.record_file(k), (json + "\n").as_bytes())?;
    Ok(Some(report))
}
