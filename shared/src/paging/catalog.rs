//! The team catalog: who can be paged and how, read from the TOML file at `SEVTOOL_TEAMS`
//! (format in `config/teams.example.toml`). It is checked as a whole when loaded, so a mistake
//! shows at start-up rather than in the middle of an incident.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use crate::domain::PagerKind;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read the team catalog {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the team catalog is not valid TOML for sevtool: {0}")]
    Parse(String),
    #[error("the team catalog is invalid: {0}")]
    Invalid(String),
}

/// Which special rotation a team is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rotation {
    /// The coordinator (ATC) rotation, paged for every SEV at or above the auto-page level.
    Coordinator,
    /// Senior people who lead SEV0 and SEV1 calls.
    CallLeader,
    /// Whoever tells customers: paged for SEV0 and SEV1, its on-call becomes the comms lead.
    Comms,
}

impl Rotation {
    const ALL: [Rotation; 3] = [Rotation::Coordinator, Rotation::CallLeader, Rotation::Comms];

    /// As the catalog spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rotation::Coordinator => "coordinator",
            Rotation::CallLeader => "call-leader",
            Rotation::Comms => "comms",
        }
    }
}

pub use crate::config::Secret;

/// How a team is paged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagerTarget {
    PagerDuty {
        /// The Events API v2 integration key of the team's service.
        routing_key: Secret,
        /// Where to look up who is on call (one of the two, schedule first).
        schedule: Option<String>,
        escalation_policy: Option<String>,
    },
    Opsgenie {
        /// The responder team the alert is routed to.
        team: String,
        /// The schedule whose on-call is looked up (by name).
        schedule: Option<String>,
        /// The environment variable holding the Opsgenie API key; the key is never in the file.
        api_key_env: String,
    },
    /// Jira Service Management Ops, Opsgenie's successor.
    Jsm {
        /// The responder team the alert is routed to.
        team: String,
        /// The schedule whose on-call is looked up (by id: JSM's REST API takes no names).
        schedule: Option<String>,
        /// The environment variable holding the integration's API key.
        api_key_env: String,
    },
}

impl PagerTarget {
    pub fn kind(&self) -> PagerKind {
        match self {
            PagerTarget::PagerDuty { .. } => PagerKind::PagerDuty,
            PagerTarget::Opsgenie { .. } => PagerKind::Opsgenie,
            PagerTarget::Jsm { .. } => PagerKind::Jsm,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub name: String,
    pub aliases: Vec<String>,
    /// `@handle` or user group people mention in Slack.
    pub slack: Option<String>,
    pub product_tracks: Vec<String>,
    pub services: Vec<String>,
    pub rotation: Option<Rotation>,
    pub pager: PagerTarget,
    /// The Jira project key of the team's corrective actions (see `jira`).
    pub jira_project: Option<String>,
    /// The team's own Slack channel (id or name): SCAs of its SEVs escalate there.
    pub channel: Option<String>,
    /// Per service it runs, the status page components customers see it as (see `statuspage`).
    pub statuspage_components: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default, rename = "team")]
    teams: Vec<RawTeam>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeam {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    slack: Option<String>,
    #[serde(default)]
    product_tracks: Vec<String>,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    rotation: Option<Rotation>,
    #[serde(default)]
    pagerduty: Option<RawPagerDuty>,
    #[serde(default)]
    opsgenie: Option<RawOpsgenie>,
    #[serde(default)]
    jsm: Option<RawOpsgenie>,
    #[serde(default)]
    jira_project: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    statuspage_components: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPagerDuty {
    routing_key: Secret,
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default)]
    escalation_policy: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOpsgenie {
    team: String,
    #[serde(default)]
    schedule: Option<String>,
    api_key_env: String,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    teams: Vec<Team>,
    /// Normalised name or alias -> index in `teams`.
    index: HashMap<String, usize>,
}

/// How names are compared: case, surrounding space and a leading `@` or `#` do not matter.
fn normalise(s: &str) -> String {
    s.trim().trim_start_matches(['@', '#']).to_lowercase()
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The key lives in the environment under this name; the key itself never goes in the file.
fn check_key_env(team: &str, pager: &str, env: &str) -> Result<(), CatalogError> {
    if env.trim().is_empty() || env.contains(char::is_whitespace) {
        return Err(CatalogError::Invalid(format!(
            "team {team}: {pager}.api_key_env must name an environment variable (the key itself never goes in this file)"
        )));
    }
    Ok(())
}

/// A team's `statuspage_components`: each key one of its services, each value the page's component
/// ids (checked as ids, since they go into requests).
fn status_page_components(
    team: &str,
    services: &[String],
    raw: BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Vec<String>>, CatalogError> {
    let mut out = BTreeMap::new();
    for (service, ids) in raw {
        let service = service.trim().to_owned();
        if !services.iter().any(|s| s.trim().eq_ignore_ascii_case(&service)) {
            return Err(CatalogError::Invalid(format!(
                "team {team}: statuspage_components names `{service}`, which is not one of its services; list it in services first"
            )));
        }
        let ids: Vec<String> = ids.iter().map(|i| i.trim().to_owned()).collect();
        if let Some(bad) = ids.iter().find(|i| !crate::statuspage::valid_id(i)) {
            return Err(CatalogError::Invalid(format!(
                "team {team}: statuspage_components.{service}: `{bad}` is not a Statuspage component id (letters and digits, as in the component's URL)"
            )));
        }
        out.insert(service, ids);
    }
    Ok(out)
}

/// JSM Ops schedule ids are UUIDs; anything else would change the lookup's URL path.
fn valid_schedule_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Levenshtein distance, for suggesting the team someone probably meant.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl Catalog {
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Catalog::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let raw: RawCatalog = toml::from_str(text).map_err(|e| CatalogError::Parse(e.to_string()))?;
        let invalid = |m: String| Err(CatalogError::Invalid(m));
        if raw.teams.is_empty() {
            return invalid("it has no teams; add at least one [[team]]".into());
        }
        let mut teams = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, t) in raw.teams.into_iter().enumerate() {
            let name = t.name.trim().to_owned();
            if !valid_name(&name) {
                return invalid(format!(
                    "team {}: name `{name}` must be 1-64 lower-case letters, digits, `-` or `_`",
                    i + 1
                ));
            }
            let pager = match (t.pagerduty, t.opsgenie, t.jsm) {
                (Some(pd), None, None) => {
                    if pd.routing_key.expose().trim().is_empty() {
                        return invalid(format!("team {name}: pagerduty.routing_key is empty"));
                    }
                    if pd.schedule.is_none() && pd.escalation_policy.is_none() {
                        return invalid(format!(
                            "team {name}: pagerduty needs `schedule` or `escalation_policy` to look up who is on call"
                        ));
                    }
                    PagerTarget::PagerDuty {
                        routing_key: pd.routing_key,
                        schedule: pd.schedule,
                        escalation_policy: pd.escalation_policy,
                    }
                }
                (None, Some(og), None) => {
                    check_key_env(&name, "opsgenie", &og.api_key_env)?;
                    PagerTarget::Opsgenie {
                        team: og.team,
                        schedule: og.schedule,
                        api_key_env: og.api_key_env,
                    }
                }
                (None, None, Some(jsm)) => {
                    check_key_env(&name, "jsm", &jsm.api_key_env)?;
                    let schedule = jsm.schedule.map(|s| s.trim().to_owned());
                    if let Some(s) = schedule.as_deref().filter(|s| !valid_schedule_id(s)) {
                        return invalid(format!(
                            "team {name}: jsm.schedule `{s}` is not a JSM Ops schedule id (the UUID in the schedule's URL)"
                        ));
                    }
                    PagerTarget::Jsm {
                        team: jsm.team,
                        schedule,
                        api_key_env: jsm.api_key_env,
                    }
                }
                (None, None, None) => {
                    return invalid(format!(
                        "team {name}: has no pager; add [team.pagerduty] (routing_key, schedule), [team.opsgenie] or [team.jsm]"
                    ));
                }
                _ => {
                    return invalid(format!(
                        "team {name}: has more than one of [team.pagerduty], [team.opsgenie] and [team.jsm]; keep one"
                    ));
                }
            };
            let jira_project = t.jira_project.map(|p| p.trim().to_owned());
            if let Some(p) = jira_project.as_deref().filter(|p| !crate::jira::valid_project_key(p)) {
                return invalid(format!(
                    "team {name}: jira_project `{p}` is not a Jira project key (upper-case letters, digits or `_`, starting with a letter, e.g. PAY)"
                ));
            }
            let channel = t.channel.map(|c| c.trim().trim_start_matches('#').to_owned());
            if channel
                .as_deref()
                .is_some_and(|c| c.is_empty() || c.contains(char::is_whitespace))
            {
                return invalid(format!(
                    "team {name}: channel must be a Slack channel id or name, without spaces"
                ));
            }
            let statuspage_components = status_page_components(&name, &t.services, t.statuspage_components)?;
            for key in std::iter::once(&name).chain(t.aliases.iter()) {
                let k = normalise(key);
                if k.is_empty() {
                    return invalid(format!("team {name}: has an empty alias"));
                }
                if index.get(&k) == Some(&teams.len()) {
                    return invalid(format!(
                        "team {name}: `{k}` is listed twice (its name and aliases must differ)"
                    ));
                }
                if let Some(other) = index.get(&k).and_then(|&i| teams.get(i)) {
                    let other: &Team = other;
                    return invalid(format!(
                        "`{k}` names both team {} and team {name}; names and aliases must be unique",
                        other.name
                    ));
                }
                index.insert(k, teams.len());
            }
            teams.push(Team {
                name,
                aliases: t.aliases,
                slack: t.slack,
                product_tracks: t.product_tracks,
                services: t.services,
                rotation: t.rotation,
                pager,
                jira_project,
                channel,
                statuspage_components,
            });
        }
        for rotation in Rotation::ALL {
            let marked: Vec<&str> = teams
                .iter()
                .filter(|t| t.rotation == Some(rotation))
                .map(|t| t.name.as_str())
                .collect();
            if marked.len() > 1 {
                return invalid(format!(
                    "{} teams are marked rotation = \"{}\" ({}); mark one",
                    marked.len(),
                    rotation.as_str(),
                    marked.join(", ")
                ));
            }
        }
        // One owner per product track: its SCAs' Jira project and escalation channel follow it.
        let mut owners: HashMap<String, &str> = HashMap::new();
        for team in &teams {
            for track in &team.product_tracks {
                let track = track.trim().to_ascii_lowercase();
                if let Some(other) = owners.insert(track.clone(), &team.name) {
                    return invalid(format!(
                        "product track `{track}` is claimed by team {other} and team {}; a track has one owning team",
                        team.name
                    ));
                }
            }
        }
        if !teams.iter().any(|t| t.rotation == Some(Rotation::Coordinator)) {
            return invalid(
                "no team is marked rotation = \"coordinator\"; mark the coordinator (ATC) rotation, which SEVs page automatically"
                    .into(),
            );
        }
        Ok(Catalog { teams, index })
    }

    pub fn teams(&self) -> &[Team] {
        &self.teams
    }

    /// A team by name or alias.
    pub fn find(&self, name: &str) -> Option<&Team> {
        self.index.get(&normalise(name)).map(|&i| &self.teams[i])
    }

    /// The team that owns a product track: the first whose `product_tracks` name it (case and
    /// surrounding space do not matter).
    pub fn owner_of(&self, product_track: &str) -> Option<&Team> {
        let track = product_track.trim();
        if track.is_empty() {
            return None;
        }
        self.teams
            .iter()
            .find(|team| team.product_tracks.iter().any(|t| t.trim().eq_ignore_ascii_case(track)))
    }

    /// The team that runs a service: the first whose `services` name it (case and surrounding
    /// space do not matter).
    pub fn serving(&self, service: &str) -> Option<&Team> {
        let service = service.trim();
        if service.is_empty() {
            return None;
        }
        self.teams
            .iter()
            .find(|team| team.services.iter().any(|s| s.trim().eq_ignore_ascii_case(service)))
    }

    /// The status page components of a service, as the team running it lists them.
    pub fn statuspage_components(&self, service: &str) -> &[String] {
        self.serving(service)
            .and_then(|team| {
                team.statuspage_components
                    .iter()
                    .find(|(s, _)| s.eq_ignore_ascii_case(service.trim()))
            })
            .map_or(&[], |(_, ids)| ids.as_slice())
    }

    pub fn rotation(&self, rotation: Rotation) -> Option<&Team> {
        self.teams.iter().find(|t| t.rotation == Some(rotation))
    }

    /// Up to five team names closest to `name`, best first, for "did you mean".
    pub fn suggest(&self, name: &str) -> Vec<String> {
        let wanted = normalise(name);
        let mut scored: Vec<(usize, &str)> = self
            .index
            .iter()
            .filter_map(|(key, &i)| {
                let d = distance(&wanted, key);
                let close = d <= (key.chars().count() / 3).max(2)
                    || (wanted.len() >= 3 && (key.starts_with(&wanted) || key.contains(&wanted)));
                close.then_some((d, self.teams[i].name.as_str()))
            })
            .collect();
        scored.sort();
        let mut names: Vec<String> = Vec::new();
        for (_, n) in scored {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_owned());
            }
        }
        names.truncate(5);
        names
    }

    /// Every environment variable the catalog names for Opsgenie and JSM Ops keys.
    pub fn key_envs(&self) -> Vec<&str> {
        let mut envs: Vec<&str> = self
            .teams
            .iter()
            .filter_map(|t| match &t.pager {
                PagerTarget::Opsgenie { api_key_env, .. } | PagerTarget::Jsm { api_key_env, .. } => {
                    Some(api_key_env.as_str())
                }
                PagerTarget::PagerDuty { .. } => None,
            })
            .collect();
        envs.sort_unstable();
        envs.dedup();
        envs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PD: &str = "[team.pagerduty]\nrouting_key = \"R0123456789abcdef0123456789abcdef\"\nschedule = \"PSCHED1\"\n";

    fn team(name: &str, extra: &str) -> String {
        format!("[[team]]\nname = \"{name}\"\n{extra}\n{PD}\n")
    }

    #[test]
    fn the_shipped_example_is_valid() {
        let text = include_str!("../../../config/teams.example.toml");
        let c = Catalog::parse(text).unwrap();
        assert!(c.rotation(Rotation::Coordinator).is_some());
        assert!(c.teams().iter().any(|t| t.pager.kind() == PagerKind::Opsgenie));
        assert!(c.teams().iter().any(|t| t.pager.kind() == PagerKind::Jsm));
        assert!(c.key_envs().contains(&"JSM_API_KEY_IDENTITY"));
        assert_eq!(c.find("payments").unwrap().jira_project.as_deref(), Some("PAY"));
        assert_eq!(c.find("payments").unwrap().channel.as_deref(), Some("payments-eng"));
        assert!(c.rotation(Rotation::Comms).is_some());
        assert_eq!(c.statuspage_components("payments-api"), ["8kbf7d35c070"]);
    }

    #[test]
    fn status_page_components_belong_to_a_service_the_team_runs() {
        let comps = "services = [\"payments-api\", \"ledger\"]\n[team.statuspage_components]\nPayments-API = [\"cmp1\", \" cmp2 \"]";
        let text = team("atc", "rotation = \"coordinator\"") + &team("payments", comps);
        let c = Catalog::parse(&text).unwrap();
        assert_eq!(c.statuspage_components("payments-api"), ["cmp1", "cmp2"]);
        assert!(c.statuspage_components("ledger").is_empty());
        assert!(c.statuspage_components("unknown").is_empty());
        for (extra, says) in [
            (
                "services = [\"ledger\"]\n[team.statuspage_components]\npayments-api = [\"cmp1\"]",
                "not one of its services",
            ),
            (
                "services = [\"ledger\"]\n[team.statuspage_components]\nledger = [\"../x\"]",
                "not a Statuspage component id",
            ),
        ] {
            let text = team("atc", "rotation = \"coordinator\"") + &team("payments", extra);
            let err = Catalog::parse(&text).unwrap_err().to_string();
            assert!(err.contains(says), "{err}");
        }
    }

    #[test]
    fn a_product_track_is_owned_by_the_team_that_names_it() {
        let text = team("atc", "rotation = \"coordinator\"")
            + &team(
                "payments",
                "product_tracks = [\"Checkout\"]\nchannel = \"#payments-eng\"",
            );
        let c = Catalog::parse(&text).unwrap();
        let owner = c.owner_of(" checkout ").unwrap();
        assert_eq!(
            (owner.name.as_str(), owner.channel.as_deref()),
            ("payments", Some("payments-eng"))
        );
        assert!(c.owner_of("search").is_none());
        assert!(c.owner_of("").is_none());
    }

    #[test]
    fn finds_teams_by_name_or_alias_whatever_the_spelling() {
        let text = team("atc", "rotation = \"coordinator\"") + &team("payments", "aliases = [\"pay\", \"Billing\"]");
        let c = Catalog::parse(&text).unwrap();
        assert_eq!(c.find("payments").unwrap().name, "payments");
        assert_eq!(c.find(" @PAY ").unwrap().name, "payments");
        assert_eq!(c.find("billing").unwrap().name, "payments");
        assert!(c.find("search").is_none());
        assert_eq!(c.suggest("paymnts"), ["payments"]);
        assert_eq!(c.suggest("bill"), ["payments"]);
        assert!(c.suggest("zzzzzzzz").is_empty());
    }

    #[test]
    fn rejects_mistakes_with_a_clear_reason() {
        let coord = team("atc", "rotation = \"coordinator\"");
        for (text, hint) in [
            (coord.clone() + &team("a", "colour = \"red\""), "unknown field"),
            (coord.clone() + &team("atc", ""), "names both team atc and team atc"),
            (coord.clone() + &team("b", "aliases = [\"ATC\"]"), "`atc` names both"),
            (
                coord.clone() + &team("g", "aliases = [\"G\"]"),
                "team g: `g` is listed twice",
            ),
            (
                coord.clone() + &team("h", "aliases = [\"x\", \"x\"]"),
                "team h: `x` is listed twice",
            ),
            (
                coord.clone() + &team("c", "rotation = \"coordinator\""),
                "2 teams are marked",
            ),
            (team("d", ""), "no team is marked"),
            (coord.clone() + "[[team]]\nname = \"e\"\n", "has no pager"),
            (coord.clone() + "[[team]]\nname = \"Bad Name\"\n" + PD, "lower-case"),
            (
                coord.clone() + "[[team]]\nname = \"f\"\n[team.pagerduty]\nrouting_key = \"k\"\n",
                "schedule",
            ),
            (
                coord.clone() + "[[team]]\nname = \"g\"\n[team.opsgenie]\nteam = \"g\"\napi_key_env = \"\"\n",
                "environment variable",
            ),
            (
                coord.clone() + "[[team]]\nname = \"g\"\n[team.jsm]\nteam = \"g\"\napi_key_env = \"JSM KEY\"\n",
                "jsm.api_key_env must name an environment variable",
            ),
            (
                coord.clone()
                    + "[[team]]\nname = \"g\"\n[team.jsm]\nteam = \"g\"\nschedule = \"../admin\"\napi_key_env = \"K\"\n",
                "not a JSM Ops schedule id",
            ),
            (
                coord.clone() + &team("g", "[team.jsm]\nteam = \"g\"\napi_key_env = \"K\""),
                "more than one of",
            ),
            (coord.clone() + &team("h", "rotation = \"boss\""), "unknown variant"),
            (
                coord.clone() + &team("i", "jira_project = \"pay\""),
                "not a Jira project key",
            ),
            (coord.clone() + &team("j", "channel = \"pay ments\""), "channel must be"),
            (
                coord.clone()
                    + &team("l", "product_tracks = [\"checkout\"]")
                    + &team("m", "product_tracks = [\"Checkout \"]"),
                "claimed by team l and team m",
            ),
            (coord.clone() + &team("k", "channel = \"#\""), "channel must be"),
            (String::new(), "no teams"),
        ] {
            let err = Catalog::parse(&text).unwrap_err().to_string();
            assert!(err.contains(hint), "expected `{hint}` in: {err}");
        }
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let c = Catalog::parse(&team("atc", "rotation = \"coordinator\"")).unwrap();
        assert!(!format!("{c:?}").contains("R0123456789abcdef"));
    }
}
