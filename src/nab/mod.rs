//! The Numenta Anomaly Benchmark (NAB v1.1) as a harness for our detectors: its
//! corpus ([`corpus`]), its windowed scoring with threshold optimisation ([`score`]),
//! its published windowedGaussian baseline ([`windowed_gaussian`]), and a streaming
//! run of any [`Detector`](crate::monitor::Detector) over a series ([`run`]).
//!
//! Pure apart from [`corpus::load`], which reads NAB's files from a directory; the
//! scoring rules are the ones `../shared/nab/README.md` states (Lavin & Ahmad 2015,
//! Ahmad et al. 2017).

pub mod corpus;
pub mod run;
pub mod score;
pub mod windowed_gaussian;

pub use corpus::{Corpus, CorpusError, Series};
pub use run::{round_significant, run_corpus, run_series};
pub use score::{PROFILES, Profile, ProfileScore, score_corpus};
pub use windowed_gaussian::WindowedGaussian;
