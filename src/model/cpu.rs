//! What the processor offers for inference: the matrix and vector units
//! OpenVINO's CPU plugin uses for bf16 (AMX tiles, AVX-512 BF16) and plain
//! AVX-512. Read once from `/proc/cpuinfo` (Linux); elsewhere nothing is
//! reported and `--device auto` keeps the ONNX Runtime CPU path.

use std::sync::OnceLock;

/// The CPU flags that decide the CPU inference path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuUnits {
    /// AMX tiles with bf16 (`amx_bf16`): Intel Sapphire Rapids and later.
    pub amx_bf16: bool,
    /// AVX-512 bf16 dot products (`avx512_bf16`): Cooper Lake, Zen 4 and later.
    pub avx512_bf16: bool,
    /// AVX-512 foundation (`avx512f`).
    pub avx512f: bool,
}

impl CpuUnits {
    /// The flags of this machine's first processor (cached).
    pub fn detect() -> CpuUnits {
        static UNITS: OnceLock<CpuUnits> = OnceLock::new();
        *UNITS.get_or_init(|| {
            std::fs::read_to_string("/proc/cpuinfo")
                .map(|text| CpuUnits::from_cpuinfo(&text))
                .unwrap_or_default()
        })
    }

    /// Parses the first `flags` line of `/proc/cpuinfo` text.
    pub fn from_cpuinfo(text: &str) -> CpuUnits {
        let Some(flags) = text
            .lines()
            .find(|l| l.starts_with("flags"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v)
        else {
            return CpuUnits::default();
        };
        let has = |name: &str| flags.split_ascii_whitespace().any(|f| f == name);
        CpuUnits {
            amx_bf16: has("amx_bf16"),
            avx512_bf16: has("avx512_bf16"),
            avx512f: has("avx512f"),
        }
    }

    /// Units that run bf16 natively (AMX or AVX-512 BF16): where bf16
    /// inference is faster than fp32.
    pub fn has_bf16(&self) -> bool {
        self.amx_bf16 || self.avx512_bf16
    }

    /// The best unit, for the device line: `AMX`, `AVX512-BF16`, `AVX-512`,
    /// or `no AVX-512`.
    pub fn label(&self) -> &'static str {
        if self.amx_bf16 {
            "AMX"
        } else if self.avx512_bf16 {
            "AVX512-BF16"
        } else if self.avx512f {
            "AVX-512"
        } else {
            "no AVX-512"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_read_from_the_first_flags_line() {
        let sapphire = "processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_bf16 amx_tile\nprocessor\t: 1\nflags\t\t: fpu\n";
        let u = CpuUnits::from_cpuinfo(sapphire);
        assert_eq!(
            u,
            CpuUnits {
                amx_bf16: true,
                avx512_bf16: true,
                avx512f: true
            }
        );
        assert_eq!(u.label(), "AMX");
        let zen5 = "flags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n";
        assert_eq!(CpuUnits::from_cpuinfo(zen5).label(), "AVX512-BF16");
        assert!(CpuUnits::from_cpuinfo(zen5).has_bf16());
        let skylake = "flags\t\t: fpu avx2 avx512f avx512bw\n";
        assert!(!CpuUnits::from_cpuinfo(skylake).has_bf16());
        assert_eq!(CpuUnits::from_cpuinfo(skylake).label(), "AVX-512");
        // `avx512_bf16` must match as a whole word, not `avx512_bf16x`.
        let odd = "flags\t\t: avx512_bf16x amx_bf16_extra\n";
        assert!(!CpuUnits::from_cpuinfo(odd).has_bf16());
        assert_eq!(CpuUnits::from_cpuinfo("").label(), "no AVX-512");
    }
}
