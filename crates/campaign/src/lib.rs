//! The GDPR Art. 34 campaign (`leaktrace notify`, docs/campaign.md): each affected person of
//! an incident gets the notice naming *their* exposed categories, by e-mail through SMTP,
//! throttled, resumable after an interruption, with a delivery log of person ids and statuses
//! in the workspace catalog (never an address).
//!
//! - [`source`]: the persons (`affected_persons.csv`) and the incident's organisation, contact
//!   and measures, from an incident of the service or an `analyze --out` directory;
//! - [`contacts`]: the organisation's id → address file, read at send time, in memory only;
//! - [`log`]: the delivery log (`campaign_*` tables with their own migrations);
//! - the SMTP transport is `leaktrace_mail` (the configuration shared with the watcher's alerts).
//!
//! Delivery is **at most once** by default: `sending` is committed before each SMTP
//! transaction and `sent` after the server's acceptance; a person left in `sending` (the run
//! died mid-transaction) is reported and only retried with `retry_uncertain`.

pub mod contacts;
pub mod log;
pub mod source;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use leaktrace_index::Fingerprinter;
use leaktrace_report::notice::{art34_text, art34_title, Art34, Lang};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{Address, Message, SmtpTransport, Transport as _};

pub use leaktrace_mail as smtp;
pub use log::Status;
pub use source::{Origin, Person};

/// The messages per second sent when no rate is given.
pub const DEFAULT_RATE: f64 = 5.0;
/// The user the campaign acts as in the service's timeline and audit trail.
pub const CAMPAIGN_USER: &str = "notify";
/// The lock file that keeps two campaigns of a workspace from running at once.
pub const LOCK_FILE: &str = "campaign.lock";

/// Errors of a campaign.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A bad line of the contacts file (the value is never shown in clear).
    #[error("{path}: line {line}: {message}")]
    Contacts {
        path: String,
        line: u64,
        message: String,
    },
    /// A bad line of `affected_persons.csv`.
    #[error("{path}: line {line}: {message}")]
    Affected {
        path: String,
        line: u64,
        message: String,
    },
    /// The incident or output directory cannot be used.
    #[error("{0}")]
    Source(String),
    /// The catalog failed.
    #[error("catalog: {0}")]
    Catalog(#[from] rusqlite::Error),
    /// The catalog's campaign tables are newer than this leaktrace.
    #[error("the catalog's campaign tables are at version {0}, newer than this leaktrace; upgrade leaktrace")]
    Schema(i64),
    /// A status the log does not know.
    #[error("catalog: unknown delivery status {0:?}")]
    BadStatus(String),
    /// Another campaign runs on this workspace.
    #[error("another `leaktrace notify` is running on this workspace ({0}); wait for it to end")]
    Busy(String),
    /// The sender address is not one.
    #[error("--from: not an e-mail address")]
    BadFrom,
    /// The SMTP configuration or connection failed before anything was sent.
    #[error(transparent)]
    Smtp(#[from] leaktrace_mail::MailError),
    /// The SMTP server cannot be reached: nothing was sent.
    #[error("smtp: cannot reach the server ({0}); nothing was sent")]
    Unreachable(String),
    /// The run stopped on a failure whose outcome is unknown: `person` is left `sending`.
    #[error("smtp: {kind} failure while sending to person {person}: stopped; {sent} sent in this run; that person is left `sending` (uncertain): check the server's log, then rerun (add --retry-uncertain to send it again)")]
    Interrupted {
        person: String,
        kind: &'static str,
        sent: u64,
    },
    /// A notice could not be built.
    #[error("notice for person {0}: {1}")]
    Build(String, String),
}

impl CampaignError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> CampaignError {
        CampaignError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// What a campaign run is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The incident or output directory.
    pub origin: Origin,
    /// The contacts file.
    pub contacts: PathBuf,
    /// The notice's language.
    pub lang: Lang,
    /// Send again to persons left `sending` by an interrupted run (at-least-once for them).
    pub retry_uncertain: bool,
}

/// The counts a dry run prints (and a run starts from).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Persons in `affected_persons.csv`.
    pub affected: u64,
    /// Of those, with an address in the contacts file.
    pub with_contact: u64,
    /// Of those, without one (not notified by e-mail: another channel is needed).
    pub without_contact: u64,
    /// Already `sent` by an earlier run (skipped).
    pub already_sent: u64,
    /// Left `sending` by an interrupted run (skipped unless retried).
    pub uncertain: u64,
    /// Refused for good by the server earlier (skipped).
    pub rejected: u64,
    /// To be sent by this run.
    pub to_send: u64,
}

/// A campaign ready to send: who gets what, and the log.
pub struct Prepared {
    loaded: source::Loaded,
    lang: Lang,
    /// Indexes into `loaded.persons` with each one's address, in order.
    targets: Vec<(usize, Address)>,
    /// The counts before sending.
    pub counts: Counts,
    /// The ids left `sending` by an interrupted run.
    pub uncertain_ids: Vec<String>,
    /// Indexes into `loaded.persons` of every distinct person with an address.
    with_contact: Vec<usize>,
    home: PathBuf,
    log: log::Log,
    /// The incident of the service, for `--incident N` (its timeline gets `persons_informed`).
    incident: Option<i64>,
    _lock: File,
}

/// Load the campaign of `opts` in the workspace `home`: persons, contacts (matched by id, or
/// by the keyed pseudonym of the id computed with `fpr` when `affected_persons.csv` holds
/// pseudonyms), the delivery log and its counts. Takes the workspace's campaign lock.
pub fn prepare(
    home: &Path,
    fpr: &Fingerprinter,
    opts: &Options,
) -> Result<Prepared, CampaignError> {
    let lock_path = home.join(LOCK_FILE);
    let lock = File::create(&lock_path).map_err(|e| CampaignError::io(&lock_path, e))?;
    lock.try_lock()
        .map_err(|_| CampaignError::Busy(lock_path.display().to_string()))?;
    let loaded = source::load(home, &opts.origin)?;
    let contacts = contacts::read(&opts.contacts)?;
    let pseudonymised: HashMap<String, &Address> =
        if loaded.persons.iter().any(|p| source::is_pseudonym(&p.id)) {
            contacts
                .iter()
                .map(|(id, a)| (fpr.pseudonym(id), a))
                .collect()
        } else {
            HashMap::new()
        };
    let log = log::Log::open(home, &loaded.scope)?;
    let statuses = log.statuses()?;
    let mut counts = Counts::default();
    let mut targets = Vec::new();
    let mut uncertain_ids = Vec::new();
    let mut with_contact = Vec::new();
    let mut seen = HashSet::new();
    for (i, p) in loaded.persons.iter().enumerate() {
        if !seen.insert(p.id.as_str()) {
            continue;
        }
        counts.affected += 1;
        let address = contacts
            .get(&p.id)
            .or_else(|| pseudonymised.get(&p.id).copied());
        let Some(address) = address else {
            counts.without_contact += 1;
            continue;
        };
        counts.with_contact += 1;
        with_contact.push(i);
        match statuses.get(&p.id) {
            Some(Status::Sent) => counts.already_sent += 1,
            Some(Status::Rejected) => counts.rejected += 1,
            Some(Status::Sending) => {
                counts.uncertain += 1;
                uncertain_ids.push(p.id.clone());
                if opts.retry_uncertain {
                    targets.push((i, address.clone()));
                }
            }
            Some(Status::Deferred) | None => targets.push((i, address.clone())),
        }
    }
    counts.to_send = targets.len() as u64;
    Ok(Prepared {
        loaded,
        lang: opts.lang,
        targets,
        counts,
        uncertain_ids,
        with_contact,
        home: home.to_path_buf(),
        log,
        incident: match opts.origin {
            Origin::Incident(n) => Some(n),
            Origin::Report { .. } => None,
        },
        _lock: lock,
    })
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Accepted by the server.
    pub sent: u64,
    /// Refused for good (5xx).
    pub rejected: u64,
    /// Refused for now (4xx): the next run retries them.
    pub deferred: u64,
}

/// Spaces sends `1 / rate` seconds apart (from the start, so a slow send is caught up).
struct Pacer {
    start: Instant,
    interval: Duration,
    n: u32,
}

impl Pacer {
    fn new(rate: f64) -> Pacer {
        let interval = if rate.is_finite() && rate > 0.0 {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        };
        Pacer {
            start: Instant::now(),
            interval,
            n: 0,
        }
    }
    fn wait(&mut self) {
        let due = self.start + self.interval * self.n;
        self.n = self.n.saturating_add(1);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
    }
}

/// The kind of an SMTP failure that is neither a 4xx nor a 5xx reply (no server text: it may
/// quote the address).
fn failure_kind(e: &lettre::transport::smtp::Error) -> &'static str {
    leaktrace_mail::failure(e).as_str()
}

fn reply_code(e: &lettre::transport::smtp::Error) -> Option<u16> {
    e.status().and_then(|c| c.to_string().parse().ok())
}

impl Prepared {
    /// The notice of the `i`-th person: that person's categories and the incident's fields,
    /// nothing of anyone else.
    fn notice(&self, i: usize) -> String {
        let l = &self.loaded;
        art34_text(
            &Art34 {
                organisation: &l.organisation,
                contact: &l.contact,
                categories: &l.persons[i].categories,
                recombined: l.recombined,
                measures_taken: Some(&l.measures_taken),
            },
            self.lang,
        )
    }

    /// Send every pending notice from `from` through `transport`, `rate` per second at most,
    /// calling `progress` after each. Stops at the first failure whose outcome is unknown.
    /// Once every person with a contact has been attempted, an incident of the service gets
    /// its `persons_informed` step ([`Prepared::record_informed`]).
    pub fn send(
        &self,
        transport: &SmtpTransport,
        from: &str,
        rate: f64,
        progress: &dyn Fn(&Outcome),
    ) -> Result<Outcome, CampaignError> {
        let out = self.send_all(transport, from, rate, progress)?;
        self.record_informed()?;
        Ok(out)
    }

    /// If this campaign is an incident's and every person with a contact has a delivery
    /// status, record the incident's `persons_informed` step (once) with an audit entry of
    /// counts only: sent, failed (rejected or deferred), uncertain, without contact. Returns
    /// whether the step was added now.
    pub fn record_informed(&self) -> Result<bool, CampaignError> {
        let Some(number) = self.incident else {
            return Ok(false);
        };
        let statuses = self.log.statuses()?;
        let mut counts = [0u64; 3];
        for &i in &self.with_contact {
            match statuses.get(&self.loaded.persons[i].id) {
                None => return Ok(false),
                Some(Status::Sent) => counts[0] += 1,
                Some(Status::Rejected | Status::Deferred) => counts[1] += 1,
                Some(Status::Sending) => counts[2] += 1,
            }
        }
        let detail = format!(
            "sent:{} failed:{} uncertain:{} without_contact:{}",
            counts[0], counts[1], counts[2], self.counts.without_contact
        );
        let mut intake = leaktrace_server::intake::Intake::open(&self.home)
            .map_err(|e| CampaignError::Source(e.to_string()))?;
        intake
            .record_step(
                number,
                leaktrace_server::service::Step::PersonsInformed,
                CAMPAIGN_USER,
                &detail,
            )
            .map_err(|e| CampaignError::Source(e.to_string()))
    }

    fn send_all(
        &self,
        transport: &SmtpTransport,
        from: &str,
        rate: f64,
        progress: &dyn Fn(&Outcome),
    ) -> Result<Outcome, CampaignError> {
        let from: Address = from.parse().map_err(|_| CampaignError::BadFrom)?;
        let from = Mailbox::new(None, from);
        let mut out = Outcome::default();
        if self.targets.is_empty() {
            return Ok(out);
        }
        transport
            .test_connection()
            .map_err(|e| CampaignError::Unreachable(failure_kind(&e).into()))
            .and_then(|ok| {
                ok.then_some(())
                    .ok_or_else(|| CampaignError::Unreachable("no greeting".into()))
            })?;
        let mut pacer = Pacer::new(rate);
        for (i, address) in &self.targets {
            let id = &self.loaded.persons[*i].id;
            let message = Message::builder()
                .from(from.clone())
                .to(Mailbox::new(None, address.clone()))
                .subject(art34_title(self.lang))
                .header(ContentType::TEXT_PLAIN)
                .body(self.notice(*i))
                .map_err(|e| CampaignError::Build(id.clone(), e.to_string()))?;
            pacer.wait();
            self.log.set(id, Status::Sending, None)?;
            match transport.send(&message) {
                Ok(r) => {
                    let code = r.code().to_string().parse().ok();
                    self.log.set(id, Status::Sent, code)?;
                    out.sent += 1;
                }
                Err(e) if e.is_permanent() => {
                    self.log.set(id, Status::Rejected, reply_code(&e))?;
                    out.rejected += 1;
                }
                Err(e) if e.is_transient() => {
                    self.log.set(id, Status::Deferred, reply_code(&e))?;
                    out.deferred += 1;
                }
                Err(e) => {
                    return Err(CampaignError::Interrupted {
                        person: id.clone(),
                        kind: failure_kind(&e),
                        sent: out.sent,
                    })
                }
            }
            progress(&out);
        }
        Ok(out)
    }
}
