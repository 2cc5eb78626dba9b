//! The authorization matrix: every route the server has, called by every kind of caller, with
//! the status each must get written down in one table. The routes are read from the router's
//! source, so a route added without a row here fails the test. Runs on SQLite and PostgreSQL.
//!
//! Callers: nobody, a garbage token, an expired and a signed-out token, two students (A owns
//! the resources named in the paths; B is another student), a reviewer, a supervisor and an
//! administrator. Bodies are empty (`{}` for JSON routes): a caller who gets past the
//! authorization meets a validation or state error (400/409/415/422), never a change.

// Stories are tests: a failed unwrap is a failed story.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

use std::collections::BTreeSet;
use std::path::Path;

use gradphoto_domain::role::Role;
use gradphoto_domain::state::CaseState;
use support::{fixture, flows, photos, Db, TestServer};

stories!(every_route_answers_every_caller_as_the_table_says);

/// The callers, in the order of each row's statuses.
const CALLERS: [&str; 9] = [
    "nobody",
    "garbage",
    "expired",
    "signed_out",
    "student_a",
    "student_b",
    "reviewer",
    "supervisor",
    "admin",
];

/// `(method, route, statuses by caller)`, in the order they are called. Path parameters:
/// `{case_id}` is a case waiting for review (`{student_id}` its student, `{attempt_id}` its
/// submitted photo), `{id}` student A's photo attempt, `{order_id}` any order, `{provider}`
/// the sandbox, `{kind}` the ID card's front, `{school_id}` the students' school.
#[rustfmt::skip]
const TABLE: &[(&str, &str, [u16; 9])] = &[
    //                                                        none garb  exp  out   sA   sB  rev  sup  adm
    ("GET",  "/healthz",                                     [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET",  "/api/public/school",                           [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST", "/api/student/claim",                           [422, 422, 422, 422, 422, 422, 422, 422, 422]),
    ("GET",  "/api/student/case",                            [401, 401, 401, 401, 200, 200, 403, 403, 403]),
    ("POST", "/api/student/consent",                         [401, 401, 401, 401, 422, 422, 403, 403, 403]),
    ("POST", "/api/student/identity",                        [401, 401, 401, 401, 400, 400, 403, 403, 403]),
    ("POST", "/api/student/confirm",                         [401, 401, 401, 401, 409, 409, 403, 403, 403]),
    ("POST", "/api/student/payment",                         [401, 401, 401, 401, 409, 409, 403, 403, 403]),
    ("POST", "/api/student/attempts",                        [401, 401, 401, 401, 400, 400, 403, 403, 403]),
    ("GET",  "/api/student/attempts/{id}",                   [401, 401, 401, 401, 200, 404, 403, 403, 403]),
    ("GET",  "/api/student/attempts/{id}/standardized.jpg",  [401, 401, 401, 401, 200, 404, 403, 403, 403]),
    ("GET",  "/api/student/attempts/{id}/original",          [401, 401, 401, 401, 200, 404, 403, 403, 403]),
    ("POST", "/api/student/submit",                          [401, 401, 401, 401, 422, 422, 403, 403, 403]),
    ("POST", "/api/student/withdraw",                        [401, 401, 401, 401, 409, 409, 403, 403, 403]),
    ("POST", "/api/student/retake",                          [401, 401, 401, 401, 409, 409, 403, 403, 403]),
    ("GET",  "/api/payments/sandbox/pay/{order_id}",         [403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/payments/sandbox/pay/{order_id}",         [403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/payments/{provider}/callback",            [401, 401, 401, 401, 401, 401, 401, 401, 401]),
    ("GET",  "/api/review/queue",                            [401, 401, 401, 401, 403, 403, 200, 200, 403]),
    ("POST", "/api/review/claim",                            [401, 401, 401, 401, 403, 403, 400, 400, 403]),
    ("GET",  "/api/review/items/{case_id}",                  [401, 401, 401, 401, 403, 403, 200, 200, 403]),
    ("POST", "/api/review/items/{case_id}/renew",            [401, 401, 401, 401, 403, 403, 409, 409, 403]),
    ("POST", "/api/review/items/{case_id}/release",          [401, 401, 401, 401, 403, 403, 409, 409, 403]),
    ("GET",  "/api/review/items/{case_id}/id-number",        [401, 401, 401, 401, 403, 403, 403, 400, 403]),
    ("GET",  "/api/review/items/{case_id}/images/{kind}",    [401, 401, 401, 401, 403, 403, 403, 400, 403]),
    ("POST", "/api/review/items/{case_id}/decision",         [401, 401, 401, 401, 403, 403, 422, 422, 403]),
    ("GET",  "/api/review/sync",                             [401, 401, 401, 401, 403, 403, 200, 200, 403]),
    ("POST", "/api/supervisor/items/{case_id}/override",     [401, 401, 401, 401, 403, 403, 403, 422, 403]),
    ("GET",  "/api/supervisor/audit",                        [401, 401, 401, 401, 403, 403, 403, 200, 403]),
    ("GET",  "/api/supervisor/audit/verify",                 [401, 401, 401, 401, 403, 403, 403, 200, 403]),
    ("GET",  "/api/supervisor/audit/export",                 [401, 401, 401, 401, 403, 403, 403, 200, 403]),
    ("POST", "/api/supervisor/students/{student_id}/id-number", [401, 401, 401, 401, 403, 403, 403, 422, 403]),
    ("GET",  "/api/supervisor/cases/{case_id}/timeline",     [401, 401, 401, 401, 403, 403, 403, 200, 403]),
    ("GET",  "/api/supervisor/cases/{case_id}/attempts/{attempt_id}/standardized.jpg", [401, 401, 401, 401, 403, 403, 403, 200, 403]),
    ("GET",  "/api/supervisor/stats",                        [401, 401, 401, 401, 403, 403, 403, 200, 403]),
    ("GET",  "/api/supervisor/rereviews",                    [401, 401, 401, 401, 403, 403, 403, 200, 403]),
    ("GET",  "/api/supervisor/rereviews/reviewers",          [401, 401, 401, 401, 403, 403, 403, 200, 403]),
    ("GET",  "/api/supervisor/rereviews/{id}",               [401, 401, 401, 401, 403, 403, 403, 404, 403]),
    ("POST", "/api/supervisor/rereviews/{id}/decision",      [401, 401, 401, 401, 403, 403, 403, 422, 403]),
    ("GET",  "/api/supervisor/overrides",                    [401, 401, 401, 401, 403, 403, 403, 200, 403]),
    ("POST", "/api/supervisor/overrides/{id}/confirm",       [401, 401, 401, 401, 403, 403, 403, 404, 403]),
    ("POST", "/api/supervisor/overrides/{id}/decline",       [401, 401, 401, 401, 403, 403, 403, 422, 403]),
    ("GET",  "/api/supervisor/stats?from=2026-11-01&to=2026-11-30&school={school_id}&college=计算机学院", [401, 401, 401, 401, 403, 403, 403, 200, 403]),
    ("GET",  "/api/supervisor/stats?from=2026-12-01&to=2026-11-01", [401, 401, 401, 401, 403, 403, 403, 400, 403]),
    ("POST", "/api/admin/roster/check",                      [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("POST", "/api/admin/roster/import",                     [401, 401, 401, 401, 403, 403, 403, 403, 422]),
    ("POST", "/api/admin/invites",                           [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("POST", "/api/admin/users",                             [401, 401, 401, 401, 403, 403, 403, 403, 422]),
    ("GET",  "/api/admin/users",                             [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("POST", "/api/admin/users/{user_id}",                   [401, 401, 401, 401, 403, 403, 403, 403, 404]),
    ("POST", "/api/admin/users/{user_id}/password",          [401, 401, 401, 401, 403, 403, 403, 403, 404]),
    ("POST", "/api/admin/cases/{case_id}/unbind",            [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("GET",  "/api/admin/schools",                           [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("GET",  "/api/admin/schools/{school_id}/policy",        [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("PUT",  "/api/admin/schools/{school_id}/policy",        [401, 401, 401, 401, 403, 403, 403, 403, 422]),
    ("GET",  "/api/admin/schools/{school_id}/policy/versions", [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("GET",  "/api/admin/schools/{school_id}/progress",      [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("GET",  "/api/admin/schools/{school_id}/progress/students?stage=submitted", [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("GET",  "/api/admin/schools/{school_id}/progress/students.csv", [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("POST", "/api/admin/schools/{school_id}/codes",         [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("GET",  "/api/admin/schools/{school_id}/codes/sheet.pdf?stage=code_not_opened", [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("GET",  "/api/admin/schools/{school_id}/codes/links.csv", [401, 401, 401, 401, 403, 403, 403, 403, 200]),
    ("GET",  "/api/auth/me",                                 [401, 401, 401, 401, 403, 403, 200, 200, 200]),
    ("POST", "/api/auth/login",                              [422, 422, 422, 422, 422, 422, 422, 422, 422]),
    // Last: it ends the caller's session.
    ("POST", "/api/auth/logout",                             [401, 401, 401, 401, 403, 403, 200, 200, 200]),
];

/// Every `(method, route)` the router declares, read from its source.
fn declared_routes() -> BTreeSet<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                files.push(p);
            }
        }
    }
    let mut routes = BTreeSet::new();
    for file in files {
        let src = std::fs::read_to_string(&file).unwrap();
        let mut rest = src.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let open = rest.find('"').unwrap();
            let close = open + 1 + rest[open + 1..].find('"').unwrap();
            let path = &rest[open + 1..close];
            // The handler expression runs to the `)` closing `.route(`.
            let mut depth = 1;
            let mut end = close;
            for (i, c) in rest[close..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = close + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let handlers = &rest[close..end];
            for (token, method) in [("get(", "GET"), ("post(", "POST"), ("put(", "PUT")] {
                let called = handlers.match_indices(token).any(|(i, _)| {
                    i == 0 || !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if called {
                    routes.insert((method.to_string(), path.to_string()));
                }
            }
        }
    }
    routes
}

#[test]
fn every_declared_route_has_a_row() {
    let declared = declared_routes();
    assert!(declared.len() > 30, "{declared:?}");
    let tabled: BTreeSet<(String, String)> = TABLE
        .iter()
        // Rows may repeat a route with query parameters.
        .map(|(m, p, _)| (m.to_string(), p.split('?').next().unwrap_or(p).to_string()))
        .collect();
    let missing: Vec<_> = declared.difference(&tabled).collect();
    let stale: Vec<_> = tabled.difference(&declared).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without a row: {missing:?}; rows without a route: {stale:?}"
    );
}

async fn every_route_answers_every_caller_as_the_table_says(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let base = server.base_url.clone();
    let fx = fixture::seed(state, 4, &fixture::policy(0)).await;
    let anon = server.client();
    let (sa, sb, sp, sx) = (
        &fx.students[0],
        &fx.students[1],
        &fx.students[2],
        &fx.students[3],
    );

    // Student A: ready, with a checked photo and a (waived) order.
    let a = flows::to_ready(&anon, sa).await;
    let attempt = flows::upload_checked(&a, photos::portrait()).await;
    // Sandbox pay links open with their ticket only; no caller's token stands in for it.
    let order_id = "any-order";
    // Student B: at the same step as A, with nothing of A's.
    let b = flows::to_ready(&anon, sb).await;
    // A case waiting for review, held by nobody.
    flows::to_pending(&anon, sp).await;
    // An expired student session.
    let x = flows::claim(&anon, sx).await;
    let expired = x.token().unwrap().to_string();
    sqlx::query("UPDATE sessions SET expires_at = 0 WHERE token_hash = $1")
        .bind(gradphoto_server::store::sessions::token_hash(&expired))
        .execute(state.store.pool())
        .await
        .unwrap();
    let mut out = fixture::staff(state, &base, "leaver", Role::Reviewer).await;
    let signed_out = out.token().unwrap().to_string();
    out.logout().await.unwrap();
    let reviewer = fixture::staff(state, &base, "reviewer1", Role::Reviewer).await;
    let supervisor = fixture::staff(state, &base, "supervisor1", Role::Supervisor).await;
    let admin = fixture::staff(state, &base, "admin1", Role::Admin).await;
    let tokens: [Option<String>; 9] = [
        None,
        Some("not-a-token".into()),
        Some(expired),
        Some(signed_out),
        a.token().map(str::to_string),
        b.token().map(str::to_string),
        reviewer.token().map(str::to_string),
        supervisor.token().map(str::to_string),
        admin.token().map(str::to_string),
    ];
    assert_eq!(
        a.student_case().await.unwrap().state,
        CaseState::Ready,
        "A's state is what the table assumes"
    );

    let pending = gradphoto_server::store::cases::get(&state.store, &sp.case_id)
        .await
        .unwrap()
        .unwrap();
    let student_id = pending.student_id;
    let submitted_attempt = pending.submitted_attempt_id.unwrap();
    let http = reqwest::Client::new();
    let mut wrong = Vec::new();
    for (method, route, expected) in TABLE {
        let path = route
            .replace("{case_id}", &sp.case_id)
            .replace("{student_id}", &student_id)
            .replace("{attempt_id}", &submitted_attempt)
            .replace("{id}", &attempt.id)
            .replace("{order_id}", order_id)
            .replace("{provider}", "sandbox")
            .replace("{kind}", "id_front")
            .replace("{school_id}", &fx.school_id)
            // No such account: the call reaches the lookup and changes nothing.
            .replace("{user_id}", "no-such-account");
        for (who, (token, want)) in tokens.iter().zip(expected).enumerate() {
            let mut req = match *method {
                "GET" => http.get(format!("{base}{path}")),
                "PUT" => http
                    .put(format!("{base}{path}"))
                    .header("content-type", "application/json")
                    .body("{}"),
                _ => http
                    .post(format!("{base}{path}"))
                    .header("content-type", "application/json")
                    .body("{}"),
            };
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let got = req.send().await.unwrap().status().as_u16();
            if got != *want {
                wrong.push(format!(
                    "{method} {route} as {}: {got}, not {want}",
                    CALLERS[who]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    server.stop().await;
}
