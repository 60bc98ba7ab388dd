//! Atlassian Statuspage's REST API: finds, creates and updates the incident of a SEV on one page
//! (`/pages/{page_id}/incidents`), authorised with `Authorization: OAuth <key>`.

use serde_json::{Value, json};

use crate::config::Secret;
use crate::domain::{PublicImpact, PublicStatus, SevId};
use crate::queue::TaskError;

/// Statuspage's error texts are short; a proxy's HTML error page is not, and says nothing useful.
const MAX_DETAIL: usize = 300;
/// Statuspage's limits on an incident's name and on one update's body.
pub const MAX_NAME: usize = 255;
pub const MAX_BODY: usize = 25_000;

#[derive(Debug, thiserror::Error)]
pub enum StatuspageError {
    /// Down, slow, rate-limited or unreachable: worth another try.
    #[error("Statuspage is unavailable: {0}")]
    Unavailable(String),
    /// Statuspage refused the request; the same request will be refused again.
    #[error("Statuspage refused the request: HTTP {status}{detail}")]
    Refused { status: u16, detail: String },
    /// Statuspage said yes but not in a shape we understand.
    #[error("Statuspage's answer is not understood: {0}")]
    Unexpected(String),
}

impl From<StatuspageError> for TaskError {
    fn from(e: StatuspageError) -> Self {
        match e {
            StatuspageError::Unavailable(_) => TaskError::Retryable(e.to_string()),
            StatuspageError::Refused { .. } | StatuspageError::Unexpected(_) => TaskError::Permanent(e.to_string()),
        }
    }
}

/// What a component of the page shows while the incident lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentStatus {
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl ComponentStatus {
    /// The worse the SEV, the worse its components look; once resolved they are operational.
    pub fn of(impact: PublicImpact, status: PublicStatus) -> ComponentStatus {
        match (status, impact) {
            (PublicStatus::Resolved, _) => ComponentStatus::Operational,
            (_, PublicImpact::Critical) => ComponentStatus::MajorOutage,
            (_, PublicImpact::Major) => ComponentStatus::PartialOutage,
            (_, PublicImpact::Minor | PublicImpact::None) => ComponentStatus::DegradedPerformance,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
        }
    }
}

/// One public update as the incident carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentChange {
    pub sev: SevId,
    pub name: String,
    pub status: PublicStatus,
    pub impact: PublicImpact,
    pub body: String,
    /// The page's component ids the SEV affects (from the team catalog).
    pub components: Vec<String>,
}

impl IncidentChange {
    fn json(&self) -> Value {
        let component = ComponentStatus::of(self.impact, self.status).as_str();
        let statuses: serde_json::Map<String, Value> =
            self.components.iter().map(|c| (c.clone(), json!(component))).collect();
        json!({ "incident": {
            "name": truncate(&self.name, MAX_NAME),
            "status": self.status.as_str(),
            "impact_override": self.impact.as_str(),
            "body": truncate(&self.body, MAX_BODY),
            "component_ids": self.components,
            "components": statuses,
            "metadata": metadata(self.sev),
            "deliver_notifications": true,
        }})
    }
}

/// Marks the incident as the SEV's, so a create whose answer was lost is found, not repeated.
fn metadata(sev: SevId) -> Value {
    json!({ "sevtool": { "sev": sev.to_string() } })
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The incident as sevtool keeps it: its id, and its public link when the page gives one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub id: String,
    pub shortlink: Option<String>,
}

/// Statuspage's ids are short lower-case alphanumerics; anything else never goes into a path.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn incident_of(v: &Value) -> Result<Incident, StatuspageError> {
    let id = v["id"]
        .as_str()
        .filter(|id| valid_id(id))
        .ok_or_else(|| StatuspageError::Unexpected("the incident has no id".into()))?;
    let shortlink = v["shortlink"]
        .as_str()
        .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
        .map(str::to_owned);
    Ok(Incident {
        id: id.to_owned(),
        shortlink,
    })
}

/// What Statuspage says went wrong (`error`, or `{"errors": [...]}`), plus what to check for the
/// statuses whose cause is on our side of the configuration.
fn detail(status: u16, body: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        match &v["error"] {
            Value::String(e) => parts.push(e.clone()),
            Value::Array(es) => parts.extend(es.iter().filter_map(Value::as_str).map(str::to_owned)),
            _ => {}
        }
    }
    match status {
        401 => parts.push("check STATUSPAGE_API_KEY".into()),
        404 => parts.push("check STATUSPAGE_PAGE_ID".into()),
        _ => {}
    }
    let text = parts.join("; ");
    let text = if text.chars().count() > MAX_DETAIL {
        truncate(&text, MAX_DETAIL) + "…"
    } else {
        text
    };
    if text.is_empty() { text } else { format!(" ({text})") }
}

fn transport(e: reqwest::Error) -> StatuspageError {
    StatuspageError::Unavailable(e.without_url().to_string())
}

async fn check(response: reqwest::Response) -> Result<Value, StatuspageError> {
    let status = response.status().as_u16();
    let body = response.text().await.map_err(transport)?;
    if (200..300).contains(&status) {
        return serde_json::from_str(&body).map_err(|e| StatuspageError::Unexpected(format!("not JSON: {e}")));
    }
    if crate::outbound::is_transient(status) {
        return Err(StatuspageError::Unavailable(format!("HTTP {status}")));
    }
    Err(StatuspageError::Refused {
        status,
        detail: detail(status, &body),
    })
}

#[derive(Clone)]
pub struct StatuspageClient {
    http: reqwest::Client,
    base: String,
    page_id: String,
    key: Secret,
}

impl StatuspageClient {
    pub fn new(base: &str, page_id: &str, key: Secret) -> Self {
        StatuspageClient {
            http: crate::outbound::client(),
            base: base.trim_end_matches('/').to_owned(),
            page_id: page_id.to_owned(),
            key,
        }
    }

    fn incidents(&self) -> String {
        format!("{}/pages/{}/incidents", self.base, self.page_id)
    }

    /// Sends a request with the key and reads the answer as JSON, or the error it is.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, StatuspageError> {
        let response = request
            .header("authorization", format!("OAuth {}", self.key.expose()))
            .header("accept", "application/json")
            .send()
            .await
            .map_err(transport)?;
        check(response).await
    }

    /// The unresolved incident sevtool made for `sev`, if any: how a create whose answer was
    /// lost (a crash, a timeout) is found again instead of made twice.
    pub async fn find_incident(&self, sev: SevId) -> Result<Option<Incident>, StatuspageError> {
        let listed = self
            .send(self.http.get(format!("{}/unresolved", self.incidents())))
            .await?;
        let incidents = listed
            .as_array()
            .ok_or_else(|| StatuspageError::Unexpected("the unresolved incidents are not a list".into()))?;
        let ours = metadata(sev);
        incidents
            .iter()
            .find(|i| i["metadata"]["sevtool"]["sev"] == ours["sevtool"]["sev"])
            .map(incident_of)
            .transpose()
    }

    /// Creates the incident with the first public update. Not idempotent on Statuspage's side:
    /// the caller looks for the incident first ([`Self::find_incident`]) and records it at once.
    pub async fn create_incident(&self, change: &IncidentChange) -> Result<Incident, StatuspageError> {
        incident_of(&self.send(self.http.post(self.incidents()).json(&change.json())).await?)
    }

    /// Adds a later public update to the incident, with the SEV's status, impact and components
    /// as they are now.
    pub async fn update_incident(&self, id: &str, change: &IncidentChange) -> Result<Incident, StatuspageError> {
        if !valid_id(id) {
            return Err(StatuspageError::Unexpected(format!("`{id}` is not an incident id")));
        }
        let request = self
            .http
            .patch(format!("{}/{id}", self.incidents()))
            .json(&change.json());
        incident_of(&self.send(request).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> IncidentChange {
        IncidentChange {
            sev: SevId(42),
            name: "Problems with checkout".into(),
            status: PublicStatus::Investigating,
            impact: PublicImpact::Major,
            body: "x".repeat(MAX_BODY + 10),
            components: vec!["cmp1".into(), "cmp2".into()],
        }
    }

    #[test]
    fn an_incident_carries_status_impact_components_and_its_sev() {
        let v = change().json();
        let i = &v["incident"];
        assert_eq!(i["status"], "investigating");
        assert_eq!(i["impact_override"], "major");
        assert_eq!(i["component_ids"], json!(["cmp1", "cmp2"]));
        assert_eq!(
            i["components"],
            json!({"cmp1": "partial_outage", "cmp2": "partial_outage"})
        );
        assert_eq!(i["metadata"], json!({"sevtool": {"sev": "SEV-42"}}));
        assert_eq!(i["body"].as_str().map(|b| b.chars().count()), Some(MAX_BODY));
    }

    #[test]
    fn components_follow_the_impact_until_resolved() {
        use ComponentStatus as C;
        let of = |impact, status| C::of(impact, status);
        assert_eq!(of(PublicImpact::Critical, PublicStatus::Identified), C::MajorOutage);
        assert_eq!(of(PublicImpact::Major, PublicStatus::Monitoring), C::PartialOutage);
        assert_eq!(
            of(PublicImpact::Minor, PublicStatus::Investigating),
            C::DegradedPerformance
        );
        assert_eq!(of(PublicImpact::Critical, PublicStatus::Resolved), C::Operational);
    }

    #[test]
    fn ids_that_could_change_a_path_are_refused() {
        assert!(valid_id("p31zjtct2jer"));
        for bad in ["", "../pages", "a/b", "a?b", &"a".repeat(65)] {
            assert!(!valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn refusals_say_what_to_check() {
        assert_eq!(
            detail(401, "{\"error\": \"unauthorized\"}"),
            " (unauthorized; check STATUSPAGE_API_KEY)"
        );
        assert_eq!(detail(404, "<html>"), " (check STATUSPAGE_PAGE_ID)");
        assert_eq!(
            detail(422, "{\"error\": [\"name is too long\"]}"),
            " (name is too long)"
        );
    }
}
