//! Parsing of `--clip START-END` time ranges.
//!
//! Accepted forms for each end: plain seconds (`12`, `12.5`), `MM:SS(.ms)`
//! or `HH:MM:SS(.ms)`. The END may be left out (`00:10:00-` runs to the end
//! of the file) and may be given relative to START with a leading `+`
//! (`00:10:00-+20`).

use std::fmt;
use std::str::FromStr;

/// A half-open time range `[start, end)` in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipRange {
    pub start: f64,
    pub end: Option<f64>,
}

impl ClipRange {
    pub fn duration(&self) -> Option<f64> {
        self.end.map(|e| e - self.start)
    }
}

impl fmt::Display for ClipRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-", format_time(self.start))?;
        if let Some(end) = self.end {
            write!(f, "{}", format_time(end))?;
        }
        Ok(())
    }
}

/// `HH:MM:SS.mmm`.
pub fn format_time(seconds: f64) -> String {
    let total_ms = (seconds.max(0.0) * 1000.0).round() as u64;
    let (h, rem) = (total_ms / 3_600_000, total_ms % 3_600_000);
    let (m, rem) = (rem / 60_000, rem % 60_000);
    format!("{h:02}:{m:02}:{:02}.{:03}", rem / 1000, rem % 1000)
}

/// Parse one time value: seconds, `MM:SS(.frac)` or `HH:MM:SS(.frac)`.
pub fn parse_time(text: &str) -> Result<f64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty time".into());
    }
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() > 3 {
        return Err(format!("'{text}' has too many ':' fields"));
    }
    let mut total = 0.0f64;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let valid = !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_digit() || (last && c == '.'))
            && part.chars().filter(|&c| c == '.').count() <= 1
            && !part.starts_with('.')
            && !part.ends_with('.');
        if !valid {
            return Err(format!("'{text}' is not a time"));
        }
        let value: f64 = part
            .parse()
            .map_err(|_| format!("'{text}' is not a time"))?;
        if i > 0 && value >= 60.0 {
            return Err(format!("'{text}': minutes and seconds must be below 60"));
        }
        total = total * 60.0 + value;
    }
    if !total.is_finite() || total > 1.0e7 {
        return Err(format!("'{text}' is out of range"));
    }
    Ok(total)
}

impl FromStr for ClipRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let help = "expected START-END with times as seconds or HH:MM:SS(.ms), e.g. 00:10:00-00:10:20 or 600-+20";
        let (start, end) = text
            .split_once('-')
            .ok_or_else(|| format!("invalid clip '{text}': {help}"))?;
        let start = parse_time(start).map_err(|e| format!("invalid clip start {e}; {help}"))?;
        let end = end.trim();
        let end = if end.is_empty() {
            None
        } else if let Some(rel) = end.strip_prefix('+') {
            Some(start + parse_time(rel).map_err(|e| format!("invalid clip length {e}; {help}"))?)
        } else {
            Some(parse_time(end).map_err(|e| format!("invalid clip end {e}; {help}"))?)
        };
        if let Some(e) = end {
            if e <= start {
                return Err(format!(
                    "invalid clip '{text}': end ({}) must be after start ({})",
                    format_time(e),
                    format_time(start)
                ));
            }
        }
        Ok(ClipRange { start, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        assert_eq!(parse_time("12"), Ok(12.0));
        assert_eq!(parse_time("12.5"), Ok(12.5));
        assert_eq!(parse_time("01:02"), Ok(62.0));
        assert_eq!(parse_time("01:00:02.250"), Ok(3602.25));
        let c: ClipRange = "00:10:00-00:10:20".parse().unwrap();
        assert_eq!(c.start, 600.0);
        assert_eq!(c.end, Some(620.0));
        let c: ClipRange = "600-+20".parse().unwrap();
        assert_eq!(c.end, Some(620.0));
        let c: ClipRange = "5-".parse().unwrap();
        assert_eq!(c.end, None);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "-",
            "a-b",
            "10-5",
            "5-5",
            "1:60-2",
            "1:2:3:4-5",
            "1..2-3",
            ".5-1",
            "1.-2",
            "-1-2",
            "1e3-2e3",
            "+1-2",
            "nan-1",
            "inf-1",
            "1-+",
            "99999999999-",
        ] {
            assert!(bad.parse::<ClipRange>().is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn never_panics_on_random_input() {
        // Property test: random strings over the parser's alphabet, and
        // mutations of valid ranges, never panic; whatever parses is an
        // ordered, finite, non-negative range that survives printing and
        // parsing again (to the millisecond).
        let alphabet: Vec<char> = "0123456789:.-+ xe".chars().collect();
        let valid = ["1-2", "00:10:00-00:10:20", "1:02.5-", "0-0.2", "90.25-3600"];
        let mut rng = crate::testutil::Rng(0x2545_f491_4f6c_dd1d);
        for i in 0..20_000 {
            let s = if i % 2 == 0 {
                rng.string(&alphabet, 16)
            } else {
                {
                    let v = *rng.pick(&valid[..]);
                    crate::testutil::mutate(v, &mut rng, 3)
                }
            };
            if let Ok(c) = s.parse::<ClipRange>() {
                assert!(c.start.is_finite() && c.start >= 0.0, "{s:?}");
                if let Some(e) = c.end {
                    assert!(e > c.start, "{s:?}");
                }
                let again: ClipRange = c.to_string().parse().expect("printed range parses");
                assert!((again.start - c.start).abs() < 1e-3, "{s:?}");
            }
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format_time(3602.25), "01:00:02.250");
        let c: ClipRange = "1-2".parse().unwrap();
        assert_eq!(c.to_string(), "00:00:01.000-00:00:02.000");
    }
}
