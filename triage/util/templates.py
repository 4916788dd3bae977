"""HTML pages from Jinja2 templates shipped as package files (`<package>/templates/*.html`),
with autoescaping on: every `{{ value }}` is HTML-escaped unless a template says otherwise, so a
file name, a note or a user name is text, never markup."""

from __future__ import annotations

import jinja2


def environment(package: str) -> jinja2.Environment:
    """One environment over `package`'s templates folder, made once per process by its caller.

    Every template is compiled here, at import, and never read again (auto_reload off): a page
    rendered later needs no file access (a process that has since dropped its privileges, or
    whose package folder was replaced, still renders). Undefined names raise instead of
    rendering as empty text, so a misspelt variable fails the tests rather than a page."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    for name in env.list_templates():
        env.get_template(name)
    return env
