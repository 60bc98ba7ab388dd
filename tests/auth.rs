//! Sign-in and private SEVs, against the real `sevtool` binary: the shared token (bearer and the
//! `/signin` form), Sign in with Slack against the fake Slack, and who sees a private SEV.

use blackbox::fake_slack::{CLIENT_ID, CLIENT_SECRET, FakeSlack, Grant};
use blackbox::{Sevtool, set_cookie};
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};

const TOKEN: &str = "local-shared-token";

/// A client that shows redirects instead of following them, as a test of them needs.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// Signs in through the `/signin` form, after checking a wrong token gets nowhere. The wrong
/// try carries a valid CSRF token, so the token comparison is what refuses it.
async fn sign_in_with_token(app: &Sevtool, name: &str) -> String {
    for guess in ["guess", "", &TOKEN[..TOKEN.len() - 1], &format!("{TOKEN}x")] {
        let wrong = app.sign_in(guess, name).await;
        assert_eq!(wrong.status(), 401, "token {guess:?}");
        assert!(set_cookie(&wrong, "sevtool_session").is_none());
    }
    app.session(TOKEN, name).await
}

async fn get_as(app: &Sevtool, path: &str, cookie: &str) -> (u16, Value) {
    let r = browser()
        .get(app.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_shared_token_guards_the_api_and_the_web_and_names_people() {
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(dir.path(), &[("SEVTOOL_ACCESS_TOKEN", TOKEN)]).await;
    let http = browser();

    let anonymous = http.get(app.url("/api/sevs")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let body: Value = anonymous.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("Bearer"), "{body}");
    let wrong = http.get(app.url("/api/sevs")).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let right = http.get(app.url("/api/sevs")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(right.status(), 200);

    let page = http.get(app.url("/sevs/new")).send().await.unwrap();
    assert_eq!(page.status(), 303, "a browser is sent to sign in");
    assert_eq!(location(&page), "/signin?next=%2Fsevs%2Fnew");
    assert_eq!(http.get(app.url("/healthz")).send().await.unwrap().status(), 200);

    let session = sign_in_with_token(&app, "Ada Lovelace").await;
    let page = http
        .get(app.url("/sevs/new"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text().await.unwrap().contains("Ada Lovelace"),
        "the header names who signed in"
    );
    let r = http
        .post(app.url("/signin"))
        .header("content-type", "application/x-www-form-urlencoded");
    let no_csrf = r.body(format!("name=Mallory&token={TOKEN}")).send().await.unwrap();
    assert_eq!(no_csrf.status(), 403, "the sign-in form needs its CSRF token");

    // A signed-in person acts as themselves over the API, whatever `author` says.
    let filed = http
        .post(app.url("/api/sevs"))
        .header(COOKIE, &session)
        .json(&json!({"title": "checkout errors", "level": "SEV2", "reporter": "someone-else"}))
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status(), 201);
    let sev: Value = filed.json().await.unwrap();
    assert_eq!(
        sev["reporter"], "web:Ada Lovelace",
        "a typed name is recorded as a token sign-in"
    );

    // A tampered cookie is no cookie.
    let (name, value) = session.split_once('=').unwrap();
    let forged = format!("{name}=x{value}");
    let r = http
        .get(app.url("/api/sevs"))
        .header(COOKIE, forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let out = http
        .post(app.url("/signout"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(set_cookie(&out, "sevtool_session").as_deref(), Some("sevtool_session="));
}

#[tokio::test]
async fn private_sevs_exist_only_for_members_and_the_security_group() {
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(
        dir.path(),
        &[
            ("SEVTOOL_ACCESS_TOKEN", TOKEN),
            ("SEVTOOL_SECURITY_GROUP", "Sam Security"),
        ],
    )
    .await;
    let http = browser();
    let carol = sign_in_with_token(&app, "Carol").await;
    // Carol files it herself: a script naming "Carol" as reporter would not make the person who
    // signs in as Carol a member (anyone with the token can type any name).
    let private: Value = http
        .post(app.url("/api/sevs"))
        .header(COOKIE, &carol)
        .json(
            &json!({"title": "customer data exposed", "level": "SEV1", "private": true,
                      "started_at": "2026-07-03T09:00:00Z"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(private["reporter"], "web:Carol");
    let id = private["id"].as_str().unwrap().to_owned();
    let file = |body: Value| http.post(app.url("/api/sevs")).bearer_auth(TOKEN).json(&body).send();
    file(json!({"title": "slow search", "level": "SEV3", "started_at": "2026-07-04T09:00:00Z"}))
        .await
        .unwrap();

    let dave = sign_in_with_token(&app, "Dave").await;
    let sam = sign_in_with_token(&app, "Sam Security").await;

    let (status, _) = get_as(&app, &format!("/api/sevs/{id}"), &dave).await;
    assert_eq!(status, 404, "to a stranger a private SEV does not exist");
    let (_, list) = get_as(&app, "/api/sevs", &dave).await;
    assert_eq!(list["sevs"].as_array().unwrap().len(), 1);
    let update = http
        .post(app.url(&format!("/api/sevs/{id}/updates")))
        .header(COOKIE, &dave)
        .json(&json!({"text": "peeking"}))
        .send()
        .await
        .unwrap();
    assert_eq!(update.status(), 404, "nor can a stranger act on it");
    // Polling with a tag, even the wildcard, tells a stranger nothing: the access check comes first.
    for path in [format!("/api/sevs/{id}"), format!("/sevs/{id}")] {
        let polled = http
            .get(app.url(&path))
            .header(COOKIE, &dave)
            .header("if-none-match", "*")
            .send()
            .await
            .unwrap();
        assert_eq!(polled.status(), 404, "{path}");
    }
    let page = http
        .get(app.url(&format!("/sevs/{id}")))
        .header(COOKIE, &dave)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    // Nor its corrective actions, through the web forms.
    let sca: Value = http
        .post(app.url(&format!("/api/sevs/{id}/scas")))
        .bearer_auth(TOKEN)
        .json(&json!({"text": "rotate the keys", "priority": "must", "owner": "web:Carol"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sca_id = sca["id"].as_str().unwrap();
    let csrf = set_cookie(
        &http
            .get(app.url("/sevs/new"))
            .header(COOKIE, &dave)
            .send()
            .await
            .unwrap(),
        "sevtool_csrf",
    )
    .unwrap();
    let token = csrf.split_once('=').unwrap().1;
    let done = http
        .post(app.url(&format!("/scas/{sca_id}/done")))
        .header(COOKIE, format!("{dave}; {csrf}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 404, "a stranger cannot close a private SEV's SCA");
    let (_, seen) = get_as(&app, &format!("/api/scas/{sca_id}"), &carol).await;
    assert_eq!(seen["state"], "open", "{seen}");

    for (who, cookie) in [("reporter", &carol), ("security group", &sam)] {
        let (status, body) = get_as(&app, &format!("/api/sevs/{id}"), cookie).await;
        assert_eq!(status, 200, "{who}: {body}");
        let (_, list) = get_as(&app, "/api/sevs", cookie).await;
        assert_eq!(list["sevs"].as_array().unwrap().len(), 2, "{who}");
    }

    // Reports count it only for those who see every private SEV.
    let monthly = "/api/reports/monthly?since=2026-07&until=2026-07";
    let (_, for_dave) = get_as(&app, monthly, &dave).await;
    let (_, for_sam) = get_as(&app, monthly, &sam).await;
    assert_eq!(
        (
            for_dave["months"][0]["total"].as_u64(),
            for_sam["months"][0]["total"].as_u64()
        ),
        (Some(1), Some(2))
    );
}

#[tokio::test]
async fn sign_in_with_slack_records_web_actions_under_the_slack_user() {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let public = "http://sev.example.test";
    let authorize = format!("{}/openid/connect/authorize", slack.base);
    let api = slack.api_url();
    let app = Sevtool::start(
        dir.path(),
        &[
            ("SLACK_CLIENT_ID", CLIENT_ID),
            ("SLACK_CLIENT_SECRET", CLIENT_SECRET),
            ("SLACK_TEAM_ID", "T1"),
            ("SLACK_AUTHORIZE_URL", &authorize),
            ("SLACK_API_URL", &api),
            ("SEVTOOL_PUBLIC_URL", public),
        ],
    )
    .await;
    let http = browser();
    let redirect_uri = format!("{public}/auth/slack/callback");

    // Leaves for Slack with state and nonce; comes back with a code.
    let start = |next: &'static str| {
        let http = http.clone();
        let url = app.url(&format!("/auth/slack?next={next}"));
        async move {
            let r = http.get(url).send().await.unwrap();
            assert_eq!(r.status(), 303);
            let to = reqwest::Url::parse(&location(&r)).unwrap();
            let q: std::collections::HashMap<String, String> = to.query_pairs().into_owned().collect();
            (to, q, set_cookie(&r, "sevtool_signin").expect("sign-in cookie"))
        }
    };
    let (to, q, pending) = start("/sevs/new").await;
    assert!(to.as_str().starts_with(&authorize));
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], redirect_uri);
    assert_eq!(q["scope"], "openid profile");

    let callback = |code: &str, state: &str, cookie: &str| {
        http.get(app.url(&format!("/auth/slack/callback?code={code}&state={state}")))
            .header(COOKIE, cookie.to_owned())
            .send()
    };
    let forged = callback("c1", "not-the-state", &pending).await.unwrap();
    assert_eq!(forged.status(), 400, "a callback must carry the state it was sent with");

    slack.grant(
        "c1",
        Grant {
            user_id: "U0ADA".into(),
            name: "Ada".into(),
            team_id: "T1".into(),
            nonce: q["nonce"].clone(),
            redirect_uri: redirect_uri.clone(),
        },
    );
    let done = callback("c1", &q["state"], &pending).await.unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/sevs/new");
    let session = set_cookie(&done, "sevtool_session").expect("session");

    let filed: Value = http
        .post(app.url("/api/sevs"))
        .header(COOKIE, &session)
        .json(&json!({"title": "queue backlog", "level": "SEV3"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(filed["reporter"], "U0ADA", "the same name Slack actions carry");

    // Another workspace's member is turned away.
    let (_, q2, pending2) = start("/").await;
    slack.grant(
        "c2",
        Grant {
            user_id: "U0EVE".into(),
            name: "Eve".into(),
            team_id: "T-OTHER".into(),
            nonce: q2["nonce"].clone(),
            redirect_uri,
        },
    );
    let refused = callback("c2", &q2["state"], &pending2).await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(set_cookie(&refused, "sevtool_session").is_none());
}

#[tokio::test]
async fn serving_beyond_loopback_without_sign_in_is_refused() {
    let stderr = blackbox::refused_start(&[("SEVTOOL_HOST", "0.0.0.0")]).await;
    assert!(stderr.contains("SEVTOOL_ACCESS_TOKEN"), "{stderr}");
}

#[tokio::test]
async fn the_scas_page_lists_my_open_scas_and_every_overdue_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = Sevtool::start(dir.path(), &[("SEVTOOL_ACCESS_TOKEN", TOKEN)]).await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| http.post(app.url(path)).bearer_auth(TOKEN).json(&body).send();
    assert_eq!(
        post("/api/sevs", json!({"title": "db down", "level": "SEV2"}))
            .await
            .unwrap()
            .status(),
        201
    );
    // Due this morning: already overdue (a due date may lie up to a day back).
    let this_morning = (chrono::Utc::now() - chrono::Duration::hours(12)).to_rfc3339();
    for (text, owner, due) in [
        ("Add a replica", "Ada", "2099-01-01T00:00:00Z"),
        ("Alert on lag", "Bob", this_morning.as_str()),
        ("Write the runbook", "Bob", "2099-01-01T00:00:00Z"),
    ] {
        let r = post(
            "/api/sevs/1/scas",
            json!({"text": text, "priority": "should", "owner": owner, "due": due}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
    }
    let ada = app.session(TOKEN, "Ada").await;
    app.act_as(&ada);
    let html = app.get_text("/scas").await;
    let (mine, overdue) = html.split_once("Overdue SCAs").unwrap();
    assert!(
        mine.contains("Add a replica") && !mine.contains("Write the runbook"),
        "{mine}"
    );
    assert!(
        overdue.contains("Alert on lag") && !overdue.contains("Add a replica"),
        "{overdue}"
    );
}

/// The session cookie's flags, as the browser gets them: script cannot read it, other sites'
/// forms do not carry it, it lasts 12 hours, and it is `Secure` when the public address is https.
#[tokio::test]
async fn the_session_cookie_is_http_only_same_site_twelve_hours_and_secure_behind_https() {
    for (public_url, secure) in [(None, false), (Some("https://sev.example.com"), true)] {
        let dir = tempfile::tempdir().unwrap();
        let mut env = vec![("SEVTOOL_ACCESS_TOKEN", TOKEN)];
        env.extend(public_url.map(|u| ("SEVTOOL_PUBLIC_URL", u)));
        let app = Sevtool::start(dir.path(), &env).await;
        let r = app.sign_in(TOKEN, "Ada").await;
        assert_eq!(r.status(), 303);
        let cookie = r
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("sevtool_session="))
            .expect("a session cookie")
            .to_owned();
        let flags: Vec<&str> = cookie.split("; ").skip(1).collect();
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
            assert!(flags.contains(&flag), "{flag} missing from {cookie}");
        }
        assert_eq!(flags.contains(&"Secure"), secure, "{cookie}");
    }
}
