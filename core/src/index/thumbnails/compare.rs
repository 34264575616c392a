//! How two thumbnails agree: the best alignment of one inside the other under a flip or
//! quarter turn, a scale (a crop down to half the side) and a shift, and how their fine
//! detail agrees there.

use serde::Serialize;

use super::Thumbnail;

/// The smallest part of one photo another may be a crop of (ratio of sides): 0.48, so
/// that a crop of a quarter of the area is found.
const SMALLEST_SCALE: f32 = 0.48;

/// Scales tried between the two thumbnails, 3% apart (a coarser step leaves half a
/// pixel of misalignment at the edges of a 48-pixel thumbnail, which the detail test
/// would then miss).
const SCALE_STEP: f32 = 0.97;

/// How well two thumbnails agree at their best alignment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PixelMatch {
    /// Normalised cross-correlation of the grey levels where they overlap best.
    pub alignment: f32,
    /// The same of their fine detail (each minus its 3 x 3 mean) there: about 1 for a
    /// copy, near 0 for two different pictures whose broad shapes happen to agree.
    pub detail: f32,
    /// The detail's correlation in each of 3 x 3 cells of the overlap, the third lowest:
    /// the detail must agree across the overlap, not in one strong line.
    pub cells: f32,
    /// Side of the smaller part over the larger (1: the whole of both; 0.5: one is a
    /// crop of a quarter of the other).
    pub scale: f32,
}

impl Thumbnail {
    fn plane(&self) -> Plane {
        Plane {
            width: usize::from(self.width),
            height: usize::from(self.height),
            data: self.pixels.iter().map(|&p| f32::from(p)).collect(),
        }
    }
}

/// A grey image as floats, row-major.
#[derive(Clone)]
struct Plane {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Plane {
    fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    /// Turned a quarter turn clockwise.
    fn quarter_turn(&self) -> Self {
        let (w, h) = (self.height, self.width);
        let mut data = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                data.push(self.at(y, self.height - 1 - x));
            }
        }
        Self {
            width: w,
            height: h,
            data,
        }
    }

    /// Mirrored left to right.
    fn flipped(&self) -> Self {
        let mut data = Vec::with_capacity(self.data.len());
        for row in self.data.chunks(self.width) {
            data.extend(row.iter().rev());
        }
        Self {
            data,
            ..self.clone()
        }
    }

    /// Area-averaged to `width` x `height` (not larger than it is).
    fn resampled(&self, width: usize, height: usize) -> Self {
        Resampler::new((self.width, self.height), (width, height)).apply(self)
    }

    fn window(&self, x0: usize, y0: usize, width: usize, height: usize) -> Self {
        let mut data = Vec::with_capacity(width * height);
        for y in y0..y0 + height {
            data.extend_from_slice(&self.data[y * self.width + x0..y * self.width + x0 + width]);
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// Its fine detail: each pixel minus the mean of its 3 x 3 neighbourhood (edges
    /// repeated), the neighbourhood summed along rows and then along columns.
    fn detail(&self) -> Self {
        let (w, h) = (self.width, self.height);
        let mut across = Vec::with_capacity(self.data.len());
        for row in self.data.chunks_exact(w) {
            across.extend(
                (0..w).map(|x| row[x.saturating_sub(1)] + row[x] + row[(x + 1).min(w - 1)]),
            );
        }
        let mut data = Vec::with_capacity(self.data.len());
        for y in 0..h {
            let (up, down) = (y.saturating_sub(1) * w, (y + 1).min(h - 1) * w);
            for x in 0..w {
                let sum = across[up + x] + across[y * w + x] + across[down + x];
                data.push(self.data[y * w + x] - sum / 9.0);
            }
        }
        Self { data, ..*self }
    }
}

/// An area-averaging from one size to another, its weights worked out once for the
/// images of that size it is applied to: down the columns first (whole rows at a time),
/// then along the fewer rows left.
struct Resampler {
    from: (usize, usize),
    to: (usize, usize),
    /// `(output, input, weight)` of the rows, then of the columns.
    rows: Vec<(usize, usize, f32)>,
    columns: Vec<(usize, usize, f32)>,
}

impl Resampler {
    fn new(from: (usize, usize), to: (usize, usize)) -> Self {
        let weights = |from: usize, to: usize| {
            let mut all = Vec::with_capacity(from + to);
            for_area(from, to, |o, i, w| all.push((o, i, w)));
            all
        };
        Self {
            from,
            to,
            rows: weights(from.1, to.1),
            columns: weights(from.0, to.0),
        }
    }

    fn apply(&self, plane: &Plane) -> Plane {
        let ((fw, _), (width, height)) = (self.from, self.to);
        if self.from == self.to || (plane.width, plane.height) != self.from {
            return plane.clone();
        }
        let mut down = vec![0.0; fw * height];
        for &(o, i, w) in &self.rows {
            let out = &mut down[o * fw..(o + 1) * fw];
            for (d, s) in out.iter_mut().zip(&plane.data[i * fw..]) {
                *d += s * w;
            }
        }
        let mut data = vec![0.0; width * height];
        for (out, row) in data.chunks_exact_mut(width).zip(down.chunks_exact(fw)) {
            for &(o, i, w) in &self.columns {
                out[o] += row[i] * w;
            }
        }
        Plane {
            width,
            height,
            data,
        }
    }
}

/// Calls `add(output, input, weight)` for each of `to` output cells and each of the
/// `from` input cells it covers, weighted by the share of the cell covered (an average
/// over the covered span: the weights of one output add up to 1).
fn for_area(from: usize, to: usize, mut add: impl FnMut(usize, usize, f32)) {
    let ratio = from as f32 / to as f32;
    for o in 0..to {
        let (start, end) = (o as f32 * ratio, (o + 1) as f32 * ratio);
        let mut i = start.floor() as usize;
        while (i as f32) < end && i < from {
            let covered = end.min(i as f32 + 1.0) - start.max(i as f32);
            if covered > 0.0 {
                add(o, i, covered / ratio);
            }
            i += 1;
        }
    }
}

/// Normalised cross-correlation of two equally sized images (0 when one is flat).
fn ncc(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len() as f32;
    let (ma, mb) = (a.iter().sum::<f32>() / n, b.iter().sum::<f32>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x - ma, y - mb);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    let norm = (aa * bb).sqrt();
    if norm > 1e-6 { ab / norm } else { 0.0 }
}

/// The third lowest detail correlation of the 3 x 3 cells of two aligned images.
fn cells(a: &Plane, b: &Plane) -> f32 {
    let (w, h) = (a.width, a.height);
    let mut values = Vec::with_capacity(9);
    for i in 0..3 {
        for j in 0..3 {
            let (y0, y1, x0, x1) = (i * h / 3, (i + 1) * h / 3, j * w / 3, (j + 1) * w / 3);
            let part = |p: &Plane| p.window(x0, y0, x1 - x0, y1 - y0).data;
            values.push(ncc(&part(a), &part(b)));
        }
    }
    values.sort_by(f32::total_cmp);
    values[2]
}

/// The best place of `template` inside `image` by normalised cross-correlation, its
/// top-left corner within `around` pixels of `near` (anywhere with `None`): the
/// correlation and the corner.
fn best_place(
    image: &Canvas,
    template: &Plane,
    near: Option<(usize, usize, usize)>,
) -> Option<(f32, usize, usize)> {
    let [best] = best_places(image, [template], near);
    best
}

/// [`best_place`] of each of `P` templates of one size (the poses of one photo at one
/// scale) in one pass over the image: each run of the image's pixels is read once for
/// all of them, and each place's spread computed once.
fn best_places<const P: usize>(
    image: &Canvas,
    templates: [&Plane; P],
    near: Option<(usize, usize, usize)>,
) -> [Option<(f32, usize, usize)>; P] {
    let mut best = [None; P];
    let (tw, th) = (templates[0].width, templates[0].height);
    let (width, height) = (image.plane.width, image.plane.height);
    if tw > width || th > height || templates.iter().any(|t| (t.width, t.height) != (tw, th)) {
        return best;
    }
    let n = (tw * th) as f32;
    // The templates minus their means, interleaved pixel by pixel, and their norms.
    let mut centred = vec![0.0; templates[0].data.len() * P];
    let norms = std::array::from_fn::<f32, P, _>(|p| {
        let data = &templates[p].data;
        let mean = data.iter().sum::<f32>() / n;
        for (i, v) in data.iter().enumerate() {
            centred[i * P + p] = v - mean;
        }
        data.iter()
            .map(|v| (v - mean) * (v - mean))
            .sum::<f32>()
            .sqrt()
    });
    let (xs, ys) = match near {
        None => (0..=width - tw, 0..=height - th),
        Some((x, y, around)) => (
            x.saturating_sub(around)..=(x + around).min(width - tw),
            y.saturating_sub(around)..=(y + around).min(height - th),
        ),
    };
    for y in ys {
        // The products of `LANES` neighbouring places at once.
        for x0 in xs.clone().step_by(LANES) {
            let dots = image.dots::<P>((x0, y), &centred, tw);
            for (lane, x) in (x0..=*xs.end()).take(LANES).enumerate() {
                let (sum, squares) = image.sums.window(x, y, tw, th);
                let variance = (squares - sum * sum / n).max(0.0);
                if variance < 1e-3 {
                    continue;
                }
                for p in 0..P {
                    let (dot, norm) = (dots[p][lane], norms[p]);
                    // Most places cannot beat the best so far: told apart without a root.
                    if norm < 1e-3
                        || best[p].is_some_and(|(s, _, _)| {
                            s > 0.0 && (dot <= 0.0 || dot * dot <= s * s * variance * norm * norm)
                        })
                    {
                        continue;
                    }
                    let score = dot / (variance.sqrt() * norm);
                    if best[p].is_none_or(|(s, _, _)| score > s) {
                        best[p] = Some((score, x, y));
                    }
                }
            }
        }
    }
    best
}

/// How many neighbouring places [`Canvas::dots`] correlates at once (one AVX-512
/// register, two AVX2 ones).
const LANES: usize = 16;

/// An image to search in: its pixels, their sums over any window, and the pixels again
/// with `LANES` zeros after them, so that a run of `LANES` places can always be read
/// whole (the places past a row's end are read and then ignored).
struct Canvas {
    plane: Plane,
    sums: Integral,
    padded: Vec<f32>,
}

impl Canvas {
    fn of(plane: Plane) -> Self {
        let mut padded = plane.data.clone();
        padded.resize(plane.data.len() + LANES, 0.0);
        Self {
            sums: Integral::of(&plane),
            plane,
            padded,
        }
    }

    /// The dot products of `P` interleaved templates (`tw` wide) with the image's
    /// windows whose top-left corners are `(x, y)` to `(x + LANES - 1, y)`, each
    /// place's products added in the same order.
    fn dots<const P: usize>(
        &self,
        (x, y): (usize, usize),
        templates: &[f32],
        tw: usize,
    ) -> [[f32; LANES]; P] {
        /// The image, its width, where the first place starts, the templates and their
        /// width: one argument, for the copies compiled for each instruction set.
        type Run<'a> = (&'a [f32], usize, usize, &'a [f32], usize);
        #[inline(always)]
        fn any<const P: usize>((image, width, at, templates, tw): Run<'_>) -> [[f32; LANES]; P] {
            let mut acc = [[0.0f32; LANES]; P];
            for (ty, row) in templates.chunks_exact(tw * P).enumerate() {
                let start = at + ty * width;
                for (tx, t) in row.chunks_exact(P).enumerate() {
                    let Some(pixels) = image
                        .get(start + tx..)
                        .and_then(|rest| rest.first_chunk::<LANES>())
                    else {
                        continue;
                    };
                    for (acc, &t) in acc.iter_mut().zip(t) {
                        for (a, p) in acc.iter_mut().zip(pixels) {
                            *a += p * t;
                        }
                    }
                }
            }
            acc
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        fn avx512<const P: usize>(run: Run<'_>) -> [[f32; LANES]; P] {
            any::<P>(run)
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn avx2<const P: usize>(run: Run<'_>) -> [[f32; LANES]; P] {
            any::<P>(run)
        }
        let run = (
            &self.padded[..],
            self.plane.width,
            y * self.plane.width + x,
            templates,
            tw,
        );
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F, checked just above.
                return unsafe { avx512::<P>(run) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, checked just above.
                return unsafe { avx2::<P>(run) };
            }
        }
        any::<P>(run)
    }
}

/// Sums and sums of squares of an image over any window, in constant time.
struct Integral {
    width: usize,
    sum: Vec<f64>,
    squares: Vec<f64>,
}

impl Integral {
    fn of(p: &Plane) -> Self {
        let width = p.width + 1;
        let mut sum = vec![0.0; width * (p.height + 1)];
        let mut squares = sum.clone();
        for y in 0..p.height {
            for x in 0..p.width {
                let v = f64::from(p.at(x, y));
                let (i, up, left, diag) = (
                    (y + 1) * width + x + 1,
                    y * width + x + 1,
                    (y + 1) * width + x,
                    y * width + x,
                );
                sum[i] = v + sum[up] + sum[left] - sum[diag];
                squares[i] = v * v + squares[up] + squares[left] - squares[diag];
            }
        }
        Self {
            width,
            sum,
            squares,
        }
    }

    fn window(&self, x: usize, y: usize, w: usize, h: usize) -> (f32, f32) {
        let at = |t: &[f64]| {
            t[(y + h) * self.width + x + w]
                - t[y * self.width + x + w]
                - t[(y + h) * self.width + x]
                + t[y * self.width + x]
        };
        (at(&self.sum) as f32, at(&self.squares) as f32)
    }
}

/// How the two photos may be turned against each other: as they are (or mirrored), or a
/// quarter turn apart (either way, or mirrored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Turn {
    None,
    Quarter,
}

/// How `a` and `b` agree at an alignment `accept`s (either may be a crop of the other,
/// down to [`SMALLEST_SCALE`] of its side, mirrored, or turned when `turn` says so), the
/// likeliest tried first; when none is accepted, at their best alignment.
///
/// First the whole of both, as they are (most copies: re-saved, resized, recoloured);
/// then every scale and pose at half size, and the few best of those again at full size
/// around where they were found. Only an alignment whose grey levels correlate at least
/// [`PROMISING`] is looked at in detail, or again.
pub fn compare(
    a: &Thumbnail,
    b: &Thumbnail,
    turn: Turn,
    accept: &dyn Fn(&PixelMatch) -> bool,
) -> PixelMatch {
    let (a, b) = (a.plane(), b.plane());
    let sides: Vec<Side> = [(&a, &b), (&b, &a)]
        .into_iter()
        .map(|(image, other)| Side::new(image, poses(other, turn)))
        .collect();
    let scales: Vec<f32> = std::iter::successors(Some(1.0f32), |s| Some(s * SCALE_STEP))
        .take_while(|&s| s >= SMALLEST_SCALE)
        .collect();
    // The best alignment so far (its correlation, side, pose, scale and corner), and
    // how an alignment agrees in detail, when it may be a copy's.
    let mut best: Option<(f32, Tried)> = None;
    let mut look = |s: usize, p: usize, scale: f32, near| {
        let side: &Side = &sides[s];
        let placed = side.place(&side.poses[p], scale, near)?;
        if best.as_ref().is_none_or(|b| placed.alignment > b.0) {
            let tried = Tried {
                side: s,
                pose: p,
                scale,
                corner: placed.corner,
            };
            best = Some((placed.alignment, tried));
        }
        let found = (placed.alignment >= PROMISING).then(|| side.agreement(&placed))?;
        accept(&found).then_some(found)
    };
    // The whole of both.
    for (s, side) in sides.iter().enumerate() {
        for p in 0..side.poses.len() {
            if let Some(found) = look(s, p, 1.0, None) {
                return found;
            }
        }
    }
    // Every scale and pose at half size; the best again at full size.
    let coarse = coarse_places(&sides, &scales);
    let promising = coarse.iter().take(REFINED).filter(|c| c.0 >= PROMISING);
    for &(_, s, p, k, x, y) in promising {
        for &scale in &scales[k.saturating_sub(1)..(k + 2).min(scales.len())] {
            if let Some(found) = look(s, p, scale, Some((x, y, 2))) {
                return found;
            }
        }
    }
    // None accepted: how the best alignment agrees.
    let none = PixelMatch {
        alignment: 0.0,
        detail: 0.0,
        cells: 0.0,
        scale: 0.0,
    };
    best.and_then(|(_, tried)| {
        let (side, (x, y)) = (&sides[tried.side], tried.corner);
        let placed = side.place(&side.poses[tried.pose], tried.scale, Some((x, y, 0)))?;
        let found = side.agreement(&placed);
        Some(PixelMatch {
            alignment: found.alignment.max(0.0),
            ..found
        })
    })
    .unwrap_or(none)
}

/// The poses of `other` a comparison tries: as it is and mirrored, or turned a quarter
/// turn either way, and mirrored. They all have one size.
fn poses(other: &Plane, turn: Turn) -> Vec<Plane> {
    let upright = match turn {
        Turn::None => other.clone(),
        Turn::Quarter => other.quarter_turn(),
    };
    let flipped = upright.flipped();
    let mut poses = vec![upright, flipped];
    if turn == Turn::Quarter {
        let back = poses[0].quarter_turn().quarter_turn();
        poses.extend([back.flipped(), back]);
    }
    poses
}

/// Where an alignment was found: which side, pose and scale, at which corner.
struct Tried {
    side: usize,
    pose: usize,
    scale: f32,
    corner: (usize, usize),
}

/// A pose at one scale at its best place at half size: `(correlation, side, pose,
/// scale's rank, corner at full size)`.
type Coarse = (f32, usize, usize, usize, usize, usize);

/// Each side's poses at every scale but the whole at their best places at half size,
/// best first (among equals, the first side, pose and scale).
fn coarse_places(sides: &[Side], scales: &[f32]) -> Vec<Coarse> {
    let mut coarse = Vec::new();
    for (s, side) in sides.iter().enumerate() {
        // Each template made from its pose at half size (a quarter of the pixels to
        // average), as the image it is looked for in. The poses have one size.
        let halved: Vec<Plane> = (side.poses.iter())
            .map(|pose| pose.resampled(pose.width.div_ceil(2), pose.height.div_ceil(2)))
            .collect();
        for (k, &scale) in scales.iter().enumerate().skip(1) {
            let (w, h) = side.fitted(&side.poses[0], scale);
            let to = Resampler::new(
                (halved[0].width, halved[0].height),
                ((w / 2).max(2), (h / 2).max(2)),
            );
            let templates: Vec<Plane> = halved.iter().map(|pose| to.apply(pose)).collect();
            let found = match &templates[..] {
                [a, b] => best_places(&side.half, [a, b], None).to_vec(),
                [a, b, c, d] => best_places(&side.half, [a, b, c, d], None).to_vec(),
                other => (other.iter())
                    .map(|t| best_place(&side.half, t, None))
                    .collect(),
            };
            for (p, place) in found.into_iter().enumerate() {
                if let Some((score, x, y)) = place {
                    coarse.push((score, s, p, k, x * 2, y * 2));
                }
            }
        }
    }
    // The best first; among equals, the first side, pose and scale.
    coarse.sort_by(|x, y| (y.0.total_cmp(&x.0)).then((x.1, x.2, x.3).cmp(&(y.1, y.2, y.3))));
    coarse
}

/// How many of the best alignments found at half size are looked at again at full size.
const REFINED: usize = 4;

/// The least correlation of grey levels an alignment needs to be looked at in detail (at
/// full size) or again at full size (at half size): copies correlate far above it. On
/// neardup-dev's 270 photos and distinct-dev's 19 (every pair, as they are and a quarter
/// turn apart: `benches/pixels.rs`), every copy's alignment correlated at least 0.83,
/// and at least 0.79 at half size where the full-size look found it; 69 % of the pairs
/// that are not copies correlate below 0.6 at every scale and pose at half size.
const PROMISING: f32 = 0.6;

/// One thumbnail as the place to look in, at full and half size, and the other's poses.
struct Side {
    image: Canvas,
    half: Canvas,
    poses: Vec<Plane>,
}

impl Side {
    fn new(image: &Plane, poses: Vec<Plane>) -> Self {
        let half = image.resampled(image.width.div_ceil(2), image.height.div_ceil(2));
        Self {
            image: Canvas::of(image.clone()),
            half: Canvas::of(half),
            poses,
        }
    }

    /// The size of `pose` fitted inside the image at `scale` (never enlarged: a pose
    /// smaller than its place is compared at its own size).
    fn fitted(&self, pose: &Plane, scale: f32) -> (usize, usize) {
        let image = &self.image.plane;
        let fit =
            (image.width as f32 / pose.width as f32).min(image.height as f32 / pose.height as f32);
        let side = |n: usize| (((n as f32 * fit * scale).round() as usize).max(2)).min(n);
        (side(pose.width), side(pose.height))
    }

    /// `pose` at `scale`, at its best place (near a corner, when given).
    fn place(
        &self,
        pose: &Plane,
        scale: f32,
        near: Option<(usize, usize, usize)>,
    ) -> Option<Placed> {
        let (w, h) = self.fitted(pose, scale);
        let template = pose.resampled(w, h);
        let (alignment, x, y) = best_place(&self.image, &template, near)?;
        Some(Placed {
            alignment,
            corner: (x, y),
            template,
        })
    }

    /// How the image and a pose placed on it agree in detail.
    fn agreement(&self, placed: &Placed) -> PixelMatch {
        let (image, template) = (&self.image.plane, &placed.template);
        let (w, h) = (template.width, template.height);
        let part = image.window(placed.corner.0, placed.corner.1, w, h);
        let (p, t) = (part.detail(), template.detail());
        PixelMatch {
            alignment: placed.alignment,
            detail: ncc(&p.data, &t.data),
            cells: cells(&p, &t),
            scale: (w as f32 / image.width as f32).max(h as f32 / image.height as f32),
        }
    }
}

/// A pose at one scale at its best place on the image: the correlation of their grey
/// levels there, its top-left corner, and the pose as placed.
struct Placed {
    alignment: f32,
    corner: (usize, usize),
    template: Plane,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Smooth random shapes: noise (splitmix64) at a tenth of the size, enlarged.
    fn textured(w: u32, h: u32, seed: u64) -> image::RgbImage {
        let noise = image::RgbImage::from_fn(w / 10, h / 10, |x, y| {
            let mut z = seed ^ (u64::from(y) << 32 | u64::from(x));
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
            let v = ((z ^ (z >> 31)) >> 56) as u8;
            image::Rgb([v, v / 2, 255 - v])
        });
        image::imageops::resize(&noise, w, h, image::imageops::FilterType::CatmullRom)
    }

    #[test]
    fn a_crop_a_mirror_and_a_turn_agree_in_detail_another_picture_does_not() {
        let photo = textured(480, 320, 1);
        let original = Thumbnail::of(&photo);
        assert_eq!((original.width, original.height), (48, 32));
        let crop = image::imageops::crop_imm(&photo, 100, 60, 300, 200).to_image();
        let m = compare(&original, &Thumbnail::of(&crop), Turn::None, &|_| false);
        assert!(m.detail > 0.8 && (0.55..0.7).contains(&m.scale), "{m:?}");
        let mirrored = image::imageops::flip_horizontal(&photo);
        let m = compare(&original, &Thumbnail::of(&mirrored), Turn::None, &|_| false);
        assert!(m.detail > 0.95 && m.scale > 0.99, "{m:?}");
        let turned = image::imageops::rotate90(&photo);
        let m = compare(&original, &Thumbnail::of(&turned), Turn::Quarter, &|_| {
            false
        });
        assert!(m.detail > 0.95, "{m:?}");
        let other = textured(480, 320, 7);
        let m = compare(&original, &Thumbnail::of(&other), Turn::None, &|_| false);
        assert!(m.detail < 0.5, "{m:?}");
    }

    /// The plain search the vectorised one replaces: each place's correlation in turn.
    fn best_place_plainly(image: &Plane, template: &Plane) -> Option<(f32, usize, usize)> {
        let (tw, th) = (template.width, template.height);
        let mut best: Option<(f32, usize, usize)> = None;
        for y in 0..=image.height - th {
            for x in 0..=image.width - tw {
                let score = ncc(&image.window(x, y, tw, th).data, &template.data);
                if best.is_none_or(|(s, _, _)| score > s) {
                    best = Some((score, x, y));
                }
            }
        }
        best
    }

    #[test]
    fn the_vectorised_search_finds_the_plain_searchs_place() {
        let image = Thumbnail::of(&textured(480, 320, 3)).plane();
        let canvas = Canvas::of(image.clone());
        // Templates of every width around the lanes' (one place to more than a run of
        // lanes), cut from the image and from another picture.
        let other = Thumbnail::of(&textured(480, 320, 9)).plane();
        for (w, h) in [
            (48, 32),
            (47, 31),
            (33, 20),
            (32, 16),
            (31, 17),
            (17, 9),
            (16, 16),
            (5, 4),
        ] {
            for source in [&image, &other] {
                let template = source.window(48 - w, 32 - h, w, h).resampled(w, h);
                let fast = best_place(&canvas, &template, None).expect("a place");
                let plain = best_place_plainly(&image, &template).expect("a place");
                assert!(
                    (fast.0 - plain.0).abs() < 1e-4,
                    "{w}x{h}: {fast:?} {plain:?}"
                );
                assert_eq!((fast.1, fast.2), (plain.1, plain.2), "{w}x{h}");
                let near = best_place(&canvas, &template, Some((plain.1, plain.2, 2)));
                assert_eq!(near, Some(fast), "{w}x{h} near");
            }
        }
    }

    #[test]
    fn area_weights_cover_each_output_once() {
        for (from, to) in [(48, 23), (10, 10), (7, 3)] {
            let mut totals = vec![0.0f32; to];
            for_area(from, to, |o, _, w| totals[o] += w);
            for total in totals {
                assert!((total - 1.0).abs() < 1e-4, "{from}->{to}: {total}");
            }
        }
    }
}
