//! A heap's footprint over a trace: the bytes it had mapped and the payload
//! live, sampled along the operations. A failed utilization test carries it,
//! so the report can draw it (as `grade bench --plot` does for every trace).

use serde::{Deserialize, Serialize};

/// One workload's footprint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Footprint {
    /// The workload's name (`binary`: the file `traces/binary.rep`).
    pub workload: String,
    /// `(operations done, bytes mapped, payload bytes live)`, by operation;
    /// each the most within its stretch of operations.
    pub samples: Vec<(usize, usize, usize)>,
}
