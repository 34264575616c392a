//! Ways to pool VGG16's conv5_3 map (post-ReLU, `height x width x 512`) into one raw
//! descriptor. SPoC (sum pooling) is the method's; the others are the published
//! alternatives on the same off-the-shelf features (`--pooling`). R-MAC is the product's
//! default for VGG16 ([`Pooling::default_for`]: README, "Other poolings"):
//!
//! * GeM, generalised mean with p = 3 (Radenović, Tolias, Chum, TPAMI 2018);
//! * CroW, cross-dimensional weighting: spatial weights from the summed activations,
//!   channel weights from their sparsity (Kalantidis, Mellina, Osindero, ECCV-W 2016,
//!   their code's defaults a = 2, b = 2);
//! * R-MAC, regional maximum activations: square regions at 3 scales with about 40 %
//!   overlap, each max-pooled and L2-normalised, then summed (Tolias, Sicre, Jégou,
//!   ICLR 2016; the regions as their code places them). The paper also whitens each
//!   region before the sum; here the whitening is applied once, to the sum, like every
//!   other pooling's.

use serde::{Deserialize, Serialize};

use crate::describe::model::Network;

/// How conv5_3 becomes a raw descriptor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Pooling {
    /// Sum over all positions (the method's SPoC).
    #[default]
    Spoc,
    /// Generalised mean, p = 3.
    Gem,
    /// Cross-dimensional weighting.
    Crow,
    /// Regional maximum activations, 3 scales.
    Rmac,
}

/// The exponent of GeM, the value its paper uses for off-the-shelf networks.
pub const GEM_P: f32 = 3.0;

impl Pooling {
    pub const ALL: [Pooling; 4] = [Pooling::Spoc, Pooling::Gem, Pooling::Crow, Pooling::Rmac];

    /// What the product describes `network`'s photos with: R-MAC for VGG16 (the best
    /// measured on both intents), GoogLeNet's own average pool5 (its only pooling,
    /// recorded as `Spoc`: a global pool of the last map) otherwise.
    pub fn default_for(network: Network) -> Self {
        match network {
            Network::Vgg16 => Pooling::Rmac,
            Network::GoogLeNet => Pooling::Spoc,
        }
    }

    /// As messages name it.
    pub fn title(self) -> &'static str {
        match self {
            Pooling::Spoc => "SPoC",
            Pooling::Gem => "GeM",
            Pooling::Crow => "CroW",
            Pooling::Rmac => "R-MAC",
        }
    }

    /// The name used on the command line and in cache file names.
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Spoc => "spoc",
            Pooling::Gem => "gem",
            Pooling::Crow => "crow",
            Pooling::Rmac => "rmac",
        }
    }
}

impl std::fmt::Display for Pooling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A post-ReLU feature map, `height x width x channels`, channels fastest.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMap {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub data: Vec<f32>,
}

impl FeatureMap {
    fn at(&self, y: usize, x: usize) -> &[f32] {
        let start = (y * self.width + x) * self.channels;
        &self.data[start..start + self.channels]
    }

    fn positions(&self) -> impl Iterator<Item = &[f32]> {
        self.data.chunks_exact(self.channels)
    }
}

/// `map` pooled into one value per channel.
pub fn pool(pooling: Pooling, map: &FeatureMap) -> Vec<f32> {
    match pooling {
        Pooling::Spoc => sum(map.positions(), map.channels),
        Pooling::Gem => gem(map, GEM_P),
        Pooling::Crow => crow(map),
        Pooling::Rmac => rmac(map),
    }
}

fn sum<'a>(positions: impl Iterator<Item = &'a [f32]>, channels: usize) -> Vec<f32> {
    let mut sums = vec![0.0f64; channels];
    for px in positions {
        for (s, &v) in sums.iter_mut().zip(px) {
            *s += f64::from(v);
        }
    }
    sums.into_iter().map(|s| s as f32).collect()
}

fn gem(map: &FeatureMap, p: f32) -> Vec<f32> {
    let p = f64::from(p);
    let mut sums = vec![0.0f64; map.channels];
    for px in map.positions() {
        for (s, &v) in sums.iter_mut().zip(px) {
            *s += f64::from(v.max(0.0)).powf(p);
        }
    }
    let n = (map.height * map.width).max(1) as f64;
    sums.into_iter()
        .map(|s| (s / n).powf(1.0 / p) as f32)
        .collect()
}

fn crow(map: &FeatureMap) -> Vec<f32> {
    // Spatial weights: the activations summed over channels, L2-normalised over
    // positions, square-rooted (a = 2, b = 2).
    let spatial: Vec<f64> = map
        .positions()
        .map(|px| px.iter().map(|&v| f64::from(v)).sum())
        .collect();
    let norm = spatial.iter().map(|s| s * s).sum::<f64>().sqrt();
    let spatial: Vec<f64> = spatial
        .iter()
        .map(|s| if norm > 0.0 { (s / norm).sqrt() } else { 0.0 })
        .collect();
    // Channel weights: log of the summed non-zero rates over the channel's own.
    let area = (map.height * map.width).max(1) as f64;
    let mut nonzero = vec![0.0f64; map.channels];
    let mut weighted = vec![0.0f64; map.channels];
    for (px, &w) in map.positions().zip(&spatial) {
        for ((n, s), &v) in nonzero.iter_mut().zip(weighted.iter_mut()).zip(px) {
            if v > 0.0 {
                *n += 1.0 / area;
            }
            *s += w * f64::from(v);
        }
    }
    let total: f64 = nonzero.iter().sum();
    weighted
        .iter()
        .zip(&nonzero)
        .map(|(&s, &q)| {
            if q > 0.0 {
                (s * (total / q).ln()) as f32
            } else {
                0.0
            }
        })
        .collect()
}

/// R-MAC's regions of an `height x width` map at 3 scales: `(top, left, side)`.
pub fn rmac_regions(height: usize, width: usize) -> Vec<(usize, usize, usize)> {
    const LEVELS: usize = 3;
    const OVERLAP: f64 = 0.4;
    let (h, w) = (height as f64, width as f64);
    let side = h.min(w);
    // How many extra regions the longer side gets, for the overlap nearest 40 %.
    let extra = (2..=7)
        .map(|steps| {
            let step = (h.max(w) - side) / (steps - 1) as f64;
            let overlap = (side * side - side * step) / (side * side);
            (steps - 1, (overlap - OVERLAP).abs())
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0, |(extra, _)| extra);
    let (extra_w, extra_h) = match height.cmp(&width) {
        std::cmp::Ordering::Less => (extra, 0),
        std::cmp::Ordering::Greater => (0, extra),
        std::cmp::Ordering::Equal => (0, 0),
    };
    let mut regions = Vec::new();
    for level in 1..=LEVELS {
        let region = (2.0 * side / (level + 1) as f64).floor().max(1.0);
        let starts = |length: f64, extra: usize| -> Vec<usize> {
            let count = level + extra;
            let step = if count > 1 {
                (length - region) / (count - 1) as f64
            } else {
                0.0
            };
            (0..count)
                .map(|i| (i as f64 * step).floor().max(0.0) as usize)
                .collect()
        };
        for &top in &starts(h, extra_h) {
            for &left in &starts(w, extra_w) {
                regions.push((top, left, region as usize));
            }
        }
    }
    regions
}

fn rmac(map: &FeatureMap) -> Vec<f32> {
    let mut total = vec![0.0f32; map.channels];
    for (top, left, side) in rmac_regions(map.height, map.width) {
        let mut region = vec![0.0f32; map.channels];
        for y in top..(top + side).min(map.height) {
            for x in left..(left + side).min(map.width) {
                for (m, &v) in region.iter_mut().zip(map.at(y, x)) {
                    *m = m.max(v);
                }
            }
        }
        crate::describe::vectors::l2_normalize(&mut region);
        for (t, r) in total.iter_mut().zip(&region) {
            *t += r;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(height: usize, width: usize, channels: usize) -> FeatureMap {
        let data = (0..height * width * channels)
            .map(|i| ((i * 7919) % 13) as f32 * 0.5)
            .collect();
        FeatureMap {
            height,
            width,
            channels,
            data,
        }
    }

    #[test]
    fn spoc_sums_and_gem_of_a_constant_map_is_the_constant() {
        let m = map(3, 4, 5);
        let spoc = pool(Pooling::Spoc, &m);
        let want: Vec<f32> = (0..5)
            .map(|c| m.positions().map(|px| px[c]).sum())
            .collect();
        assert_eq!(spoc, want);
        let constant = FeatureMap {
            data: vec![2.5; 3 * 4 * 5],
            ..m
        };
        for v in pool(Pooling::Gem, &constant) {
            assert!((v - 2.5).abs() < 1e-5, "{v}");
        }
    }

    #[test]
    fn gem_lies_between_the_mean_and_the_maximum() {
        let m = map(5, 6, 4);
        let gem = pool(Pooling::Gem, &m);
        for c in 0..4 {
            let values: Vec<f32> = m.positions().map(|px| px[c]).collect();
            let mean = values.iter().sum::<f32>() / values.len() as f32;
            let max = values.iter().copied().fold(0.0, f32::max);
            assert!(
                mean - 1e-5 <= gem[c] && gem[c] <= max + 1e-5,
                "{c}: {gem:?}"
            );
        }
    }

    #[test]
    fn crow_weighs_rare_channels_up() {
        // Channel 0 is active everywhere, channel 1 at one position only, with the same
        // total: CroW gives channel 0 weight log(1 + 1/n) and channel 1 log(1 + n).
        let (h, w) = (2, 2);
        let mut data = vec![0.0; h * w * 2];
        for p in 0..h * w {
            data[p * 2] = 1.0;
        }
        data[1] = 4.0;
        let m = FeatureMap {
            height: h,
            width: w,
            channels: 2,
            data,
        };
        let crow = pool(Pooling::Crow, &m);
        assert!(crow[1] > crow[0], "{crow:?}");
    }

    #[test]
    fn rmac_regions_cover_the_map_at_three_scales() {
        // A square map: 1 + 4 + 9 regions of sides 14, 9 and 7 (as Tolias et al. place
        // them on a 14 x 14 conv5_3 map).
        let regions = rmac_regions(14, 14);
        assert_eq!(regions.len(), 14);
        assert_eq!(regions[0], (0, 0, 14));
        assert!(regions[1..5].iter().all(|r| r.2 == 9));
        assert!(regions[5..].iter().all(|r| r.2 == 7));
        // Every region inside the map, and the last of each scale at its far corner.
        for (top, left, side) in &regions {
            assert!(top + side <= 14 && left + side <= 14, "{regions:?}");
        }
        assert_eq!(regions[4], (5, 5, 9));
        // A landscape map gets more regions across.
        let wide = rmac_regions(48, 64);
        assert!(wide.len() > 14, "{wide:?}");
        assert!(wide.iter().all(|(t, l, s)| t + s <= 48 && l + s <= 64));
    }

    #[test]
    fn rmac_of_a_uniform_map_is_its_normalised_vector_once_per_region() {
        let v = [3.0, 0.0, 4.0];
        let m = FeatureMap {
            height: 14,
            width: 14,
            channels: 3,
            data: v.repeat(14 * 14),
        };
        let got = pool(Pooling::Rmac, &m);
        for (g, want) in got.iter().zip([0.6, 0.0, 0.8]) {
            assert!((g - 14.0 * want).abs() < 1e-5, "{got:?}");
        }
    }
}
