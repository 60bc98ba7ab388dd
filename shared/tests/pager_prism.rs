//! Every request the pager adapters send, checked against the vendors' own OpenAPI specs by the
//! Prism mock server: a request that does not match the spec gets a 4xx, which the adapters
//! report as an error, so each call below succeeding means its request was valid.

use crate::common;

use std::collections::HashMap;

use common::prism::{Prism, vendor_spec};
use sev::domain::{Level, SevId, dedup_key};
use sev::paging::{Incidents, Opsgenie, PageRequest, Pager, PagerDuty, PagerTarget, Secret};

fn request(level: Level) -> PageRequest {
    PageRequest {
        sev: SevId(42),
        level,
        team: "payments".into(),
        summary: "Checkout returns 5xx — ünïcode and \"quotes\" survive".into(),
        dedup_key: dedup_key(SevId(42), "payments"),
    }
}

fn pd_target(schedule: bool) -> PagerTarget {
    PagerTarget::PagerDuty {
        routing_key: Secret::new("R0123456789abcdef0123456789abcdef"),
        schedule: schedule.then(|| "PSCHED1".to_owned()),
        escalation_policy: (!schedule).then(|| "PPOLICY1".to_owned()),
    }
}

/// Proves the mock validates at all: a request that breaks the spec is refused with the violation.
async fn assert_rejects_invalid(prism: &Prism, path: &str, body: serde_json::Value, auth: Option<&str>) {
    let mut req = reqwest::Client::new().post(format!("{}{path}", prism.base)).json(&body);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let r = req.send().await.expect("Prism answers");
    assert!(
        r.status().is_client_error(),
        "Prism accepted an invalid request: {}",
        r.status()
    );
    assert!(r.headers().contains_key("sl-violations"), "no violations reported");
}

#[tokio::test]
async fn pagerduty_events_requests_match_the_events_v2_spec() {
    let prism = Prism::start(vendor_spec("pagerduty/events-v2.openapi.json")).await;
    let pd = PagerDuty::new(&prism.base, "http://127.0.0.1:9", None);
    for level in Level::ALL {
        pd.trigger(&pd_target(true), &request(level))
            .await
            .unwrap_or_else(|e| panic!("trigger {level}: {e}\n{}", prism.log()));
    }
    pd.resolve(&pd_target(true), &dedup_key(SevId(42), "payments"))
        .await
        .unwrap_or_else(|e| panic!("resolve: {e}\n{}", prism.log()));
    assert_rejects_invalid(
        &prism,
        "/v2/enqueue",
        serde_json::json!({ "routing_key": "r", "event_action": "page-everyone" }),
        None,
    )
    .await;
}

#[tokio::test]
async fn pagerduty_on_call_lookups_match_the_rest_spec() {
    let prism = Prism::start(vendor_spec("pagerduty/rest.openapi.json")).await;
    let pd = PagerDuty::new("http://127.0.0.1:9", &prism.base, Some(Secret::new("u+token")));
    for schedule in [true, false] {
        let people = pd
            .on_call(&pd_target(schedule))
            .await
            .unwrap_or_else(|e| panic!("on-call (schedule: {schedule}): {e}\n{}", prism.log()));
        assert!(
            !people.is_empty() && people.iter().all(|p| p.email.contains('@')),
            "the spec's examples name an on-call user with an email: {people:?}"
        );
    }
    let r = reqwest::Client::new()
        .get(format!("{}/oncalls", prism.base))
        .send()
        .await
        .expect("Prism answers");
    assert!(
        r.status().is_client_error(),
        "a request without the token and headers passed"
    );

    // The webhook's incident lookup: the spec's example incident carries its incident_key.
    let key = pd
        .dedup_key("PT4KHLK")
        .await
        .unwrap_or_else(|e| panic!("incident lookup: {e}\n{}", prism.log()));
    assert!(key.is_some_and(|k| !k.is_empty()), "{}", prism.log());
}

#[tokio::test]
async fn opsgenie_requests_match_its_swagger_spec() {
    let prism = Prism::start(vendor_spec("opsgenie/swagger.json")).await;
    let keys = HashMap::from([("OPSGENIE_KEY_SEARCH".to_owned(), Secret::new("genie-key"))]);
    let og = Opsgenie::new(&prism.base, keys);
    let target = PagerTarget::Opsgenie {
        team: "search".into(),
        schedule: Some("search_schedule".into()),
        api_key_env: "OPSGENIE_KEY_SEARCH".into(),
    };
    for level in Level::ALL {
        og.trigger(&target, &request(level))
            .await
            .unwrap_or_else(|e| panic!("create alert {level}: {e}\n{}", prism.log()));
    }
    og.resolve(&target, &dedup_key(SevId(42), "payments"))
        .await
        .unwrap_or_else(|e| panic!("close alert: {e}\n{}", prism.log()));
    og.on_call(&target)
        .await
        .unwrap_or_else(|e| panic!("on-calls: {e}\n{}", prism.log()));
    let missing_key = PagerTarget::Opsgenie {
        team: "search".into(),
        schedule: None,
        api_key_env: "OPSGENIE_KEY_UNSET".into(),
    };
    let err = og.trigger(&missing_key, &request(Level::Sev1)).await.unwrap_err();
    assert!(err.to_string().contains("OPSGENIE_KEY_UNSET"), "{err}");
    assert_rejects_invalid(
        &prism,
        "/v2/alerts",
        serde_json::json!({ "alias": "no-message", "priority": "P9" }),
        Some("GenieKey genie-key"),
    )
    .await;
}
