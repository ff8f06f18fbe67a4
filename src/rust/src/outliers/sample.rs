//! The elements outlier rules read: R's doubles as they are, R's integers
//! with `NA` as NaN. Never touches R.

/// A numeric element: doubles as they are, integers with `NA` as NaN.
pub trait Sample: Copy + Send + Sync {
    fn value(self) -> f64;
}

impl Sample for f64 {
    #[inline(always)]
    fn value(self) -> f64 {
        self
    }
}

/// R's integer `NA`.
pub const NA_INTEGER: i32 = i32::MIN;

impl Sample for i32 {
    #[inline(always)]
    fn value(self) -> f64 {
        if self == NA_INTEGER {
            f64::NAN
        } else {
            f64::from(self)
        }
    }
}
