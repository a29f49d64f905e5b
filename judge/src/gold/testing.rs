//! Prompts of the published study and a shorthand, shared by the gold module's unit tests.

use super::{Decision, extract};

pub(super) const CB: &str = "Premise: Ely looked stunned.\n\nHypothesis: Ely had considered him wanting to \
                             be free\n\nDoes the premise entail the hypothesis? Explain your choice.";
pub(super) const RTE: &str = "Premise: The German technology was employed to build Shanghai's existing \
                              maglev line, the first in the world to be used commercially.\n\nHypothesis: \
                              Maglev is commercially used.\n\nDoes the hypothesis follow from the premise? \
                              Explain your choice.";
pub(super) const WIC: &str = "Does the word \"wall\" have the same meaning in the following two \
                              sentences?\n\nSentence 1: A wall of prejudice.\nSentence 2: The container's \
                              walls were blue.\n\nExplain your choice.";
pub(super) const WSC_CAT: &str = "The cat was lying by the mouse hole waiting for the mouse , but it was too \
                                  cautious.\n\nIn the sentence above, does \"it\" refer to \"The cat\"? \
                                  Explain your choice.";
pub(super) const WSC_SUSAN: &str = "As Andrea in the crop duster passed over Susan , she could see the \
                                    landing strip.\n\nIn the sentence above, does \"she\" refer to \
                                    \"Susan\"? Explain your choice.";
pub(super) const WSC_BOY: &str = "The man lifted the boy onto his shoulders.\n\nIn the sentence above, does \
                                  \"his\" refer to \"The boy\"? Explain your choice.";
pub(super) const WSC_WORM: &str = "The fish ate the worm . It was tasty.\n\nIn the sentence above, does \
                                   \"It\" refer to \"The worm\"? Explain your choice.";
pub(super) const COPA_RING: &str = "What is the effect of the following?\n\nPremise: The woman's ring \
                                    slipped off in the shower.\n\nChoice 1: The woman polished the \
                                    ring.\nChoice 2: The ring went down the drain.\n\nExplain your choice.";
pub(super) const COPA_RUNNER: &str = "What is the cause of the following?\n\nPremise: The runner wore \
                                      shorts.\n\nChoice 1: The forecast predicted high temperatures.\nChoice \
                                      2: She planned to run along the beach.\n\nExplain your choice.";
pub(super) const COPA_JUICE: &str = "What is the effect of the following?\n\nPremise: The grape juice \
                                     fermented.\n\nChoice 1: The juice turned to wine.\nChoice 2: The juice \
                                     evaporated.\n\nExplain your choice.";
pub(super) const COPA_PUZZLE: &str = "What is the effect of the following?\n\nPremise: The girl found the \
                                      missing puzzle piece.\n\nChoice 1: She completed the puzzle.\nChoice \
                                      2: She took apart the puzzle.\n\nExplain your choice.";
pub(super) const COPA_LAMP: &str = "What is the cause of the following?\n\nPremise: The children knocked \
                                    over a lamp.\n\nChoice 1: They had a pillow fight.\nChoice 2: They \
                                    jumped on the bed.\n\nExplain your choice.";
pub(super) const BOOLQ_JERSEY: &str = "Passage: Jersey pound -- The Jersey notes are not legal tender in the \
                                       United Kingdom.\n\nQuestion: is jersey currency legal tender in the \
                                       uk\n\nExplain your choice.";
pub(super) const BOOLQ_FALLEN: &str = "Passage: Fallen -- the sequel still could be made.\n\nQuestion: is \
                                       the fallen movie going to have a sequel\n\nExplain your choice.";
pub(super) const BOOLQ_BUFFY: &str = "Passage: Buffy -- Joyce is unaware.\n\nQuestion: does buffy's mom know \
                                      she's a slayer\n\nExplain your choice.";

/// The decision [`extract`] reads from `response`.
pub(super) fn d(task: &str, prompt: &str, response: &str) -> Option<Decision> {
    extract(task, prompt, response).decision
}
