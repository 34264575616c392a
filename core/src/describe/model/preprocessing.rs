//! The input normalisation a weights file expects, stored in its safetensors metadata.
//!
//! Keys: `input_channels` (`RGB` or `BGR`: the order the first convolution expects),
//! `input_range` (`0-255` or `0-1`), `mean_rgb` and `std_rgb` (three comma-separated
//! numbers each, in R,G,B order, in units of `input_range`). The network sees
//! `(pixel * range / 255 - mean) / std` per channel.

use std::collections::HashMap;

/// Channel order of the network's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelOrder {
    Rgb,
    Bgr,
}

/// How an 8-bit RGB pixel becomes the network's input.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocessing {
    pub channel_order: ChannelOrder,
    /// Upper end of the input range: 255 or 1.
    pub range_max: f32,
    /// Per-channel mean, R,G,B order, in units of the input range.
    pub mean_rgb: [f32; 3],
    /// Per-channel standard deviation, R,G,B order.
    pub std_rgb: [f32; 3],
}

impl Preprocessing {
    /// Caffe / Keras VGG16: 0-255, ImageNet mean subtracted, no scaling.
    pub fn caffe_rgb() -> Self {
        Self {
            channel_order: ChannelOrder::Rgb,
            range_max: 255.0,
            mean_rgb: [123.68, 116.779, 103.939],
            std_rgb: [1.0, 1.0, 1.0],
        }
    }

    /// Reads the four metadata keys; the error names the key that is missing or wrong.
    pub fn from_metadata(metadata: &HashMap<String, String>) -> Result<Self, String> {
        let get = |key: &str| {
            metadata.get(key).map(String::as_str).ok_or_else(|| {
                format!(
                    "no preprocessing metadata: key `{key}` is missing (expected `input_channels`, \
                     `input_range`, `mean_rgb`, `std_rgb`; `lookalike model import` writes them)"
                )
            })
        };
        let channel_order = match get("input_channels")?.trim().to_ascii_uppercase().as_str() {
            "RGB" => ChannelOrder::Rgb,
            "BGR" => ChannelOrder::Bgr,
            other => {
                return Err(format!(
                    "`input_channels` is {other:?}, expected RGB or BGR"
                ));
            }
        };
        let range_max = match get("input_range")?.trim() {
            "0-255" => 255.0,
            "0-1" => 1.0,
            other => return Err(format!("`input_range` is {other:?}, expected 0-255 or 0-1")),
        };
        let mean_rgb = parse_triple("mean_rgb", get("mean_rgb")?)?;
        let std_rgb = parse_triple("std_rgb", get("std_rgb")?)?;
        if std_rgb.iter().any(|s| *s <= 0.0) {
            return Err(format!("`std_rgb` must be positive, got {std_rgb:?}"));
        }
        Ok(Self {
            channel_order,
            range_max,
            mean_rgb,
            std_rgb,
        })
    }

    /// The metadata entries that [`Preprocessing::from_metadata`] reads back.
    pub fn to_metadata(&self) -> Vec<(String, String)> {
        let triple = |v: [f32; 3]| format!("{},{},{}", v[0], v[1], v[2]);
        vec![
            (
                "input_channels".into(),
                match self.channel_order {
                    ChannelOrder::Rgb => "RGB",
                    ChannelOrder::Bgr => "BGR",
                }
                .into(),
            ),
            (
                "input_range".into(),
                if self.range_max == 1.0 {
                    "0-1"
                } else {
                    "0-255"
                }
                .into(),
            ),
            ("mean_rgb".into(), triple(self.mean_rgb)),
            ("std_rgb".into(), triple(self.std_rgb)),
        ]
    }

    /// Normalises interleaved RGB8 pixels into the network's input, interleaved (HWC)
    /// in the network's channel order.
    pub fn apply(&self, rgb: &[u8]) -> Vec<f32> {
        let scale = self.range_max / 255.0;
        // Per network channel: which RGB channel it reads, and y = x * a + b.
        let source = match self.channel_order {
            ChannelOrder::Rgb => [0, 1, 2],
            ChannelOrder::Bgr => [2, 1, 0],
        };
        let a = source.map(|c| scale / self.std_rgb[c]);
        let b = source.map(|c| -self.mean_rgb[c] / self.std_rgb[c]);
        let mut out = Vec::with_capacity(rgb.len());
        for px in rgb.chunks_exact(3) {
            for ch in 0..3 {
                out.push(f32::from(px[source[ch]]) * a[ch] + b[ch]);
            }
        }
        out
    }
}

fn parse_triple(key: &str, value: &str) -> Result<[f32; 3], String> {
    let parts: Vec<f32> = value
        .split(',')
        .map(|s| s.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("`{key}` is {value:?}, expected three comma-separated numbers"))?;
    <[f32; 3]>::try_from(parts)
        .map_err(|_| format!("`{key}` is {value:?}, expected three comma-separated numbers"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn round_trips_through_metadata() {
        let p = Preprocessing::caffe_rgb();
        let map: HashMap<_, _> = p.to_metadata().into_iter().collect();
        assert_eq!(Preprocessing::from_metadata(&map).unwrap(), p);
    }

    #[test]
    fn missing_key_is_named() {
        let err = Preprocessing::from_metadata(&metadata(&[
            ("input_channels", "RGB"),
            ("input_range", "0-255"),
            ("std_rgb", "1,1,1"),
        ]))
        .unwrap_err();
        assert!(err.contains("`mean_rgb`"), "{err}");
    }

    #[test]
    fn caffe_rgb_subtracts_the_mean() {
        let out = Preprocessing::caffe_rgb().apply(&[124, 117, 104]);
        assert!(
            (out[0] - 0.32).abs() < 1e-4 && (out[2] - 0.061).abs() < 1e-4,
            "{out:?}"
        );
    }

    #[test]
    fn bgr_and_unit_range_scale_and_reorder() {
        let p = Preprocessing {
            channel_order: ChannelOrder::Bgr,
            range_max: 1.0,
            mean_rgb: [0.5, 0.0, 0.0],
            std_rgb: [0.5, 1.0, 2.0],
        };
        let out = p.apply(&[255, 0, 255]);
        // B first: 1.0 / 2.0; then G: 0; then R: (1.0 - 0.5) / 0.5.
        assert_eq!(out, vec![0.5, 0.0, 1.0]);
    }
}
