//! Every rule a failure can name has a hint in course.toml: a report for
//! any broken rule shows advice about that rule, not the advice of the test
//! that happened to notice it. (Hint keys that name no rule are refused
//! when the manifest is read: `heaplab_protocol::manifest`'s own tests.)

mod common;

use heaplab_protocol::{checks, manifest};

#[test]
fn every_rule_has_a_hint_in_the_course() {
    let text = std::fs::read_to_string(common::root().join("course.toml")).unwrap();
    let course = manifest::parse(&text).unwrap();
    let missing: Vec<&str> = checks::ALL
        .iter()
        .map(|r| r.name)
        .filter(|name| {
            !course.checks.contains_key(*name)
                && !course.lessons.iter().any(|l| l.checks.contains_key(*name))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "course.toml has no [checks] hint for: {}",
        missing.join(", ")
    );
}

#[test]
fn a_lesson_hint_comes_before_the_course_hint() {
    let text = std::fs::read_to_string(common::root().join("course.toml")).unwrap();
    let course = manifest::parse(&text).unwrap();
    let lesson = |id: &str| course.lessons.iter().find(|l| l.id == id).unwrap();
    let (l2, l4) = (lesson("lesson2"), lesson("lesson4"));
    let (t2, t4) = (&l2.tests[0], &l4.tests[0]);
    let (h2, _) = course.hint(l2, t2, checks::ALIGNED).unwrap();
    let (h4, _) = course.hint(l4, t4, checks::ALIGNED).unwrap();
    assert_ne!(h2, h4, "lesson 2 has its own hint for `aligned`");
    assert_eq!(h4, course.checks[checks::ALIGNED].trim());
}
