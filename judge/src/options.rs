//! Validated, typed options: [`Options::from_cli`] turns the strings of [`crate::cli::Cli`]
//! into values and names the flag at fault when one is wrong. Nothing here knows clap.

use crate::cli::Cli;
use crate::llm::rubric::RubricKind;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::time::Duration;

/// Everything one `judge` run needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// A dataset folder or a folder of datasets.
    pub data: PathBuf,
    /// Folder of `<Task>.jsonl` files giving gold labels by position.
    pub prompts: Option<PathBuf>,
    /// Fail when no gold label is available.
    pub require_gold: bool,
    /// The LLM judge, when an endpoint was given.
    pub llm: Option<LlmOptions>,
    /// Draw a progress bar (on a terminal).
    pub progress: bool,
}

/// How to run the LLM judge.
#[derive(Debug, Clone)]
pub struct LlmOptions {
    /// Full URL of the chat completions route.
    pub url: reqwest::Url,
    /// Model name sent to the endpoint.
    pub model: String,
    /// Rubric to apply.
    pub rubric: RubricKind,
    /// Requests judged per trial; None = all.
    pub sample: Option<usize>,
    /// Seed of the sample selection.
    pub seed: u64,
    /// Calls in flight at once.
    pub jobs: usize,
    /// Request rate limit, requests per second.
    pub rps: Option<f64>,
    /// Bearer token, never printed.
    pub api_key: Option<ApiKey>,
    /// Retries of one call after a retryable failure.
    pub retries: u32,
    /// Timeout of one call.
    pub timeout: Duration,
    /// First backoff delay.
    pub backoff: Duration,
    /// Most tokens generated per call.
    pub max_tokens: u32,
    /// Cache folder; None = `DATA/.judge-cache` of each dataset.
    pub cache_dir: Option<PathBuf>,
    /// Ask again where the cache holds a failure.
    pub retry_failed: bool,
}

/// An API key. Its `Debug` never shows the secret, so it cannot leak through logs or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// The secret itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// The variable read for the API key when `--api-key-env` is not given.
pub const DEFAULT_API_KEY_ENV: &str = "OPENAI_API_KEY";

impl Options {
    /// Validates the command line. `env` looks up environment variables (the API key).
    pub fn from_cli(cli: Cli, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let llm = match (cli.endpoint, cli.model) {
            (Some(endpoint), Some(model)) => {
                let model = model.trim().to_string();
                if model.is_empty() {
                    bail!("--model: the model name is empty");
                }
                let rubric = RubricKind::parse(&cli.rubric).with_context(|| {
                    format!(
                        "--rubric: unknown rubric `{}` (expected `relevancy` or `correctness`)",
                        cli.rubric
                    )
                })?;
                let api_key = match &cli.api_key_env {
                    Some(var) => {
                        if var.is_empty() {
                            bail!("--api-key-env: the variable name is empty");
                        }
                        let value = env(var).with_context(|| {
                            format!("--api-key-env {var}: the environment variable `{var}` is not set")
                        })?;
                        Some(value)
                    }
                    None => env(DEFAULT_API_KEY_ENV),
                }
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .map(ApiKey);
                Some(LlmOptions {
                    url: chat_url(&endpoint)?,
                    model,
                    rubric,
                    sample: cli
                        .sample
                        .as_deref()
                        .map(|s| positive::<usize>(s, "--sample"))
                        .transpose()?,
                    seed: parse::<u64>(&cli.seed, "--seed", "a non-negative integer")?,
                    jobs: positive::<usize>(&cli.jobs, "--jobs")?,
                    rps: cli
                        .rps
                        .as_deref()
                        .map(|s| {
                            let r = parse::<f64>(s, "--rps", "a positive number")?;
                            if r.is_finite() && r > 0.0 {
                                Ok(r)
                            } else {
                                bail!("--rps: `{s}` is not a positive number")
                            }
                        })
                        .transpose()?,
                    api_key,
                    retries: parse::<u32>(&cli.retries, "--retries", "a non-negative integer")?,
                    timeout: Duration::from_secs_f64(seconds(&cli.timeout, "--timeout")?),
                    backoff: Duration::from_millis(parse::<u64>(
                        &cli.backoff_ms,
                        "--backoff-ms",
                        "a non-negative integer",
                    )?),
                    max_tokens: positive::<u32>(&cli.max_tokens, "--max-tokens")?,
                    cache_dir: cli.cache_dir,
                    retry_failed: cli.retry_failed,
                })
            }
            (None, None) => {
                for (given, flag) in [
                    (cli.sample.is_some(), "--sample"),
                    (cli.rps.is_some(), "--rps"),
                    (cli.api_key_env.is_some(), "--api-key-env"),
                    (cli.cache_dir.is_some(), "--cache-dir"),
                    (cli.retry_failed, "--retry-failed"),
                ] {
                    if given {
                        bail!("{flag} only applies to the LLM judge; give --endpoint and --model too");
                    }
                }
                None
            }
            (Some(_), None) => bail!("--endpoint needs --model"),
            (None, Some(_)) => bail!("--model needs --endpoint"),
        };
        if let Some(dir) = &cli.prompts
            && !dir.is_dir()
        {
            bail!("--prompts {}: not a folder", dir.display());
        }
        Ok(Self {
            data: cli.data,
            prompts: cli.prompts,
            require_gold: cli.gold,
            llm,
            progress: !cli.quiet,
        })
    }
}

fn parse<T: std::str::FromStr>(s: &str, flag: &str, what: &str) -> Result<T> {
    s.trim()
        .parse::<T>()
        .ok()
        .with_context(|| format!("{flag}: `{s}` is not {what}"))
}

fn positive<T: std::str::FromStr + PartialOrd + Default>(s: &str, flag: &str) -> Result<T> {
    let v = parse::<T>(s, flag, "a positive integer")?;
    if v <= T::default() {
        bail!("{flag}: `{s}` is not a positive integer");
    }
    Ok(v)
}

fn seconds(s: &str, flag: &str) -> Result<f64> {
    let v = parse::<f64>(s, flag, "a positive number of seconds")?;
    if !(v.is_finite() && v > 0.0 && v < 1e6) {
        bail!("{flag}: `{s}` is not a positive number of seconds");
    }
    Ok(v)
}

/// The chat completions URL of an endpoint given as a server root, a `/v1` base or the full
/// route.
pub fn chat_url(endpoint: &str) -> Result<reqwest::Url> {
    let trimmed = endpoint.trim().trim_end_matches('/');
    let full = if trimmed.ends_with("/chat/completions") {
        trimmed.to_string()
    } else if trimmed.ends_with("/v1") {
        format!("{trimmed}/chat/completions")
    } else {
        format!("{trimmed}/v1/chat/completions")
    };
    let url = reqwest::Url::parse(&full)
        .with_context(|| format!("--endpoint: `{endpoint}` is not a URL (e.g. http://127.0.0.1:8080)"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("--endpoint: `{endpoint}` must be an http:// or https:// URL");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn opts(args: &[&str]) -> Result<Options> {
        let mut argv = vec!["judge"];
        argv.extend_from_slice(args);
        Options::from_cli(Cli::try_parse_from(argv).expect("clap accepts"), |k| {
            (k == "MY_KEY").then(|| "sk-test".to_string())
        })
    }

    #[test]
    fn endpoints_are_completed_to_the_chat_route() {
        for (given, want) in [
            (
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080/v1/chat/completions",
            ),
            ("http://h:1/v1/", "http://h:1/v1/chat/completions"),
            (
                "https://api.x/v1/chat/completions",
                "https://api.x/v1/chat/completions",
            ),
        ] {
            assert_eq!(chat_url(given).expect("valid").as_str(), want);
        }
        assert!(chat_url("ftp://x").is_err());
        assert!(chat_url("not a url").is_err());
    }

    #[test]
    fn bad_numbers_name_their_flag() {
        let base = ["--endpoint", "http://x", "--model", "m"];
        for (flag, value) in [
            ("--jobs", "0"),
            ("--sample", "-1"),
            ("--rps", "0"),
            ("--timeout", "x"),
            ("--seed", "-3"),
        ] {
            let arg = format!("{flag}={value}");
            let mut args = base.to_vec();
            args.push(&arg);
            let err = format!("{:#}", opts(&args).expect_err("rejected"));
            assert!(err.starts_with(flag), "{err}");
        }
    }

    #[test]
    fn an_unknown_rubric_is_rejected() {
        let err =
            opts(&["--endpoint", "http://x", "--model", "m", "--rubric", "vibes"]).expect_err("rejected");
        assert!(format!("{err:#}").contains("--rubric"));
    }

    #[test]
    fn the_api_key_comes_from_the_named_variable_and_never_shows_in_debug() {
        let o = opts(&[
            "--endpoint",
            "http://x",
            "--model",
            "m",
            "--api-key-env",
            "MY_KEY",
        ])
        .expect("valid");
        let llm = o.llm.expect("llm");
        assert_eq!(llm.api_key.as_ref().map(ApiKey::expose), Some("sk-test"));
        assert!(!format!("{llm:?}").contains("sk-test"));
        let err = opts(&["--endpoint", "http://x", "--model", "m", "--api-key-env", "NOPE"])
            .expect_err("missing variable");
        assert!(format!("{err:#}").contains("NOPE"));
    }

    #[test]
    fn llm_flags_without_an_endpoint_are_rejected() {
        let err = opts(&["--sample", "5"]).expect_err("rejected");
        assert!(format!("{err:#}").contains("--sample"));
    }
}
