//! A real Prometheus Alertmanager delivering to the real `sevtool`: alerts fired and resolved
//! with `amtool` open one SEV per group, collapse repeats, post the resolution, and a receiver
//! without the token is refused and opens nothing; a paging alert pages the team that owns its
//! service exactly once, through repeats and a pager that fails at first.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use blackbox::Sevtool;
use blackbox::fake_pager::{self, FakePager};
use serde_json::Value;
use tokio::process::{Child, Command};

const TOKEN: &str = "am-webhook-token";
const DEADLINE: Duration = Duration::from_secs(90);

fn binary(names: &[&str]) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names
        .iter()
        .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{} not found on PATH: install Debian's prometheus-alertmanager: `make test` does (tests/system-packages.sh)",
                names.join(" / ")
            )
        })
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

struct Alertmanager {
    _child: Child,
    url: String,
    log: PathBuf,
}

impl Alertmanager {
    async fn start(dir: &Path, sevtool: &str) -> Alertmanager {
        let port = free_port();
        let hook = format!("{sevtool}/alerts/alertmanager");
        // One route with the token, and one (for alerts labelled tokenless="yes") without it.
        // repeat_interval is short so that Alertmanager re-sends unchanged groups: real repeats.
        let config = format!(
            r#"
route:
  receiver: sev
  group_by: ['alertname', 'service']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
  routes:
    - matchers: ['tokenless="yes"']
      receiver: no-token
receivers:
  - name: sev
    webhook_configs:
      - url: "{hook}"
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: "{TOKEN}"
  - name: no-token
    webhook_configs:
      - url: "{hook}"
        send_resolved: true
"#
        );
        let config_file = dir.join("alertmanager.yml");
        std::fs::write(&config_file, config).expect("write alertmanager.yml");
        let log = dir.join("alertmanager.log");
        let log_file = std::fs::File::create(&log).expect("alertmanager log");
        let child = Command::new(binary(&["prometheus-alertmanager", "alertmanager"]))
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!("--storage.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .expect("start alertmanager");
        let am = Alertmanager {
            _child: child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let http = reqwest::Client::new();
        am.until("Alertmanager is ready", || async {
            http.get(format!("{}/-/ready", am.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        am
    }

    async fn amtool(&self, args: &[&str]) {
        let out = Command::new(binary(&["amtool"]))
            .args(["alert", "add"])
            .args(args)
            .arg(format!("--alertmanager.url={}", self.url))
            .output()
            .await
            .expect("run amtool");
        assert!(
            out.status.success(),
            "amtool {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Polls `check` until it holds, failing with Alertmanager's log after the deadline.
    async fn until<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = std::time::Instant::now();
        while !check().await {
            if start.elapsed() > DEADLINE {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                panic!("timed out waiting for: {what}\n--- alertmanager log ---\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn failed_webhook_notifications(&self) -> f64 {
        let Ok(r) = reqwest::get(format!("{}/metrics", self.url)).await else {
            return 0.0;
        };
        let text = r.text().await.unwrap_or_default();
        text.lines()
            .filter(|l| {
                l.starts_with("alertmanager_notifications_failed_total") && l.contains("integration=\"webhook\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

async fn sevs(app: &Sevtool) -> Vec<Value> {
    let (_, v) = app.get_json("/api/sevs").await;
    v["sevs"].as_array().cloned().unwrap_or_default()
}

async fn detail(app: &Sevtool, id: &str) -> Value {
    app.get_json(&format!("/api/sevs/{id}")).await.1
}

fn updates(detail: &Value) -> Vec<String> {
    detail["timeline"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter(|e| e["kind"] == "update")
                .filter_map(|e| e["text"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn find<'a>(sevs: &'a [Value], title_prefix: &str) -> Option<&'a Value> {
    sevs.iter()
        .find(|s| s["title"].as_str().is_some_and(|t| t.starts_with(title_prefix)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_alertmanager_opens_one_sev_per_group_and_resolves_it() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nmatch = ['severity=\"page\"']\nlevel = \"SEV1\"\n\n\
         [[rule]]\nmatch = ['severity=\"critical\"']\nlevel = \"SEV2\"\ntags = [\"system/{{service}}\"]\nmitigate_on_resolve = true\n",
    )
    .unwrap();
    let app = Sevtool::start(
        &dir.path().join("sevtool"),
        &[
            ("ALERT_WEBHOOK_TOKEN", TOKEN),
            ("SEVTOOL_ALERT_RULES", rules.to_str().unwrap()),
        ],
    )
    .await;
    let am = Alertmanager::start(dir.path(), &app.base).await;

    let checkout = [
        "alertname=HighErrorRate",
        "service=checkout",
        "severity=critical",
        "--annotation=summary=5xx rate above 5%",
        "--annotation=runbook_url=https://runbooks.example.com/checkout",
    ];
    am.amtool(&[&checkout[..], &["instance=web-1"]].concat()).await;
    am.amtool(&[
        "alertname=LedgerLag",
        "service=ledger",
        "severity=page",
        "--annotation=summary=ledger lag",
    ])
    .await;
    am.until("two SEVs, one per group", || async { sevs(&app).await.len() == 2 })
        .await;

    // The same group grows: same SEV, the new alert listed.
    am.amtool(&[&checkout[..], &["instance=web-2"]].concat()).await;
    let all = sevs(&app).await;
    let checkout_sev = find(&all, "HighErrorRate").expect("the checkout SEV")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ledger = find(&all, "LedgerLag").expect("the ledger SEV");
    assert_eq!(ledger["level"], "SEV1");
    am.until("the new alert listed on the checkout SEV", || async {
        updates(&detail(&app, &checkout_sev).await)
            .iter()
            .any(|u| u.starts_with("1 new alert in the group") && u.contains("instance=\"web-2\""))
    })
    .await;

    // Alertmanager re-sends the unchanged groups every repeat_interval: counted, not written.
    let alerts_path = format!("/api/sevs/{checkout_sev}/alerts");
    am.until("repeats of the checkout group", || async {
        app.get_json(&alerts_path).await.1["group"]["unreported_deliveries"]
            .as_u64()
            .is_some_and(|n| n >= 2)
    })
    .await;
    let before = detail(&app, &checkout_sev).await;
    assert_eq!(before["level"], "SEV2");
    assert_eq!(before["tags"], serde_json::json!(["system/checkout", "team/checkout"]));
    assert!(
        before["description"]
            .as_str()
            .unwrap()
            .contains("Runbook: https://runbooks.example.com/checkout")
    );
    assert_eq!(
        updates(&before).len(),
        2,
        "opening note and the new alert only: {:?}",
        updates(&before)
    );

    // Resolve both checkout alerts: an update, and the SEV mitigated as the rule says.
    let ended = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let end = format!("--end={ended}");
    for instance in ["instance=web-1", "instance=web-2"] {
        am.amtool(&[&checkout[..], &[instance, end.as_str()]].concat()).await;
    }
    am.until("the checkout SEV mitigated by the resolution", || async {
        detail(&app, &checkout_sev).await["status"] == "mitigated"
    })
    .await;
    let after = detail(&app, &checkout_sev).await;
    assert!(
        updates(&after).iter().any(|u| u.starts_with("All alerts resolved at")),
        "{:?}",
        updates(&after)
    );
    let ledger_id = ledger["id"].as_str().unwrap();
    assert_eq!(
        detail(&app, ledger_id).await["status"],
        "open",
        "the other group is untouched"
    );

    // The receiver without the token is refused (Alertmanager counts a failed notification)
    // and opens nothing.
    am.amtool(&["alertname=NoToken", "service=search", "severity=page", "tokenless=yes"])
        .await;
    am.until("Alertmanager to report the refused webhook", || async {
        am.failed_webhook_notifications().await >= 1.0
    })
    .await;
    let all = sevs(&app).await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(find(&all, "NoToken").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_alertmanager_paging_alert_pages_the_owning_team_once() {
    let dir = tempfile::tempdir().unwrap();
    let pager = FakePager::start().await;
    // The first trigger for payments fails as a PagerDuty outage would.
    pager.fail("rk-payments", vec![503]);
    let teams = dir.path().join("teams.toml");
    std::fs::write(
        &teams,
        "[[team]]\nname = \"atc\"\nrotation = \"coordinator\"\n[team.pagerduty]\nrouting_key = \"rk-atc\"\nschedule = \"PATC\"\n\n\
         [[team]]\nname = \"payments\"\nservices = [\"ledger\"]\n[team.pagerduty]\nrouting_key = \"rk-payments\"\nschedule = \"PPAY\"\n",
    )
    .unwrap();
    let teams = teams.display().to_string();
    let app = Sevtool::start(
        &dir.path().join("sevtool"),
        &[
            ("ALERT_WEBHOOK_TOKEN", TOKEN),
            ("SEVTOOL_TEAMS", teams.as_str()),
            ("SEVTOOL_AUTOPAGE_LEVEL", "off"),
            ("PAGERDUTY_EVENTS_URL", pager.base.as_str()),
            ("PAGERDUTY_API_URL", pager.base.as_str()),
            ("PAGERDUTY_API_TOKEN", fake_pager::API_TOKEN),
        ],
    )
    .await;
    let am = Alertmanager::start(dir.path(), &app.base).await;
    // The built-in rules page `severity="page"`; the service names the owner through the catalog.
    am.amtool(&[
        "alertname=LedgerLag",
        "service=ledger",
        "severity=page",
        "--annotation=summary=ledger 6 minutes behind",
    ])
    .await;
    am.until("the SEV's page to payments to go out", || async {
        let Some(sev) = sevs(&app).await.first().cloned() else {
            return false;
        };
        let id = sev["id"].as_str().unwrap_or_default();
        detail(&app, id).await["pages"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["team"] == "payments" && p["state"] == "paged"))
    })
    .await;
    let id = sevs(&app).await[0]["id"].as_str().unwrap().to_owned();
    let alerts_path = format!("/api/sevs/{id}/alerts");
    am.until("Alertmanager to re-send the group", || async {
        app.get_json(&alerts_path).await.1["group"]["deliveries"]
            .as_u64()
            .is_some_and(|n| n >= 3)
    })
    .await;
    app.settled().await;

    let triggers: Vec<_> = pager
        .events()
        .into_iter()
        .filter(|e| e.action == "trigger" && e.routing_key == "rk-payments")
        .collect();
    let statuses: Vec<u16> = triggers.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [503, 202], "one failure, then one page: {triggers:?}");
    assert!(triggers.iter().all(|e| e.dedup_key == triggers[0].dedup_key));
    assert_eq!(pager.pages().len(), 1, "only the owner is paged (auto-page is off)");
    let detail = detail(&app, &id).await;
    assert_eq!(detail["pages"][0]["reason"], "alert", "{detail}");
    assert_eq!(sevs(&app).await.len(), 1);
    let (_, origin) = app.get_json(&alerts_path).await;
    assert_eq!(
        origin["origin"]["page"],
        serde_json::json!({"paged": {"team": "payments"}})
    );
}
