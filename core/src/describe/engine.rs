//! Choosing where the network runs: `auto` (a real GPU if there is one, else the CPU),
//! `gpu` (wgpu on whatever adapter exists, software Vulkan included), `cpu` (the GEMM
//! engine, our fastest CPU path) or `flex` (Burn's own pure-Rust CPU backend).
//!
//! wgpu panics when asked for an adapter that does not exist, so the GPU is probed once
//! through Burn's fallible initialisation and the outcome is cached for the process.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use burn::tensor::Device;
use burn::tensor::wgpu::wgpu;

use crate::describe::model::{Network, WeightsRef};
use crate::describe::net::{
    BurnGoogLeNet, BurnVgg, ConvPath, CpuGoogLeNet, CpuVgg, NetInput, Spoc,
};
use crate::describe::pooling::FeatureMap;
use crate::read::limits::MIN_SIDE;
use crate::support::error::{Error, Result};

/// Where the user asked the network to run.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// A hardware GPU when one is found, otherwise the CPU engine.
    #[default]
    Auto,
    /// wgpu on the first adapter found, even a software one (lavapipe).
    Gpu,
    /// The GEMM CPU engine.
    Cpu,
    /// Burn's `flex` CPU backend (slower than `cpu`; kept as an independent check).
    Flex,
}

impl BackendChoice {
    pub const ALL: [BackendChoice; 4] = [Self::Auto, Self::Gpu, Self::Cpu, Self::Flex];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Gpu => "gpu",
            Self::Cpu => "cpu",
            Self::Flex => "flex",
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BackendChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|b| b.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown backend {s:?}: expected auto, gpu, cpu or flex"
                ))
            })
    }
}

/// The wgpu adapter Burn initialised.
#[derive(Debug, Clone)]
pub struct GpuAdapter {
    pub device: Device,
    pub name: String,
    pub api: String,
    pub kind: wgpu::DeviceType,
}

impl GpuAdapter {
    /// Software rasterisers (lavapipe, llvmpipe, WARP) report `Cpu`: ~20x slower than
    /// the CPU engine for this network, so `auto` treats them as "no GPU".
    pub fn is_hardware(&self) -> bool {
        !matches!(self.kind, wgpu::DeviceType::Cpu)
    }
}

/// Initialises wgpu once per process; later calls return the same adapter or error.
pub fn gpu_adapter() -> Result<GpuAdapter> {
    static GPU: OnceLock<std::result::Result<GpuAdapter, String>> = OnceLock::new();
    GPU.get_or_init(|| {
        let (device, setup) = Device::wgpu_options()
            .init_with_setup()
            .map_err(|e| e.to_string())?;
        let info = setup.adapter.get_info();
        Ok(GpuAdapter {
            device,
            name: info.name,
            api: format!("{:?}", info.backend),
            kind: info.device_type,
        })
    })
    .clone()
    .map_err(|e| Error::Backend(format!("no usable GPU adapter: {e}")))
}

/// A loaded network, ready to describe images.
#[derive(Debug)]
pub struct Engine {
    net: Net,
    label: String,
}

/// The network on the engine that runs it.
#[derive(Debug)]
enum Net {
    CpuVgg(CpuVgg),
    BurnVgg(BurnVgg),
    CpuGoogLeNet(CpuGoogLeNet),
    BurnGoogLeNet(BurnGoogLeNet),
}

impl Engine {
    /// Loads `weights` (either network) onto the backend `choice` resolves to.
    pub fn new<'a>(weights: impl Into<WeightsRef<'a>>, choice: BackendChoice) -> Result<Self> {
        let weights = weights.into();
        match choice {
            BackendChoice::Cpu => Self::on_cpu(weights),
            BackendChoice::Flex => Self::on_burn(weights, Device::flex(), ConvPath::Direct)
                .map(|net| Self::labelled(net, "flex (Burn CPU backend)".into())),
            BackendChoice::Gpu => Self::on_gpu(weights, gpu_adapter()?),
            BackendChoice::Auto => match gpu_adapter() {
                Ok(adapter) if adapter.is_hardware() => Self::on_gpu(weights, adapter),
                _ => Self::on_cpu(weights),
            },
        }
    }

    fn on_cpu(weights: WeightsRef) -> Result<Self> {
        let (net, kind) = match weights {
            WeightsRef::Vgg16(w) => (Net::CpuVgg(CpuVgg::new(w)?), "Winograd F(4x4,3x3)"),
            WeightsRef::GoogLeNet(w) => (Net::CpuGoogLeNet(CpuGoogLeNet::new(w)?), "im2col"),
        };
        let label = format!(
            "cpu ({kind} + gemm, {} threads)",
            rayon::current_num_threads()
        );
        Ok(Self::labelled(net, label))
    }

    fn on_burn(weights: WeightsRef, device: Device, conv: ConvPath) -> Result<Net> {
        Ok(match weights {
            WeightsRef::Vgg16(w) => Net::BurnVgg(BurnVgg::with_conv(w, device, conv)?),
            WeightsRef::GoogLeNet(w) => Net::BurnGoogLeNet(BurnGoogLeNet::new(w, device)?),
        })
    }

    fn on_gpu(weights: WeightsRef, adapter: GpuAdapter) -> Result<Self> {
        let label = format!(
            "gpu (wgpu: {}, {:?}, {})",
            adapter.name, adapter.kind, adapter.api
        );
        // VGG16's convolutions as im2col x matmul: 6.3x faster than Burn's conv2d on an
        // H100 (benches/gpu.rs, README).
        let net = Self::on_burn(weights, adapter.device, ConvPath::Gemm)?;
        Ok(Self::labelled(net, label))
    }

    fn labelled(net: Net, label: String) -> Self {
        Self { net, label }
    }

    /// The network this engine runs.
    pub fn network(&self) -> Network {
        match self.net {
            Net::CpuVgg(_) | Net::BurnVgg(_) => Network::Vgg16,
            Net::CpuGoogLeNet(_) | Net::BurnGoogLeNet(_) => Network::GoogLeNet,
        }
    }

    /// What runs the network, for the user: e.g. `gpu (wgpu: NVIDIA H100, DiscreteGpu, Vulkan)`.
    pub fn label(&self) -> String {
        self.label.clone()
    }

    /// The raw descriptor (VGG16: SPoC; GoogLeNet: pool5) of a normalised image of at
    /// least `MIN_SIDE` pixels a side.
    pub fn spoc(&self, input: &NetInput) -> Result<Spoc> {
        crate::support::guard::note_heavy_work("the network");
        check_input(input)?;
        match &self.net {
            Net::CpuVgg(net) => Ok(net.spoc(input)),
            Net::BurnVgg(net) => net.spoc(input),
            Net::CpuGoogLeNet(net) => Ok(net.spoc(input)),
            Net::BurnGoogLeNet(net) => net.spoc(input),
        }
    }

    /// VGG16's conv5_3 after its ReLU, for poolings other than SPoC.
    pub fn conv5_3(&self, input: &NetInput) -> Result<FeatureMap> {
        crate::support::guard::note_heavy_work("the network");
        check_input(input)?;
        match &self.net {
            Net::CpuVgg(net) => Ok(net.conv5_3(input)),
            Net::BurnVgg(net) => net.conv5_3(input),
            Net::CpuGoogLeNet(_) | Net::BurnGoogLeNet(_) => Err(Error::Invalid(
                "poolings other than SPoC apply to VGG16's conv5_3, not to GoogLeNet".into(),
            )),
        }
    }

    /// Raw descriptors of images of one size: one pass on a Burn backend (VGG16), one
    /// image after the other otherwise (the CPU engine already uses every core for one
    /// image).
    pub fn spoc_batch(&self, inputs: &[NetInput]) -> Result<Vec<Spoc>> {
        crate::support::guard::note_heavy_work("the network");
        inputs.iter().try_for_each(check_input)?;
        if let Some(first) = inputs.first()
            && inputs
                .iter()
                .any(|i| (i.height, i.width) != (first.height, first.width))
        {
            return Err(Error::Invalid(
                "a batch of network inputs must share one size".into(),
            ));
        }
        match &self.net {
            Net::BurnVgg(net) => net.spoc_batch(inputs),
            _ => inputs.iter().map(|input| self.spoc(input)).collect(),
        }
    }

    /// [`Self::conv5_3`] of images of one size: one pass on a Burn backend, one image
    /// after the other on the CPU engine.
    pub fn conv5_3_batch(&self, inputs: &[NetInput]) -> Result<Vec<FeatureMap>> {
        crate::support::guard::note_heavy_work("the network");
        inputs.iter().try_for_each(check_input)?;
        match &self.net {
            Net::BurnVgg(net) => net.conv5_3_maps(inputs),
            _ => inputs.iter().map(|input| self.conv5_3(input)).collect(),
        }
    }
}

fn check_input(input: &NetInput) -> Result<()> {
    let min = MIN_SIDE as usize;
    if input.height < min || input.width < min || input.data.len() != input.height * input.width * 3
    {
        return Err(Error::Invalid(format!(
            "network input must be at least {min}x{min} with 3 channels, got {}x{} ({} values)",
            input.width,
            input.height,
            input.data.len()
        )));
    }
    Ok(())
}
