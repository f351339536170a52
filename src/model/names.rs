//! The spelling of the model layer's small enums (device, provider,
//! precision, model kind): one list per enum gives `as_str`, `Display` and,
//! for the choices a user types, `ALL` and a case-insensitive `FromStr`.

/// `spelled_enum!(Type { Variant => "spelling", ... })` gives `as_str` and
/// `Display`; adding `parse "setting"` also gives `ALL` (in list order) and
/// `FromStr`, whose error is [`ModelError::InvalidSetting`] listing every
/// spelling.
///
/// [`ModelError::InvalidSetting`]: super::ModelError::InvalidSetting
macro_rules! spelled_enum {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The spelling on the command line, in settings and in the manifest.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? } parse $setting:literal) => {
        spelled_enum!($ty { $($variant => $name),+ });

        impl $ty {
            /// Every choice, in `--help` order.
            pub const ALL: [$ty; [$($name),+].len()] = [$(Self::$variant),+];
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::model::ModelError;

            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
                    .ok_or_else(|| $crate::model::ModelError::InvalidSetting {
                        setting: $setting,
                        value: format!("'{s}'"),
                        expected: $crate::model::names::one_of(&Self::ALL.map(Self::as_str)),
                    })
            }
        }
    };
}

/// "a, b or c".
pub(crate) fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::one_of;
    use crate::model::{Device, ModelError, Precision, PrecisionMode};

    /// Every choice parses back from its spelling, in any case, and serde
    /// (settings files) spells it the same way.
    fn round_trip<T>(all: &[T])
    where
        T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + serde::Serialize,
        T: std::str::FromStr<Err = ModelError>,
    {
        for &v in all {
            let name = v.to_string();
            assert_eq!(name.parse::<T>().ok(), Some(v));
            assert_eq!(name.to_uppercase().parse::<T>().ok(), Some(v));
            let json = serde_json::to_string(&v).expect("serialise");
            assert_eq!(json, format!("\"{name}\""));
        }
    }

    #[test]
    fn spelled_choices_round_trip() {
        round_trip(&Device::ALL);
        round_trip(&PrecisionMode::ALL);
        assert_eq!(
            serde_json::to_string(&Precision::Bf16).expect("serialise"),
            "\"bf16\""
        );
    }

    #[test]
    fn unknown_choice_lists_every_spelling() {
        let err = "gpu".parse::<Device>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "invalid device 'gpu' (expected auto, cpu, cpu-openvino, cuda or tensorrt)"
        );
        let err = "int4".parse::<PrecisionMode>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "invalid precision 'int4' (expected auto, fp32 or bf16)"
        );
    }

    #[test]
    fn one_of_lists_choices() {
        assert_eq!(one_of(&[]), "");
        assert_eq!(one_of(&["a"]), "a");
        assert_eq!(one_of(&["a", "b"]), "a or b");
        assert_eq!(one_of(&["a", "b", "c"]), "a, b or c");
    }
}
