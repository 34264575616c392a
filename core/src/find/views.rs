//! A search's views: the small photos' enlarged views (described and cached by the
//! index's variants pass) added to the library, so that search finds downscaled copies
//! too; turned copies are met by turning the query both ways instead
//! ([`crate::Describer::describe_views`]), since the photos' own turned views are
//! described smaller, for the duplicate finder.

use std::path::Path;

use crate::describe::describer::Describer;
use crate::describe::whiten::Whitening;
use crate::find::search::Database;
use crate::index::variants::{Variant, Variants, update_variant};
use crate::index::{Control, Index};
use crate::support::error::Result;

/// The enlarged views of `index`'s small photos, lined up with its entries: those cached
/// beside the index at `index_path` reused, the missing ones described with `describer`
/// and the cache saved when it changed (with `None`, the cache alone: photos not
/// described yet are searched as they are).
pub fn enlarged_views(
    index: &Index,
    index_path: &Path,
    describer: Option<&Describer>,
    control: Control<'_>,
) -> Result<Variants> {
    update_variant(index, index_path, Variant::Enlarged, describer, control)
}

/// Adds `enlarged` (lined up with `index`, as [`enlarged_views`] gives them) to `db` as
/// views of their photos.
pub fn add_views(
    db: &mut Database,
    index: &Index,
    enlarged: &Variants,
    whitening: Option<&Whitening>,
) -> Result<()> {
    db.add_index_views(index, &enlarged.aligned, whitening)
}

/// What a search ranks: `index`'s descriptors finished with `whitening` and, with
/// `views`, the enlarged views cached beside the index at `index_path` (nothing is
/// described here). With `views`, the query is to be turned both ways too
/// ([`crate::Describer::describe_views`]).
pub fn database(
    index: &Index,
    index_path: &Path,
    whitening: Option<&Whitening>,
    views: bool,
) -> Result<Database> {
    let mut database = Database::from_index(index, whitening)?;
    if views {
        let enlarged = enlarged_views(index, index_path, None, Control::unattended())?;
        add_views(&mut database, index, &enlarged, whitening)?;
    }
    Ok(database)
}
