//! The pictures a data set holds: a decoded frame cropped (burned-in
//! subtitles), resized (Lanczos3, never up) and encoded as JPEG or PNG
//! bytes by FFmpeg's own encoders (no image crate; the encoding itself is
//! [`crate::media::still::encode`], with the rest of the FFmpeg use).
//!
//! JPEG is written 4:4:4 (no chroma subsampling: anime's thin coloured lines
//! keep their colour) through FFmpeg's `mjpeg` encoder. Its quantiser is a
//! qscale that multiplies the MPEG-1 intra matrix (mean 33.3) by qscale / 8,
//! where libjpeg's `quality` scales the JPEG Annex K table (mean 57.6) by
//! S = 200 - 2 quality (quality >= 50) or 5000 / quality percent; matching
//! the means gives qscale = S x 0.138, so `--quality 95` is qscale 1 (a mean
//! quantiser of 4.2, libjpeg quality 96 by the same mean), 90 is qscale 3,
//! 75 is 7. Checked by the unit tests `jpeg_quality_maps_to_the_quantiser`
//! and `jpeg_tables_follow_the_quality` (the table FFmpeg writes).

use crate::color::{to_rgb, Colorimetry};
use crate::error::{Error, Result};
use crate::picture::{Picture, RgbImage};
use crate::resize::{resize_into, Filter, Planar};

pub use crate::media::still::{encode, interleaved, jpeg_qscale, StillFormat};

/// Where a frame's pixels go: rows cut off top and bottom, then the size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Source size.
    pub width: usize,
    pub height: usize,
    /// Rows cut off at the top and the bottom.
    pub top: usize,
    pub bottom: usize,
    /// Written size.
    pub out_width: usize,
    pub out_height: usize,
}

impl Geometry {
    /// Crop `crop_top` / `crop_bottom` (fractions of the height) and scale
    /// to `height` rows, never up; the width follows the display aspect
    /// ratio (`sar`: the sample aspect ratio, 1 for square pixels).
    pub fn new(
        width: usize,
        height: usize,
        sar: f64,
        crop_top: f64,
        crop_bottom: f64,
        target_height: usize,
    ) -> std::result::Result<Geometry, String> {
        let top = (crop_top * height as f64).round() as usize;
        let bottom = (crop_bottom * height as f64).round() as usize;
        let rows = height.saturating_sub(top + bottom);
        if rows < 16 || width < 16 {
            return Err(format!(
                "a {width}x{height} video cropped by --crop-top {crop_top} and --crop-bottom {crop_bottom} keeps {rows} rows (expected >= 16)"
            ));
        }
        let out_height = target_height.min(rows);
        let sar = if sar.is_finite() && sar > 0.0 {
            sar
        } else {
            1.0
        };
        let display_width = width as f64 * sar;
        let out_width = ((display_width * out_height as f64 / rows as f64).round() as usize).max(1);
        Ok(Geometry {
            width,
            height,
            top,
            bottom,
            out_width,
            out_height,
        })
    }

    /// Rows kept by the crop.
    pub fn rows(&self) -> usize {
        self.height - self.top - self.bottom
    }
}

/// The frame as the data set stores it: RGB, cropped and resized.
pub fn prepare(picture: &Picture, cm: Colorimetry, g: &Geometry) -> Result<RgbImage> {
    let mut out = RgbImage::new(g.out_width, g.out_height);
    prepare_into(picture, cm, g, &mut out.data)?;
    Ok(out)
}

/// [`prepare`] into `out` (3 planes of the written size), so that a
/// worker reuses one buffer (a fresh 11 MB buffer per picture costs page
/// faults).
fn prepare_into(picture: &Picture, cm: Colorimetry, g: &Geometry, out: &mut [f32]) -> Result<()> {
    if (picture.width, picture.height) != (g.width, g.height) {
        return Err(Error::Internal(format!(
            "a {}x{} picture where the stream is {}x{}",
            picture.width, picture.height, g.width, g.height
        )));
    }
    let rgb = to_rgb(picture, cm);
    let (w, rows) = (g.width, g.rows());
    let n_out = g.out_width * g.out_height;
    for (c, out) in out.chunks_exact_mut(n_out).enumerate() {
        // The crop of one plane is a contiguous run of rows.
        let plane = &rgb.plane(c)[g.top * w..(g.top + rows) * w];
        if (g.out_width, g.out_height) == (w, rows) {
            out.copy_from_slice(plane);
        } else {
            let src = Planar::new(plane, w, rows, 1).map_err(Error::Internal)?;
            resize_into(&src, out, g.out_width, g.out_height, Filter::Lanczos3)
                .map_err(Error::Internal)?;
        }
    }
    Ok(())
}

/// Crop, resize and encode a frame: the bytes of one picture file.
pub fn still(
    picture: &Picture,
    cm: Colorimetry,
    g: &Geometry,
    format: StillFormat,
    quality: u8,
) -> Result<Vec<u8>> {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with(|buf| {
        let mut data = std::mem::take(&mut *buf.borrow_mut());
        data.resize(3 * g.out_width * g.out_height, 0.0);
        let mut img = RgbImage {
            width: g.out_width,
            height: g.out_height,
            data,
        };
        let made = prepare_into(picture, cm, g, &mut img.data)
            .and_then(|()| encode(&img, format, quality));
        *buf.borrow_mut() = img.data;
        made
    })
}

/// Decode a still written by [`encode`] (or any PNG/JPEG) to interleaved
/// 8-bit RGB: (width, height, bytes). For tests and `eval`.
pub fn decode(path: &std::path::Path) -> Result<(usize, usize, Vec<u8>)> {
    let mut dec = crate::media::decode::VideoDecoder::open(
        path,
        None,
        crate::fields::FieldsMode::Progressive,
    )?;
    let cm = dec.format().colorimetry();
    let frame = dec
        .next_frame()?
        .ok_or_else(|| Error::input(path, "holds no picture"))?;
    let img = to_rgb(&frame.picture, cm);
    Ok((img.width, img.height, interleaved(&img)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_quality_maps_to_the_quantiser() {
        assert_eq!(jpeg_qscale(95), 1);
        assert_eq!(jpeg_qscale(100), 1);
        assert_eq!(jpeg_qscale(90), 3);
        assert_eq!(jpeg_qscale(75), 7);
        assert_eq!(jpeg_qscale(50), 14);
        assert_eq!(jpeg_qscale(1), 31);
    }

    /// The encoder uses the quantiser asked for: FFmpeg writes the MPEG-1
    /// intra matrix times qscale / 8 as the luma table (its second entry
    /// in zigzag order is 16).
    #[test]
    fn jpeg_tables_follow_the_quality() {
        crate::media::init(0);
        let img = RgbImage::new(32, 32);
        for (quality, want) in [(95u8, 2u8), (90, 6), (75, 14)] {
            let bytes = encode(&img, StillFormat::Jpg, quality).unwrap();
            let at = bytes
                .windows(2)
                .position(|w| w == [0xff, 0xdb])
                .expect("a quantisation table");
            // FF DB, length (2), precision/id (1), then 64 values.
            assert_eq!(bytes[at + 5 + 1], want, "quality {quality}");
        }
    }

    #[test]
    fn geometry_crops_scales_down_never_up() {
        let g = Geometry::new(1920, 1080, 1.0, 0.0, 0.0, 720).unwrap();
        assert_eq!((g.out_width, g.out_height), (1280, 720));
        let g = Geometry::new(640, 480, 1.0, 0.0, 0.0, 720).unwrap();
        assert_eq!((g.out_width, g.out_height), (640, 480));
        let g = Geometry::new(1920, 1080, 1.0, 0.0, 0.1, 720).unwrap();
        assert_eq!((g.top, g.bottom, g.rows()), (0, 108, 972));
        assert_eq!((g.out_width, g.out_height), (1422, 720));
        // Anamorphic DVD: 720x480 at SAR 32/27 shows 853x480.
        let g = Geometry::new(720, 480, 32.0 / 27.0, 0.0, 0.0, 720).unwrap();
        assert_eq!((g.out_width, g.out_height), (853, 480));
        assert!(Geometry::new(64, 20, 1.0, 0.5, 0.4, 720).is_err());
    }

    #[test]
    fn jpeg_and_png_round_trip() {
        crate::media::init(0);
        let (w, h) = (48, 32);
        let img = crate::testutil::gradient(w, h);
        let dir = tempfile::tempdir().unwrap();
        let want = interleaved(&img);
        for (fmt, tol) in [(StillFormat::Png, 0.0), (StillFormat::Jpg, 2.0)] {
            let bytes = encode(&img, fmt, 95).unwrap();
            let path = dir.path().join(format!("a.{}", fmt.extension()));
            std::fs::write(&path, bytes).unwrap();
            let (dw, dh, got) = decode(&path).unwrap();
            assert_eq!((dw, dh), (w, h));
            let mad = want
                .iter()
                .zip(&got)
                .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs())
                .sum::<f64>()
                / want.len() as f64;
            assert!(mad <= tol, "{fmt:?}: mean abs diff {mad}");
        }
    }
}
