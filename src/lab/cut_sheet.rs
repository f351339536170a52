//! `info --gate --sheet cuts.png`: every CUT and FLASH the gate found as a
//! strip of four thumbnails (frames c-2, c-1, c, c+1, the new shot starting
//! at c), each with its frame number, and the rule that fired, so a person
//! can check the cuts of a whole episode by eye in a minute.
//!
//! The frames come from a second decode of the same range (the first pass
//! kept no pictures, so its memory stays flat): the same decoder and fields
//! step, so the same frames.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::chart::{Canvas, TEXT_ADVANCE, TEXT_HEIGHT};
use crate::clip::ClipRange;
use crate::error::{Error, Result};
use crate::fields::FieldsMode;
use crate::gate::{Class, GateSummary};
use crate::media::decode::VideoDecoder;
use crate::media::still::write_png;
use crate::picture::RgbImage;

/// Width of one thumbnail, pixels.
pub const THUMB_WIDTH: usize = 192;
const GAP: usize = 6;
const MARGIN: usize = 8;
/// Frames shown before and after a break: c-2, c-1 | c, c+1.
const BEFORE: u64 = 2;
const AFTER: u64 = 1;

/// A sheet must be a PNG in a folder that exists: checked before the analysis.
pub fn check_path(path: &Path) -> Result<()> {
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        return Err(Error::output(path, "the sheet is a PNG; name it cuts.png"));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent {
        if !dir.is_dir() {
            return Err(Error::output(
                path,
                format!("folder {} does not exist", dir.display()),
            ));
        }
    }
    Ok(())
}

/// One strip: the break's first frame, its label and rule.
struct Strip {
    at: u64,
    title: String,
}

/// Write the sheet of `summary`'s cuts and flashes for `path`.
pub fn write(
    sheet: &Path,
    path: &Path,
    clip: Option<ClipRange>,
    fields: FieldsMode,
    summary: &GateSummary,
) -> Result<usize> {
    let strips: Vec<Strip> = summary
        .transitions
        .iter()
        .filter(|t| t.class.is_break())
        // A flash is three transitions; one strip at its first.
        .filter(|t| {
            t.class == Class::Cut
                || !summary
                    .transitions
                    .iter()
                    .any(|p| p.to + 1 == t.to && p.class == Class::Flash)
        })
        .map(|t| Strip {
            at: t.to,
            title: format!(
                "{} AT {}  {}",
                t.class.name(),
                t.to,
                t.evidence
                    .map(|e| format!("{:?}", e.rule))
                    .unwrap_or_default()
            )
            .to_uppercase(),
        })
        .collect();
    let wanted: BTreeSet<u64> = strips
        .iter()
        .flat_map(|s| s.at.saturating_sub(BEFORE)..=s.at + AFTER)
        .collect();
    let thumbs = thumbnails(path, clip, fields, &wanted)?;
    let th = thumbs
        .values()
        .map(|t| t.1)
        .max()
        .unwrap_or(THUMB_WIDTH * 9 / 16);
    let row_h = TEXT_HEIGHT + 4 + th + 4 + TEXT_HEIGHT + GAP * 2;
    let frames = (BEFORE + AFTER + 1) as usize;
    let width = 2 * MARGIN + frames * THUMB_WIDTH + (frames - 1) * GAP + GAP;
    let height = 2 * MARGIN + row_h * strips.len().max(1);
    let mut canvas = Canvas::new(width, height);
    if strips.is_empty() {
        canvas.text(MARGIN, MARGIN, "NO CUT OR FLASH");
    }
    for (row, s) in strips.iter().enumerate() {
        let y0 = MARGIN + row * row_h;
        canvas.text(MARGIN, y0, &s.title);
        let ty = y0 + TEXT_HEIGHT + 4;
        for (k, f) in (s.at.saturating_sub(BEFORE)..=s.at + AFTER).enumerate() {
            // The new shot starts after a wider gap and a red bar.
            let x = MARGIN + k * (THUMB_WIDTH + GAP) + if f >= s.at { GAP } else { 0 };
            if f == s.at {
                canvas.fill(x - GAP, ty, 3, th, [220, 40, 40]);
            }
            match thumbs.get(&f) {
                Some((w, h, rgb)) => canvas.blit(x, ty, *w, *h, rgb),
                None => canvas.fill(x, ty, THUMB_WIDTH, th, [220, 220, 220]),
            }
            let label = f.to_string();
            let lx = x + THUMB_WIDTH.saturating_sub(label.len() * TEXT_ADVANCE) / 2;
            canvas.text(lx, ty + th + 4, &label);
        }
    }
    write_png(sheet, canvas.w, canvas.h, &canvas.rgb)?;
    Ok(strips.len())
}

/// An RGB24 picture: width, height, bytes.
type Rgb24 = (usize, usize, Vec<u8>);

/// RGB24 thumbnails of the `wanted` frames.
fn thumbnails(
    path: &Path,
    clip: Option<ClipRange>,
    fields: FieldsMode,
    wanted: &BTreeSet<u64>,
) -> Result<BTreeMap<u64, Rgb24>> {
    let mut out = BTreeMap::new();
    let Some(&last) = wanted.last() else {
        return Ok(out);
    };
    let mut dec = VideoDecoder::open(path, clip, fields)?;
    let cm = dec.format().colorimetry();
    while let Some(frame) = dec.next_frame()? {
        if frame.index > last {
            break;
        }
        if wanted.contains(&frame.index) {
            let rgb = crate::color::to_rgb(&frame.picture, cm);
            out.insert(frame.index, shrink(&rgb, THUMB_WIDTH));
        }
    }
    Ok(out)
}

/// Box-average an RGB picture to `width` pixels wide (height by aspect),
/// as RGB24.
fn shrink(img: &RgbImage, width: usize) -> Rgb24 {
    let (w, h) = (img.width.max(1), img.height.max(1));
    let tw = width.min(w).max(1);
    let th = (h * tw).div_ceil(w).max(1);
    let plane = w * h;
    let mut rgb = vec![0u8; tw * th * 3];
    for ty in 0..th {
        let (y0, y1) = (ty * h / th, ((ty + 1) * h / th).max(ty * h / th + 1));
        for tx in 0..tw {
            let (x0, x1) = (tx * w / tw, ((tx + 1) * w / tw).max(tx * w / tw + 1));
            for c in 0..3 {
                let mut sum = 0f32;
                for y in y0..y1.min(h) {
                    let row = &img.data[c * plane + y * w..c * plane + y * w + w];
                    sum += row[x0..x1.min(w)].iter().sum::<f32>();
                }
                let n = ((y1.min(h) - y0) * (x1.min(w) - x0)).max(1) as f32;
                rgb[(ty * tw + tx) * 3 + c] = (sum / n * 255.0).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    (tw, th, rgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_keeps_the_aspect_and_averages() {
        // Red on the left half, black on the right; green and blue 0.
        let mut data = vec![0.0f32; 24];
        for i in [0, 1, 4, 5] {
            data[i] = 1.0;
        }
        let img = RgbImage {
            width: 4,
            height: 2,
            data,
        };
        let (w, h, rgb) = shrink(&img, 2);
        assert_eq!((w, h), (2, 1));
        assert_eq!(rgb[0], 255);
        assert_eq!(rgb[3], 0);
    }

    #[test]
    fn a_sheet_must_be_a_png_in_a_folder_that_exists() {
        assert!(check_path(Path::new("cuts.jpg")).is_err());
        assert!(check_path(Path::new("/no/such/folder/cuts.png")).is_err());
        assert!(check_path(Path::new("cuts.png")).is_ok());
    }
}
