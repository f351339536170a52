//! Output-size rules for the upscale stage: turn `--scale` / `--height` /
//! `--width` into the final frame size and the number of super-resolution
//! model passes.
//!
//! # Pixel aspect
//! The input's sample aspect ratio (SAR) is **kept**: both storage sides are
//! scaled by the same factor and the SAR is copied to the output unchanged.
//! An anamorphic DVD (720x480, SAR 32:27) therefore stays anamorphic
//! (`--height 960` gives 1440x960 with SAR 32:27, displayed as 16:9), exactly
//! as the source was, instead of being resampled to square pixels. So
//! `Height(H)` gives `width = round(w * H / h)`, and `Width(W)` gives
//! `height = round(h * W / w)`; the SAR does not enter the arithmetic.
//!
//! # Rounding
//! Both sides are rounded to the nearest even number (4:2:0 chroma needs
//! even sizes; an exact half rounds up), must be at least [`MIN_SIDE`] and at
//! most [`MAX_SIDE`], and may not exceed the input times the model's factor.
//! An odd requested `--height`/`--width` is rounded the same way before the
//! other side is derived from it.

use std::fmt;

/// Smallest allowed output side, in pixels.
pub const MIN_SIDE: u32 = 2;
/// Largest allowed output side, in pixels.
pub const MAX_SIDE: u32 = 16384;

/// What the user asked for on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SizeRequest {
    /// `--scale S`: multiply both sides by `S` (`1` = keep the size, no
    /// upscale; fractional values such as `1.5` are allowed).
    Scale(f64),
    /// `--height H`: output height `H`, width follows the storage aspect.
    Height(u32),
    /// `--width W`: output width `W`, height follows the storage aspect.
    Width(u32),
}

impl SizeRequest {
    /// The command-line setting this request came from.
    pub fn flag(&self) -> &'static str {
        match self {
            SizeRequest::Scale(_) => "--scale",
            SizeRequest::Height(_) => "--height",
            SizeRequest::Width(_) => "--width",
        }
    }
}

impl fmt::Display for SizeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeRequest::Scale(s) => write!(f, "--scale {s}"),
            SizeRequest::Height(v) => write!(f, "--height {v}"),
            SizeRequest::Width(v) => write!(f, "--width {v}"),
        }
    }
}

/// The resolved output geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputSize {
    /// Output storage width (even, `MIN_SIDE..=MAX_SIDE`).
    pub width: u32,
    /// Output storage height (even, `MIN_SIDE..=MAX_SIDE`).
    pub height: u32,
    /// How many times the SR model runs per frame: `0` when no upscale is
    /// needed, else `1`. "No upscale" means each output side is at most the
    /// input side rounded up to even, so `--scale 1` on an odd-sized input
    /// (496x241 -> 496x242) is a plain resize, not a model pass.
    pub model_passes: u32,
    /// Sample aspect ratio to tag on the output: the input's, reduced to
    /// lowest terms (`1:1` when the input's was unknown or had a zero term).
    pub sar: (u32, u32),
}

/// Resolve the output size.
///
/// * `w`, `h`: input storage size in pixels.
/// * `sar`: input sample aspect ratio `(num, den)`; `(0, _)`/`(_, 0)` mean
///   unknown and are treated as `1:1`. It is passed through to the output
///   (see the module docs: storage aspect is preserved, SAR kept).
/// * `model_scale`: the SR model's native factor (2 or 4).
///
/// Errors name the setting at fault and the allowed range or the largest
/// (or smallest) allowed value.
pub fn output_size(
    req: SizeRequest,
    w: u32,
    h: u32,
    sar: (u32, u32),
    model_scale: u32,
) -> Result<OutputSize, String> {
    if w == 0 || h == 0 {
        return Err(format!(
            "the input video size is {w}x{h}: there is no picture to upscale; check the video stream"
        ));
    }
    if model_scale == 0 {
        return Err(
            "the super-resolution model reports a scale factor of 0; use a x2 or x4 model"
                .to_string(),
        );
    }
    let sar = normalise_sar(sar);
    let geo = Geometry { w, h, model_scale };

    // Argument checks that do not depend on the rounding.
    match req {
        SizeRequest::Scale(s) if !(s.is_finite() && s > 0.0 && s <= f64::from(model_scale)) => {
            return Err(format!(
                "--scale {s} is out of range: it must be greater than 0 and at most {model_scale} \
                 (the super-resolution model's native x{model_scale} factor)"
            ));
        }
        SizeRequest::Height(0) | SizeRequest::Width(0) => {
            return Err(format!(
                "{req} is out of range: it must be at least {MIN_SIDE} pixels"
            ));
        }
        _ => {}
    }

    let (width, height) = geo.dims(req);
    match geo.problem(width, height) {
        None => Ok(OutputSize {
            width: width as u32,
            height: height as u32,
            model_passes: geo.passes(width, height),
            sar,
        }),
        Some(p) => Err(geo.explain(req, width, height, p)),
    }
}

/// Normalise a SAR: unknown/zero -> 1:1, otherwise reduced to lowest terms.
pub fn normalise_sar((num, den): (u32, u32)) -> (u32, u32) {
    if num == 0 || den == 0 {
        return (1, 1);
    }
    crate::rational::reduce(num, den)
}

/// Round to the nearest even integer (an exact odd value rounds up), in u64
/// so that nothing overflows before the range checks.
fn round_even(x: f64) -> u64 {
    // `as` saturates for huge values and maps NaN to 0; both then fail the
    // range checks.
    ((x / 2.0).round() as u64).saturating_mul(2)
}

fn even_up(v: u64) -> u64 {
    v + (v & 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    TooSmall,
    BeyondModel,
    TooLarge,
}

struct Geometry {
    w: u32,
    h: u32,
    model_scale: u32,
}

impl Geometry {
    /// Output size for a request, before range checks.
    fn dims(&self, req: SizeRequest) -> (u64, u64) {
        let (w, h) = (f64::from(self.w), f64::from(self.h));
        match req {
            SizeRequest::Scale(s) => (round_even(w * s), round_even(h * s)),
            SizeRequest::Height(t) => {
                let height = round_even(f64::from(t));
                (round_even(w * height as f64 / h), height)
            }
            SizeRequest::Width(t) => {
                let width = round_even(f64::from(t));
                (width, round_even(h * width as f64 / w))
            }
        }
    }

    /// Largest output sides the model can deliver. Rounded up to even so
    /// that a model with an odd factor is not refused by the even rounding.
    fn model_limit(&self) -> (u64, u64) {
        let ms = u64::from(self.model_scale);
        (
            even_up(u64::from(self.w) * ms),
            even_up(u64::from(self.h) * ms),
        )
    }

    fn problem(&self, width: u64, height: u64) -> Option<Problem> {
        let (mw, mh) = self.model_limit();
        let min = u64::from(MIN_SIDE);
        let max = u64::from(MAX_SIDE);
        if width < min || height < min {
            Some(Problem::TooSmall)
        } else if width > mw || height > mh {
            Some(Problem::BeyondModel)
        } else if width > max || height > max {
            Some(Problem::TooLarge)
        } else {
            None
        }
    }

    fn passes(&self, width: u64, height: u64) -> u32 {
        let up = width > even_up(u64::from(self.w)) || height > even_up(u64::from(self.h));
        u32::from(up)
    }

    fn valid(&self, req: SizeRequest) -> bool {
        let (w, h) = self.dims(req);
        self.problem(w, h).is_none()
    }

    /// Largest (or smallest, for `TooSmall`) valid `--height`/`--width`
    /// value, found by walking even values from an estimate.
    fn bound_for_side(&self, req: SizeRequest, problem: Problem) -> Option<u32> {
        let make = |v: u32| match req {
            SizeRequest::Height(_) => SizeRequest::Height(v),
            _ => SizeRequest::Width(v),
        };
        let (own, other) = match req {
            SizeRequest::Height(_) => (u64::from(self.h), u64::from(self.w)),
            _ => (u64::from(self.w), u64::from(self.h)),
        };
        let ms = u64::from(self.model_scale);
        if problem == Problem::TooSmall {
            // The derived side must reach MIN_SIDE: other * t / own >= 1.
            let start = even_up((own / other).max(u64::from(MIN_SIDE)));
            let start = start.saturating_sub(4).max(2);
            let mut t = start;
            while t <= u64::from(MAX_SIDE) {
                if self.valid(make(t as u32)) {
                    return Some(t as u32);
                }
                t += 2;
            }
            None
        } else {
            let by_model = own * ms;
            let by_max_own = u64::from(MAX_SIDE);
            let by_max_other = (u64::from(MAX_SIDE) + 1) * own / other + 2;
            let start = by_model.min(by_max_own).min(by_max_other);
            let mut t = start - (start & 1);
            while t >= u64::from(MIN_SIDE) {
                if self.valid(make(t as u32)) {
                    return Some(t as u32);
                }
                t -= 2;
            }
            None
        }
    }

    fn explain(&self, req: SizeRequest, width: u64, height: u64, problem: Problem) -> String {
        let flag = req.flag();
        let (w, h, ms) = (self.w, self.h, self.model_scale);
        let what = match problem {
            Problem::TooSmall => format!(
                "{req} gives an output of {width}x{height} from the {w}x{h} input; \
                 each side must be at least {MIN_SIDE} pixels"
            ),
            Problem::BeyondModel => {
                let factor = (width as f64 / f64::from(w)).max(height as f64 / f64::from(h));
                format!(
                    "{req} would upscale the {w}x{h} input by {factor:.2}x to {width}x{height}, \
                     more than the super-resolution model's x{ms} factor"
                )
            }
            Problem::TooLarge => format!(
                "{req} gives an output of {width}x{height}, larger than the \
                 {MAX_SIDE}-pixel limit per side"
            ),
        };
        let hint = match req {
            SizeRequest::Scale(_) => {
                if problem == Problem::TooSmall {
                    // round_even(x) >= 2 iff x >= 1.
                    let s = 1.0 / f64::from(w.min(h));
                    let s = (s * 1000.0).ceil() / 1000.0;
                    format!("the smallest allowed {flag} is {s}")
                } else {
                    let s = f64::from(ms)
                        .min(f64::from(MAX_SIDE) / f64::from(w))
                        .min(f64::from(MAX_SIDE) / f64::from(h));
                    let s = (s * 1000.0).floor() / 1000.0;
                    format!("the largest allowed {flag} is {s}")
                }
            }
            _ => {
                let which = if problem == Problem::TooSmall {
                    "smallest"
                } else {
                    "largest"
                };
                match self.bound_for_side(req, problem) {
                    Some(v) => format!("the {which} allowed {flag} is {v}"),
                    None => format!("no {flag} value fits this {w}x{h} input; use --scale instead"),
                }
            }
        };
        format!("{what}; {hint}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(req: SizeRequest, w: u32, h: u32, sar: (u32, u32), ms: u32) -> OutputSize {
        output_size(req, w, h, sar, ms).unwrap_or_else(|e| panic!("{req} on {w}x{h}: {e}"))
    }

    #[test]
    fn scale_basic() {
        let o = ok(SizeRequest::Scale(2.0), 640, 360, (1, 1), 4);
        assert_eq!(
            (o.width, o.height, o.model_passes, o.sar),
            (1280, 720, 1, (1, 1))
        );
        let o = ok(SizeRequest::Scale(4.0), 640, 360, (0, 0), 4);
        assert_eq!((o.width, o.height), (2560, 1440));
        let o = ok(SizeRequest::Scale(1.5), 1280, 720, (1, 1), 2);
        assert_eq!((o.width, o.height, o.model_passes), (1920, 1080, 1));
    }

    #[test]
    fn scale_one_is_no_upscale() {
        let o = ok(SizeRequest::Scale(1.0), 1920, 1080, (1, 1), 4);
        assert_eq!((o.width, o.height, o.model_passes), (1920, 1080, 0));
        // Odd input: rounded up to even, still no model pass.
        let o = ok(SizeRequest::Scale(1.0), 496, 241, (1, 1), 4);
        assert_eq!((o.width, o.height, o.model_passes), (496, 242, 0));
        // Downscale needs no model either.
        let o = ok(SizeRequest::Scale(0.5), 1920, 1080, (1, 1), 4);
        assert_eq!((o.width, o.height, o.model_passes), (960, 540, 0));
    }

    #[test]
    fn odd_input_sizes() {
        let o = ok(SizeRequest::Scale(2.0), 496, 241, (1, 1), 4);
        assert_eq!((o.width, o.height), (992, 482));
        // 496*720/241 = 1481.74 -> 1482 (already even)
        let o = ok(SizeRequest::Height(720), 496, 241, (1, 1), 4);
        assert_eq!((o.width, o.height, o.model_passes), (1482, 720, 1));
        // 241*1000/496 = 485.9 -> 486
        let o = ok(SizeRequest::Width(1000), 496, 241, (1, 1), 4);
        assert_eq!((o.width, o.height), (1000, 486));
        // Odd requested height rounds to even first (721 -> 722).
        let o = ok(SizeRequest::Height(721), 1280, 720, (1, 1), 4);
        assert_eq!(o.height, 722);
        assert_eq!(o.width % 2, 0);
    }

    #[test]
    fn height_and_width() {
        let o = ok(SizeRequest::Height(1440), 1920, 1080, (1, 1), 2);
        assert_eq!((o.width, o.height, o.model_passes), (2560, 1440, 1));
        let o = ok(SizeRequest::Width(2560), 1920, 1080, (1, 1), 2);
        assert_eq!((o.width, o.height), (2560, 1440));
        let o = ok(SizeRequest::Height(1440), 640, 360, (1, 1), 4);
        assert_eq!((o.width, o.height), (2560, 1440));
        let o = ok(SizeRequest::Height(2160), 960, 540, (1, 1), 4);
        assert_eq!((o.width, o.height), (3840, 2160));
        // Target smaller than input: resize only.
        let o = ok(SizeRequest::Height(720), 1920, 1080, (1, 1), 4);
        assert_eq!((o.width, o.height, o.model_passes), (1280, 720, 0));
    }

    #[test]
    fn anamorphic_sar_is_kept() {
        let o = ok(SizeRequest::Height(960), 720, 480, (32, 27), 4);
        assert_eq!((o.width, o.height, o.sar), (1440, 960, (32, 27)));
        let o = ok(SizeRequest::Scale(2.0), 720, 480, (64, 54), 2);
        assert_eq!((o.width, o.height, o.sar), (1440, 960, (32, 27)));
        let o = ok(SizeRequest::Width(1440), 720, 576, (16, 15), 4);
        assert_eq!((o.width, o.height, o.sar), (1440, 1152, (16, 15)));
        // Unknown / partly zero SAR -> 1:1.
        assert_eq!(ok(SizeRequest::Scale(2.0), 720, 480, (0, 1), 4).sar, (1, 1));
        assert_eq!(ok(SizeRequest::Scale(2.0), 720, 480, (8, 0), 4).sar, (1, 1));
    }

    fn err(req: SizeRequest, w: u32, h: u32, ms: u32) -> String {
        match output_size(req, w, h, (1, 1), ms) {
            Ok(o) => panic!("{req} on {w}x{h} should fail, got {o:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn scale_errors() {
        for s in [
            0.0,
            -1.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            4.0001,
            5.0,
        ] {
            let e = err(SizeRequest::Scale(s), 640, 360, 4);
            assert!(e.contains("--scale"), "{e}");
            assert!(e.contains("greater than 0 and at most 4"), "{e}");
        }
        let e = err(SizeRequest::Scale(3.0), 640, 360, 2);
        assert!(e.contains("at most 2"), "{e}");
        // Too small after rounding.
        let e = err(SizeRequest::Scale(0.001), 640, 360, 4);
        assert!(e.contains("--scale") && e.contains("at least 2"), "{e}");
        // Beyond 16384 (x4 of a 4096-wide input).
        assert!(output_size(SizeRequest::Scale(4.0), 4096, 2160, (1, 1), 4).is_ok());
        let e = err(SizeRequest::Scale(4.0), 4100, 2160, 4);
        assert!(
            e.contains("16384") && e.contains("largest allowed --scale is 3.996"),
            "{e}"
        );
        let e = err(SizeRequest::Scale(4.0), 5000, 2000, 4);
        assert!(e.contains("largest allowed --scale is 3.276"), "{e}");
        assert!(output_size(SizeRequest::Scale(3.276), 5000, 2000, (1, 1), 4).is_ok());
    }

    #[test]
    fn side_errors() {
        let e = err(SizeRequest::Height(0), 640, 480, 4);
        assert!(e.contains("--height 0"), "{e}");
        let e = err(SizeRequest::Width(0), 640, 480, 4);
        assert!(e.contains("--width 0"), "{e}");
        // 9x from 480p with a x4 model.
        let e = err(SizeRequest::Height(4320), 854, 480, 4);
        assert!(e.contains("--height 4320") && e.contains("x4"), "{e}");
        assert!(e.contains("largest allowed --height is 1920"), "{e}");
        let e = err(SizeRequest::Width(7680), 640, 360, 2);
        assert!(e.contains("largest allowed --width is 1280"), "{e}");
        // Beyond 16384 through the derived side: 16384-wide output from a
        // very wide input.
        assert!(output_size(SizeRequest::Height(2048), 8000, 1000, (1, 1), 4).is_ok());
        let e = err(SizeRequest::Height(3000), 8000, 1000, 4);
        assert!(
            e.contains("16384") && e.contains("largest allowed --height is 2048"),
            "{e}"
        );
        // Derived side too small.
        let e = err(SizeRequest::Height(2), 1000, 4000, 4);
        assert!(e.contains("at least 2"), "{e}");
        assert!(e.contains("smallest allowed --height is 4"), "{e}");
        let e = err(SizeRequest::Width(2), 1000, 10, 4);
        assert!(e.contains("smallest allowed --width is 100"), "{e}");
    }

    #[test]
    fn input_and_model_errors() {
        assert!(output_size(SizeRequest::Scale(2.0), 0, 480, (1, 1), 4).is_err());
        assert!(output_size(SizeRequest::Height(720), 640, 0, (1, 1), 4).is_err());
        assert!(output_size(SizeRequest::Scale(1.0), 640, 480, (1, 1), 0).is_err());
    }

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn range(&mut self, lo: u32, hi: u32) -> u32 {
            lo + (self.next() % u64::from(hi - lo + 1)) as u32
        }
    }

    fn parse_bound(e: &str) -> Option<u32> {
        let i = e.find("allowed --")?;
        e[i..].split_whitespace().nth(3)?.parse().ok()
    }

    #[test]
    fn property_sizes() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let (mut oks, mut errs) = (0, 0);
        for _ in 0..200_000 {
            let w = rng.range(1, 5000);
            let h = rng.range(1, 3000);
            let ms = if rng.next() & 1 == 0 { 2 } else { 4 };
            let sar = (rng.range(0, 40), rng.range(0, 40));
            let req = match rng.next() % 3 {
                0 => SizeRequest::Scale(rng.range(1, 4000) as f64 / 1000.0),
                1 => SizeRequest::Height(rng.range(1, 17000)),
                _ => SizeRequest::Width(rng.range(1, 17000)),
            };
            match output_size(req, w, h, sar, ms) {
                Ok(o) => {
                    oks += 1;
                    assert_eq!(o.width % 2, 0);
                    assert_eq!(o.height % 2, 0);
                    assert!(o.width >= 2 && o.height >= 2);
                    assert!(o.width <= MAX_SIDE && o.height <= MAX_SIDE);
                    assert!(u64::from(o.width) <= u64::from(w) * ms as u64 + 1);
                    assert!(u64::from(o.height) <= u64::from(h) * ms as u64 + 1);
                    assert_eq!(o.sar, normalise_sar(sar));
                    let (fw, fh) = (f64::from(w), f64::from(h));
                    let (ow, oh) = (f64::from(o.width), f64::from(o.height));
                    match req {
                        SizeRequest::Scale(s) => {
                            assert!((ow - fw * s).abs() <= 1.0 + 1e-9, "{req} {w}x{h} {o:?}");
                            assert!((oh - fh * s).abs() <= 1.0 + 1e-9, "{req} {w}x{h} {o:?}");
                        }
                        SizeRequest::Height(t) => {
                            assert!((oh - f64::from(t)).abs() <= 1.0);
                            assert!((ow - fw * oh / fh).abs() <= 1.0 + 1e-9, "{req} {o:?}");
                        }
                        SizeRequest::Width(t) => {
                            assert!((ow - f64::from(t)).abs() <= 1.0);
                            assert!((oh - fh * ow / fw).abs() <= 1.0 + 1e-9, "{req} {o:?}");
                        }
                    }
                    let up = o.width > w + (w & 1) || o.height > h + (h & 1);
                    assert_eq!(o.model_passes, u32::from(up));
                }
                Err(e) => {
                    errs += 1;
                    assert!(e.contains(req.flag()), "{e}");
                    // Any bound quoted in the message must itself be accepted.
                    if let (Some(v), SizeRequest::Height(_) | SizeRequest::Width(_)) =
                        (parse_bound(&e), req)
                    {
                        let again = match req {
                            SizeRequest::Height(_) => SizeRequest::Height(v),
                            _ => SizeRequest::Width(v),
                        };
                        assert!(
                            output_size(again, w, h, sar, ms).is_ok(),
                            "{e} but {again} fails on {w}x{h}"
                        );
                        // Largest means largest: the next even value fails.
                        if e.contains("largest") {
                            let next = match req {
                                SizeRequest::Height(_) => SizeRequest::Height(v + 2),
                                _ => SizeRequest::Width(v + 2),
                            };
                            assert!(output_size(next, w, h, sar, ms).is_err(), "{e}");
                        }
                    }
                }
            }
        }
        assert!(oks > 10_000 && errs > 10_000, "{oks} ok, {errs} err");
    }
}
