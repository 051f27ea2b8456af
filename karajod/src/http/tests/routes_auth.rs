//! Sessions, CSRF, login rate limiting, the dashboard redirect and the
//! trusted control-socket caller.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::fake::{Fake, config};
use crate::http::auth::Caller;
use crate::http::session::tests::ManualClock;
use crate::http::{State, StateOptions, router};

struct Ctx {
    st: Arc<State>,
    clock: Arc<ManualClock>,
}

fn setup() -> Ctx {
    let hash = bcrypt::hash("pw", 4).unwrap();
    let fake = Fake::new(config(vec![("alice", &hash)], None));
    let clock = ManualClock::at(chrono::Utc::now());
    let st = State::new(fake, StateOptions { clock: clock.clone(), ..StateOptions::default() });
    Ctx { st, clock }
}

fn tcp() -> Caller {
    Caller::Tcp("10.0.0.1:1234".parse().unwrap())
}

async fn login(c: &Ctx, password: &str) -> (u16, Value, Option<String>) {
    let r = warp::test::request()
        .method("POST")
        .path("/karajo/api/auth/login")
        .extension(tcp())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name=alice&password={password}"))
        .reply(&router(c.st.clone()))
        .await;
    let cookie = r.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), serde_json::from_slice(r.body()).unwrap(), cookie)
}

async fn call(c: &Ctx, method: &str, path: &str, cookie: Option<&str>, csrf: Option<&str>) -> (u16, Value) {
    let mut req = warp::test::request().method(method).path(path).extension(tcp());
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    if let Some(csrf) = csrf {
        req = req.header("x-karajo-csrf", csrf);
    }
    let r = req.body("id=alpha").reply(&router(c.st.clone())).await;
    (r.status().as_u16(), serde_json::from_slice(r.body()).unwrap_or(Value::Null))
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn with_users_the_api_needs_a_session() {
    let c = setup();
    let (s, v) = call(&c, "GET", "/karajo/api/environment", None, None).await;
    assert_eq!((s, v["name"].as_str()), (401, Some("ERR_AUTH_REQUIRED")));
    let (s, v, cookie) = login(&c, "wrong").await;
    assert_eq!((s, v["name"].as_str(), cookie), (400, Some("ERR_AUTH_LOGIN"), None));
    let (s, v, cookie) = login(&c, "pw").await;
    assert_eq!(s, 200);
    let set = cookie.unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    let csrf = v["data"]["csrf_token"].as_str().unwrap().to_string();
    let cookie = cookie_pair(&set);
    let (s, _) = call(&c, "GET", "/karajo/api/environment", Some(&cookie), None).await;
    assert_eq!(s, 200);
    let (s, v) = call(&c, "GET", "/karajo/api/auth/session", Some(&cookie), None).await;
    assert_eq!((s, v["data"]["name"].as_str(), v["data"]["csrf_token"].as_str()), (200, Some("alice"), Some(&*csrf)));
    let (s, _) = call(&c, "POST", "/karajo/api/auth/logout", Some(&cookie), None).await;
    assert_eq!(s, 200);
    let (s, _) = call(&c, "GET", "/karajo/api/auth/session", Some(&cookie), None).await;
    assert_eq!(s, 401);
    let (s, _) = call(&c, "GET", "/karajo/api/environment", Some(&cookie), None).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn sessions_expire_after_24_hours() {
    let c = setup();
    let (_, _, cookie) = login(&c, "pw").await;
    let cookie = cookie_pair(&cookie.unwrap());
    c.clock.advance(Duration::from_secs(24 * 3600 - 1));
    assert_eq!(call(&c, "GET", "/karajo/api/environment", Some(&cookie), None).await.0, 200);
    c.clock.advance(Duration::from_secs(1));
    assert_eq!(call(&c, "GET", "/karajo/api/environment", Some(&cookie), None).await.0, 401);
}

#[tokio::test]
async fn cookie_mutations_need_the_csrf_header() {
    let c = setup();
    let (_, v, cookie) = login(&c, "pw").await;
    let cookie = cookie_pair(&cookie.unwrap());
    let csrf = v["data"]["csrf_token"].as_str().unwrap().to_string();
    let (s, v) = call(&c, "POST", "/karajo/api/job_exec/pause", Some(&cookie), None).await;
    assert_eq!((s, v["name"].as_str()), (403, Some("ERR_CSRF")));
    let (s, _) = call(&c, "POST", "/karajo/api/job_exec/pause", Some(&cookie), Some("bad")).await;
    assert_eq!(s, 403);
    let (s, v) = call(&c, "POST", "/karajo/api/job_exec/pause", Some(&cookie), Some(&csrf)).await;
    assert_eq!((s, v["data"]["status"].as_str()), (200, Some("paused")));
    let (s, _) = call(&c, "POST", "/karajo/api/job_http/pause?id=ping", Some(&cookie), Some(&csrf)).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn failed_logins_are_rate_limited_per_address() {
    let c = setup();
    for _ in 0..crate::http::limit::MAX_LOGIN_FAILURES {
        assert_eq!(login(&c, "wrong").await.0, 400);
    }
    let (s, v, _) = login(&c, "pw").await;
    assert_eq!((s, v["name"].as_str()), (429, Some("ERR_TOO_MANY_REQUESTS")));
    c.clock.advance(crate::http::limit::LOGIN_WINDOW);
    assert_eq!(login(&c, "pw").await.0, 200);
}

#[tokio::test]
async fn dashboard_pages_redirect_to_login_without_a_session() {
    let c = setup();
    let r = warp::test::request().path("/karajo/app/").extension(tcp()).reply(&router(c.st.clone())).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/karajo/");
    let r = warp::test::request().path("/karajo/").reply(&router(c.st.clone())).await;
    assert_eq!(r.status(), 200, "the login page is public");
    let (_, _, cookie) = login(&c, "pw").await;
    let r = warp::test::request()
        .path("/karajo/app/")
        .header("cookie", cookie_pair(&cookie.unwrap()))
        .reply(&router(c.st.clone()))
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_control_socket_is_trusted() {
    let c = setup();
    let sock = Caller::Socket { uid: 1000, pid: Some(42) };
    let r = warp::test::request().path("/karajo/api/environment").extension(sock).reply(&router(c.st.clone())).await;
    assert_eq!(r.status(), 200);
    let r = warp::test::request()
        .method("POST")
        .path("/karajo/api/job_exec/pause")
        .extension(sock)
        .body("id=alpha")
        .reply(&router(c.st.clone()))
        .await;
    assert_eq!(r.status(), 200);
    let r = warp::test::request()
        .method("POST")
        .path("/karajo/api/job_exec/run/alpha")
        .extension(sock)
        .body("{}")
        .reply(&router(c.st.clone()))
        .await;
    assert_eq!(r.status(), 412, "paused above; the socket skips only the signature");
}
