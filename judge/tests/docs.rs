//! `docs/judge.md` quotes the rubrics' prompts verbatim; this keeps the quotes true.

use judge::llm::rubric::{SYSTEM, correctness, relevancy};

#[test]
fn the_documented_prompts_are_the_prompts_sent() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/judge.md"))
        .expect("docs/judge.md");
    for (name, prompt) in [
        ("system", SYSTEM),
        ("statements", relevancy::STATEMENTS_PROMPT),
        ("verdicts", relevancy::VERDICTS_PROMPT),
        ("correctness", correctness::CORRECTNESS_PROMPT),
    ] {
        assert!(
            doc.contains(&format!("```text\n{prompt}\n```")),
            "docs/judge.md does not quote the {name} prompt verbatim"
        );
    }
    assert!(doc.contains(&judge::llm::rubric::repair_message("{error}")));
}
