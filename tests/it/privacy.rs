//! Personal data that can be erased (issue 14): sealed in every file and object, erased by
//! destroying keys, proved with git's own tools over three clones and a bare remote.

use std::path::{Path, PathBuf};

use base64::Engine;
use casebook::store::Store;

use crate::common::{case_path, Env};
use crate::sync::{clone, setup};

/// What Ada (the customer who asks for erasure) said and is known by: none of it may be
/// readable anywhere after the erasure.
const ADA: &[&str] = &[
    "Ada Lovelace",
    "ada@example.com",
    "7946 0958",
    "Quetzalcoatl",
    "Xylophone",
    "Kumquat",
    "Zanzibar",
];
/// Bob's, which must read back intact.
const BOB: &[&str] = &["Bob Babbage", "bob@example.com", "Marmalade", "Gooseberry"];

fn open(env: &Env, root: &Path, args: &[&str]) -> String {
    let mut all = vec!["open"];
    all.extend_from_slice(args);
    env.run(root, &all).ok().stdout.trim().to_string()
}

/// Every object of the repository at `root`, contents included, as git prints them.
fn all_objects(root: &Path) -> Vec<u8> {
    let out = std::process::Command::new("git")
        .args(["cat-file", "--batch-all-objects", "--batch"])
        .current_dir(root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn gc(env: &Env, root: &Path) {
    env.git(root, &["reflog", "expire", "--expire=now", "--all"]);
    env.git(root, &["gc", "-q", "--prune=now"]);
}

/// The secrets of the keys with these ids, as bytes and as the base64url text a key ring
/// stores them in.
fn secrets(root: &Path, ids: &[String]) -> Vec<(Vec<u8>, String)> {
    use casebook::model::seal::{Keys, Lookup};
    let ring = Store::discover(root).unwrap().keyring().unwrap().unwrap();
    ids.iter()
        .map(|id| match ring.lookup(id) {
            Lookup::Present(k) => {
                let raw = k.secret().to_vec();
                let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw);
                (raw, text)
            }
            _ => panic!("key {id} is not in {}", root.display()),
        })
        .collect()
}

fn key_ids_of(root: &Path, id: &str) -> Vec<String> {
    casebook::model::privacy::key_ids_in(&std::fs::read_to_string(case_path(root, id)).unwrap())
}

fn events(env: &Env, root: &Path, id: &str) -> Vec<String> {
    env.run(root, &["show", id, "--json"]).json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_erased_customer_is_gone_from_every_object_of_every_clone_and_the_audit_trail_stays() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let b = clone(&env, &remote, "b");
    let c = clone(&env, &remote, "c");
    let files = env.path("files");
    std::fs::create_dir_all(&files).unwrap();
    let ada_file = files.join("ada-invoice.txt");
    std::fs::write(&ada_file, "Invoice for the Xylophone repair").unwrap();
    let bob_file = files.join("bob-receipt.txt");
    std::fs::write(&bob_file, "Receipt: Marmalade press").unwrap();

    // Ada has a case in a (with everything an SOP records) and one in b; Bob one in a.
    let ada1 = open(
        &env,
        &a,
        &[
            "--customer",
            "Ada Lovelace",
            "--email",
            "ada@example.com",
            "--phone",
            "+44 20 7946 0958",
            "--subject",
            "Zanzibar printer jams",
            "--description",
            "It jams like Quetzalcoatl",
        ],
    );
    env.run(
        &a,
        &["ack", &ada1, "--message", "Dear Ada Lovelace, we are on it"],
    )
    .ok();
    env.run(
        &a,
        &[
            "gather",
            &ada1,
            "--question",
            "Which tray, Ada Lovelace?",
            "--answer",
            "Tray 2, Quetzalcoatl",
            "--attach",
            ada_file.to_str().unwrap(),
        ],
    )
    .ok();
    env.run(
        &a,
        &[
            "log",
            &ada1,
            "--summary",
            "Called Ada Lovelace about Quetzalcoatl",
            "--direction",
            "outbound",
        ],
    )
    .ok();
    env.run(
        &a,
        &["resolve", &ada1, "--resolution", "Replaced the roller"],
    )
    .ok();
    env.run(
        &a,
        &[
            "follow-up",
            &ada1,
            "--satisfied",
            "--rating",
            "5",
            "--feedback",
            "Quetzalcoatl approves",
        ],
    )
    .ok();
    let bob = open(
        &env,
        &a,
        &[
            "--customer",
            "Bob Babbage",
            "--email",
            "bob@example.com",
            "--subject",
            "Gooseberry scanner",
        ],
    );
    env.run(
        &a,
        &["gather", &bob, "--attach", bob_file.to_str().unwrap()],
    )
    .ok();
    env.run(&a, &["sync"]).ok();
    env.run(&b, &["sync"]).ok();
    let ada2 = open(
        &env,
        &b,
        &[
            "--customer",
            "Ada Lovelace",
            "--email",
            "ada@example.com",
            "--subject",
            "Kumquat toner",
        ],
    );
    for root in [&b, &a, &c] {
        env.run(root, &["sync"]).ok();
    }
    // Every clone reads everything; no object anywhere holds it in plain text.
    for root in [&a, &b, &c] {
        let shown = env.run(root, &["show", &ada1]).ok().stdout;
        assert!(
            shown.contains("Ada Lovelace") && shown.contains("Quetzalcoatl"),
            "{shown}"
        );
        let objects = all_objects(root);
        for word in ADA.iter().chain(BOB) {
            assert!(
                !contains(&objects, word.as_bytes()),
                "{word} in {}",
                root.display()
            );
        }
    }
    let ada_keys: Vec<String> = [&ada1, &ada2]
        .iter()
        .flat_map(|id| key_ids_of(&a, id))
        .collect();
    assert_eq!(ada_keys.len(), 2, "one key per case: {ada_keys:?}");
    let ada_secrets = secrets(&a, &ada_keys);
    let events_before = [events(&env, &a, &ada1), events(&env, &a, &ada2)];
    let sla_before = env.run(&a, &["show", &ada1, "--json"]).json()["sla"].clone();
    let review_before = env.run(&a, &["review", "--json"]).json()["metrics"].clone();

    // c goes offline. a erases Ada with one command; a and b sync.
    let out = env
        .run(
            &a,
            &[
                "erase",
                "--customer",
                "ADA@example.com",
                "--reason",
                "GDPR request 2026-114",
            ],
        )
        .ok()
        .stdout;
    assert!(
        out.contains(&ada1) && out.contains(&ada2) && !out.contains(&bob),
        "{out}"
    );
    env.run(&a, &["sync"]).ok();
    env.run(&b, &["sync"]).ok();
    // The offline clone still reads Ada until it syncs; then it loses the key too.
    assert!(env
        .run(&c, &["show", &ada1])
        .ok()
        .stdout
        .contains("Ada Lovelace"));
    env.run(&c, &["sync"]).ok();
    env.run(&a, &["sync"]).ok();
    env.run(&b, &["sync"]).ok();

    let repos: Vec<PathBuf> = vec![a.clone(), b.clone(), c.clone(), remote.clone()];
    for root in &repos {
        gc(&env, root);
        let objects = all_objects(root);
        for word in ADA {
            assert!(
                !contains(&objects, word.as_bytes()),
                "{word} in {}",
                root.display()
            );
        }
        for (raw, text) in &ada_secrets {
            assert!(!contains(&objects, raw), "a key in {}", root.display());
            assert!(
                !contains(&objects, text.as_bytes()),
                "a key in {}",
                root.display()
            );
        }
    }
    for root in [&a, &b, &c] {
        // Ada's data reads [erased] everywhere, with every event still there ...
        let shown = env.run(root, &["show", &ada1]).ok().stdout;
        for word in ADA {
            assert!(!shown.contains(word), "{word}: {shown}");
        }
        assert!(shown.contains("[erased]"), "{shown}");
        for (id, before) in [&ada1, &ada2].iter().zip(&events_before) {
            let after = events(&env, root, id);
            assert_eq!(&after[..before.len()], &before[..], "no event is lost");
            assert_eq!(after.len(), before.len() + 1, "one erase event");
        }
        let json = env.run(root, &["show", &ada1, "--json"]).json();
        let erase = json["events"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(erase["action"], "erase");
        assert_eq!(erase["reason"], "GDPR request 2026-114");
        assert_eq!(json["sla"], sla_before, "SLA numbers are unchanged");
        // ... and list, export and review still work.
        let list = env.run(root, &["list", "--all"]).ok().stdout;
        assert!(
            list.contains("[erased]") && list.contains("Bob Babbage"),
            "{list}"
        );
        let export = env.run(root, &["export"]).ok().stdout;
        assert!(!ADA.iter().any(|w| export.contains(w)), "{export}");
        assert_eq!(
            env.run(root, &["review", "--json"]).json()["metrics"],
            review_before
        );
        // Bob's data reads back intact, his attachment too.
        let mine = env
            .run(root, &["export", "--customer", "bob@example.com", "--json"])
            .json();
        let case = &mine["cases"][0];
        assert_eq!(case["customer"]["name"], "Bob Babbage");
        assert_eq!(case["case"]["subject"], "Gooseberry scanner");
        let content = case["attachment_contents"][0]["content_base64"]
            .as_str()
            .unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(content)
                .unwrap(),
            b"Receipt: Marmalade press"
        );
        // The key never comes back: no ring has it, and the audit trail shows the erasure.
        let ring = Store::discover(root).unwrap().keyring().unwrap().unwrap();
        for k in &ada_keys {
            assert!(ring.is_erased(k));
        }
        let log = env.git(root, &["log", "--format=%B", "--grep", "Action: erase"]);
        assert!(log.contains(&format!("Case-Id: {ada1}")), "{log}");
        assert!(log.contains(&format!("Case-Id: {ada2}")), "{log}");
    }
    // Commit messages never held personal data.
    let messages = env.git(&a, &["log", "--format=%B"]);
    for word in ADA.iter().chain(BOB) {
        assert!(!messages.contains(word), "{word} in a commit message");
    }
}

#[test]
fn tampered_ciphertext_and_a_wrong_key_are_errors_naming_the_case() {
    let env = Env::new();
    let root = env.casebook("book");
    let ada = env.open(&root, "Ada", "Printer");
    let bob = env.open(&root, "Bob", "Scanner");
    let path = case_path(&root, &ada);
    let text = std::fs::read_to_string(&path).unwrap();
    // Change one character of the ciphertext of the customer's name.
    let line = text
        .lines()
        .find(|l| l.starts_with("name = \"sealed:v1:K"))
        .unwrap()
        .to_string();
    let last = line.len() - 2;
    let flipped = if &line[last..last + 1] == "A" {
        "B"
    } else {
        "A"
    };
    let bad = format!("{}{flipped}\"", &line[..last]);
    std::fs::write(&path, text.replace(&line, &bad)).unwrap();
    env.git(&root, &["commit", "-qam", "tamper"]);
    let err = env.run(&root, &["show", &ada]).fails(1);
    assert!(
        err.contains(&ada) && err.contains("name") && err.contains("changed"),
        "{err}"
    );
    // Said once: not again as its own cause.
    let said = err.lines().next().unwrap().trim_start_matches("error: ");
    assert_eq!(err.matches(said).count(), 1, "{err}");
    assert!(!err.contains("caused by"), "{err}");
    // The hint names the file, and what undoes the committed change.
    let rel = path.strip_prefix(&root).unwrap().to_str().unwrap();
    let hint = err.lines().find(|l| l.starts_with("hint: ")).unwrap();
    assert!(!hint.contains("FILE"), "{hint}");
    assert!(
        hint.contains(&format!("git log -p -- {rel}"))
            && hint.contains(&format!("git checkout COMMIT~ -- {rel}")),
        "{hint}"
    );
    // verify says it once too.
    let verify = env.run(&root, &["verify"]);
    let out = verify.stdout();
    verify.fails(1);
    assert_eq!(out.matches(said).count(), 1, "{out}");
    // Other cases still list; the broken one is named in a warning.
    let list = env.run(&root, &["list"]);
    let listed = list.ok();
    assert!(listed.stdout.contains(&bob) && !listed.stdout.contains(&ada));
    assert!(listed.stderr.contains(&ada[3..5]), "{}", listed.stderr);
    // Nothing is written on top of it.
    let before = env.commit_count(&root);
    env.run(&root, &["ack", &ada]).fails(1);
    assert_eq!(env.commit_count(&root), before);

    // A value sealed with another case's key (copied over) does not open either.
    env.git(&root, &["reset", "-q", "--hard", "HEAD~1"]);
    let ada_text = std::fs::read_to_string(&path).unwrap();
    let bob_text = std::fs::read_to_string(case_path(&root, &bob)).unwrap();
    let bob_name = bob_text
        .lines()
        .find(|l| l.starts_with("name = \"sealed:v1:K"))
        .unwrap();
    let ada_name = ada_text
        .lines()
        .find(|l| l.starts_with("name = \"sealed:v1:K"))
        .unwrap();
    std::fs::write(&path, ada_text.replace(ada_name, bob_name)).unwrap();
    env.git(&root, &["commit", "-qam", "swap"]);
    let err = env.run(&root, &["show", &ada]).fails(1);
    assert!(err.contains(&ada) && err.contains("does not open"), "{err}");
    assert!(
        !err.contains("Bob"),
        "never garbage, never the other case's data: {err}"
    );
}

#[test]
fn a_sealed_file_stores_each_value_once_and_an_edited_marker_is_refused() {
    let env = Env::new();
    let root = env.casebook("book");
    let ada = env.open(&root, "Ada", "Printer");
    let path = case_path(&root, &ada);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("schema = 2\n"), "{text}");
    let sealed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once(" = \"sealed:v1:K").map(|(_, v)| v))
        .collect();
    assert!(!sealed.is_empty());
    for v in &sealed {
        assert_eq!(text.matches(v).count(), 1, "stored twice: {v}");
    }
    assert!(
        text.contains("[customer]\nname = \"sealed:v1:from-events\""),
        "{text}"
    );
    assert!(env.run(&root, &["show", &ada]).ok().stdout.contains("Ada"));
    // A marker where the events give nothing: a clear error, and nothing written on top.
    let edited = text.replace(
        "[customer]\n",
        "[customer]\nphone = \"sealed:v1:from-events\"\n",
    );
    std::fs::write(&path, edited).unwrap();
    env.git(&root, &["commit", "-qam", "hand edit"]);
    let before = env.commit_count(&root);
    let err = env.run(&root, &["ack", &ada]).fails(1);
    assert!(
        err.contains("[customer] phone") && err.contains("edited by hand"),
        "{err}"
    );
    assert_eq!(env.commit_count(&root), before);
}

#[test]
fn a_clone_without_the_key_ring_says_so_and_sync_brings_it() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let id = env.open(&a, "Ada Lovelace", "Printer");
    env.run(&a, &["sync"]).ok();
    let plain = env.path("plain");
    env.git(
        env.tmp.path(),
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            plain.to_str().unwrap(),
        ],
    );
    let shown = env.run(&plain, &["show", &id]).ok();
    assert!(
        shown.stdout.contains("[sealed]") && !shown.stdout.contains("Ada"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stderr.contains("no key ring") && shown.stderr.contains("casebook sync"),
        "{}",
        shown.stderr
    );
    env.run(&plain, &["sync"]).ok();
    let shown = env.run(&plain, &["show", &id]).ok().stdout;
    assert!(shown.contains("Ada Lovelace"), "{shown}");
    // list too (its index was built while the keys were missing).
    assert!(env
        .run(&plain, &["list"])
        .ok()
        .stdout
        .contains("Ada Lovelace"));
}

#[test]
fn plain_books_stay_plain_until_sealed_and_seal_says_history_keeps_the_plain_text() {
    let env = Env::new();
    let root = env.casebook_with("book", &["--plain"]);
    let old = env.open(&root, "Ada Lovelace", "Old printer");
    let text = std::fs::read_to_string(case_path(&root, &old)).unwrap();
    assert!(
        text.contains("Ada Lovelace") && !text.contains("sealed:"),
        "{text}"
    );

    let out = env.run(&root, &["seal"]).ok().stdout;
    assert!(
        out.contains("sealed") && out.contains("still hold personal data in plain text"),
        "{out}"
    );
    let config = std::fs::read_to_string(root.join(".casebook/config.toml")).unwrap();
    assert!(config.contains("seal = true"), "{config}");
    // Again: already so, no commit, and no note about "this one".
    let before = env.commit_count(&root);
    let again = env.run(&root, &["seal"]).ok().stdout;
    assert!(again.contains("already sealed"), "{again}");
    assert!(!again.contains("commits made before"), "{again}");
    assert_eq!(env.commit_count(&root), before);
    // A book sealed from the start says the same.
    let sealed = env.casebook("sealed");
    let before = env.commit_count(&sealed);
    let out = env.run(&sealed, &["seal"]).ok().stdout;
    assert!(
        out.contains("already sealed") && !out.contains("commits made before"),
        "{out}"
    );
    assert_eq!(env.commit_count(&sealed), before);

    let new = env.open(&root, "Bob Babbage", "New scanner");
    let text = std::fs::read_to_string(case_path(&root, &new)).unwrap();
    assert!(
        !text.contains("Bob Babbage") && text.contains("sealed:v1:"),
        "{text}"
    );
    // The old case is sealed when next written; erasing it says its history is plain.
    env.run(&root, &["ack", &old, "--message", "Dear Ada"]).ok();
    let text = std::fs::read_to_string(case_path(&root, &old)).unwrap();
    assert!(!text.contains("Ada Lovelace"), "{text}");
    let out = env
        .run(&root, &["erase", &old, "--reason", "asked"])
        .ok()
        .stdout;
    assert!(out.contains("plain text in history"), "{out}");
    assert!(env
        .run(&root, &["show", &old])
        .ok()
        .stdout
        .contains("[erased]"));
}

#[test]
fn erase_in_a_plain_book_says_there_is_nothing_to_erase() {
    let env = Env::new();
    let root = env.casebook_with("book", &["--plain"]);
    let id = env.open(&root, "Ada Lovelace", "Old printer");
    let before = env.commit_count(&root);
    for extra in [&["--dry-run"][..], &[]] {
        let mut args = vec!["erase", &id, "--reason", "asked"];
        args.extend_from_slice(extra);
        let out = env.run(&root, &args).ok().stdout;
        let first = out.lines().next().unwrap();
        assert!(
            first.starts_with("nothing would be erased") || first.starts_with("nothing was erased"),
            "{extra:?}: {out}"
        );
        assert!(first.contains("no sealed personal data"), "{out}");
        assert!(!out.contains("0 cases"), "{out}");
        assert!(
            out.contains("plain text in history") && out.contains(&id),
            "{out}"
        );
    }
    assert_eq!(env.commit_count(&root), before, "nothing to record");
}

#[test]
fn retention_erases_cases_closed_longer_ago_and_dry_run_only_says_so() {
    let env = Env::new();
    let root = env.casebook("book");
    let config = root.join(".casebook/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("# retain = \"3y\"", "retain = \"3y\"", 1),
    )
    .unwrap();
    env.git(&root, &["commit", "-qam", "keep personal data 3 years"]);
    let at = |t: &str, args: &[&str]| {
        let out = env
            .cb(&root)
            .env("CASEBOOK_NOW", t)
            .args(args)
            .output()
            .unwrap();
        crate::common::Run(out).ok().stdout.trim().to_string()
    };
    let args = [
        "open",
        "--customer",
        "Ada Old",
        "--email",
        "old@example.com",
        "--subject",
        "Old",
    ];
    let old = at("2022-01-10T09:00:00Z", &args);
    at("2022-01-10T10:00:00Z", &["close", &old, "--reason", "done"]);
    let args = [
        "open",
        "--customer",
        "Bea New",
        "--email",
        "new@example.com",
        "--subject",
        "New",
    ];
    let recent = at("2025-06-10T09:00:00Z", &args);
    at(
        "2025-06-10T10:00:00Z",
        &["close", &recent, "--reason", "done"],
    );
    let open = env.open(&root, "Cy Open", "Still open");

    let before = env.commit_count(&root);
    let plan = env.run(&root, &["tick", "--dry-run", "--json"]).json();
    let erases: Vec<&str> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "erase")
        .map(|a| a["case"].as_str().unwrap())
        .collect();
    assert_eq!(erases, [old.as_str()], "{plan}");
    assert_eq!(env.commit_count(&root), before, "a dry run writes nothing");
    assert!(env
        .run(&root, &["show", &old])
        .ok()
        .stdout
        .contains("Ada Old"));

    env.run(&root, &["tick"]).ok();
    assert!(env
        .run(&root, &["show", &old])
        .ok()
        .stdout
        .contains("[erased]"));
    for id in [&recent, &open] {
        assert!(!env
            .run(&root, &["show", id])
            .ok()
            .stdout
            .contains("[erased]"));
    }
    // Idempotent: nothing left to erase.
    let again = env.run(&root, &["tick", "--dry-run", "--json"]).json();
    assert!(!again.to_string().contains("erase"), "{again}");
    // A bad retention is refused with what to write.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("retain = \"3y\"", "retain = \"3 years\"", 1),
    )
    .unwrap();
    env.git(&root, &["commit", "-qam", "typo"]);
    let err = env.run(&root, &["tick"]).fails(1);
    assert!(
        err.contains("privacy.retain") && err.contains("3y"),
        "{err}"
    );
}

#[test]
fn erase_refuses_bad_input_and_writes_nothing() {
    let env = Env::new();
    let root = env.casebook("book");
    env.open(&root, "Ada", "Printer");
    let before = env.commit_count(&root);
    let err = env
        .run(&root, &["erase", "--customer", "Ada", "--reason", "x"])
        .fails(1);
    assert!(
        err.contains("not an e-mail address or phone number"),
        "{err}"
    );
    let err = env
        .run(
            &root,
            &["erase", "--customer", "nobody@example.com", "--reason", "x"],
        )
        .fails(1);
    assert!(err.contains("no case of nobody@example.com"), "{err}");
    env.run(&root, &["erase", "CB-ZZZZZZZZ", "--reason", "x"])
        .fails(1);
    let err = env
        .run(
            &root,
            &["erase", "--customer", "ada@example.com", "--reason", " "],
        )
        .fails(1);
    assert!(err.contains("--reason"), "{err}");
    env.run(&root, &["erase", "--reason", "x"]).fails(2);
    assert_eq!(env.commit_count(&root), before);
}

/// A sealed book with one case of Ada Lovelace's, with `jam.txt` ("jammed") attached.
fn ada_with_an_attachment(env: &Env) -> (PathBuf, String) {
    let root = env.casebook("book");
    let id = env.open(&root, "Ada Lovelace", "Printer");
    let file = env.path("jam.txt");
    std::fs::write(&file, "jammed").unwrap();
    env.run(&root, &["gather", &id, "--attach", file.to_str().unwrap()])
        .ok();
    (root, id)
}

#[test]
fn a_dry_run_erases_nothing_and_attachment_names_what_a_case_has() {
    let env = Env::new();
    let (root, id) = ada_with_an_attachment(&env);
    let before = env.commit_count(&root);
    let plan = env
        .run(
            &root,
            &[
                "--json",
                "erase",
                "--customer",
                "ada.lovelace@example.com",
                "--reason",
                "asked",
                "--dry-run",
            ],
        )
        .json();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["cases"][0], id.as_str());
    assert_eq!(plan["keys"].as_array().unwrap().len(), 1);
    assert_eq!(env.commit_count(&root), before);
    assert!(env
        .run(&root, &["show", &id])
        .ok()
        .stdout
        .contains("Ada Lovelace"));
    assert_eq!(
        env.run(&root, &["attachment", &id, "jam.txt"]).ok().stdout,
        "jammed"
    );
    let err = env.run(&root, &["attachment", &id, "nope.txt"]).fails(1);
    assert!(
        err.contains("no attachment \"nope.txt\"") && err.contains("jam.txt"),
        "{err}"
    );
    // After the erasure the attachment cannot be opened, and says why.
    env.run(&root, &["erase", &id, "--reason", "asked"]).ok();
    let err = env.run(&root, &["attachment", &id, "[erased]"]).fails(1);
    assert!(err.contains("erased"), "{err}");
}

#[test]
fn an_erasure_killed_after_its_keys_are_destroyed_is_recorded_by_the_next_command() {
    let env = Env::new();
    let root = env.casebook("book");
    let a = env.open(&root, "Ada Lovelace", "Printer");
    let b = env.open(&root, "Ada Lovelace", "Scanner");
    let before = env.commit_count(&root);
    let out = env
        .cb(&root)
        .env("CASEBOOK_FAULT", "erase-after-keys")
        .args([
            "erase",
            "--customer",
            "ada.lovelace@example.com",
            "--reason",
            "GDPR 7",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "killed at the fault point");
    assert_eq!(
        env.commit_count(&root),
        before,
        "the events were not recorded yet"
    );
    // The next command of any kind finishes it: both cases get their erase event, once.
    let shown = env.run(&root, &["show", &a]).ok().stdout;
    assert!(
        shown.contains("[erased]") && !shown.contains("Lovelace"),
        "{shown}"
    );
    assert_eq!(env.commit_count(&root), before + 1);
    for id in [&a, &b] {
        let events = env.run(&root, &["show", id, "--json"]).json()["events"].clone();
        let erases: Vec<_> = events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "erase")
            .collect();
        assert_eq!(erases.len(), 1, "{events}");
        assert_eq!(erases[0]["reason"], "GDPR 7");
    }
    env.run(&root, &["list"]).ok();
    assert_eq!(
        env.commit_count(&root),
        before + 1,
        "nothing is recorded twice"
    );
    assert!(!root.join(".git/casebook-erase-pending.json").exists());
}

/// `git gc` between the writes and the erasure moves the replaced key rings (still holding
/// every key) into a cruft pack or loose objects; the erasure must leave no secret of its
/// keys in any of them. A retention-sized erasure is also one pack, not a file per case.
#[test]
fn an_erasure_after_git_gc_leaves_no_old_ring_with_its_keys() {
    let env = Env::new();
    let root = env.casebook("book");
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/cases.csv");
    env.run(&root, &["import", sample]).ok();
    // Each new case replaces the ring; the import's ring, packed, is left unreachable.
    for i in 0..5 {
        open(
            &env,
            &root,
            &[
                "--customer",
                &format!("New {i}"),
                "--email",
                &format!("new{i}@example.com"),
                "--subject",
                "Later case",
            ],
        );
    }
    env.git(&root, &["gc", "-q"]);
    let ids: Vec<String> = env
        .run(&root, &["list", "--ids", "--all"])
        .ok()
        .stdout
        .lines()
        .map(str::to_string)
        .collect();
    assert!(ids.len() > 100, "{} cases", ids.len());
    let erased: Vec<String> = ids[..60].to_vec();
    let key_ids: Vec<String> = erased.iter().flat_map(|id| key_ids_of(&root, id)).collect();
    let secrets = secrets(&root, &key_ids);
    let loose = |root: &Path| {
        walk_files(&root.join(".git/objects"))
            .into_iter()
            .filter(|p| !p.starts_with(root.join(".git/objects/pack")))
            .count()
    };
    let loose_before = loose(&root);
    let mut args = vec!["erase", "--reason", "retention test"];
    args.extend(erased.iter().map(String::as_str));
    env.run(&root, &args).ok();

    let objects = all_objects(&root);
    for (raw, text) in &secrets {
        assert!(!contains(&objects, raw), "a raw secret survived");
        assert!(
            !contains(&objects, text.as_bytes()),
            "a key ring line survived"
        );
    }
    assert!(
        loose(&root) <= loose_before + 8,
        "60 erased cases added {} loose objects",
        loose(&root) - loose_before
    );
    env.git(&root, &["fsck", "--strict", "--no-dangling"]);
    let kept = env.run(&root, &["show", &ids[80]]).ok().stdout;
    assert!(
        !kept.contains("[erased]") && !kept.contains("[sealed]"),
        "{kept}"
    );
    let gone = env.run(&root, &["show", &erased[0]]).ok().stdout;
    assert!(gone.contains("[erased]"), "{gone}");
}

/// Ada's case, its key moved from the pending file into the key ring (as `sync` does), and
/// that key's secrets.
fn ada_in_the_ring(env: &Env) -> (PathBuf, Vec<(Vec<u8>, String)>) {
    let root = env.casebook("book");
    let id = env.open(&root, "Ada Lovelace", "Printer");
    Store::discover(&root)
        .unwrap()
        .update_keyring(chrono::Utc::now(), |_| false)
        .unwrap();
    let secrets = secrets(&root, &key_ids_of(&root, &id));
    assert!(contains(&all_objects(&root), secrets[0].1.as_bytes()));
    (root, secrets)
}

fn erase_ada(env: &Env, root: &Path) {
    env.run(
        root,
        &[
            "erase",
            "--customer",
            "ada.lovelace@example.com",
            "--reason",
            "asked",
        ],
    )
    .ok();
}

fn assert_no_secret(root: &Path, secrets: &[(Vec<u8>, String)]) {
    let objects = all_objects(root);
    for (raw, text) in secrets {
        assert!(!contains(&objects, raw), "a raw secret survived");
        assert!(
            !contains(&objects, text.as_bytes()),
            "a key ring line survived"
        );
    }
}

/// `git repack -a` without `-d` leaves every object both loose and packed: deleting the
/// old ring's loose files is not enough.
#[test]
fn an_erasure_finds_the_packed_copy_of_a_ring_that_is_also_loose() {
    let env = Env::new();
    let (root, secrets) = ada_in_the_ring(&env);
    env.git(&root, &["repack", "-a", "-q"]);
    erase_ada(&env, &root);
    assert_no_secret(&root, &secrets);
    env.git(&root, &["fsck", "--strict", "--no-dangling"]);
}

/// A `git gc` that read the ring before an erasure replaced it can write it into a pack
/// after the erasure has looked: while a gc runs the erasure keeps its note, and the next
/// command of any kind, once the gc is over, finds the late pack and drops the old ring.
#[test]
fn a_ring_packed_by_a_gc_that_overlapped_the_erasure_is_dropped_by_the_next_command() {
    let env = Env::new();
    let (root, secrets) = ada_in_the_ring(&env);
    env.git(&root, &["repack", "-a", "-d", "-q"]);
    // The pack the gc is writing, with the ring as it was before the erasure.
    let packs = root.join(".git/objects/pack");
    let late = env.tmp.path().join("late-pack");
    std::fs::create_dir(&late).unwrap();
    for entry in std::fs::read_dir(&packs).unwrap().flatten() {
        std::fs::copy(entry.path(), late.join(entry.file_name())).unwrap();
    }
    // A gc is running: this process stands in for it.
    let gc_pid = root.join(".git/gc.pid");
    std::fs::write(&gc_pid, format!("{} localhost", std::process::id())).unwrap();
    erase_ada(&env, &root);
    assert_no_secret(&root, &secrets);
    // The gc finishes: its pack lands, and its lock goes.
    for entry in std::fs::read_dir(&late).unwrap().flatten() {
        std::fs::copy(entry.path(), packs.join(entry.file_name())).unwrap();
    }
    std::fs::remove_file(&gc_pid).unwrap();
    assert!(contains(&all_objects(&root), secrets[0].1.as_bytes()));
    env.run(&root, &["list"]).ok();
    assert_no_secret(&root, &secrets);
    assert!(!root.join(".git/casebook-keyring-replaced").exists());
    // Nothing is left to finish: the next command leaves the pack alone.
    env.run(&root, &["list"]).ok();
    env.git(&root, &["fsck", "--strict", "--no-dangling"]);
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// An import large enough to seal its new cases ahead, on another core while it reads
/// (more than one chunk of rows): every case reads back as its row says, from a new
/// process that has only the key ring on disk, and erasing a customer by e-mail finds
/// every one of their cases, so each key made ahead went into the ring under its
/// customer's subject.
#[test]
fn a_large_sealed_import_reads_back_and_erases_by_customer() {
    let env = Env::new();
    let root = env.casebook("book");
    let rows: usize = 1_300;
    let mut csv = String::from("external_id,customer,email,subject,description\n");
    for i in 0..rows {
        // One customer writes every 50th row; the others one row each.
        let who = if i.is_multiple_of(50) { rows } else { i };
        csv.push_str(&format!(
            "EXT-{i},Customer {who},c{who}@example.com,Subject {i},Words of row {i}\n"
        ));
    }
    // The same rows with a bad one last are refused whole, after they were sealed ahead:
    // no commit, and no key reaches the key ring.
    let bad = env.path("bad.csv");
    std::fs::write(
        &bad,
        format!("{csv}EXT-bad,Someone,not an address,Subject,Words\n"),
    )
    .unwrap();
    let ring = |root: &Path| env.git(root, &["rev-parse", "refs/casebook/keyring"]);
    let (commits, ring_before) = (env.commit_count(&root), ring(&root));
    env.run(&root, &["import", bad.to_str().unwrap()]).fails(1);
    assert_eq!(env.commit_count(&root), commits);
    assert_eq!(ring(&root), ring_before);

    let file = env.path("big.csv");
    std::fs::write(&file, csv).unwrap();
    env.run(&root, &["import", file.to_str().unwrap()]).ok();

    let export = env.run(&root, &["export", "--format", "jsonl"]).ok().stdout;
    let mut seen = 0;
    for line in export.lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let i: usize = case["external_id"].as_str().unwrap()[4..].parse().unwrap();
        let who = if i.is_multiple_of(50) { rows } else { i };
        assert_eq!(case["customer"], format!("Customer {who}"), "{line}");
        assert_eq!(case["email"], format!("c{who}@example.com"), "{line}");
        assert_eq!(case["subject"], format!("Subject {i}"), "{line}");
        assert_eq!(case["description"], format!("Words of row {i}"), "{line}");
        seen += 1;
    }
    assert_eq!(seen, rows);
    // Each sealed value is stored once, in the `open` event; `[case]` and `[customer]`
    // take theirs from it (subject, description, name, e-mail).
    let first: serde_json::Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
    let id = first["id"].as_str().unwrap();
    let text = std::fs::read_to_string(crate::common::case_path(&root, id)).unwrap();
    assert_eq!(
        text.matches("\"sealed:v1:from-events\"").count(),
        4,
        "{text}"
    );
    assert_eq!(text.matches("\"sealed:v1:K").count(), 4, "{text}");
    assert!(text.starts_with("schema = 2\n"), "{text}");

    env.run(
        &root,
        &[
            "erase",
            "--customer",
            "c1300@example.com",
            "--reason",
            "test",
        ],
    )
    .ok();
    let export = env.run(&root, &["export", "--format", "jsonl"]).ok().stdout;
    let erased: Vec<&str> = export.lines().filter(|l| l.contains("[erased]")).collect();
    assert_eq!(erased.len(), rows / 50, "one per row of the customer");
    assert!(!export.contains("Customer 1300"));
    assert!(export.contains("\"Customer 1299\""));
}

/// A subject access export gives every attachment of the customer's cases; one it cannot
/// give is an error naming its file (damaged, sealed with a key its case does not use, or
/// missing), never a silent gap in what the customer is owed.
#[test]
fn a_subject_access_export_names_a_damaged_attachment() {
    let env = Env::new();
    let (root, _) = ada_with_an_attachment(&env);
    let export = ["export", "--customer", "ada.lovelace@example.com", "--json"];
    let stored = env.git(&root, &["ls-files", "--", "attachments/"]);
    let stored = stored.trim().to_string();
    assert!(!stored.is_empty(), "the attachment is a file of the book");
    let text = std::fs::read_to_string(root.join(&stored)).unwrap();
    assert!(text.starts_with("sealed:v1:K"), "{text}");
    // `text` with its character at `at` replaced by another of the same alphabets.
    let flip = |at: usize| {
        let to = if &text[at..at + 1] == "A" { "B" } else { "A" };
        format!("{}{to}{}", &text[..at], &text[at + 1..])
    };
    let refused = |change: &dyn Fn(), why: &str| {
        change();
        env.git(&root, &["commit", "-qam", "change the attachment"]);
        let err = env.run(&root, &export).fails(1);
        assert!(err.contains(&stored) && err.contains(why), "{why}: {err}");
        env.git(&root, &["reset", "-q", "--hard", "HEAD~1"]);
    };
    let write = |new: String| std::fs::write(root.join(&stored), new).unwrap();
    // A character in the middle of the ciphertext: any base64url letter is
    // well-formed there, so the seal itself must refuse the change.
    let body = text.rfind(':').unwrap() + 1;
    let mid = body + (text.trim_end().len() - body) / 2;
    refused(&|| write(flip(mid)), "does not open");
    // Another key id: not one of the case's keys, so not an erased or unsynced one.
    refused(
        &|| write(flip("sealed:v1:K".len() + 3)),
        "key ring does not have",
    );
    refused(
        &|| {
            env.git(&root, &["rm", "-q", &stored]);
        },
        "missing from the case book",
    );

    let held = env.run(&root, &export).json();
    let content = held["cases"][0]["attachment_contents"][0]["content_base64"].clone();
    assert_eq!(
        content,
        base64::engine::general_purpose::STANDARD.encode("jammed")
    );
}

/// A clone out of touch during an erasure of a customer made a case of that customer: the
/// erasure could not see it, and the clone's key for it was never in the ring it erased
/// from. When that clone syncs, the erasure reaches that case too (its own `erase` event),
/// everywhere; an erasure of one case by ID reaches no other case of its customer.
#[test]
fn an_erasure_of_a_customer_reaches_the_case_an_offline_clone_made_of_them() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let ada = |subject: &'static str| {
        [
            "--customer",
            "Ada Lovelace",
            "--email",
            "ada@example.com",
            "--subject",
            subject,
        ]
    };
    let actions = |root: &Path, id: &str| -> Vec<String> {
        env.run(root, &["show", id, "--json"]).json()["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect()
    };
    let first = open(&env, &a, &ada("Quetzalcoatl printer"));
    let bob1 = open(
        &env,
        &a,
        &[
            "--customer",
            "Bob Babbage",
            "--email",
            "bob@example.com",
            "--subject",
            "Marmalade one",
        ],
    );
    env.run(&a, &["sync"]).ok();
    let c = clone(&env, &remote, "c");
    // c is out of touch from here: a case for Ada, and one more for Bob.
    let offline = open(&env, &c, &ada("Zanzibar router"));
    let bob2 = open(
        &env,
        &c,
        &[
            "--customer",
            "Bob Babbage",
            "--email",
            "bob@example.com",
            "--subject",
            "Gooseberry two",
        ],
    );
    let offline_secrets = secrets(&c, &key_ids_of(&c, &offline));
    env.run(
        &a,
        &[
            "erase",
            "--customer",
            "ada@example.com",
            "--reason",
            "Art. 17 request",
        ],
    )
    .ok();
    env.run(
        &a,
        &["erase", &bob1, "--reason", "asked for this case only"],
    )
    .ok();
    env.run(&a, &["sync"]).ok();
    let out = env.run(&c, &["sync"]).ok().stdout;
    assert!(out.contains(&offline), "sync says what it erased: {out}");
    env.run(&a, &["sync"]).ok();
    for root in [&a, &c] {
        let shown = env.run(root, &["show", &offline, "--json"]).json();
        assert_eq!(shown["customer"]["name"], "[erased]", "{shown}");
        assert_eq!(shown["subject"], "[erased]", "{shown}");
        let done = actions(root, &offline);
        assert_eq!(done.last().map(String::as_str), Some("erase"), "{done:?}");
        // Bob's other case stays: his erasure was of one case.
        let bob = env.run(root, &["show", &bob2, "--json"]).json();
        assert_eq!(bob["subject"], "Gooseberry two", "{bob}");
    }
    let first_shown = env.run(&c, &["show", &first, "--json"]).json();
    assert_eq!(first_shown["customer"]["name"], "[erased]");
    for root in [&a, &c, &remote] {
        gc(&env, root);
        assert_no_secret(root, &offline_secrets);
    }
}

/// A case of the customer whose file cannot be read (a sealed value changed by hand and
/// committed) makes a subject access export fail naming it: an export that left it out
/// would answer the request incompletely without saying so. A damaged case of someone
/// else does not stop it.
#[test]
fn a_subject_access_export_fails_on_a_damaged_case_of_the_customer() {
    let env = Env::new();
    let (root, ada) = ada_with_an_attachment(&env);
    let bob = open(
        &env,
        &root,
        &[
            "--customer",
            "Bob Babbage",
            "--email",
            "bob@example.com",
            "--subject",
            "Marmalade",
        ],
    );
    let export = ["export", "--customer", "ada.lovelace@example.com", "--json"];
    let damage = |id: &str| {
        let path = case_path(&root, id);
        let text = std::fs::read_to_string(&path).unwrap();
        // A character in the middle of the first sealed value's ciphertext.
        let start = text.find("sealed:v1:K").unwrap();
        let body = start + text[start..].find(':').unwrap() + 1;
        let body = body + text[body..].find(':').unwrap() + 1;
        let end = body + text[body..].find('"').unwrap();
        let at = (body + end) / 2;
        let to = if &text[at..at + 1] == "A" { "B" } else { "A" };
        std::fs::write(&path, format!("{}{to}{}", &text[..at], &text[at + 1..])).unwrap();
        env.git(&root, &["commit", "-qam", "damage a case"]);
    };
    damage(&bob);
    let held = env.run(&root, &export).json();
    assert_eq!(held["cases"].as_array().unwrap().len(), 1, "{held}");
    damage(&ada);
    let err = env.run(&root, &export).fails(1);
    assert!(
        err.contains(&ada) && err.contains("cannot be read"),
        "{err}"
    );
}

/// Personal data recorded on a case after its erasure is sealed with a key of that case
/// alone: the action says so, and says how to erase it.
#[test]
fn recording_personal_data_on_an_erased_case_warns_how_to_erase_it() {
    let env = Env::new();
    let (root, ada) = ada_with_an_attachment(&env);
    env.run(&root, &["erase", &ada, "--reason", "Art. 17"]).ok();
    let out = env
        .run(
            &root,
            &["log", &ada, "--summary", "Called back about the tray"],
        )
        .ok();
    assert!(
        out.stderr.contains("its personal data was erased")
            && out.stderr.contains(&format!("casebook erase {ada}")),
        "{}",
        out.stderr
    );
    // A step that records nothing personal says nothing.
    let quiet = env.run(&root, &["tag", &ada, "+billing"]).ok();
    assert!(!quiet.stderr.contains("erased"), "{}", quiet.stderr);
    // And the new text is erased by the way the warning gives.
    env.run(&root, &["erase", &ada, "--reason", "again"]).ok();
    let shown = env.run(&root, &["show", &ada, "--json"]).json();
    let summary = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "log")
        .unwrap()["summary"]
        .clone();
    assert_eq!(summary, "[erased]", "{shown}");
}

/// A message to the customer of an erased case never carries sealed text or a marker: the
/// template's placeholder has no value, so without a fallback the action is refused and
/// the agent writes the message.
#[test]
fn a_template_message_on_an_erased_case_carries_no_sealed_text() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = env.open(&root, "Cy Young", "Invoice");
    env.run(&root, &["erase", &id, "--reason", "Art. 17"]).ok();
    let err = env.run(&root, &["ack", &id]).fails(1);
    assert!(
        err.contains("customer.name") && !err.contains("sealed:v1"),
        "{err}"
    );
    let out = env
        .run(
            &root,
            &["ack", &id, "--message", "Thank you, we are on it."],
        )
        .ok();
    assert!(!out.stdout.contains("sealed:v1"), "{}", out.stdout);
    let shown = env.run(&root, &["show", &id, "--json"]).json().to_string();
    assert!(!shown.contains("sealed:v1"), "{shown}");
}

/// A SIGTERM once the first key is destroyed does not make the erasure report failure:
/// it records its events and says it is done (a retry would find nothing to erase).
#[test]
fn a_signal_during_an_erasure_waits_for_its_events_and_it_reports_success() {
    let env = Env::new();
    let (root, ada) = ada_with_an_attachment(&env);
    let out = env
        .cb(&root)
        .env("CASEBOOK_FAULT", "term@erase-after-keys")
        .args(["erase", &ada, "--reason", "Art. 17"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(
        stderr.contains("SIGTERM came after the change was recorded"),
        "{stderr}"
    );
    assert!(!root.join(".git/casebook-erase-pending.json").exists());
    let shown = env.run(&root, &["show", &ada, "--json"]).json();
    let last = shown["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "erase", "{shown}");
}

/// Erasing what is already erased says so and writes nothing, instead of claiming work.
#[test]
fn erasing_an_erased_case_again_says_it_is_already_erased() {
    let env = Env::new();
    let (root, ada) = ada_with_an_attachment(&env);
    env.run(&root, &["erase", &ada, "--reason", "Art. 17"]).ok();
    let commits = env.commit_count(&root);
    for dry in [false, true] {
        let mut args = vec!["erase", ada.as_str(), "--reason", "again"];
        if dry {
            args.push("--dry-run");
        }
        let err = env.run(&root, &args).fails(1);
        assert!(err.contains("already erased"), "{err}");
    }
    assert_eq!(env.commit_count(&root), commits, "nothing written");
}
