//! Who may see and act on which SEV: the one visibility policy that every surface asks (the
//! JSON API, the web pages, Slack commands and buttons, reports, exports and the digest).
//!
//! Private SEVs (security, customer data) exist only for their members (reporter, coordinator,
//! report owner, SCA owners and whoever acted on them), for `SEVTOOL_SECURITY_GROUP` and for
//! operators; to anyone else they do not exist, so a refusal reads exactly like a missing SEV.

use std::collections::{BTreeSet, HashMap};

use super::{AppError, ScaService, SevDetail, SevService};
use crate::domain::actor::{ActorKind, is_slack_user};
use crate::domain::{Actor, Sca, ScaId, SevId};
use crate::reports::Viewer;

/// `SEVTOOL_SECURITY_GROUP`: people who see every private SEV. A Slack user id matches only that
/// Slack user; any other entry (`alice`, or `web:alice`) matches only the person who signed in
/// with the shared token under that name, so typing a name can never claim a Slack user's place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityGroup(BTreeSet<String>);

impl SecurityGroup {
    pub fn new(entries: impl IntoIterator<Item = String>) -> SecurityGroup {
        SecurityGroup(entries.into_iter().collect())
    }

    pub fn contains(&self, actor: &Actor) -> bool {
        match actor.kind() {
            ActorKind::Person(name) => {
                self.0.contains(actor.as_str()) || (!is_slack_user(name) && self.0.contains(name))
            }
            ActorKind::Slack(id) => self.0.contains(id),
            ActorKind::Alert(_) | ActorKind::System | ActorKind::Named(_) => false,
        }
    }
}

/// Who is asking, as the policy sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Sees and acts on every SEV: operators (the open local server, the shared token as a bearer
    /// token, the `sevtool` process itself) and the security group.
    Everything,
    /// A person: every SEV that is not private, and the private ones they are a member of.
    Person(Actor),
}

impl Access {
    /// A person, who sees everything if the security group lists them.
    pub fn person(id: &Actor, security: &SecurityGroup) -> Access {
        if security.contains(id) {
            Access::Everything
        } else {
            Access::Person(id.clone())
        }
    }

    /// What aggregate numbers (reports, exports, the digest) may include.
    pub fn viewer(&self) -> Viewer {
        match self {
            Access::Everything => Viewer::OPERATOR,
            Access::Person(_) => Viewer::ANONYMOUS,
        }
    }

    /// Whether this SEV exists for them.
    pub fn may_see(&self, detail: &SevDetail) -> bool {
        match self {
            Access::Everything => true,
            Access::Person(_) if !detail.sev.private => true,
            Access::Person(id) => is_member(detail, id),
        }
    }

    /// The SEV, or the same "does not exist" a missing SEV gets.
    pub async fn sev(&self, sevs: &SevService, id: SevId) -> Result<SevDetail, AppError> {
        let detail = sevs.get(id).await?;
        if self.may_see(&detail) {
            Ok(detail)
        } else {
            Err(AppError::NotFound(id))
        }
    }

    /// Fails like a missing SEV unless they may see it; reads nothing for those who see all.
    pub async fn check(&self, sevs: &SevService, id: SevId) -> Result<(), AppError> {
        match self {
            Access::Everything => Ok(()),
            Access::Person(_) => self.sev(sevs, id).await.map(drop),
        }
    }

    /// The SCA, or the same "does not exist" a missing SCA gets if its SEV is hidden from them.
    pub async fn sca(&self, sevs: &SevService, scas: &ScaService, id: ScaId) -> Result<Sca, AppError> {
        let sca = scas.get(id).await?;
        match self.check(sevs, sca.sev).await {
            Ok(()) => Ok(sca),
            Err(AppError::NotFound(_)) => Err(AppError::NoSuchSca(id)),
            Err(e) => Err(e),
        }
    }

    /// The items whose SEV they may see; `sev_of` says which SEV each belongs to.
    pub async fn retain<T>(
        &self,
        sevs: &SevService,
        items: Vec<T>,
        sev_of: impl Fn(&T) -> SevId,
    ) -> Result<Vec<T>, AppError> {
        if *self == Access::Everything {
            return Ok(items);
        }
        let mut seen: HashMap<SevId, bool> = HashMap::new();
        let mut kept = Vec::with_capacity(items.len());
        for item in items {
            let id = sev_of(&item);
            let visible = match seen.get(&id) {
                Some(v) => *v,
                None => {
                    let v = match self.check(sevs, id).await {
                        Ok(()) => true,
                        Err(AppError::NotFound(_)) => false,
                        Err(e) => return Err(e),
                    };
                    seen.insert(id, v);
                    v
                }
            };
            if visible {
                kept.push(item);
            }
        }
        Ok(kept)
    }
}

/// Whoever holds a role on the SEV or has acted on it.
fn is_member(detail: &SevDetail, id: &Actor) -> bool {
    let sev = &detail.sev;
    sev.reporter == *id
        || sev.coordinator.as_ref() == Some(id)
        || sev.report_owner.as_ref() == Some(id)
        || sev.comms_lead.as_ref() == Some(id)
        || sev.deputies.contains(id)
        || detail.scas.iter().any(|s| s.owner == *id)
        || detail.timeline.iter().any(|e| e.author == *id)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::{Entry, EntryId, EntryKind, Level, NewSev, Sev};

    fn detail(private: bool) -> SevDetail {
        let now = Utc::now();
        let new = NewSev {
            title: "db down".into(),
            level: Some(Level::Sev1),
            private,
            ..NewSev::default()
        };
        let (mut sev, _) = Sev::file(SevId(7), new, "U1".into(), now).unwrap();
        sev.coordinator = Some("U2".into());
        let drafted = Entry {
            id: EntryId::new(now, 1),
            at: now,
            author: Actor::SEVTOOL,
            kind: EntryKind::Note { text: "drafted".into() },
        };
        SevDetail {
            muster: crate::domain::muster(sev.declared_at, &[]),
            sev,
            timeline: vec![drafted],
            scas: vec![],
            failed_tasks: vec![],
            pages: vec![],
            status_page: None,
        }
    }

    #[test]
    fn private_sevs_exist_only_for_members_the_security_group_and_operators() {
        let private = detail(true);
        let none = SecurityGroup::default();
        assert!(Access::person(&"U1".into(), &none).may_see(&private), "reporter");
        assert!(Access::person(&"U2".into(), &none).may_see(&private), "coordinator");
        assert!(!Access::person(&"U3".into(), &none).may_see(&private), "a stranger");
        let security = SecurityGroup::new(["U3".to_owned()]);
        assert!(
            Access::person(&"U3".into(), &security).may_see(&private),
            "security group"
        );
        assert!(Access::Everything.may_see(&private));
        let mut roles = detail(true);
        roles.sev.report_owner = Some("U4".into());
        roles.timeline[0].author = "U5".into();
        assert!(Access::person(&"U4".into(), &none).may_see(&roles), "report owner");
        assert!(
            Access::person(&"U5".into(), &none).may_see(&roles),
            "whoever acted on it"
        );
        assert!(!Access::person(&"U6".into(), &none).may_see(&roles));
        roles.sev.comms_lead = Some("U6".into());
        roles.sev.deputies.insert("U7".into());
        assert!(Access::person(&"U6".into(), &none).may_see(&roles), "comms lead");
        assert!(Access::person(&"U7".into(), &none).may_see(&roles), "deputy");
        assert!(
            Access::person(&"U3".into(), &none).may_see(&detail(false)),
            "public SEVs are for all"
        );
    }

    #[test]
    fn a_typed_name_is_never_a_member_through_a_system_actor_or_a_slack_id() {
        let private = detail(true);
        let none = SecurityGroup::default();
        for typed in ["sevtool", "U1", "U2"] {
            assert!(
                !Access::person(&Actor::web_person(typed), &none).may_see(&private),
                "{typed}"
            );
        }
    }

    /// Services over a fresh embedded store, with a private SEV-1 (an SCA on it) filed by U1
    /// and a public SEV-2; the SCA is U7's.
    async fn stored() -> (SevService, ScaService, tempfile::TempDir) {
        struct NoQueue;
        #[async_trait::async_trait]
        impl crate::queue::Queue for NoQueue {
            async fn send_batch(&self, _: &[crate::queue::TaskEnvelope]) -> Result<(), crate::queue::QueueError> {
                Ok(())
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::SqliteStore::open(&dir.path().join("a.db")).unwrap();
        let repo = crate::store::SevRepo::new(std::sync::Arc::new(store));
        let relay = crate::queue::Relay::new(repo.clone(), std::sync::Arc::new(NoQueue));
        let clock = std::sync::Arc::new(crate::clock::SystemClock);
        let sevs = SevService::new(repo.clone(), relay.clone(), clock.clone());
        let scas = ScaService::new(repo, relay, clock, crate::domain::DuePolicy::default());
        for private in [true, false] {
            let new = NewSev {
                title: "db down".into(),
                level: Some(Level::Sev2),
                private,
                ..NewSev::default()
            };
            let req = super::super::FileRequest {
                new,
                reporter: "U1".into(),
                idempotency_key: None,
            };
            sevs.file(req).await.unwrap();
        }
        let sca = super::super::NewSca {
            text: "rotate the key".into(),
            priority: crate::domain::Priority::Must,
            owner: Some("U7".into()),
            due: None,
            ticket: None,
            source: crate::domain::ScaSource::Api,
        };
        scas.create(SevId(1), sca, "U1".into()).await.unwrap();
        (sevs, scas, dir)
    }

    #[tokio::test]
    async fn reads_through_the_policy_hide_a_private_sev_as_if_it_did_not_exist() {
        let (sevs, scas, _dir) = stored().await;
        let none = SecurityGroup::default();
        let (member, stranger) = (Access::person(&"U1".into(), &none), Access::person(&"U3".into(), &none));
        let (private, public) = (SevId(1), SevId(2));

        assert!(member.check(&sevs, private).await.is_ok());
        let owner = Access::person(&"U7".into(), &none);
        assert!(owner.check(&sevs, private).await.is_ok(), "an SCA's owner is a member");
        assert!(matches!(stranger.check(&sevs, private).await, Err(AppError::NotFound(id)) if id == private));
        assert!(stranger.check(&sevs, public).await.is_ok());
        assert!(matches!(
            stranger.check(&sevs, SevId(99)).await,
            Err(AppError::NotFound(_))
        ));
        assert!(matches!(stranger.sev(&sevs, private).await, Err(AppError::NotFound(_))));
        assert_eq!(member.sev(&sevs, private).await.unwrap().sev.id, private);

        assert!(matches!(
            stranger.sca(&sevs, &scas, ScaId(1)).await,
            Err(AppError::NoSuchSca(ScaId(1)))
        ));
        assert_eq!(member.sca(&sevs, &scas, ScaId(1)).await.unwrap().sev, private);

        let items = vec![("a", private), ("b", public), ("c", private)];
        let kept = stranger.retain(&sevs, items.clone(), |i| i.1).await.unwrap();
        assert_eq!(kept, [("b", public)]);
        assert_eq!(member.retain(&sevs, items.clone(), |i| i.1).await.unwrap(), items);
        assert_eq!(
            Access::Everything.retain(&sevs, items.clone(), |i| i.1).await.unwrap(),
            items
        );
    }

    #[test]
    fn security_group_entries_match_only_their_own_kind_of_identity() {
        let group = SecurityGroup::new(["U9".to_owned(), "alice".to_owned(), "web:bob".to_owned()]);
        assert!(group.contains(&"U9".into()));
        assert!(
            !group.contains(&"web:U9".into()),
            "a typed Slack id is not the Slack user"
        );
        assert!(group.contains(&"web:alice".into()) && group.contains(&"web:bob".into()));
        assert!(!group.contains(&"alice".into()), "a bare name is not a sign-in");
    }
}
