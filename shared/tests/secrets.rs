//! The Secrets Manager loader and the AWS configuration built from it, against moto.

use crate::common;

use std::collections::HashMap;

use sev::secrets::{SECRETS_ARN_VAR, Secrets, SecretsError};
use sev::wiring::{WiringError, aws_config_from};

async fn client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&common::sdk_config().await)
}

/// Creates a secret holding `text` and returns its ARN.
async fn secret(text: &str) -> String {
    client()
        .await
        .create_secret()
        .name(common::unique("sevtool-secrets"))
        .secret_string(text)
        .send()
        .await
        .expect("create secret on moto")
        .arn
        .expect("moto returns the ARN")
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

#[tokio::test]
async fn loads_the_json_object_by_arn() {
    let arn =
        secret(r#"{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "sign", "ALERT_WEBHOOK_TOKEN": ""}"#).await;
    let secrets = Secrets::load(&client().await, &arn).await.unwrap();
    assert_eq!(secrets.get("SLACK_BOT_TOKEN"), Some("xoxb-1"));
    assert_eq!(secrets.get("SLACK_SIGNING_SECRET"), Some("sign"));
    assert_eq!(secrets.get("ALERT_WEBHOOK_TOKEN"), None);
}

#[tokio::test]
async fn config_takes_the_environment_first_then_the_secret() {
    let arn =
        secret(r#"{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "sign", "SEVTOOL_TABLE": "from-secret"}"#)
            .await;
    let sdk = common::sdk_config().await;
    let config = aws_config_from(
        &sdk,
        env(&[
            (SECRETS_ARN_VAR, &arn),
            ("SEVTOOL_TABLE", "from-env"),
            ("ALERT_WEBHOOK_TOKEN", ""),
        ]),
    )
    .await
    .unwrap();
    assert!(config.integrations.slack, "Slack tokens come from the secret");
    assert!(
        !config.integrations.alerts,
        "an empty variable and no secret value leave it off"
    );
    assert_eq!(config.table, "from-env");
}

#[tokio::test]
async fn without_the_variable_no_secret_is_read() {
    // The SDK config points at moto, but nothing is created there: a read would fail.
    let sdk = common::sdk_config().await;
    let config = aws_config_from(&sdk, env(&[("SLACK_BOT_TOKEN", "x"), ("SLACK_SIGNING_SECRET", "y")]))
        .await
        .unwrap();
    assert!(config.integrations.slack);
}

#[tokio::test]
async fn a_missing_or_malformed_secret_is_a_clear_error_without_values() {
    let sdk = common::sdk_config().await;
    let missing = common::unique("no-such-secret");
    let err = aws_config_from(&sdk, env(&[(SECRETS_ARN_VAR, &missing)]))
        .await
        .unwrap_err();
    assert!(matches!(err, WiringError::Secrets(SecretsError::Read(_))), "{err:?}");
    assert!(err.to_string().contains("GetSecretValue"), "{err}");

    let arn = secret(r#"{"SLACK_BOT_TOKEN": ["hunter2"]}"#).await;
    let err = aws_config_from(&sdk, env(&[(SECRETS_ARN_VAR, &arn)]))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("SLACK_BOT_TOKEN is not a string") && !err.contains("hunter2"),
        "{err}"
    );
}
