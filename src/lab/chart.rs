//! The `eval --chart` picture: one row per method (models blue, FFmpeg's
//! minterpolate orange, baselines grey) with three bars: PSNR, SSIM and the line-art chamfer distance,
//! each with its value, labelled in a built-in 5x7 pixel font (no font
//! files, no image crate).
//!
//! ```text
//!                      PSNR DB            SSIM              CHAMFER PX
//! INTERPOLATION
//! RIFE-4.26 (MODEL)    ██████████ 32.20   █████████ 0.9544  ██ 0.198
//! BLEND (BASELINE)     ████████ 30.41     █████████ 0.9557  ███ 0.219
//! ```

use std::path::Path;

use super::eval::{EvalReport, MethodScores};
use crate::error::Result;

/// Font scale: each font pixel is 2x2 picture pixels.
const SCALE: usize = 2;
/// Advance of one character, pixels.
const ADVANCE: usize = 6 * SCALE;
/// Height of one row (a method, a section title or the header).
pub const ROW: usize = 28;
/// Width of one bar panel (bar and value).
pub const PANEL: usize = 300;
/// Longest bar.
const BAR: usize = 200;
const MARGIN: usize = 12;

pub const MODEL_COLOUR: [u8; 3] = [60, 120, 215];
pub const BASELINE_COLOUR: [u8; 3] = [150, 150, 150];
/// FFmpeg's minterpolate, the classic peer.
pub const PEER_COLOUR: [u8; 3] = [230, 140, 40];

/// The colour of a method's bars by its kind.
pub fn colour(kind: &str) -> [u8; 3] {
    match kind {
        "model" => MODEL_COLOUR,
        "peer" => PEER_COLOUR,
        _ => BASELINE_COLOUR,
    }
}

/// 5x7 glyphs, one byte per row, bit 4 the leftmost pixel.
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        'A' => [14, 17, 17, 31, 17, 17, 17],
        'B' => [30, 17, 17, 30, 17, 17, 30],
        'C' => [14, 17, 16, 16, 16, 17, 14],
        'D' => [30, 17, 17, 17, 17, 17, 30],
        'E' => [31, 16, 16, 30, 16, 16, 31],
        'F' => [31, 16, 16, 30, 16, 16, 16],
        'G' => [14, 17, 16, 23, 17, 17, 15],
        'H' => [17, 17, 17, 31, 17, 17, 17],
        'I' => [14, 4, 4, 4, 4, 4, 14],
        'J' => [7, 2, 2, 2, 2, 18, 12],
        'K' => [17, 18, 20, 24, 20, 18, 17],
        'L' => [16, 16, 16, 16, 16, 16, 31],
        'M' => [17, 27, 21, 21, 17, 17, 17],
        'N' => [17, 17, 25, 21, 19, 17, 17],
        'O' => [14, 17, 17, 17, 17, 17, 14],
        'P' => [30, 17, 17, 30, 16, 16, 16],
        'Q' => [14, 17, 17, 17, 21, 18, 13],
        'R' => [30, 17, 17, 30, 20, 18, 17],
        'S' => [15, 16, 16, 14, 1, 1, 30],
        'T' => [31, 4, 4, 4, 4, 4, 4],
        'U' => [17, 17, 17, 17, 17, 17, 14],
        'V' => [17, 17, 17, 17, 17, 10, 4],
        'W' => [17, 17, 17, 21, 21, 21, 10],
        'X' => [17, 17, 10, 4, 10, 17, 17],
        'Y' => [17, 17, 17, 10, 4, 4, 4],
        'Z' => [31, 1, 2, 4, 8, 16, 31],
        '0' => [14, 17, 19, 21, 25, 17, 14],
        '1' => [4, 12, 4, 4, 4, 4, 14],
        '2' => [14, 17, 1, 2, 4, 8, 31],
        '3' => [31, 2, 4, 2, 1, 17, 14],
        '4' => [2, 6, 10, 18, 31, 2, 2],
        '5' => [31, 16, 30, 1, 1, 17, 14],
        '6' => [6, 8, 16, 30, 17, 17, 14],
        '7' => [31, 1, 2, 4, 8, 8, 8],
        '8' => [14, 17, 17, 14, 17, 17, 14],
        '9' => [14, 17, 17, 15, 1, 2, 12],
        '.' => [0, 0, 0, 0, 0, 12, 12],
        '-' => [0, 0, 0, 31, 0, 0, 0],
        '(' => [2, 4, 8, 8, 8, 4, 2],
        ')' => [8, 4, 2, 2, 2, 4, 8],
        '/' => [0, 1, 2, 4, 8, 16, 0],
        '_' => [0, 0, 0, 0, 0, 0, 31],
        ':' => [0, 12, 12, 0, 12, 12, 0],
        '+' => [0, 4, 4, 31, 4, 4, 0],
        ' ' => [0; 7],
        // Anything else: a box, so a missing glyph shows.
        _ => [31, 17, 17, 17, 17, 17, 31],
    }
}

/// A white RGB24 picture to draw bars, pictures and 5x7 text on.
pub(crate) struct Canvas {
    pub(crate) w: usize,
    pub(crate) h: usize,
    pub(crate) rgb: Vec<u8>,
}

/// Pixels one character of [`Canvas::text`] advances.
pub(crate) const TEXT_ADVANCE: usize = ADVANCE;
/// Height of a line of [`Canvas::text`], pixels.
pub(crate) const TEXT_HEIGHT: usize = 7 * SCALE;

impl Canvas {
    pub(crate) fn new(w: usize, h: usize) -> Canvas {
        Canvas {
            w,
            h,
            rgb: vec![255; w * h * 3],
        }
    }

    pub(crate) fn fill(&mut self, x: usize, y: usize, w: usize, h: usize, c: [u8; 3]) {
        for yy in y..(y + h).min(self.h) {
            for xx in x..(x + w).min(self.w) {
                self.rgb[(yy * self.w + xx) * 3..][..3].copy_from_slice(&c);
            }
        }
    }

    /// Copy an RGB24 picture of `w` x `h` with its top left at (x, y),
    /// clipped to the canvas.
    pub(crate) fn blit(&mut self, x: usize, y: usize, w: usize, h: usize, rgb: &[u8]) {
        for yy in 0..h.min(self.h.saturating_sub(y)) {
            let cols = w.min(self.w.saturating_sub(x));
            let src = &rgb[yy * w * 3..(yy * w + cols) * 3];
            let at = ((y + yy) * self.w + x) * 3;
            self.rgb[at..at + cols * 3].copy_from_slice(src);
        }
    }

    pub(crate) fn text(&mut self, x: usize, y: usize, s: &str) {
        for (k, c) in s.chars().enumerate() {
            let g = glyph(c);
            for (row, bits) in g.iter().enumerate() {
                for col in 0..5 {
                    if bits & (16 >> col) != 0 {
                        self.fill(
                            x + k * ADVANCE + col * SCALE,
                            y + row * SCALE,
                            SCALE,
                            SCALE,
                            [0, 0, 0],
                        );
                    }
                }
            }
        }
    }
}

fn label(m: &MethodScores) -> String {
    format!("{} ({})", m.name, m.kind)
}

/// Where the rows lie: (title or None, method) in drawing order.
fn rows(r: &EvalReport) -> Vec<(Option<&'static str>, Option<&MethodScores>)> {
    let mut out = vec![(None, None)]; // the header
    for (title, ms) in [
        ("interpolation", &r.interpolation),
        ("upscaling", &r.upscaling),
    ] {
        if ms.is_empty() {
            continue;
        }
        out.push((Some(title), None));
        out.extend(ms.iter().map(|m| (None, Some(m))));
    }
    out
}

/// Left edge of the first panel, pixels.
pub fn label_width(r: &EvalReport) -> usize {
    let longest = r
        .interpolation
        .iter()
        .chain(&r.upscaling)
        .map(|m| label(m).chars().count())
        .max()
        .unwrap_or(0)
        .max("interpolation".len());
    MARGIN + longest * ADVANCE + MARGIN
}

/// Row index (0 = header) of each method, by name, in drawing order.
pub fn method_rows(r: &EvalReport) -> Vec<(String, usize)> {
    rows(r)
        .iter()
        .enumerate()
        .filter_map(|(i, (_, m))| m.map(|m| (m.name.clone(), i)))
        .collect()
}

/// Draw the chart and write it as a PNG.
pub fn write_chart(path: &Path, r: &EvalReport) -> Result<()> {
    let rows = rows(r);
    let left = label_width(r);
    // The last title is the longest: room for it past its panel.
    let (w, h) = (left + 3 * PANEL + 4 * MARGIN, rows.len() * ROW + MARGIN);
    let mut c = Canvas::new(w, h);
    let titles = ["PSNR dB", "SSIM", "chamfer px (lower: better)"];
    for (k, t) in titles.iter().enumerate() {
        c.text(left + k * PANEL, MARGIN / 2 + 4, t);
    }
    // Scales per section, so interpolation and upscaling each fill the bars.
    let section_max = |ms: &[MethodScores], f: fn(&MethodScores) -> f64| {
        ms.iter().map(f).fold(f64::MIN, f64::max).max(1e-9)
    };
    for (i, (title, m)) in rows.iter().enumerate() {
        let y = i * ROW + MARGIN / 2;
        if let Some(t) = title {
            c.text(MARGIN, y + 8, t);
            c.fill(MARGIN, y + ROW - 4, w - 2 * MARGIN, 1, [200, 200, 200]);
        }
        let Some(m) = m else { continue };
        let section: &[MethodScores] = if r.interpolation.iter().any(|x| x.name == m.name) {
            &r.interpolation
        } else {
            &r.upscaling
        };
        let colour = colour(&m.kind);
        c.text(MARGIN, y + 8, &label(m));
        let values = [
            (
                m.scores.psnr_db,
                section_max(section, |x| x.scores.psnr_db),
                format!("{:.2}", m.scores.psnr_db),
            ),
            (m.scores.ssim, 1.0, format!("{:.4}", m.scores.ssim)),
            (
                m.scores.chamfer_px,
                section_max(section, |x| x.scores.chamfer_px),
                format!("{:.3}", m.scores.chamfer_px),
            ),
        ];
        for (k, (v, max, text)) in values.iter().enumerate() {
            let len = ((v / max).clamp(0.0, 1.0) * BAR as f64).round().max(1.0) as usize;
            let x = left + k * PANEL;
            c.fill(x, y + 5, len, ROW - 10, colour);
            c.text(x + len + 6, y + 8, text);
        }
    }
    crate::media::still::write_png(path, c.w, c.h, &c.rgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_drawn_character_has_a_glyph() {
        let boxed = glyph('\u{1}');
        for c in "abcdefghijklmnopqrstuvwxyz0123456789.-()/_:+".chars() {
            assert_ne!(glyph(c), boxed, "{c}");
        }
    }
}
