//! Gold-label scoring of free-text answers to SuperGLUE-style prompts.
//!
//! The published study asked LLaMA models a yes/no or choice-1/2 question per prompt and
//! added "Explain your choice.", so every answer is prose ("No, the premise does not entail
//! the hypothesis. …", "I would choose Choice 2: …"). This module reads that prose, decides
//! which [`Decision`] it makes, and compares it with the gold label.
//!
//! # Approach
//!
//! 1. **Lexing.** The answer is lower-cased, curly quotes are straightened, common Latin
//!    diacritics folded, contractions expanded (`doesn't` → `does not`), markdown emphasis
//!    dropped, and a run of two or more spaces (a newline in the original answer) marks a
//!    paragraph break. Text inside balanced double quotes (or short single-quoted spans)
//!    becomes one *quoted* token, so a quoted premise such as `"No weapons were found."` can
//!    neither split a sentence nor lend its `no` to the verdict.
//! 2. **Sentences.** Tokens are cut into sentences at `.`, `!`, `?` (not after `Mr.`, `e.g.`,
//!    not at an ellipsis) and at paragraph breaks, except that a sentence ending in `:` runs on
//!    into the next paragraph (`I would choose:  Choice 2: …`).
//! 3. **Verdicts.** Every sentence is searched for the verdict forms of its task (the rule
//!    names are those of [`Extraction::rule`]):
//!    * `leading_yes_no`, all yes/no tasks: `Yes, …` / `No.` at the start of a sentence, also
//!      after a short introduction (`According to the passage, no, …`); `True` / `False` for
//!      BoolQ, `Not necessarily` for CB and RTE;
//!    * `answer_is`, all yes/no tasks: `the answer is: No`, `my answer is that yes`,
//!      `I would say no`, `I would choose "Yes, they can" as the answer`;
//!    * `entailment_statement`, CB and RTE: the premise *entails* / *implies* the hypothesis,
//!      the hypothesis *follows from*, *can be inferred / concluded / deduced from*, *is
//!      entailed by* the premise (yes unless negated), *is not supported by* (a no only),
//!      *contradicts* (a no), `there is no entailment`, `do not entail each other`; the
//!      subject must be the premise or hypothesis itself (also `the hypothesis that …`,
//!      `this statement … from the premise`), not an imagined one (`a more accurate
//!      hypothesis`);
//!    * `meaning_statement`, WiC: the word *has the same (basic) meaning* / *different
//!      meanings* / *a different sense*, *its meaning is the same*, *the meanings differ*;
//!      the clause must be about the word, not about the two sentences, and definitions
//!      (`polysemy`, `in other contexts`) are skipped;
//!    * `reference_statement`, WSC: `"<pronoun>" refers to <noun phrase>` (or `is
//!      referring to`, `the pronoun … refers back to`); a yes when the noun phrase is the
//!      candidate the prompt asks about, a no when it is another noun phrase of the passage,
//!      a no when the pronoun *does not refer to* the candidate;
//!    * `choice_selected`, COPA: a choice (`Choice 2`, `option (1)`, `the first choice`,
//!      `(b)`, or the choice's own text taken from the prompt, quoted or not) named after a
//!      selecting word in its clause (`I would choose`, `the correct answer is`, `the most
//!      likely cause is`, …), after a cause/effect frame (`the cause of X is Choice 2`), or
//!      followed by one (`Choice 1 is the more plausible cause`); a choice that the clause
//!      rejects, compares (`on the other hand`, `in contrast`) or analyses (`the effect of
//!      Choice 1`) is not selected;
//!    * `only_choice_named` / `other_choice_rejected`, COPA (weak): the answer names one
//!      choice and never the other, or names the other only to reject it;
//!    * `question_restated`, BoolQ (weak): one of the first two sentences, or a conclusion
//!      (`Therefore, …`), restates the question as a statement (all its content words in its
//!      order, one may be missing from six on, no qualifier such as `varies`, `rather than`,
//!      `some`), and its polarity against the question's gives yes or no.
//!
//!    A verdict's polarity comes from the negators (`not`, `no`, `never`, `cannot`, `fails`,
//!    `unlikely`, …) in the auxiliaries right before its verb (`does not necessarily
//!    follow`), flipped by a negated frame (`we cannot conclude that the premise entails …`).
//!    A clause that is conditional, a purpose or a question (`if`, `whether`, `to make the
//!    premise entail`, `in order for`, a `?`) gives no verdict, and one that hedges (`may`,
//!    `might`, `could`, `possibly`, `it is possible that`, `one interpretation is that`, …)
//!    gives only a hedged one.
//! 4. **Resolution.** Firm verdicts anywhere in the answer must all agree; the decision is
//!    theirs and the rule is the first one's. Disagreement (`Yes, … Therefore, the premise
//!    does not entail the hypothesis`, or WSC `Yes, "she" refers to "Andrea"` asked about
//!    Susan) scores null as a self-contradiction (`contradiction`). Weak verdicts count only
//!    when there is no firm one and must agree as well; hedged ones never decide: an answer
//!    with only those scores null (`hedge`), one with none scores null (`no_verdict`). The
//!    module never guesses: no verdict means no score.

use serde_json::{Value, json};

/// The decision a prompt asks the model to make.
///
/// BoolQ, CB, RTE, WiC and WSC ask a yes/no question; COPA asks for choice 1 or choice 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The answer says yes (BoolQ true, CB/RTE entailment, same meaning, does refer).
    Yes,
    /// The answer says no (BoolQ false, CB contradiction or neutral, RTE not entailment, …).
    No,
    /// The answer picks COPA's "Choice 1" (gold label 0).
    Choice1,
    /// The answer picks COPA's "Choice 2" (gold label 1).
    Choice2,
}

impl Decision {
    /// The decision's name as written in `details` and in the hand-check fixture:
    /// `yes`, `no`, `choice1` or `choice2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Yes => "yes",
            Decision::No => "no",
            Decision::Choice1 => "choice1",
            Decision::Choice2 => "choice2",
        }
    }

    /// Parses a name written by [`Decision::as_str`] (case-insensitive).
    pub fn from_name(name: &str) -> Option<Decision> {
        match name.trim().to_ascii_lowercase().as_str() {
            "yes" => Some(Decision::Yes),
            "no" => Some(Decision::No),
            "choice1" => Some(Decision::Choice1),
            "choice2" => Some(Decision::Choice2),
            _ => None,
        }
    }
}

/// The task of a prompt, parsed from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Task {
    BoolQ,
    Cb,
    Copa,
    Rte,
    Wic,
    Wsc,
}

impl Task {
    fn parse(name: &str) -> Option<Task> {
        match name.trim().to_ascii_lowercase().as_str() {
            "boolq" => Some(Task::BoolQ),
            "cb" => Some(Task::Cb),
            "copa" => Some(Task::Copa),
            "rte" => Some(Task::Rte),
            "wic" => Some(Task::Wic),
            "wsc" => Some(Task::Wsc),
            _ => None,
        }
    }
}

/// The decision that a gold label stands for, or `None` for an unknown task or label.
///
/// `task` is one of `BoolQ`, `CB`, `COPA`, `RTE`, `WiC`, `WSC` (case-insensitive). `label`
/// is the label written as text, surrounding JSON quotes allowed:
/// * BoolQ, WiC, WSC: `true` = [`Decision::Yes`], `false` = [`Decision::No`] (also `1`/`0`);
/// * CB: `entailment` = Yes, `contradiction` and `neutral` = No (also SuperGLUE's `0`, `1`,
///   `2`);
/// * RTE: `entailment` = Yes, `not_entailment` = No (also `0`, `1`);
/// * COPA: `0` = [`Decision::Choice1`], `1` = [`Decision::Choice2`].
pub fn gold_decision(task: &str, label: &str) -> Option<Decision> {
    let label = label.trim().trim_matches('"').trim().to_ascii_lowercase();
    match Task::parse(task)? {
        Task::BoolQ | Task::Wic | Task::Wsc => match label.as_str() {
            "true" | "1" => Some(Decision::Yes),
            "false" | "0" => Some(Decision::No),
            _ => None,
        },
        Task::Cb => match label.as_str() {
            "entailment" | "0" => Some(Decision::Yes),
            "contradiction" | "neutral" | "1" | "2" => Some(Decision::No),
            _ => None,
        },
        Task::Rte => match label.as_str() {
            "entailment" | "0" => Some(Decision::Yes),
            "not_entailment" | "1" => Some(Decision::No),
            _ => None,
        },
        Task::Copa => match label.as_str() {
            "0" => Some(Decision::Choice1),
            "1" => Some(Decision::Choice2),
            _ => None,
        },
    }
}

/// The decision read from one answer, with the rule that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Extraction {
    /// The decision the answer makes, or `None` when it makes no clear one.
    pub decision: Option<Decision>,
    /// The name of the extraction rule that fired: `leading_yes_no`, `answer_is`,
    /// `entailment_statement`, `meaning_statement`, `reference_statement`, `choice_selected`,
    /// `only_choice_named`, `other_choice_rejected` or `question_restated` (see the module
    /// documentation); for a null, why none decided: `contradiction`, `hedge`,
    /// `no_verdict`, `empty` or `unknown_task`.
    pub rule: &'static str,
    /// A short human-readable account: for a decision, the sentence it came from; for a
    /// null, why the answer has no clear decision.
    pub reason: String,
}

/// The gold-label score of one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldScore {
    /// 1.0 when the extracted decision equals the gold one, 0.0 when it differs, `None` when
    /// the answer makes no clear decision or the task or label is unknown (never a guess).
    pub score: Option<f64>,
    /// Why the score is what it is (the extraction's reason).
    pub reason: String,
    /// `{"decision": "yes"|"no"|"choice1"|"choice2"|null, "gold": … , "rule": …}`.
    pub details: Value,
}

/// Scores one answer against its gold label.
///
/// `gold_label` is written as text (see [`gold_decision`]). The score is 1.0 when the
/// decision [`extract`]ed from `response` equals the gold decision, 0.0 when it differs and
/// `None` when the answer makes no clear decision or the task or label is unknown.
pub fn score(task: &str, prompt: &str, response: &str, gold_label: &str) -> GoldScore {
    let gold = gold_decision(task, gold_label);
    let ex = extract(task, prompt, response);
    let details = json!({
        "decision": ex.decision.map(Decision::as_str),
        "gold": gold.map(Decision::as_str),
        "rule": ex.rule,
    });
    let (score, reason) = match (gold, ex.decision) {
        (None, _) => (
            None,
            format!("unknown gold label {gold_label:?} for task {task:?}"),
        ),
        (Some(_), None) => (None, ex.reason),
        (Some(g), Some(d)) => (Some(if g == d { 1.0 } else { 0.0 }), ex.reason),
    };
    GoldScore {
        score,
        reason,
        details,
    }
}

/// Reads the decision that `response` makes on the question of `prompt`.
///
/// `task` names the SuperGLUE task (`BoolQ`, `CB`, `COPA`, `RTE`, `WiC`, `WSC`); the prompt
/// supplies COPA's choice texts, WSC's pronoun and candidate, and BoolQ's question. See the
/// module documentation for the rules. A decision is returned only when the answer states
/// one and never contradicts it; otherwise `decision` is `None` and `reason` says why.
pub fn extract(task: &str, prompt: &str, response: &str) -> Extraction {
    let Some(task) = Task::parse(task) else {
        return null("unknown_task", format!("unknown task {task:?}"));
    };
    let ctx = Context::parse(task, prompt);
    let sents = sentences(&group_quotes(lex(response)));
    if sents.is_empty() {
        return null("empty", "the response is empty".to_string());
    }
    let mut found = Vec::new();
    for (i, s) in sents.iter().enumerate() {
        verdicts(task, &ctx, s, i, &mut found);
    }
    if task == Task::Copa {
        copa_fallback(&ctx, &sents, &mut found);
    }
    if task == Task::BoolQ {
        boolq_echo(&ctx, &sents, &mut found);
    }
    resolve(&sents, &found)
}

fn null(rule: &'static str, reason: String) -> Extraction {
    Extraction {
        decision: None,
        rule,
        reason,
    }
}

// ---------------------------------------------------------------------------------------
// Lexing
// ---------------------------------------------------------------------------------------

/// A token of an answer.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A lower-case word (contractions expanded).
    W(String),
    /// A punctuation character.
    P(char),
    /// A quoted span: its words, lower-case, joined by single spaces.
    Q(String),
    /// A paragraph break (two or more spaces in a row).
    Para,
}

fn normalize_char(c: char) -> char {
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
fn lex(text: &str) -> Vec<Tok> {
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
fn group_quotes(toks: Vec<Tok>) -> Vec<Tok> {
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
struct Sent {
    toks: Vec<Tok>,
    /// The punctuation that ended it (`.`, `!`, `?`), or `\n` for a paragraph break.
    end: char,
}

impl Sent {
    fn word(&self, i: usize) -> &str {
        match self.toks.get(i) {
            Some(Tok::W(w)) => w,
            _ => "",
        }
    }

    fn is(&self, i: usize, w: &str) -> bool {
        self.word(i) == w
    }

    fn punct(&self, i: usize) -> Option<char> {
        match self.toks.get(i) {
            Some(Tok::P(c)) => Some(*c),
            _ => None,
        }
    }

    /// The sentence as readable text, shortened, for reasons.
    fn text(&self) -> String {
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
fn sentences(toks: &[Tok]) -> Vec<Sent> {
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

// ---------------------------------------------------------------------------------------
// Prompt context
// ---------------------------------------------------------------------------------------

/// What the prompt tells about the expected answer.
#[derive(Debug, Default)]
struct Context {
    /// COPA: the words of "Choice 1: …" and "Choice 2: …".
    choices: [Vec<String>; 2],
    /// WSC: the pronoun asked about.
    pronoun: String,
    /// WSC: the candidate referent asked about (its words).
    candidate: Vec<String>,
    /// WSC: the passage's words; BoolQ: the question's words.
    text: Vec<String>,
    /// WiC: the word asked about.
    word: String,
    /// CB/RTE: premise and hypothesis, as word strings (for quoted mentions).
    premise: String,
    hypothesis: String,
}

fn plain_words(s: &str) -> Vec<String> {
    lex(s)
        .into_iter()
        .filter_map(|t| match t {
            Tok::W(w) => Some(w),
            _ => None,
        })
        .collect()
}

/// The text after `marker` up to the first of `ends` (all matched lower-case).
fn section<'a>(lower: &'a str, marker: &str, ends: &[&str]) -> Option<&'a str> {
    let start = lower.find(marker)? + marker.len();
    let rest = &lower[start..];
    let end = ends
        .iter()
        .filter_map(|e| rest.find(e))
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].trim())
}

impl Context {
    fn parse(task: Task, prompt: &str) -> Context {
        let lower: String = prompt
            .chars()
            .flat_map(char::to_lowercase)
            .map(normalize_char)
            .collect();
        let mut ctx = Context::default();
        match task {
            Task::Copa => {
                if let Some(c1) = section(&lower, "choice 1:", &["choice 2:"]) {
                    ctx.choices[0] = plain_words(c1);
                }
                if let Some(c2) = section(&lower, "choice 2:", &["explain your choice"]) {
                    ctx.choices[1] = plain_words(c2);
                }
            }
            Task::Wsc => {
                if let Some(pos) = lower.rfind("in the sentence above, does") {
                    ctx.text = plain_words(&lower[..pos]);
                    let q = &lower[pos..];
                    let quoted: Vec<&str> = q.split('"').skip(1).step_by(2).collect();
                    if quoted.len() >= 2 {
                        ctx.pronoun = plain_words(quoted[0]).join(" ");
                        ctx.candidate = plain_words(quoted[1]);
                    }
                } else {
                    ctx.text = plain_words(&lower);
                }
            }
            Task::BoolQ => {
                if let Some(q) = section(&lower, "question:", &["explain your choice"]) {
                    ctx.text = plain_words(q);
                }
            }
            Task::Cb | Task::Rte => {
                if let Some(p) = section(&lower, "premise:", &["hypothesis:"]) {
                    ctx.premise = plain_words(p).join(" ");
                }
                if let Some(h) = section(&lower, "hypothesis:", &["does the "]) {
                    ctx.hypothesis = plain_words(h).join(" ");
                }
            }
            Task::Wic => {
                if let Some(w) = lower.split('"').nth(1) {
                    ctx.word = plain_words(w).join(" ");
                }
            }
        }
        ctx
    }
}

// ---------------------------------------------------------------------------------------
// Verdicts
// ---------------------------------------------------------------------------------------

/// How much a verdict counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strength {
    /// An explicit verdict; all firm verdicts must agree.
    Firm,
    /// An indirect verdict, used only when there is no firm one.
    Weak,
    /// A hedged verdict; never decides.
    Hedge,
}

/// A verdict found in one sentence.
#[derive(Debug, Clone)]
struct Found {
    decision: Decision,
    rule: &'static str,
    sent: usize,
    strength: Strength,
    /// The word that carried the verdict.
    cue: String,
}

/// A verdict of one sentence before it is placed: decision, strength, cue word.
type Verdict = (Decision, Strength, String);

/// Negators of a verb group or a frame.
const NEGATORS: &[&str] = &[
    "not", "no", "never", "neither", "nor", "fails", "fail", "failed", "unable", "unlikely", "hardly",
    "cannot",
];

/// Words that hedge a verb group or a frame.
const HEDGES: &[&str] = &[
    "may",
    "might",
    "could",
    "would",
    "should",
    "must",
    "possibly",
    "perhaps",
    "potentially",
    "partially",
    "partly",
    "somewhat",
    "seem",
    "seems",
    "seemed",
    "appear",
    "appears",
    "arguably",
    "indirectly",
    "implicitly",
    "loosely",
];

/// Auxiliaries and adverbs that may stand between a subject and its verdict word.
const GROUP_WORDS: &[&str] = &[
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "does",
    "do",
    "did",
    "has",
    "have",
    "had",
    "can",
    "will",
    "shall",
    "to",
    "necessarily",
    "directly",
    "logically",
    "actually",
    "really",
    "entirely",
    "fully",
    "completely",
    "strictly",
    "clearly",
    "explicitly",
    "simply",
    "automatically",
    "just",
    "also",
    "indeed",
    "therefore",
    "thus",
    "hence",
    "still",
    "truly",
    "strongly",
    "reasonably",
    "certainly",
    "definitely",
    "then",
    "always",
    "most",
    "more",
    "likely",
    "probably",
    "only",
    "reliably",
    "validly",
    "accurately",
    "necessary",
    "immediately",
    "obviously",
    "evidently",
    "plainly",
    "therefore",
    "thereby",
    "in",
    "fact",
    "correctly",
    "specifically",
    "exactly",
    "quite",
    "precisely",
    "totally",
    "very",
    "essentially",
    "basically",
    "generally",
    "typically",
    "primarily",
    "mainly",
];

/// Words that end a clause (for frames and subjects).
const CLAUSE_BREAKS: &[&str] = &[
    "but",
    "however",
    "although",
    "though",
    "while",
    "whereas",
    "because",
    "since",
    "so",
    "yet",
    "that",
    "which",
    "who",
    "and",
    "as",
    "therefore",
    "thus",
    "hence",
    "instead",
    "rather",
    "where",
    "when",
    "whether",
    "if",
    "or",
    "than",
];

fn is_clause_break(s: &Sent, i: usize) -> bool {
    match s.toks.get(i) {
        Some(Tok::P(c)) => matches!(c, ',' | ';' | ':' | '(' | ')' | '-'),
        Some(Tok::W(w)) => CLAUSE_BREAKS.contains(&w.as_str()),
        _ => false,
    }
}

/// Start of the clause that ends just before `k`.
fn clause_start(s: &Sent, k: usize) -> usize {
    (0..k).rev().find(|&i| is_clause_break(s, i)).map_or(0, |i| i + 1)
}

fn any_word(s: &Sent, a: usize, b: usize, set: &[&str]) -> bool {
    (a..b.min(s.toks.len())).any(|i| set.contains(&s.word(i)))
}

fn count_negators(s: &Sent, a: usize, b: usize) -> usize {
    (a..b.min(s.toks.len()))
        .filter(|&i| {
            let w = s.word(i);
            NEGATORS.contains(&w)
                && !(w == "not" && matches!(s.word(i + 1), "only" | "just" | "merely"))
                && !(w == "no" && matches!(s.word(i + 1), "doubt" | "longer"))
        })
        .count()
}

/// The auxiliaries, adverbs and negators right before a verdict word.
#[derive(Debug, Clone, Copy)]
struct Group {
    /// Index of the first word of the group (the verdict word itself when empty).
    start: usize,
    negated: bool,
    hedged: bool,
    /// The group opens with `to`: a purpose clause ("information to be supported").
    infinitive: bool,
}

fn verb_group(s: &Sent, k: usize, extra: &[&str]) -> Group {
    let mut i = k;
    let mut neg = 0;
    let mut hedged = false;
    while i > 0 {
        let w = s.word(i - 1);
        if NEGATORS.contains(&w) {
            if !(w == "not" && matches!(s.word(i), "only" | "just" | "merely")) {
                neg += 1;
            }
        } else if HEDGES.contains(&w) {
            hedged = true;
        } else if !(GROUP_WORDS.contains(&w) || extra.contains(&w)) {
            break;
        }
        i -= 1;
    }
    Group {
        start: i,
        negated: neg % 2 == 1,
        hedged,
        infinitive: i < k && s.is(i, "to"),
    }
}

/// What the words before a verdict's subject do to it.
#[derive(Debug, Clone, Copy, Default)]
struct Frame {
    /// A condition, purpose or question: no verdict at all.
    conditional: bool,
    /// `it is not true that …`, `I don't think …`: flips the verdict.
    negated: bool,
    /// `it is possible that …`, `one interpretation is that …`: hedges it.
    hedged: bool,
}

const FRAME_HEDGES: &[&str] = &[
    "possible",
    "possibly",
    "may",
    "might",
    "could",
    "unclear",
    "uncertain",
    "interpretation",
    "perhaps",
    "seems",
    "appears",
    "ambiguous",
    "difficult",
    "hard",
    "assume",
    "tempting",
];

/// Verbs after `to` that make a purpose or requirement clause.
const PURPOSE_VERBS: &[&str] = &[
    "make",
    "show",
    "entail",
    "follow",
    "be",
    "infer",
    "determine",
    "prove",
    "establish",
    "conclude",
    "support",
    "answer",
    "decide",
    "say",
    "see",
    "ensure",
    "demonstrate",
    "draw",
    "disprove",
    "refute",
    "confirm",
    "assess",
    "evaluate",
    "strengthen",
    "link",
    "connect",
    "get",
    "fully",
    "truly",
    "have",
    "claim",
    "reach",
];

const THINK_VERBS: &[&str] = &[
    "think", "believe", "say", "mean", "means", "conclude", "assume", "claim", "argue", "feel",
];

fn frame(s: &Sent, subj: usize) -> Frame {
    let mut f = Frame::default();
    if s.end == '?' {
        f.conditional = true;
        return f;
    }
    // the sentence-level clause before the subject
    let region = (0..subj)
        .rev()
        .find(|&i| {
            s.punct(i) == Some(';')
                || matches!(s.word(i), "but" | "however" | "although" | "whereas" | "while")
        })
        .map_or(0, |i| i + 1);
    for i in region..subj {
        let w = s.word(i);
        if matches!(
            w,
            "if" | "whether" | "unless" | "order" | "suppose" | "assuming" | "imagine" | "when"
        ) || (w == "to" && PURPOSE_VERBS.contains(&s.word(i + 1)))
        {
            f.conditional = true;
        }
    }
    if s.is(0, "for") || s.is(0, "to") {
        f.conditional = true;
    }
    // "while it's possible to interpret "it" as referring to …", "it may look like it has …"
    let clause = (region..subj)
        .rev()
        .find(|&i| is_clause_break(s, i) || s.is(i, "like"))
        .map_or(region, |i| i + 1);
    let clause = if clause >= subj {
        (region..subj.saturating_sub(1))
            .rev()
            .find(|&i| is_clause_break(s, i))
            .map_or(region, |i| i + 1)
    } else {
        clause
    };
    if any_word(
        s,
        clause,
        subj,
        &[
            "possible",
            "possibly",
            "may",
            "might",
            "could",
            "perhaps",
            "unclear",
            "uncertain",
            "tempting",
            "seems",
            "appears",
            "interpreted",
        ],
    ) || (clause..subj).any(|i| s.is(i, "interpretation") && !s.is(i.saturating_sub(2), "given"))
    {
        f.hedged = true;
    }
    // `that`-clause or think-verb frames
    let mut j = subj;
    while j > 0 && (s.punct(j - 1) == Some(',') || s.is(j - 1, "that")) {
        j -= 1;
    }
    let framed = j < subj && s.is(j, "that") || j > 0 && THINK_VERBS.contains(&s.word(j - 1));
    if framed {
        // the frame runs back over nested `that`-clauses to the previous clause break
        let start = (region..j)
            .rev()
            .find(|&i| {
                matches!(s.punct(i), Some(',' | ';' | ':'))
                    || matches!(
                        s.word(i),
                        "so" | "therefore"
                            | "thus"
                            | "hence"
                            | "and"
                            | "because"
                            | "since"
                            | "which"
                            | "but"
                            | "however"
                            | "although"
                            | "while"
                            | "whereas"
                    )
            })
            .map_or(region, |i| i + 1);
        if count_negators(s, start, j) % 2 == 1 {
            f.negated = true;
        }
        if any_word(s, start, j, FRAME_HEDGES) {
            f.hedged = true;
        }
    }
    f
}

fn place(d: Decision, group: Group, fr: Frame, flip: (Decision, Decision), cue: &str) -> Option<Verdict> {
    if fr.conditional || group.infinitive {
        return None;
    }
    let negated = group.negated != fr.negated;
    let d = if negated {
        if d == flip.0 { flip.1 } else { flip.0 }
    } else {
        d
    };
    let st = if group.hedged || fr.hedged {
        Strength::Hedge
    } else {
        Strength::Firm
    };
    Some((d, st, cue.to_string()))
}

fn verdicts(task: Task, ctx: &Context, s: &Sent, i: usize, found: &mut Vec<Found>) {
    let mut push = |(decision, strength, cue): Verdict, rule: &'static str| {
        found.push(Found {
            decision,
            rule,
            sent: i,
            strength,
            cue,
        });
    };
    if task != Task::Copa {
        if let Some(v) = leading_yes_no(task, s) {
            push(v, "leading_yes_no");
        }
        if let Some(v) = answer_is(task, s) {
            push(v, "answer_is");
        }
    }
    match task {
        Task::Cb | Task::Rte => {
            for v in relation_verdicts(ctx, s) {
                push(v, "entailment_statement");
            }
        }
        Task::Wic => {
            for v in meaning_verdicts(ctx, s) {
                push(v, "meaning_statement");
            }
        }
        Task::Wsc => {
            for v in reference_verdicts(ctx, s) {
                push(v, "reference_statement");
            }
        }
        Task::Copa => {
            for v in choice_verdicts(ctx, s) {
                push(v, "choice_selected");
            }
        }
        Task::BoolQ => {}
    }
}

fn yes_no_word(task: Task, w: &str) -> Option<Decision> {
    match w {
        "yes" => Some(Decision::Yes),
        "no" => Some(Decision::No),
        "true" if task == Task::BoolQ => Some(Decision::Yes),
        "false" if task == Task::BoolQ => Some(Decision::No),
        _ => None,
    }
}

/// `Yes, …`, `No.`, `True` (BoolQ), `Not necessarily` (CB, RTE) at the start of a sentence.
fn leading_yes_no(task: Task, s: &Sent) -> Option<Verdict> {
    if matches!(task, Task::Cb | Task::Rte) && s.is(0, "not") && s.is(1, "necessarily") {
        return Some((Decision::No, Strength::Firm, "not necessarily".into()));
    }
    // "Yes, …" or, after a short introduction, "According to the passage, no, …"
    let k = if yes_no_word(task, s.word(0)).is_some() {
        0
    } else {
        let intro = matches!(
            s.word(0),
            "according"
                | "based"
                | "so"
                | "therefore"
                | "thus"
                | "well"
                | "overall"
                | "simply"
                | "in"
                | "to"
                | "then"
                | "hence"
                | "ultimately"
                | "clearly"
                | "obviously"
        );
        let comma = (1..s.toks.len().min(12)).find(|&i| s.punct(i) == Some(','))?;
        if !intro || any_word(s, 0, comma, &["if", "whether", "not"]) {
            return None;
        }
        comma + 1
    };
    let d = yes_no_word(task, s.word(k))?;
    match s.toks.get(k + 1) {
        None | Some(Tok::P(',' | '.' | '!' | ':' | ';' | '-')) => {}
        _ => return None,
    }
    // "Yes and no", "No, and yes": both.
    if s.is(k + 2, "and") && yes_no_word(task, s.word(k + 3)).is_some() {
        return None;
    }
    // BoolQ "No, the passage does not explicitly state that …" is about the passage, not an
    // answer to the question
    let n = s.toks.len();
    let silence = task == Task::BoolQ
        && d == Decision::No
        && (k + 1..n).any(|j| {
            NEGATORS.contains(&s.word(j))
                && (j + 1..(j + 4).min(n)).any(|m| SILENT_VERBS.iter().any(|v| s.word(m).starts_with(v)))
        });
    let st = if silence { Strength::Hedge } else { Strength::Firm };
    Some((d, st, s.word(k).to_string()))
}

/// `the answer is: No`, `answer: yes`, `my answer is that yes, …`, `I would say no`,
/// `I would choose "Yes, they can" as the correct answer`.
fn answer_is(task: Task, s: &Sent) -> Option<Verdict> {
    let frame_words = [
        "answer", "choose", "chose", "select", "say", "conclude", "respond", "choice",
    ];
    for k in 1..s.toks.len() {
        let d = match &s.toks[k] {
            // the word must end its clause
            Tok::W(w) if matches!(s.toks.get(k + 1), None | Some(Tok::P(_))) => yes_no_word(task, w),
            Tok::Q(q) if q.split(' ').count() <= 6 => {
                yes_no_word(task, q.split(' ').next().unwrap_or_default())
            }
            _ => None,
        };
        let Some(d) = d else {
            continue;
        };
        let mut j = k;
        while j > 0 && matches!(s.punct(j - 1), Some(':' | ',' | '-')) {
            j -= 1;
        }
        let lead: Vec<&str> = s.toks[..j]
            .iter()
            .filter_map(|t| match t {
                Tok::W(w) => Some(w.as_str()),
                _ => None,
            })
            .collect();
        let introduced = lead.last().is_some_and(|w| {
            matches!(
                *w,
                "is" | "answer" | "say" | "that" | "as" | "choose" | "chose" | "select" | "be"
            )
        });
        let framed = lead[lead.len().saturating_sub(8)..]
            .iter()
            .any(|w| frame_words.contains(w))
            || matches!(s.toks[k], Tok::Q(_)) && any_word(s, k + 1, s.toks.len(), &["answer"]);
        if !introduced
            || !framed
            || lead
                .iter()
                .any(|w| matches!(*w, "if" | "whether" | "not" | "either" | "or"))
        {
            continue;
        }
        let cue = match &s.toks[k] {
            Tok::Q(q) => format!("answer \"{q}\""),
            _ => format!("answer {}", s.word(k)),
        };
        return Some((d, Strength::Firm, cue));
    }
    None
}

// ----- CB / RTE -------------------------------------------------------------------------

/// Which proposition a token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Premise,
    Hypothesis,
}

fn role_of(t: &Tok, ctx: &Context) -> Option<Role> {
    match t {
        Tok::W(w) if w == "premise" || w == "premises" => Some(Role::Premise),
        Tok::W(w) if w == "hypothesis" => Some(Role::Hypothesis),
        Tok::Q(q) if q.len() > 8 && !ctx.hypothesis.is_empty() && ctx.hypothesis.contains(q.as_str()) => {
            Some(Role::Hypothesis)
        }
        Tok::Q(q) if q.len() > 8 && !ctx.premise.is_empty() && ctx.premise.contains(q.as_str()) => {
            Some(Role::Premise)
        }
        _ => None,
    }
}

/// Modifiers that make "hypothesis" a different, imagined one.
const OTHER_PROPOSITION: &[&str] = &[
    "a",
    "an",
    "another",
    "new",
    "alternative",
    "revised",
    "corrected",
    "better",
    "accurate",
    "modified",
    "different",
    "possible",
    "plausible",
    "more",
    "rephrased",
    "reworded",
    "stronger",
    "weaker",
    "second",
    "such",
    "any",
    "original",
];

/// Whether the role word at `i` names an imagined proposition (`a more accurate hypothesis`),
/// or one that follows such a proposition in the sentence (`… this hypothesis follows`).
fn other_proposition(s: &Sent, i: usize) -> bool {
    let modified = (i.saturating_sub(3)..i).any(|j| OTHER_PROPOSITION.contains(&s.word(j)));
    let imagined_before = (1..i)
        .any(|j| matches!(s.word(j), "hypothesis" | "premise") && OTHER_PROPOSITION.contains(&s.word(j - 1)));
    modified || imagined_before && s.is(i.saturating_sub(1), "this")
}

/// The proposition named right before `g` (the start of a verb group), skipping a quoted
/// restatement, commas and sentence adverbs (`the hypothesis "…" , however ,`), or opening a
/// `that`-clause that runs up to `g` (`the hypothesis that X was Y does not follow`). With
/// `statement_ok`, `this statement` counts as the hypothesis. Returns the role and the index
/// where the subject starts (its determiner included).
fn subject_role(ctx: &Context, s: &Sent, g: usize, statement_ok: bool) -> Option<(Role, usize)> {
    let (r, mut start) = near_subject(ctx, s, g, statement_ok).or_else(|| that_subject(ctx, s, g))?;
    while start > 0 && matches!(s.word(start - 1), "the" | "this" | "given" | "stated" | "above") {
        start -= 1;
    }
    Some((r, start))
}

fn near_subject(ctx: &Context, s: &Sent, g: usize, statement_ok: bool) -> Option<(Role, usize)> {
    let mut j = g;
    let mut steps = 0;
    while j > 0 && steps < 5 {
        let t = &s.toks[j - 1];
        let role = role_of(t, ctx).or_else(|| {
            (statement_ok
                && s.is(j - 1, "statement")
                && matches!(s.word(j.saturating_sub(2)), "this" | "the"))
            .then_some(Role::Hypothesis)
        });
        if let Some(r) = role {
            // "the premise "…"" — find the role word itself
            let mut start = j - 1;
            if matches!(t, Tok::Q(_)) && start > 0 && role_of(&s.toks[start - 1], ctx) == Some(r) {
                start -= 1;
            }
            if other_proposition(s, start) {
                return None;
            }
            // "the premise and hypothesis"
            if start >= 2 && s.is(start - 1, "and") {
                start -= 2;
            }
            return Some((r, start));
        }
        match t {
            Tok::P(',') => {}
            Tok::Q(_) => {}
            Tok::W(w)
                if matches!(
                    w.as_str(),
                    "however"
                        | "therefore"
                        | "thus"
                        | "so"
                        | "then"
                        | "also"
                        | "itself"
                        | "alone"
                        | "here"
                        | "given"
                        | "provided"
                        | "as"
                        | "stated"
                ) => {}
            _ => return None,
        }
        j -= 1;
        steps += 1;
    }
    None
}

/// `the hypothesis that X was Y` right before `g`, with no clause break inside.
fn that_subject(ctx: &Context, s: &Sent, g: usize) -> Option<(Role, usize)> {
    let lo = g.saturating_sub(20);
    for i in (lo..g.saturating_sub(2)).rev() {
        let broken = (i + 2..g).any(|m| {
            matches!(s.punct(m), Some(',' | ';' | ':' | '('))
                || matches!(
                    s.word(m),
                    "but"
                        | "however"
                        | "because"
                        | "since"
                        | "which"
                        | "while"
                        | "although"
                        | "whereas"
                        | "that"
                        | "so"
                )
        });
        if broken {
            return None;
        }
        if let Some(r) = role_of(&s.toks[i], ctx)
            && s.is(i + 1, "that")
            && !other_proposition(s, i)
        {
            return Some((r, i));
        }
    }
    None
}

/// The proposition named right after `k`: `entails the (given) hypothesis`.
fn object_role(ctx: &Context, s: &Sent, k: usize) -> Option<Role> {
    for j in k + 1..(k + 6).min(s.toks.len()) {
        if let Some(r) = role_of(&s.toks[j], ctx) {
            if other_proposition(s, j) {
                return None;
            }
            return Some(r);
        }
        if !matches!(
            s.word(j),
            "the"
                | "this"
                | "given"
                | "that"
                | "necessarily"
                | "directly"
                | "logically"
                | "fully"
                | "completely"
                | "entirely"
                | "strictly"
                | "explicitly"
                | "automatically"
                | "stated"
                | "provided"
                | "by"
                | "from"
                | "of"
        ) {
            return None;
        }
    }
    None
}

/// Verdicts on "does the premise entail / does the hypothesis follow".
fn relation_verdicts(ctx: &Context, s: &Sent) -> Vec<Verdict> {
    let mut out = Vec::new();
    for k in 0..s.toks.len() {
        let w = s.word(k);
        let (active, passive, follow, contradict, positive_ok) = (
            matches!(
                w,
                "entail"
                    | "entails"
                    | "imply"
                    | "implies"
                    | "support"
                    | "supports"
                    | "prove"
                    | "proves"
                    | "guarantee"
                    | "guarantees"
            ),
            matches!(
                w,
                "entailed"
                    | "inferred"
                    | "deduced"
                    | "derived"
                    | "concluded"
                    | "implied"
                    | "supported"
                    | "proven"
                    | "proved"
                    | "guaranteed"
            ),
            matches!(w, "follow" | "follows"),
            matches!(w, "contradicts" | "contradict" | "contradicted"),
            !matches!(
                w,
                "support"
                    | "supports"
                    | "supported"
                    | "prove"
                    | "proves"
                    | "proven"
                    | "proved"
                    | "guarantee"
                    | "guarantees"
                    | "guaranteed"
            ),
        );
        if !(active || passive || follow || contradict) {
            continue;
        }
        let g = verb_group(s, k, &[]);
        let object = object_role(ctx, s, k);
        // "The premise and hypothesis are related but do not entail each other."
        if w.starts_with("entail") && s.is(k + 1, "each") && s.is(k + 2, "other") && g.negated {
            let both = (0..k).any(|i| s.is(i, "premise")) && (0..k).any(|i| s.is(i, "hypothesis"));
            let fr = frame(s, 0);
            if both && !fr.conditional && !g.hedged && !fr.hedged {
                out.push((Decision::No, Strength::Firm, "do not entail each other".into()));
            }
            continue;
        }
        let statement_ok = follow && object == Some(Role::Premise);
        // "Based on the premise, it does not entail the hypothesis."
        let it_premise = active
            && g.start > 0
            && s.is(g.start - 1, "it")
            && (0..g.start - 1).any(|i| role_of(&s.toks[i], ctx) == Some(Role::Premise))
            && !(0..g.start - 1).any(|i| role_of(&s.toks[i], ctx) == Some(Role::Hypothesis));
        let Some((subject, subj_start)) = subject_role(ctx, s, g.start, statement_ok)
            .or_else(|| it_premise.then(|| (Role::Premise, g.start - 1)))
        else {
            continue;
        };
        let roles_ok = if active {
            subject == Role::Premise && object == Some(Role::Hypothesis)
                || w.starts_with("entail") && s.is(k + 1, "each") && s.is(k + 2, "other")
        } else if passive || follow {
            subject == Role::Hypothesis && object != Some(Role::Hypothesis)
                || w == "entailed" && s.is(k + 1, "by") && s.is(k + 2, "each")
        } else {
            object.is_some_and(|o| o != subject) || s.is(k + 1, "each")
        };
        if !roles_ok {
            continue;
        }
        let fr = frame(s, subj_start);
        let Some(v) = place(Decision::Yes, g, fr, (Decision::Yes, Decision::No), w) else {
            continue;
        };
        if contradict {
            // "contradicts the hypothesis" is a no; "does not contradict" decides nothing
            if v.0 == Decision::Yes {
                out.push((Decision::No, v.1, v.2));
            }
            continue;
        }
        // "supports the hypothesis" is weaker than entailment: only its negation counts
        if v.0 == Decision::Yes && !positive_ok {
            continue;
        }
        // "entails the opposite of the hypothesis"
        if v.0 == Decision::Yes && any_word(s, k + 1, k + 4, &["opposite", "negation", "contrary"]) {
            out.push((Decision::No, v.1, v.2));
            continue;
        }
        out.push(v);
    }
    // "there is no entailment", "this is not a case of entailment"
    for k in 0..s.toks.len() {
        if !s.is(k, "entailment") {
            continue;
        }
        let mut j = k;
        while j > 0
            && matches!(
                s.word(j - 1),
                "a" | "an"
                    | "clear"
                    | "direct"
                    | "logical"
                    | "strong"
                    | "case"
                    | "of"
                    | "example"
                    | "valid"
                    | "true"
            )
        {
            j -= 1;
        }
        let no_entailment = j >= 2
            && (s.is(j - 1, "no") && matches!(s.word(j - 2), "is" | "there")
                || s.is(j - 1, "not") && s.is(j - 2, "is"));
        let d = if no_entailment {
            Decision::No
        } else if j >= 2 && s.is(j - 1, "is") && matches!(s.word(j - 2), "there" | "this" | "it") {
            Decision::Yes
        } else {
            continue;
        };
        let fr = frame(s, j.saturating_sub(2));
        if fr.conditional {
            continue;
        }
        let d = if fr.negated {
            if d == Decision::Yes {
                Decision::No
            } else {
                Decision::Yes
            }
        } else {
            d
        };
        let st = if fr.hedged {
            Strength::Hedge
        } else {
            Strength::Firm
        };
        out.push((d, st, "entailment".into()));
    }
    out
}

// ----- WiC --------------------------------------------------------------------------------

const MEANING_NOUNS: &[&str] = &[
    "meaning",
    "meanings",
    "sense",
    "senses",
    "definition",
    "definitions",
    "interpretation",
    "interpretations",
];

/// Modifiers allowed between `same`/`different` and the meaning noun.
const MEANING_MODIFIERS: &[&str] = &[
    "basic",
    "general",
    "core",
    "root",
    "underlying",
    "fundamental",
    "overall",
    "literal",
    "essential",
    "exact",
    "primary",
    "precise",
    "semantic",
    "lexical",
    "two",
    "very",
    "specific",
    "distinct",
    "separate",
    "entirely",
    "completely",
    "totally",
    "quite",
];

/// Verbs and fillers between the word and `the same meaning`.
const MEANING_GROUP: &[&str] = &[
    "the",
    "a",
    "an",
    "two",
    "have",
    "has",
    "had",
    "carry",
    "carries",
    "share",
    "shares",
    "convey",
    "conveys",
    "hold",
    "holds",
    "retain",
    "retains",
    "keep",
    "keeps",
    "with",
    "in",
    "used",
    "use",
    "uses",
    "mean",
    "means",
    "express",
    "expresses",
    "refer",
    "refers",
    "take",
    "takes",
    "on",
    "bear",
    "bears",
    "are",
    "is",
    "remains",
    "remain",
    "stays",
    "stay",
    "of",
    "both",
    "exactly",
    "same",
    "each",
    "sentence",
    "sentences",
    "its",
    "their",
];

fn mentions_word(ctx: &Context, s: &Sent, a: usize, b: usize) -> bool {
    (a..b.min(s.toks.len())).any(|i| match &s.toks[i] {
        Tok::Q(q) | Tok::W(q) => {
            (!ctx.word.is_empty() && (*q == ctx.word || q.starts_with(&ctx.word)))
                || matches!(q.as_str(), "word" | "words" | "term" | "it")
        }
        _ => false,
    })
}

/// Verdicts on "does the word have the same meaning".
fn meaning_verdicts(ctx: &Context, s: &Sent) -> Vec<Verdict> {
    let mut out = Vec::new();
    let n = s.toks.len();
    // definitions ("polysemy, where a word can have distinct meanings") and other contexts
    if any_word(
        s,
        0,
        n,
        &[
            "polysemy",
            "polysemous",
            "homophones",
            "homonyms",
            "homographs",
            "homophone",
            "homonym",
            "homograph",
        ],
    ) || (0..n).any(|i| {
        s.is(i, "other")
            && matches!(
                s.word(i + 1),
                "contexts" | "context" | "situations" | "sentences" | "uses"
            )
    }) {
        return out;
    }
    for k in 0..n {
        let w = s.word(k);
        let same = matches!(w, "same" | "identical");
        let different = matches!(w, "different" | "distinct" | "differ" | "differs");
        if !same && !different {
            continue;
        }
        let base = if same { Decision::Yes } else { Decision::No };
        // (a) "the same (basic) meaning", "different senses", "differ in meaning"
        let mut j = k + 1;
        while j < n && MEANING_MODIFIERS.contains(&s.word(j)) {
            j += 1;
        }
        if matches!(w, "differ" | "differs") && s.is(j, "in") {
            j += 1;
        }
        if j < n && MEANING_NOUNS.contains(&s.word(j)) {
            let mut g = verb_group(s, k, MEANING_GROUP);
            // "can have different meanings (depending on the context)" is about the word in
            // general
            if any_word(s, g.start, k, &["can"]) || any_word(s, j, n, &["depending", "depend", "depends"]) {
                g.hedged = true;
            }
            let start = clause_start(s, g.start);
            let region = (0..g.start)
                .rev()
                .find(|&i| {
                    s.punct(i) == Some(';')
                        || matches!(
                            s.word(i),
                            "however" | "although" | "though" | "while" | "whereas" | "despite"
                        )
                })
                .map_or(0, |i| i + 1);
            // the clause must be about the word, not about the sentences
            let about_sentences = any_word(
                s,
                start,
                g.start,
                &["sentences", "sentence", "statements", "contexts"],
            ) && !mentions_word(ctx, s, start, k);
            let subject_ok = !about_sentences && mentions_word(ctx, s, region, k);
            if subject_ok {
                let fr = frame(s, start);
                if let Some(v) = place(base, g, fr, (Decision::Yes, Decision::No), w) {
                    out.push(v);
                }
            }
            continue;
        }
        // (b) "the meaning of "x" is the same", "the meanings are different", "the meanings differ"
        let g = verb_group(
            s,
            k,
            &[
                "the", "is", "are", "remains", "remain", "stays", "stay", "was", "were", "exactly",
                "slightly", "subtly", "a", "bit", "little",
            ],
        );
        let mut m = g.start;
        // "the meanings of "x" in both sentences"
        let lookback = m.saturating_sub(7);
        let noun = (lookback..m).rev().find(|&i| MEANING_NOUNS.contains(&s.word(i)));
        if let Some(noun_at) = noun {
            let between_ok = (noun_at + 1..m).all(|i| match &s.toks[i] {
                Tok::Q(_) => true,
                Tok::W(x) => {
                    matches!(
                        x.as_str(),
                        "of" | "the" | "word" | "in" | "both" | "two" | "sentences" | "each" | "contexts"
                    ) || *x == ctx.word
                }
                _ => false,
            });
            let verb_between = any_word(
                s,
                g.start,
                k,
                &["is", "are", "remains", "remain", "stays", "stay", "was", "were"],
            ) || matches!(w, "differ" | "differs");
            if between_ok && verb_between && !s.is(noun_at.saturating_sub(1), "same") {
                m = noun_at;
                let fr = frame(s, clause_start(s, m));
                if let Some(v) = place(base, g, fr, (Decision::Yes, Decision::No), w) {
                    out.push(v);
                }
            }
        }
    }
    out
}

// ----- WSC --------------------------------------------------------------------------------

const DETERMINERS: &[&str] = &["the", "a", "an", "this", "that", "these", "those"];

const NOT_REFERENTS: &[&str] = &[
    "it",
    "he",
    "she",
    "they",
    "him",
    "her",
    "them",
    "his",
    "its",
    "their",
    "someone",
    "somebody",
    "something",
    "person",
    "people",
    "subject",
    "object",
    "noun",
    "pronoun",
    "antecedent",
    "male",
    "female",
    "individual",
    "one",
    "thing",
    "entity",
    "same",
    "either",
    "both",
    "previous",
    "previously",
    "mentioned",
    "whom",
    "who",
    "what",
    "speaker",
    "narrator",
    "sentence",
    "clause",
    "word",
    "action",
    "group",
    "plural",
    "singular",
];

/// Words that end a named noun phrase.
const NP_STOPS: &[&str] = &[
    "to",
    "being",
    "compared",
    "than",
    "with",
    "at",
    "by",
    "for",
    "from",
    "not",
    "in",
    "because",
    "or",
    "rather",
    "as",
    "here",
    "there",
    "is",
    "was",
    "are",
    "were",
    "and",
    "who",
    "which",
    "that",
    "since",
    "when",
    "while",
    "but",
    "so",
    "on",
    "whom",
    "whose",
    "instead",
    "throughout",
    "earlier",
    "mentioned",
    "previously",
];

fn content_words(words: &[String]) -> Vec<String> {
    words
        .iter()
        .filter(|w| !DETERMINERS.contains(&w.as_str()))
        .map(|w| w.trim_end_matches("'s").to_string())
        .collect()
}

/// Whether a named referent is the candidate (one's words contain the other's).
fn same_referent(named: &[String], candidate: &[String]) -> bool {
    let head: Vec<String> = named
        .iter()
        .take_while(|w| !NP_STOPS.contains(&w.as_str()) && w.as_str() != "of")
        .cloned()
        .collect();
    let n = content_words(&head);
    let c = content_words(candidate);
    if n.is_empty() || c.is_empty() {
        return false;
    }
    c.iter().all(|w| n.contains(w)) || n.iter().all(|w| c.contains(w))
}

/// The noun phrase starting at `j` (a quoted span, or words up to a stop word) and the index
/// just after it.
fn noun_phrase_at(s: &Sent, mut j: usize) -> (Vec<String>, usize) {
    if matches!(s.word(j), "the" | "a" | "an") && matches!(s.toks.get(j + 1), Some(Tok::Q(_))) {
        j += 1;
    }
    match s.toks.get(j) {
        Some(Tok::Q(q)) => (q.split(' ').map(str::to_string).collect(), j + 1),
        _ => {
            let mut v = Vec::new();
            while let Some(Tok::W(x)) = s.toks.get(j) {
                if NP_STOPS.contains(&x.as_str()) || v.len() >= 6 {
                    break;
                }
                v.push(x.clone());
                j += 1;
            }
            (v, j)
        }
    }
}

/// Verdicts on "does <pronoun> refer to <candidate>".
fn reference_verdicts(ctx: &Context, s: &Sent) -> Vec<Verdict> {
    let mut out = Vec::new();
    if ctx.pronoun.is_empty() || ctx.candidate.is_empty() {
        return out;
    }
    let n = s.toks.len();
    for k in 0..n {
        let w = s.word(k);
        if !matches!(w, "refers" | "refer" | "referring" | "referred") {
            continue;
        }
        let mut g = verb_group(s, k, &["used", "most", "likely", "here", "clearly", "correctly"]);
        // "does not necessarily refer to X" leaves the question open
        if any_word(s, g.start, k, &["necessarily"]) {
            g.hedged = true;
        }
        // the pronoun (quoted or not) or "the pronoun" shortly before the verb group,
        // allowing "in this sentence" between
        let mut subj = None;
        let mut j = g.start;
        while j > 0 && g.start - j < 7 {
            j -= 1;
            match &s.toks[j] {
                Tok::Q(q) | Tok::W(q) if *q == ctx.pronoun || q == "pronoun" => {
                    subj = Some(j);
                    break;
                }
                // '"his" is a possessive pronoun, and in this context, it refers to …'
                Tok::W(x)
                    if x == "it"
                        && j + 1 == g.start
                        && (0..j).any(|i| matches!(&s.toks[i], Tok::Q(q) if *q == ctx.pronoun)) =>
                {
                    subj = Some(j);
                    break;
                }
                // '"he" is a pronoun that refers to Paul' (but not '"they" is not a pronoun
                // that refers to …')
                Tok::W(x)
                    if matches!(x.as_str(), "that" | "which")
                        && s.is(j.saturating_sub(1), "pronoun")
                        && count_negators(s, j.saturating_sub(5), j) == 0 => {}
                Tok::W(x) if CLAUSE_BREAKS.contains(&x.as_str()) && x != "as" || x == "to" => {
                    break;
                }
                _ => {}
            }
        }
        let Some(subj) = subj else {
            continue;
        };
        // "refers to X", "refers back to X"
        let mut j = k + 1;
        while matches!(
            s.word(j),
            "back" | "directly" | "specifically" | "clearly" | "only"
        ) {
            j += 1;
        }
        if !s.is(j, "to") {
            continue;
        }
        j += 1;
        let (named, np_end) = noun_phrase_at(s, j);
        // "refers to the person who dropped the ice cream, which is Tommy": a generic noun
        // phrase is named by the `, which is …` or `namely …` that follows it
        let generic = content_words(&named)
            .first()
            .is_some_and(|w| NOT_REFERENTS.contains(&w.as_str()));
        let (named, after_np) = if generic {
            (np_end..s.toks.len().min(np_end + 20))
                .find(|&i| {
                    s.punct(i) == Some(',') && s.is(i + 1, "which") && s.is(i + 2, "is") || s.is(i, "namely")
                })
                .map(|i| if s.is(i, "namely") { i + 1 } else { i + 3 })
                .map(|i| noun_phrase_at(s, i))
                .filter(|(np, _)| !np.is_empty())
                .map_or((named, np_end), |found| found)
        } else {
            (named, np_end)
        };
        if named.is_empty() {
            continue;
        }
        let fr = frame(s, subj);
        let Some((polarity, mut st, cue)) = place(Decision::Yes, g, fr, (Decision::Yes, Decision::No), w)
        else {
            continue;
        };
        // "refers to either X or Y", "both": hedge
        if named.first().is_some_and(|x| x == "either" || x == "both")
            || s.is(after_np, "or")
            || s.is(after_np + 1, "or") && s.punct(after_np) == Some(',')
        {
            st = Strength::Hedge;
        }
        let matches_candidate = same_referent(&named, &ctx.candidate);
        let content = content_words(&named);
        let real_np = !content.is_empty()
            && !content.iter().any(|x| NOT_REFERENTS.contains(&x.as_str()))
            && content
                .iter()
                .take_while(|x| !NP_STOPS.contains(&x.as_str()) && x.as_str() != "of")
                .any(|x| {
                    ctx.text
                        .iter()
                        .any(|t| t.trim_end_matches("'s") == x || x.len() >= 4 && t.starts_with(x.as_str()))
                });
        let d = match (polarity, matches_candidate) {
            (Decision::Yes, true) => Decision::Yes,
            (Decision::Yes, false) if real_np => Decision::No,
            (Decision::No, true) => Decision::No,
            _ => continue,
        };
        out.push((d, st, format!("{cue} to {}", named.join(" "))));
    }
    out
}

// ----- COPA -------------------------------------------------------------------------------

/// Words that select the choice named after them in the same clause.
const SELECTORS: &[&str] = &[
    "choose",
    "chose",
    "choosing",
    "select",
    "selected",
    "selecting",
    "pick",
    "picked",
    "opt",
    "answer",
    "correct",
    "likely",
    "plausible",
    "probable",
    "best",
    "right",
    "logical",
    "reasonable",
    "appropriate",
    "sensible",
    "suitable",
    "prefer",
    "preferred",
    "say",
    "argue",
    "recommend",
];

/// Adjectives that select a choice named before them: `Choice 2 is the correct answer`.
const POST_SELECTORS: &[&str] = &[
    "correct",
    "likely",
    "plausible",
    "best",
    "right",
    "probable",
    "logical",
    "reasonable",
    "sensible",
    "appropriate",
    "suitable",
    "effective",
];

/// Nouns of a cause/effect frame: `the cause of … is Choice 2`.
const CAUSE_NOUNS: &[&str] = &[
    "cause",
    "effect",
    "result",
    "outcome",
    "consequence",
    "explanation",
    "reason",
    "answer",
    "choice",
    "option",
];

/// Words in a mention's clause that show it is analysed or compared, not selected.
const ANALYSIS: &[&str] = &[
    "choices", "options", "both", "each", "either", "analyze", "analyse", "evaluate", "consider", "compare",
    "let's", "let", "neither", "between", "about", "first", "second",
];

/// Discourse markers anywhere before a mention that show it is the rejected alternative.
const DISCOURSE: &[&str] = &[
    "other",
    "contrast",
    "additionally",
    "alternatively",
    "unlike",
    "whereas",
    "comparison",
    "compared",
    "if",
    "whether",
    "assuming",
    "suppose",
    "unless",
];

/// Words that reject a choice.
const REJECTORS: &[&str] = &[
    "less",
    "unlikely",
    "incorrect",
    "wrong",
    "not",
    "implausible",
    "impossible",
    "least",
    "no",
    "never",
    "rule",
    "eliminate",
    "can",
    "cannot",
    "fails",
];

const PRONOUNS: &[&str] = &["it", "he", "she", "they", "i", "we", "you", "his", "her", "their"];

/// Whether `words` occur at `k` (one word may differ in its ending: `rude`/`rudely`).
fn words_at(s: &Sent, k: usize, words: &[String]) -> bool {
    if words.is_empty() || k + words.len() > s.toks.len() {
        return false;
    }
    let mut misses = 0;
    for (o, w) in words.iter().enumerate() {
        let got = s.word(k + o);
        if got == w {
            continue;
        }
        let common = got.chars().zip(w.chars()).take_while(|(a, b)| a == b).count();
        if common >= 3 && words.len() >= 4 {
            misses += 1;
        } else {
            return false;
        }
    }
    misses <= 1
}

/// A named choice: first token, choice (0 or 1), span length.
type Mention = (usize, usize, usize);

/// Where a sentence names a choice; a label and the text right after it (`Choice 2: The
/// ring went down the drain`) form one mention.
fn choice_mentions(ctx: &Context, s: &Sent) -> Vec<Mention> {
    let mut raw: Vec<Mention> = Vec::new();
    let n = s.toks.len();
    let mut k = 0;
    while k < n {
        let w = s.word(k);
        // "choice 1", "option 2", "choice (1)", "choice #2", "alternative 1"
        if matches!(w, "choice" | "option" | "alternative" | "answer") {
            let mut j = k + 1;
            while matches!(s.punct(j), Some('(' | '#')) {
                j += 1;
            }
            if matches!(s.word(j), "1" | "2") {
                let c = usize::from(s.is(j, "2"));
                let mut end = j + 1;
                if s.punct(end) == Some(')') {
                    end += 1;
                }
                raw.push((k, c, end - k));
                k = end;
                continue;
            }
        }
        // "the first choice", "the second option"
        if matches!(w, "first" | "second") && matches!(s.word(k + 1), "choice" | "option" | "alternative") {
            raw.push((k, usize::from(w == "second"), 2));
            k += 2;
            continue;
        }
        // "(1)", "(2)", "(a)", "(b)"
        if s.punct(k) == Some('(')
            && matches!(s.word(k + 1), "1" | "2" | "a" | "b")
            && s.punct(k + 2) == Some(')')
        {
            raw.push((k, usize::from(matches!(s.word(k + 1), "2" | "b")), 3));
            k += 3;
            continue;
        }
        // the choice's own text or label, quoted: "Choice 1: She completed the puzzle."
        if let Tok::Q(q) = &s.toks[k] {
            let label = ["choice 1", "choice 2", "option 1", "option 2"]
                .iter()
                .position(|l| q == l || q.starts_with(&format!("{l} ")))
                .map(|i| i % 2);
            let text = ctx.choices.iter().position(|words| {
                let t = words.join(" ");
                !words.is_empty() && (*q == t || q.ends_with(&format!(" {t}")))
            });
            if let Some(c) = label.or(text)
                && text.is_none_or(|t| t == c)
            {
                raw.push((k, c, 1));
                k += 1;
                continue;
            }
        }
        let hit = ctx.choices.iter().position(|words| words_at(s, k, words));
        if let Some(c) = hit {
            raw.push((k, c, ctx.choices[c].len()));
            k += ctx.choices[c].len();
            continue;
        }
        // the text with its leading pronoun replaced: "It was stale" -> "the bread was stale"
        let hit = ctx.choices.iter().position(|words| {
            words.len() >= 3
                && PRONOUNS.contains(&words[0].as_str())
                && k > 0
                && matches!(s.toks[k - 1], Tok::W(_))
                && !s.is(k - 1, "not")
                && words_at(s, k, &words[1..])
        });
        if let Some(c) = hit {
            raw.push((k, c, ctx.choices[c].len() - 1));
            k += ctx.choices[c].len() - 1;
            continue;
        }
        k += 1;
    }
    // merge a label with the text that follows it
    let mut out: Vec<Mention> = Vec::new();
    for m in raw {
        if let Some(last) = out.last_mut() {
            let gap = m.0.saturating_sub(last.0 + last.2);
            let joined = (last.0 + last.2..m.0).all(|i| matches!(s.punct(i), Some(':' | '(' | '-')));
            if gap <= 2 && joined && last.1 == m.1 {
                last.2 = m.0 + m.2 - last.0;
                continue;
            }
        }
        out.push(m);
    }
    out
}

fn choice_decision(c: usize) -> Decision {
    if c == 0 {
        Decision::Choice1
    } else {
        Decision::Choice2
    }
}

/// Start of the COPA clause that ends before `k` (colons do not end it).
fn copa_clause_start(s: &Sent, k: usize) -> usize {
    (0..k)
        .rev()
        .find(|&i| {
            matches!(s.punct(i), Some(',' | ';'))
                || matches!(
                    s.word(i),
                    "whereas"
                        | "while"
                        | "but"
                        | "however"
                        | "although"
                        | "though"
                        | "unlike"
                        | "rather"
                        | "than"
                        | "instead"
                        | "because"
                        | "since"
                )
        })
        .map_or(0, |i| i + 1)
}

/// `is the (most) likely cause`, `would be the best answer`, `is correct` after a mention.
fn post_selected(s: &Sent, after: usize) -> bool {
    let mut j = after;
    while matches!(s.punct(j), Some(')' | '"' | ':')) {
        j += 1;
    }
    if !matches!(s.word(j), "is" | "would" | "seems" | "appears" | "was") {
        return false;
    }
    for i in j + 1..(j + 7).min(s.toks.len()) {
        let w = s.word(i);
        if POST_SELECTORS.contains(&w) {
            // "more likely to happen after …" and "would likely be a response" describe, they
            // do not select
            return !matches!(
                s.word(i + 1),
                "to" | "than" | "be" | "have" | "lead" | "cause" | "result" | "make" | "occur"
            );
        }
        if !matches!(w, "be" | "the" | "a" | "more" | "most" | "and" | "clearly" | "to") {
            return false;
        }
    }
    false
}

/// Choices named after a selecting phrase, or followed by one.
fn choice_verdicts(ctx: &Context, s: &Sent) -> Vec<Verdict> {
    let mut out = Vec::new();
    if s.end == '?' {
        return out;
    }
    for (k, c, len) in choice_mentions(ctx, s) {
        let start = copa_clause_start(s, k);
        let after = k + len;
        let end = (after..s.toks.len())
            .find(|&i| {
                matches!(s.punct(i), Some(',' | ';'))
                    || matches!(
                        s.word(i),
                        "because" | "as" | "since" | "whereas" | "while" | "but"
                    )
            })
            .unwrap_or(s.toks.len());
        let selected_before = any_word(s, start, k, SELECTORS)
            || (s.is(k.saturating_sub(1), "with") && s.is(k.saturating_sub(2), "go"));
        // "the cause of X is Choice 2", "the effect would be: Choice 1", "is that <text>"
        let mut b = k;
        while b > start && (s.punct(b - 1) == Some(':') || s.is(b - 1, "that")) {
            b -= 1;
        }
        let cause_frame =
            b > start && matches!(s.word(b - 1), "is" | "be" | "was") && any_word(s, start, b, CAUSE_NOUNS);
        // "the most likely effect of the two choices is: Choice 2" selects despite "choices"
        let analysis = (!(cause_frame && selected_before) && any_word(s, start, k, ANALYSIS))
            || any_word(s, start, k, &["follows", "follow"])
            || any_word(s, 0, k, DISCOURSE)
            || matches!(s.word(k.saturating_sub(1)), "of" | "for" | "about" | "with")
                && !s.is(k.saturating_sub(2), "go");
        let rejected = any_word(s, start.max(k.saturating_sub(4)), k, REJECTORS)
            || any_word(s, after, end, REJECTORS)
            || any_word(s, after, end, &["possible", "may", "might", "could"]);
        let hedged = any_word(s, start, k, &["may", "might", "could", "possibly", "perhaps"]);
        if analysis || rejected {
            continue;
        }
        if selected_before || cause_frame || post_selected(s, after) {
            let st = if hedged { Strength::Hedge } else { Strength::Firm };
            out.push((choice_decision(c), st, format!("choice {}", c + 1)));
        }
    }
    out
}

/// A COPA answer that names only one of the two choices, or names the other one only to
/// reject it (`… is less likely`, `… does not explain`), and never rejects the first (weak).
fn copa_fallback(ctx: &Context, sents: &[Sent], found: &mut Vec<Found>) {
    let mut kept = [false; 2];
    let mut rejected = [false; 2];
    let mut first_sent: [Option<usize>; 2] = [None, None];
    for (i, s) in sents.iter().enumerate() {
        for (k, c, len) in choice_mentions(ctx, s) {
            let start = copa_clause_start(s, k);
            let after = k + len;
            let clause_end = (after..s.toks.len())
                .find(|&m| matches!(s.punct(m), Some(',' | ';')) || s.is(m, "because"))
                .unwrap_or(s.toks.len());
            let near = (after + 8).min(s.toks.len());
            let rejecting = any_word(s, start.max(k.saturating_sub(4)), k, REJECTORS)
                || any_word(s, after, clause_end.max(near), REJECTORS);
            // a choice called possible is not ruled out
            let possible = any_word(s, start, clause_end, &["possible", "may", "might", "could"]);
            if rejecting && !possible || any_word(s, 0, k, &["if", "whether"]) {
                rejected[c] = true;
            } else {
                kept[c] = true;
                first_sent[c].get_or_insert(i);
            }
        }
    }
    for c in 0..2 {
        let other = 1 - c;
        if kept[c] && !rejected[c] && !kept[other] {
            found.push(Found {
                decision: choice_decision(c),
                rule: if rejected[other] {
                    "other_choice_rejected"
                } else {
                    "only_choice_named"
                },
                sent: first_sent[c].unwrap_or_default(),
                strength: Strength::Weak,
                cue: if rejected[other] {
                    "the choice not rejected".into()
                } else {
                    "the only choice named".into()
                },
            });
        }
    }
}

// ----- BoolQ ------------------------------------------------------------------------------

const STOPWORDS: &[&str] = &[
    "is", "are", "was", "were", "do", "does", "did", "the", "a", "an", "of", "in", "on", "to", "for", "and",
    "or", "be", "been", "can", "could", "will", "would", "has", "have", "had", "there", "it", "its", "at",
    "by", "with", "as", "from", "that", "this", "any", "same", "not", "no", "ever", "you", "your", "we",
    "they", "their",
];

fn stem(w: &str) -> &str {
    let w = w.trim_end_matches("'s");
    if w.len() > 4 {
        w.strip_suffix('s').unwrap_or(w)
    } else {
        w
    }
}

/// Words that make a restatement no verdict: the answer talks about the passage's silence,
/// hedges, or asks.
const SILENCE: &[&str] = &[
    "unclear",
    "uncertain",
    "whether",
    "if",
    "may",
    "might",
    "could",
    "possibly",
    "perhaps",
    "question",
    "asks",
    "asking",
    "depends",
    "depend",
    "debate",
    "ambiguous",
    "necessarily",
];

/// Word beginnings that, negated, mean the passage is silent: `does not mention / state …`,
/// `there is no confirmation / information / evidence …`.
const SILENT_VERBS: &[&str] = &[
    "mention",
    "state",
    "say",
    "specif",
    "provid",
    "indicat",
    "explicit",
    "clear",
    "confirm",
    "directly",
    "address",
    "enough",
    "sufficient",
    "information",
    "evidence",
    "definitive",
    "official",
    "direct",
    "specific",
];

/// Words that show a restatement describes, compares or qualifies instead of answering.
const NOT_AN_ANSWER: &[&str] = &[
    "varies",
    "vary",
    "depends",
    "related",
    "relate",
    "relates",
    "compares",
    "compared",
    "compare",
    "mentioned",
    "mentions",
    "includes",
    "include",
    "included",
    "different",
    "difference",
    "differences",
    "rather",
    "instead",
    "than",
    "classify",
    "determine",
    "nickname",
    "statement",
    "correct",
    "sentence",
    "choose",
    "chose",
    "similar",
    "unknown",
    "requirement",
    "requirements",
    "refer",
    "refers",
    "term",
    "name",
    "called",
    "option",
    "choice",
    "exactly",
    "technically",
    "partially",
    "partly",
    "sometimes",
    "often",
    "usually",
    "generally",
    "typically",
    "always",
    "never",
    "only",
    "some",
    "certain",
    "conditions",
    "limitations",
    "exceptions",
    "except",
    "unless",
    "however",
    "although",
    "case",
    "cases",
    "during",
    "context",
];

/// Words that open a yes/no question.
const QUESTION_OPENERS: &[&str] = &[
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "has", "have", "had",
    "should", "must", "may", "shall",
];

/// A sentence among the first two (or a conclusion) that restates the question as a
/// statement (weak): its polarity against the question's gives yes or no.
fn boolq_echo(ctx: &Context, sents: &[Sent], found: &mut Vec<Found>) {
    let q: Vec<&str> = ctx
        .text
        .iter()
        .map(String::as_str)
        .filter(|w| !STOPWORDS.contains(w))
        .map(stem)
        .collect();
    if q.len() < 3
        || !ctx
            .text
            .first()
            .is_some_and(|w| QUESTION_OPENERS.contains(&w.as_str()))
    {
        return;
    }
    let q_neg = count_negators_words(&ctx.text) % 2 == 1;
    let leading = sents
        .iter()
        .enumerate()
        .filter(|(_, s)| s.end != '!')
        .take(2)
        .map(|(i, _)| i);
    let conclusions = sents.iter().enumerate().filter_map(|(i, s)| {
        (matches!(s.word(0), "therefore" | "thus" | "hence" | "so" | "overall")
            || s.is(0, "in") && matches!(s.word(1), "conclusion" | "summary" | "short"))
        .then_some(i)
    });
    let mut verdicts: Vec<(usize, Decision)> = Vec::new();
    for i in leading.chain(conclusions) {
        if verdicts.iter().any(|v| v.0 == i) {
            continue;
        }
        // quoted words count as the answer's own ("I would choose: "each state has …"")
        let s = &sents[i];
        let mut toks: Vec<Tok> = Vec::with_capacity(s.toks.len());
        for t in &s.toks {
            match t {
                Tok::Q(q) => toks.extend(q.split([' ', '-']).map(|w| Tok::W(w.to_string()))),
                // "sgian-dubh" answers a question about "sgian dubh"
                Tok::W(w) if w.contains('-') => {
                    toks.extend(w.split('-').map(|p| Tok::W(p.to_string())));
                }
                // "the United Kingdom" answers a question about "the uk"
                Tok::W(w) if w == "kingdom" && toks.last() == Some(&Tok::W("united".into())) => {
                    toks.pop();
                    toks.push(Tok::W("uk".into()));
                }
                other => toks.push(other.clone()),
            }
        }
        let flat = Sent { toks, end: s.end };
        if flat.end == '?' {
            continue;
        }
        let positions: Vec<usize> = (0..flat.toks.len())
            .filter(|&j| q.contains(&stem(flat.word(j))))
            .collect();
        let hit = q
            .iter()
            .filter(|w| positions.iter().any(|&j| stem(flat.word(j)) == **w))
            .count();
        // all of the question's content words (one may be missing from six on), in the
        // question's order
        let needed = if q.len() <= 5 { q.len() } else { q.len() - 1 };
        let said: Vec<&str> = positions.iter().map(|&j| stem(flat.word(j))).collect();
        if hit < needed
            || common_subsequence(&q, &said) < needed
            || any_word(&flat, 0, flat.toks.len(), NOT_AN_ANSWER)
        {
            continue;
        }
        let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else {
            continue;
        };
        let n = flat.toks.len();
        let silent = (0..n).any(|j| {
            NEGATORS.contains(&flat.word(j))
                && (j + 1..(j + 4).min(n)).any(|m| SILENT_VERBS.iter().any(|v| flat.word(m).starts_with(v)))
        });
        // "the passage states that …" reports, "while …" concedes, "but …" qualifies
        let reported = (0..n).any(|j| {
            flat.is(j, "passage")
                && matches!(
                    flat.word(j + 1),
                    "states" | "mentions" | "says" | "describes" | "notes" | "suggests" | "implies"
                )
        });
        let concessive = any_word(
            &flat,
            0,
            first,
            &["while", "although", "though", "whereas", "despite"],
        );
        if silent || reported || concessive || any_word(&flat, 0, n, SILENCE) {
            continue;
        }
        let g = verb_group(&flat, first, &[]);
        let start = clause_start(&flat, g.start);
        // a negator outside the restated span (and its `that`-frame) makes the polarity
        // unclear
        let framed = start > 0 && flat.is(start - 1, "that");
        let before = if framed {
            0
        } else {
            count_negators(&flat, 0, start)
        };
        if before + count_negators(&flat, last + 1, n) > 0 {
            continue;
        }
        let neg = count_negators(&flat, start, last + 1) % 2 == 1;
        let fr = frame(&flat, start);
        // "it appears / seems that …" is how these answers state their verdict
        let hedged = fr.hedged
            && any_word(
                &flat,
                0,
                start,
                FRAME_HEDGES
                    .iter()
                    .filter(|w| !matches!(**w, "seems" | "appears"))
                    .copied()
                    .collect::<Vec<_>>()
                    .as_slice(),
            );
        if fr.conditional || hedged {
            continue;
        }
        let d = if (neg != fr.negated) == q_neg {
            Decision::Yes
        } else {
            Decision::No
        };
        verdicts.push((i, d));
    }
    for (i, d) in verdicts {
        found.push(Found {
            decision: d,
            rule: "question_restated",
            sent: i,
            strength: Strength::Weak,
            cue: "restated question".into(),
        });
    }
}

/// Length of the longest common subsequence of two word lists.
fn common_subsequence(a: &[&str], b: &[&str]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut diag = 0;
        for (j, y) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = if x == y { diag + 1 } else { up.max(row[j]) };
            diag = up;
        }
    }
    row[b.len()]
}

fn count_negators_words(words: &[String]) -> usize {
    words.iter().filter(|w| NEGATORS.contains(&w.as_str())).count()
}

// ---------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------

fn resolve(sents: &[Sent], found: &[Found]) -> Extraction {
    let describe = |f: &Found| {
        format!(
            "sentence {} says {} ({}, \"{}\"): {}",
            f.sent + 1,
            f.decision.as_str(),
            f.rule,
            f.cue,
            sents.get(f.sent).map(Sent::text).unwrap_or_default()
        )
    };
    for strength in [Strength::Firm, Strength::Weak] {
        let tier: Vec<&Found> = found.iter().filter(|f| f.strength == strength).collect();
        let Some(first) = tier.first() else {
            continue;
        };
        if let Some(other) = tier.iter().find(|f| f.decision != first.decision) {
            return null(
                "contradiction",
                format!(
                    "the answer contradicts itself: {}; but {}",
                    describe(first),
                    describe(other)
                ),
            );
        }
        return Extraction {
            decision: Some(first.decision),
            rule: first.rule,
            reason: describe(first),
        };
    }
    if let Some(h) = found.first() {
        return null("hedge", format!("the answer only hedges: {}", describe(h)));
    }
    null(
        "no_verdict",
        "no sentence states a decision on the question".to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CB: &str = "Premise: Ely looked stunned.\n\nHypothesis: Ely had considered him wanting to be \
                      free\n\nDoes the premise entail the hypothesis? Explain your choice.";
    const RTE: &str = "Premise: The German technology was employed to build Shanghai's existing maglev \
                       line, the first in the world to be used commercially.\n\nHypothesis: Maglev is \
                       commercially used.\n\nDoes the hypothesis follow from the premise? Explain your \
                       choice.";
    const WIC: &str = "Does the word \"wall\" have the same meaning in the following two sentences?\n\n\
                       Sentence 1: A wall of prejudice.\nSentence 2: The container's walls were blue.\n\n\
                       Explain your choice.";
    const WSC_CAT: &str = "The cat was lying by the mouse hole waiting for the mouse , but it was too \
                           cautious.\n\nIn the sentence above, does \"it\" refer to \"The cat\"? Explain \
                           your choice.";
    const WSC_SUSAN: &str = "As Andrea in the crop duster passed over Susan , she could see the landing \
                             strip.\n\nIn the sentence above, does \"she\" refer to \"Susan\"? Explain your \
                             choice.";
    const WSC_BOY: &str = "The man lifted the boy onto his shoulders.\n\nIn the sentence above, does \
                           \"his\" refer to \"The boy\"? Explain your choice.";
    const WSC_WORM: &str = "The fish ate the worm . It was tasty.\n\nIn the sentence above, does \"It\" \
                            refer to \"The worm\"? Explain your choice.";
    const COPA_RING: &str = "What is the effect of the following?\n\nPremise: The woman's ring slipped \
                             off in the shower.\n\nChoice 1: The woman polished the ring.\nChoice 2: The \
                             ring went down the drain.\n\nExplain your choice.";
    const COPA_RUNNER: &str = "What is the cause of the following?\n\nPremise: The runner wore shorts.\n\n\
                               Choice 1: The forecast predicted high temperatures.\nChoice 2: She \
                               planned to run along the beach.\n\nExplain your choice.";
    const COPA_JUICE: &str = "What is the effect of the following?\n\nPremise: The grape juice \
                              fermented.\n\nChoice 1: The juice turned to wine.\nChoice 2: The juice \
                              evaporated.\n\nExplain your choice.";
    const COPA_PUZZLE: &str = "What is the effect of the following?\n\nPremise: The girl found the \
                               missing puzzle piece.\n\nChoice 1: She completed the puzzle.\nChoice 2: \
                               She took apart the puzzle.\n\nExplain your choice.";
    const COPA_LAMP: &str = "What is the cause of the following?\n\nPremise: The children knocked over a \
                             lamp.\n\nChoice 1: They had a pillow fight.\nChoice 2: They jumped on the \
                             bed.\n\nExplain your choice.";
    const BOOLQ_JERSEY: &str = "Passage: Jersey pound -- The Jersey notes are not legal tender in the \
                                United Kingdom.\n\nQuestion: is jersey currency legal tender in the uk\n\n\
                                Explain your choice.";
    const BOOLQ_FALLEN: &str = "Passage: Fallen -- the sequel still could be made.\n\nQuestion: is the \
                                fallen movie going to have a sequel\n\nExplain your choice.";
    const BOOLQ_BUFFY: &str = "Passage: Buffy -- Joyce is unaware.\n\nQuestion: does buffy's mom know \
                               she's a slayer\n\nExplain your choice.";

    fn d(task: &str, prompt: &str, response: &str) -> Option<Decision> {
        extract(task, prompt, response).decision
    }

    #[test]
    fn a_negated_entailment_is_a_no() {
        let r = "No, the premise does not entail the hypothesis.  The premise states that Ely looked \
                 \"stunned,\" which suggests that she was surprised by his statement.";
        assert_eq!(d("CB", CB, r), Some(Decision::No));
    }

    #[test]
    fn a_stated_entailment_is_a_yes() {
        let r = "The premise does entail the hypothesis.  Here's why:  * The premise states that the \
                 speaker is \"not in my dotage yet\".";
        let ex = extract("CB", CB, r);
        assert_eq!(ex.decision, Some(Decision::Yes));
        assert_eq!(ex.rule, "entailment_statement");
    }

    #[test]
    fn a_quoted_premise_does_not_lend_its_words_to_the_verdict() {
        let r = "  Yes, the premise \"Yes? Nathan?\" does entail the hypothesis \"the call was \
                 long-distance.\" Here's why:";
        assert_eq!(d("CB", CB, r), Some(Decision::Yes));
    }

    #[test]
    fn a_hypothesis_that_does_not_necessarily_follow_is_a_no() {
        let r = "The hypothesis \"Maglev is commercially used\" does not necessarily follow from the \
                 premise \"The German technology was employed to build Shanghai's existing maglev line.\"";
        assert_eq!(d("RTE", RTE, r), Some(Decision::No));
    }

    #[test]
    fn cannot_be_inferred_is_a_no() {
        let r = "The hypothesis cannot be inferred from the premise, which only mentions German \
                 technology.";
        assert_eq!(d("RTE", RTE, r), Some(Decision::No));
    }

    #[test]
    fn a_purpose_clause_after_the_verdict_does_not_contradict_it() {
        let r = "No, the hypothesis does not follow from the premise.  The premise only mentions the \
                 technology.  To make the hypothesis follow from the premise, additional information \
                 would be needed.";
        assert_eq!(d("RTE", RTE, r), Some(Decision::No));
    }

    #[test]
    fn a_better_hypothesis_that_follows_is_not_the_one_asked_about() {
        let r = "No, the hypothesis does not follow from the premise.  A more accurate hypothesis that \
                 follows from the premise would be: \"Shanghai has a maglev line.\"";
        assert_eq!(d("RTE", RTE, r), Some(Decision::No));
    }

    #[test]
    fn a_framed_negation_flips_the_verdict() {
        let r = "The premise only describes her face. Therefore, we cannot conclude that the premise \
                 entails the hypothesis.";
        assert_eq!(d("CB", CB, r), Some(Decision::No));
    }

    #[test]
    fn an_answer_that_restates_the_question_before_answering_is_read_by_its_verdict() {
        let r = "A fascinating and unsettling premise!  Now, the question is whether the premise \
                 entails the hypothesis.  I would argue that the premise does not necessarily entail \
                 the hypothesis.";
        assert_eq!(d("CB", CB, r), Some(Decision::No));
    }

    #[test]
    fn a_yes_that_is_later_contradicted_is_null() {
        let r = "Yes, the premise entails the hypothesis.  The premise is about her face.  Therefore, \
                 the premise does not entail the hypothesis, and it is not a sufficient condition.";
        let ex = extract("CB", CB, r);
        assert_eq!(ex.decision, None);
        assert_eq!(ex.rule, "contradiction");
        assert!(ex.reason.contains("contradicts"));
    }

    #[test]
    fn not_entailing_each_other_is_a_no() {
        let r = "The premise and hypothesis are related but do not entail each other.";
        assert_eq!(d("CB", CB, r), Some(Decision::No));
    }

    #[test]
    fn a_hedged_entailment_is_null() {
        let r = "However, the premise may not entail the hypothesis in several ways.";
        let ex = extract("CB", CB, r);
        assert_eq!(ex.decision, None);
        assert_eq!(ex.rule, "hedge");
    }

    #[test]
    fn a_word_that_does_not_have_the_same_meaning_is_a_no() {
        let r = "No, the word \"wall\" does not have the same meaning in the two sentences.";
        assert_eq!(d("WiC", WIC, r), Some(Decision::No));
    }

    #[test]
    fn slightly_different_meanings_are_a_no() {
        let r = "In the two sentences, the word \"wall\" has slightly different meanings.  In Sentence \
                 1, \"A wall of prejudice,\" the word \"wall\" is used metaphorically.";
        assert_eq!(d("WiC", WIC, r), Some(Decision::No));
    }

    #[test]
    fn a_meaning_that_is_the_same_is_a_yes() {
        let r = "In both sentences, the meaning of the word \"wall\" is the same: a barrier.";
        assert_eq!(d("WiC", WIC, r), Some(Decision::Yes));
    }

    #[test]
    fn sentences_with_different_meanings_say_nothing_about_the_word() {
        let r = "The two sentences have different meanings.";
        assert_eq!(d("WiC", WIC, r), None);
    }

    #[test]
    fn different_meanings_in_other_contexts_do_not_contradict_the_answer() {
        let r = "Yes, the word \"wall\" has the same meaning in both sentences.  The word \"wall\" has \
                 different meanings in other contexts, such as geography.";
        assert_eq!(d("WiC", WIC, r), Some(Decision::Yes));
    }

    #[test]
    fn naming_another_referent_is_a_no() {
        let r = "In the sentence, \"it\" refers to \"the mouse\".  The reason is that the sentence is \
                 describing the mouse's behavior.";
        let ex = extract("WSC", WSC_CAT, r);
        assert_eq!(ex.decision, Some(Decision::No));
        assert_eq!(ex.rule, "reference_statement");
    }

    #[test]
    fn naming_the_candidate_is_a_yes() {
        let r = "The pronoun \"it\" is likely referring to the cat, which was lying by the mouse hole.";
        assert_eq!(d("WSC", WSC_CAT, r), Some(Decision::Yes));
    }

    #[test]
    fn a_pronoun_that_does_not_refer_to_the_candidate_is_a_no() {
        let r = "In this sentence, \"his\" does not refer to \"the boy\".   The pronoun \"his\" is a \
                 possessive pronoun.";
        assert_eq!(d("WSC", WSC_BOY, r), Some(Decision::No));
    }

    #[test]
    fn yes_with_another_referent_contradicts_itself() {
        let r = "Yes, \"she\" refers to \"Andrea\".   The sentence states \"As Andrea in the crop \
                 duster passed over Susan\".";
        let ex = extract("WSC", WSC_SUSAN, r);
        assert_eq!(ex.decision, None);
        assert_eq!(ex.rule, "contradiction");
    }

    #[test]
    fn a_generic_referent_is_named_by_the_which_clause_after_it() {
        let prompt = "When Tommy dropped his ice cream, Timmy giggled, so father gave him a sympathetic \
                      look.\n\nIn the sentence above, does \"him\" refer to \"Timmy\"? Explain your choice.";
        let r = "In the sentence, the pronoun \"him\" refers to \"Timmy\".   The reason is that \"him\" \
                 is used to refer to the person who dropped the ice cream, which is Tommy.";
        let ex = extract("WSC", prompt, r);
        assert_eq!(ex.decision, None);
        assert_eq!(ex.rule, "contradiction");
    }

    #[test]
    fn a_reference_to_either_noun_is_a_hedge() {
        let r = "A classic case of ambiguity!  In this sentence, \"It\" can actually refer to either \
                 \"The fish\" or \"The worm\".";
        assert_eq!(d("WSC", WSC_WORM, r), None);
    }

    #[test]
    fn a_choice_label_after_a_selector_is_that_choice() {
        let r = "  Based on the premise provided, I would choose Choice 2: The ring went down the \
                 drain.  The premise states that the woman's ring slipped off in the shower.";
        let ex = extract("COPA", COPA_RING, r);
        assert_eq!(ex.decision, Some(Decision::Choice2));
        assert_eq!(ex.rule, "choice_selected");
    }

    #[test]
    fn a_quoted_choice_text_counts_as_that_choice() {
        let r = "Based on the information provided, I would choose \"The forecast predicted high \
                 temperatures.\"  The reason is that the runner wore shorts.";
        assert_eq!(d("COPA", COPA_RUNNER, r), Some(Decision::Choice1));
    }

    #[test]
    fn a_rejected_alternative_does_not_contradict_the_choice() {
        let r = "The correct choice is: Choice 1: The juice turned to wine.  Fermentation converts \
                 sugar into alcohol.  The other option, Choice 2: The juice evaporated, is incorrect \
                 because evaporation is a physical process.";
        assert_eq!(d("COPA", COPA_JUICE, r), Some(Decision::Choice1));
    }

    #[test]
    fn an_ellipsis_before_the_choice_does_not_hide_it() {
        let r = "A fun little puzzle!  After analyzing the premise, I'm going to choose... Choice 2: \
                 They jumped on the bed.";
        assert_eq!(d("COPA", COPA_LAMP, r), Some(Decision::Choice2));
    }

    #[test]
    fn an_analysis_of_both_choices_is_null() {
        let r = "The effect of the two choices would be as follows:  **Choice 1: She completed the \
                 puzzle.**  The girl would feel accomplished.  **Choice 2: She took apart the \
                 puzzle.**  The girl would start again.";
        let ex = extract("COPA", COPA_PUZZLE, r);
        assert_eq!(ex.decision, None);
        assert_eq!(ex.rule, "no_verdict");
    }

    #[test]
    fn a_refusal_is_null() {
        let r = "I cannot provide information or guidance on illegal or harmful activities. Can I help \
                 you with something else?";
        assert_eq!(d("COPA", COPA_RING, r), None);
    }

    #[test]
    fn a_leading_yes_answers_a_boolq_question() {
        let r = "Yes, there is an international airport in Naples, Italy.";
        assert_eq!(d("BoolQ", BOOLQ_JERSEY, r), Some(Decision::Yes));
    }

    #[test]
    fn true_answers_a_boolq_question() {
        let r = "True. The passage states that the notes are legal currency.";
        assert_eq!(d("BoolQ", BOOLQ_JERSEY, r), Some(Decision::Yes));
    }

    #[test]
    fn a_no_after_a_short_introduction_is_a_no() {
        let r = "According to the passage, no, Buffy's mom, Joyce Summers, is initially unaware of her \
                 daughter's powers and responsibilities as the Slayer.";
        assert_eq!(d("BoolQ", BOOLQ_BUFFY, r), Some(Decision::No));
    }

    #[test]
    fn the_answer_is_yes_is_a_yes() {
        let r = "According to the passage, the answer is:  YES, it is legal to carry a sgian-dubh.";
        let ex = extract("BoolQ", BOOLQ_JERSEY, r);
        assert_eq!(ex.decision, Some(Decision::Yes));
        assert_eq!(ex.rule, "answer_is");
    }

    #[test]
    fn a_negated_restatement_of_the_question_is_a_no() {
        let r = "Based on the passage, I would say that the Jersey currency (the Jersey pound) is not \
                 legal tender in the United Kingdom. Here's why:";
        let ex = extract("BoolQ", BOOLQ_JERSEY, r);
        assert_eq!(ex.decision, Some(Decision::No));
        assert_eq!(ex.rule, "question_restated");
    }

    #[test]
    fn a_passage_that_is_silent_is_not_an_answer() {
        let r = "No, the passage does not explicitly state that the Fallen movie is going to have a \
                 sequel. However, it does mention that the sequel, \"Torment\", is in development, which \
                 suggests that the sequel may be possible.";
        assert_eq!(d("BoolQ", BOOLQ_FALLEN, r), None);
    }

    #[test]
    fn a_possible_sequel_is_a_hedge() {
        let r = "Based on the passage, it is possible that a sequel to the Fallen movie may be made, but \
                 it is not confirmed.";
        assert_eq!(d("BoolQ", BOOLQ_FALLEN, r), None);
    }

    #[test]
    fn yes_and_no_is_null() {
        let r = "Yes and no. The passage says the notes circulate but are not legal tender.";
        assert_eq!(d("BoolQ", BOOLQ_JERSEY, r), None);
    }

    #[test]
    fn an_empty_or_unknown_input_is_null() {
        assert_eq!(extract("CB", CB, "   ").rule, "empty");
        assert_eq!(extract("MultiRC", CB, "Yes.").rule, "unknown_task");
        assert_eq!(d("RTE", "", "\"\"\" ... ??? ''"), None);
    }

    #[test]
    fn gold_labels_map_to_decisions() {
        assert_eq!(gold_decision("BoolQ", "true"), Some(Decision::Yes));
        assert_eq!(gold_decision("WiC", "false"), Some(Decision::No));
        assert_eq!(gold_decision("WSC", "True"), Some(Decision::Yes));
        assert_eq!(gold_decision("CB", "entailment"), Some(Decision::Yes));
        assert_eq!(gold_decision("CB", "neutral"), Some(Decision::No));
        assert_eq!(gold_decision("CB", "contradiction"), Some(Decision::No));
        assert_eq!(gold_decision("RTE", "\"not_entailment\""), Some(Decision::No));
        assert_eq!(gold_decision("RTE", "entailment"), Some(Decision::Yes));
        assert_eq!(gold_decision("COPA", "0"), Some(Decision::Choice1));
        assert_eq!(gold_decision("COPA", "1"), Some(Decision::Choice2));
        assert_eq!(gold_decision("COPA", "2"), None);
        assert_eq!(gold_decision("Nope", "true"), None);
        for d in [Decision::Yes, Decision::No, Decision::Choice1, Decision::Choice2] {
            assert_eq!(Decision::from_name(d.as_str()), Some(d));
        }
    }

    #[test]
    fn score_compares_the_extracted_decision_with_the_gold_one() {
        let right = score(
            "COPA",
            COPA_RING,
            "I would choose Choice 2: The ring went down the drain.",
            "1",
        );
        assert_eq!(right.score, Some(1.0));
        assert_eq!(right.details["decision"], "choice2");
        assert_eq!(right.details["gold"], "choice2");
        assert_eq!(right.details["rule"], "choice_selected");
        let wrong = score(
            "COPA",
            COPA_RING,
            "I would choose Choice 2: The ring went down the drain.",
            "0",
        );
        assert_eq!(wrong.score, Some(0.0));
        let none = score("COPA", COPA_RING, "I can't help you with this.", "0");
        assert_eq!(none.score, None);
        assert_eq!(none.details["decision"], Value::Null);
        assert!(!none.reason.is_empty());
        let bad_label = score("COPA", COPA_RING, "I would choose Choice 2.", "maybe");
        assert_eq!(bad_label.score, None);
    }

    /// Re-runs [`extract`] on every hand-checked fixture line marked correct and asserts that
    /// the extraction is unchanged (`extracted` is the decision's name).
    #[test]
    fn hand_checked_extractions_still_hold() {
        let fixture = include_str!("../tests/fixtures/gold_hand_checked.jsonl");
        let mut checked = 0;
        for (n, line) in fixture.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let row: Value = serde_json::from_str(line).expect("fixture line is JSON");
            if row["verdict"] != "correct" {
                continue;
            }
            let field = |k: &str| row[k].as_str().expect("fixture field is a string").to_string();
            let got = extract(&field("task"), &field("prompt"), &field("response"));
            assert_eq!(
                got.decision.map(Decision::as_str),
                row["extracted"].as_str(),
                "fixture line {}: {} {}: {}",
                n + 1,
                field("run_id"),
                row["index"],
                got.reason
            );
            checked += 1;
        }
        assert!(checked >= 90, "only {checked} hand-checked lines marked correct");
    }
}
