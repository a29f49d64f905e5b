//! Validated, typed options: [`Options::from_cli`] turns the strings of [`crate::cli::Cli`]
//! into values and names the flag at fault when one is wrong. Nothing here knows clap.

use crate::cli::Cli;
use crate::llm::rubric::RubricKind;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything one `judge` run needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Dataset folders, or folders of datasets.
    pub data: Vec<PathBuf>,
    /// Folder of `<Task>.jsonl` files giving gold labels by position.
    pub prompts: Option<PathBuf>,
    /// Fail when no gold label is available.
    pub require_gold: bool,
    /// The LLM judge, when an endpoint was given.
    pub llm: Option<LlmOptions>,
    /// Draw a progress bar (on a terminal).
    pub progress: bool,
    /// Go on without the trials whose files cannot be read instead of failing.
    pub skip_damaged: bool,
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

/// The `[judge]` table of a config file: every LLM-judge setting a flag can give. Flags win.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeConfig {
    /// `--endpoint`.
    pub endpoint: Option<String>,
    /// `--model`.
    pub model: Option<String>,
    /// `--rubric`.
    pub rubric: Option<String>,
    /// `--sample`.
    pub sample: Option<i64>,
    /// `--seed`.
    pub seed: Option<i64>,
    /// `--jobs`.
    pub jobs: Option<i64>,
    /// `--rps`.
    pub rps: Option<f64>,
    /// `--api-key-env`.
    pub api_key_env: Option<String>,
    /// `--retries`.
    pub retries: Option<i64>,
    /// `--timeout`, seconds.
    pub timeout_s: Option<f64>,
    /// `--max-tokens`.
    pub max_tokens: Option<i64>,
    /// `--prompts`, relative to the config file.
    pub prompts: Option<PathBuf>,
    /// `--cache-dir`, relative to the config file.
    pub cache_dir: Option<PathBuf>,
}

/// The config file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG: &str = "experiments/llama_profiling.toml";

#[derive(Debug, Deserialize)]
struct ConfigFile {
    judge: Option<JudgeConfig>,
}

/// Reads the `[judge]` table of a TOML file (None when it has none; other tables are ignored).
/// Relative `prompts` and `cache_dir` paths are resolved against the file's folder.
pub fn read_config(path: &Path) -> Result<Option<JudgeConfig>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let file: ConfigFile = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| {
            text.as_bytes()[..s.start.min(text.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1
        });
        match line {
            Some(line) => anyhow::anyhow!("{}:{line}: {}", path.display(), e.message()),
            None => anyhow::anyhow!("{}: {}", path.display(), e.message()),
        }
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    Ok(file.judge.map(|mut j| {
        j.prompts = j.prompts.map(|p| base.join(p));
        j.cache_dir = j.cache_dir.map(|p| base.join(p));
        j
    }))
}

impl Options {
    /// Validates the command line, completed by the `[judge]` table of `--config` (or of
    /// [`DEFAULT_CONFIG`] when it exists). `env` looks up environment variables (the API key).
    pub fn from_cli(cli: Cli, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let config_path = match &cli.config {
            Some(p) => Some(p.clone()),
            None => Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.is_file()),
        };
        let cfg = match &config_path {
            Some(p) => read_config(p)?.unwrap_or_default(),
            None => JudgeConfig::default(),
        };
        // Where a value came from, for error messages.
        let from = |flag: &str, key: &str, cli_given: bool| -> String {
            match (&config_path, cli_given) {
                (Some(p), false) => format!("`{key}` of [judge] in {}", p.display()),
                _ => flag.to_string(),
            }
        };
        let num = |v: Option<i64>| v.map(|n| n.to_string());
        let endpoint_label = from("--endpoint", "endpoint", cli.endpoint.is_some());
        let model_label = from("--model", "model", cli.model.is_some());
        let endpoint = cli.endpoint.clone().or(cfg.endpoint.clone());
        let model = cli.model.clone().or(cfg.model.clone());
        let llm = match (endpoint, model) {
            (Some(endpoint), Some(model)) => {
                let model = model.trim().to_string();
                if model.is_empty() {
                    bail!("{model_label}: the model name is empty");
                }
                let rubric_label = from("--rubric", "rubric", cli.rubric.is_some());
                let rubric = cli
                    .rubric
                    .clone()
                    .or(cfg.rubric.clone())
                    .unwrap_or_else(|| "relevancy".into());
                let rubric = RubricKind::parse(&rubric).with_context(|| {
                    format!(
                        "{rubric_label}: unknown rubric `{rubric}` (expected `relevancy` or `correctness`)"
                    )
                })?;
                let key_label = from("--api-key-env", "api_key_env", cli.api_key_env.is_some());
                let api_key = match cli.api_key_env.clone().or(cfg.api_key_env.clone()) {
                    Some(var) => {
                        if var.is_empty() {
                            bail!("{key_label}: the variable name is empty");
                        }
                        let value = env(&var).with_context(|| {
                            format!("{key_label} {var}: the environment variable `{var}` is not set")
                        })?;
                        Some(value)
                    }
                    None => env(DEFAULT_API_KEY_ENV),
                }
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .map(ApiKey);
                let sample = cli.sample.clone().or(num(cfg.sample));
                let sample_label = from("--sample", "sample", cli.sample.is_some());
                let rps = cli.rps.clone().or(cfg.rps.map(|r| r.to_string()));
                let rps_label = from("--rps", "rps", cli.rps.is_some());
                let seed = cli.seed.clone().or(num(cfg.seed)).unwrap_or_else(|| "0".into());
                let jobs = cli.jobs.clone().or(num(cfg.jobs)).unwrap_or_else(|| "4".into());
                let retries = cli
                    .retries
                    .clone()
                    .or(num(cfg.retries))
                    .unwrap_or_else(|| "4".into());
                let timeout = cli
                    .timeout
                    .clone()
                    .or(cfg.timeout_s.map(|t| t.to_string()))
                    .unwrap_or_else(|| "120".into());
                let max_tokens = cli
                    .max_tokens
                    .clone()
                    .or(num(cfg.max_tokens))
                    .unwrap_or_else(|| "1024".into());
                Some(LlmOptions {
                    url: chat_url(&endpoint).map_err(|e| anyhow::anyhow!("{endpoint_label}: {e:#}"))?,
                    model,
                    rubric,
                    sample: sample
                        .as_deref()
                        .map(|s| positive::<usize>(s, &sample_label))
                        .transpose()?,
                    seed: parse::<u64>(
                        &seed,
                        &from("--seed", "seed", cli.seed.is_some()),
                        "a non-negative integer",
                    )?,
                    jobs: positive::<usize>(&jobs, &from("--jobs", "jobs", cli.jobs.is_some()))?,
                    rps: rps
                        .as_deref()
                        .map(|s| {
                            let r = parse::<f64>(s, &rps_label, "a positive number")?;
                            if r.is_finite() && r > 0.0 {
                                Ok(r)
                            } else {
                                bail!("{rps_label}: `{s}` is not a positive number")
                            }
                        })
                        .transpose()?,
                    api_key,
                    retries: parse::<u32>(
                        &retries,
                        &from("--retries", "retries", cli.retries.is_some()),
                        "a non-negative integer",
                    )?,
                    timeout: Duration::from_secs_f64(seconds(
                        &timeout,
                        &from("--timeout", "timeout_s", cli.timeout.is_some()),
                    )?),
                    backoff: Duration::from_millis(parse::<u64>(
                        &cli.backoff_ms,
                        "--backoff-ms",
                        "a non-negative integer",
                    )?),
                    max_tokens: positive::<u32>(
                        &max_tokens,
                        &from("--max-tokens", "max_tokens", cli.max_tokens.is_some()),
                    )?,
                    cache_dir: cli.cache_dir.clone().or(cfg.cache_dir.clone()),
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
            (Some(_), None) => bail!("{endpoint_label} needs a model too (--model, or `model` in [judge])"),
            (None, Some(_)) => {
                bail!("{model_label} needs an endpoint too (--endpoint, or `endpoint` in [judge])")
            }
        };
        let prompts = cli.prompts.clone().or(cfg.prompts.clone());
        if let Some(dir) = &prompts
            && !dir.is_dir()
        {
            let label = from("--prompts", "prompts", cli.prompts.is_some());
            bail!("{label} {}: not a folder", dir.display());
        }
        Ok(Self {
            data: cli.data,
            prompts,
            require_gold: cli.gold,
            llm,
            progress: !cli.quiet,
            skip_damaged: cli.skip_damaged,
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
        .with_context(|| format!("`{endpoint}` is not a URL (e.g. http://127.0.0.1:8080)"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("`{endpoint}` must be an http:// or https:// URL");
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
    fn a_config_file_completes_the_flags_and_resolves_paths_against_itself() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("prompts")).expect("mkdir");
        let cfg = dir.path().join("judge.toml");
        std::fs::write(
            &cfg,
            "[judge]\nendpoint = \"http://127.0.0.1:1\"\nmodel = \"m\"\nrubric = \"correctness\"\n\
             sample = 5\nseed = 9\njobs = 16\nrps = 2.5\nretries = 1\ntimeout_s = 30\nmax_tokens = 64\n\
             prompts = \"prompts\"\ncache_dir = \"cache\"\n",
        )
        .expect("write");
        let path = cfg.display().to_string();
        let o = opts(&["--config", &path, "--jobs", "3"]).expect("valid");
        let llm = o.llm.expect("llm from the config");
        assert_eq!(llm.url.as_str(), "http://127.0.0.1:1/v1/chat/completions");
        assert_eq!((llm.model.as_str(), llm.rubric), ("m", RubricKind::Correctness));
        assert_eq!(
            (llm.sample, llm.seed, llm.jobs, llm.rps),
            (Some(5), 9, 3, Some(2.5))
        );
        assert_eq!(
            (llm.retries, llm.timeout, llm.max_tokens),
            (1, Duration::from_secs(30), 64)
        );
        assert_eq!(llm.cache_dir, Some(dir.path().join("cache")));
        assert_eq!(o.prompts, Some(dir.path().join("prompts")));
        // A file without a [judge] table changes nothing.
        std::fs::write(&cfg, "[experiment]\nname = \"x\"\n").expect("write");
        assert!(opts(&["--config", &path]).expect("valid").llm.is_none());
        let err = format!(
            "{:#}",
            opts(&["--config", "/nonexistent.toml"]).expect_err("missing file")
        );
        assert!(err.contains("/nonexistent.toml"), "{err}");
    }

    #[test]
    fn llm_flags_without_an_endpoint_are_rejected() {
        let err = opts(&["--sample", "5"]).expect_err("rejected");
        assert!(format!("{err:#}").contains("--sample"));
    }
}
