//! The whitening of the library's descriptors, and the database it makes.

use std::collections::HashMap;
use std::sync::Arc;

use super::Executor;
use super::library::Searchable;
use crate::gui::protocol::{Event, MIN_WHITENING_IMAGES, WhiteningRequest};
use crate::gui::settings::WhiteningSource;
use lookalike_core::describe::whiten::Whitening;
use lookalike_core::find::dupes;
use lookalike_core::find::search::Database;
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
            siblings: HashMap::new(),
            jpeg_of: HashMap::new(),
            database: Arc::new(database),
            turned,
            whitening,
            request: request.clone(),
            waiting: Vec::new(),
            complete: true,
            description,
        });
        self.publish_library();
    }

    pub(super) fn learn_whitening(
        &self,
        library: &Index,
        request: &WhiteningRequest,
    ) -> Result<(Option<Whitening>, String), String> {
        let source = match &request.source {
            WhiteningSource::Off => return Ok((None, "L2 only".into())),
            WhiteningSource::Shipped => {
                let shipped = lookalike_core::describe::whiten::shipped(
                    library.provenance.pooling,
                    &self.model_sha256,
                    self.weights_sha256.as_deref(),
                )
                .ok_or(
                    "the shipped whitening was learned with other weights: choose \
                     \"learned from this library\" in Settings (using L2 only)",
                )?;
                let dim = request.dim.clamp(1, shipped.dim());
                let whitening = shipped
                    .with_shape(dim, request.power)
                    .map_err(|e| format!("{e}: using L2 only"))?;
                return Ok((
                    Some(whitening),
                    format!(
                        "shipped whitening, {dim}-d (power {}), learned on {} photos of {}",
                        request.power,
                        shipped.samples,
                        shipped
                            .origin
                            .get("learned_from")
                            .map_or("another set", String::as_str)
                    ),
                ));
            }
            WhiteningSource::Library => library,
            WhiteningSource::Folder(_) => self
                .whitening_index
                .as_ref()
                .ok_or("the whitening folder has not been indexed")?,
        };
        let n = source.entries.len();
        if n < MIN_WHITENING_IMAGES {
            return Err(format!(
                "whitening needs at least {MIN_WHITENING_IMAGES} photos to learn from, {} has {n}: using L2 only",
                source.root.display()
            ));
        }
        // PCA can keep at most n - 1 directions.
        let dim = request.dim.clamp(1, n - 1).min(self.network.feature_dim());
        let whitening = source
            .learn_whitening(dim, request.power)
            .map_err(|e| format!("learning the whitening failed: {e}: using L2 only"))?;
        let what = if request.power == 0.0 {
            "PCA"
        } else {
            "PCA-whitened"
        };
        Ok((
            Some(whitening),
            format!(
                "{what} to {dim}-d (power {}), learned on {n} photos of {}",
                request.power,
                source.root.display()
            ),
        ))
    }

    /// The final descriptors of `index`, with the turned and enlarged views cached
    /// beside its index file when `request` asks for them; whether turned views are in.
    pub(super) fn database_with_views(
        &self,
        index: &Index,
        whitening: Option<&Whitening>,
        request: &WhiteningRequest,
    ) -> lookalike_core::Result<(Database, bool)> {
        let mut database = Database::from_index(index, whitening)?;
        if !request.views {
            return Ok((database, false));
        }
        let index_path = self.library_index_path(index);
        let turned = dupes::add_cached_views(&mut database, index, &index_path, whitening)?;
        Ok((database, turned))
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
