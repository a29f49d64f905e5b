//! How the report colours the study: one colour per generation, the same in every figure.
//! Everything else the report knows about the study (orders, labels, the run level) is the
//! analysis model's ([`crate::model::Study`]).

use crate::model::Study;
use crate::report::plot::Colour;

/// One colour per generation, in generation order (Okabe–Ito, safe for colour-blind readers).
pub const PALETTE: [Colour; 8] = [
    Colour::rgb(0xE6, 0x9F, 0x00),
    Colour::rgb(0x56, 0xB4, 0xE9),
    Colour::rgb(0x00, 0x9E, 0x73),
    Colour::rgb(0xCC, 0x79, 0xA7),
    Colour::rgb(0x00, 0x72, 0xB2),
    Colour::rgb(0xD5, 0x5E, 0x00),
    Colour::rgb(0x99, 0x99, 0x33),
    Colour::rgb(0x88, 0x22, 0x55),
];

/// The report's colours of a study's generations.
pub trait Colours {
    /// The colour of a generation, the same in every figure.
    fn colour(&self, generation: &str) -> Colour;
}

impl Colours for Study {
    fn colour(&self, generation: &str) -> Colour {
        PALETTE[self.generation_index(generation) % PALETTE.len()]
    }
}
