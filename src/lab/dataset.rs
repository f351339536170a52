//! The Vimeo-90K triplet layout on disk, and what lets a rerun continue:
//!
//! ```text
//! DIR/sequences/00001/0001/im1.jpg im2.jpg im3.jpg   triplet 1 (1000 per folder)
//! DIR/tri_trainlist.txt, DIR/tri_testlist.txt        "00001/0001" lines, sorted
//! DIR/triplets.jsonl                                 one Record per line, sorted
//! DIR/triplets.state.json                            settings + finished inputs
//! ```
//!
//! Numbering is deterministic: the k-th triplet kept (0-based, inputs in the
//! order given, frames in order) is `sequences/{k/1000+1:05}/{k%1000+1:04}`.
//! A triplet is done when its three files and its manifest line exist; a
//! rerun with the same settings and inputs finds the same numbers, skips
//! what is done (an input recorded as finished is not even decoded again)
//! and writes the rest. Files are written under a temporary name and
//! renamed, and the manifest line is appended after them, so an interrupted
//! run leaves nothing half-written that a rerun would trust.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Triplets per first-level folder (Vimeo-90K holds up to ~1000 per folder).
pub const PER_FOLDER: u64 = 1000;
pub const MANIFEST: &str = "triplets.jsonl";
pub const STATE: &str = "triplets.state.json";
pub const TRAIN_LIST: &str = "tri_trainlist.txt";
pub const TEST_LIST: &str = "tri_testlist.txt";

/// `00001/0001` for triplet number `k` (0-based).
pub fn sequence_id(k: u64) -> String {
    format!("{:05}/{:04}", k / PER_FOLDER + 1, k % PER_FOLDER + 1)
}

/// Scores between two of a triplet's pictures (gate thumbnails, cropped
/// like the pictures; luma on 0..255).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PairScores {
    /// Mean absolute difference.
    pub mad: f32,
    /// Windowed SSIM.
    pub ssim: f32,
    /// Share of 8x8 windows that changed.
    pub changed: f32,
}

/// One line of `triplets.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// `00001/0001`: the folder under `sequences/` and the list entry.
    pub id: String,
    /// `train` or `test`.
    pub split: String,
    /// The input, as an absolute path.
    pub source: PathBuf,
    /// Shot number in the source (0-based, counted from the first frame
    /// read, +1 at every cut) and the frame index where it starts.
    pub shot: u64,
    pub shot_start: u64,
    /// Frame indices of im1, im2, im3 in the source (0-based, decode order
    /// = presentation order, as `info --gate` counts them).
    pub frames: [u64; 3],
    /// Their presentation times, seconds from the start of the file.
    pub times_s: [f64; 3],
    /// Where im2 lies between im1 and im3 in time: 0.5 on even timing.
    pub timestep: f64,
    /// How many frames each drawing is shown (1 + its holds; the last is
    /// what was seen when the triplet was cut: at least 1).
    pub shown: [u64; 3],
    /// Size of the written pictures.
    pub width: usize,
    pub height: usize,
    /// Scores im1-im2, im2-im3, im1-im3 (the motion range applies to each mad).
    pub im1_im2: PairScores,
    pub im2_im3: PairScores,
    pub im1_im3: PairScores,
}

/// An input, as the state file remembers it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceState {
    pub path: PathBuf,
    pub size: u64,
    /// Triplets it gave (numbers counted before the next input's).
    pub triplets: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// The settings the triplets were cut with (compared key by key).
    pub settings: BTreeMap<String, serde_json::Value>,
    /// Inputs finished, in order.
    pub done: Vec<SourceState>,
}

/// Whether shot `shot` of `source` is held out for testing: a hash of the
/// file name and the shot number, below `fraction` (so the split is the same
/// on every run and on every machine, wherever the file lies).
pub fn is_test_shot(source: &Path, shot: u64, fraction: f64) -> bool {
    if fraction <= 0.0 {
        return false;
    }
    let name = source.file_name().unwrap_or(source.as_os_str());
    let mut h = Sha256::new();
    h.update(name.as_encoded_bytes());
    h.update([0u8]);
    h.update(shot.to_le_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    let u = u64::from_le_bytes(first) as f64 / 18_446_744_073_709_551_616.0;
    u < fraction
}

/// The output folder of a `triplets` run.
pub struct Dataset {
    pub root: PathBuf,
    pub state: State,
    /// Manifest lines by id: the record and its text as read or written
    /// (kept as text, so a rerun rewrites the file byte for byte).
    pub records: BTreeMap<String, (Record, String)>,
    manifest: Option<std::fs::File>,
}

impl Dataset {
    /// Open (or create) `root` for a run with `settings`: a folder made with
    /// other settings is refused, naming the first that differs.
    pub fn open(root: &Path, settings: BTreeMap<String, serde_json::Value>) -> Result<Dataset> {
        let bad = |why: String| Error::output(root, why);
        if root.exists() && !root.is_dir() {
            return Err(bad("is not a folder".into()));
        }
        std::fs::create_dir_all(root.join("sequences"))
            .map_err(|e| bad(format!("cannot create the folder: {e}")))?;
        let state_path = root.join(STATE);
        let state = match std::fs::read_to_string(&state_path) {
            Ok(text) => {
                let old: State = serde_json::from_str(&text).map_err(|e| {
                    Error::output(
                        &state_path,
                        format!("cannot read it ({e}); remove it to start this folder over"),
                    )
                })?;
                let keys: std::collections::BTreeSet<&String> =
                    old.settings.keys().chain(settings.keys()).collect();
                for k in keys {
                    let (a, b) = (old.settings.get(k), settings.get(k));
                    if a != b {
                        let show = |v: Option<&serde_json::Value>| {
                            v.map_or_else(|| "(none)".to_string(), |v| v.to_string())
                        };
                        return Err(Error::Config(format!(
                            "{}: holds triplets cut with {k} = {}, this run has {}: use another --out, or the same settings",
                            root.display(),
                            show(a),
                            show(b)
                        )));
                    }
                }
                State {
                    settings,
                    done: old.done,
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State {
                settings,
                done: Vec::new(),
            },
            Err(e) => return Err(Error::output(&state_path, format!("cannot read: {e}"))),
        };
        let mut records = BTreeMap::new();
        let manifest_path = root.join(MANIFEST);
        match std::fs::read_to_string(&manifest_path) {
            Ok(text) => {
                // A line cut short by an interruption is dropped: its
                // triplet is written again.
                for line in text.lines() {
                    if let Ok(r) = serde_json::from_str::<Record>(line) {
                        records.insert(r.id.clone(), (r, line.to_string()));
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::output(&manifest_path, format!("cannot read: {e}"))),
        }
        let mut ds = Dataset {
            root: root.to_path_buf(),
            state,
            records,
            manifest: None,
        };
        ds.save_state()?;
        // Rewrite what was read (sorted, no partial line), then append.
        ds.write_manifest()?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&manifest_path)
            .map_err(|e| Error::output(&manifest_path, format!("cannot open: {e}")))?;
        ds.manifest = Some(file);
        Ok(ds)
    }

    /// The folder of triplet `id`.
    pub fn folder(&self, id: &str) -> PathBuf {
        triplet_folder(&self.root, id)
    }

    pub fn files(&self, id: &str, ext: &str) -> [PathBuf; 3] {
        triplet_files(&self.root, id, ext)
    }

    /// Whether triplet `id` is done: its line and its three files exist.
    /// A line for other frames means the folder was made from other inputs.
    pub fn is_done(&self, id: &str, ext: &str, source: &Path, frames: [u64; 3]) -> Result<bool> {
        let Some((r, _)) = self.records.get(id) else {
            return Ok(false);
        };
        if r.source != source || r.frames != frames {
            return Err(Error::Config(format!(
                "{}: holds frames {:?} of {}, where this run cuts frames {frames:?} of {}: the inputs or their order changed; use another --out",
                self.folder(id).display(),
                r.frames,
                r.source.display(),
                source.display()
            )));
        }
        Ok(self.files(id, ext).iter().all(|p| p.is_file()))
    }

    /// Append a finished triplet's line (after its files are written).
    pub fn add(&mut self, record: Record) -> Result<()> {
        let path = self.root.join(MANIFEST);
        let line = serde_json::to_string(&record)
            .map_err(|e| Error::Internal(format!("manifest line: {e}")))?;
        if let Some(f) = self.manifest.as_mut() {
            f.write_all(format!("{line}\n").as_bytes())
                .and_then(|()| f.flush())
                .map_err(|e| Error::output(&path, format!("cannot write: {e}")))?;
        }
        self.records.insert(record.id.clone(), (record, line));
        Ok(())
    }

    /// An input is finished: a rerun skips it (and counts its triplets).
    /// Input number `position` (0-based) is finished: a rerun with the same
    /// inputs before it skips it (and counts its triplets).
    pub fn finish_source(&mut self, position: usize, source: SourceState) -> Result<()> {
        self.state.done.truncate(position);
        self.state.done.push(source);
        self.save_state()
    }

    /// Whether input number `position` is `path` of `size` bytes, finished
    /// by an earlier run with every triplet in place: its triplet count.
    pub fn finished(&self, position: usize, path: &Path, size: u64, ext: &str) -> Option<u64> {
        let s = self.state.done.get(position)?;
        if s.path != path || s.size != size {
            return None;
        }
        let mine: Vec<&Record> = self
            .records
            .values()
            .map(|(r, _)| r)
            .filter(|r| r.source == path)
            .collect();
        let complete = mine.len() as u64 == s.triplets
            && mine
                .iter()
                .all(|r| self.files(&r.id, ext).iter().all(|p| p.is_file()));
        complete.then_some(s.triplets)
    }

    fn save_state(&self) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.state)
            .map_err(|e| Error::Internal(format!("state file: {e}")))?;
        write_atomic(&self.root.join(STATE), format!("{text}\n").as_bytes())
    }

    fn write_manifest(&self) -> Result<()> {
        let mut text = String::new();
        for (_, line) in self.records.values() {
            text.push_str(line);
            text.push('\n');
        }
        write_atomic(&self.root.join(MANIFEST), text.as_bytes())
    }

    /// Sort the manifest and write both lists from it (every triplet of the
    /// folder, from this run and earlier ones).
    pub fn close(mut self) -> Result<(usize, usize)> {
        self.manifest = None;
        self.write_manifest()?;
        let (mut train, mut test) = (String::new(), String::new());
        let (mut n_train, mut n_test) = (0, 0);
        for (r, _) in self.records.values() {
            if r.split == "test" {
                test.push_str(&r.id);
                test.push('\n');
                n_test += 1;
            } else {
                train.push_str(&r.id);
                train.push('\n');
                n_train += 1;
            }
        }
        write_atomic(&self.root.join(TRAIN_LIST), train.as_bytes())?;
        write_atomic(&self.root.join(TEST_LIST), test.as_bytes())?;
        Ok((n_train, n_test))
    }
}

/// The folder of triplet `id` under `root`.
pub fn triplet_folder(root: &Path, id: &str) -> PathBuf {
    root.join("sequences").join(id)
}

/// `im1`, `im2`, `im3` of triplet `id`.
pub fn triplet_files(root: &Path, id: &str, ext: &str) -> [PathBuf; 3] {
    let dir = triplet_folder(root, id);
    [1, 2, 3].map(|k| dir.join(format!("im{k}.{ext}")))
}

/// Write the three pictures of triplet `id` (temporary names, renamed).
pub fn write_triplet(root: &Path, id: &str, ext: &str, images: [&[u8]; 3]) -> Result<()> {
    let dir = triplet_folder(root, id);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::output(&dir, format!("cannot create the folder: {e}")))?;
    for (path, bytes) in triplet_files(root, id, ext).iter().zip(images) {
        write_atomic(path, bytes)?;
    }
    Ok(())
}

/// Write `bytes` to `path` under a temporary name, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            Error::output(path, format!("cannot write: {e}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_vimeo_layout() {
        assert_eq!(sequence_id(0), "00001/0001");
        assert_eq!(sequence_id(999), "00001/1000");
        assert_eq!(sequence_id(1000), "00002/0001");
    }

    #[test]
    fn the_split_is_by_shot_and_near_the_fraction() {
        let p = Path::new("/a/ep01.mkv");
        let n = (0..10_000).filter(|&s| is_test_shot(p, s, 0.1)).count();
        assert!((900..1100).contains(&n), "{n} of 10000 shots held out");
        // The file name decides, not the folder.
        for s in 0..100 {
            assert_eq!(
                is_test_shot(p, s, 0.3),
                is_test_shot(Path::new("b/ep01.mkv"), s, 0.3)
            );
        }
        assert!(!(0..100).any(|s| is_test_shot(p, s, 0.0)));
    }

    #[test]
    fn other_settings_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = BTreeMap::new();
        s.insert("height".to_string(), serde_json::json!(720));
        drop(Dataset::open(dir.path(), s.clone()).unwrap());
        drop(Dataset::open(dir.path(), s.clone()).unwrap());
        s.insert("height".to_string(), serde_json::json!(540));
        let e = Dataset::open(dir.path(), s).err().unwrap().to_string();
        assert!(e.contains("height = 720, this run has 540"), "{e}");
    }
}
