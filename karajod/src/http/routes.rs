//! The route table: paths and methods of SPEC 7 onto the access filters
//! and the handlers. Each route is boxed so the table compiles quickly.
//!
//! Invariant: a route rejects only with `not_found` before its path and
//! method matched, so the access and input errors of the route that did
//! match are the ones the client sees.

use std::sync::Arc;

use proto::JobKind;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Rejection};

use crate::http::api::{self, Action};
use crate::http::auth::{self, Authorised, Caller, Need, Principal, SignOver};
use crate::http::environment::Encoding;
use crate::http::error::{self, ApiError};
use crate::http::input::{Params, body_limited, raw_query};
use crate::http::webhook::{self, WebhookRequest};
use crate::http::{State, audit, login, metrics, public, runs, sse, status, ui, upcoming};

pub(super) type Route = BoxedFilter<(warp::reply::Response,)>;

pub(super) fn finish(r: Result<warp::reply::Response, ApiError>) -> warp::reply::Response {
    r.unwrap_or_else(ApiError::into_response)
}

/// The query string decoded into parameters (400 when malformed).
pub(super) fn query_params() -> impl Filter<Extract = (Params,), Error = Rejection> + Clone {
    raw_query().and_then(|q: String| async move { Params::parse(q.as_bytes()).map_err(warp::reject::custom) })
}

/// GET, and HEAD answered like it (hyper sends no body for HEAD).
pub fn get_or_head() -> impl Filter<Extract = (), Error = Rejection> + Copy {
    warp::get().or(warp::head()).unify()
}

/// `/karajo/api/<seg>/<...>`
pub(super) fn api_path(seg: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::path("karajo").and(warp::path("api")).and(warp::path(seg))
}

/// Every route: the karajo API and pages, then the public files.
pub fn router(state: Arc<State>) -> Route {
    let karajo = reads(state.clone())
        .or(crate::http::checks::routes(state.clone()))
        .unify()
        .or(mutations(state.clone()))
        .unify()
        .or(auth_routes(state.clone()))
        .unify()
        .or(pages(state.clone()))
        .unify()
        .boxed();
    let config = state.backend.config();
    let all = match public::routes(config.server.dir_public.as_deref()) {
        Some(public) => karajo.or(public).unify().boxed(),
        None => karajo,
    };
    all.recover(error::recover).unify().boxed()
}

fn reads(st: Arc<State>) -> Route {
    let s = st.clone();
    let environment = api_path("environment")
        .and(warp::path::end())
        .and(get_or_head())
        .and(auth::read(st.clone()))
        .and(warp::header::optional::<String>("accept-encoding"))
        .and(warp::header::optional::<String>("if-none-match"))
        .then(move |who: Principal, accept: Option<String>, inm: Option<String>| {
            let s = s.clone();
            let accept = accept.and_then(|a| warp::http::HeaderValue::from_str(&a).ok());
            let enc = if crate::serve::accepts_gzip(accept.as_ref()) { Encoding::Gzip } else { Encoding::Identity };
            async move {
                // A token limited to some jobs sees only those: its answer is
                // its own, never the shared cached one.
                if let Principal::Token(t) = who.clone()
                    && !t.jobs.is_empty()
                {
                    return finish(off_the_workers(&s, move |s| api::environment_of(&*s.backend, &t)).await);
                }
                match api::environment_unchanged(&*s.backend, &s.environment, enc, inm.as_deref()) {
                    Some(kept) => finish(kept),
                    None => {
                        finish(off_the_workers(&s, move |s| api::environment(&*s.backend, &s.environment, enc)).await)
                    }
                }
            }
        });
    let job = one(st.clone(), "job_exec", JobKind::Job);
    let http_job = one(st.clone(), "job_http", JobKind::JobHttp);
    let logs = log(st.clone(), "job_exec", JobKind::Job).or(log(st.clone(), "job_http", JobKind::JobHttp)).unify();
    let streams =
        stream(st.clone(), "job_exec", JobKind::Job).or(stream(st.clone(), "job_http", JobKind::JobHttp)).unify();
    let runs = runs::route(st.clone(), "job_exec", JobKind::Job)
        .or(runs::route(st.clone(), "job_http", JobKind::JobHttp))
        .unify();
    let environment = environment.or(runs).unify();
    let status = status::route(st.clone()).or(upcoming::route(st.clone())).unify();
    let s = st.clone();
    let audit = api_path("audit")
        .and(warp::path::end())
        .and(get_or_head())
        .and(auth::read_as(st, Need::Admin))
        .and(query_params())
        .then(move |_: Principal, q: Params| {
            let s = s.clone();
            async move { finish(audit::list(&s, &q).await) }
        });
    environment
        .or(status)
        .unify()
        .or(audit)
        .unify()
        .or(job)
        .unify()
        .or(http_job)
        .unify()
        .or(logs)
        .unify()
        .or(streams)
        .unify()
        .boxed()
}

/// Runs a read that costs milliseconds (`/environment` with 1,000 jobs:
/// ~850 KB of JSON) on the blocking pool, at most one per core at once:
/// the async workers keep answering other requests and firing timers
/// meanwhile, and no more than that many large answers are built at once.
/// Their memory is given back once such reads stop (see `trim.rs`).
async fn off_the_workers(st: &Arc<State>, read: impl FnOnce(&State) -> api::Reply + Send + 'static) -> api::Reply {
    let _permit = st.heavy_reads.acquire().await.map_err(|_| ApiError::Unavailable)?;
    let s = st.clone();
    let reply = tokio::task::spawn_blocking(move || read(&s)).await;
    st.trimmer.read_ended();
    reply.map_err(|e| {
        tracing::error!("a read on the blocking pool failed: {e}");
        ApiError::Internal
    })?
}

fn one(st: Arc<State>, seg: &'static str, kind: JobKind) -> Route {
    api_path(seg)
        .and(warp::path::end())
        .and(get_or_head())
        .and(auth::read(st.clone()))
        .and(query_params())
        .map(move |_: Principal, q: Params| {
            let b = &*st.backend;
            finish(match kind {
                JobKind::Job => api::job(b, &q),
                JobKind::JobHttp => api::http_job(b, &q),
            })
        })
        .boxed()
}

fn log(st: Arc<State>, seg: &'static str, kind: JobKind) -> Route {
    api_path(seg)
        .and(warp::path("log"))
        .and(warp::path::end())
        .and(get_or_head())
        .and(auth::read(st.clone()))
        .and(query_params())
        .then(move |_: Principal, q: Params| {
            let s = st.clone();
            // Opening the file and reading its length are disk I/O: not on the async workers.
            async move {
                let reply = tokio::task::spawn_blocking(move || api::log(&*s.backend, kind, &q)).await;
                finish(reply.unwrap_or_else(|e| {
                    tracing::error!("a log read on the blocking pool failed: {e}");
                    Err(ApiError::Internal)
                }))
            }
        })
        .boxed()
}

fn stream(st: Arc<State>, seg: &'static str, kind: JobKind) -> Route {
    api_path(seg)
        .and(warp::path("log"))
        .and(warp::path("stream"))
        .and(warp::path::end())
        .and(get_or_head())
        .and(auth::read(st.clone()))
        .and(auth::caller())
        .and(query_params())
        .map(move |_: Principal, caller, q: Params| finish(sse::stream(&st, caller, kind, &q)))
        .boxed()
}

fn mutations(st: Arc<State>) -> Route {
    let mut routes: Option<Route> = None;
    for kind in [JobKind::Job, JobKind::JobHttp] {
        for action in [Action::Pause, Action::Resume, Action::Cancel, Action::Run] {
            let r = mutation(st.clone(), kind, action);
            routes = Some(match routes {
                None => r,
                Some(prev) => prev.or(r).unify().boxed(),
            });
        }
    }
    let s = st.clone();
    let hook = api_path("job_exec")
        .and(warp::path("run"))
        .and(warp::path::tail())
        .and_then(|tail: warp::path::Tail| async move {
            if tail.as_str().is_empty() { Err(warp::reject::not_found()) } else { Ok(tail.as_str().to_string()) }
        })
        .and(warp::post())
        .and(auth::caller())
        .and(warp::header::headers_cloned())
        .and(body_limited(st.max_body_bytes))
        .map(move |tail, caller, headers, body| {
            finish(webhook::handle(&s, WebhookRequest { caller, tail, headers, body }))
        });
    let s = st.clone();
    let reload = api_path("reload")
        .and(warp::path::end())
        .and(warp::post())
        .and(auth::mutation(st, SignOver::Body, "reload".into(), Need::Admin))
        .then(move |a: Authorised| {
            let s = s.clone();
            async move {
                let r = crate::http::reload::reload(&s).await;
                s.record(&a.caller, Some(&a.principal), &a.action, "", &r);
                finish(r)
            }
        });
    routes.expect("eight routes").or(hook).unify().or(reload).unify().boxed()
}

fn mutation(st: Arc<State>, kind: JobKind, action: Action) -> Route {
    let (seg, over) = match kind {
        JobKind::Job => ("job_exec", SignOver::Body),
        JobKind::JobHttp => ("job_http", SignOver::Query),
    };
    let scope = format!("{seg}/{}", action.as_str());
    api_path(seg)
        .and(warp::path(action.as_str()))
        .and(warp::path::end())
        .and(warp::post())
        .and(auth::mutation(st.clone(), over, scope, Need::Operate))
        .map(move |a: Authorised| {
            let actor = audit::actor_of(&a.caller, Some(&a.principal));
            let r = api::act(&*st.backend, kind, action, &a.params, actor.clone());
            st.record_as(&a.caller, actor, &a.action, a.params.get("id").unwrap_or(""), &r);
            finish(r)
        })
        .boxed()
}

fn auth_routes(st: Arc<State>) -> Route {
    let s = st.clone();
    let login = api_path("auth")
        .and(warp::path("login"))
        .and(warp::path::end())
        .and(warp::post())
        .and(auth::caller())
        .and(body_limited(st.max_body_bytes))
        .then(move |caller: Caller, body: bytes::Bytes| {
            let s = s.clone();
            async move {
                match Params::parse(&body) {
                    Ok(form) => finish(login::login(s, caller, form).await),
                    Err(e) => e.into_response(),
                }
            }
        });
    let s = st.clone();
    let logout = api_path("auth")
        .and(warp::path("logout"))
        .and(warp::path::end())
        .and(warp::post())
        .and(auth::caller())
        .and(auth::session(st.clone()))
        .map(move |caller, sess| login::logout(&s, caller, sess));
    let session = api_path("auth")
        .and(warp::path("session"))
        .and(warp::path::end())
        .and(get_or_head())
        .and(auth::session(st.clone()))
        .map(move |sess| finish(login::session(&st, sess)));
    login.or(logout).unify().or(session).unify().boxed()
}

fn pages(st: Arc<State>) -> Route {
    let s = st.clone();
    let health = warp::path!("karajo" / "health").and(get_or_head()).map(move || api::health(&*s.backend));
    let s = st.clone();
    let metrics = warp::path!("karajo" / "metrics").and(get_or_head()).and(auth::credentials(st.clone())).map(
        move |c: auth::Credentials| {
            let config = s.backend.config();
            let ok = metrics::bearer_ok(config.server.metrics_token.as_ref(), c.authorization.as_deref())
                || auth::read_principal(&s, &c).is_ok();
            if !ok {
                return ApiError::AuthRequired.into_response();
            }
            let checks = s.backend.checks().map(|c| c.census()).unwrap_or_default();
            let now = metrics::Counts {
                running: s.backend.running_count(),
                dropped: &s.backend.dropped_triggers(),
                audit_lost: &s.audit.failures_by_sink(),
                notifications: &s.notify_counts.snapshot(),
                checks: &checks,
            };
            let mut resp = warp::reply::Response::new(s.metrics.render(&now).into());
            let ct = warp::http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
            resp.headers_mut().insert(warp::http::header::CONTENT_TYPE, ct);
            resp
        },
    );
    let login_page = warp::path("karajo")
        .and(warp::path::end().or(warp::path!("index.html")).unify())
        .and(get_or_head())
        .and(if_none_match())
        .map(|tag: Option<String>| ui::reply(ui::asset("").expect("the login page is embedded"), tag.as_deref()));
    let app = warp::path("karajo")
        .and(warp::path("app"))
        .and(warp::path::tail())
        .and(get_or_head())
        .and(auth::credentials(st.clone()))
        .and(if_none_match())
        .map(move |tail: warp::path::Tail, c: auth::Credentials, tag: Option<String>| {
            app_page(&st, tail.as_str(), &c, tag.as_deref())
        });
    health.or(metrics).unify().or(login_page).unify().or(app).unify().boxed()
}

/// A dashboard page: without a session (when users exist) the browser is
/// sent to the login page.
fn app_page(st: &State, tail: &str, c: &auth::Credentials, if_none_match: Option<&str>) -> warp::reply::Response {
    if auth::read_principal(st, c).is_err() {
        let mut resp = warp::reply::Response::new(bytes::Bytes::new().into());
        *resp.status_mut() = StatusCode::SEE_OTHER;
        resp.headers_mut().insert(warp::http::header::LOCATION, warp::http::HeaderValue::from_static("/karajo/"));
        return resp;
    }
    let key = format!("app/{tail}");
    match ui::asset(&key) {
        Some(a) => ui::reply(a, if_none_match),
        None => ApiError::NotFound.into_response(),
    }
}

/// The browser's `If-None-Match`, so an unchanged dashboard file answers 304.
fn if_none_match() -> impl Filter<Extract = (Option<String>,), Error = Rejection> + Clone {
    warp::header::optional::<String>("if-none-match")
}
