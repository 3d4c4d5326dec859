//! `erase`: a customer's right to erasure (GDPR Art. 17) by crypto-shredding, and the
//! retention rule of `tick` that uses it; `export --customer`: their right of access
//! (Art. 15).
//!
//! An erasure destroys the keys of the sealed personal data (every key of the customer, or
//! of the named cases) in the key ring, then records one `erase` event in every case whose
//! file holds a value sealed with one of them, all in one commit. The events say who, when,
//! why and which keys; they hold no personal data. History is not rewritten: every event
//! stays, only the sealed values in it can no longer be opened (they read `[erased]`).
//! The read index is deleted, since it held the opened text; the next read rebuilds it.
//!
//! The keys go first (never the other way round, which would leave readable data behind a
//! record saying it was erased). What the events will say is written to
//! `.git/casebook-erase-pending.json` before any key is destroyed; if the process dies
//! before the commit, the next command records them ([`Casebook::finish_erasure`]).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::{commit_message, resolve, Casebook, Context};
use crate::error::{Error, Result};
use crate::model::enums::ErasureOf;
use crate::model::keyring::customer_subject;
use crate::model::privacy::key_ids_in;
use crate::model::seal::SealError;
use crate::model::{Action, CaseFile, CaseId, Event};
use crate::store::{Change, View};

/// Whose personal data an erasure is about.
#[derive(Debug, Clone)]
pub enum EraseTarget {
    /// Every case of the customer known by this e-mail address or phone number.
    Customer(String),
    /// These cases (IDs as typed).
    Cases(Vec<String>),
}

/// What an erasure did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EraseReport {
    /// The keys destroyed.
    pub keys: Vec<String>,
    /// The cases that got an `erase` event.
    pub cases: Vec<CaseId>,
    /// Cases of the target whose personal data is in plain text (recorded before the book
    /// was sealed): it stays in history, and only a rewrite every clone follows removes it.
    pub plain: Vec<CaseId>,
    pub dry_run: bool,
}

/// An erasure between destroying its keys and recording its events, kept in the git
/// folder so that the next command can finish it.
#[derive(serde::Serialize, serde::Deserialize)]
struct PendingErasure {
    actor: String,
    at: String,
    reason: String,
    cases: Vec<String>,
    keys: Vec<String>,
    #[serde(default)]
    of: Option<ErasureOf>,
}

impl PendingErasure {
    fn path(store: &crate::store::Store) -> std::path::PathBuf {
        store.git_dir().join("casebook-erase-pending.json")
    }

    fn save(&self, store: &crate::store::Store) -> Result<()> {
        let path = Self::path(store);
        let tmp = path.with_extension("json.tmp");
        let io = |source| Error::Io {
            action: "write",
            path: tmp.clone(),
            source,
        };
        let text = serde_json::to_vec(self).expect("plain data serialises");
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        std::io::Write::write_all(&mut f, &text).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
    }

    fn load(store: &crate::store::Store) -> Result<Option<PendingErasure>> {
        let path = Self::path(store);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                Error::invalid("erase", format!("{} is unreadable: {e}", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Io {
                action: "read",
                path,
                source,
            }),
        }
    }

    fn clear(store: &crate::store::Store) -> Result<()> {
        let path = Self::path(store);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io {
                action: "delete",
                path,
                source: e,
            }),
            _ => Ok(()),
        }
    }
}

/// Every case with a value sealed with one of `keys` (each gets the `erase` event).
fn cases_sealed_with(
    snap: &crate::store::Snapshot<'_>,
    keys: &BTreeSet<String>,
) -> Result<Vec<CaseId>> {
    let mut cases = Vec::new();
    for (id, path, blob) in snap.case_entries()? {
        let text = snap.read_blob(blob, &path)?;
        let text = String::from_utf8_lossy(&text);
        if key_ids_in(&text).iter().any(|k| keys.contains(k)) {
            cases.push(id);
        }
    }
    Ok(cases)
}

/// Whether `contact` is one of the case's contacts (now, or as any event recorded it).
fn has_contact(case: &CaseFile, contact: &str) -> bool {
    let want = normalise(contact);
    let same =
        |v: &Option<crate::model::Personal>| v.as_deref().is_some_and(|v| normalise(v) == want);
    if same(&case.customer.email) || same(&case.customer.phone) {
        return true;
    }
    case.events
        .iter()
        .filter_map(|e| e.customer.as_ref())
        .any(|c| {
            same(&c.email)
                || same(&c.phone)
                || c.was
                    .as_deref()
                    .is_some_and(|w| same(&w.email) || same(&w.phone))
        })
}

fn normalise(contact: &str) -> String {
    let t = contact.trim().to_lowercase();
    if t.contains('@') {
        t
    } else {
        // A phone number: its digits and a leading +, so "+44 20 7946 0958" and
        // "+442079460958" are the same number.
        t.chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect()
    }
}

fn check_contact(contact: &str) -> Result<()> {
    let c = contact.trim();
    let digits = c.chars().filter(char::is_ascii_digit).count();
    if c.contains('@') || digits >= 5 {
        Ok(())
    } else {
        Err(Error::invalid(
            "--customer",
            format!("{contact:?} is not an e-mail address or phone number (a name is not unique enough to erase by)"),
        ))
    }
}

impl Casebook {
    /// Every case of the customer known by `contact`, opened (a full scan: an erasure or a
    /// subject access request must find old cases whose contact has since changed too).
    fn cases_of_contact(&self, view: &View<'_>, contact: &str) -> Result<Vec<CaseFile>> {
        check_contact(contact)?;
        let mut cases = view.map_cases(|f| has_contact(&f, contact).then_some(f))?;
        cases.sort_by(|a, b| a.case.id.as_str().cmp(b.case.id.as_str()));
        Ok(cases)
    }

    /// Erases the personal data of `target` (see the module docs). `reason` is recorded.
    pub fn erase(
        &self,
        ctx: &Context,
        target: &EraseTarget,
        reason: &str,
        dry_run: bool,
    ) -> Result<EraseReport> {
        let reason = super::required_text("--reason", reason)?;
        let snap = self.store.casebook_snapshot()?;
        let reader = self.store.ring_reader()?;
        let live = |id: &String| {
            matches!(
                crate::model::seal::Keys::lookup(&reader, id),
                crate::model::seal::Lookup::Present(_)
            )
        };
        // The keys of the target, and the target's cases that hold plain personal data.
        let mut keys: BTreeSet<String> = BTreeSet::new();
        let mut plain: Vec<CaseId> = Vec::new();
        let mut named: Vec<CaseId> = Vec::new();
        match target {
            EraseTarget::Customer(contact) => {
                let cases = self.cases_of_contact(&self.view()?, contact)?;
                if let Some(secret) = reader.pseudonym_secret() {
                    let subject = customer_subject(&secret, &normalise(contact));
                    keys.extend(self.store.keys_of_subject(&subject)?);
                }
                for case in cases {
                    named.push(case.case.id.clone());
                }
            }
            EraseTarget::Cases(queries) => {
                for q in queries {
                    named.push(resolve(&snap, q)?);
                }
            }
        }
        for id in &named {
            let text = snap.read(&id.path())?.unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            let ids = key_ids_in(&text);
            if holds_plain_personal_data(&self.store, id)? {
                plain.push(id.clone());
            }
            keys.extend(ids);
        }
        if keys.is_empty() && plain.is_empty() {
            return Err(match target {
                EraseTarget::Customer(c) => Error::invalid(
                    "--customer",
                    format!("no case of {c} holds personal data this clone knows of"),
                ),
                EraseTarget::Cases(_) => {
                    Error::invalid("ID", "these cases hold no sealed personal data")
                }
            });
        }
        // Every key already destroyed: an erasure made before (a retry, a second request).
        if plain.is_empty() && !keys.iter().any(&live) {
            return Err(match target {
                EraseTarget::Customer(c) => Error::invalid(
                    "--customer",
                    format!("the personal data of {c} this clone knows of is already erased"),
                ),
                EraseTarget::Cases(_) => Error::invalid(
                    "ID",
                    "the personal data of these cases is already erased (`casebook show ID` shows [erased])",
                ),
            });
        }
        let cases = cases_sealed_with(&snap, &keys)?;
        let keys: Vec<String> = keys.into_iter().collect();
        let mut report = EraseReport {
            keys: keys.clone(),
            cases: cases.clone(),
            plain,
            dry_run,
        };
        if dry_run {
            report.keys.retain(|k| live(k));
            return Ok(report);
        }
        let of = match target {
            EraseTarget::Customer(_) => ErasureOf::Customer,
            EraseTarget::Cases(_) => ErasureOf::Cases,
        };
        self.destroy_and_record(ctx, &cases, &keys, &reason, of)?;
        Ok(report)
    }

    /// Destroys `keys` and records an `erase` event in each of `cases`, crash-safely.
    fn destroy_and_record(
        &self,
        ctx: &Context,
        cases: &[CaseId],
        keys: &[String],
        reason: &str,
        of: ErasureOf,
    ) -> Result<()> {
        // What the events will say goes to disk before any key is destroyed: if the process
        // dies in between, the next command records them (see `finish_erasure`).
        let pending = PendingErasure {
            actor: ctx.actor.to_string(),
            at: crate::model::time::format_utc(&ctx.now),
            reason: reason.to_string(),
            cases: cases.iter().map(|c| c.to_string()).collect(),
            keys: keys.to_vec(),
            of: Some(of.clone()),
        };
        crate::store::stop_if_interrupted();
        pending.save(&self.store)?;
        // From the first key destroyed the erasure is done, whatever comes: a Ctrl-C waits
        // until its events are recorded, and the command then reports it (exit 0).
        let critical = crate::store::Critical::enter();
        self.store.erase_keys(keys, ctx.now)?;
        crate::store::fault_point("erase-after-keys");
        self.record_erasure(ctx, cases, keys, reason, Some(of))?;
        self.store.purge_index();
        PendingErasure::clear(&self.store)?;
        critical.committed();
        Ok(())
    }

    /// Carries an erasure of a customer made in another clone to the cases of that customer
    /// made here without its knowing (while this clone was out of touch): their keys have
    /// the subject of a key that erasure destroyed, learnt from its key ring in a merge
    /// ([`crate::store::Store::keys_erased_elsewhere`]), and the `erase` event recording it
    /// says it was of the customer. Like `erase`: an `erase` event in each, one commit.
    /// Returns those cases.
    pub(crate) fn erase_what_was_erased_elsewhere(&self, ctx: &Context) -> Result<Vec<CaseId>> {
        let lost = self.store.keys_erased_elsewhere()?;
        if lost.is_empty() {
            return Ok(Vec::new());
        }
        let snap = self.store.casebook_snapshot()?;
        // The subjects of the lost keys whose erasure was of the customer.
        let mut subjects: BTreeSet<&str> = BTreeSet::new();
        for (_, path, blob) in snap.case_entries()? {
            let bytes = snap.read_blob(blob, &path)?;
            let text = String::from_utf8_lossy(&bytes);
            if !lost.keys().any(|k| text.contains(k.as_str())) {
                continue;
            }
            let Ok(case) = snap.parse(&path, &bytes) else {
                continue;
            };
            for event in &case.events {
                if let Some(e) = event.get::<crate::model::payload::Erase>() {
                    if e.of == Some(ErasureOf::Customer) {
                        subjects.extend(
                            e.keys
                                .iter()
                                .filter_map(|k| lost.get(k))
                                .map(String::as_str),
                        );
                    }
                }
            }
        }
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for subject in subjects {
            keys.extend(self.store.keys_of_subject(subject)?);
        }
        let mut cases = Vec::new();
        if !keys.is_empty() {
            cases = cases_sealed_with(&snap, &keys)?;
            let keys: Vec<String> = keys.into_iter().collect();
            let reason = "the customer's personal data was erased in another clone";
            self.destroy_and_record(ctx, &cases, &keys, reason, ErasureOf::Customer)?;
        }
        self.store.clear_keys_erased_elsewhere()?;
        Ok(cases)
    }

    /// Records the events of an erasure whose keys were destroyed by a process that died
    /// before it could record them; nothing when there is none. Run by every command as it
    /// opens the case book.
    pub(crate) fn finish_erasure(&self) -> Result<()> {
        let Some(p) = PendingErasure::load(&self.store)? else {
            return Ok(());
        };
        let bad = |what: &str| {
            Error::invalid(
                "erase",
                format!("{} is unreadable ({what}); delete it after checking `git log --grep \"Action: erase\"`", PendingErasure::path(&self.store).display()),
            )
        };
        let ctx = Context {
            actor: crate::model::Actor::parse(&p.actor).map_err(|_| bad("actor"))?,
            now: crate::model::time::parse_rfc3339(&p.at).ok_or_else(|| bad("time"))?,
            worked_minutes: None,
        };
        let cases = p
            .cases
            .iter()
            .map(|c| CaseId::parse(c).map_err(|_| bad("case ID")))
            .collect::<Result<Vec<_>>>()?;
        self.store.erase_keys(&p.keys, ctx.now)?;
        self.record_erasure(&ctx, &cases, &p.keys, &p.reason, p.of.clone())?;
        self.store.purge_index();
        PendingErasure::clear(&self.store)
    }

    /// One commit with an `erase` event in each case (keys: those of its values).
    fn record_erasure(
        &self,
        ctx: &Context,
        cases: &[CaseId],
        keys: &[String],
        reason: &str,
        of: Option<ErasureOf>,
    ) -> Result<()> {
        if cases.is_empty() {
            return Ok(());
        }
        self.store
            .transact(&ctx.actor, ctx.now, |snap| -> Result<_> {
                let mut files = Vec::new();
                let mut trailers = String::new();
                for id in cases {
                    let Some(bytes) = snap.read(&id.path())? else {
                        continue;
                    };
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let own: Vec<String> = key_ids_in(&text)
                        .into_iter()
                        .filter(|k| keys.contains(k))
                        .collect();
                    let mut case = snap.parse(&id.path(), &bytes)?;
                    // Already recorded (an erasure finished again after a crash).
                    let recorded = case.events.iter().any(|e| {
                        e.get::<crate::model::payload::Erase>()
                            .is_some_and(|p| own.iter().all(|k| p.keys.contains(k)))
                    });
                    if recorded {
                        continue;
                    }
                    let erase = crate::model::payload::Erase {
                        reason: Some(reason.to_string()),
                        keys: own,
                        of: of.clone(),
                        ..Default::default()
                    };
                    let mut event = Event::with(erase, ctx.now, &ctx.actor.to_string());
                    event.worked_minutes = ctx.worked_minutes;
                    let single = commit_message(id, &event, ctx);
                    case.append(event).map_err(|source| Error::Case {
                        id: id.clone(),
                        source,
                    })?;
                    files.push((id.path(), case.to_toml().into_bytes()));
                    trailers.push_str(&format!("Case-Id: {id}\n"));
                    if cases.len() == 1 {
                        return Ok((Change::with_files(single, files), ()));
                    }
                }
                if files.is_empty() {
                    return Ok((Change::nothing(), ()));
                }
                let message = format!(
                    "erase: personal data of {} cases\n\n{trailers}Action: erase\nActor: {}\n",
                    files.len(),
                    ctx.actor
                );
                // Retention can erase thousands of cases at once: one pack, as a bulk
                // action writes, not a loose file each.
                let mut change = Change::with_files(message, files);
                if cases.len() > 16 {
                    change = change.packed();
                }
                Ok((change, ()))
            })?;
        Ok(())
    }

    /// Everything this case book holds about the customer known by `contact`, opened:
    /// every case with its whole history (`export --customer`, GDPR Art. 15).
    pub fn subject_access(&self, contact: &str, now: DateTime<Utc>) -> Result<serde_json::Value> {
        use base64::Engine;
        // One view: the attachments are those of the very cases read.
        let view = self.view()?;
        let cases = self.cases_of_contact(&view, contact)?;
        self.check_unreadable_cases_of(&view, contact, &cases)?;
        let mut out = Vec::new();
        for case in &cases {
            let mut files = Vec::new();
            // The keys the case's own values are sealed with, as stored.
            let case_keys = match view.snapshot().read(&case.case.id.path())? {
                Some(text) => key_ids_in(&String::from_utf8_lossy(&text)),
                None => Vec::new(),
            };
            for a in &case.case.attachments {
                let path = crate::model::layout::attachment_file(&case.case.id, a);
                // Erased, or its case's key not in this clone: no content, as its case's
                // fields read "[erased]" or "[sealed]". Anything else is an error naming
                // the file: a damaged or missing one, or one that names a key its case
                // does not use (an edited file, not an erased one).
                let content = match view.snapshot().attachment(case, &path) {
                    Ok(Some(content)) => Some(content),
                    Ok(None) => {
                        return Err(Error::invalid(
                            "--customer",
                            format!(
                                "case {}: {path} is missing from the case book",
                                case.case.id
                            ),
                        ))
                    }
                    Err(crate::store::StoreError::Sealed {
                        error: SealError::Erased { key, .. } | SealError::MissingKey { key, .. },
                        ..
                    }) if case_keys.contains(&key) => None,
                    Err(e) => return Err(e.into()),
                }
                .map(|b| base64::engine::general_purpose::STANDARD.encode(b));
                files.push(serde_json::json!({
                    "name": a.name,
                    "size": a.size,
                    "content_base64": content,
                }));
            }
            let mut value =
                serde_json::to_value(case).map_err(|e| Error::invalid("export", e.to_string()))?;
            value["attachment_contents"] = serde_json::Value::Array(files);
            out.push(value);
        }
        Ok(serde_json::json!({
            "customer": contact.trim(),
            "generated_at": crate::model::time::format_utc(&now),
            "cases": out,
        }))
    }
}

impl Casebook {
    /// An error naming the first case sealed with a key of the customer known by `contact`
    /// (its key ring label says so) that is not among `found` because it cannot be read (a
    /// damaged file): a subject access export must not leave out their data silently. A
    /// case that reads but no longer names this contact is left out, as the scan decided
    /// (its customer was changed to someone else).
    fn check_unreadable_cases_of(
        &self,
        view: &View<'_>,
        contact: &str,
        found: &[CaseFile],
    ) -> Result<()> {
        let reader = self.store.ring_reader()?;
        let Some(secret) = reader.pseudonym_secret() else {
            return Ok(());
        };
        let keys: BTreeSet<String> = self
            .store
            .keys_of_subject(&customer_subject(&secret, &normalise(contact)))?
            .into_iter()
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let snap = view.snapshot();
        for id in cases_sealed_with(snap, &keys)? {
            if found.iter().any(|c| c.case.id == id) {
                continue;
            }
            let path = id.path();
            let Some(bytes) = snap.read(&path)? else {
                continue;
            };
            if let Err(e) = snap.parse(&path, &bytes) {
                return Err(Error::invalid(
                    "--customer",
                    format!(
                        "case {id} holds personal data of {} but cannot be read: {e}",
                        contact.trim()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Whether some version of the case's file in history holds personal data in plain text
/// (recorded before the book was sealed): no key can erase that.
fn holds_plain_personal_data(store: &crate::store::Store, id: &CaseId) -> Result<bool> {
    let path = id.path();
    for entry in store.history(&path)? {
        let Some(bytes) = store.file_at(entry.commit, &path)? else {
            continue;
        };
        let Ok(mut case) = crate::store::parse_case(&path, &bytes) else {
            continue;
        };
        let mut plain = false;
        case.each_personal_mut(&mut |_, v| {
            plain |= !v.is_empty() && !crate::model::seal::is_sealed(v);
        });
        if plain {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Casebook {
    /// Seals this case book from now on (`[privacy] seal = true`, one commit); `false` if
    /// it already was.
    pub fn seal_book(&self, ctx: &Context) -> Result<bool> {
        let (_, changed) = self
            .store
            .transact(&ctx.actor, ctx.now, |snap| -> Result<_> {
                if snap.config()?.privacy.seal {
                    return Ok((Change::nothing(), false));
                }
                let text = snap
                    .read(crate::model::config::CONFIG_PATH)?
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let text = with_seal_on(&text);
                crate::model::Config::from_toml(&text)?;
                let message = format!(
                    "casebook: seal personal data from now on\n\nAction: seal\nActor: {}\n",
                    ctx.actor
                );
                Ok((
                    Change::with_files(
                        message,
                        vec![(
                            crate::model::config::CONFIG_PATH.to_string(),
                            text.into_bytes(),
                        )],
                    ),
                    true,
                ))
            })?;
        if changed {
            // The key ring and its secret, so the next write can make keys.
            self.store.pseudonym_secret(ctx.now)?;
        }
        Ok(changed)
    }
}

/// `config` with `[privacy] seal = true`: the line changed where there is one, else the
/// section or the key added.
fn with_seal_on(config: &str) -> String {
    let mut lines: Vec<String> = config.lines().map(str::to_string).collect();
    let header = lines.iter().position(|l| l.trim() == "[privacy]");
    match header {
        Some(h) => {
            let end = lines[h + 1..]
                .iter()
                .position(|l| l.trim_start().starts_with('['))
                .map_or(lines.len(), |i| h + 1 + i);
            let key = (h + 1..end).find(|&i| {
                let l = lines[i].trim_start();
                l.starts_with("seal ") || l.starts_with("seal=")
            });
            match key {
                Some(i) => lines[i] = "seal = true".to_string(),
                None => lines.insert(h + 1, "seal = true".to_string()),
            }
            lines.join("\n") + "\n"
        }
        None => {
            let mut out = config.to_string();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("\n[privacy]\n# Personal data is stored only encrypted from here on (`casebook seal`).\nseal = true\n");
            out
        }
    }
}

impl Casebook {
    /// `tick`'s retention rule (`[privacy] retain`): erases the personal data of the cases
    /// closed longer ago than that which still hold some, in one commit. With `dry_run`,
    /// only says which.
    pub(crate) fn retain(&self, ctx: &Context, dry_run: bool) -> Result<Vec<super::TickAction>> {
        let config = self.config()?;
        let Some(retain) = config.privacy.retain else {
            return Ok(Vec::new());
        };
        let cutoff = retain.cutoff(ctx.now);
        let view = self.view()?;
        let due: Vec<CaseId> = view.map_cases(|f| {
            let closed = f
                .case
                .closed_at
                .filter(|_| f.case.status == crate::model::Status::Closed)?;
            // Erased since it was closed: nothing new was said to keep.
            let erased_since = f
                .events
                .iter()
                .any(|e| e.action() == Action::Erase && e.at >= closed);
            (closed < cutoff && !erased_since).then(|| f.case.id.clone())
        })?;
        drop(view);
        let ring = self.store.ring_reader()?;
        let snap = self.store.casebook_snapshot()?;
        let mut live = Vec::new();
        for id in due {
            let text = snap.read(&id.path())?.unwrap_or_default();
            let keys = key_ids_in(&String::from_utf8_lossy(&text));
            if keys.iter().any(|k| {
                ring.exists()
                    && !matches!(
                        crate::model::seal::Keys::lookup(&ring, k),
                        crate::model::seal::Lookup::Erased
                    )
            }) {
                live.push(id);
            }
        }
        drop(snap);
        if live.is_empty() {
            return Ok(Vec::new());
        }
        let reason = format!(
            "retention: closed more than {} ago ([privacy] retain)",
            retain.text()
        );
        let ids: Vec<String> = live.iter().map(|c| c.to_string()).collect();
        let report = self.erase(ctx, &EraseTarget::Cases(ids), &reason, dry_run)?;
        Ok(report
            .cases
            .into_iter()
            .map(|case| super::TickAction {
                case,
                action: Action::Erase,
                reason: reason.clone(),
            })
            .collect())
    }
}

impl Casebook {
    /// The content of one of a case's attachments, opened: `which` is its name, its path,
    /// or the start of its blob id (at least 7 characters).
    pub fn attachment(&self, query: &str, which: &str) -> Result<(String, Vec<u8>)> {
        let view = self.view()?;
        let id = resolve(view.snapshot(), query)?;
        let case = view
            .case(&id)?
            .ok_or_else(|| Error::UnknownCase(query.to_string()))?;
        let path_of = |a: &crate::model::event::Attachment| {
            crate::model::layout::attachment_file(&case.case.id, a)
        };
        let found: Vec<&crate::model::event::Attachment> = case
            .case
            .attachments
            .iter()
            .filter(|a| {
                a.name == which
                    || path_of(a) == which
                    || (which.len() >= 7 && a.blob.starts_with(which))
            })
            .collect();
        let listing = || {
            case.case
                .attachments
                .iter()
                .map(|a| format!("{} ({})", a.name, path_of(a)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let a = match found.as_slice() {
            [a] => *a,
            [] if case.case.attachments.is_empty() => {
                return Err(Error::invalid(
                    "FILE",
                    format!("case {id} has no attachments"),
                ))
            }
            [] => {
                return Err(Error::invalid(
                    "FILE",
                    format!(
                        "case {id} has no attachment {which:?}; it has: {}",
                        listing()
                    ),
                ))
            }
            _ => {
                return Err(Error::invalid(
                    "FILE",
                    format!(
                        "case {id} has several attachments {which:?}: name one by its path: {}",
                        listing()
                    ),
                ))
            }
        };
        let path = path_of(a);
        let content = view.snapshot().attachment(&case, &path)?.ok_or_else(|| {
            Error::invalid("FILE", format!("{path} is missing from the case book"))
        })?;
        Ok((a.name.to_string(), content))
    }
}
