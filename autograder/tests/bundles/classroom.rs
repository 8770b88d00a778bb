//! GitHub Classroom: the workflow read as GitHub Actions and the classroom
//! autograding actions read it, and its grading steps run as written.
//!
//! The actions' documented inputs (their `action.yml`):
//! `autograding-command-grader@v1`: `test-name` (required), `setup-command`,
//! `command` (required; exit code 0 earns `max-score`), `timeout` (minutes,
//! at most 6 hours), `max-score`. `autograding-grading-reporter@v1`:
//! `runners` (required; the grader steps' ids, comma-separated), and for each
//! id an environment variable `<ID>_RESULTS` holding that step's `result`
//! output. The reporter finds its check run by the job's name,
//! `run-autograding-tests`.

use std::path::Path;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::run::text;

const COMMAND_GRADER: &str = "classroom-resources/autograding-command-grader@v1";
const REPORTER: &str = "classroom-resources/autograding-grading-reporter@v1";
const GRADER_INPUTS: &[&str] = &[
    "test-name",
    "setup-command",
    "command",
    "timeout",
    "max-score",
];

/// One `autograding-command-grader` step.
#[derive(Debug)]
pub struct GraderStep {
    pub id: String,
    pub test_name: String,
    pub setup: Option<String>,
    pub command: String,
    pub max_score: i64,
}

fn str_of<'a>(y: &'a Yaml, what: &str) -> Result<&'a str, String> {
    y.as_str()
        .ok_or_else(|| format!("{what} is not a string: {y:?}"))
}

/// The grading steps of `classroom.yml`, or why GitHub or the actions would
/// not run it as a Classroom autograder.
pub fn read_workflow(text: &str) -> Result<Vec<GraderStep>, String> {
    if text.contains("secrets.") {
        return Err("the workflow needs a secret".into());
    }
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    let doc = docs.first().ok_or("an empty workflow")?;
    let on: Vec<&str> = doc["on"]
        .as_vec()
        .into_iter()
        .flatten()
        .filter_map(Yaml::as_str)
        .collect();
    if !on.contains(&"push") {
        return Err(format!("the workflow does not run on push: {on:?}"));
    }
    if doc["permissions"]["checks"].as_str() != Some("write") {
        return Err("the reporter needs `checks: write`".into());
    }
    let jobs = doc["jobs"].as_hash().ok_or("no jobs")?;
    let job = &doc["jobs"]["run-autograding-tests"];
    if jobs.len() != 1 || job.is_badvalue() {
        return Err("one job, named run-autograding-tests (the reporter's check run)".into());
    }
    let steps = job["steps"].as_vec().ok_or("no steps")?;
    let checkout = steps.first().ok_or("no steps")?;
    if !str_of(&checkout["uses"], "the first step")?.starts_with("actions/checkout@")
        || checkout["with"]["fetch-depth"].as_i64() != Some(0)
    {
        return Err("the first step must check out the whole history (fetch-depth: 0)".into());
    }
    let graders: Vec<GraderStep> = steps
        .iter()
        .filter(|s| s["uses"].as_str() == Some(COMMAND_GRADER))
        .map(grader_step)
        .collect::<Result<_, _>>()?;
    let reporter = steps.last().ok_or("no steps")?;
    check_reporter(reporter, &graders)?;
    Ok(graders)
}

fn grader_step(step: &Yaml) -> Result<GraderStep, String> {
    let id = str_of(&step["id"], "a grader step's id")?.to_string();
    let valid_id = id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid_id {
        return Err(format!("{id:?} is not a valid step id"));
    }
    let with = step["with"].as_hash().ok_or(format!("{id}: no inputs"))?;
    for key in with.keys() {
        let key = str_of(key, "an input")?;
        if !GRADER_INPUTS.contains(&key) {
            return Err(format!("{id}: the command grader has no input {key}"));
        }
    }
    let w = &step["with"];
    let timeout = w["timeout"].as_i64().ok_or(format!("{id}: timeout"))?;
    if !(1..=360).contains(&timeout) {
        return Err(format!("{id}: a timeout of {timeout} minutes"));
    }
    Ok(GraderStep {
        test_name: str_of(&w["test-name"], "test-name")?.to_string(),
        setup: w["setup-command"].as_str().map(str::to_string),
        command: str_of(&w["command"], "command")?.to_string(),
        max_score: w["max-score"].as_i64().ok_or(format!("{id}: max-score"))?,
        id,
    })
}

fn check_reporter(reporter: &Yaml, graders: &[GraderStep]) -> Result<(), String> {
    if reporter["uses"].as_str() != Some(REPORTER) {
        return Err("the last step must be the reporter".into());
    }
    let ids: Vec<&str> = graders.iter().map(|g| g.id.as_str()).collect();
    if reporter["with"]["runners"].as_str() != Some(ids.join(",").as_str()) {
        return Err(format!("runners is not {}", ids.join(",")));
    }
    let env = reporter["env"].as_hash().ok_or("the reporter has no env")?;
    if env.len() != ids.len() {
        return Err(format!(
            "{} results variables for {} steps",
            env.len(),
            ids.len()
        ));
    }
    for id in ids {
        let var = format!("{}_RESULTS", id.to_uppercase());
        let expected = format!("${{{{steps.{id}.outputs.result}}}}");
        if reporter["env"][var.as_str()].as_str() != Some(expected.as_str()) {
            return Err(format!("{var} is not {expected}"));
        }
    }
    Ok(())
}

/// Runs every grading step in `repo` as the command grader does (`sh -c`,
/// setup first, with only `PATH`, `HOME` and `FORCE_COLOR` in the
/// environment; `extra` gives `HOME` and where this machine keeps its Rust
/// toolchain), and returns the points the reporter would add up, and
/// everything the steps printed.
pub fn run_steps(steps: &[GraderStep], repo: &Path, extra: &[(&str, &Path)]) -> (i64, String) {
    let mut points = 0;
    let mut log = String::new();
    for step in steps {
        let passed = [step.setup.as_deref(), Some(step.command.as_str())]
            .into_iter()
            .flatten()
            .all(|command| {
                // `env -i`: nothing else of this process's environment
                // (and cargo stays offline, as every run here does).
                let mut sh = Command::new("env");
                sh.arg("-i").current_dir(repo);
                let path = std::env::var("PATH").unwrap_or_default();
                sh.arg(format!("PATH={path}"))
                    .arg("FORCE_COLOR=true")
                    .arg("CARGO_NET_OFFLINE=true");
                for (k, v) in extra {
                    sh.arg(format!("{k}={}", v.display()));
                }
                sh.arg("sh").arg("-c").arg(command);
                let out = crate::run::offline(&mut sh);
                log.push_str(&format!(
                    "== {}: {command}\n{}\n",
                    step.test_name,
                    text(&out)
                ));
                out.status.success()
            });
        if passed {
            points += step.max_score;
        }
    }
    (points, log)
}
