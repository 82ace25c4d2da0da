//! The service in real Chromium (Debian's `chromium` and `chromium-driver`, over WebDriver with
//! fantoccini): sign in, upload a synthetic leak through the form, watch the progress to the end
//! (server-sent events and the page's script), read the verdict, check the waterfall is drawn,
//! open a draft, fetch `affected_persons.csv` as analyst, be refused it as viewer.
//!
//! Without `chromedriver` on the PATH the test says so and passes, except under CI (`CI` set),
//! where `.ci/run` installs it and its absence fails.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

async fn start_driver() -> Option<(Driver, u16)> {
    if !have("chromedriver") {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromedriver missing under CI (.ci/run installs chromium-driver)"
        );
        eprintln!(
            "browser test skipped: no chromedriver (apt-get install chromium chromium-driver)"
        );
        return None;
    }
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver(child);
    let until = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some((driver, port))
}

async fn browser(port: u16) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--window-size=1200,1600"]}),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session")
}

async fn sign_in(c: &Client, base: &str, name: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys(name)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form.card button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("header nav form button"))
        .await
        .unwrap();
}

/// `fetch(url)` from the page (with its cookie); the HTTP status.
async fn fetch_status(c: &Client, url: &str) -> u64 {
    let js = "const cb = arguments[arguments.length - 1];
              fetch(arguments[0]).then(r => cb(r.status), () => cb(0));";
    c.execute_async(js, vec![serde_json::json!(url)])
        .await
        .unwrap()
        .as_u64()
        .unwrap()
}

/// Pixels of a PNG close to an RGB colour.
fn pixels_like(png_bytes: &[u8], rgb: (u8, u8, u8)) -> usize {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(step)
        .filter(|p| {
            let d = |a: u8, b: u8| (a as i32 - b as i32).abs() <= 12;
            d(p[0], rgb.0) && d(p[1], rgb.1) && d(p[2], rgb.2)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyst_and_viewer_in_chromium() {
    let Some((_driver, port)) = start_driver().await else {
        return;
    };
    let app = app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let c = browser(port).await;

    sign_in(&c, &base, "analyst").await;
    c.goto(&format!("{base}/incidents/new")).await.unwrap();
    let leak = base_leak();
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(&leak)
        .await
        .unwrap();
    c.find(Locator::Id("title"))
        .await
        .unwrap()
        .send_keys("Fuite navigateur")
        .await
        .unwrap();
    c.find(Locator::Id("discovered_at"))
        .await
        .unwrap()
        .send_keys(DISCOVERED)
        .await
        .unwrap();
    c.find(Locator::Css("form.card button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The incident page follows the job over server-sent events and reloads at the end.
    let until = Instant::now() + Duration::from_secs(90);
    loop {
        let phase = match c.find(Locator::Id("phase")).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if phase == "done" && c.find(Locator::Css(".verdict-box")).await.is_ok() {
            break;
        }
        assert!(
            !["failed", "cancelled"].contains(&phase.as_str()),
            "job {phase}"
        );
        assert!(
            Instant::now() < until,
            "the page never showed the end of the job ({phase})"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let url = c.current_url().await.unwrap();
    let id = url.path().rsplit('/').next().unwrap().to_string();
    let verdict = c
        .find(Locator::Css(".verdict-box"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(verdict.to_lowercase().contains("authentic"), "{verdict}");
    let chart = c
        .find(Locator::Css("svg.waterfall"))
        .await
        .unwrap()
        .screenshot()
        .await
        .unwrap();
    assert!(
        pixels_like(&chart, (0x2e, 0x7d, 0x32)) > 200,
        "green evidence bars drawn"
    );
    assert!(
        pixels_like(&chart, (0x1f, 0x4e, 0x79)) > 200,
        "total bar drawn"
    );
    let _ = std::fs::write(
        app.tmp.path().join("incident.png"),
        c.screenshot().await.unwrap(),
    );
    // A draft opens; the persons list is the analyst's.
    c.find(Locator::Css("a[href$='/drafts/art33_fr.html']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let draft = c
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        draft.contains("CNIL") || draft.contains("Notification"),
        "{draft}"
    );
    c.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(
        fetch_status(&c, &format!("/incidents/{id}/affected_persons.csv")).await,
        200
    );

    // The viewer reads the verdict but not the persons, and sees no link to them.
    c.find(Locator::Css("header nav form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("password")).await.unwrap();
    sign_in(&c, &base, "viewer").await;
    c.goto(&format!("{base}/incidents/{id}")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("verdict-box authentic"), "{page}");
    assert!(!page.contains("affected_persons.csv"), "{page}");
    assert_eq!(
        fetch_status(&c, &format!("/incidents/{id}/affected_persons.csv")).await,
        403
    );
    assert_eq!(
        fetch_status(&c, &format!("/api/v1/incidents/{id}/drafts/art33_fr.md")).await,
        403
    );
    c.close().await.unwrap();
    server.abort();
}

fn base_leak() -> String {
    base().leak("app_reshaped.csv").display().to_string()
}
