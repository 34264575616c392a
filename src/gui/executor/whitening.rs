//! The whitening of the library's descriptors, and the database it makes.

use std::sync::Arc;

use super::Executor;
use super::library::Searchable;
use crate::gui::protocol::{Event, Pieces, Waiting, WhiteningRequest};
use crate::gui::settings::WhiteningSource;
use lookalike_core::describe::whiten::Whitening;
use lookalike_core::find::dupes::Shots;
use lookalike_core::find::search::Database;
use lookalike_core::find::views;
use lookalike_core::find::whitening::{self, Problem, Shape, Source};
use lookalike_core::index::Index;

impl Executor {
    pub(super) fn set_whitening(&mut self, request: WhiteningRequest) {
        if let Some((growing, _)) = &mut self.growing
            && self.library.as_ref().is_some_and(|l| !l.complete)
        {
            // Indexing goes on: the new whitening applies now to what is described, and
            // fully when it ends.
            *growing = request.clone();
            return self.rewhiten_growing(request);
        }
        let Some(library) = self.library.take() else {
            return;
        };
        let folder_needed = matches!(request.source, WhiteningSource::Folder(_));
        let have_folder = self.whitening_index.as_ref().map(|i| i.root.as_path())
            == match &request.source {
                WhiteningSource::Folder(f) => f.canonicalize().ok(),
                _ => None,
            }
            .as_deref();
        if folder_needed && !have_folder {
            // The whitening folder must be indexed first: do it as a normal run.
            let folder = library.index.root.clone();
            let max_side = library.index.provenance.max_side;
            self.library = Some(library);
            self.open_library(folder, max_side, request, false);
            return;
        }
        self.install_library(library.index, &request);
    }

    /// Finishes the growing library's descriptors again for `request` (or, when that
    /// must be learned from photos, the shipped whitening until indexing ends).
    pub(super) fn rewhiten_growing(&mut self, request: WhiteningRequest) {
        let Some(library) = &self.library else {
            return;
        };
        let interim = match &request.source {
            WhiteningSource::Off | WhiteningSource::Shipped => request.clone(),
            _ => WhiteningRequest {
                source: WhiteningSource::Shipped,
                ..request.clone()
            },
        };
        let (whitening, description) = self
            .learn_whitening(&library.index, &interim)
            .unwrap_or((None, "L2 only".into()));
        let Ok(database) = Database::from_index(&library.index, whitening.as_ref()) else {
            return;
        };
        if let Some(library) = &mut self.library {
            library.database = Arc::new(database);
            library.whitening = whitening;
            library.request = request;
            library.description = format!("{description} (while indexing)");
        }
        self.publish_library();
    }

    /// Learns the whitening, builds the database and tells the UI.
    pub(super) fn install_library(&mut self, index: Index, request: &WhiteningRequest) {
        let (whitening, description) = match self.learn_whitening(&index, request) {
            Ok(pair) => pair,
            Err(message) => {
                self.sink.send(Event::Notice(message));
                (None, "L2 only".to_string())
            }
        };
        let database = match self.database_with_views(&index, whitening.as_ref(), request) {
            Ok(database) => database,
            Err(error) => {
                self.sink.send(Event::Notice(format!(
                    "the library {} cannot be searched: {error}",
                    index.root.display()
                )));
                return;
            }
        };
        if let Some(query) = &mut self.query {
            // The query's box must be described again at the library's image size.
            query.last_raw = None;
        }
        self.library_serial += 1;
        let (database, turned) = database;
        self.library = Some(Searchable {
            index,
            shots: Shots::default(),
            photos: Pieces::default(),
            database: Arc::new(database),
            turned,
            whitening,
            request: request.clone(),
            waiting: Waiting::default(),
            complete: true,
            description,
        });
        self.publish_library();
    }

    /// The whitening `request` asks for the descriptors of `library`, decided by
    /// [`whitening::choose`] as for the command line; or why it cannot be had (then L2
    /// only is used).
    pub(super) fn learn_whitening(
        &self,
        library: &Index,
        request: &WhiteningRequest,
    ) -> Result<(Option<Whitening>, String), String> {
        let shape = Shape {
            dim: request.dim,
            power: request.power,
        };
        let source = match &request.source {
            WhiteningSource::Off => Source::Off,
            WhiteningSource::Shipped => Source::Shipped(shape),
            WhiteningSource::Library => Source::LearnedFrom(library, shape),
            WhiteningSource::Folder(_) => Source::LearnedFrom(
                self.whitening_index
                    .as_ref()
                    .ok_or("the whitening folder has not been indexed")?,
                shape,
            ),
        };
        let chosen = whitening::choose(source, &library.provenance, self.weights_sha256.as_deref())
            .map_err(|problem| match problem {
                Problem::NoneShipped { .. } => "the shipped whitening was learned with other \
                weights: choose \"learned from this library\" in Settings (using L2 only)"
                    .to_string(),
                Problem::Failed(error) => {
                    format!("the whitening could not be made: {error}: using L2 only")
                }
                problem => format!("{problem}: using L2 only"),
            })?;
        Ok((chosen.whitening, chosen.description))
    }

    /// The final descriptors of `index`, with the enlarged views cached beside its index
    /// file when `request` asks for views (through the search's cache: a million photos'
    /// whitening is read, not made again); whether the query is then turned too.
    pub(super) fn database_with_views(
        &self,
        index: &Index,
        whitening: Option<&Whitening>,
        request: &WhiteningRequest,
    ) -> lookalike_core::Result<(Database, bool)> {
        let index_path = self.library_index_path(index);
        views::cached_database(index, &index_path, whitening, request.views)
            .map(|(database, _)| (database, request.views))
    }

    /// Once indexing's last stage has described the views, search uses them.
    pub(super) fn attach_views(&mut self) {
        let Some(library) = self
            .library
            .as_ref()
            .filter(|l| l.complete && l.request.views)
        else {
            return;
        };
        match self.database_with_views(&library.index, library.whitening.as_ref(), &library.request)
        {
            Ok((database, turned)) => {
                if let Some(library) = &mut self.library {
                    library.database = Arc::new(database);
                    library.turned = turned;
                }
            }
            Err(error) => self.sink.send(Event::Notice(format!(
                "turned and small copies are not searched: {error}"
            ))),
        }
    }
}
