//! The classic karajo examples, configured by code: a job every minute, a
//! job at every fifth minute of the hour, a GitHub webhook job, and an HTTP
//! job that calls that webhook every 90 seconds.
//!
//! `cargo run -p karajod --example karajo-example [DIR_BASE]`, then open
//! the printed URL. The secret is `s3cret`; a file config named
//! `$DIR_BASE/etc/karajo/karajo.conf` is merged in when it exists.

use std::path::PathBuf;
use std::time::Duration;

use karajod::config::{AuthKind, HttpMethod, RequestType, Secret, Timer};
use karajod::library::{self, Karajo};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let dir_base: PathBuf = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| "karajo-example".into());
    let mut k = Karajo::new(&dir_base);
    let conf = dir_base.join("etc/karajo/karajo.conf");
    if conf.exists() {
        k.merge_file(&conf)?;
    }
    k.server().secret = Secret::new("s3cret");
    k.server().max_job_running = 2;

    let mut every_minute = library::job("Test interval 1m");
    every_minute.common.description = "Runs every minute and says so.".into();
    library::set_interval(&mut every_minute, Duration::from_secs(60));
    k.add_call_job(every_minute, |ctx, log, _| async move {
        log.line(format!("hello from run #{} ({})", ctx.counter, ctx.trigger)).await;
        Ok(())
    });

    let mut five = library::job("Test schedule hourly");
    let text = "hourly@0,5,10,15,20,25,30,35,40,45,50,55";
    five.common.timer = Some(Timer::Schedule(text.parse()?));
    five.common.timer_text = text.into();
    k.add_call_job(five, |_, log, _| async move {
        log.line("five minutes passed").await;
        Ok(())
    });

    let mut github = library::job("Test webhook github");
    github.path = Some("/github".into());
    github.auth_kind = AuthKind::Github;
    k.add_call_job(github, |_, log, body| async move {
        let len = body.as_ref().map_or(0, |b| b.len());
        log.line(format!("webhook received, {len} bytes of payload")).await;
        Ok(())
    });

    let mut http = library::http_job("Test trigger github", HttpMethod::Post, "/karajo/api/job_exec/run/github");
    http.http_request_type = RequestType::Json;
    // GitHub's header: the value gets GitHub's `sha256=` prefix.
    http.common.header_sign = "X-Hub-Signature-256".into();
    library::set_http_interval(&mut http, Duration::from_secs(90));
    k.add_http_job(http);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:31937").await?;
    let running = k.start(listener).await?;
    println!("karajo-example: listening on {} (dir_base {})", running.url, dir_base.display());
    karajod::app::shutdown_signal().await;
    running.stop().await;
    Ok(())
}
