//! The shared SMTP transport against a real TLS server on loopback (python3-aiosmtpd with a
//! certificate signed by a CA made for the test): STARTTLS and implicit TLS deliver when the CA
//! file is given; without it the server is refused with a certificate error and nothing is
//! delivered.

mod tlssink;
use tlssink as tls;

use leaktrace_mail::{failure, Failure, SmtpConfig, TlsMode};
use lettre::message::header::ContentType;
use lettre::{Message, Transport as _};

fn message(subject: &str) -> Message {
    Message::builder()
        .from("dpo@agence.example.fr".parse().unwrap())
        .to("team@agence.example.fr".parse().unwrap())
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body("test".to_string())
        .unwrap()
}

fn config(s: &tls::TlsSink, mode: TlsMode, ca: bool) -> SmtpConfig {
    let mut c = SmtpConfig::new("localhost", Some(s.port), mode);
    if ca {
        c.ca_file = Some(s.ca.clone());
    }
    c
}

#[test]
fn starttls_delivers_with_the_ca_file_and_is_refused_without_it() {
    let Some(s) = tls::TlsSink::start(tls::Mode::StartTls) else {
        return;
    };
    // The web PKI roots alone do not know the test CA: a certificate error, nothing sent.
    let t = config(&s, TlsMode::StartTls, false).transport().unwrap();
    let e = t.send(&message("refused")).unwrap_err();
    assert_eq!(failure(&e), Failure::Certificate, "{e:?}");
    assert!(
        failure(&e).as_str().contains("certificate is not trusted"),
        "{}",
        failure(&e)
    );
    assert!(s.messages().is_empty());
    // The same server with its CA trusted: delivered, over STARTTLS.
    let t = config(&s, TlsMode::StartTls, true).transport().unwrap();
    t.send(&message("over starttls")).unwrap();
    let m = s.messages();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].0, "starttls");
    assert!(m[0].1.contains("Subject: over starttls"), "{}", m[0].1);
    // By address: the certificate names 127.0.0.1 too.
    let mut c = config(&s, TlsMode::StartTls, true);
    c.host = "127.0.0.1".into();
    c.transport().unwrap().send(&message("by address")).unwrap();
    assert_eq!(s.messages().len(), 2);
}

#[test]
fn plain_smtp_to_a_starttls_only_server_delivers_nothing() {
    let Some(s) = tls::TlsSink::start(tls::Mode::StartTls) else {
        return;
    };
    let t = config(&s, TlsMode::None, false).transport().unwrap();
    let e = t.send(&message("in clear")).unwrap_err();
    // "530 Must issue a STARTTLS command first": a 5xx, not a transport failure.
    assert!(e.is_permanent(), "{e:?}");
    assert!(s.messages().is_empty());
}

#[test]
fn implicit_tls_delivers_with_the_ca_file_and_is_refused_without_it() {
    let Some(s) = tls::TlsSink::start(tls::Mode::Tls) else {
        return;
    };
    let t = config(&s, TlsMode::Tls, false).transport().unwrap();
    let e = t.send(&message("refused")).unwrap_err();
    assert_eq!(failure(&e), Failure::Certificate, "{e:?}");
    assert!(s.messages().is_empty());
    let t = config(&s, TlsMode::Tls, true).transport().unwrap();
    t.send(&message("over tls")).unwrap();
    let m = s.messages();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].0, "tls");
}
