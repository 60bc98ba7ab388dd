//! A fake Slack Web API on a free local port. It records every call, refuses what Slack refuses
//! (a method it does not have, a missing required argument, a wrong token, an over-long text, a
//! channel name Slack would reject), accepts both JSON and form-encoded bodies (Slack's SDKs send
//! either), and can be scripted to fail.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::fake_socket::{APP_TOKEN, FakeSocketMode};

pub const BOT_TOKEN: &str = "xoxb-fake-token";

#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub args: Value,
    /// Whether the fake answered `ok: true`.
    pub ok: bool,
    /// When the call arrived, to check that a `Retry-After` was waited out.
    pub at: std::time::Instant,
}

/// A channel the fake created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    /// What `conversations.create` was asked for: `is_private` as a boolean or `"true"`.
    pub is_private: bool,
}

/// A scripted answer, used once, before the fake's normal behaviour.
#[derive(Debug, Clone)]
pub enum Scripted {
    RateLimited { retry_after_secs: u64 },
    Status(u16),
    Error(&'static str),
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    script: HashMap<String, VecDeque<Scripted>>,
    /// Channels created, by name.
    channels: HashMap<String, Channel>,
    messages: HashMap<(String, String), (String, String)>,
    next_id: u64,
    /// Codes the fake's "Sign in with Slack" will accept, with what each signs in as.
    grants: HashMap<String, Grant>,
    /// Where `apps.connections.open` sends sevtool, once Socket Mode is on.
    socket_mode: Option<FakeSocketMode>,
}

/// A sign-in the fake will complete: the person, their workspace, and the nonce sevtool sent.
#[derive(Debug, Clone)]
pub struct Grant {
    pub user_id: String,
    pub name: String,
    pub team_id: String,
    pub nonce: String,
    /// What sevtool must send back as `redirect_uri`: the one it sent to the authorize page.
    pub redirect_uri: String,
}

/// The Slack app sevtool signs people in with, as the fake knows it.
pub const CLIENT_ID: &str = "1111.2222";
pub const CLIENT_SECRET: &str = "fake-client-secret";

#[derive(Clone, Default)]
pub struct FakeSlack {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

fn parse_args(headers: &HeaderMap, body: &[u8]) -> Value {
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.starts_with("application/json") {
        return serde_json::from_slice(body).unwrap_or(Value::Null);
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        // Form bodies carry `blocks`, `view` and the like as JSON strings.
        let value = serde_json::from_str::<Value>(&v)
            .ok()
            .filter(|j| j.is_array() || j.is_object())
            .unwrap_or(Value::String(v));
        map.insert(k, value);
    }
    Value::Object(map)
}

/// The Web API methods the fake has, each with the arguments Slack's method reference
/// (docs.slack.dev/reference/methods/<method>) marks required, or calls "functionally required",
/// and the error Slack answers when one is missing. Any other method is `unknown_method`.
const METHODS: &[(&str, &[(&str, &str)])] = &[
    ("chat.postMessage", &[("channel", "channel_not_found")]),
    (
        "chat.postEphemeral",
        &[("channel", "channel_not_found"), ("user", "user_not_in_channel")],
    ),
    (
        "chat.update",
        &[("channel", "channel_not_found"), ("ts", "message_not_found")],
    ),
    ("conversations.create", &[("name", "invalid_name_required")]),
    (
        "conversations.invite",
        &[("channel", "channel_not_found"), ("users", "no_user")],
    ),
    (
        "conversations.replies",
        &[("channel", "channel_not_found"), ("ts", "thread_not_found")],
    ),
    (
        "pins.add",
        &[("channel", "channel_not_found"), ("timestamp", "no_item_specified")],
    ),
    ("users.info", &[("user", "user_not_found")]),
    ("users.lookupByEmail", &[("email", "users_not_found")]),
    (
        "views.open",
        &[("trigger_id", "invalid_arguments"), ("view", "invalid_arguments")],
    ),
    (
        "openid.connect.token",
        &[("client_id", "invalid_client_id"), ("code", "invalid_code")],
    ),
];

/// Slack refuses message texts past this many characters (`msg_too_long`).
pub const MAX_TEXT_CHARS: usize = 40_000;

/// Why Slack would refuse a channel name: lower-case letters, digits, `-` and `_`, at most 80.
fn channel_name_error(name: &str) -> Option<&'static str> {
    if name.chars().count() > 80 {
        Some("invalid_name_maxlength")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        Some("invalid_name_specials")
    } else {
        None
    }
}

/// Whether an argument was given: a non-empty string, or any other JSON value (`view`, `blocks`).
fn given(args: &Value, name: &str) -> bool {
    match &args[name] {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// Slack's answer to a call it cannot take, before looking at what it asks.
fn refusal(method: &str, args: &Value, authorised: bool) -> Option<&'static str> {
    let Some((_, required)) = METHODS.iter().find(|(m, _)| *m == method) else {
        return Some("unknown_method");
    };
    // The sign-in exchange authenticates with the app's credentials, not the bot token.
    if method != "openid.connect.token" && !authorised {
        return Some("invalid_auth");
    }
    if let Some((_, error)) = required.iter().find(|(arg, _)| !given(args, arg)) {
        return Some(error);
    }
    let text_chars = args["text"].as_str().map_or(0, |t| t.chars().count());
    if matches!(method, "chat.postMessage" | "chat.postEphemeral" | "chat.update") && text_chars > MAX_TEXT_CHARS {
        return Some("msg_too_long");
    }
    None
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Slack");
        let addr = listener.local_addr().expect("fake Slack address");
        let fake = FakeSlack {
            base: format!("http://{addr}"),
            ..FakeSlack::default()
        };
        let app = Router::new()
            .route("/api/{method}", post(api))
            .route("/respond/{id}", post(respond))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        fake
    }

    /// Turns on Socket Mode: `apps.connections.open` (with [`APP_TOKEN`]) hands out URLs of
    /// the returned fake websocket end.
    pub async fn socket_mode(&self) -> FakeSocketMode {
        let socket = FakeSocketMode::start().await;
        self.inner.lock().unwrap().socket_mode = Some(socket.clone());
        socket
    }

    /// `apps.connections.open`: Slack takes only an app-level token here.
    fn open_connection(&self, authorization: Option<&str>) -> (Response, bool) {
        let mut inner = self.inner.lock().unwrap();
        let scripted = inner
            .script
            .get_mut("apps.connections.open")
            .and_then(VecDeque::pop_front);
        let fail = |code: &str| (axum::Json(json!({ "ok": false, "error": code })).into_response(), false);
        let error = match (scripted, authorization, &inner.socket_mode) {
            (Some(Scripted::Error(code)), _, _) => code,
            (Some(Scripted::Status(code)), _, _) => {
                return (StatusCode::from_u16(code).unwrap().into_response(), false);
            }
            (Some(Scripted::RateLimited { .. }), _, _) => "ratelimited",
            (None, _, None) => "unknown_method",
            (None, Some(a), Some(socket)) if a == format!("Bearer {APP_TOKEN}") => {
                let url = socket.open_url();
                return (axum::Json(json!({ "ok": true, "url": url })).into_response(), true);
            }
            (None, Some(a), _) if a == format!("Bearer {BOT_TOKEN}") => "not_allowed_token_type",
            (None, Some(_), _) => "invalid_auth",
            (None, None, _) => "not_authed",
        };
        fail(error)
    }

    pub fn api_url(&self) -> String {
        format!("{}/api/", self.base)
    }

    pub fn response_url(&self, id: &str) -> String {
        format!("{}/respond/{id}", self.base)
    }

    pub fn script(&self, method: &str, answers: Vec<Scripted>) {
        self.inner
            .lock()
            .unwrap()
            .script
            .entry(method.to_owned())
            .or_default()
            .extend(answers);
    }

    /// Lets `openid.connect.token` trade `code` (once) for an ID token for `grant`.
    pub fn grant(&self, code: &str, grant: Grant) {
        self.inner.lock().unwrap().grants.insert(code.to_owned(), grant);
    }

    /// `openid.connect.token`: checks the app's credentials and the code, as Slack does, and
    /// answers with an ID token (its signature is not meaningful: sevtool relies on TLS for it).
    fn id_token(inner: &mut Inner, args: &Value) -> Result<Value, &'static str> {
        if args["client_id"] != CLIENT_ID || args["client_secret"] != CLIENT_SECRET {
            return Err("invalid_client_id");
        }
        let code = args["code"].as_str().unwrap_or_default();
        let grant = inner.grants.remove(code).ok_or("invalid_code")?;
        if args["redirect_uri"] != grant.redirect_uri.as_str() {
            return Err("bad_redirect_uri");
        }
        let claims = json!({
            "iss": "https://slack.com", "aud": CLIENT_ID, "sub": grant.user_id,
            "exp": chrono::Utc::now().timestamp() + 300, "iat": chrono::Utc::now().timestamp(),
            "nonce": grant.nonce, "https://slack.com/user_id": grant.user_id,
            "https://slack.com/team_id": grant.team_id, "name": grant.name,
        });
        use base64::Engine;
        let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let token = format!("{}.{}.c2ln", b64(&json!({"alg": "RS256", "typ": "JWT"})), b64(&claims));
        Ok(json!({ "access_token": "xoxp-fake-user", "token_type": "Bearer", "id_token": token }))
    }

    /// A message that `conversations.replies` will return.
    pub fn add_message(&self, channel: &str, ts: &str, user: &str, text: &str) {
        self.inner
            .lock()
            .unwrap()
            .messages
            .insert((channel.into(), ts.into()), (user.into(), text.into()));
    }

    /// The channels created so far, by name.
    pub fn channels(&self) -> HashMap<String, Channel> {
        self.inner.lock().unwrap().channels.clone()
    }

    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.inner
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    pub fn ok_calls(&self, method: &str) -> Vec<Call> {
        self.calls(method).into_iter().filter(|c| c.ok).collect()
    }

    /// The texts of the messages posted to `channel`.
    pub fn texts_to(&self, channel: &str) -> Vec<String> {
        self.ok_calls("chat.postMessage")
            .into_iter()
            .filter(|c| c.args["channel"] == channel)
            .map(|c| c.args["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// How many messages were posted in the thread of the message `ts`.
    pub fn replies_to(&self, ts: &str) -> usize {
        self.ok_calls("chat.postMessage")
            .iter()
            .filter(|c| c.args["thread_ts"] == ts)
            .count()
    }

    /// Waits until `check` holds of the fake, or fails the test after `secs`.
    pub async fn wait_for(&self, what: &str, secs: u64, check: impl Fn(&FakeSlack) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while !check(self) {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}; calls: {:#?}",
                self.inner.lock().unwrap().calls
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    fn answer(&self, method: &str, args: &Value, authorised: bool) -> (Response, bool) {
        let mut inner = self.inner.lock().unwrap();
        let scripted = inner.script.get_mut(method).and_then(VecDeque::pop_front);
        let ok = |v: Value| {
            let mut body = json!({ "ok": true });
            if let (Value::Object(b), Value::Object(extra)) = (&mut body, v) {
                b.extend(extra);
            }
            (axum::Json(body).into_response(), true)
        };
        let fail = |code: &str| (axum::Json(json!({ "ok": false, "error": code })).into_response(), false);
        if let Some(s) = scripted {
            return match s {
                Scripted::RateLimited { retry_after_secs } => (
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", retry_after_secs.to_string())],
                        "",
                    )
                        .into_response(),
                    false,
                ),
                Scripted::Status(code) => (StatusCode::from_u16(code).unwrap().into_response(), false),
                Scripted::Error(code) => fail(code),
            };
        }
        if let Some(code) = refusal(method, args, authorised) {
            return fail(code);
        }
        if method == "openid.connect.token" {
            return match FakeSlack::id_token(&mut inner, args) {
                Ok(v) => ok(v),
                Err(code) => fail(code),
            };
        }
        let s = |k: &str| args[k].as_str().unwrap_or_default().to_owned();
        inner.next_id += 1;
        let n = inner.next_id;
        match method {
            "conversations.create" => {
                let name = s("name");
                if let Some(code) = channel_name_error(&name) {
                    return fail(code);
                }
                if inner.channels.contains_key(&name) {
                    return fail("name_taken");
                }
                let is_private = match &args["is_private"] {
                    Value::Null => false,
                    Value::Bool(b) => *b,
                    Value::String(v) if v == "true" || v == "false" => v == "true",
                    _ => return fail("invalid_arguments"),
                };
                let id = format!("C{n:06}");
                let channel = Channel {
                    id: id.clone(),
                    is_private,
                };
                inner.channels.insert(name.clone(), channel);
                ok(json!({ "channel": { "id": id, "name": name, "is_private": is_private } }))
            }
            "chat.postMessage" | "chat.postEphemeral" | "chat.update"
                if !given(args, "text") && !given(args, "blocks") =>
            {
                fail("no_text")
            }
            "chat.postEphemeral" => ok(json!({ "message_ts": format!("1700000000.{n:06}") })),
            "chat.postMessage" => ok(json!({ "channel": s("channel"), "ts": format!("1700000000.{n:06}") })),
            "views.open" if args["view"]["type"] != "modal" => fail("invalid_arguments"),
            // People at example.com exist: `alice@example.com` is user `UALICE`.
            "users.lookupByEmail" => match s("email").strip_suffix("@example.com") {
                Some(local) if !local.is_empty() => {
                    let id: String = local.chars().filter(char::is_ascii_alphanumeric).collect();
                    ok(json!({ "user": { "id": format!("U{}", id.to_uppercase()) } }))
                }
                _ => fail("users_not_found"),
            },
            "conversations.replies" => {
                let key = (s("channel"), s("ts"));
                match inner.messages.get(&key) {
                    Some((user, text)) => ok(json!({ "messages": [ { "user": user, "text": text, "ts": key.1 } ] })),
                    None => fail("thread_not_found"),
                }
            }
            _ => ok(json!({})),
        }
    }
}

async fn api(State(fake): State<FakeSlack>, Path(method): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let args = parse_args(&headers, &body);
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let authorised = authorization == Some(&format!("Bearer {BOT_TOKEN}"));
    let (response, ok) = if method == "apps.connections.open" {
        fake.open_connection(authorization)
    } else {
        fake.answer(&method, &args, authorised)
    };
    fake.inner.lock().unwrap().calls.push(Call {
        method,
        args,
        ok,
        at: std::time::Instant::now(),
    });
    response
}

/// A `response_url`: Slack takes a JSON message with `text` or `blocks`, and nothing else.
async fn respond(State(fake): State<FakeSlack>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let args: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let ok = json && args.is_object() && (given(&args, "text") || given(&args, "blocks"));
    fake.inner.lock().unwrap().calls.push(Call {
        method: format!("respond/{id}"),
        args,
        ok,
        at: std::time::Instant::now(),
    });
    if ok {
        StatusCode::OK.into_response()
    } else {
        (StatusCode::BAD_REQUEST, "no_text").into_response()
    }
}
