//! How the report colours the study: one colour per generation, the same in every figure, and
//! one per task for the figure that draws tasks as lines.
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

/// One colour per task, in task order, for the one figure whose lines are tasks (the RQ2 median
/// profile): Paul Tol's "muted" scheme without its cyan, teal and purple, which are close to the
/// first generations' sky blue, bluish green and reddish purple, so no task reads as a
/// generation.
pub const TASK_PALETTE: [Colour; 6] = [
    Colour::rgb(0xCC, 0x66, 0x77),
    Colour::rgb(0x33, 0x22, 0x88),
    Colour::rgb(0xDD, 0xCC, 0x77),
    Colour::rgb(0x11, 0x77, 0x33),
    Colour::rgb(0x88, 0x22, 0x55),
    Colour::rgb(0x99, 0x99, 0x33),
];

/// The report's colours of a study's generations (and, where a figure needs them, its tasks).
pub trait Colours {
    /// The colour of a generation, the same in every figure.
    fn colour(&self, generation: &str) -> Colour;
    /// The colour of a task, from [`TASK_PALETTE`] in task order.
    fn task_colour(&self, task: &str) -> Colour;
}

impl Colours for Study {
    fn colour(&self, generation: &str) -> Colour {
        PALETTE[self.generation_index(generation) % PALETTE.len()]
    }

    fn task_colour(&self, task: &str) -> Colour {
        let i = self.tasks.iter().position(|t| t == task).unwrap_or(0);
        TASK_PALETTE[i % TASK_PALETTE.len()]
    }
}
