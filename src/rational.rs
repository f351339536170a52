//! Whole-number ratios: frame rates, time bases and aspect ratios are
//! reduced with the one greatest common divisor here, whatever their width
//! (`u32` sizes, `u64` rates, `i128` time-grid products).

use std::ops::{Div, Rem};

/// Greatest common divisor of two non-negative integers, never 0:
/// `gcd(0, 0)` is 1, so dividing by it is always safe.
pub fn gcd<T>(mut a: T, mut b: T) -> T
where
    T: Copy + PartialOrd + Rem<Output = T> + From<u8>,
{
    let (zero, one) = (T::from(0), T::from(1));
    while b != zero {
        (a, b) = (b, a % b);
    }
    if a < one {
        one
    } else {
        a
    }
}

/// `num / den` in lowest terms (both divided by their [`gcd`]).
pub fn reduce<T>(num: T, den: T) -> (T, T)
where
    T: Copy + PartialOrd + Rem<Output = T> + Div<Output = T> + From<u8>,
{
    let g = gcd(num, den);
    (num / g, den / g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcd_of_every_width() {
        assert_eq!(gcd(12u32, 18), 6);
        assert_eq!(gcd(60000u64, 1001), 1);
        assert_eq!(gcd(48i128 * 1001, 24000), 48);
        assert_eq!(gcd(7u64, 0), 7);
        assert_eq!(gcd(0u64, 7), 7);
        assert_eq!(gcd(0u32, 0), 1);
    }

    #[test]
    fn reduce_to_lowest_terms() {
        assert_eq!(reduce(64u32, 54), (32, 27));
        assert_eq!(reduce(2997u64, 100), (2997, 100));
        assert_eq!(reduce(48_000i128, 24_000), (2, 1));
    }
}
