//! The curriculum check: for every lesson of course.toml that has a
//! reference solution, the solution earns full marks and the student stub
//! earns nothing (every test not implemented, or failed).

mod common;

use common::{grade, root};
use serde_json::Value;

#[derive(serde::Deserialize)]
struct Manifest {
    #[serde(rename = "lesson")]
    lessons: Vec<Lesson>,
}

#[derive(serde::Deserialize)]
struct Lesson {
    id: String,
    dir: String,
}

fn report(lesson: &str, variant: &[&str]) -> (i32, Value, String) {
    let mut args = vec![lesson, "--include-hidden", "--format", "json"];
    args.extend_from_slice(variant);
    let run = grade(&args);
    let json = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    (run.code, json, run.stderr)
}

#[test]
fn solutions_earn_full_marks_and_stubs_earn_nothing() {
    let text = std::fs::read_to_string(root().join("course.toml")).unwrap();
    let manifest: Manifest = toml::from_str(&text).unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    for lesson in &manifest.lessons {
        if !root()
            .join("solutions")
            .join(&lesson.dir)
            .join("Cargo.toml")
            .is_file()
        {
            eprintln!("{}: no solution yet, not checked", lesson.id);
            continue;
        }
        checked += 1;

        let (code, r, stderr) = report(&lesson.id, &["--solution"]);
        if code != 0 || r["score"] != r["max_score"] || r["max_score"] == 0 {
            problems.push(format!(
                "{} solution: exit {code}, score {}/{} (want full marks, exit 0)\n{stderr}{}",
                lesson.id,
                r["score"],
                r["max_score"],
                failing(&r)
            ));
        }

        let (code, r, stderr) = report(&lesson.id, &[]);
        if code != 1 || r["score"] != 0 {
            problems.push(format!(
                "{} stub: exit {code}, score {}/{} (want 0, exit 1)\n{stderr}",
                lesson.id, r["score"], r["max_score"]
            ));
        }
        for t in r["tests"].as_array().into_iter().flatten() {
            let status = t["outcome"]["status"].as_str().unwrap_or("?");
            if status != "not_implemented" && status != "failed" {
                problems.push(format!(
                    "{} stub: test {} is `{status}`, want not_implemented or failed: {}",
                    lesson.id, t["name"], t["details"]
                ));
            }
        }
    }
    assert!(checked > 0, "no lesson has a solution yet");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

fn failing(r: &Value) -> String {
    r["tests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["outcome"]["status"] != "passed")
        .map(|t| format!("  {}: {}\n", t["name"], t["details"]))
        .collect()
}
