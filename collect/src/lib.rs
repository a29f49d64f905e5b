//! `collect`: runs randomized, repeated (model × task) LLM inference trials against an
//! OpenAI-compatible endpoint while sampling energy, and writes them as a dataset through the
//! `dataset` contract crate.
//!
//! The pipeline, one module per stage: [`cli`] → [`options`] (validated) → [`config`] and
//! [`prompts`] → [`plan`] (run table, resume) → [`runner`] (per trial: [`server`] lifecycle,
//! [`sampler`], [`client`], commit) → [`progress`]. The fake server of the `endpoint` crate
//! and the `fake` sampler make the whole pipeline run without GPU or network ([`demo`]);
//! [`probe`] validates the energy sources on a machine.

pub mod agent;
pub mod app;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod demo;
pub mod gpu;
pub mod options;
pub mod plan;
pub mod probe;
pub mod progress;
pub mod prompts;
pub mod provenance;
pub mod runner;
pub mod sampler;
pub mod scrape;
pub mod server;
