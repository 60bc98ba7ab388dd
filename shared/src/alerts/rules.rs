//! Routing rules: which alerts open a SEV, at which level, with which product track, tags and
//! team. Loaded from the TOML file named by `SEVTOOL_ALERT_RULES` (see
//! `config/alert-rules.example.toml`); without one, the built-in defaults apply.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::template::{complete, expand};
use super::{Alert, Matcher};
use crate::domain::{Level, Tag};

/// The shipped defaults: pages are SEV1, criticals SEV2, everything else is recorded only.
pub const DEFAULT_RULES: &str = r#"
[[rule]]
name = "paging alerts"
match = ['severity="page"']
level = "SEV1"
tags = ["system/{{service}}"]
page = true

[[rule]]
name = "critical alerts"
match = ['severity="critical"']
level = "SEV2"
tags = ["system/{{service}}"]
"#;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RulesError(String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<RuleToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "match")]
    matchers: Vec<String>,
    #[serde(default)]
    level: Option<Level>,
    #[serde(default)]
    product_track: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    mitigate_on_resolve: bool,
    #[serde(default)]
    page: bool,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    matchers: Vec<Matcher>,
    /// `None`: the alert is recorded and opens nothing.
    level: Option<Level>,
    product_track: Option<String>,
    tags: Vec<String>,
    team: Option<String>,
    mitigate_on_resolve: bool,
    page: bool,
}

/// Who owns an alert, as the alert says it; the team catalog turns it into a team to page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// A team by name or alias: the rule's `team`, else the alert's `team` label.
    Team(String),
    /// The alert's `service` label: the catalog team whose `services` list it.
    Service(String),
    /// The alert names none of the three.
    Unnamed,
}

/// What the rules decided for a notification's firing alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub level: Level,
    pub rule: String,
    pub product_track: Option<String>,
    pub tags: Vec<Tag>,
    pub team: Option<String>,
    pub mitigate_on_resolve: bool,
    /// The owner to page when the SEV opens, if the rule pages (`page = true`).
    pub page: Option<Owner>,
}

#[derive(Debug, Clone)]
pub struct Rules {
    rules: Vec<Rule>,
}

/// Checks a tag template by filling every placeholder with a plain word.
fn check_tag_template(field: &str, template: &str) -> Result<(), RulesError> {
    let filled = template
        .split("{{")
        .enumerate()
        .map(|(i, part)| match (i, part.find("}}")) {
            (0, _) | (_, None) => part.to_owned(),
            (_, Some(end)) => format!("x{}", &part[end + 2..]),
        })
        .collect::<String>();
    filled
        .parse::<Tag>()
        .map(|_| ())
        .map_err(|e| RulesError(format!("{field}: {e}")))
}

fn label_or_none(value: String) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.chars().take(100).collect())
}

impl Rules {
    pub fn defaults() -> Rules {
        Rules::parse(DEFAULT_RULES).unwrap_or_else(|e| unreachable!("the built-in rules parse: {e}"))
    }

    /// Parses a rules file, naming the rule and field of the first mistake.
    pub fn parse(toml_text: &str) -> Result<Rules, RulesError> {
        let file: RulesFile =
            toml::from_str(toml_text).map_err(|e| RulesError(e.message().to_owned() + &location(toml_text, &e)))?;
        let rules = file
            .rule
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let at = format!("rule[{i}]");
                let matchers = r
                    .matchers
                    .iter()
                    .enumerate()
                    .map(|(j, m)| {
                        m.parse::<Matcher>()
                            .map_err(|e| RulesError(format!("{at}.match[{j}]: {e}")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                for (j, t) in r.tags.iter().enumerate() {
                    check_tag_template(&format!("{at}.tags[{j}]"), t)?;
                }
                Ok(Rule {
                    name: r.name.unwrap_or(at),
                    matchers,
                    level: r.level,
                    product_track: r.product_track,
                    tags: r.tags,
                    team: r.team,
                    mitigate_on_resolve: r.mitigate_on_resolve,
                    page: r.page,
                })
            })
            .collect::<Result<Vec<_>, RulesError>>()?;
        Ok(Rules { rules })
    }

    fn first_match(&self, alert: &Alert) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.matchers.iter().all(|m| m.matches(&alert.labels)))
    }

    /// Decides for a group's firing alerts. Each alert takes the first rule that matches it; the
    /// group opens a SEV if any alert's rule has a level, at the worst such level. Product track
    /// and team come from the alert that set the level; tags from every alert that opens.
    pub fn decide<'a>(&self, firing: impl IntoIterator<Item = &'a Alert>) -> Option<Plan> {
        let mut worst: Option<(Level, &Rule, &Alert)> = None;
        let mut tags = BTreeSet::new();
        for alert in firing {
            let Some(rule) = self.first_match(alert) else { continue };
            let Some(level) = rule.level else { continue };
            for t in rule.tags.iter().filter(|t| complete(t, &alert.labels)) {
                // A label value that makes no valid tag is left out rather than refusing the alert.
                if let Ok(tag) = expand(t, &alert.labels).parse::<Tag>() {
                    tags.insert(tag);
                }
            }
            if worst.is_none_or(|(l, _, _)| level < l) {
                worst = Some((level, rule, alert));
            }
        }
        let (level, rule, alert) = worst?;
        let team = match &rule.team {
            Some(t) => label_or_none(expand(t, &alert.labels)),
            None => ["team", "service"]
                .iter()
                .find_map(|l| alert.labels.get(*l).cloned().and_then(label_or_none)),
        };
        if let Some(tag) = team.as_ref().and_then(|t| format!("team/{t}").parse::<Tag>().ok()) {
            tags.insert(tag);
        }
        let label = |name: &str| alert.labels.get(name).cloned().and_then(label_or_none);
        let owner = match &rule.team {
            Some(t) => label_or_none(expand(t, &alert.labels)).map(Owner::Team),
            None => label("team").map(Owner::Team),
        }
        .or_else(|| label("service").map(Owner::Service))
        .unwrap_or(Owner::Unnamed);
        Some(Plan {
            level,
            rule: rule.name.clone(),
            product_track: rule
                .product_track
                .as_ref()
                .and_then(|p| label_or_none(expand(p, &alert.labels))),
            tags: tags.into_iter().collect(),
            team,
            mitigate_on_resolve: rule.mitigate_on_resolve,
            page: rule.page.then_some(owner),
        })
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn location(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => format!(" (line {})", text[..span.start.min(text.len())].lines().count().max(1)),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::{AlertStatus, Labels};

    fn alert(pairs: &[(&str, &str)]) -> Alert {
        Alert {
            fingerprint: "f".into(),
            status: AlertStatus::Firing,
            labels: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Labels>(),
            annotations: Labels::new(),
            starts_at: None,
            ends_at: None,
            links: vec![],
        }
    }

    fn tags(plan: &Plan) -> Vec<&str> {
        plan.tags.iter().map(Tag::as_str).collect()
    }

    #[test]
    fn a_paging_rule_names_the_owner_by_rule_then_team_label_then_service() {
        let r = Rules::parse(
            r#"
            [[rule]]
            match = ['alertname="Lag"']
            level = "SEV2"
            team = "ledger-{{region}}"
            page = true

            [[rule]]
            match = ['severity="page"']
            level = "SEV1"
            page = true

            [[rule]]
            match = ['severity="critical"']
            level = "SEV2"
            "#,
        )
        .unwrap();
        let page = |labels: &[(&str, &str)]| r.decide([&alert(labels)]).unwrap().page;
        let team = |t: &str| Some(Owner::Team(t.into()));
        assert_eq!(
            page(&[("alertname", "Lag"), ("region", "eu"), ("team", "x")]),
            team("ledger-eu")
        );
        assert_eq!(
            page(&[("severity", "page"), ("team", "payments"), ("service", "api")]),
            team("payments")
        );
        assert_eq!(
            page(&[("severity", "page"), ("service", "ledger")]),
            Some(Owner::Service("ledger".into()))
        );
        assert_eq!(
            page(&[("severity", "page")]),
            Some(Owner::Unnamed),
            "pages, but nobody is named"
        );
        assert_eq!(
            page(&[("severity", "critical"), ("team", "payments")]),
            None,
            "page defaults to false"
        );
        assert!(
            Rules::defaults()
                .decide([&alert(&[("severity", "page")])])
                .unwrap()
                .page
                .is_some()
        );
    }

    #[test]
    fn defaults_page_is_sev1_critical_is_sev2_the_rest_opens_nothing() {
        let r = Rules::defaults();
        let page = r
            .decide([&alert(&[("severity", "page"), ("service", "checkout")])])
            .unwrap();
        assert_eq!(page.level, Level::Sev1);
        assert_eq!(tags(&page), ["system/checkout", "team/checkout"]);
        let crit = r.decide([&alert(&[("severity", "critical")])]).unwrap();
        assert_eq!((crit.level, crit.team.clone()), (Level::Sev2, None));
        assert!(tags(&crit).is_empty(), "no service label, no system tag");
        assert_eq!(r.decide([&alert(&[("severity", "warning")])]), None);
        assert_eq!(r.decide([]), None);
    }

    #[test]
    fn the_worst_alert_sets_level_and_team_and_every_opening_alert_adds_tags() {
        let r = Rules::defaults();
        let a = alert(&[("severity", "critical"), ("service", "ledger")]);
        let b = alert(&[("severity", "page"), ("service", "checkout"), ("team", "payments")]);
        let c = alert(&[("severity", "info"), ("service", "noise")]);
        let plan = r.decide([&a, &b, &c]).unwrap();
        assert_eq!(plan.level, Level::Sev1);
        assert_eq!(plan.team.as_deref(), Some("payments"));
        assert_eq!(tags(&plan), ["system/checkout", "system/ledger", "team/payments"]);
    }

    #[test]
    fn first_matching_rule_wins_and_a_rule_without_level_records_only() {
        let r = Rules::parse(
            r#"
            [[rule]]
            name = "staging never pages"
            match = ['env="staging"']

            [[rule]]
            match = ['severity=~"critical|page"', 'service!=""']
            level = "sev0"
            product_track = "{{product}}"
            tags = ["system/{{service}}/{{component}}", "alert/{{alertname}}"]
            team = "owners-{{service}}"
            mitigate_on_resolve = true
            "#,
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(
            r.decide([&alert(&[("env", "staging"), ("severity", "page"), ("service", "x")])]),
            None
        );
        let plan = r
            .decide([&alert(&[
                ("severity", "page"),
                ("service", "Checkout"),
                ("alertname", "HighErrorRate"),
                ("product", "payments"),
            ])])
            .unwrap();
        assert_eq!(plan.level, Level::Sev0);
        assert_eq!(plan.rule, "rule[1]");
        assert_eq!(plan.product_track.as_deref(), Some("payments"));
        assert_eq!(plan.team.as_deref(), Some("owners-Checkout"));
        assert!(plan.mitigate_on_resolve);
        assert_eq!(
            tags(&plan),
            ["alert/higherrorrate", "team/owners-checkout"],
            "incomplete templates are skipped"
        );
        assert_eq!(
            r.decide([&alert(&[("severity", "page")])]),
            None,
            "service!=\"\" needs a service"
        );
    }

    #[test]
    fn label_values_that_make_no_tag_are_left_out() {
        let plan = Rules::defaults()
            .decide([&alert(&[("severity", "page"), ("service", "two words")])])
            .unwrap();
        assert_eq!(plan.level, Level::Sev1);
        assert!(tags(&plan).is_empty(), "{:?}", plan.tags);
        assert_eq!(plan.team.as_deref(), Some("two words"), "still recorded on the origin");
    }

    #[test]
    fn mistakes_name_the_rule_and_field() {
        let cases = [
            ("[[rule]]\nmatch = ['severity']", "rule[0].match[0]"),
            ("[[rule]]\nlevel = \"SEV9\"", "SEV9"),
            ("[[rule]]\ntags = [\"a//b\"]", "rule[0].tags[0]"),
            ("[[rule]]\ncolour = \"red\"", "colour"),
            ("[[rule]\n", "line 1"),
        ];
        for (text, want) in cases {
            let err = Rules::parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn the_shipped_example_file_parses() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/alert-rules.example.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let rules = Rules::parse(&text).unwrap();
        assert!(rules.len() >= 3);
        let plan = rules
            .decide([&alert(&[
                ("severity", "page"),
                ("service", "checkout"),
                ("team", "payments"),
            ])])
            .unwrap();
        assert_eq!(plan.level, Level::Sev1);
    }
}
