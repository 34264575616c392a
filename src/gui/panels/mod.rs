//! The main window's panels. Each owns its state, draws itself from what the app
//! lends it, and returns what the user asked for as [`Action`]s, which the app
//! carries out ([`super::app`]).
//!
//! | module | role |
//! |---|---|
//! | [`toolbar`] | open a folder or a query, the intent, the view; the notices under it |
//! | [`status`] | the jobs in progress (progress, rate, ETA, Cancel) or the library's state |
//! | [`settings`] | the settings panel: query, ranking, whitening, indexing, network |
//! | [`keeping`] | the settings of the duplicates' keeper: rules, protected and preferred folders |
//! | [`query`] | the query photo and its crop box |
//! | [`results`] | the results grid (or the whole library, to pick a query from) |
//! | [`duplicates`] | the duplicate review: groups, keeper, selection, trash, undo |

pub mod duplicates;
pub mod keeping;
pub mod query;
pub mod results;
pub mod settings;
pub mod status;
pub mod toolbar;

use std::path::PathBuf;

use super::dialogs::Purpose;
use super::protocol::ResultItem;
use duplicates::DupesAction;
use lookalike_core::describe::model::Network;

/// What the user asked for, from any panel or window.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Index a folder and make it the library.
    OpenFolder(PathBuf),
    /// Open the library again, dropping the descriptions of its photos that are gone.
    ForgetMissingPhotos(PathBuf),
    /// Make a photo the query.
    OpenQuery(PathBuf),
    /// Ask the user for a file or folder with the desktop's dialog.
    Ask(Purpose),
    ChooseNetwork(Network),
    ChooseWeights(PathBuf),
    /// Load the network again (another backend was chosen).
    ReloadNetwork,
    DownloadWeights(Network),
    CancelDownload,
    CancelIndexing,
    CancelDuplicates,
    /// Show a result (or a photo of the library) large.
    Preview(ResultItem),
    OpenInViewer(PathBuf),
    ShowInFileManager(PathBuf),
    Duplicates(DupesAction),
}
