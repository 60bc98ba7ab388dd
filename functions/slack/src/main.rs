//! The `slack` Lambda: verifies, parses and queues Slack's requests; the worker acts on them.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = sev::wiring::aws_config().await?;
    let services = sev::wiring::aws(&config).await?;
    let routes = sev::wiring::slack_routes(&config, &services).ok_or(
        "the slack function needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (Socket Mode is for the local server only)",
    )?;
    lambda_http::run(sev::slack::router(routes)).await
}
