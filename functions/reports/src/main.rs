//! The `reports` Lambda: the weekly digest, the daily sweep and the daily lake export, on
//! schedules (see `events.rs` for what each event asks).

mod events;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = sev::wiring::aws_config().await?;
    let services = sev::wiring::aws(&config).await?;
    let deps = &events::Deps {
        trends: services.trends,
        transfer: services.transfer,
        jobs: services.jobs,
        lake: services.lake,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        events::handle(deps, event.payload).await
    }))
    .await
}
