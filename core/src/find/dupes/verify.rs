//! Whether a pair of photos is a copy: the rule ([`Rule`], [`PixelRule`]) and the
//! verification of candidate pairs ([`Verifier::check`]), with the evidence it gives
//! ([`Check`]).
//!
//! A pair at distance `d` is a copy only if it is closer than each photo's own scale:
//! `d <= spin x` the distance between the photo and itself turned a quarter turn (which
//! indexing describes anyway, for turned copies). Turning a photo of things (a face, a
//! street, a bird) moves its descriptor far; a picture of stuff (paper, sky, a studio
//! backdrop, a gradient, flat art) looks about the same turned, and its descriptor is as
//! near every picture of that kind: such pictures must be much closer to count as copies.
//! Photos with no turned view described yet fall back to the photos around them: at most
//! `crowd` others between `d` and `d / ratio` around either (a ratio test, as Lowe's test
//! and CSLS do). Compared as they are, the unwhitened descriptors must differ less than
//! the whitened ones (`raw`). When both photos have their thumbnail
//! ([`crate::index::thumbnails`]), their fine detail must also agree at their best alignment
//! ([`PixelRule`]); the pixels then allow a looser distance, which finds blurred copies
//! and off-centre crops.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use super::{
    Across, Described, GroupingError, Pair, Search, Variant, close_pairs_across_within,
    pairs_and_neighbourhood,
};
use crate::describe::pooling::Pooling;
use crate::index::Control;
use crate::index::Index;
use crate::index::thumbnails::{PixelMatch, Thumbnail, Turn};

/// What makes a pair of photos copies of each other (cosine distances between
/// descriptors whitened with the shipped instance whitening, 512-d, power 1). Calibrated
/// on half of neardup-dev's originals and distinct-dev (README, "Duplicates").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// A pair farther apart than this is never a copy.
    pub threshold: f32,
    /// A pair found by turning one photo a quarter turn must be closer than this.
    pub turned: f32,
    /// A pair at distance `d` is a copy only if `d <= spin x` each photo's distance to
    /// itself turned a quarter turn.
    pub spin: f32,
    /// A pair compared as it is must differ where copies differ: its distance between
    /// the unwhitened descriptors at most `raw` x its (whitened) distance. Whitening
    /// magnifies the weak directions in which a copy differs from its original (noise,
    /// compression, small shifts); two different pictures differ in the strong ones too.
    pub raw: f32,
    /// Without a turned view: a pair at distance `d` is a copy only if, around either
    /// photo, at most `crowd` other photos lie between `d` and `d / ratio`.
    pub ratio: f32,
    pub crowd: usize,
    /// What a pair of photos that both have a thumbnail must show instead (`None`:
    /// thumbnails are not used).
    pub pixels: Option<PixelRule>,
}

/// The rule for a pair whose two photos have their thumbnails ([`crate::index::thumbnails`]):
/// the pixels confirm a copy, so the descriptors may be farther apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelRule {
    /// The distance limit as the photos are and through an enlarged view.
    pub threshold: f32,
    /// The factor on each photo's spin (see [`Rule::spin`]).
    pub spin: f32,
    /// At their best alignment, the correlation of the two thumbnails' fine detail must
    /// be at least this ([`PixelMatch::detail`]), and in the third worst of 3 x 3 cells
    /// at least `cells`.
    pub detail: f32,
    pub cells: f32,
}

impl Rule {
    /// The calibrated rule for descriptors of `pooling`, with or without the turned and
    /// enlarged views (SPoC's for GeM and CroW, which no whitening ships for).
    pub fn calibrated(pooling: Pooling, variants: bool) -> Self {
        // R-MAC: chosen on the even originals of neardup-dev and distinct-dev by
        // `benches/dupes_split.rs` (the most move recall with move precision >= 0.994
        // and nothing on distinct-dev). SPoC keeps its earlier thresholds.
        let threshold = match (pooling, variants) {
            (Pooling::Rmac, true) => 0.48,
            (Pooling::Rmac, false) => 0.52,
            (_, true) => 0.46,
            (_, false) => 0.47,
        };
        // With thumbnails: chosen the same way, on the same photos, at move precision
        // >= 0.995 (the strictest of the rules with the most recall). Without the turned
        // view there is no spin (the crowd test instead) and a looser limit finds no more.
        let pixels = (pooling == Pooling::Rmac).then_some(PixelRule {
            threshold: if variants { 0.64 } else { 0.56 },
            spin: 1.5,
            detail: 0.45,
            cells: 0.4,
        });
        Self {
            threshold,
            turned: 0.2,
            spin: 1.1,
            raw: RAW_LIMIT,
            ratio: 0.6,
            crowd: 4,
            pixels,
        }
    }

    /// The loosest distance limit of the rule: candidates are the pairs under it.
    pub fn candidates(&self) -> f32 {
        self.pixels
            .map_or(self.threshold, |p| p.threshold.max(self.threshold))
    }

    /// This rule with another main threshold (the thumbnails' limit moves with it).
    pub fn with_threshold(self, threshold: f32) -> Self {
        let pixels = self.pixels.map(|p| PixelRule {
            threshold: p.threshold + (threshold - self.threshold),
            ..p
        });
        Self {
            threshold,
            pixels,
            ..self
        }
    }
}

/// How the two photos of a pair were compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    /// As they are.
    AsIs,
    /// One of them turned a quarter turn.
    Turned,
    /// One of them (a small photo) enlarged twice.
    Enlarged,
}

impl View {
    fn of(variant: Variant) -> Self {
        match variant {
            Variant::QuarterTurn => Self::Turned,
            Variant::Enlarged => Self::Enlarged,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::AsIs => "as is",
            Self::Turned => "turned",
            Self::Enlarged => "enlarged",
        }
    }
}

/// The verification of one pair: the evidence and its verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Check {
    /// Cosine distance between the two photos, in `view`.
    pub distance: f32,
    pub view: View,
    /// The distance limit the view had (the rule's threshold, or the turned one).
    pub limit: f32,
    /// The smaller of the two photos' distances to themselves turned a quarter turn
    /// (`None` when one has no turned view), and the rule's factor on it.
    pub spin: Option<f32>,
    pub spin_limit: f32,
    /// As it is: the cosine distance of the unwhitened descriptors (`None` through a
    /// view, or without them), and the rule's factor on `distance`.
    pub raw: Option<f32>,
    pub raw_limit: f32,
    /// Without `spin`: other photos between `distance` and `distance / ratio` around the
    /// more crowded of the two (as many as were looked at when all of those were).
    pub crowd: usize,
    pub ratio: f32,
    pub crowd_limit: usize,
    /// Both photos have a thumbnail: how they agree, and the detail and cells limits.
    pub pixels: Option<PixelMatch>,
    pub detail_limit: f32,
    pub cells_limit: f32,
    /// Closer than `limit`, closer than `spin_limit x spin` (or, without a spin, `crowd`
    /// at most `crowd_limit`), `raw` at most `raw_limit x distance`, and with
    /// thumbnails, their detail agreeing (at least `detail_limit` and `cells_limit`).
    pub verified: bool,
}

impl Check {
    /// Whether the unwhitened descriptors agree with the pair being a copy (see
    /// [`Rule::raw`]); near-identical pairs always do.
    pub fn raw_agrees(&self) -> bool {
        self.raw
            .is_none_or(|raw| raw <= self.raw_limit * self.distance + RAW_TOLERANCE)
    }

    /// One line saying why the pair is, or is not, a copy.
    pub fn why(&self) -> String {
        let verdict = if self.verified {
            "a copy"
        } else if self.distance >= self.limit {
            "not a copy: too far apart"
        } else if !self.raw_agrees() {
            "not a copy: they differ in what the pictures show, not only in detail"
        } else if !self.pixels_agree() {
            "not a copy: their pixels do not agree in detail, wherever they are laid over each other"
        } else if self.spin.is_some() {
            "not a copy: a picture that looks alike turned (texture, sky, flat art) must be closer"
        } else {
            "not a copy: other photos are about as close"
        };
        let scale = match self.spin {
            Some(spin) => format!(
                "each is {spin:.3} from itself turned (at most {:.3} allowed)",
                spin * self.spin_limit
            ),
            None => format!(
                "{} other photos within {:.3} (at most {})",
                self.crowd,
                self.distance / self.ratio,
                self.crowd_limit
            ),
        };
        let raw = match self.raw {
            Some(raw) => format!(
                "; unwhitened {raw:.3} (at most {:.3})",
                self.raw_limit * self.distance + RAW_TOLERANCE
            ),
            None => String::new(),
        };
        let pixels = match self.pixels {
            Some(p) => format!(
                "; pixels: detail {:.2} (at least {:.2}), cells {:.2} (at least {:.2}), \
                 overlap {:.0}% of the side",
                p.detail,
                self.detail_limit,
                p.cells,
                self.cells_limit,
                p.scale * 100.0
            ),
            None => String::new(),
        };
        format!(
            "{verdict}: distance {:.3} {} (limit {:.2}); {scale}{raw}{pixels}",
            self.distance,
            self.view.name(),
            self.limit,
        )
    }

    /// Whether the thumbnails agree in detail (or were not compared).
    pub fn pixels_agree(&self) -> bool {
        self.pixels
            .is_none_or(|p| p.detail >= self.detail_limit && p.cells >= self.cells_limit)
    }
}

/// Checks pairs of photos of one library: its descriptors (L2-normalised rows), the
/// turned and enlarged views lined up with them, and each photo's neighbourhood.
pub struct Verifier<'a> {
    rows: &'a [f32],
    dim: usize,
    /// The unwhitened descriptors, L2-normalised, and their width (`find` sets them).
    raw: Option<(Vec<f32>, usize)>,
    views: Vec<(View, &'a [f32])>,
    neighbourhood: super::Neighbourhood,
    rule: Rule,
    /// Each photo's thumbnail, when it has one, and the comparisons made so far.
    thumbnails: &'a [Option<Thumbnail>],
    compared: Mutex<HashMap<(usize, usize, Turn), PixelMatch>>,
}

impl<'a> Verifier<'a> {
    /// The evidence for the pair `(a, b)`: the view that verifies it, or, when none
    /// does, the closest view.
    pub fn check(&self, a: usize, b: usize) -> Check {
        let spin = self.spin(a).zip(self.spin(b)).map(|(x, y)| x.min(y));
        let pixel_rule = self
            .rule
            .pixels
            .filter(|_| self.thumbnail(a).is_some() && self.thumbnail(b).is_some());
        let checks = self.distances(a, b).map(|(view, distance, limit)| {
            let (limit, spin_limit) = match (pixel_rule, view) {
                (Some(p), View::AsIs | View::Enlarged) => (p.threshold, p.spin),
                (Some(p), View::Turned) => (limit, p.spin),
                (None, _) => (limit, self.rule.spin),
            };
            let crowd = match spin {
                Some(_) => 0,
                None => self.crowd(a, b, distance).max(self.crowd(b, a, distance)),
            };
            let stands_out = match spin {
                Some(spin) => distance <= spin_limit * spin,
                None => crowd <= self.rule.crowd,
            };
            let raw = match view {
                View::AsIs => self.raw_distance(a, b),
                _ => None,
            };
            let mut check = Check {
                distance,
                view,
                limit,
                spin,
                spin_limit,
                raw,
                raw_limit: self.rule.raw,
                crowd,
                ratio: self.rule.ratio,
                crowd_limit: self.rule.crowd,
                pixels: None,
                detail_limit: pixel_rule.map_or(0.0, |p| p.detail),
                cells_limit: pixel_rule.map_or(0.0, |p| p.cells),
                verified: false,
            };
            check.verified = distance < limit && stands_out && check.raw_agrees();
            if check.verified && pixel_rule.is_some() {
                check.pixels = self.compare(a, b, view);
                check.verified = check.pixels_agree();
            }
            check
        });
        checks
            .min_by(|x, y| {
                y.verified
                    .cmp(&x.verified)
                    .then(x.distance.total_cmp(&y.distance))
            })
            .expect("the plain view is always there")
    }

    fn thumbnail(&self, x: usize) -> Option<&Thumbnail> {
        self.thumbnails.get(x)?.as_ref()
    }

    /// How the thumbnails of `a` and `b` agree, compared the way `view` matched them
    /// (remembered: groups ask again).
    fn compare(&self, a: usize, b: usize, view: View) -> Option<PixelMatch> {
        let turn = match view {
            View::Turned => Turn::Quarter,
            _ => Turn::None,
        };
        let key = (a.min(b), a.max(b), turn);
        if let Some(known) = self.compared.lock().ok()?.get(&key) {
            return Some(*known);
        }
        let rule = self.rule.pixels?;
        let accept = |m: &PixelMatch| m.detail >= rule.detail && m.cells >= rule.cells;
        let found = crate::index::thumbnails::compare(
            self.thumbnail(a)?,
            self.thumbnail(b)?,
            turn,
            &accept,
        );
        self.compared.lock().ok()?.insert(key, found);
        Some(found)
    }

    /// This verifier with the library's own evidence: the unwhitened descriptors of
    /// `index` and each photo's thumbnail (`thumbnails`, lined up with its entries).
    pub(super) fn with_photos(self, index: &Index, thumbnails: &'a [Option<Thumbnail>]) -> Self {
        Self {
            raw: unwhitened(index),
            thumbnails,
            ..self
        }
    }

    /// Compares the thumbnails of every pair of `pairs` that needs it, on all cores,
    /// until `stop` is set.
    pub(super) fn compare_all(&self, pairs: &[Pair], stop: &std::sync::atomic::AtomicBool) {
        use rayon::prelude::*;
        pairs.par_iter().for_each(|p| {
            if !stop.load(std::sync::atomic::Ordering::Relaxed) {
                self.check(p.a, p.b);
            }
        });
    }

    /// The cosine distance of `a` and `b`'s unwhitened descriptors, when known.
    fn raw_distance(&self, a: usize, b: usize) -> Option<f32> {
        let (raw, dim) = self.raw.as_ref()?;
        Some(1.0 - dot(&raw[a * dim..(a + 1) * dim], &raw[b * dim..(b + 1) * dim]))
    }

    /// How far photo `x` is from itself turned a quarter turn; `None` without a turned
    /// view of it (a photo whose turned view is not described yet has its own row there).
    fn spin(&self, x: usize) -> Option<f32> {
        let (_, turned) = self.views.iter().find(|(v, _)| *v == View::Turned)?;
        let spin = view_distance(self.rows, turned, self.dim, x);
        (spin > SPIN_KNOWN).then_some(spin)
    }

    /// The cosine distance of `a` and `b` as they are and through each view (either
    /// photo turned or enlarged), with the view's threshold.
    fn distances(&self, a: usize, b: usize) -> impl Iterator<Item = (View, f32, f32)> + '_ {
        let row = move |rows: &'a [f32], i: usize| &rows[i * self.dim..(i + 1) * self.dim];
        let plain = 1.0 - dot(row(self.rows, a), row(self.rows, b));
        // Only a photo the view was described for: the others have their own row there.
        let seen = move |other: &'a [f32], x: usize| {
            view_distance(self.rows, other, self.dim, x) > SPIN_KNOWN
        };
        let views = self.views.iter().filter_map(move |&(view, other)| {
            let from_a = seen(other, a).then(|| 1.0 - dot(row(other, a), row(self.rows, b)));
            let from_b = seen(other, b).then(|| 1.0 - dot(row(self.rows, a), row(other, b)));
            let d = match (from_a, from_b) {
                (Some(x), Some(y)) => x.min(y),
                (x, y) => x.or(y)?,
            };
            let limit = match view {
                View::Turned => self.rule.turned,
                _ => self.rule.threshold,
            };
            Some((view, d, limit))
        });
        std::iter::once((View::AsIs, plain, self.rule.threshold)).chain(views)
    }

    /// Other photos between `distance` and `distance / ratio` from `a` that are not as
    /// close to `b` as `a` is (those are copies of both, not a crowd); all the neighbours
    /// looked at when even the farthest of them is that close.
    fn crowd(&self, a: usize, b: usize, distance: f32) -> usize {
        let Some(near) = self.neighbourhood.get(a) else {
            // Not computed: never taken as evidence.
            return usize::MAX;
        };
        let near = &near[..CROWD_NEIGHBOURS];
        let outer = distance / self.rule.ratio.max(f32::MIN_POSITIVE);
        if outer <= distance.max(0.0) + 1e-6 {
            return 0;
        }
        if near[near.len() - 1].0 <= outer {
            return near.len();
        }
        let closest = |x: usize| {
            self.distances(x, b)
                .map(|(_, d, _)| d)
                .fold(f32::INFINITY, f32::min)
        };
        near.iter()
            .map(|&(d, x)| (d, x as usize))
            .filter(|&(d, x)| x != b && d > distance && d <= outer && closest(x) > distance)
            .count()
    }
}

/// How many of a photo's nearest the crowd test looks at (as it was calibrated).
const CROWD_NEIGHBOURS: usize = 32;

/// The factor of [`Rule::raw`]: 99% of the true copies of neardup-dev's even half
/// compared as they are are within it (`benches/dupes_split.rs`).
const RAW_LIMIT: f32 = 0.75;

/// Unwhitened distances this small are the same picture whatever the whitened one.
const RAW_TOLERANCE: f32 = 0.005;

/// The index's raw descriptors, L2-normalised, and their width; `None` when some entry
/// has none (or another width).
fn unwhitened(index: &Index) -> Option<(Vec<f32>, usize)> {
    let dim = index.entries.first()?.raw.len();
    if dim == 0 || index.entries.iter().any(|e| e.raw.len() != dim) {
        return None;
    }
    let rows = index
        .entries
        .iter()
        .flat_map(|e| crate::describe::whiten::finish_descriptor(&e.raw, None))
        .collect();
    Some((rows, dim))
}

/// A photo whose turned row is its own (no turned view described yet) is at distance 0
/// from it: under this, there is no spin to read.
const SPIN_KNOWN: f32 = 1e-6;

/// The cosine distance between photo `x` in `rows` and in `view` (its turned or
/// enlarged descriptor; 0 where the view holds its own row).
fn view_distance(rows: &[f32], view: &[f32], dim: usize, x: usize) -> f32 {
    let range = x * dim..(x + 1) * dim;
    1.0 - dot(&rows[range.clone()], &view[range])
}

fn dot(x: &[f32], y: &[f32]) -> f32 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

impl<'a> Verifier<'a> {
    /// The verifier of a library's `described` descriptors (rows L2-normalised, views
    /// lined up with them), and the candidate pairs to verify: each photo's
    /// nearest closer than `rule`'s thresholds as the photos are or through a view,
    /// sorted; searched as [`Search::for_library`] says.
    pub fn new(
        described: Described<'a>,
        rule: Rule,
        control: Control<'_>,
    ) -> Result<(Self, Vec<Pair>), GroupingError> {
        let n = described.rows.len().checked_div(described.dim).unwrap_or(0);
        Self::with_search(described, rule, Search::for_library(n), control)
    }

    /// [`Self::new`] with the pair search `search`.
    pub fn with_search(
        described: Described<'a>,
        rule: Rule,
        search: Search,
        control: Control<'_>,
    ) -> Result<(Self, Vec<Pair>), GroupingError> {
        let Described {
            rows,
            dim,
            views,
            unwhitening,
        } = described;
        let n = rows.len().checked_div(dim).unwrap_or(0);
        // Each view compared only where it differs from the photo: an enlarged view
        // exists for small photos alone, the others pair as they are.
        let across: Vec<Across> = views
            .iter()
            .map(|&(_, view)| Across::differing(view, rows, dim))
            .collect();
        let compare = search.prepare(rows, dim, unwhitening);
        let steps = |photos: usize| compare.steps(photos);
        let total = steps(n) + across.iter().map(|a| steps(a.len(dim))).sum::<usize>();
        control.report(crate::index::Progress::Planned {
            to_describe: total,
            unchanged: 0,
            removed: 0,
        });
        let done = AtomicUsize::new(0);
        let candidates = rule.candidates();
        let (mut pairs, neighbourhood) =
            pairs_and_neighbourhood(rows, dim, candidates, &compare, control, (&done, total))?;
        for (&(variant, _), other) in views.iter().zip(&across) {
            let limit = match variant {
                Variant::QuarterTurn => rule.turned,
                Variant::Enlarged => candidates,
            };
            pairs.extend(close_pairs_across_within(
                other,
                rows,
                dim,
                limit,
                &compare,
                control,
                (&done, total),
            )?);
        }
        pairs.sort_by_key(|p| (p.a, p.b));
        pairs.dedup_by_key(|p| (p.a, p.b));
        let verifier = Verifier {
            rows,
            dim,
            raw: None,
            views: views.iter().map(|&(v, r)| (View::of(v), r)).collect(),
            neighbourhood,
            rule,
            thumbnails: &[],
            compared: Mutex::default(),
        };
        Ok((verifier, pairs))
    }
}
