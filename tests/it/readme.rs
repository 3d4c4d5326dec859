//! The README's tour, run as written: its commands, in order, in a fresh case book, with
//! the real binary on PATH. If the README drifts from what casebook does, this fails.

use crate::common::Env;

/// The first ```sh block after the tour's heading.
fn tour() -> String {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("## A tour, in the order of the SOP")
        .expect("the README has its tour");
    let rest = &readme[start..];
    let open = rest.find("```sh\n").expect("the tour has a sh block") + "```sh\n".len();
    let len = rest[open..].find("```").expect("the block ends");
    rest[open..open + len].to_string()
}

#[test]
fn the_readme_tour_runs_as_written() {
    let script = tour();
    assert!(script.contains("casebook init support"), "{script}");
    let env = Env::new();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_casebook"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = std::process::Command::new("bash");
    env.isolate(&mut cmd);
    // The clock is pinned (a Monday), so relative times in the tour cannot rot.
    let out = cmd
        .env("PATH", path)
        .current_dir(env.tmp.path())
        .args(["-euo", "pipefail", "-c"])
        .arg(format!(
            "set -x\n{script}\ncasebook show $id --json > tour-case.json"
        ))
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the README tour failed:\n{stderr}");
    // The tour did what it says: the case went through every step.
    let case: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path("support/tour-case.json")).unwrap())
            .unwrap();
    assert_eq!(
        case["status"], "closed",
        "a satisfied follow-up closes it: {case:#}"
    );
    assert_eq!(case["attachments"][0]["name"], "jam.jpg");
    assert_eq!(case["links"].as_array().unwrap().len(), 1);
    assert_eq!(case["incident_at"], "2026-11-22T13:00:00Z");
    assert_eq!(
        case["eta"], "2026-11-27T16:00:00Z",
        "friday 17:00 in Berlin"
    );
    assert_eq!(case["satisfaction"]["rating"], 5);
    assert!(!stderr.contains("error:"), "{stderr}");
}
