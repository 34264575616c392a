//! The first-run dialog, shown while no usable weights are loaded: download the
//! network's official weights, or choose a file.

use std::path::PathBuf;

use eframe::egui::{self, RichText, Vec2};

use crate::gui::dialogs::Purpose;
use crate::gui::panels::Action;
use crate::gui::widgets::format::format_bytes;
use lookalike_core::describe::model::Network;

/// The dialog's state: the path being typed and the download in progress.
#[derive(Debug, Default)]
pub struct WeightsDialog {
    input: String,
    /// Bytes done and total of the download in progress.
    pub download: Option<(u64, u64)>,
    /// Why the last download failed, if it did.
    pub error: Option<String>,
}

impl WeightsDialog {
    /// Draws the dialog for `network`'s weights with the `message` of why they are
    /// needed (`missing`: none were found, else the chosen file is not usable).
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        network: Network,
        message: &str,
        missing: bool,
    ) -> Option<Action> {
        let mut action = None;
        let mut chosen_network = network;
        egui::Modal::new(egui::Id::unique("weights-dialog")).show(ctx, |ui| {
            ui.set_width(560.0);
            ui.heading(format!("The {} weights are needed", network.title()));
            ui.label(WeightsText::of(network).about);
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                egui::ComboBox::from_label("Network")
                    .selected_text(chosen_network.title())
                    .show_ui(ui, |ui| {
                        for choice in Network::ALL {
                            ui.selectable_value(
                                &mut chosen_network,
                                choice,
                                network_choice_label(choice),
                            );
                        }
                    });
            });
            ui.add_space(6.0);
            problem(ui, message, missing);
            ui.add_space(6.0);
            action = self.download_row(ui, chosen_network);
            if let Some(error) = &self.error {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("Download failed: {error}"),
                );
            }
            if let Some(path) = self.path_row(ui) {
                action = Some(Action::ChooseWeights(path));
            }
            ui.label(
                RichText::new(format!(
                    "Tip: set {} to the file's path to skip this dialog.",
                    chosen_network.env_var()
                ))
                .weak()
                .small(),
            );
        });
        if action.is_none() && chosen_network != network && self.download.is_none() {
            action = Some(Action::ChooseNetwork(chosen_network));
        }
        action
    }

    /// The download's progress and Cancel, or the buttons to download or choose a file.
    fn download_row(&mut self, ui: &mut egui::Ui, network: Network) -> Option<Action> {
        let mut action = None;
        ui.horizontal(|ui| match self.download {
            Some((done, total)) => {
                let fraction = done as f32 / total.max(1) as f32;
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(360.0)
                        .text(format!(
                            "Downloading: {} of {}",
                            format_bytes(done),
                            format_bytes(total)
                        )),
                );
                if ui.button("Cancel download").clicked() {
                    action = Some(Action::CancelDownload);
                }
            }
            None => {
                let official = WeightsText::of(network);
                if ui
                    .button(official.button)
                    .on_hover_text(official.hover)
                    .clicked()
                {
                    self.error = None;
                    self.download = Some((0, 1));
                    action = Some(Action::DownloadWeights(network));
                }
                if ui.button("Choose a weights file…").clicked() {
                    action = Some(Action::Ask(Purpose::Weights));
                }
            }
        });
        action
    }

    /// The path typed, when "Use" is clicked.
    fn path_row(&mut self, ui: &mut egui::Ui) -> Option<PathBuf> {
        let mut chosen = None;
        ui.horizontal(|ui| {
            let label = ui.label("Weights file");
            ui.add(
                egui::TextEdit::singleline(&mut self.input)
                    .hint_text("…or type its path")
                    .desired_width(340.0),
            )
            .labelled_by(label.id);
            if ui.button("Use").clicked() && !self.input.trim().is_empty() {
                chosen = Some(PathBuf::from(self.input.trim()));
            }
        });
        chosen
    }
}

/// Why the weights are needed, in a box of fixed height: the dialog does not jump as
/// messages of other lengths come.
fn problem(ui: &mut egui::Ui, message: &str, missing: bool) {
    let colour = if missing {
        ui.visuals().weak_text_color()
    } else {
        ui.visuals().error_fg_color
    };
    ui.allocate_ui(Vec2::new(ui.available_width(), 64.0), |ui| {
        ui.set_min_height(64.0);
        egui::ScrollArea::vertical()
            .max_height(64.0)
            .show(ui, |ui| {
                ui.colored_label(colour, message);
            });
    });
}

/// The first-run dialog's words for a network's official weights.
struct WeightsText {
    about: &'static str,
    button: &'static str,
    hover: &'static str,
}

impl WeightsText {
    fn of(network: Network) -> Self {
        match network {
            Network::Vgg16 => Self {
                about: "lookalike describes photos with VGG16's convolutional layers, trained \
                    on ImageNet. The weights (about 59 MB) are not bundled. Download the \
                    official conv-only file (Keras' \
                    vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5: its published MD5 is \
                    checked, then it is converted), or choose a file you have (.safetensors, \
                    or the Keras .h5). Nothing is downloaded unless you ask.",
                button: "Download the official weights (59 MB)",
                hover: "From the Keras applications store (storage.googleapis.com); the MD5 \
                    Keras publishes is checked, then the file is converted",
            },
            Network::GoogLeNet => Self {
                about: "GoogLeNet describes photos about five times faster than VGG16, from \
                    its pool5 layer, trained on ImageNet. The weights (about 50 MB) are not \
                    bundled. Download torchvision's official googlenet-1378be20.pth (the \
                    file's SHA-256 must start with the 1378be20 its name carries, as PyTorch \
                    checks it; then it is converted), or choose a file you have \
                    (.safetensors, or the .pth). Nothing is downloaded unless you ask.",
                button: "Download the official GoogLeNet weights (50 MB)",
                hover: "From download.pytorch.org; the SHA-256 prefix in the file's name is \
                    checked, then the file is converted",
            },
        }
    }
}

/// A network as the settings' menus offer it.
pub fn network_choice_label(network: Network) -> &'static str {
    match network {
        Network::Vgg16 => "VGG16 (best matches)",
        Network::GoogLeNet => "GoogLeNet (about 5x faster)",
    }
}
