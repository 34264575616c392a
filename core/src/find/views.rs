//! A photo's turned and enlarged views (described and cached by the index's variants
//! pass) added to a search, so that it finds turned and downscaled copies too.

use std::path::Path;

use crate::describe::whiten::Whitening;
use crate::find::search::Database;
use crate::index::variants::{Aligned, Variant, update_variants};
use crate::index::{Control, Index};
use crate::support::error::Result;

/// Adds the variants `wanted` picks (lined up with `index`, as [`update_variants`] gives
/// them) to `db` as views of their photos, so that search finds a photo's turned and
/// downscaled copies too. Whether turned views were added: then the query must be
/// turned as well ([`crate::Describer::describe_views`]), since a photo's own view is
/// turned one way only.
pub fn add_views(
    db: &mut Database,
    index: &Index,
    aligned: &[Aligned],
    whitening: Option<&Whitening>,
    wanted: impl Fn(Variant) -> bool,
) -> Result<bool> {
    let mut turned = false;
    for (variant, aligned) in aligned.iter().filter(|(v, _)| wanted(*v)) {
        let before = db.view_count();
        db.add_index_views(index, aligned, whitening)?;
        turned |= *variant == Variant::QuarterTurn && db.view_count() > before;
    }
    Ok(turned)
}

/// [`add_views`] of every variant cached beside the index at `index_path` (indexing's
/// last stage describes them; photos described since have none yet): nothing is
/// described here. Whether turned views were added.
pub fn add_cached_views(
    db: &mut Database,
    index: &Index,
    index_path: &Path,
    whitening: Option<&Whitening>,
) -> Result<bool> {
    let cached = update_variants(index, index_path, None, Control::unattended())?;
    add_views(db, index, &cached.aligned, whitening, |_| true)
}

/// What a search ranks: `index`'s descriptors finished with `whitening` and, with
/// `views`, the turned and enlarged views cached beside the index at `index_path`
/// ([`add_cached_views`]). Whether turned views are in: the query is then turned too.
pub fn database(
    index: &Index,
    index_path: &Path,
    whitening: Option<&Whitening>,
    views: bool,
) -> Result<(Database, bool)> {
    let mut database = Database::from_index(index, whitening)?;
    let turned = views && add_cached_views(&mut database, index, index_path, whitening)?;
    Ok((database, turned))
}
