//! The staff web UI's security, in-process on both backends: sign-in and its cookie,
//! throttling, CSRF on every form, owner-only pages, one account's data never on another's
//! pages (a table over every route), escaping, sign-out and the password reset link.

use super::helpers::{Api, Reply};
use axum::http::StatusCode;
use bellhop_engine::{NewUser, Role};
use serde_json::{Value, json};
use uuid::Uuid;

const OWNER_PASSWORD: &str = "owner password 1";
const STAFF_PASSWORD: &str = "staff password 1";

/// The two accounts of the harness, oldest (A, the one of `api.key`) first.
async fn accounts(api: &Api) -> (Uuid, Uuid) {
    let all = api.store.accounts().await.unwrap();
    (all[0].0, all[1].0)
}

async fn user(api: &Api, account: Uuid, email: &str, role: Role, password: &str) {
    api.engine
        .create_user(
            account,
            NewUser {
                email: email.into(),
                name: email.split('@').next().unwrap().into(),
                role,
                language: Some("en".into()),
                password: password.into(),
            },
        )
        .await
        .unwrap();
}

fn html(r: &Reply) -> &str {
    r.body.as_str().unwrap_or("")
}

/// A value of an input in a page: `name="{name}" value="…"` (attributes as the templates write them).
fn input_value(page: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let at = page.find(&needle)? + needle.len();
    let end = page[at..].find('"')?;
    Some(page[at..at + end].to_owned())
}

fn cookies_of(r: &Reply) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// A browser of one user: its cookies, and the session's CSRF token.
struct Session<'a> {
    api: &'a Api,
    cookie: String,
    csrf: String,
}

impl<'a> Session<'a> {
    async fn sign_in(api: &'a Api, email: &str, password: &str) -> Session<'a> {
        Self::try_sign_in(api, email, password, &[])
            .await
            .unwrap_or_else(|r| panic!("{email} cannot sign in: {}", r.status))
    }

    async fn try_sign_in(
        api: &'a Api,
        email: &str,
        password: &str,
        headers: &[(&str, &str)],
    ) -> Result<Session<'a>, Reply> {
        let (form_cookie, token) = form_token(api).await;
        let body = serde_urlencoded::to_string([
            ("form_token", token.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/app"),
        ])
        .unwrap();
        let mut all = vec![
            ("content-type", "application/x-www-form-urlencoded"),
            ("cookie", form_cookie.as_str()),
        ];
        all.extend_from_slice(headers);
        let r = api.call_raw("POST", "/app/signin", &body, &all).await;
        if r.status != StatusCode::SEE_OTHER {
            return Err(r);
        }
        let cookie = cookies_of(&r)
            .into_iter()
            .find(|c| c.contains("bellhop_session="))
            .expect("a session cookie");
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let mut session = Session {
            api,
            cookie,
            csrf: String::new(),
        };
        let today = session.get("/app").await;
        assert_eq!(today.status, StatusCode::OK);
        session.csrf = input_value(html(&today), "csrf").expect("a csrf token");
        Ok(session)
    }

    async fn get(&self, path: &str) -> Reply {
        self.api
            .call_raw("GET", path, "", &[("cookie", &self.cookie)])
            .await
    }

    /// Posts a form with this session's token (`csrf` in `fields` overrides it; `None` leaves it out).
    async fn post(&self, path: &str, fields: &[(&str, &str)], csrf: Option<&str>) -> Reply {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if let Some(token) = csrf {
            all.push(("csrf", token));
        }
        let body = serde_urlencoded::to_string(&all).unwrap();
        self.api
            .call_raw(
                "POST",
                path,
                &body,
                &[
                    ("cookie", &self.cookie),
                    ("content-type", "application/x-www-form-urlencoded"),
                ],
            )
            .await
    }

    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.post(path, fields, Some(&self.csrf.clone())).await
    }
}

/// The sign-in form's cookie (`name=value`) and token.
async fn form_token(api: &Api) -> (String, String) {
    let page = api.call_raw("GET", "/app/signin", "", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    let cookie = cookies_of(&page)
        .into_iter()
        .find(|c| c.starts_with("bellhop_form="))
        .unwrap();
    (
        cookie.split(';').next().unwrap().to_owned(),
        input_value(html(&page), "form_token").unwrap(),
    )
}

/// Account B's records: one of everything a page can show.
struct Records {
    property: String,
    template: String,
    rule: String,
    booking: String,
    contact: String,
    message: String,
    connection: String,
    inbound: String,
}

async fn records(api: &Api, key: &str, tag: &str, guest: &str) -> Records {
    let domain = format!("{}.example", tag.to_lowercase());
    let call = |path: &str, body: Value| {
        let body = body.to_string();
        let path = path.to_owned();
        async move {
            let r = api.call("POST", &path, Some(key), Some(&body), &[]).await;
            assert!(r.status.is_success(), "{path}: {:?}", r.body);
            r.body
        }
    };
    let property = call("/api/v1/properties", json!({
        "name": format!("Hotel {tag}"), "time_zone": "Europe/Vienna", "country": "AT", "default_language": "de",
        "sender_email": format!("info@{domain}"), "sender_name": format!("Hotel {tag}")
    }))
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let template = call("/api/v1/templates", json!({
        "property_id": property, "name": format!("Vor Anreise {tag}"),
        "variants": {"de": {"subject": "Bald, {{ guest.first_name }}", "html": "<p>Hallo {{ guest.first_name }}</p>"}}
    }))
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rule = call("/api/v1/rules", json!({
        "property_id": property, "name": "3 Tage vorher", "anchor": "start",
        "offset": {"amount": -3, "unit": "days"}, "time_of_day": "10:00", "template_id": template
    }))
    .await["rule"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let booking = call("/api/v1/bookings", json!({
        "property_id": property, "kind": "stay", "arrival": "2026-03-20", "departure": "2026-03-23",
        "contact": {"first_name": guest, "last_name": "Gast", "email": format!("gast@{domain}")}
    }))
    .await;
    let booking_id = booking["booking"]["id"].as_str().unwrap().to_owned();
    let contact = booking["booking"]["contact_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let messages = api
        .call(
            "GET",
            &format!("/api/v1/messages?booking_id={booking_id}"),
            Some(key),
            None,
            &[],
        )
        .await;
    let message = messages.body["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", messages.body))
        .to_owned();
    let connection = call(
        &format!("/api/v1/properties/{property}/channels"),
        json!({"name": format!("Slevomat {tag}"), "kind": "json"}),
    )
    .await["connection"]["id"]
        .as_str()
        .or(None)
        .map(str::to_owned);
    let connection = match connection {
        Some(c) => c,
        None => {
            let list = api
                .call("GET", "/api/v1/channels", Some(key), None, &[])
                .await;
            list.body["items"][0]["id"].as_str().unwrap().to_owned()
        }
    };
    let mailbox = call(
        &format!("/api/v1/properties/{property}/mailboxes"),
        json!({"name": format!("Rezeption {tag}"), "address": format!("rezeption@{domain}"), "replies": {"de": {"body": "Danke."}}}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mail = format!(
        "From: Gast <gast@{domain}>\r\nTo: rezeption@{domain}\r\nSubject: Frage {tag}\r\nMessage-ID: <1@{domain}>\r\n\r\nHallo\r\n"
    );
    let inbound = call(
        &format!("/api/v1/mailboxes/{mailbox}/inbound"),
        json!({"message": mail, "envelope_from": format!("gast@{domain}")}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Records {
        property,
        template,
        rule,
        booking: booking_id,
        contact,
        message,
        connection,
        inbound,
    }
}

#[tokio::test]
async fn signing_in_sets_an_httponly_samesite_cookie_secure_behind_tls() {
    let api = Api::new().await;
    let (a, _) = accounts(&api).await;
    user(&api, a, "owner@a.example", Role::Owner, OWNER_PASSWORD).await;
    // Not signed in: every page leads to the sign-in form, keeping where it was going.
    let r = api
        .call_raw("GET", "/app/bookings?status=confirmed", "", &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers["location"],
        "/app/signin?next=%2Fapp%2Fbookings%3Fstatus%3Dconfirmed"
    );
    let plain = Session::try_sign_in(&api, "owner@a.example", OWNER_PASSWORD, &[])
        .await
        .ok()
        .unwrap();
    assert!(plain.cookie.starts_with("bellhop_session="));
    let (form_cookie, token) = form_token(&api).await;
    let body = serde_urlencoded::to_string([
        ("form_token", token.as_str()),
        ("email", "OWNER@a.example"),
        ("password", OWNER_PASSWORD),
        ("next", "https://evil.example/"),
    ])
    .unwrap();
    let r = api
        .call_raw(
            "POST",
            "/app/signin",
            &body,
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("cookie", &form_cookie),
                ("x-forwarded-proto", "https"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers["location"], "/app", "never to another site");
    let cookie = cookies_of(&r)
        .into_iter()
        .find(|c| c.contains("session="))
        .unwrap();
    assert!(cookie.starts_with("__Host-bellhop_session="), "{cookie}");
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    // Pages are not cached and cannot be framed by others.
    let today = plain.get("/app").await;
    assert_eq!(today.headers["cache-control"], "no-store");
    assert!(
        today.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_the_sixth_try_is_throttled() {
    let api = Api::new().await;
    let (a, _) = accounts(&api).await;
    user(&api, a, "owner@a.example", Role::Owner, OWNER_PASSWORD).await;
    for _ in 0..5 {
        let r = Session::try_sign_in(&api, "owner@a.example", "wrong password!", &[])
            .await
            .err()
            .unwrap();
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(html(&r).contains("Wrong email address or password"));
    }
    // Even the right password waits now.
    let r = Session::try_sign_in(&api, "owner@a.example", OWNER_PASSWORD, &[])
        .await
        .err()
        .unwrap();
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "900");
    // After the window it works, and an unknown address is refused like a wrong password.
    api.clock.advance(jiff::SignedDuration::from_mins(16));
    Session::sign_in(&api, "owner@a.example", OWNER_PASSWORD).await;
    let r = Session::try_sign_in(&api, "nobody@a.example", OWNER_PASSWORD, &[])
        .await
        .err()
        .unwrap();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A sign-in form without its token (another site posting it) is refused.
    let body = "email=owner%40a.example&password=owner+password+1&next=%2Fapp";
    let r = api
        .call_raw(
            "POST",
            "/app/signin",
            body,
            &[("content-type", "application/x-www-form-urlencoded")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Every form of the UI with fields that would succeed: (path, fields).
fn every_form(
    r: &Records,
    user_id: &str,
    key_id: &str,
) -> Vec<(String, Vec<(&'static str, String)>)> {
    vec![
        ("/app/signout".into(), vec![]),
        ("/app/language".into(), vec![("language", "de".into())]),
        (
            "/app/bookings".into(),
            vec![
                ("property_id", r.property.clone()),
                ("status", "confirmed".into()),
                ("kind", "stay".into()),
                ("arrival", "2026-04-01".into()),
                ("departure", "2026-04-03".into()),
                ("last_name", "Neu".into()),
            ],
        ),
        (
            format!("/app/bookings/{}", r.booking),
            vec![
                ("status", "confirmed".into()),
                ("kind", "stay".into()),
                ("arrival", "2026-03-21".into()),
                ("departure", "2026-03-23".into()),
            ],
        ),
        (
            format!("/app/bookings/{}/guest", r.booking),
            vec![("first_name", "X".into())],
        ),
        (
            format!("/app/templates/{}", r.template),
            vec![
                ("variant", "de".into()),
                ("subject", "S".into()),
                ("html", "<p>x</p>".into()),
            ],
        ),
        (
            format!("/app/templates/{}/preview", r.template),
            vec![
                ("variant", "de".into()),
                ("subject", "S".into()),
                ("html", "x".into()),
            ],
        ),
        (
            format!("/app/templates/{}/test-send", r.template),
            vec![
                ("variant", "de".into()),
                ("subject", "S".into()),
                ("html", "x".into()),
            ],
        ),
        (
            "/app/rules/preset".into(),
            vec![
                ("property", r.property.clone()),
                ("key", "pre_arrival".into()),
                ("on", "1".into()),
                ("confirm", "1".into()),
            ],
        ),
        (
            format!("/app/rules/{}", r.rule),
            vec![
                ("anchor", "start".into()),
                ("amount", "2".into()),
                ("unit", "days".into()),
                ("direction", "before".into()),
                ("channel", "email".into()),
                ("late", "skip".into()),
                ("template_id", r.template.clone()),
                ("confirm", "1".into()),
            ],
        ),
        (
            "/app/sms".into(),
            vec![
                ("property", r.property.clone()),
                ("plan", "per_sms".into()),
                ("price", "0.08".into()),
                ("limit", "1".into()),
            ],
        ),
        (
            format!("/app/contacts/{}/consent", r.contact),
            vec![
                ("purpose", "marketing".into()),
                ("channel", "email".into()),
                ("decision", "granted".into()),
            ],
        ),
        (
            format!("/app/contacts/{}/consent-request", r.contact),
            vec![("property", r.property.clone())],
        ),
        (
            "/app/channels".into(),
            vec![
                ("property", r.property.clone()),
                ("kind", "json".into()),
                ("name", "X".into()),
            ],
        ),
        (format!("/app/channels/{}/rotate", r.connection), vec![]),
        (format!("/app/channels/{}/revoke", r.connection), vec![]),
        (
            "/app/account/users".into(),
            vec![
                ("name", "X".into()),
                ("email", "x@b.example".into()),
                ("password", "long enough pw".into()),
            ],
        ),
        (
            format!("/app/account/users/{user_id}"),
            vec![("role", "staff".into())],
        ),
        ("/app/account/keys".into(), vec![("name", "X".into())]),
        (format!("/app/account/keys/{key_id}/revoke"), vec![]),
        (format!("/app/account/keys/{key_id}/rotate"), vec![]),
        (
            format!("/app/properties/{}", r.property),
            vec![
                ("name", "Hijacked".into()),
                ("sender_email", "x@b.example".into()),
            ],
        ),
    ]
}

#[tokio::test]
async fn every_form_refuses_a_missing_or_wrong_csrf_token_and_changes_nothing() {
    let api = Api::new().await;
    let (_, b) = accounts(&api).await;
    user(&api, b, "owner@b.example", Role::Owner, OWNER_PASSWORD).await;
    let r = records(&api, &api.other_key, "B", "Berta").await;
    let session = Session::sign_in(&api, "owner@b.example", OWNER_PASSWORD).await;
    let me = api.engine.users(b).await.unwrap()[0].id.to_string();
    let key = api.engine.api_keys(b).await.unwrap()[0].id.to_string();
    let before = api
        .engine
        .query()
        .booking(b, r.booking.parse().unwrap())
        .await
        .unwrap();
    for (path, fields) in every_form(&r, &me, &key) {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for csrf in [None, Some("0".repeat(64).as_str()), Some("")] {
            let reply = session.post(&path, &fields, csrf).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path} with {csrf:?}");
            assert!(
                html(&reply).contains("reload the page"),
                "{path}: a page that says why"
            );
        }
        // A browser telling that the form came from another site is refused too.
        let mut all = fields.clone();
        all.push(("csrf", &session.csrf));
        let body = serde_urlencoded::to_string(&all).unwrap();
        let reply = api
            .call_raw(
                "POST",
                &path,
                &body,
                &[
                    ("cookie", &session.cookie),
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("sec-fetch-site", "cross-site"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path} cross-site");
    }
    // Nothing changed: the booking, the property, the keys, the session itself.
    let after = api
        .engine
        .query()
        .booking(b, r.booking.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(after.version, before.version);
    let property = api
        .engine
        .query()
        .property(b, r.property.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(property.name, "Hotel B");
    assert_eq!(property.sms.monthly_limit, None);
    assert!(
        api.engine
            .api_keys(b)
            .await
            .unwrap()
            .iter()
            .all(|k| k.revoked_at.is_none())
    );
    assert_eq!(
        session.get("/app").await.status,
        StatusCode::OK,
        "still signed in"
    );
    // With the token, the same form works.
    let ok = session
        .submit(
            &format!("/app/bookings/{}/guest", r.booking),
            &[
                ("first_name", "Bea"),
                ("last_name", "Gast"),
                ("email", "gast@b.example"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", html(&ok));
}

#[tokio::test]
async fn a_staff_user_cannot_reach_owner_pages() {
    let api = Api::new().await;
    let (_, b) = accounts(&api).await;
    user(&api, b, "staff@b.example", Role::Staff, STAFF_PASSWORD).await;
    user(&api, b, "owner@b.example", Role::Owner, OWNER_PASSWORD).await;
    let r = records(&api, &api.other_key, "B", "Berta").await;
    let staff = Session::sign_in(&api, "staff@b.example", STAFF_PASSWORD).await;
    for path in [
        "/app/account".to_owned(),
        format!("/app/properties/{}", r.property),
        format!("/app/properties/{}/presets/pre_arrival", r.property),
    ] {
        let reply = staff.get(&path).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert!(html(&reply).contains("owners"), "{path}");
    }
    let owner_id = api
        .engine
        .users(b)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == Role::Owner)
        .unwrap()
        .id
        .to_string();
    let key = api.engine.api_keys(b).await.unwrap()[0].id.to_string();
    let owner_forms: Vec<(String, Vec<(&str, String)>)> = every_form(&r, &owner_id, &key)
        .into_iter()
        .filter(|(path, _)| {
            path.starts_with("/app/account")
                || path.starts_with("/app/properties")
                || path == "/app/sms"
                || path.starts_with("/app/channels")
        })
        .collect();
    assert_eq!(owner_forms.len(), 10);
    for (path, fields) in owner_forms {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = staff.submit(&path, &fields).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
    }
    // Staff still do the daily work: the SMS page shows, its settings are read-only.
    let sms = staff.get("/app/sms").await;
    assert_eq!(sms.status, StatusCode::OK);
    assert!(html(&sms).contains("Only owners can change these settings"));
    let users = api.engine.users(b).await.unwrap();
    assert_eq!(users.len(), 2, "no user was added");
    assert!(users.iter().any(|u| u.role == Role::Owner && !u.disabled));
}

/// Every page that shows one record.
fn record_pages(r: &Records) -> Vec<String> {
    vec![
        format!("/app/bookings/{}", r.booking),
        format!("/app/contacts/{}", r.contact),
        format!("/app/messages/{}", r.message),
        format!("/app/messages/{}/body", r.message),
        format!("/app/templates/{}", r.template),
        format!("/app/rules/{}", r.rule),
        format!("/app/properties/{}", r.property),
        format!("/app/properties/{}/presets/pre_arrival", r.property),
        format!("/app/inbound/{}", r.inbound),
    ]
}

/// The UI's routes as its source declares them (`.route("/app/…", …)`).
fn ui_routes() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/src/ui");
    let mut routes = Vec::new();
    for file in std::fs::read_dir(dir).unwrap() {
        let path = file.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        for part in text.split(".route(").skip(1) {
            let part = part.trim_start();
            if let Some(rest) = part.strip_prefix('"') {
                routes.push(rest[..rest.find('"').unwrap()].to_owned());
            }
        }
    }
    routes
}

#[test]
fn the_isolation_tables_cover_every_ui_route_that_takes_an_id() {
    let id = "01900000-0000-7000-8000-000000000000".to_owned();
    let r = Records {
        property: id.clone(),
        template: id.clone(),
        rule: id.clone(),
        booking: id.clone(),
        contact: id.clone(),
        message: id.clone(),
        connection: id.clone(),
        inbound: id.clone(),
    };
    let mut walked = record_pages(&r);
    walked.extend(every_form(&r, &id, &id).into_iter().map(|(path, _)| path));
    let routes = ui_routes();
    assert!(routes.len() > 30, "{routes:?}");
    for route in routes.iter().filter(|r| r.contains('{')) {
        // A reset link's token belongs to no account's records.
        if route.starts_with("/app/password-reset/") {
            continue;
        }
        let matches = |path: &String| {
            let (a, b): (Vec<&str>, Vec<&str>) =
                (route.split('/').collect(), path.split('/').collect());
            a.len() == b.len()
                && a.iter()
                    .zip(&b)
                    .all(|(x, y)| x == y || (x.starts_with('{') && !y.is_empty()))
        };
        assert!(
            walked.iter().any(matches),
            "{route} takes an id but no isolation table walks it: add it to record_pages or every_form"
        );
    }
}

#[tokio::test]
async fn user_a_never_sees_account_b_data_on_any_page() {
    let api = Api::new().await;
    let (a, b) = accounts(&api).await;
    user(&api, a, "owner@a.example", Role::Owner, OWNER_PASSWORD).await;
    user(&api, b, "owner@b.example", Role::Owner, OWNER_PASSWORD).await;
    let mine = records(&api, &api.key, "A", "Annegret").await;
    let theirs = records(&api, &api.other_key, "B", "Bernadette").await;
    let session = Session::sign_in(&api, "owner@a.example", OWNER_PASSWORD).await;
    let b_user = api.engine.users(b).await.unwrap()[0].id.to_string();
    let b_key = api.engine.api_keys(b).await.unwrap()[0].id.to_string();
    // Each of A's pages exists for A (the table covers real pages) ...
    for path in record_pages(&mine) {
        let status = session.get(&path).await.status;
        // The message body exists once the message is sent; planned, it has none.
        let expected = if path.ends_with("/body") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(status, expected, "{path} for its own account");
    }
    // ... and the same page for B's record is not found.
    for path in record_pages(&theirs) {
        let reply = session.get(&path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!html(&reply).contains("Bernadette"), "{path}");
    }
    // The lists and the pages that take a property show only A's data.
    for path in [
        "/app".to_owned(),
        "/app/bookings".into(),
        "/app/bookings?q=Gast".into(),
        "/app/messages".into(),
        "/app/templates".into(),
        "/app/rules".into(),
        format!("/app/rules?property={}", theirs.property),
        "/app/sms".into(),
        format!("/app/sms?property={}", theirs.property),
        "/app/channels".into(),
        "/app/mailboxes".into(),
        "/app/account".into(),
        "/app/bookings/new".into(),
    ] {
        let reply = session.get(&path).await;
        assert!(
            reply.status == StatusCode::OK || reply.status == StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.status
        );
        let page = html(&reply);
        for secret in [
            "Bernadette",
            "Hotel B",
            "Slevomat B",
            "Rezeption B",
            "Frage B",
            &theirs.booking,
            &theirs.property,
        ] {
            assert!(!page.contains(secret), "{path} shows {secret}");
        }
    }
    assert!(html(&session.get("/app/bookings").await).contains("Annegret"));
    // Every form aimed at B's records finds nothing and changes nothing.
    for (path, fields) in every_form(&theirs, &b_user, &b_key) {
        if !path.contains(&theirs.booking)
            && !path.contains(&theirs.contact)
            && !path.contains(&theirs.template)
            && !path.contains(&theirs.rule)
            && !path.contains(&theirs.connection)
            && !path.contains(&theirs.property)
            && !path.contains(&b_user)
            && !path.contains(&b_key)
            && !fields.iter().any(|(_, v)| *v == theirs.property)
        {
            continue;
        }
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = session.submit(&path, &fields).await;
        assert!(
            reply.status == StatusCode::NOT_FOUND
                || reply.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            reply.status
        );
        assert!(!html(&reply).contains("Bernadette"), "{path}");
    }
    let property = api
        .engine
        .query()
        .property(b, theirs.property.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(property.name, "Hotel B");
    assert!(
        api.engine
            .api_keys(b)
            .await
            .unwrap()
            .iter()
            .all(|k| k.revoked_at.is_none())
    );
    assert_eq!(
        api.engine
            .query()
            .connection(b, theirs.connection.parse().unwrap())
            .await
            .unwrap()
            .revoked_at,
        None
    );
    let consents = api
        .engine
        .consents(b, theirs.contact.parse().unwrap())
        .await
        .unwrap();
    assert!(
        consents.history.is_empty(),
        "no consent was recorded for B's guest"
    );
}

#[tokio::test]
async fn html_in_guest_names_and_templates_is_shown_as_text() {
    let api = Api::new().await;
    let (a, _) = accounts(&api).await;
    user(&api, a, "owner@a.example", Role::Owner, OWNER_PASSWORD).await;
    let evil = "<script>alert(1)</script>";
    let r = records(&api, &api.key, "A", evil).await;
    let t = api
        .call(
            "PUT",
            &format!("/api/v1/templates/{}", r.template),
            Some(&api.key),
            Some(&json!({"property_id": r.property, "name": "<img src=x onerror=alert(2)>", "variants": {"de": {"subject": "x", "html": "<p>x</p>"}}}).to_string()),
            &[],
        )
        .await;
    assert!(t.status.is_success(), "{:?}", t.body);
    let session = Session::sign_in(&api, "owner@a.example", OWNER_PASSWORD).await;
    for path in [
        "/app/bookings".to_owned(),
        format!("/app/bookings/{}", r.booking),
        format!("/app/contacts/{}", r.contact),
        "/app/templates".into(),
        format!("/app/templates/{}", r.template),
        "/app".into(),
    ] {
        let page = session.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let page = html(&page);
        assert!(
            !page.contains("<script>alert") && !page.contains("<img src=x"),
            "{path} runs the guest's HTML"
        );
    }
    assert!(
        html(&session.get("/app/bookings").await)
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
    );
}

#[tokio::test]
async fn signing_out_ends_the_session_and_a_reset_link_works_once() {
    let api = Api::new().await;
    let (a, _) = accounts(&api).await;
    user(&api, a, "owner@a.example", Role::Owner, OWNER_PASSWORD).await;
    let session = Session::sign_in(&api, "owner@a.example", OWNER_PASSWORD).await;
    let out = session.submit("/app/signout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.headers["location"], "/app/signin?done=signed-out");
    assert!(
        cookies_of(&out)
            .iter()
            .any(|c| c.starts_with("bellhop_session=;") && c.contains("Max-Age=0"))
    );
    assert_eq!(
        session.get("/app").await.status,
        StatusCode::SEE_OTHER,
        "the old cookie is dead"
    );

    // The reset form says the same for an unknown address and sends mail only for a user.
    let (form_cookie, token) = form_token(&api).await;
    for email in ["nobody@a.example", "owner@a.example"] {
        let body = serde_urlencoded::to_string([("form_token", token.as_str()), ("email", email)])
            .unwrap();
        let r = api
            .call_raw(
                "POST",
                "/app/password-reset",
                &body,
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("cookie", &form_cookie),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(html(&r).contains("If the address belongs to a user"));
    }
    let mails: Vec<_> = std::fs::read_dir(&api.staff_mail).unwrap().collect();
    assert_eq!(mails.len(), 1, "one mail, to the user");
    let raw = std::fs::read(mails[0].as_ref().unwrap().path()).unwrap();
    let mail = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        mail.to().unwrap().first().unwrap().address().unwrap(),
        "owner@a.example"
    );
    let text = mail.body_text(0).unwrap().into_owned();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("http://bellhop.test/app/password-reset/"))
        .unwrap();
    let path = link.trim_start_matches("http://bellhop.test");
    let set = |password: &'static str| {
        let body =
            serde_urlencoded::to_string([("form_token", token.as_str()), ("password", password)])
                .unwrap();
        let (path, cookie) = (path.to_owned(), form_cookie.clone());
        let api = &api;
        async move {
            api.call_raw(
                "POST",
                &path,
                &body,
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("cookie", &cookie),
                ],
            )
            .await
        }
    };
    let short = set("short").await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY, "too short");
    let done = set("a new password 2").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.headers["location"], "/app/signin?done=password-set");
    let again = set("a third password 3").await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the link works once"
    );
    assert!(html(&again).contains("not valid any more"));
    assert!(
        Session::try_sign_in(&api, "owner@a.example", OWNER_PASSWORD, &[])
            .await
            .is_err()
    );
    Session::sign_in(&api, "owner@a.example", "a new password 2").await;
    // A link is good for an hour only.
    let (_, token) = api
        .engine
        .request_password_reset("owner@a.example")
        .await
        .unwrap()
        .unwrap();
    api.clock.advance(jiff::SignedDuration::from_mins(61));
    assert!(
        api.engine
            .reset_password(&token, "yet another one 4")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_session_ends_after_twelve_idle_hours_and_a_disabled_user_is_out_at_once() {
    let api = Api::new().await;
    let (a, _) = accounts(&api).await;
    user(&api, a, "owner@a.example", Role::Owner, OWNER_PASSWORD).await;
    user(&api, a, "staff@a.example", Role::Staff, STAFF_PASSWORD).await;
    let owner = Session::sign_in(&api, "owner@a.example", OWNER_PASSWORD).await;
    let staff = Session::sign_in(&api, "staff@a.example", STAFF_PASSWORD).await;
    api.clock.advance(jiff::SignedDuration::from_hours(11));
    assert_eq!(
        owner.get("/app").await.status,
        StatusCode::OK,
        "used within 12 h: extended"
    );
    let staff_id = api
        .engine
        .users(a)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == Role::Staff)
        .unwrap()
        .id;
    let r = owner
        .submit(
            &format!("/app/account/users/{staff_id}"),
            &[("role", "staff"), ("disabled", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        staff.get("/app").await.status,
        StatusCode::SEE_OTHER,
        "disabled: signed out"
    );
    // The last owner cannot switch themselves off.
    let owner_id = api
        .engine
        .users(a)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == Role::Owner)
        .unwrap()
        .id;
    let r = owner
        .submit(
            &format!("/app/account/users/{owner_id}"),
            &[("role", "staff")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    api.clock.advance(jiff::SignedDuration::from_hours(13));
    assert_eq!(
        owner.get("/app").await.status,
        StatusCode::SEE_OTHER,
        "idle 13 h: signed out"
    );
}
