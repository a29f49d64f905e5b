//! The default responder: a deterministic answer of `tokens_min..=tokens_max` words, a function
//! of the prompt and the seed only, cut at the request's `max_tokens`.

use super::{ChatRequest, FakeScript, Reply, Responder};

/// Answers every request with [`answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tokens {
    /// Fewest tokens per answer.
    pub min: u32,
    /// Most tokens per answer (before `max_tokens`).
    pub max: u32,
}

impl Tokens {
    /// The token counts of `script`.
    pub fn of(script: &FakeScript) -> Self {
        Self {
            min: script.tokens_min,
            max: script.tokens_max,
        }
    }
}

impl Responder for Tokens {
    fn respond(&self, request: &ChatRequest<'_>) -> Reply {
        let (tokens, finish) = answer(*self, request.prompt, request.seed(), request.max_tokens());
        Reply::tokens(tokens, finish)
    }
}

const WORDS: [&str; 16] = [
    "the", "answer", "is", "True", "because", "the", "premise", "supports", "it", "and", "so", "we",
    "choose", "option", "one", "here",
];

/// The answer to `prompt` under `seed`: its tokens and finish reason.
pub fn answer(counts: Tokens, prompt: &str, seed: i64, max_tokens: u32) -> (Vec<String>, &'static str) {
    let h = xxhash_rust::xxh3::xxh3_64_with_seed(prompt.as_bytes(), seed as u64);
    let span = u64::from(counts.max.saturating_sub(counts.min)) + 1;
    let wanted = counts.min + (h % span) as u32;
    let n = wanted.min(max_tokens);
    let tokens = (0..n)
        .map(|i| {
            let w = WORDS[((h >> (i % 60)) as usize + i as usize) % WORDS.len()];
            if i == 0 { w.to_string() } else { format!(" {w}") }
        })
        .collect();
    (tokens, if n < wanted { "length" } else { "stop" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_deterministic_and_respect_max_tokens() {
        let t = Tokens::of(&FakeScript::default());
        let (a, fa) = answer(t, "hello", 1, 1000);
        let (b, _) = answer(t, "hello", 1, 1000);
        assert_eq!(a, b);
        assert_eq!(fa, "stop");
        assert!(a.len() >= 4 && a.len() <= 24);
        let (c, fc) = answer(t, "hello", 1, 2);
        assert_eq!(c.len(), 2);
        assert_eq!(fc, "length");
    }
}
