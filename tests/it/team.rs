//! Working as a team through the real binary: owners, tags, bulk actions in one commit,
//! the whole conversation in `show`.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use crate::common::{Env, ACTOR};

const SAM: &str = "Sam Lead <sam@example.com>";

/// Runs casebook with `input` on standard input.
fn run_stdin(env: &Env, dir: &Path, args: &[&str], input: &str) -> crate::common::Run {
    let mut child = env
        .cb(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run casebook");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    crate::common::Run(child.wait_with_output().unwrap())
}

fn ids_of(v: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn lines(s: &str) -> Vec<String> {
    sorted(s.lines().map(String::from).collect())
}

/// `list` with the index and with a full scan must agree; returns the IDs.
fn list_ids(env: &Env, root: &Path, args: &[&str]) -> Vec<String> {
    let mut a = vec!["list", "--ids"];
    a.extend_from_slice(args);
    let indexed = lines(&env.run(root, &a).ok().stdout);
    let scanned = lines(
        &crate::common::Run(
            env.cb(root)
                .args(&a)
                .env("CASEBOOK_INDEX", "off")
                .output()
                .unwrap(),
        )
        .ok()
        .stdout,
    );
    assert_eq!(indexed, scanned, "index and scan differ for {args:?}");
    indexed
}

#[test]
fn owners_split_the_queue_by_take_assign_and_unassign() {
    let env = Env::new();
    let root = env.casebook("book");
    let a = env.open(&root, "Ada", "Printer jams");
    let b = env.open(&root, "Bob", "Invoice twice");
    let c = env.open(&root, "Cy", "Login fails");
    let before = env.commit_count(&root);

    env.run(&root, &["take", &a, &b]).ok();
    assert_eq!(env.commit_count(&root), before + 1, "one commit for both");
    env.run(&root, &["assign", &b, "--to", SAM]).ok();

    let show = env.run(&root, &["show", &a, "--json"]).json();
    assert_eq!(show["owner"]["name"], "Dana Agent");
    assert_eq!(show["owner"]["email"], "dana@example.com");
    let assign = show["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "assign")
        .expect("an assign event");
    assert_eq!(assign["to"], ACTOR);
    assert!(assign.get("from").is_none(), "nobody owned it before");
    let b_json = env.run(&root, &["show", &b, "--json"]).json();
    let last = b_json["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "assign");
    assert_eq!(last["from"], ACTOR);
    assert_eq!(last["to"], SAM);
    let c_json = env.run(&root, &["show", &c, "--json"]).json();
    assert!(c_json["owner"].is_null());

    assert_eq!(list_ids(&env, &root, &["--mine"]), vec![a.clone()]);
    assert_eq!(list_ids(&env, &root, &["--owner", "me"]), vec![a.clone()]);
    assert_eq!(
        list_ids(&env, &root, &["--owner", "SAM@example.com"]),
        vec![b.clone()]
    );
    assert_eq!(list_ids(&env, &root, &["--owner", SAM]), vec![b.clone()]);
    assert_eq!(
        list_ids(&env, &root, &["--owner", "sam lead"]),
        vec![b.clone()]
    );
    assert_eq!(list_ids(&env, &root, &["--unassigned"]), vec![c.clone()]);
    let listed = env.run(&root, &["list", "--json", "--owner", SAM]).json();
    assert_eq!(listed[0]["owner"]["email"], "sam@example.com");

    // The personal due queue: only the owner's commitments, each naming the owner.
    let due = env.run(&root, &["due", "--mine", "--json"]).json();
    let due = due.as_array().unwrap();
    assert!(!due.is_empty());
    assert!(due.iter().all(|i| i["case"] == a.as_str()), "{due:?}");
    assert_eq!(due[0]["owner"]["name"], "Dana Agent");
    // Through the index with a horizon, and by a full scan: the same queue.
    let args = ["due", "--mine", "--within", "2d", "--json"];
    let indexed = env.run(&root, &args).json();
    let scanned = crate::common::Run(
        env.cb(&root)
            .args(args)
            .env("CASEBOOK_INDEX", "off")
            .output()
            .unwrap(),
    )
    .json();
    assert_eq!(indexed, scanned);
    assert!(!indexed.as_array().unwrap().is_empty());
    let verified = env.run(&root, &["verify", "--json"]).json();
    assert_eq!(verified["index_checked"], true);
    assert_eq!(verified["problems"], serde_json::json!([]));
    let all_due = env.run(&root, &["due", "--json"]).json();
    assert!(all_due.as_array().unwrap().len() > due.len());

    // Taking what is already yours records nothing.
    let n = env.commit_count(&root);
    let again = env.run(&root, &["take", &a]).ok();
    assert!(again.stderr.contains("unchanged"), "{}", again.stderr);
    assert_eq!(env.commit_count(&root), n);

    env.run(&root, &["unassign", &a]).ok();
    assert_eq!(
        list_ids(&env, &root, &["--unassigned"]),
        sorted(vec![a.clone(), c.clone()])
    );
    assert!(list_ids(&env, &root, &["--mine"]).is_empty());
    let text = env.run(&root, &["show", &b]).ok().stdout;
    assert!(
        text.contains("owner        Sam Lead <sam@example.com>"),
        "{text}"
    );
    let table = env.run(&root, &["list"]).ok().stdout;
    assert!(table.lines().next().unwrap().contains("OWNER"), "{table}");
}

#[test]
fn bad_owners_and_closed_cases_are_refused_and_nothing_is_written() {
    let env = Env::new();
    let root = env.casebook("book");
    let a = env.open(&root, "Ada", "Printer jams");
    let n = env.commit_count(&root);
    // An owner is an identity as git takes it ("Name <address>"); these are not.
    for bad in ["Sam", "sam@example.com", "Sam <>", "<sam@example.com>", ""] {
        let err = env.run(&root, &["assign", &a, "--to", bad]).fails(1);
        assert!(
            err.contains("--to") && err.contains("Name <email>"),
            "{bad}: {err}"
        );
    }
    env.run(&root, &["close", &a, "--reason", "spam"]).ok();
    let err = env.run(&root, &["take", &a]).fails(1);
    assert!(
        err.contains("`assign` is not allowed") && err.contains("closed"),
        "{err}"
    );
    assert_eq!(env.commit_count(&root), n + 1, "only the close");
    let err = env.run(&root, &["list", "--mine", "--unassigned"]).fails(2);
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn tags_are_added_removed_and_filter_every_queue() {
    let env = Env::new();
    let root = env.casebook("book");
    let a = env.open(&root, "Ada", "Printer jams");
    let b = env.open(&root, "Bob", "Invoice twice");
    let n = env.commit_count(&root);
    env.run(&root, &["tag", &a, &b, "+Billing", "+vip"]).ok();
    assert_eq!(env.commit_count(&root), n + 1);
    env.run(&root, &["tag", &b, "-vip", "+refund"]).ok();

    let a_json = env.run(&root, &["show", &a, "--json"]).json();
    assert_eq!(a_json["tags"], serde_json::json!(["billing", "vip"]));
    let b_json = env.run(&root, &["show", &b, "--json"]).json();
    assert_eq!(b_json["tags"], serde_json::json!(["billing", "refund"]));
    let last = b_json["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "tag");
    assert_eq!(last["added"], serde_json::json!(["refund"]));
    assert_eq!(last["removed"], serde_json::json!(["vip"]));

    assert_eq!(
        list_ids(&env, &root, &["--tag", "billing"]),
        sorted(vec![a.clone(), b.clone()])
    );
    assert_eq!(
        list_ids(&env, &root, &["--tag", "billing", "--tag", "VIP"]),
        vec![a.clone()]
    );
    assert!(list_ids(&env, &root, &["--tag", "vip", "--tag", "refund"]).is_empty());
    let due = env.run(&root, &["due", "--json", "--tag", "refund"]).json();
    assert!(due
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["case"] == b.as_str()));
    assert_eq!(due[0]["tags"], serde_json::json!(["billing", "refund"]));

    // Options after the tag words still work.
    let out = env.run(&root, &["tag", &a, "-vip", "--json"]).json();
    assert_eq!(out["tags"], serde_json::json!(["billing"]));
}

#[test]
fn bad_tag_syntax_is_refused_and_nothing_is_written() {
    let env = Env::new();
    let root = env.casebook("book");
    let a = env.open(&root, "Ada", "Printer jams");
    let n = env.commit_count(&root);
    for (words, says) in [
        (vec!["+a,b"], "is not a tag"),
        (vec!["+", "+ok"], "is not a tag"),
        (vec!["+x", "-x"], "both added and removed"),
        (vec!["--sort"], "read as a tag change"),
    ] {
        let mut args = vec!["tag", a.as_str()];
        args.extend(words.iter());
        let err = env.run(&root, &args).fails(1);
        assert!(err.contains(says), "{words:?}: {err}");
    }
    // A word without + or - is an ID: here, no such case, and no tag change either.
    let err = env.run(&root, &["tag", &a, "billing"]).fails(1);
    assert!(err.contains("no tag change"), "{err}");
    let err = env.run(&root, &["list", "--tag", "a b"]).fails(1);
    assert!(err.contains("--tag"), "{err}");
    assert_eq!(env.commit_count(&root), n);
}

#[test]
fn a_bulk_action_with_one_refusing_case_writes_nothing_and_lists_every_refusal() {
    let env = Env::new();
    let root = env.casebook("book");
    let a = env.open(&root, "Ada", "Printer jams");
    let b = env.open(&root, "Bob", "Invoice twice");
    let c = env.open(&root, "Cy", "Login fails");
    env.run(&root, &["ack", &a]).ok();
    let n = env.commit_count(&root);
    let tree = env.git(&root, &["rev-parse", "HEAD^{tree}"]);

    // b and c are new: `resolve` is not allowed there; and one ID does not exist.
    let err = env
        .run(
            &root,
            &[
                "resolve",
                &a,
                &b,
                &c,
                "CB-ZZZZZZZZ",
                "--resolution",
                "Fixed",
            ],
        )
        .fails(1);
    assert!(
        err.contains("3 of the cases refused `resolve`, nothing recorded"),
        "{err}"
    );
    for who in [&b, &c] {
        assert!(
            err.contains(&format!("{who}: `resolve` is not allowed")),
            "{err}"
        );
    }
    assert!(err.contains("CB-ZZZZZZZZ: no case matches"), "{err}");
    assert!(err.contains("--continue-on-error"), "{err}");
    assert_eq!(env.commit_count(&root), n);
    assert_eq!(env.git(&root, &["rev-parse", "HEAD^{tree}"]), tree);
    assert_eq!(env.status_porcelain(&root), "");

    // With --continue-on-error the others are recorded, in one commit, and the exit code
    // still says that some were not (as for an import's rejected rows).
    let err = env
        .run(
            &root,
            &[
                "resolve",
                &a,
                &b,
                "--resolution",
                "Fixed",
                "--continue-on-error",
            ],
        )
        .fails(1);
    assert!(err.contains(&format!("{b}: refused")), "{err}");
    assert!(
        err.contains("1 of 2 cases refused; the other was recorded"),
        "{err}"
    );
    assert_eq!(env.commit_count(&root), n + 1);
    let a_json = env.run(&root, &["show", &a, "--json"]).json();
    assert_eq!(a_json["status"], "resolved");
}

#[test]
fn ids_from_list_go_to_a_bulk_action_on_standard_input_in_one_commit() {
    let env = Env::new();
    let root = env.casebook("book");
    let ids: Vec<String> = (0..5)
        .map(|i| env.open(&root, &format!("C{i}"), &format!("Subject {i}")))
        .collect();
    let listed = env.run(&root, &["list", "--ids"]).ok().stdout;
    assert_eq!(lines(&listed), sorted(ids.clone()));
    let n = env.commit_count(&root);
    let out = run_stdin(&env, &root, &["ack", "-", "--json"], &listed).json();
    assert_eq!(ids_of(&out), sorted(ids.clone()));
    assert!(out
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "open"));
    assert_eq!(env.commit_count(&root), n + 1, "five cases, one commit");
    let message = env.git(&root, &["log", "-1", "--format=%B"]);
    assert!(message.starts_with("acknowledge on 5 cases"), "{message}");
    for id in &ids {
        assert!(message.contains(&format!("Case: {id}\n")), "{message}");
        let history = env.run(&root, &["history", id, "--json"]).json();
        assert_eq!(history[0]["action"], "acknowledge", "{history}");
    }
    assert_eq!(env.status_porcelain(&root), "");

    // Standard input is read once: a text option cannot read it too.
    let err = run_stdin(
        &env,
        &root,
        &["pending", "-", "--reason", "-"],
        &ids.join("\n"),
    )
    .fails(1);
    assert!(
        err.contains("only one option can read standard input"),
        "{err}"
    );
    let err = run_stdin(&env, &root, &["take", "-"], "\n\n").fails(1);
    assert!(err.contains("no case given"), "{err}");
    assert_eq!(env.commit_count(&root), n + 1);
}

#[test]
fn show_reads_back_the_whole_conversation_and_brief_keeps_one_line() {
    let env = Env::new();
    let root = env.casebook("book");
    let out = env
        .run(
            &root,
            &[
                "open",
                "--customer",
                "Bob",
                "--email",
                "bob@example.com",
                "--subject",
                "Invoice twice",
                "--description",
                "I was charged twice for the same order, please help",
            ],
        )
        .ok();
    let id = out.stdout.trim().to_string();
    env.run(
        &root,
        &[
            "ack",
            &id,
            "--message",
            "Dear Bob,\nwe are on it and will write again today.\nDana",
        ],
    )
    .ok();
    env.run(
        &root,
        &[
            "gather",
            &id,
            "--question",
            "Which invoice number shows the double charge?",
            "--answer",
            "INV-12, both charges on the same day",
        ],
    )
    .ok();
    env.run(
        &root,
        &[
            "log",
            &id,
            "--summary",
            "Called Bob about the refund and the timeline for it",
            "--with",
            "Bob",
            "--with",
            "Sam Lead",
            "--direction",
            "inbound",
            "--outcome",
            "Bob accepts a refund within five working days",
        ],
    )
    .ok();
    env.run(
        &root,
        &[
            "research",
            &id,
            "--finding",
            "The payment retry charged a second time after a timeout",
        ],
    )
    .ok();
    let text = env.run(&root, &["show", &id]).ok().stdout;
    for expected in [
        "description (from the customer): I was charged twice for the same order, please help",
        "message (to the customer):\n        Dear Bob,\n        we are on it and will write again today.\n        Dana\n",
        "question (to the customer): Which invoice number shows the double charge?",
        "answer (from the customer): INV-12, both charges on the same day",
        "with: Bob, Sam Lead",
        "summary (from the customer): Called Bob about the refund and the timeline for it",
        "outcome (from the customer): Bob accepts a refund within five working days",
        "finding (internal): The payment retry charged a second time after a timeout",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    let brief = env.run(&root, &["show", &id, "--brief"]).ok().stdout;
    assert!(!brief.contains("(to the customer)"), "{brief}");
    assert!(!brief.contains("five working days"), "{brief}");
    assert!(brief.contains("Timeline"), "{brief}");

    // JSON carries every text whole.
    let json = env.run(&root, &["show", &id, "--json"]).json();
    let events = json["events"].as_array().unwrap();
    let log = events.iter().find(|e| e["action"] == "log").unwrap();
    assert_eq!(
        log["outcome"],
        "Bob accepts a refund within five working days"
    );
    assert_eq!(log["with"], serde_json::json!(["Bob", "Sam Lead"]));
    assert_eq!(
        events
            .iter()
            .find(|e| e["action"] == "acknowledge")
            .unwrap()["message"],
        "Dear Bob,\nwe are on it and will write again today.\nDana"
    );
}

#[test]
fn escalating_keeps_the_owner_unless_assign_is_given_and_review_groups_by_owner() {
    let env = Env::new();
    let root = env.casebook("book");
    let a = env.open(&root, "Ada", "Printer jams on every page");
    let b = env.open(&root, "Bob", "Invoice twice");
    env.run(&root, &["take", &a, &b]).ok();
    env.run(&root, &["ack", &a, &b]).ok();
    env.run(
        &root,
        &[
            "escalate",
            &a,
            "--reason",
            "Needs a part",
            "--to",
            "Sam Supervisor",
        ],
    )
    .ok();
    let a_json = env.run(&root, &["show", &a, "--json"]).json();
    assert_eq!(a_json["owner"]["email"], "dana@example.com");
    assert_eq!(a_json["escalated_to"], "Sam Supervisor");
    let err = env
        .run(
            &root,
            &[
                "escalate", &b, "--reason", "Refund", "--to", "Sam", "--assign",
            ],
        )
        .fails(1);
    assert!(err.contains("Name <email>"), "{err}");
    env.run(
        &root,
        &[
            "escalate", &b, "--reason", "Refund", "--to", SAM, "--assign",
        ],
    )
    .ok();
    let b_json = env.run(&root, &["show", &b, "--json"]).json();
    assert_eq!(b_json["owner"]["email"], "sam@example.com");

    env.run(&root, &["tag", &a, "+hardware"]).ok();
    env.run(&root, &["resolve", &a, &b, "--resolution", "Done"])
        .ok();
    let review = env
        .run(&root, &["review", "--by", "owner", "--json"])
        .json();
    let by = review["by"].as_object().unwrap();
    assert_eq!(by["Dana Agent"]["cases"], 1, "{by:?}");
    assert_eq!(by["Sam Lead"]["cases"], 1, "{by:?}");
    let agent = env
        .run(&root, &["review", "--by", "agent", "--json"])
        .json();
    assert_eq!(agent["by"]["Dana Agent"]["cases"], 2, "Dana resolved both");
    let tagged = env
        .run(&root, &["review", "--tag", "hardware", "--json"])
        .json();
    assert_eq!(tagged["overall"]["cases"], 1);

    let hits = env.run(&root, &["search", "invoice", "--json"]).json();
    assert_eq!(hits.as_array().unwrap().len(), 1);
    let none = env
        .run(&root, &["search", "invoice", "--tag", "hardware", "--json"])
        .json();
    assert!(none.as_array().unwrap().is_empty());
    let by_owner = env
        .run(&root, &["search", "printer", "--mine", "--json"])
        .json();
    assert_eq!(by_owner[0]["case"], a.as_str());
}

#[test]
fn owner_and_tags_columns_survive_export_and_import_and_bad_cells_are_rejected() {
    let env = Env::new();
    let root = env.casebook("book");
    let a = env.open(&root, "Ada", "Printer jams");
    env.run(&root, &["assign", &a, "--to", SAM]).ok();
    env.run(&root, &["tag", &a, "+billing", "+vip"]).ok();
    let csv = env.run(&root, &["export"]).ok().stdout;
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("owner"), SAM);
    assert_eq!(col("tags"), "billing;vip");

    let other = env.casebook("other");
    std::fs::write(env.path("cases.csv"), &csv).unwrap();
    let file = env.path("cases.csv");
    env.run(&other, &["import", file.to_str().unwrap()]).ok();
    let listed = env.run(&other, &["list", "--json"]).json();
    assert_eq!(listed[0]["owner"]["email"], "sam@example.com");
    assert_eq!(listed[0]["tags"], serde_json::json!(["billing", "vip"]));

    // A changed cell on a known case becomes an assign and a tag event; the same file
    // again changes nothing.
    let changed = csv.replace(SAM, ACTOR).replace("billing;vip", "vip;refund");
    std::fs::write(&file, &changed).unwrap();
    let report = env
        .run(&other, &["import", file.to_str().unwrap(), "--json"])
        .json();
    assert_eq!(
        report["updated"][0]["fields"],
        serde_json::json!(["owner", "tags"]),
        "{report}"
    );
    let case = env.run(&other, &["list", "--json"]).json();
    assert_eq!(case[0]["owner"]["email"], "dana@example.com");
    assert_eq!(case[0]["tags"], serde_json::json!(["refund", "vip"]));
    let n = env.commit_count(&other);
    env.run(&other, &["import", file.to_str().unwrap()]).ok();
    assert_eq!(env.commit_count(&other), n);

    std::fs::write(
        &file,
        "external_id,customer,email,subject,owner,tags\nX-1,Eve,eve@example.com,Hi,Sam,ok;bad tag\n",
    )
    .unwrap();
    let err = env
        .run(&other, &["import", file.to_str().unwrap()])
        .fails(1);
    assert!(
        err.contains("owner") && err.contains("Name <email>"),
        "{err}"
    );
    assert!(err.contains("tags") && err.contains("\"bad tag\""), "{err}");
    assert_eq!(env.commit_count(&other), n);
}

#[test]
fn time_worked_is_recorded_per_action_summed_per_case_and_reported_by_review() {
    let env = Env::new();
    let root = env.casebook("book");
    let a = env.open(&root, "Ada", "Printer jams");
    let b = env.open(&root, "Bob", "Invoice twice");
    env.run(&root, &["ack", &a, "--worked", "15m"]).ok();
    env.run(&root, &["--worked", "1h30m", "ack", &b]).ok();
    env.run(
        &root,
        &["resolve", &a, &b, "--resolution", "Done", "--worked", "30m"],
    )
    .ok();
    let a_json = env.run(&root, &["show", &a, "--json"]).json();
    assert_eq!(a_json["worked_minutes"], 45);
    // The list reads the projection (from the index, without the events): the same sum.
    for index in ["on", "off"] {
        let listed = env
            .cb(&root)
            .env("CASEBOOK_INDEX", index)
            .args(["list", "--json", "--all"])
            .output()
            .unwrap();
        let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
        let row = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == a_json["id"])
            .unwrap_or_else(|| panic!("{a} missing from list ({index})"));
        assert_eq!(row["worked_minutes"], 45, "CASEBOOK_INDEX={index}");
    }
    let events = a_json["events"].as_array().unwrap();
    assert_eq!(events[1]["worked_minutes"], 15);
    let text = env.run(&root, &["show", &b]).ok().stdout;
    assert!(text.contains("time worked  2h"), "{text}");
    assert!(text.contains("worked: 1h 30m"), "{text}");
    let review = env.run(&root, &["review", "--json"]).json();
    assert_eq!(review["overall"]["worked_minutes_total"], 165);
    assert_eq!(review["overall"]["worked_minutes"]["median"], 82.5);
    let c = env.open(&root, "Cy", "Login fails");
    let n = env.commit_count(&root);
    for bad in ["15", "1.5h", "0m", "25h", "soon"] {
        let err = env.run(&root, &["ack", &c, "--worked", bad]).fails(1);
        assert!(err.contains("--worked"), "{bad}: {err}");
    }
    assert_eq!(env.commit_count(&root), n);
}

#[test]
fn duplicates_merge_into_one_case_in_one_commit_and_nothing_is_lost() {
    let env = Env::new();
    let root = env.casebook("book");
    let target = env.open(&root, "Ada", "Printer jams");
    let d1 = env.open(&root, "Ada", "Printer jams again");
    let d2 = env.open(&root, "Ada", "Printer still jams");
    env.run(
        &root,
        &[
            "gather",
            &d1,
            "--question",
            "Which tray?",
            "--answer",
            "Tray 2",
        ],
    )
    .ok();
    let before = env.run(&root, &["show", &d1, "--json"]).json();
    let n = env.commit_count(&root);
    env.run(&root, &["merge", &d1, &d2, "--into", &target]).ok();
    assert_eq!(env.commit_count(&root), n + 1, "one commit");

    let t = env.run(&root, &["show", &target, "--json"]).json();
    let merge = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(merge["action"], "merge");
    assert_eq!(merge["links"], serde_json::json!([d1.clone(), d2.clone()]));
    assert_eq!(t["status"], "new", "the target stays as it was");
    let d = env.run(&root, &["show", &d1, "--json"]).json();
    assert_eq!(d["status"], "closed");
    assert_eq!(d["merged_into"], target.as_str());
    // Nothing lost: every earlier event is still there, unchanged.
    let old = before["events"].as_array().unwrap();
    assert_eq!(
        &d["events"].as_array().unwrap()[..old.len()],
        old.as_slice()
    );
    // Its commitments stop: none runs on, none is owed in the queue.
    assert!(
        d["sla"]
            .as_object()
            .unwrap()
            .values()
            .all(|k| k["due"].is_null()
                && !["running", "at_risk", "breached"].contains(&k["state"].as_str().unwrap())),
        "{}",
        d["sla"]
    );
    let due = env.run(&root, &["due", "--json"]).json();
    assert!(due
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["case"] == target.as_str()));
    let text = env.run(&root, &["show", &d2]).ok().stdout;
    assert!(text.contains(&format!("merged into  {target}")), "{text}");
    let history = env.run(&root, &["history", &d2, "--json"]).json();
    assert_eq!(history[0]["action"], "close", "{history}");
    let history = env.run(&root, &["history", &target, "--json"]).json();
    assert_eq!(history[0]["action"], "merge", "{history}");

    // Later contact on a duplicate names the target.
    let err = env.run(&root, &["ack", &d1]).fails(1);
    assert!(err.contains(&format!("was merged into {target}")), "{err}");
    let logged = env
        .run(
            &root,
            &[
                "log",
                &d1,
                "--summary",
                "Ada called again",
                "--direction",
                "inbound",
            ],
        )
        .ok();
    assert!(
        logged.stderr.contains(&format!("merged into {target}")),
        "{}",
        logged.stderr
    );
}

#[test]
fn merging_into_itself_a_closed_case_or_a_cycle_is_refused_and_writes_nothing() {
    let env = Env::new();
    let root = env.casebook("book");
    let a = env.open(&root, "Ada", "One");
    let b = env.open(&root, "Ada", "Two");
    let c = env.open(&root, "Ada", "Three");
    env.run(&root, &["merge", &b, "--into", &a]).ok();
    let n = env.commit_count(&root);
    let err = env.run(&root, &["merge", &a, "--into", &a]).fails(1);
    assert!(err.contains("cannot be merged into itself"), "{err}");
    // A cycle: a into b, which is merged into a (closed).
    let err = env.run(&root, &["merge", &a, "--into", &b]).fails(1);
    assert!(
        err.contains("is closed") && err.contains(&format!("merged into {a}")),
        "{err}"
    );
    // One refusing duplicate: nothing is written, every refusal listed.
    let err = env
        .run(&root, &["merge", &c, &b, &a, "--into", &a])
        .fails(1);
    assert!(err.contains("2 of the cases refused `merge`"), "{err}");
    assert!(
        err.contains(&format!("{b}: close: case {b} was merged into {a}")),
        "{err}"
    );
    assert!(err.contains("into itself"), "{err}");
    let err = env
        .run(&root, &["merge", &c, "--into", "CB-ZZZZZZZZ"])
        .fails(1);
    assert!(err.contains("--into"), "{err}");
    assert_eq!(env.commit_count(&root), n);
    let c_json = env.run(&root, &["show", &c, "--json"]).json();
    assert_eq!(c_json["status"], "new");
}

#[test]
fn a_typo_is_corrected_by_a_correct_event_and_history_keeps_both() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = env.open(&root, "Ada", "Printer jams");
    env.run(
        &root,
        &["ack", &id, "--message", "Dear Ada, we are on it. Dnaa"],
    )
    .ok();
    env.run(
        &root,
        &["resolve", &id, "--resolution", "Replaced the rollr"],
    )
    .ok();
    let json = env.run(&root, &["show", &id, "--json"]).json();
    let events = json["events"].as_array().unwrap();
    let ack = events[1]["id"].as_str().unwrap().to_string();
    let resolve = events[2]["id"].as_str().unwrap().to_string();
    let n = env.commit_count(&root);
    env.run(
        &root,
        &[
            "amend",
            &id,
            &ack,
            "--message",
            "Dear Ada, we are on it. Dana",
        ],
    )
    .ok();
    env.run(
        &root,
        &[
            "amend",
            &id,
            &resolve,
            "--resolution",
            "Replaced the roller",
        ],
    )
    .ok();
    assert_eq!(env.commit_count(&root), n + 2);

    let json = env.run(&root, &["show", &id, "--json"]).json();
    let events = json["events"].as_array().unwrap();
    assert_eq!(
        events[1]["message"], "Dear Ada, we are on it. Dnaa",
        "the original stays"
    );
    let fix = &events[3];
    assert_eq!(fix["action"], "correct");
    assert_eq!(fix["corrects"], ack.as_str());
    assert_eq!(fix["message"], "Dear Ada, we are on it. Dana");
    assert_eq!(
        json["resolution"], "Replaced the roller",
        "the projection is corrected"
    );
    let text = env.run(&root, &["show", &id]).ok().stdout;
    assert!(
        text.contains("message (to the customer, edited): Dear Ada, we are on it. Dana"),
        "{text}"
    );
    assert!(!text.contains("Dnaa"), "{text}");
    assert!(text.contains(&ack), "show prints event ids: {text}");
    // git's own review of history shows both versions (the textconv driver opens them).
    let log = env.git(&root, &["log", "-p", "--format=%s"]);
    assert!(
        log.contains("Dnaa") && log.contains("correct — corrected message of event"),
        "{log}"
    );

    // Bad corrections: unknown event, a field the event never had, a correction of a
    // correction, nothing given.
    let fix_id = fix["id"].as_str().unwrap().to_string();
    for (args, says) in [
        (vec!["ZZZZZZZZZZZZ", "--message", "x"], "has no event"),
        (
            vec![ack.as_str(), "--answer", "x"],
            "recorded no answer; what it recorded: message",
        ),
        (
            vec![fix_id.as_str(), "--message", "x"],
            "is itself a correction",
        ),
        (vec![ack.as_str()], "nothing to correct"),
        (vec![ack.as_str(), "--message", "  "], "must not be empty"),
    ] {
        let mut a = vec!["amend", id.as_str()];
        a.extend(args.iter());
        let err = env.run(&root, &a).fails(1);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(env.commit_count(&root), n + 2);
}

#[test]
fn customer_history_lists_one_customers_cases_newest_first_with_counts() {
    let env = Env::new();
    let root = env.casebook("book");
    let open = |name: &str, email: &str, subject: &str, now: &str| {
        env.cb(&root)
            .args([
                "open",
                "--customer",
                name,
                "--email",
                email,
                "--subject",
                subject,
            ])
            .env("CASEBOOK_NOW", now)
            .output()
            .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_string())
            .unwrap()
    };
    let first = open(
        "Ada Lovelace",
        "ada@example.com",
        "Printer jams",
        "2026-11-20T09:00:00Z",
    );
    let second = open(
        "Ada Lovelace",
        "ADA@example.com",
        "Toner empty",
        "2026-11-21T09:00:00Z",
    );
    let _other = open(
        "Adam Smith",
        "adam@example.com",
        "Login",
        "2026-11-22T09:00:00Z",
    );
    env.run(&root, &["ack", &first]).ok();
    env.run(&root, &["resolve", &first, "--resolution", "Cleared"])
        .ok();
    env.run(
        &root,
        &["follow-up", &first, "--satisfied", "--rating", "4"],
    )
    .ok();
    for query in ["ada@example.com", "ada lovelace"] {
        let h = env.run(&root, &["customer", query, "--json"]).json();
        let ids: Vec<&str> = h["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![second.as_str(), first.as_str()], "{query}");
        assert_eq!(h["cases"], 2);
        assert_eq!(h["open"], 1);
        assert_eq!(h["last_rating"]["rating"], 4);
        assert_eq!(h["last_rating"]["case"], first.as_str());
    }
    let none = env.run(&root, &["customer", "Ada", "--json"]).json();
    assert_eq!(
        none["cases"], 0,
        "a part of a name is list --customer's job"
    );
    let text = env.run(&root, &["customer", "ada@example.com"]).ok().stdout;
    assert!(
        text.starts_with("Ada Lovelace (ADA@example.com): 2 case(s), 1 open, last rating 4/5"),
        "{text}"
    );
    let err = env.run(&root, &["customer", " "]).fails(1);
    assert!(err.contains("must not be empty"), "{err}");
}
