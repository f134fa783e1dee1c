"""Sphinx extension with the course site's own fixes and settings.

* Teach jieba the course's terms before the Chinese search index is built.  Sphinx segments
  Chinese text with jieba; without this, compound terms such as 循环神经网络 or 遗忘门 may be
  split into pieces and a search for the whole term finds nothing.  The terms come from
  :data:`lstm_course.glossary.GLOSSARY`.
* Theme options Jupyter Book does not expose (Chinese search placeholder, a valid default
  colour mode — an empty one makes the theme log a console error on every page).
* The course's stylesheet ``book/_static/course.css`` (code cells fit 79 columns at 1280 px).
* Drop script tags that are added twice (sphinx-thebe registers its inline configuration
  once per read phase, and a second ``const THEBE_JS_URL`` is a JavaScript error).
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "_static"


def _add_terms(app) -> None:
    try:
        import jieba
    except ImportError:  # without jieba Sphinx cannot index Chinese at all
        return
    from lstm_course.glossary import GLOSSARY

    for term in GLOSSARY:
        for word in (term.zh, term.d2l_zh):
            if word:
                jieba.add_word(word, freq=100000)


def _static_files(app, config) -> None:
    config.html_static_path = [*(config.html_static_path or []), str(STATIC)]


def _theme_options(app, config) -> None:
    options = dict(config.html_theme_options or {})
    options["search_bar_text"] = "搜索本书……"
    config.html_theme_options = options
    config.html_context = {
        **(config.html_context or {}),
        "default_mode": "light",
    }


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # the second copy of an inline script has filename '' where the first has None
        attributes = getattr(script, "attributes", {})
        key = (
            str(getattr(script, "filename", None) or ""),
            tuple(sorted((k, str(v)) for k, v in attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("config-inited", _theme_options)
    app.connect("config-inited", _static_files)
    app.add_css_file("course.css")
    app.connect("builder-inited", _add_terms)
    app.connect("html-page-context", _dedupe_scripts, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
