//! PCA and PCA-whitening of SPoC descriptors, learned on one image set and applied to
//! another (Babenko & Lempitsky: "learned on a different dataset").
//!
//! `x -> diag(lambda_i ^ (-power / 2)) U^T (x - mean)` over the top `dim` eigenvectors
//! of the covariance of L2-normalised descriptors. `power = 1` whitens fully, `power =
//! 0` only rotates and truncates (plain PCA). Eigenvalues are floored at
//! `EIGEN_FLOOR * lambda_max` so that near-empty directions are not blown up.
//!
//! Saved as a safetensors file (`mean`, `projection`, `eigenvalues`) whose metadata
//! carries the format name and version, and where it came from (model, image size,
//! folder). One such file per pooling ships with lookalike: [`shipped`].

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use nalgebra::{DMatrix, SymmetricEigen};
use safetensors::SafeTensors;

use crate::describe::model::{f32_from_le_bytes, write_safetensors};
use crate::describe::pooling::Pooling;
use crate::describe::vectors::l2_normalize;
use crate::support::error::{Error, Result};

/// Format name in a whitening file's metadata.
pub const WHITENING_FORMAT: &str = "lookalike-whitening";
/// Version of that format; files of another version are refused.
pub const WHITENING_VERSION: &str = "1";
/// Relative floor on eigenvalues before they are raised to `-power / 2`.
pub const EIGEN_FLOOR: f64 = 1e-5;
/// Metadata keys of the format itself; every other key is [`Whitening::origin`].
const FORMAT_KEYS: [&str; 5] = [
    "format",
    "format_version",
    "power",
    "samples",
    "eigen_floor",
];

/// The whitenings that ship with lookalike, one per pooling the product describes with:
/// a full PCA (512-d, power 0, with its eigenvalues) of VGG16 descriptors of
/// `imagenette/train-whiten` (1,583 ImageNet training photos, none of them in any
/// evaluation set), made by `models/make-shipped-whitening.sh`. Each intent takes its
/// own dimension and power from it ([`Whitening::with_shape`]).
pub const SHIPPED: [(Pooling, &str, &[u8]); 2] = [
    (
        Pooling::Spoc,
        "core/assets/whitening/vgg16-spoc-imagenette-train-whiten.safetensors",
        include_bytes!("../../assets/whitening/vgg16-spoc-imagenette-train-whiten.safetensors"),
    ),
    (
        Pooling::Rmac,
        "core/assets/whitening/vgg16-rmac-imagenette-train-whiten.safetensors",
        include_bytes!("../../assets/whitening/vgg16-rmac-imagenette-train-whiten.safetensors"),
    ),
];

/// The shipped whitening of `pooling`, if there is one and it was learned with these
/// weights: `file_sha256` is the weights file's SHA-256 (an index's provenance),
/// `weights_sha256` the digest of its tensors ([`crate::Vgg16Weights::weights_sha256`]),
/// which is the same for the same weights in another file (e.g. converted from Keras on
/// the user's machine).
pub fn shipped(
    pooling: Pooling,
    file_sha256: &str,
    weights_sha256: Option<&str>,
) -> Option<Whitening> {
    // Parsed once per process: the app asks again for every duplicate search.
    static PARSED: [std::sync::OnceLock<Option<Whitening>>; SHIPPED.len()] =
        [const { std::sync::OnceLock::new() }; SHIPPED.len()];
    let slot = SHIPPED.iter().position(|(p, _, _)| *p == pooling)?;
    let (_, file, bytes) = SHIPPED[slot];
    let whitening = PARSED[slot]
        .get_or_init(|| Whitening::from_bytes(Path::new(file), bytes).ok())
        .as_ref()?;
    let same = |key: &str, value: &str| whitening.origin.get(key).is_some_and(|v| v == value);
    let fits = same(ORIGIN_MODEL, file_sha256)
        || weights_sha256.is_some_and(|sha| same(ORIGIN_WEIGHTS, sha));
    fits.then(|| whitening.clone())
}

/// [`Whitening::origin`] key: SHA-256 of the weights file it was learned with.
pub const ORIGIN_MODEL: &str = "model_sha256";
/// [`Whitening::origin`] key: digest of those weights' tensors.
pub const ORIGIN_WEIGHTS: &str = "weights_sha256";
/// [`Whitening::origin`] key: the pooling of the descriptors it was learned on (a file
/// without it was learned on SPoC, the only pooling there was).
pub const ORIGIN_POOLING: &str = "pooling";

/// A learned PCA / whitening transform.
#[derive(Debug, Clone, PartialEq)]
pub struct Whitening {
    mean: Vec<f32>,
    /// `dim x input_dim`, row-major: row `i` is `u_i * lambda_i ^ (-power / 2)`.
    projection: Vec<f32>,
    eigenvalues: Vec<f32>,
    power: f32,
    /// How many descriptors it was learned from.
    pub samples: usize,
    /// Where it was learned: model digests ([`ORIGIN_MODEL`], [`ORIGIN_WEIGHTS`]),
    /// `max_side`, `learned_from`, ... (saved as metadata).
    pub origin: BTreeMap<String, String>,
}

impl Whitening {
    /// Learns from `vectors` (each of the same length, normally L2-normalised SPoC).
    pub fn learn(vectors: &[Vec<f32>], dim: usize, power: f32) -> Result<Self> {
        let n = vectors.len();
        let d = vectors.first().map_or(0, Vec::len);
        if n < 2 || d == 0 {
            return Err(Error::Invalid(format!(
                "whitening needs at least 2 descriptors, got {n}"
            )));
        }
        if vectors.iter().any(|v| v.len() != d) {
            return Err(Error::Invalid("descriptors of different lengths".into()));
        }
        if dim == 0 || dim > d {
            return Err(Error::Invalid(format!(
                "whitening dimension must be in 1..={d}, got {dim}"
            )));
        }
        if !(0.0..=1.0).contains(&power) {
            return Err(Error::Invalid(format!(
                "whitening power must be in [0, 1], got {power}"
            )));
        }
        let mut mean = vec![0.0f64; d];
        for v in vectors {
            for (m, x) in mean.iter_mut().zip(v) {
                *m += f64::from(*x);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let centred = DMatrix::from_fn(d, n, |i, j| f64::from(vectors[j][i]) - mean[i]);
        let covariance = (&centred * centred.transpose()) / n as f64;
        let eigen = SymmetricEigen::new(covariance);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
        let largest = eigen.eigenvalues[order[0]].max(f64::MIN_POSITIVE);
        let mut projection = Vec::with_capacity(dim * d);
        let mut eigenvalues = Vec::with_capacity(dim);
        for &k in &order[..dim] {
            let lambda = eigen.eigenvalues[k].max(largest * EIGEN_FLOOR);
            let scale = lambda.powf(-f64::from(power) / 2.0);
            let u = eigen.eigenvectors.column(k);
            // Fix the sign so that learning is deterministic across platforms.
            let sign = if u.iter().fold(0.0, |s, x| s + x) < 0.0 {
                -1.0
            } else {
                1.0
            };
            projection.extend(u.iter().map(|x| (x * scale * sign) as f32));
            eigenvalues.push(lambda as f32);
        }
        Ok(Self {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            projection,
            eigenvalues,
            power,
            samples: n,
            origin: BTreeMap::new(),
        })
    }

    /// The same eigenvectors, kept to the first `dim` and scaled to `power` instead:
    /// one learned PCA gives every intent its own whitening.
    pub fn with_shape(&self, dim: usize, power: f32) -> Result<Self> {
        if dim == 0 || dim > self.dim() {
            return Err(Error::Invalid(format!(
                "whitening dimension must be in 1..={}, got {dim}",
                self.dim()
            )));
        }
        if !(0.0..=1.0).contains(&power) {
            return Err(Error::Invalid(format!(
                "whitening power must be in [0, 1], got {power}"
            )));
        }
        let d = self.input_dim();
        let change = -(f64::from(power) - f64::from(self.power)) / 2.0;
        let projection = self
            .projection
            .chunks_exact(d)
            .zip(&self.eigenvalues)
            .take(dim)
            .flat_map(|(row, &lambda)| {
                let scale = f64::from(lambda).powf(change);
                row.iter().map(move |&x| (f64::from(x) * scale) as f32)
            })
            .collect();
        Ok(Self {
            mean: self.mean.clone(),
            projection,
            eigenvalues: self.eigenvalues[..dim].to_vec(),
            power,
            samples: self.samples,
            origin: self.origin.clone(),
        })
    }

    /// Output dimension.
    pub fn dim(&self) -> usize {
        self.eigenvalues.len()
    }

    /// Each output dimension's factor back to the scale PCA left it at (`lambda ^ (power
    /// / 2)`): a whitened row times these points as the (centred) descriptor did.
    pub fn unwhitening(&self) -> Vec<f32> {
        self.eigenvalues
            .iter()
            .map(|l| l.max(0.0).powf(self.power / 2.0))
            .collect()
    }

    /// A checksum of what the transform does (mean, projection, power): rows whitened
    /// by another whitening are never taken for this one's (the search's cache).
    pub fn fingerprint(&self) -> u32 {
        let numbers = [&self.mean[..], &self.projection, &[self.power]];
        numbers.iter().fold(0, |crc, numbers| {
            let bytes: Vec<u8> = numbers.iter().flat_map(|x| x.to_le_bytes()).collect();
            crc32c::crc32c_append(crc, &bytes)
        })
    }

    /// Input dimension.
    pub fn input_dim(&self) -> usize {
        self.mean.len()
    }

    pub fn power(&self) -> f32 {
        self.power
    }

    /// The pooling of the descriptors it was learned on (SPoC when the file predates
    /// the record, or names a pooling this build does not know).
    pub fn pooling(&self) -> Pooling {
        self.origin
            .get(ORIGIN_POOLING)
            .and_then(|name| {
                Pooling::ALL
                    .into_iter()
                    .find(|pooling| pooling.name() == name)
            })
            .unwrap_or(Pooling::Spoc)
    }

    /// `P (x - mean)`; `x` must have [`Whitening::input_dim`] entries.
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        let centred: Vec<f32> = x.iter().zip(&self.mean).map(|(a, m)| a - m).collect();
        self.projection
            .chunks_exact(self.mean.len())
            .map(|row| crate::describe::vectors::dot(row, &centred))
            .collect()
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let d = self.input_dim();
        let tensors = [
            ("mean".to_string(), vec![d], self.mean.clone()),
            (
                "projection".to_string(),
                vec![self.dim(), d],
                self.projection.clone(),
            ),
            (
                "eigenvalues".to_string(),
                vec![self.dim()],
                self.eigenvalues.clone(),
            ),
        ];
        let mut metadata: HashMap<String, String> = self
            .origin
            .iter()
            .filter(|(key, _)| !FORMAT_KEYS.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        metadata.extend([
            ("format".to_string(), WHITENING_FORMAT.to_string()),
            ("format_version".to_string(), WHITENING_VERSION.to_string()),
            ("power".to_string(), self.power.to_string()),
            ("samples".to_string(), self.samples.to_string()),
            ("eigen_floor".to_string(), EIGEN_FLOOR.to_string()),
        ]);
        write_safetensors(path, &tensors, metadata)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(path, &bytes)
    }

    /// Reads a whitening file held in memory; `path` names it in messages.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self> {
        let fail = |reason: String| Error::Whitening {
            path: path.to_path_buf(),
            reason,
        };
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| fail(format!("not a whitening file: {e}")))?;
        let meta = header.metadata().clone().unwrap_or_default();
        if meta.get("format").map(String::as_str) != Some(WHITENING_FORMAT) {
            return Err(fail("not a lookalike whitening file".into()));
        }
        let version = meta.get("format_version").cloned().unwrap_or_default();
        if version != WHITENING_VERSION {
            return Err(fail(format!(
                "format version {version:?}, this build reads version {WHITENING_VERSION}; learn it again with `lookalike whiten learn`"
            )));
        }
        let parse = |key: &str| -> Result<f64> {
            meta.get(key)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| fail(format!("metadata `{key}` missing or not a number")))
        };
        let tensors =
            SafeTensors::deserialize(bytes).map_err(|e| fail(format!("corrupt file: {e}")))?;
        let read = |name: &str| -> Result<(Vec<usize>, Vec<f32>)> {
            let t = tensors
                .tensor(name)
                .map_err(|_| fail(format!("tensor `{name}` missing")))?;
            if t.dtype() != safetensors::Dtype::F32 {
                return Err(fail(format!("tensor `{name}` is not F32")));
            }
            Ok((t.shape().to_vec(), f32_from_le_bytes(t.data())))
        };
        let (mean_shape, mean) = read("mean")?;
        let (proj_shape, projection) = read("projection")?;
        let (eig_shape, eigenvalues) = read("eigenvalues")?;
        let consistent = mean_shape.len() == 1
            && proj_shape.len() == 2
            && proj_shape[1] == mean_shape[0]
            && eig_shape == [proj_shape[0]];
        if !consistent {
            return Err(fail(format!(
                "inconsistent shapes: mean {mean_shape:?}, projection {proj_shape:?}, eigenvalues {eig_shape:?}"
            )));
        }
        Ok(Self {
            mean,
            projection,
            eigenvalues,
            power: parse("power")? as f32,
            samples: parse("samples")? as usize,
            origin: meta
                .iter()
                .filter(|(key, _)| !FORMAT_KEYS.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        })
    }
}

/// L2 -> optional whitening -> L2.
pub fn finish_descriptor(raw: &[f32], whitening: Option<&Whitening>) -> Vec<f32> {
    let mut v = raw.to_vec();
    l2_normalize(&mut v);
    if let Some(w) = whitening {
        v = w.apply(&v);
        l2_normalize(&mut v);
    }
    v
}

/// [`finish_descriptor`] of many raw descriptors, the final ones row after row in one
/// vector: the whitening as one matrix product (SGEMM) per block of rows instead of a
/// matrix-vector product per row, blocks on all cores (a library's load: 100,000 rows
/// in `benches/search.rs`, `whiten_100k_*`). Rows have the whitening's input length
/// ([`check_whitening_fits`]); a shorter one would read as the mean where it ends.
pub fn finish_descriptors(raws: &[&[f32]], whitening: Option<&Whitening>) -> Vec<f32> {
    use rayon::prelude::*;
    /// Rows whitened by one SGEMM: 8 MB of 512-d input.
    const BLOCK_ROWS: usize = 4096;
    let Some(w) = whitening else {
        return raws
            .par_iter()
            .flat_map_iter(|raw| finish_descriptor(raw, None))
            .collect();
    };
    let (d, k) = (w.input_dim(), w.dim());
    let mut out = vec![0.0; raws.len() * k];
    out.par_chunks_mut(BLOCK_ROWS * k)
        .zip(raws.par_chunks(BLOCK_ROWS))
        .for_each(|(out, raws)| {
            let mut centred = vec![0.0; raws.len() * d];
            for (x, raw) in centred.chunks_exact_mut(d).zip(raws) {
                let mut v = raw.to_vec();
                l2_normalize(&mut v);
                for ((x, v), m) in x.iter_mut().zip(&v).zip(&w.mean) {
                    *x = v - m;
                }
            }
            // Each row against each of the projection's rows: `P (x - mean)`.
            let rows = raws.len();
            crate::describe::net::sgemm_transposed(out, &centred, &w.projection, rows, d, k, 1);
            out.chunks_exact_mut(k).for_each(l2_normalize);
        });
    out
}

/// Checks that `whitening` fits descriptors of `dim` entries.
pub fn check_whitening_fits(whitening: &Whitening, path: &Path, dim: usize) -> Result<()> {
    if whitening.input_dim() == dim {
        Ok(())
    } else {
        Err(Error::Whitening {
            path: path.to_path_buf(),
            reason: format!(
                "learned on {}-d descriptors, this network makes {dim}-d ones",
                whitening.input_dim()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic correlated 3-d samples of full rank.
    fn samples() -> Vec<Vec<f32>> {
        (0..200)
            .map(|i| {
                let a = ((i * 7919) % 101) as f32 / 50.0 - 1.0;
                let b = ((i * 104_729) % 89) as f32 / 44.0 - 1.0;
                let c = ((i * 31) % 17) as f32 / 8.0 - 1.0;
                vec![3.0 * a + 0.1 * b, a - b + 0.2 * c, 0.5 * b + c + 2.0]
            })
            .collect()
    }

    #[test]
    fn full_whitening_gives_identity_covariance() {
        let data = samples();
        let w = Whitening::learn(&data, 3, 1.0).unwrap();
        let out: Vec<Vec<f32>> = data.iter().map(|v| w.apply(v)).collect();
        for i in 0..3 {
            for j in 0..3 {
                let c: f32 = out.iter().map(|v| v[i] * v[j]).sum::<f32>() / out.len() as f32;
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((c - expected).abs() < 1e-3, "cov[{i}][{j}] = {c}");
            }
        }
    }

    #[test]
    fn pca_rotation_preserves_centred_distances() {
        let data = samples();
        let w = Whitening::learn(&data, 3, 0.0).unwrap();
        let (a, b) = (w.apply(&data[3]), w.apply(&data[17]));
        let dist = |x: &[f32], y: &[f32]| -> f32 {
            x.iter()
                .zip(y)
                .map(|(p, q)| (p - q) * (p - q))
                .sum::<f32>()
                .sqrt()
        };
        assert!((dist(&a, &b) - dist(&data[3], &data[17])).abs() < 1e-4);
    }

    #[test]
    fn saves_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let mut w = Whitening::learn(&samples(), 2, 0.5).unwrap();
        w.origin.insert("learned_from".into(), "somewhere".into());
        w.save(&path).unwrap();
        assert_eq!(Whitening::load(&path).unwrap(), w);
    }

    #[test]
    fn a_reshaped_pca_equals_the_whitening_learned_directly() {
        let data = samples();
        let pca = Whitening::learn(&data, 3, 0.0).unwrap();
        for (dim, power) in [(3, 1.0), (2, 0.5), (1, 0.0)] {
            let direct = Whitening::learn(&data, dim, power).unwrap();
            let reshaped = pca.with_shape(dim, power).unwrap();
            let (a, b) = (direct.apply(&data[5]), reshaped.apply(&data[5]));
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-4 * x.abs().max(1.0), "{a:?} vs {b:?}");
            }
        }
        assert!(pca.with_shape(4, 1.0).is_err());
    }

    #[test]
    fn the_shipped_whitenings_read_and_name_their_model_and_pooling() {
        for (pooling, file, bytes) in SHIPPED {
            let whitening = Whitening::from_bytes(Path::new(file), bytes).unwrap();
            assert_eq!((whitening.dim(), whitening.input_dim()), (512, 512));
            assert_eq!(whitening.power(), 0.0);
            assert_eq!(whitening.pooling(), pooling, "{file}");
            let model = whitening.origin[ORIGIN_MODEL].clone();
            let weights = whitening.origin[ORIGIN_WEIGHTS].clone();
            assert!(shipped(pooling, &model, None).is_some());
            assert!(shipped(pooling, "other", Some(&weights)).is_some());
            assert!(shipped(pooling, "other", Some("other")).is_none());
            assert!(shipped(pooling, "other", None).is_none());
            assert!(shipped(Pooling::Gem, &model, Some(&weights)).is_none());
        }
        // Each pooling has its own: the R-MAC one is not the SPoC one.
        let [(_, _, spoc), (_, _, rmac)] = SHIPPED;
        assert_ne!(spoc, rmac);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(Whitening::learn(&samples(), 4, 1.0).is_err());
        assert!(Whitening::learn(&samples(), 2, 1.5).is_err());
        assert!(Whitening::learn(&samples()[..1], 1, 1.0).is_err());
    }

    #[test]
    fn whitening_many_rows_at_once_matches_one_at_a_time() {
        // More rows than one block, of 24-d descriptors, a whitening to 16 dimensions.
        let rows: Vec<Vec<f32>> = (0..5000)
            .map(|i| {
                (0..24)
                    .map(|j| ((i * 31 + j * 17) % 23) as f32 + 0.5)
                    .collect()
            })
            .collect();
        let w = Whitening::learn(&rows[..200], 16, 0.5).unwrap();
        let raws: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        for whitening in [Some(&w), None] {
            let all = finish_descriptors(&raws, whitening);
            let dim = whitening.map_or(24, Whitening::dim);
            assert_eq!(all.len(), raws.len() * dim);
            for (raw, row) in raws.iter().zip(all.chunks_exact(dim)) {
                let one = finish_descriptor(raw, whitening);
                for (a, b) in row.iter().zip(&one) {
                    assert!((a - b).abs() < 1e-5, "{a} vs {b}");
                }
            }
        }
    }
}
