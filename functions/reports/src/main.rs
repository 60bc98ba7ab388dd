//! The `reports` Lambda: the weekly digest, the daily sweep and the daily lake export, on
//! schedules (see `events.rs` for what each event asks).

mod events;

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use sev::transfer::Lake;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = sev::wiring::aws_config().await?;
    let services = sev::wiring::aws(&config).await?;
    let lake = sev::wiring::lake(&config)
        .await
        .map(|lake| (Arc::new(lake) as Arc<dyn Lake>, config.export_prefix.clone()));
    let deps = &events::Deps {
        reports: services.reports,
        lake,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        events::handle(deps, event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
