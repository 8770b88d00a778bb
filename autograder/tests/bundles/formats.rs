//! Each platform's output format, as the platform documents it, read the way
//! the platform reads it. Each reader returns the score the platform would
//! record, or says why the platform would refuse the output.

use std::collections::BTreeMap;

use serde_json::Value;

/// Inkfish's score of `tap`: one plan line `1..N`; every line starting `ok`
/// or `not` must be a test line `^(ok|not ok)\s+(\d+)\s+(?:-\s+)?(.*)$`;
/// passed counts tests 1..=N marked ok. None where Inkfish would fail to
/// parse (it then scores 0).
pub fn inkfish_score(tap: &str) -> Option<(usize, usize)> {
    let plans: Vec<&str> = tap
        .lines()
        .filter(|l| {
            let (a, b) = l.split_once("..").unwrap_or(("", ""));
            !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
        })
        .collect();
    let [plan] = plans.as_slice() else {
        return None;
    };
    let total: usize = plan.strip_prefix("1..")?.parse().ok()?;
    let mut ok = BTreeMap::new();
    for line in tap
        .lines()
        .filter(|l| l.starts_with("ok") || l.starts_with("not"))
    {
        let (passed, rest) = if let Some(r) = line.strip_prefix("not ok") {
            (false, r)
        } else {
            (true, line.strip_prefix("ok")?)
        };
        let rest = rest.strip_prefix(char::is_whitespace)?.trim_start();
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let after = &rest[digits.len()..];
        if digits.is_empty() || !after.starts_with(char::is_whitespace) {
            return None;
        }
        ok.insert(digits.parse::<usize>().ok()?, passed);
    }
    let passed = (1..=total).filter(|i| ok.get(i) == Some(&true)).count();
    Some((passed, total))
}

/// Fails unless `object`'s keys are all in `allowed`.
fn only_keys(object: &Value, allowed: &[&str], what: &str) -> Result<(), String> {
    let map = object
        .as_object()
        .ok_or_else(|| format!("{what} is not an object: {object}"))?;
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("{what} has a key the platform does not know: {k}")),
        None => Ok(()),
    }
}

fn number(v: &Value, what: &str) -> Result<f64, String> {
    v.as_f64()
        .ok_or_else(|| format!("{what} is not a number: {v}"))
}

fn string_or_absent(v: &Value, what: &str) -> Result<(), String> {
    if v.is_null() || v.is_string() {
        Ok(())
    } else {
        Err(format!("{what} is not a string: {v}"))
    }
}

/// Gradescope's `results.json` (its autograder specification): the score
/// it records, the sum of the tests' scores when there is no top-level one.
pub fn gradescope_score(results: &Value) -> Result<f64, String> {
    only_keys(
        results,
        &[
            "score",
            "execution_time",
            "output",
            "output_format",
            "test_output_format",
            "test_name_format",
            "visibility",
            "stdout_visibility",
            "extra_data",
            "tests",
            "leaderboard",
        ],
        "results.json",
    )?;
    string_or_absent(&results["output"], "output")?;
    let visibilities = ["hidden", "after_due_date", "after_published", "visible"];
    let mut sum = 0.0;
    for (i, t) in results["tests"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let what = format!("tests[{i}]");
        only_keys(
            t,
            &[
                "score",
                "max_score",
                "status",
                "name",
                "name_format",
                "number",
                "output",
                "output_format",
                "tags",
                "visibility",
                "extra_data",
            ],
            &what,
        )?;
        sum += number(&t["score"], &format!("{what}.score"))?;
        number(&t["max_score"], &format!("{what}.max_score"))?;
        string_or_absent(&t["name"], &format!("{what}.name"))?;
        string_or_absent(&t["output"], &format!("{what}.output"))?;
        if !t["status"].is_null()
            && !["passed", "failed"].contains(&t["status"].as_str().unwrap_or(""))
        {
            return Err(format!("{what}.status is {}", t["status"]));
        }
        if !t["visibility"].is_null()
            && !visibilities.contains(&t["visibility"].as_str().unwrap_or(""))
        {
            return Err(format!("{what}.visibility is {}", t["visibility"]));
        }
    }
    match &results["score"] {
        Value::Null if results["tests"].is_array() => Ok(sum),
        Value::Null => Err("results.json has neither score nor tests".into()),
        score => number(score, "score"),
    }
}

/// Autolab's score: the last line of the output is `{"scores": {...}}` (and
/// optionally `"scoreboard": [...]`), its keys the assessment's problems.
pub fn autolab_scores(output: &str) -> Result<BTreeMap<String, f64>, String> {
    let last = output.lines().last().unwrap_or_default();
    let json: Value = serde_json::from_str(last)
        .map_err(|e| format!("the last line is not JSON ({e}): {last}"))?;
    only_keys(&json, &["scores", "scoreboard"], "the score line")?;
    if !json["scoreboard"].is_null() && !json["scoreboard"].is_array() {
        return Err("scoreboard is not an array".into());
    }
    let scores = json["scores"]
        .as_object()
        .ok_or_else(|| format!("no scores object: {last}"))?;
    scores
        .iter()
        .map(|(k, v)| Ok((k.clone(), number(v, k)?)))
        .collect()
}

/// What PrairieLearn makes of `results.json`: `Ok(Some(score))` for a
/// graded attempt (score in [0, 1]), `Ok(None)` for "invalid, not gradable"
/// (not charged), `Err` for a file it would reject.
pub fn prairielearn_score(bytes: &[u8]) -> Result<Option<f64>, String> {
    if bytes.len() > 1_000_000 {
        return Err(format!(
            "results.json is {} bytes; the limit is 1 MB",
            bytes.len()
        ));
    }
    let results: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    only_keys(
        &results,
        &[
            "gradable",
            "score",
            "message",
            "output",
            "format_errors",
            "tests",
            "images",
        ],
        "results.json",
    )?;
    string_or_absent(&results["message"], "message")?;
    string_or_absent(&results["output"], "output")?;
    pl_images(&results["images"], "images")?;
    for (i, t) in results["tests"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let what = format!("tests[{i}]");
        only_keys(
            t,
            &[
                "name",
                "description",
                "points",
                "max_points",
                "message",
                "output",
                "images",
            ],
            &what,
        )?;
        for key in ["name", "description", "message", "output"] {
            string_or_absent(&t[key], &format!("{what}.{key}"))?;
        }
        pl_images(&t["images"], &format!("{what}.images"))?;
        let points = number(&t["points"], &format!("{what}.points"))?;
        let max = number(&t["max_points"], &format!("{what}.max_points"))?;
        if !(0.0..=max).contains(&points) {
            return Err(format!("{what}: {points} of {max} points"));
        }
    }
    match results["gradable"] {
        Value::Bool(false) => {
            let errors = &results["format_errors"];
            let listed = errors.is_string()
                || errors
                    .as_array()
                    .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string));
            if listed {
                Ok(None)
            } else {
                Err(format!(
                    "not gradable, but no format_errors say why: {results}"
                ))
            }
        }
        Value::Null | Value::Bool(true) => {
            let score = number(&results["score"], "score")?;
            if (0.0..=1.0).contains(&score) {
                Ok(Some(score))
            } else {
                Err(format!("score {score} is outside [0, 1]"))
            }
        }
        ref other => Err(format!("gradable is {other}")),
    }
}

/// PrairieLearn's `images`, absent or an array whose each element is
/// `{url, label?}` (or, as older graders wrote, the URL alone), the URL a
/// `data:` URL of an image, `data:[mimetype];base64,[contents]`.
fn pl_images(images: &Value, what: &str) -> Result<(), String> {
    if images.is_null() {
        return Ok(());
    }
    let list = images
        .as_array()
        .ok_or_else(|| format!("{what} is not an array"))?;
    for (i, image) in list.iter().enumerate() {
        let what = format!("{what}[{i}]");
        let url = match image {
            Value::String(url) => url,
            Value::Object(_) => {
                only_keys(image, &["url", "label"], &what)?;
                string_or_absent(&image["label"], &format!("{what}.label"))?;
                image["url"]
                    .as_str()
                    .ok_or_else(|| format!("{what} has no url"))?
            }
            other => return Err(format!("{what} is {other}")),
        };
        let ok = url
            .strip_prefix("data:image/")
            .and_then(|rest| rest.split_once(";base64,"))
            .is_some_and(|(_, data)| !data.is_empty());
        if !ok {
            return Err(format!("{what}.url is not an image's data URL: {url:.60}"));
        }
    }
    Ok(())
}

#[test]
fn the_readers_refuse_what_the_platforms_refuse() {
    // Inkfish: two plans, a bare `ok 3`, or a diagnostic starting `not`.
    assert_eq!(
        inkfish_score("1..2\nok 1 - a\nnot ok 2 - b\n"),
        Some((1, 2))
    );
    assert_eq!(inkfish_score("# x\n1..2\nok 1 a\nok 2 b\n"), Some((2, 2)));
    assert_eq!(inkfish_score("1..1\n1..1\nok 1 - a\n"), None);
    assert_eq!(inkfish_score("1..1\nok 1\n"), None);
    assert_eq!(inkfish_score("1..1\nok 1 - a\nnote: hi\n"), None);
    assert_eq!(inkfish_score("1..3\nok 1 - a\n"), Some((1, 3)));
    // Gradescope: an unknown status or visibility, a score that is a string.
    let gs = |s: &str| gradescope_score(&serde_json::from_str(s).unwrap());
    assert_eq!(gs(r#"{"tests": [{"score": 2, "max_score": 2}]}"#), Ok(2.0));
    assert!(gs(r#"{"score": "2"}"#).is_err());
    assert!(gs(r#"{"tests": [{"score": 1, "max_score": 1, "status": "ok"}]}"#).is_err());
    assert!(gs(r#"{"tests": [{"score": 1, "max_score": 1, "visibility": "never"}]}"#).is_err());
    assert!(gs(r#"{"score": 1, "points": 3}"#).is_err());
    // Autolab: only the last line counts.
    assert_eq!(
        autolab_scores("x\n{\"scores\": {\"a\": 2}}\n").unwrap()["a"],
        2.0
    );
    assert!(autolab_scores("{\"scores\": {\"a\": 2}}\nbye\n").is_err());
    assert!(autolab_scores("{\"score\": 2}\n").is_err());
    // PrairieLearn: a score outside [0, 1], a refusal without a reason.
    let pl = |s: &str| prairielearn_score(s.as_bytes());
    assert_eq!(pl(r#"{"score": 0.5}"#), Ok(Some(0.5)));
    assert_eq!(
        pl(r#"{"gradable": false, "format_errors": ["no crate"]}"#),
        Ok(None)
    );
    assert!(pl(r#"{"score": 18}"#).is_err());
    assert!(pl(r#"{"gradable": false}"#).is_err());
    assert!(pl(r#"{"score": 1, "tests": [{"name": "a", "points": 2, "max_points": 1}]}"#).is_err());
    // PrairieLearn's images: a data URL each, with a label or not.
    let image = |image: &str| {
        pl(&format!(
            r#"{{"score": 0, "tests": [{{"points": 0, "max_points": 1, "images": [{image}]}}]}}"#
        ))
    };
    assert_eq!(
        image(r#"{"label": "heap", "url": "data:image/svg+xml;base64,PHN2Zy8+"}"#),
        Ok(Some(0.0))
    );
    assert_eq!(image(r#""data:image/png;base64,iVBO""#), Ok(Some(0.0)));
    assert!(image(r#"{"label": "heap", "url": "heap.svg"}"#).is_err());
    assert!(image(r#"{"label": "heap"}"#).is_err());
    assert!(image(r#"{"url": "data:image/png;base64,iVBO", "alt": "x"}"#).is_err());
}
