//! Shared helpers: an isolated environment per test (temp folder, blank git config, fixed
//! clock and actor) and ways to run the real binary and the real `git` in it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const ACTOR: &str = "Dana Agent <dana@example.com>";
pub const NOW: &str = "2026-11-23T09:00:00Z";

pub struct Env {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        Env { tmp, home }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Applies the isolation to any command: cleared environment, a home with no git
    /// config, no system git config, fixed clock and actor.
    pub fn isolate(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home.join("gitconfig"))
            .env("GIT_AUTHOR_DATE", "2026-11-23T09:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-11-23T09:00:00Z")
            .env("CASEBOOK_NOW", NOW)
            .env("CASEBOOK_ACTOR", ACTOR);
    }

    /// The casebook binary, run in `dir`.
    pub fn cb(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_casebook"));
        self.isolate(&mut cmd);
        cmd.current_dir(dir);
        cmd
    }

    /// Runs casebook in `dir` with `args`.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Run {
        Run(self.cb(dir).args(args).output().expect("run casebook"))
    }

    /// Runs the real git in `dir`; panics if it fails.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        self.isolate(&mut cmd);
        cmd.args([
            "-c",
            "user.name=Git User",
            "-c",
            "user.email=git@example.com",
        ]);
        let out = cmd.current_dir(dir).args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A new case book at `name` (working-tree shape) in Europe/Berlin.
    pub fn casebook(&self, name: &str) -> PathBuf {
        self.casebook_with(name, &["--timezone", "Europe/Berlin"])
    }

    pub fn casebook_with(&self, name: &str, extra: &[&str]) -> PathBuf {
        let mut args = vec!["init", name];
        args.extend_from_slice(extra);
        self.run(self.tmp.path(), &args).ok();
        self.path(name)
    }

    /// Opens a case and returns its ID.
    pub fn open(&self, dir: &Path, customer: &str, subject: &str) -> String {
        let email = format!("{}@example.com", customer.to_lowercase().replace(' ', "."));
        self.run(
            dir,
            &[
                "open",
                "--customer",
                customer,
                "--email",
                &email,
                "--subject",
                subject,
            ],
        )
        .ok()
        .stdout
        .trim()
        .to_string()
    }

    pub fn commit_count(&self, dir: &Path) -> usize {
        self.git(dir, &["rev-list", "--count", "HEAD"])
            .trim()
            .parse()
            .unwrap()
    }

    pub fn status_porcelain(&self, dir: &Path) -> String {
        self.git(dir, &["status", "--porcelain"])
    }
}

/// The outcome of one run of the binary.
pub struct Run(pub Output);

pub struct Ok {
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    /// Asserts success and returns the output.
    pub fn ok(self) -> Ok {
        assert!(
            self.0.status.success(),
            "expected success, got {:?}\nstdout: {}\nstderr: {}",
            self.0.status,
            self.stdout(),
            self.stderr()
        );
        Ok {
            stdout: self.stdout(),
            stderr: self.stderr(),
        }
    }

    /// Asserts failure with `code` and returns stderr.
    pub fn fails(self, code: i32) -> String {
        assert_eq!(
            self.code(),
            code,
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        assert!(!self.0.status.success());
        self.stderr()
    }

    pub fn json(self) -> serde_json::Value {
        let out = self.ok();
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.stdout))
    }
}

/// Path of a case file inside a case book.
pub fn case_path(root: &Path, id: &str) -> PathBuf {
    let random = id.split_once('-').unwrap().1;
    root.join("cases")
        .join(&random[..2])
        .join(format!("{id}.toml"))
}
