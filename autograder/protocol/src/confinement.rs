//! Which layers of confinement the student's processes run under on this
//! machine: the checker finds out (`checker --confinement`), the grader says
//! it in the human report's header, in `--list` and in JSON.
//!
//! Every layer is tried on every machine; a layer the machine does not
//! allow (no user namespaces in a container, an old kernel without
//! Landlock, a grader that is not root) is reported as off, with why.

use serde::{Deserialize, Serialize};

/// One layer: its name, whether it is on, and what it does here (or why
/// it is off).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    pub name: String,
    pub on: bool,
    pub detail: String,
}

/// The layers of this machine, in the order they are applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confinement {
    pub layers: Vec<Layer>,
}

impl Confinement {
    /// Adds a layer.
    pub fn push(&mut self, name: &str, on: bool, detail: impl Into<String>) {
        self.layers.push(Layer {
            name: name.to_string(),
            on,
            detail: detail.into(),
        });
    }

    /// True when the layer `name` is on.
    pub fn is_on(&self, name: &str) -> bool {
        self.layers.iter().any(|l| l.name == name && l.on)
    }

    /// One line: the layers on, then the layers off.
    ///
    /// ```
    /// # use heaplab_protocol::confinement::Confinement;
    /// let mut c = Confinement::default();
    /// c.push("namespaces", true, "");
    /// c.push("own user", false, "the grader is not root");
    /// assert_eq!(c.summary(), "namespaces; off: own user");
    /// ```
    pub fn summary(&self) -> String {
        let names = |on: bool| -> Vec<&str> {
            self.layers
                .iter()
                .filter(|l| l.on == on)
                .map(|l| l.name.as_str())
                .collect()
        };
        let (on, off) = (names(true), names(false));
        match (on.is_empty(), off.is_empty()) {
            (_, true) => on.join(", "),
            (true, false) => format!("none; off: {}", off.join(", ")),
            (false, false) => format!("{}; off: {}", on.join(", "), off.join(", ")),
        }
    }
}
