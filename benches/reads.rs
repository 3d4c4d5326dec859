//! Whole-process reads at 10k and 100k cases (1M on request): what an agent or a script
//! runs all day, through the read index.
//!
//!     cargo bench --bench reads
//!     CASEBOOK_BENCH_SIZES=1000000 cargo bench --bench reads
//!     CASEBOOK_BENCH_RUNS=20 CASEBOOK_BENCH_DIR=/dev/shm cargo bench --bench reads
//!
//! The book is a store-only case book written straight into git with `git fast-import`: a
//! year of cases, most of them closed, a few hundred resolved or open in the last days —
//! the shape of a real support queue, not 100k brand-new cases. Each figure is the median
//! of whole-process runs, warm (the index built and caught up before timing, the page
//! cache warm). `hyperfine` is used when it is installed, else this program's own loop;
//! the table says which. When Taskwarrior (`task`) is installed, it gets the same items
//! (one task per case, closed cases as completed tasks) and the same questions, side by
//! side; when it is not, the table says so.
//!
//! Targets at 100k (issue 11): filtered list ≤ 50 ms, `due --within 4h` ≤ 50 ms, review of
//! 30 days ≤ 300 ms, search ≤ 100 ms, show ≤ 5 ms, the first read after one action ≤ 5 ms
//! more than a warm read, cold rebuild ≤ 10 s, `list --json` of all ≤ 1.5 s.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use casebook::model::event::CustomerFields;
use casebook::model::payload;
use casebook::model::{Action, CaseFile, CaseId, Channel, Event, Priority};
use chrono::{DateTime, TimeDelta, Utc};

const NOW: &str = "2026-11-23T09:00:00Z";
const CLOCK: &[(&str, &str)] = &[("CASEBOOK_NOW", NOW)];

const SUBJECTS: &[&str] = &[
    "Printer jams on tray 2",
    "Invoice shows the wrong amount",
    "Refund not received",
    "Cannot log in after password reset",
    "Toner cartridge not recognised",
    "Delivery arrived damaged",
    "App crashes when uploading a photo",
    "Subscription renewed twice",
    "Scanner driver missing on macOS",
    "Router drops the connection at night",
];
const RESOLUTIONS: &[&str] = &[
    "Replaced the pickup roller",
    "Issued a credit note",
    "Refund sent again to the right account",
    "Reset the account lock",
    "Shipped a replacement cartridge",
];

/// A small deterministic generator (the book must be the same on every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn case_id(i: usize) -> CaseId {
    let alphabet = casebook::model::id::ALPHABET;
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5DEECE66D;
    let mut s = String::from("CB-");
    for _ in 0..8 {
        s.push(alphabet[(x & 31) as usize] as char);
        x >>= 5;
    }
    CaseId::parse(&s).expect("a valid ID")
}

fn event(action: Action, at: DateTime<Utc>, actor: &str) -> Event {
    Event::new(action, at, actor)
}

/// One case of a year-long book: its age decides how far it got.
fn case(i: usize, n: usize, rng: &mut Rng, now: DateTime<Utc>) -> (CaseFile, bool) {
    let agents = [
        "Dana Agent <dana@example.com>",
        "Kim Agent <kim@example.com>",
        "Lee Agent <lee@example.com>",
    ];
    let actor = agents[i % agents.len()];
    let age = TimeDelta::seconds((365 * 86_400 * (n - i) / n) as i64 + rng.below(3600) as i64);
    let created = now - age;
    let mut open = event(Action::Open, created, actor);
    open.get_mut::<payload::Open>().unwrap().subject = Some(
        format!(
            "{} (#{i})",
            SUBJECTS[rng.below(SUBJECTS.len() as u64) as usize]
        )
        .into(),
    );
    open.get_mut::<payload::Open>().unwrap().description = Some(
        format!(
            "Customer reports: {}",
            SUBJECTS[i % SUBJECTS.len()].to_lowercase()
        )
        .into(),
    );
    open.get_mut::<payload::Open>().unwrap().priority = Some(Priority::from_stored(
        ["low", "normal", "normal", "high", "urgent"][rng.below(5) as usize],
    ));
    open.get_mut::<payload::Open>().unwrap().channel = Some(Channel::from_stored(
        ["email", "phone", "chat"][rng.below(3) as usize],
    ));
    open.get_mut::<payload::Open>().unwrap().product =
        Some(["Printer", "Billing", "App", "Router"][rng.below(4) as usize].to_string());
    open.customer = Some(CustomerFields {
        name: Some(format!("Customer {}", i % 5000).into()),
        email: Some(format!("customer{}@example.com", i % 5000).into()),
        ..Default::default()
    });
    let mut f = CaseFile::create(case_id(i), open).expect("a valid case");
    let days = age.num_days();
    let acked = days >= 2 || rng.below(10) < 4;
    if !acked {
        return (f, false);
    }
    let mut ack = event(
        Action::Acknowledge,
        created + TimeDelta::minutes(5 + rng.below(240) as i64),
        actor,
    );
    *ack.payload.direction_mut().unwrap() = Some("outbound".into());
    ack.get_mut::<payload::Acknowledge>().unwrap().message =
        Some("Thank you, we are looking into it.".into());
    f.append(ack).expect("ack");
    let resolved = days >= 14 || (days >= 2 && rng.below(2) == 0);
    if !resolved {
        return (f, false);
    }
    let mut res = event(
        Action::Resolve,
        created + TimeDelta::hours(4 + rng.below(60) as i64),
        actor,
    );
    res.get_mut::<payload::Resolve>().unwrap().resolution =
        Some(RESOLUTIONS[rng.below(RESOLUTIONS.len() as u64) as usize].into());
    let res_at = res.at;
    f.append(res).expect("resolve");
    let closed = days >= 30 || (days >= 14 && rng.below(10) < 7);
    if closed {
        let close = event(Action::Close, res_at + TimeDelta::days(3), actor);
        f.append(close).expect("close");
    }
    (f, closed)
}

/// Writes an `n`-case store-only book at `dir` (git fast-import: one pack, one commit).
fn generate(dir: &Path, n: usize) -> Vec<(CaseId, bool, String)> {
    common::run(
        dir.parent().unwrap(),
        &["init", "--bare", dir.to_str().unwrap()],
        CLOCK,
    );
    let now = casebook::model::time::parse_rfc3339(NOW).unwrap();
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    let mut out = std::io::BufWriter::new(child.stdin.take().unwrap());
    let mut rng = Rng(42);
    let mut cases = Vec::with_capacity(n);
    let mut paths = Vec::with_capacity(n);
    for i in 0..n {
        let (f, closed) = case(i, n, &mut rng, now);
        let text = f.to_toml();
        write!(
            out,
            "blob\nmark :{}\ndata {}\n{}\n",
            i + 1,
            text.len(),
            text
        )
        .unwrap();
        paths.push(f.case.id.path());
        cases.push((f.case.id.clone(), closed, f.case.subject.to_string()));
    }
    let msg = format!("bench: {n} cases");
    write!(
        out,
        "commit refs/heads/main\ncommitter Bench <bench@example.com> 1763888400 +0000\ndata {}\n{}\nfrom refs/heads/main^0\n",
        msg.len(),
        msg
    )
    .unwrap();
    for (i, p) in paths.iter().enumerate() {
        writeln!(out, "M 100644 :{} {p}", i + 1).unwrap();
    }
    out.flush().unwrap();
    drop(out);
    assert!(child.wait().unwrap().success(), "fast-import failed");
    // fast-import deltas every blob against the one before: long chains that make every
    // read slow. A case book written by casebook has no such chains; repack without them.
    let status = Command::new("git")
        .args(["repack", "-a", "-d", "-f", "-q", "--window=0"])
        .current_dir(dir)
        .status()
        .expect("git repack");
    assert!(status.success(), "repack failed");
    cases
}

fn casebook_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_casebook"));
    c.args(args)
        .current_dir(dir)
        .env("CASEBOOK_ACTOR", common::ACTOR)
        .env("CASEBOOK_NOW", NOW)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The median time of a shell command, with hyperfine when present (and an optional
/// untimed `prepare` command before each run), else with a loop here.
fn time(
    dir: &Path,
    cmd: &str,
    prepare: Option<&str>,
    runs: usize,
    env: &[(&str, &str)],
) -> Duration {
    if have("hyperfine") {
        let json = dir.join("hyperfine.json");
        let mut h = Command::new("hyperfine");
        h.args([
            "--style",
            "none",
            "--warmup",
            "1",
            "--runs",
            &runs.to_string(),
            "-N",
        ])
        .arg("--export-json")
        .arg(&json)
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if let Some(p) = prepare {
            h.args(["--prepare", p]);
        }
        if cmd.contains('|') || cmd.contains('>') {
            h.args(["--shell", "bash"]);
            h.args(["-S", "bash"]);
        }
        h.arg(cmd);
        let ok = h.status().is_ok_and(|s| s.success());
        if ok {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
            let r = &v["results"][0];
            let cpu = r["user"].as_f64().unwrap_or(0.0) + r["system"].as_f64().unwrap_or(0.0);
            CPU.with(|c| c.set(Some(Duration::from_secs_f64(cpu))));
            return Duration::from_secs_f64(r["median"].as_f64().unwrap());
        }
    }
    let sh = |c: &str| {
        let status = Command::new("bash")
            .args(["-c", c])
            .current_dir(dir)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{c} failed");
    };
    let mut v = Vec::new();
    for i in 0..=runs {
        if let Some(p) = prepare {
            sh(p);
        }
        let t = Instant::now();
        sh(cmd);
        if i > 0 {
            v.push(t.elapsed());
        }
    }
    v.sort();
    v[v.len() / 2]
}

thread_local! {
    /// The mean CPU time (user + system) of the last hyperfine measurement.
    static CPU: std::cell::Cell<Option<Duration>> = const { std::cell::Cell::new(None) };
}

/// The CPU time of the last measurement, when hyperfine gave one.
fn cpu() -> String {
    CPU.with(|c| c.take()).map_or("–".into(), fmt)
}

fn fmt(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// Taskwarrior with the same items: one task per case, closed ones completed.
fn taskwarrior(
    tmp: &Path,
    cases: &[(CaseId, bool, String)],
    runs: usize,
) -> Option<Vec<(String, Duration)>> {
    if !have("task") {
        return None;
    }
    let data = tmp.join("task-data");
    std::fs::create_dir_all(&data).unwrap();
    let rc = tmp.join("taskrc");
    std::fs::write(
        &rc,
        format!(
            "data.location={}\nconfirmation=off\nverbose=nothing\njson.array=on\nhooks=off\n",
            data.display()
        ),
    )
    .unwrap();
    let json = tmp.join("tasks.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&json).unwrap());
    writeln!(out, "[").unwrap();
    for (i, (id, closed, subject)) in cases.iter().enumerate() {
        let status = if *closed { "completed" } else { "pending" };
        let pri = ["L", "M", "M", "H", "H"][i % 5];
        let end = if *closed {
            ",\"end\":\"20261101T000000Z\""
        } else {
            ""
        };
        let sep = if i + 1 < cases.len() { "," } else { "" };
        writeln!(
            out,
            "{{\"uuid\":\"{:08x}-0000-4000-8000-{:012x}\",\"description\":{},\"status\":\"{status}\",\"entry\":\"20260101T000000Z\",\"priority\":\"{pri}\",\"project\":\"cb\",\"tags\":[\"{}\"]{end}}}{sep}",
            i, i, serde_json::to_string(subject).unwrap(), id.as_str().replace('-', "")
        )
        .unwrap();
    }
    writeln!(out, "]").unwrap();
    drop(out);
    let env = [("TASKRC", rc.to_str().unwrap())];
    let status = Command::new("task")
        .args(["import", json.to_str().unwrap()])
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    let q = |c: &str| format!("task {c}");
    Some(
        [
            (
                "filtered list (`task priority:H status:pending export`)",
                q("priority:H status:pending export"),
            ),
            ("count (`task priority:H count`)", q("priority:H count")),
            ("search (`task /roller/ export`)", q("/roller/ export")),
            ("show one (`task 1 export`)", q("1 export")),
            ("export all (`task export`)", q("export")),
        ]
        .into_iter()
        .map(|(name, cmd)| (name.to_string(), time(tmp, &cmd, None, runs, &env)))
        .collect(),
    )
}

fn main() {
    if common::listing() {
        return;
    }
    let sizes = common::sizes("10000,100000");
    let runs = common::runs(10);
    let tmp = common::workspace();
    // CASEBOOK_BENCH_KEEP=1 keeps the generated books (for profiling), and says where.
    let keep = std::env::var_os("CASEBOOK_BENCH_KEEP").is_some();
    let only_generate = std::env::var_os("CASEBOOK_BENCH_GENERATE_ONLY").is_some();
    let tool = if have("hyperfine") {
        "hyperfine (median)"
    } else {
        "own loop (median)"
    };
    let bin = env!("CARGO_BIN_EXE_casebook");
    for &n in &sizes {
        let dir: PathBuf = tmp.path().join(format!("book-{n}"));
        let t = Instant::now();
        let cases = generate(&dir, n);
        eprintln!("generated {n} cases in {:.1} s", t.elapsed().as_secs_f64());
        // Build the index once (cold), then everything below is warm.
        if only_generate {
            continue;
        }
        let cold = Instant::now();
        assert!(casebook_cmd(&dir, &["reindex"]).status().unwrap().success());
        let cold = cold.elapsed();
        let open = cases
            .iter()
            .rev()
            .find(|(_, closed, _)| !closed)
            .expect("an open case");
        let open_id = open.0.as_str().to_string();
        let show_id = cases[n / 2].0.as_str().to_string();
        let cb = |args: &str| format!("{} {args}", shell_quote(bin));
        let rows: Vec<(&str, String, Option<String>)> = vec![
            (
                "filtered list (`list --status open --priority urgent`)",
                cb("list --status open --priority urgent"),
                None,
            ),
            ("`due --within 4h`", cb("due --within 4h"), None),
            (
                "`due --within 4h --json` (the same queue, no table)",
                format!("{} due --within 4h --json > /dev/null", shell_quote(bin)),
                None,
            ),
            ("`review` (30 days)", cb("review --json"), None),
            (
                "`search \"pickup roller\"`",
                cb("search '\"pickup roller\"'"),
                None,
            ),
            ("`show ID`", cb(&format!("show {show_id}")), None),
            (
                "first read after one action (`log`, then the filtered list)",
                cb("list --status open --priority urgent"),
                Some(cb(&format!(
                    "log {open_id} --summary called --direction inbound"
                ))),
            ),
            (
                "`list --json --all` (every case)",
                format!("{} list --json --all > /dev/null", shell_quote(bin)),
                None,
            ),
        ];
        let env = [
            ("CASEBOOK_NOW", NOW),
            ("CASEBOOK_ACTOR", common::ACTOR),
            ("GIT_CONFIG_NOSYSTEM", "1"),
        ];
        println!(
            "\n### {n} cases ({tool}, {runs} runs, store-only book on {})\n",
            tmp.path().display()
        );
        println!("| read | casebook (median) | CPU (user + sys) |");
        println!("|---|---:|---:|");
        let mut warm_list = Duration::ZERO;
        for (name, cmd, prepare) in &rows {
            let d = time(&dir, cmd, prepare.as_deref(), runs, &env);
            if name.starts_with("filtered list") {
                warm_list = d;
            }
            if prepare.is_some() {
                println!(
                    "| {name} | {} (catch-up ≈ {}) | {} |",
                    fmt(d),
                    fmt(d.saturating_sub(warm_list)),
                    cpu()
                );
            } else {
                println!("| {name} | {} | {} |", fmt(d), cpu());
            }
        }
        let rebuild = time(&dir, &cb("reindex"), None, runs.min(3), &env);
        println!(
            "| cold rebuild (`reindex`) | {} (first build {}) | {} |",
            fmt(rebuild),
            fmt(cold),
            cpu()
        );
        let scan_env = [
            ("CASEBOOK_NOW", NOW),
            ("CASEBOOK_INDEX", "off"),
            ("GIT_CONFIG_NOSYSTEM", "1"),
        ];
        let scan = time(
            &dir,
            &cb("list --status open --priority urgent"),
            None,
            runs.min(3),
            &scan_env,
        );
        println!(
            "| filtered list without the index (`CASEBOOK_INDEX=off`) | {} | {} |",
            fmt(scan),
            cpu()
        );
        match taskwarrior(tmp.path(), &cases, runs) {
            Some(tw) => {
                println!("\nTaskwarrior, the same {n} items:\n");
                println!("| task | time (median) |");
                println!("|---|---:|");
                for (name, d) in tw {
                    println!("| {name} | {} |", fmt(d));
                }
            }
            None => println!("\nTaskwarrior (`task`) is not installed: no side-by-side figures."),
        }
    }
    if keep {
        eprintln!("kept the books in {}", tmp.keep().display());
    }
}
