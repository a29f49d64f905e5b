//! Two machines, as in the study: `collect agent` on the GPU testbed runs whole trials on
//! request ([`server`]), and `collect --agent URL` on the orchestrator schedules them, fetches
//! each committed trial, verifies it and commits it into its own dataset ([`remote`]). The
//! wire types are in [`api`]; docs/agent.md is the user's guide (security included).

pub mod api;
pub mod remote;
pub mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default address of `collect agent --listen`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Where the orchestrator finds its agent (`collect --agent URL`).
#[derive(Debug, Clone)]
pub struct AgentTarget {
    /// The agent's base URL (`http://127.0.0.1:8787`).
    pub url: reqwest::Url,
    /// The bearer token (read from `--agent-token-file`; never from the command line).
    pub token: Option<String>,
    /// How long to keep trying an agent that does not answer (restarting, network down)
    /// before giving up the run.
    pub retry: Duration,
    /// How often a running job's status is asked.
    pub poll: Duration,
}

/// A fault the agent injects for the fault tests (hidden `--fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// None.
    #[default]
    None,
    /// The first file fetched is cut off halfway (the connection drops).
    DropFetch,
}

/// Options of `collect agent`.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// The collection the agent runs trials of (config, overrides, energy, dataset folder).
    pub collect: crate::options::CollectOptions,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// File holding the bearer token.
    pub token_file: Option<PathBuf>,
    /// Committed trials not yet confirmed may take this much disk, MB.
    pub max_pending_mb: u64,
    /// Write the bound address here once listening (for `--listen 127.0.0.1:0`).
    pub addr_file: Option<PathBuf>,
    /// Injected fault (tests).
    pub fault: Fault,
}
