//! The command line's names for the core's choices (`--pooling`, `--intent`): clap's
//! derive lives here, so that the core knows nothing of the command line. Each variant's
//! doc comment is its help text.

use clap::builder::{EnumValueParser, TypedValueParser};
use lookalike_core::describe::pooling::Pooling;
use lookalike_core::find::intent::Intent;

/// `--pooling`: parses a [`PoolingChoice`] (its names and help) into the core's
/// [`Pooling`].
pub fn pooling() -> impl TypedValueParser<Value = Pooling> {
    EnumValueParser::<PoolingChoice>::new().map(Pooling::from)
}

/// `--intent`: parses an [`IntentChoice`] into the core's [`Intent`].
pub fn intent() -> impl TypedValueParser<Value = Intent> {
    EnumValueParser::<IntentChoice>::new().map(Intent::from)
}

/// How conv5_3 becomes a raw descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PoolingChoice {
    /// Sum over all positions (the method's SPoC).
    Spoc,
    /// Generalised mean, p = 3.
    Gem,
    /// Cross-dimensional weighting.
    Crow,
    /// Regional maximum activations, 3 scales.
    Rmac,
}

impl From<PoolingChoice> for Pooling {
    fn from(choice: PoolingChoice) -> Self {
        match choice {
            PoolingChoice::Spoc => Pooling::Spoc,
            PoolingChoice::Gem => Pooling::Gem,
            PoolingChoice::Crow => Pooling::Crow,
            PoolingChoice::Rmac => Pooling::Rmac,
        }
    }
}

/// What the user is looking for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum IntentChoice {
    /// The same scene or object: other shots of the same place or thing, copies and
    /// edits of a photo (full whitening; with R-MAC and the turned and enlarged views,
    /// neardup-dev mAP 0.9998 full, 0.9954 box).
    #[default]
    Instance,
    /// The same kind of picture: dogs, churches, parachutes (PCA to 32 dimensions, not
    /// whitened; imagenette P@100 0.903 with R-MAC, 0.871 with SPoC).
    Category,
}

impl From<IntentChoice> for Intent {
    fn from(choice: IntentChoice) -> Self {
        match choice {
            IntentChoice::Instance => Intent::Instance,
            IntentChoice::Category => Intent::Category,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    /// Every choice of the core has its name on the command line, the same as the core's
    /// own (`Pooling`'s `FromStr` and `Display`, `Intent`'s serde name).
    #[test]
    fn every_choice_is_named_as_the_core_names_it() {
        for choice in PoolingChoice::value_variants() {
            let name = choice.to_possible_value().map(|v| v.get_name().to_owned());
            assert_eq!(name, Some(Pooling::from(*choice).to_string()));
        }
        assert_eq!(PoolingChoice::value_variants().len(), Pooling::ALL.len());
        for choice in IntentChoice::value_variants() {
            let name = choice.to_possible_value().map(|v| v.get_name().to_owned());
            let core = serde_json::to_string(&Intent::from(*choice)).ok();
            assert_eq!(name.map(|n| format!("\"{n}\"")), core);
        }
        assert_eq!(Intent::from(IntentChoice::default()), Intent::default());
    }
}
