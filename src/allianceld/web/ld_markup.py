"""The pieces every Linked Data page is made of, as HTML: a link, a term, where a triple comes from,
a date. They are the templates' ``ld_link``, ``ld_term``, ``ld_source`` and ``ld_date``, written in
Python because a page lists hundreds of terms and a Jinja macro call costs several times what the
HTML it writes does. Every link a template writes with a target that is not a constant is one of
them: ``{{ ld_link(href, text, class_=..., title=..., rel=..., type=..., id=...) }}``.

Every ``href`` goes through :func:`allianceld.web.links.safe_href`: a value that may not be a link
is written as text in a ``<span>``.

    >>> str(link("/id/state/fra", "France", class_="term"))
    '<a class="term" href="/id/state/fra">France</a>'
    >>> str(link("javascript:alert(1)", "<b>x</b>"))
    '<span>&lt;b&gt;x&lt;/b&gt;</span>'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from markupsafe import Markup, escape

from allianceld.web.links import safe_href


def _text(value: Any) -> str:
    """``value`` escaped as Jinja writes it: nothing for a missing value, ``None`` for None."""
    return "" if value is _MISSING else escape(value)


_MISSING = object()


def _get(t: Any, key: str) -> Any:
    """``t.key`` as a template reads it: the mapping's item or the object's attribute, else missing."""
    if isinstance(t, Mapping):
        return t.get(key, _MISSING)
    return getattr(t, key, _MISSING)


def _true(value: Any) -> bool:
    return value is not _MISSING and bool(value)


def _attribute(name: str, value: Any) -> str:
    return f' {name}="{escape(value)}"' if value else ""


def link(
    href: Any, text: Any, *, class_: Any = "", title: Any = "", rel: Any = "", type: Any = "", id: Any = ""
) -> Markup:
    """``text`` linked to ``href`` (an ``<a>``), or in a ``<span>`` when ``href`` may not be a link."""
    attributes = _attribute("id", id) + _attribute("class", class_)
    titled = _attribute("title", title)
    if href is not None and safe_href(href) is not None:
        more = _attribute("rel", rel) + _attribute("type", type)
        return Markup(f'<a{attributes} href="{escape(href)}"{titled}{more}>{escape(text)}</a>')
    return Markup(f"<span{attributes}{titled}>{escape(text)}</span>")


def term(t: Any) -> Markup:
    """A term as ``web/views/resources.py``'s ``term_view`` describes it: an IRI as its label (its
    prefixed name beside it) linked here or out; a literal as its value (a duration in words, its ISO
    8601 form in the title) with its language or datatype; anything else as code."""
    kind = _get(t, "kind")
    if kind == "iri":
        label, short = _get(t, "label"), _get(t, "short")
        name = _text(label if _true(label) else short)
        href = _get(t, "href")
        if _true(href):
            out = str(link(href, Markup(name), class_="term", title=_text(_get(t, "iri"))))
        else:
            out = f'<span class="term" title="{_text(_get(t, "iri"))}">{name}</span>'
        if _true(label):
            out += f' <code class="short">{_text(short)}</code>'
        return Markup(out)
    if kind == "literal":
        readable, value = _get(t, "readable"), _text(_get(t, "value"))
        if _true(readable):
            out = f'<span class="literal duration" title="{value}">{_text(readable)}</span>'
        else:
            out = f'<span class="literal">{value}</span>'
        language, datatype = _get(t, "language"), _get(t, "datatype")
        if _true(language):
            out += f" <small>@{_text(language)}</small>"
        elif _true(datatype) and not _true(readable):
            out += f" <small>{_text(datatype)}</small>"
        return Markup(out)
    return Markup(f"<code>{_text(_get(t, 'value'))}</code>")


def source(s: Any) -> Markup:
    """Where an asserted triple comes from (``describe.graph_source``): a data file, a contribution
    or another graph."""
    kind = _get(s, "kind")
    if kind == "file":
        return Markup(f"data file <code>{_text(_get(s, 'name'))}</code>")
    url = _get(s, "url")
    if _true(url):
        prefix = "contribution " if kind == "contribution" else ""
        return link(url, Markup(f"{prefix}{_text(_get(s, 'name'))}"))
    return Markup(f"graph <code>{_text(_get(s, 'graph'))}</code>")


def date(value: Any, precision: Any = None) -> Markup:
    """A date, and when it is known only to the month or the year, that."""
    if not value:
        return Markup("")
    out = f'<time datetime="{escape(value)}">{escape(value)}</time>'
    if precision:
        out += f" <small>(known to the {escape(precision)})</small>"
    return Markup(out)


def init_app(app: Flask) -> None:
    """Make the functions the templates' ``ld_link``, ``ld_term``, ``ld_source`` and ``ld_date``."""
    app.add_template_global(link, "ld_link")
    app.add_template_global(term, "ld_term")
    app.add_template_global(source, "ld_source")
    app.add_template_global(date, "ld_date")
