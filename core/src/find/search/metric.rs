//! The seven distances of `scipy.spatial.distance` (Canberra's 0/0 terms count as 0),
//! by name and from their definitions.

use std::fmt;
use std::str::FromStr;

use crate::support::error::{Error, Result};

/// A distance between descriptors.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    Euclidean,
    #[default]
    Cosine,
    Manhattan,
    BrayCurtis,
    Canberra,
    Chebyshev,
    Correlation,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Self::Euclidean,
        Self::Cosine,
        Self::Manhattan,
        Self::BrayCurtis,
        Self::Canberra,
        Self::Chebyshev,
        Self::Correlation,
    ];

    /// Made of one dot product (and norms or means): ranked through [`super::coarse`].
    pub(super) fn by_dot(self) -> bool {
        matches!(self, Self::Cosine | Self::Correlation | Self::Euclidean)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Euclidean => "euclidean",
            Self::Cosine => "cosine",
            Self::Manhattan => "manhattan",
            Self::BrayCurtis => "braycurtis",
            Self::Canberra => "canberra",
            Self::Chebyshev => "chebyshev",
            Self::Correlation => "correlation",
        }
    }

    /// The distance between `a` and `b`, straight from its definition.
    pub fn distance(self, a: &[f32], b: &[f32]) -> f32 {
        let pairs = || a.iter().zip(b).map(|(x, y)| (f64::from(*x), f64::from(*y)));
        let d = match self {
            Self::Euclidean => pairs().map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt(),
            Self::Cosine => {
                let (dot, na, nb) = pairs().fold((0.0, 0.0, 0.0), |(d, na, nb), (x, y)| {
                    (d + x * y, na + x * x, nb + y * y)
                });
                one_minus_ratio(dot, (na * nb).sqrt())
            }
            Self::Manhattan => pairs().map(|(x, y)| (x - y).abs()).sum(),
            Self::BrayCurtis => {
                let (num, den) = pairs().fold((0.0, 0.0), |(n, d), (x, y)| {
                    (n + (x - y).abs(), d + (x + y).abs())
                });
                if den == 0.0 { 0.0 } else { num / den }
            }
            Self::Canberra => pairs()
                .map(|(x, y)| {
                    let den = x.abs() + y.abs();
                    if den == 0.0 { 0.0 } else { (x - y).abs() / den }
                })
                .sum(),
            Self::Chebyshev => pairs().map(|(x, y)| (x - y).abs()).fold(0.0, f64::max),
            Self::Correlation => {
                let n = a.len().max(1) as f64;
                let (ma, mb) = (
                    a.iter().map(|v| f64::from(*v)).sum::<f64>() / n,
                    b.iter().map(|v| f64::from(*v)).sum::<f64>() / n,
                );
                let (dot, na, nb) = pairs().fold((0.0, 0.0, 0.0), |(d, na, nb), (x, y)| {
                    let (x, y) = (x - ma, y - mb);
                    (d + x * y, na + x * x, nb + y * y)
                });
                one_minus_ratio(dot, (na * nb).sqrt())
            }
        };
        d as f32
    }
}

/// `1 - num / den`, with an empty denominator (a zero vector) counting as distance 1.
fn one_minus_ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 { 1.0 } else { 1.0 - num / den }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Metric {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        let s = match s.as_str() {
            "cityblock" | "l1" => "manhattan",
            "l2" => "euclidean",
            other => other,
        };
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown metric {s:?}: expected one of {}",
                    Self::ALL.map(Metric::as_str).join(", ")
                ))
            })
    }
}
