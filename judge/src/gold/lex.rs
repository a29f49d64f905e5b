//! The answer as tokens and sentences, read the same way for all six tasks (and for the
//! prompts' own texts): lower-cased, quotes and common diacritics folded, contractions
//! expanded, markdown emphasis dropped, paragraph breaks kept; a quoted span becomes one
//! [`Tok::Q`] token so that a quoted premise can neither end a sentence nor lend its words to
//! a verdict; and the tokens are cut into [`Sent`]ences.

/// A token of an answer.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// A lower-case word (contractions expanded).
    W(String),
    /// A punctuation character.
    P(char),
    /// A quoted span: its words, lower-case, joined by single spaces.
    Q(String),
    /// A paragraph break (two or more spaces in a row).
    Para,
}

pub(super) fn normalize_char(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201b}' | '`' | '\u{b4}' => '\'',
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{ab}' | '\u{bb}' => '"',
        '\u{2013}' | '\u{2014}' | '\u{2212}' => '-',
        // common Latin diacritics ("Padmé" answers a question about "padme")
        '\u{e0}'..='\u{e5}' => 'a',
        '\u{e7}' => 'c',
        '\u{e8}'..='\u{eb}' => 'e',
        '\u{ec}'..='\u{ef}' => 'i',
        '\u{f1}' => 'n',
        '\u{f2}'..='\u{f6}' => 'o',
        '\u{f9}'..='\u{fc}' => 'u',
        _ => c,
    }
}

fn push_word(out: &mut Vec<Tok>, word: &mut String) {
    if word.is_empty() {
        return;
    }
    let w = std::mem::take(word);
    if w == "cannot" {
        out.push(Tok::W("can".into()));
        out.push(Tok::W("not".into()));
    } else if let Some(base) = w.strip_suffix("n't") {
        let base = match base {
            "ca" => "can",
            "wo" => "will",
            "sha" => "shall",
            "ai" => "is",
            other => other,
        };
        if !base.is_empty() {
            out.push(Tok::W(base.to_string()));
        }
        out.push(Tok::W("not".into()));
    } else {
        out.push(Tok::W(w));
    }
}

/// Splits a text into words, punctuation and paragraph breaks.
pub(super) fn lex(text: &str) -> Vec<Tok> {
    let chars: Vec<char> = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(normalize_char)
        .collect();
    let mut out = Vec::new();
    let mut word = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            push_word(&mut out, &mut word);
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if j - i >= 2 && !out.is_empty() && j < chars.len() {
                out.push(Tok::Para);
            }
            i = j;
            continue;
        }
        if c.is_alphanumeric() {
            word.push(c);
            i += 1;
            continue;
        }
        let prev = if i > 0 { chars[i - 1] } else { ' ' };
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        let inner = match c {
            '\'' | '-' => prev.is_alphanumeric() && next.is_alphanumeric(),
            '.' | ',' => prev.is_ascii_digit() && next.is_ascii_digit(),
            _ => false,
        };
        if inner && !word.is_empty() {
            word.push(c);
            i += 1;
            continue;
        }
        push_word(&mut out, &mut word);
        if !matches!(c, '*' | '#' | '_' | '~' | '|') {
            out.push(Tok::P(c));
        }
        i += 1;
    }
    push_word(&mut out, &mut word);
    while out.last() == Some(&Tok::Para) {
        out.pop();
    }
    out
}

fn words_of(toks: &[Tok]) -> String {
    let mut s = String::new();
    for t in toks {
        if let Tok::W(w) | Tok::Q(w) = t {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(w);
        }
    }
    s
}

/// Groups balanced double-quoted spans (per paragraph) and short single-quoted spans into
/// [`Tok::Q`] tokens; unbalanced quote marks are dropped.
pub(super) fn group_quotes(toks: Vec<Tok>) -> Vec<Tok> {
    let mut out = Vec::with_capacity(toks.len());
    for para in toks.split(|t| *t == Tok::Para) {
        if !out.is_empty() {
            out.push(Tok::Para);
        }
        let n_double = para.iter().filter(|t| **t == Tok::P('"')).count();
        let balanced = n_double % 2 == 0;
        let mut i = 0;
        while i < para.len() {
            let t = &para[i];
            if *t == Tok::P('"') {
                if balanced && let Some(len) = para[i + 1..].iter().position(|t| *t == Tok::P('"')) {
                    let inner = words_of(&para[i + 1..i + 1 + len]);
                    if !inner.is_empty() {
                        out.push(Tok::Q(inner));
                    }
                    i += len + 2;
                    continue;
                }
                i += 1;
                continue;
            }
            if *t == Tok::P('\'') {
                let close = para[i + 1..].iter().take(9).position(|t| !matches!(t, Tok::W(_)));
                if let Some(len) = close
                    && len > 0
                    && para[i + 1 + len] == Tok::P('\'')
                {
                    out.push(Tok::Q(words_of(&para[i + 1..i + 1 + len])));
                    i += len + 2;
                    continue;
                }
                i += 1;
                continue;
            }
            out.push(t.clone());
            i += 1;
        }
    }
    out
}

/// One sentence of an answer.
#[derive(Debug, Clone)]
pub(super) struct Sent {
    pub(super) toks: Vec<Tok>,
    /// The punctuation that ended it (`.`, `!`, `?`), or `\n` for a paragraph break.
    pub(super) end: char,
}

impl Sent {
    pub(super) fn word(&self, i: usize) -> &str {
        match self.toks.get(i) {
            Some(Tok::W(w)) => w,
            _ => "",
        }
    }

    pub(super) fn is(&self, i: usize, w: &str) -> bool {
        self.word(i) == w
    }

    pub(super) fn punct(&self, i: usize) -> Option<char> {
        match self.toks.get(i) {
            Some(Tok::P(c)) => Some(*c),
            _ => None,
        }
    }

    /// The sentence as readable text, shortened, for reasons.
    pub(super) fn text(&self) -> String {
        let mut s = String::new();
        for t in &self.toks {
            match t {
                Tok::W(w) => {
                    if !s.is_empty() {
                        s.push(' ');
                    }
                    s.push_str(w);
                }
                Tok::Q(q) => {
                    if !s.is_empty() {
                        s.push(' ');
                    }
                    s.push('"');
                    s.push_str(q);
                    s.push('"');
                }
                Tok::P(c) => s.push(*c),
                Tok::Para => {}
            }
        }
        if s.chars().count() > 120 {
            let cut: String = s.chars().take(117).collect();
            format!("{cut}...")
        } else {
            s
        }
    }
}

const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "prof", "gen", "col", "lt", "sgt", "no", "vol", "fig",
    "approx", "inc", "ltd", "co",
];

/// Cuts tokens into sentences.
pub(super) fn sentences(toks: &[Tok]) -> Vec<Sent> {
    let mut out = Vec::new();
    let mut cur: Vec<Tok> = Vec::new();
    let flush = |cur: &mut Vec<Tok>, out: &mut Vec<Sent>, end: char| {
        if cur.iter().any(|t| matches!(t, Tok::W(_) | Tok::Q(_))) {
            out.push(Sent {
                toks: std::mem::take(cur),
                end,
            });
        } else {
            cur.clear();
        }
    };
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        match t {
            Tok::Para => {
                if cur.last() != Some(&Tok::P(':')) {
                    flush(&mut cur, &mut out, '\n');
                }
            }
            Tok::P(c @ ('.' | '!' | '?')) => {
                let prev = match cur.last() {
                    Some(Tok::W(w)) => Some(w.as_str()),
                    _ => None,
                };
                let next_is_lower_word = matches!(toks.get(i + 1), Some(Tok::W(w)) if w.len() == 1);
                let abbreviation = *c == '.'
                    && prev.is_some_and(|w| {
                        (w.chars().count() == 1 && w.chars().all(char::is_alphabetic))
                            || ABBREVIATIONS.contains(&w)
                    })
                    && (prev != Some("no")
                        || matches!(toks.get(i + 1), Some(Tok::W(w)) if w.chars().all(|c| c.is_ascii_digit())));
                if abbreviation || (next_is_lower_word && *c == '.' && prev.is_some_and(|w| w.len() == 1)) {
                    cur.push(t.clone());
                } else {
                    // an ellipsis ("I'm going to choose... Choice 2") does not end a sentence
                    if *c == '.' && toks.get(i + 1) == Some(&Tok::P('.')) {
                        while toks.get(i + 1) == Some(&Tok::P('.')) {
                            i += 1;
                        }
                        i += 1;
                        continue;
                    }
                    let mut end = *c;
                    while let Some(Tok::P(d @ ('.' | '!' | '?'))) = toks.get(i + 1) {
                        if *d == '?' {
                            end = '?';
                        }
                        i += 1;
                    }
                    flush(&mut cur, &mut out, end);
                }
            }
            _ => cur.push(t.clone()),
        }
        i += 1;
    }
    flush(&mut cur, &mut out, '.');
    out
}

#[cfg(test)]
mod tests {
    use crate::gold::Decision;
    use crate::gold::testing::{CB, COPA_LAMP, d};

    #[test]
    fn a_quoted_premise_does_not_lend_its_words_to_the_verdict() {
        let r = "  Yes, the premise \"Yes? Nathan?\" does entail the hypothesis \"the call was \
                 long-distance.\" Here's why:";
        assert_eq!(d("CB", CB, r), Some(Decision::Yes));
    }

    #[test]
    fn an_ellipsis_before_the_choice_does_not_hide_it() {
        let r = "A fun little puzzle!  After analyzing the premise, I'm going to choose... Choice 2: \
                 They jumped on the bed.";
        assert_eq!(d("COPA", COPA_LAMP, r), Some(Decision::Choice2));
    }
}
