"""`triage serve`: the staff review app (FastAPI over triage.store).

Every page but /login needs a session (an HttpOnly, SameSite=Strict cookie whose sha256 is the
session's key in the database; Secure off loopback); failed logins are throttled per name and
client, per name and per client. Every form carries a CSRF token: the session's own, or, on the
login form, a double-submit cookie holding a token this process signed. Requests naming another
Host than the app's are refused (DNS rebinding). Images are served only by photo id from the
database. Pages show no text from the address, only messages chosen by a code. Security headers
on every response: a content security policy allowing only this origin (no inline script: the
keyboard shortcuts are /static/review.js), no framing, no sniffing, no referrer, no caching.
Binds to 127.0.0.1 unless told otherwise. Blocking work (database, password hashing, zips) never
runs on the event loop. Pages are templates/*.html (Jinja2, autoescaped: names, notes, paths and
summaries are text, never markup).

Review: the queue lists seek-care first, then monitor, then a sample of normal photos (with the
patient, if any); a photo's page shows the thumbnail, the overlay, the level, the summary and
quality issues, the same patient's other photos in day order (thumbnail, day, level, current
decision, each a link to its page) and the decisions so far; the reviewer confirms (c) or sets normal / monitor / seek-care (n / m / s),
with an optional note, and goes on to the next photo not yet reviewed.
"""

from __future__ import annotations

import secrets

import anyio.to_thread
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..decide.config import LEVEL_TITLES
from ..util.templates import environment
from . import config, guard, store

COOKIE = "triage_session"
LOGIN_CSRF = "triage_login_csrf"
TITLES = LEVEL_TITLES
LOGIN_MESSAGES = {"1": "Wrong name or password.", "expired": "The login form had expired: log in again."}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

CSS = """
body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#f4f4f6;color:#1d1d1f}
header{background:#fff;border-bottom:1px solid #ddd;padding:8px 16px;display:flex;gap:16px;align-items:center}
main{max-width:1100px;margin:0 auto;padding:12px 16px}
.disclaimer{color:#6b5300;font-size:13px}
table{border-collapse:collapse;background:#fff;width:100%}td,th{border-bottom:1px solid #eee;padding:4px 8px;text-align:left}
.badge{color:#fff;border-radius:4px;padding:1px 8px;font-weight:600}
.seek-care{background:#c62828}.monitor{background:#b86e00}.normal{background:#2e7d32}
.imgs img{max-width:480px;width:48%;border-radius:4px;margin-right:1%}
.keys{font-size:13px;color:#555}kbd{border:1px solid #aaa;border-radius:3px;padding:0 4px;background:#fff}
form.decide button{font-size:16px;margin-right:6px;padding:6px 12px}
.error{color:#b00020}
.course{display:flex;gap:8px;flex-wrap:wrap;list-style:none;padding:0}
.course li{width:130px;font-size:13px;background:#fff;border-radius:4px;padding:4px}
.course li.this{outline:2px solid #1d1d1f}.course img{width:130px;height:auto;border-radius:4px;display:block}
.pid{font-family:ui-monospace,monospace;word-break:break-all}
"""

REVIEW_JS = """
document.addEventListener('keydown', function (e) {
  if (e.target.tagName === 'TEXTAREA' || e.target.tagName === 'INPUT' || e.ctrlKey || e.metaKey || e.altKey) return;
  var key = {c: 'confirm', n: 'normal', m: 'monitor', s: 'seek-care'}[e.key];
  if (!key) return;
  var form = document.querySelector('form.decide');
  if (!form) return;
  var level = key === 'confirm' ? form.dataset.model : key;
  var input = document.createElement('input');
  input.type = 'hidden'; input.name = 'level'; input.value = level;
  form.appendChild(input);
  e.preventDefault();
  form.submit();
});
"""

_TEMPLATES = environment(__package__)  # templates/*.html: each extends base.html


def _page(template: str, title: str, sess: dict | None = None, **values) -> HTMLResponse:
    """A page from templates/<template> (autoescaped), with the logout form when `sess` is a session."""
    page = _TEMPLATES.get_template(template).render(
        title=title, titles=TITLES, user=sess["name"] if sess else None, csrf=sess["csrf"] if sess else None, **values
    )
    return HTMLResponse(page)


def _upload_message(done: str, added: int, updated: int) -> str:
    """The upload page's message for the code the import redirected with (never text from the address)."""
    if done == "again":
        return "this run was imported already: nothing added"
    if done != "imported":
        return ""
    return f"{added} photos added" + (f", {updated} imported before updated (their decisions kept)" if updated else "")


def create_app(
    db_url: str | None = None, *, host: str = "127.0.0.1", allowed_hosts=(), secure_cookies: bool | None = None
) -> FastAPI:
    """The app on the database at db_url. host: the address it is bound to; allowed_hosts: more
    names staff reach it by; secure_cookies: Secure cookies (default: when host is not loopback)."""
    engine = store.open_store(db_url)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine
    hosts = guard.allowed_hosts(host, allowed_hosts)
    secure = not guard.is_loopback(host) if secure_cookies is None else secure_cookies
    login_tokens = guard.LoginTokens()
    # blocking work runs in threads (plain `def` handlers, or these limiters from async ones)
    hashing = anyio.CapacityLimiter(config.PASSWORD_HASHES_AT_ONCE)
    importing = anyio.CapacityLimiter(config.IMPORTS_AT_ONCE)

    @app.middleware("http")
    async def known_host(request: Request, call_next):
        if guard.host_name(request.headers.get("host", "")) not in hosts:
            return Response("unknown Host: name it with `triage serve --allowed-host NAME`", status_code=400)
        return await call_next(request)

    @app.middleware("http")  # added last: the outermost, so every response has the headers
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in HEADERS.items():
            response.headers[k] = v
        return response

    def session(request: Request) -> dict | None:
        return store.session_of(engine, request.cookies.get(COOKIE))

    def to_login() -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    def set_cookie(resp: Response, name: str, value: str, max_age: int | None = None) -> None:
        resp.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", secure=secure)

    def delete_cookie(resp: Response, name: str) -> None:
        resp.delete_cookie(name, httponly=True, samesite="strict", secure=secure)

    def csrf_ok(sess: dict, token: str) -> bool:
        return secrets.compare_digest(sess["csrf"].encode(), (token or "").encode())

    @app.get("/static/app.css")
    def css():
        return Response(CSS, media_type="text/css")

    @app.get("/static/review.js")
    def js():
        return Response(REVIEW_JS, media_type="text/javascript")

    @app.get("/login")
    def login_form(error: str = ""):
        token = login_tokens.issue()
        page = _page("login.html", "Log in", token=token, message=LOGIN_MESSAGES.get(error))
        set_cookie(page, LOGIN_CSRF, token)
        return page

    def signed_in(attempt: int, user_id: int) -> str:
        store.login_succeeded(engine, attempt)
        return store.new_session(engine, user_id)[0]

    @app.post("/login")
    async def login(request: Request, name: str = Form(...), password: str = Form(...), csrf: str = Form("")):
        cookie = request.cookies.get(LOGIN_CSRF, "")
        token = login_tokens.check(csrf)
        if not cookie or not secrets.compare_digest(cookie.encode(), csrf.encode()) or token == "forged":
            return Response("CSRF check failed", status_code=403)
        if token == "expired":
            return RedirectResponse("/login?error=expired", status_code=303)
        if "\x00" in name:
            return Response("a name cannot hold NUL characters", status_code=400)
        client = request.client.host if request.client else "unknown"
        attempt = await run_in_threadpool(store.claim_login, engine, name, client)
        if attempt is None:
            return Response(f"Too many failed logins: try again in {config.LOGIN_WINDOW_MINUTES} minutes.", status_code=429)
        user_id = await anyio.to_thread.run_sync(store.check_password, engine, name, password, limiter=hashing)
        if user_id is None:
            return RedirectResponse("/login?error=1", status_code=303)
        token = await run_in_threadpool(signed_in, attempt, user_id)
        resp = RedirectResponse("/", status_code=303)
        set_cookie(resp, COOKIE, token, max_age=config.SESSION_HOURS * 3600)
        delete_cookie(resp, LOGIN_CSRF)
        return resp

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")):
        sess = session(request)
        if sess is None:
            return to_login()
        if not csrf_ok(sess, csrf):
            return Response("CSRF check failed", status_code=403)
        store.end_session(engine, request.cookies[COOKIE])
        resp = to_login()
        delete_cookie(resp, COOKIE)
        return resp

    @app.get("/")
    def queue_page(request: Request):
        sess = session(request)
        if sess is None:
            return to_login()
        items = store.queue(engine)
        done = sum(1 for it in items if it["reviewed"])
        nxt = next((it for it in items if not it["reviewed"]), None)
        return _page("queue.html", "Review queue", sess, items=items, done=done, next_item=nxt)

    @app.get("/photo/{photo_id}")
    def photo_page(request: Request, photo_id: int):
        sess = session(request)
        if sess is None:
            return to_login()
        p = store.photo(engine, photo_id)
        if p is None:
            return Response("not found", status_code=404)
        row = p["row"]
        items = store.queue(engine)
        decisions = [{**d, "at": store._aware(d["created_at"]).isoformat(timespec="minutes")} for d in p["decisions"]]
        earlier, later, not_shown = store.patient_photos(engine, p)
        return _page(
            "photo.html", p["path"], sess, p=p, done=sum(1 for it in items if it["reviewed"]), total=len(items),
            kinds=[kind for kind in ("thumb", "overlay") if p[kind] is not None],
            summary=(row.get("explanation") or {}).get("summary", ""), days=row.get("days_since_treatment"),
            issues=", ".join(i.replace("_", " ") for i in (row.get("quality") or {}).get("issues") or []),
            decisions=decisions, earlier=earlier, later=later, not_shown=not_shown,
        )  # fmt: skip

    @app.post("/photo/{photo_id}")
    def decide(request: Request, photo_id: int, level: str = Form(""), note: str = Form(""), csrf: str = Form("")):
        sess = session(request)
        if sess is None:
            return Response("log in first", status_code=401)
        if not csrf_ok(sess, csrf):
            return Response("CSRF check failed", status_code=403)
        try:
            store.decide(engine, photo_id, sess["user_id"], level, note)
        except store.StoreError as e:
            return Response(str(e), status_code=404 if isinstance(e, store.NoSuchPhoto) else 400)
        nxt = next((it for it in store.queue(engine) if not it["reviewed"]), None)
        return RedirectResponse(f"/photo/{nxt['id']}" if nxt else "/", status_code=303)

    @app.get("/upload")
    def upload_form(request: Request, done: str = "", added: int = 0, updated: int = 0):
        sess = session(request)
        if sess is None:
            return to_login()
        return _page("upload.html", "Import a run", sess, message=_upload_message(done, added, updated))

    @app.post("/upload")
    async def upload(request: Request):
        sess = await run_in_threadpool(session, request)
        if sess is None:
            return Response("log in first", status_code=401)
        size = request.headers.get("content-length")
        if size is None or not size.isdigit() or int(size) > config.MAX_UPLOAD_MB * 1024 * 1024:
            return Response(f"uploads must declare their size and be at most {config.MAX_UPLOAD_MB} MB", status_code=413)
        async with request.form() as form:  # closes the spooled upload whatever happens
            if not csrf_ok(sess, str(form.get("csrf", ""))):
                return Response("CSRF check failed", status_code=403)
            archive = form.get("archive")
            if archive is None or isinstance(archive, str):
                return Response("no file", status_code=400)
            try:
                imported = await anyio.to_thread.run_sync(store.import_zip, engine, archive.file, limiter=importing)
            except store.StoreError as e:
                return Response(str(e), status_code=400)
        added, updated = imported[1], imported.updated
        done = f"imported&added={added}&updated={updated}" if added or updated else "again"
        return RedirectResponse(f"/upload?done={done}", status_code=303)

    @app.get("/image/{photo_id}/{kind}")
    def image(request: Request, photo_id: int, kind: str):
        if session(request) is None:
            return Response("log in first", status_code=401)
        data = store.preview(engine, photo_id, kind)
        if data is None:
            return Response("not found", status_code=404)
        return Response(data, media_type="image/jpeg")

    return app
