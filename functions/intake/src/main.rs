//! The `intake` Lambda: serves the shared HTTP routes behind API Gateway.

use sev::http::{AlertWebhooks, AppState, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = sev::wiring::aws_config().await?;
    let services = sev::wiring::aws(&config).await?;
    let jira = sev::wiring::jira_webhook(&config, &services);
    let pagers = sev::wiring::pager_webhooks(&config, &services);
    lambda_http::run(
        router(AppState {
            sevs: services.sevs,
            scas: services.scas,
            trends: services.trends,
            sev_reports: services.sev_reports,
            transfer: services.transfer,
            jobs: services.jobs,
            alerts: AlertWebhooks {
                service: services.alerts,
                token: config.alert_webhook_token.clone(),
            },
            paging: services.paging,
            // Reachable from the internet: without a way to sign in, refuse rather than run open.
            auth: sev::http::auth::Auth::from_config(&config, sev::http::auth::WhenUnconfigured::Refuse),
            // Lambda hears Slack over HTTP only: a websocket cannot outlive an invocation.
            slack_link: None,
        })
        .merge(jira)
        .merge(pagers),
    )
    .await
}
