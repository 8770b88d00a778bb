//! A failing sequence step by step: one figure per recorded step, each the
//! heap drawn after that operation ([`svg::draw`]), with previous/next
//! controls the page's script drives. The last figure is the step that
//! failed, with the check that broke beside it.

use std::fmt::Write;

use heaplab_protocol::Failure;

use super::escape::text;
use super::svg;

/// What the drawings' boxes mean, drawn with the drawings' own classes.
const LEGEND: &str = "<p class=\"legend\">\
<span><svg class=\"heap\" width=\"28\" height=\"14\"><rect class=\"hdr\" x=\"1\" y=\"1\" width=\"6\" height=\"12\"/><rect class=\"payload\" x=\"7\" y=\"1\" width=\"20\" height=\"12\"/></svg> header, then a live block's payload</span>\
<span><svg class=\"heap\" width=\"28\" height=\"14\"><rect class=\"free\" x=\"1\" y=\"1\" width=\"26\" height=\"12\"/></svg> free chunk (#1 heads the list)</span>\
<span><svg class=\"heap\" width=\"28\" height=\"14\"><rect class=\"unused\" x=\"1\" y=\"1\" width=\"26\" height=\"12\"/></svg> mapped, in no chunk</span>\
<span><svg class=\"heap\" width=\"28\" height=\"14\"><g class=\"focus\"><rect x=\"2\" y=\"2\" width=\"24\" height=\"10\"/></g></svg> ✗ what broke</span>\
<span>arrows: the free list, in list order</span></p>\n";

/// The steps of `failure` as a stepper.
pub fn render(out: &mut String, failure: &Failure) {
    let count = failure.steps.len();
    let _ = write!(
        out,
        "<div class=\"stepper\" tabindex=\"0\" data-steps=\"{count}\">\
         <div class=\"controls\"><button type=\"button\" class=\"prev\">◀ previous</button>\
         <span class=\"counter\" aria-live=\"polite\">step {count} of {count}</span>\
         <button type=\"button\" class=\"next\">next ▶</button>\
         <span class=\"keys\">or the ← → keys</span></div>\n{LEGEND}"
    );
    for (i, step) in failure.steps.iter().enumerate() {
        let what = if step.step == 0 {
            "the heap just made".to_string()
        } else {
            format!(
                "after operation {}: <code>{}</code>",
                step.step,
                text(&step.operation)
            )
        };
        let _ = write!(
            out,
            "<figure class=\"step\" data-step=\"{}\"><figcaption>{what}</figcaption>",
            step.step
        );
        if i + 1 == count {
            broke(out, failure);
        }
        let label = format!("the heap after operation {}", step.step);
        out.push_str(&svg::draw(&step.heap, &label));
        out.push_str("</figure>\n");
    }
    out.push_str("</div>\n");
}

/// The check that failed, beside the last step.
fn broke(out: &mut String, failure: &Failure) {
    let check = if failure.check.is_empty() {
        String::new()
    } else {
        format!("check <code>{}</code>: ", text(&failure.check))
    };
    let what = failure.what.lines().next().unwrap_or_default();
    let _ = write!(out, "<p class=\"broke\">{check}{}</p>", text(what));
}
