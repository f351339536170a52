//! Helpers shared by the unit tests: a seeded random source for property
//! tests and a text mutator for fuzzing the parsers of user-written files.

/// xorshift64*: deterministic pseudo-random numbers, so a failing case
/// reproduces from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    /// Uniform in `0..1`.
    pub fn f(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() - 1)]
    }

    /// A random string of up to `max_len` characters from `alphabet`.
    pub fn string(&mut self, alphabet: &[char], max_len: usize) -> String {
        let len = self.range(0, max_len);
        (0..len).map(|_| *self.pick(alphabet)).collect()
    }
}

/// Tokens that tend to reach the interesting branches of TOML-based parsers.
const TOKENS: &[&str] = &[
    "\n",
    "=",
    "[",
    "]",
    "[[",
    "]]",
    "\"",
    "'",
    ",",
    ".",
    "#",
    "{",
    "}",
    "-",
    "0",
    "1",
    "-1",
    "0.5",
    "1e400",
    "nan",
    "inf",
    "true",
    "false",
    "\"\"",
    "\"x\"",
    "[]",
    "9999999999999999999",
    "\\u0000",
    "é",
    "\u{feff}",
];

/// `text` with 1 to `max_edits` random edits: deleting, duplicating or
/// swapping spans and lines, and inserting tokens. Starting from a valid
/// file this reaches far more of a parser than random bytes do.
pub fn mutate(text: &str, rng: &mut Rng, max_edits: usize) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..rng.range(1, max_edits) {
        let n = chars.len();
        let at = rng.range(0, n);
        let span = rng.range(0, 24).min(n - at);
        match rng.range(0, 5) {
            0 => {
                chars.drain(at..at + span);
            }
            1 => {
                let copy: Vec<char> = chars[at..at + span].to_vec();
                let to = rng.range(0, n);
                chars.splice(to..to, copy);
            }
            2 => {
                let token: Vec<char> = rng.pick(TOKENS).chars().collect();
                chars.splice(at..at, token);
            }
            3 => {
                // replace a value: from after the next '=' to the end of the line
                let line_end = chars[at..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(n, |p| at + p);
                if let Some(eq) = chars[at..line_end].iter().position(|&c| c == '=') {
                    let token: Vec<char> = format!(" {}", rng.pick(TOKENS)).chars().collect();
                    chars.splice(at + eq + 1..line_end, token);
                }
            }
            4 => {
                // swap two lines
                let text: String = chars.iter().collect();
                let mut lines: Vec<&str> = text.split('\n').collect();
                let (a, b) = (rng.range(0, lines.len() - 1), rng.range(0, lines.len() - 1));
                lines.swap(a, b);
                chars = lines.join("\n").chars().collect();
            }
            _ => {
                if at < n {
                    chars[at] = *rng.pick(&['"', '[', ']', '=', '\n', ' ', 'x', '0', '-']);
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// An RGB test picture: red rising left to right, green top to bottom,
/// blue at half.
pub fn gradient(w: usize, h: usize) -> crate::picture::RgbImage {
    let mut img = crate::picture::RgbImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            img.data[i] = x as f32 / w as f32;
            img.data[w * h + i] = y as f32 / h as f32;
            img.data[2 * w * h + i] = 0.5;
        }
    }
    img
}
