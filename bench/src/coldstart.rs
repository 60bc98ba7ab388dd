//! Cold start of each Lambda binary: exec to first poll of the Runtime API (Lambda's "init
//! duration"), exec to the first invocation answered, peak RSS and stripped size. The functions
//! run against moto with the production wiring (DynamoDB, SQS, EventBridge Scheduler clients
//! built at init), and each gets a realistic first event: intake files a SEV, slack acks a
//! signed command, worker and pager take what those queued, reports builds the weekly digest.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::Env;
use crate::aws::{self, Moto, Proxy, REGION, Resources, TABLE};
use crate::fakes::{FakePager, FakeSlack};
use crate::lambda::Function;
use crate::slack_ack::{BOT_TOKEN, SIGNING_SECRET, sign, urlencode};
use crate::table::{Row, fig, percentile};

const RUNS: usize = 9;
pub const ALERT_TOKEN: &str = "bench-alert-token";

/// An API Gateway HTTP API (payload 2.0) event, as the `intake` and `slack` functions get them.
pub fn http_event(method: &str, path: &str, headers: &[(&str, String)], body: &str) -> Value {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut all = json!({
        "host": "bench.execute-api.us-east-1.amazonaws.com",
        "user-agent": "bench",
        "content-length": body.len().to_string(),
        "x-forwarded-proto": "https",
    });
    for (k, v) in headers {
        all[k] = Value::String(v.clone());
    }
    let now = chrono::Utc::now();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "bench",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "bench" },
            "requestId": format!("bench-{}", now.timestamp_nanos_opt().unwrap_or_default()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "body": body,
        "isBase64Encoded": false,
    })
}

/// The intake answers nothing without sign-in configured; the bench signs in as a script does.
pub const ACCESS_TOKEN: &str = "bench-access-token";

pub fn json_post(path: &str, body: &Value) -> Value {
    http_event(
        "POST",
        path,
        &[
            ("content-type", "application/json".to_owned()),
            ("authorization", format!("Bearer {ACCESS_TOKEN}")),
        ],
        &body.to_string(),
    )
}

/// A small catalog: the coordinator rotation and two teams.
pub fn write_small_catalog(path: &Path) -> anyhow::Result<()> {
    let mut toml = String::new();
    for (i, (name, rotation)) in [("atc", Some("coordinator")), ("payments", None), ("search", None)]
        .into_iter()
        .enumerate()
    {
        toml.push_str(&format!("[[team]]\nname = \"{name}\"\nslack = \"@{name}\"\n"));
        if let Some(r) = rotation {
            toml.push_str(&format!("rotation = \"{r}\"\n"));
        }
        toml.push_str(&format!(
            "[team.pagerduty]\nrouting_key = \"R{i:031}\"\nschedule = \"P{i:06}\"\n\n"
        ));
    }
    std::fs::write(path, toml)?;
    Ok(())
}

/// Everything the functions read at init, pointed at moto and the fakes.
pub struct Lambdas {
    pub moto: Moto,
    pub resources: Resources,
    pub env: Vec<(String, String)>,
    /// Present when the functions' AWS calls go through the recording proxy.
    pub proxy: Option<Proxy>,
    /// A `response_url` on the fake Slack, for slash commands.
    pub response_url: String,
}

impl Lambdas {
    pub async fn start(env: &Env, record: bool) -> anyhow::Result<Lambdas> {
        let moto = Moto::start(&env.venv, &env.repo, &env.work.join("moto.log")).await?;
        let resources = aws::create_resources(&moto.url).await?;
        let (proxy, aws_endpoint) = if record {
            let (proxy, url) = Proxy::start(&moto.url).await?;
            (Some(proxy), url)
        } else {
            (None, moto.url.clone())
        };
        let catalog = env.work.join("teams-small.toml");
        write_small_catalog(&catalog)?;
        let (_, slack_api) = FakeSlack::start().await?;
        let response_url = format!("{}/respond/cold", slack_api.trim_end_matches("/api/"));
        let (_, pager) = FakePager::start(Duration::ZERO).await?;
        let vars = [
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", "bench".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "bench".to_owned()),
            ("AWS_ENDPOINT_URL", aws_endpoint),
            ("SEVTOOL_TABLE", TABLE.to_owned()),
            ("SEVTOOL_TASK_QUEUE_URL", resources.task_queue.clone()),
            ("SEVTOOL_PAGER_QUEUE_URL", resources.pager_queue.clone()),
            (
                "SEVTOOL_SCHEDULE_TARGET_ARN",
                format!("arn:aws:sqs:{REGION}:123456789012:sevtool-tasks"),
            ),
            (
                "SEVTOOL_SCHEDULER_ROLE_ARN",
                "arn:aws:iam::123456789012:role/sevtool-scheduler".to_owned(),
            ),
            ("SEVTOOL_TEAMS", catalog.display().to_string()),
            ("PAGERDUTY_EVENTS_URL", pager),
            ("SLACK_BOT_TOKEN", BOT_TOKEN.to_owned()),
            ("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_owned()),
            ("SLACK_API_URL", slack_api),
            ("ALERT_WEBHOOK_TOKEN", ALERT_TOKEN.to_owned()),
            ("SEVTOOL_ACCESS_TOKEN", ACCESS_TOKEN.to_owned()),
        ];
        Ok(Lambdas {
            moto,
            resources,
            env: vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            proxy,
            response_url,
        })
    }
}

/// The first event of each function, made just before it starts.
async fn first_event(function: &str, run: usize, lambdas: &Lambdas) -> anyhow::Result<Value> {
    Ok(match function {
        "intake" => json_post(
            "/api/sevs",
            &json!({ "title": format!("Cold start {run}: checkout returns 5xx"), "level": "SEV1" }),
        ),
        "slack" => {
            let body = format!(
                "team_id=T0BENCH&channel_id=C0BENCH&user_id=U0BENCH&command=%2Fsev&text=new+SEV3+Cold+start+{run}\
                 &response_url={}&trigger_id=cold.{run}",
                urlencode(&lambdas.response_url)
            );
            let ts = chrono::Utc::now().timestamp();
            http_event(
                "POST",
                "/slack/commands",
                &[
                    ("content-type", "application/x-www-form-urlencoded".to_owned()),
                    ("x-slack-request-timestamp", ts.to_string()),
                    ("x-slack-signature", sign(ts, &body)),
                ],
                &body,
            )
        }
        "worker" => aws::receive_event(&lambdas.moto.url, &lambdas.resources.task_queue).await?,
        "pager" => aws::receive_event(&lambdas.moto.url, &lambdas.resources.pager_queue).await?,
        "reports" => json!({ "action": "weekly" }),
        other => bail!("no first event for {other}"),
    })
}

fn describe(function: &str) -> &'static str {
    match function {
        "intake" => "intake (POST /api/sevs, SEV1)",
        "slack" => "slack (signed /sev new)",
        "worker" => "worker (SQS: SevFiled + Slack tasks)",
        "pager" => "pager (SQS: auto-page)",
        _ => "reports (weekly digest)",
    }
}

/// Whether the function's answer is a success: an HTTP answer under 400, or no failed records.
fn succeeded(answer: &crate::lambda::Answer) -> bool {
    let status = answer.body["statusCode"].as_u64().unwrap_or(200);
    let failures = answer.body["batchItemFailures"].as_array().map_or(0, Vec::len);
    answer.ok && status < 400 && failures == 0
}

/// One function's figures over the runs.
#[derive(Clone, Default)]
struct Samples {
    init_ms: Vec<f64>,
    first_answer_ms: Vec<f64>,
    peak_rss_mib: Vec<f64>,
}

pub const FUNCTIONS: [&str; 5] = ["intake", "slack", "worker", "pager", "reports"];

pub async fn run(env: &Env) -> anyhow::Result<Vec<Row>> {
    let lambdas = Lambdas::start(env, false).await?;
    let mut samples = vec![Samples::default(); FUNCTIONS.len()];
    for run in 0..RUNS {
        for (i, function) in FUNCTIONS.iter().enumerate() {
            let event = first_event(function, run, &lambdas).await?;
            let log = env.work.join(format!("lambda-{function}.log"));
            let mut f = Function::start(&env.function(function), &lambdas.env, &log).await?;
            let answer = f.invoke(event).await;
            let peak = f.peak_rss_mib();
            let init = f.first_poll().map(|t| (t - f.started).as_secs_f64() * 1000.0);
            let started = f.started;
            f.stop().await;
            let answer = answer.with_context(|| format!("{function}: see {}", log.display()))?;
            if !succeeded(&answer) {
                bail!("{function} answered a failure: {}; see {}", answer.body, log.display());
            }
            let s = &mut samples[i];
            s.init_ms.push(init.context("no poll before the answer")?);
            s.first_answer_ms.push((answer.at - started).as_secs_f64() * 1000.0);
            s.peak_rss_mib.push(peak.unwrap_or(f64::NAN));
        }
    }
    lambdas.moto.stop().await;
    let mut rows = vec![
        Row::new("cold start", "AWS: hello-world Rust on provided.al2023")
            .median(fig(14.0, "ms"))
            .with("peak RSS", fig(15.0, "MB"))
            .note("Lambda's published figure, for comparison"),
    ];
    for (function, s) in FUNCTIONS.iter().zip(&samples) {
        let binary = env.function(function);
        let size = std::fs::metadata(&binary)?.len() as f64 / 1_048_576.0;
        let package = deflated_mib(&binary).await?;
        rows.push(
            Row::new("cold start", describe(function))
                .median(fig(percentile(&s.init_ms, 50.0), "ms"))
                .p99(fig(percentile(&s.init_ms, 100.0), "ms"))
                .with("to first answer", fig(percentile(&s.first_answer_ms, 50.0), "ms"))
                .with("peak RSS", fig(percentile(&s.peak_rss_mib, 50.0), "MiB"))
                .with("stripped", fig(size, "MiB"))
                .with("package", fig(package, "MiB"))
                .note(format!(
                    "init = exec to first poll; {RUNS} runs, p99 column is the worst; package = deflated at level 9, as infra/package.sh zips it"
                )),
        );
    }
    Ok(rows)
}

/// The binary deflated at level 9, as `infra/package.sh` zips it: what Lambda downloads on a cold
/// start (gzip's framing differs from zip's by a few dozen bytes).
async fn deflated_mib(binary: &std::path::Path) -> anyhow::Result<f64> {
    let out = tokio::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(binary)
        .output()
        .await
        .context("running gzip")?;
    if !out.status.success() {
        bail!("gzip failed on {}", binary.display());
    }
    Ok(out.stdout.len() as f64 / 1_048_576.0)
}
