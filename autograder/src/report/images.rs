//! A failure's drawings as images, for a platform that shows images beside
//! a test (PrairieLearn's `images`, each `{label, url}`): the heap as the
//! failing sequence left it, with what broke outlined, and for a
//! utilization test the footprint over its trace. Each is a drawing of the
//! HTML report's ([`svg::draw`], [`plot::footprint`]) made a file of its
//! own ([`svg::standalone`]) and carried in a `data:` URL, since the
//! platform keeps no files of the grader's.

use base64::Engine as _;
use serde::Serialize;

use heaplab_protocol::Failure;

use super::html::{plot, svg};

/// One image: what it shows, and the image itself as a `data:` URL.
#[derive(Clone, Debug, Serialize)]
pub struct Image {
    pub label: String,
    pub url: String,
}

/// The images of `failure`: the heap after its last recorded step, then
/// its footprint; none when it carries neither.
pub fn of_failure(failure: &Failure) -> Vec<Image> {
    let mut images = Vec::new();
    if let Some(last) = failure.steps.last() {
        let label = if last.step == 0 {
            "the heap just made (✗ marks what broke)".to_string()
        } else {
            format!(
                "the heap after operation {}, {} (✗ marks what broke)",
                last.step, last.operation
            )
        };
        let drawing = svg::draw(&last.heap, &label);
        images.push(Image {
            label,
            url: data_url(&svg::standalone(&drawing)),
        });
    }
    if let Some(footprint) = &failure.footprint {
        images.push(Image {
            label: format!(
                "bytes mapped and payload live over traces/{}.rep",
                footprint.workload
            ),
            url: data_url(&svg::standalone(&plot::footprint(footprint))),
        });
    }
    images
}

/// `svg` as a `data:image/svg+xml;base64,…` URL.
pub fn data_url(svg: &str) -> String {
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    )
}
