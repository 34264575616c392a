//! The network: loading weights, converting official files, downloading them.

use std::path::PathBuf;

use super::jobs::{JobKind, JobOutcome};
use super::{Executor, Internal};
use crate::gui::protocol::{Command, Event};
use lookalike_core::describe::describer::{Describer, DescriberOptions};
use lookalike_core::describe::engine::BackendChoice;
use lookalike_core::describe::model::{self, Network, NetworkWeights};
use lookalike_core::describe::pooling::Pooling;
use lookalike_core::index::Provenance;

impl Executor {
    /// Downloads on a job thread (Cancel stops it); on success the executor is asked to
    /// load the converted file like any chosen one.
    pub(super) fn download_weights(&mut self, network: Network, backend: BackendChoice) {
        if self.indexing.is_some() {
            self.sink.send(Event::DownloadFailed(
                "wait for the work in progress to end, or cancel it".into(),
            ));
            return;
        }
        let folder = self.weights.folder.clone();
        let source = self.weights.source(network).clone();
        let sink = self.sink.clone();
        let own = self.own.clone();
        self.start_job(JobKind::Download, move |flag, _| {
            let output = folder.join(network.file_name());
            let progress = |done, total| sink.offer(Event::Downloading { done, total });
            match model::download_weights(&source, &folder, &output, progress, flag) {
                Ok(_) => {
                    let load = Command::LoadModel {
                        path: Some(output),
                        network,
                        backend,
                    };
                    let _ = own.send(Internal::Ui(load));
                }
                Err(error) => sink.send(Event::DownloadFailed(error.to_string())),
            }
            JobOutcome::Finished
        });
    }

    pub(super) fn load_model(
        &mut self,
        path: Option<PathBuf>,
        network: Network,
        backend: BackendChoice,
    ) {
        let missing = path.is_none();
        let folder = Some(self.weights.folder.as_path());
        let loaded = model::resolve_weights_path_in(path.as_deref(), network, folder)
            .map_err(|e| (e.to_string(), missing))
            .and_then(|path| {
                let (path, weights) = self
                    .import_if_official(path)
                    .map_err(|e| (e.to_string(), false))?;
                let describer = Describer::new(&weights, backend, DescriberOptions::default())
                    .map_err(|e| (format!("starting the {backend} backend: {e}"), false))?;
                Ok((path, weights, describer))
            });
        match loaded {
            Ok((path, weights, describer)) => {
                let label = describer.engine().label();
                let sha256 = weights.sha256();
                if self.model_sha256 != sha256 {
                    // Descriptors of another network cannot be compared with these.
                    self.library = None;
                }
                self.model_sha256 = sha256;
                self.weights_sha256 = weights.weights_sha256().ok();
                self.network = weights.network();
                self.describer = Some(describer);
                if let Some(query) = &mut self.query {
                    query.last_raw = None;
                }
                self.sink.send(Event::ModelReady {
                    label,
                    path,
                    network: self.network,
                });
            }
            Err((message, missing)) => {
                self.sink.send(Event::ModelProblem { message, missing });
            }
        }
    }

    /// Loads a weights file of either network. An official file as published (Keras'
    /// `.h5`, torchvision's `.pth`) is converted once into the weights folder, and the
    /// converted file used.
    pub(super) fn import_if_official(
        &self,
        path: PathBuf,
    ) -> lookalike_core::Result<(PathBuf, NetworkWeights)> {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        let convert_to = |network: Network| self.weights.folder.join(network.file_name());
        Ok(match extension.as_deref() {
            Some("h5") => {
                let output = convert_to(Network::Vgg16);
                let weights = model::import_keras_h5(&path, &output)?;
                (output, weights.into())
            }
            Some("pth" | "pt") => {
                let output = convert_to(Network::GoogLeNet);
                let weights = model::googlenet::import_googlenet_pth(&path, &output)?;
                (output, weights.into())
            }
            _ => {
                let weights = NetworkWeights::load(&path)?;
                (path, weights)
            }
        })
    }

    /// What the loaded network makes of images shrunk to `max_side`, pooled the
    /// product's way (R-MAC for VGG16). A library indexed otherwise (before R-MAC) is
    /// described again when opened.
    pub(super) fn provenance(&self, max_side: u32) -> Provenance {
        Provenance {
            model_sha256: self.model_sha256.clone(),
            max_side,
            network: self.network,
            pooling: Pooling::default_for(self.network),
        }
    }
}
