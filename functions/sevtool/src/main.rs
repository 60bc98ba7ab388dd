//! `sevtool`: serves every route on one port and runs, in-process, what AWS runs as separate
//! pieces (the outbox relay and the task consumer), all on the embedded store.

mod background;
mod cli;

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use sev::app::SlackLink;
use sev::config::Config;
use sev::http::{AlertWebhooks, AppState, router};
use tokio::sync::watch;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Said as a sentence (the variable, its value and what is wrong), not as a debug dump.
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sevtool: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    sev::telemetry::init_local();
    let config = Config::from_env()?;
    let (services, queues, scheduler) = sev::wiring::embedded(&config).await?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    // A data directory from before month tallies existed gets them before anything else: an
    // import into it, or its first report. On a new one this only marks them counted, so an
    // import's SEVs are tallied as they are written and the server does not count them again.
    if args.first().map(String::as_str) != Some("rebuild-tallies")
        && let Some(rebuilt) = services.trends.ensure_tallies().await?
    {
        tracing::info!(
            sevs = rebuilt.sevs,
            months = rebuilt.months,
            "month tallies counted from the stored SEVs"
        );
    }
    match args.first().map(String::as_str) {
        None => {}
        Some("export") => return cli::export(&services.transfer, &args[1..]).await,
        Some("import") => {
            if !cli::import(&services.transfer, &args[1..]).await? {
                std::process::exit(1);
            }
            return Ok(());
        }
        Some("rebuild-tallies") => return cli::rebuild_tallies(&services.trends, &args[1..]).await,
        Some(_) => return Err(cli::USAGE.into()),
    }
    let integrations = sev::wiring::integrations(&config, &services);
    let pager_integrations = sev::wiring::pager_integrations(&services);
    for line in config.integrations.describe() {
        tracing::info!("{line}");
    }

    let listener = tokio::net::TcpListener::bind(SocketAddr::new(config.host, config.port)).await?;
    let addr = listener.local_addr()?;
    tracing::info!(data_dir = %config.data_dir.display(), "embedded store ready");
    // Printed on stdout, not logged, so scripts and tests can read the bound port (PORT=0).
    println!("sevtool listening on http://{addr}");

    let (stop_tx, stop_rx) = watch::channel(false);
    let relay = tokio::spawn(background::relay_loop(services.relay.clone(), stop_rx.clone()));
    let jobs = tokio::spawn(background::jobs_loop(services.jobs.clone(), stop_rx.clone()));
    let schedules = tokio::spawn(background::schedule_loop(
        scheduler,
        queues.tasks.clone(),
        stop_rx.clone(),
    ));
    let consumer = tokio::spawn(background::consume_loop(
        queues.tasks,
        services.repo.clone(),
        integrations,
        1,
        stop_rx.clone(),
    ));
    // Pages on their own consumer, so that they never wait behind Slack's rate limits.
    let pager = tokio::spawn(background::pager_loop(
        queues.pager,
        services.repo.clone(),
        pager_integrations,
        background::PAGER_CONCURRENCY,
        stop_rx.clone(),
    ));

    // Socket Mode runs beside the HTTP routes; neither waits for the other, and a Slack outage
    // never holds up the API or the web UI.
    let slack_link = SlackLink::default();
    let socket_mode =
        sev::wiring::socket_mode(&config, &services, &slack_link).map(|link| tokio::spawn(link.run(stop_rx.clone())));
    let slack = match sev::wiring::slack_routes(&config, &services) {
        Some(routes) => sev::slack::router(routes),
        None => slack_off(config.slack.is_some()),
    };
    let jira = sev::wiring::jira_webhook(&config, &services);
    let pagers = sev::wiring::pager_webhooks(&config, &services);
    let alerts = AlertWebhooks {
        service: services.alerts,
        token: config.alert_webhook_token.clone(),
    };
    let app = router(AppState {
        sevs: services.sevs,
        scas: services.scas,
        trends: services.trends,
        sev_reports: services.sev_reports,
        transfer: services.transfer,
        jobs: services.jobs,
        alerts,
        paging: services.paging,
        auth: sev::http::auth::Auth::from_config(&config, sev::http::auth::WhenUnconfigured::Open),
        slack_link: socket_mode.is_some().then_some(slack_link),
    })
    .merge(slack)
    .merge(jira)
    .merge(pagers);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("shutting down");
    stop_tx.send_replace(true);
    let _ = tokio::join!(relay, jobs, schedules, consumer, pager);
    if let Some(link) = socket_mode {
        let _ = link.await;
    }
    Ok(())
}

/// Without Slack's HTTP settings its routes say so, rather than looking like they do not exist.
/// `socket_mode` says whether Slack is on over Socket Mode alone.
fn slack_off(socket_mode: bool) -> Router {
    let off = move || async move {
        let error = if socket_mode {
            "Slack reaches this sevtool over Socket Mode; to take Slack's HTTP requests as well, set SLACK_SIGNING_SECRET and restart sevtool"
        } else {
            "Slack is off here: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) and restart sevtool"
        };
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "error": error })),
        )
    };
    Router::new()
        .route("/slack/commands", post(off))
        .route("/slack/events", post(off))
        .route("/slack/interactions", post(off))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
