"""HTML pages the sandbox serves to a browser: the install (consent) page and OAuth error pages.
Flask autoescapes string templates."""

CONSENT = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Install {{ app_title }} – Shopify (sandbox)</title>
  <style>
    body { font-family: system-ui, sans-serif; background: #f1f1f1; margin: 0; color: #303030; }
    main { max-width: 34rem; margin: 3rem auto; background: #fff; border-radius: .75rem; padding: 2rem;
           box-shadow: 0 1px 3px rgba(0,0,0,.15); }
    h1 { font-size: 1.3rem; margin-top: 0; } .shop { color: #616161; }
    ul { padding-left: 1.2rem; } li { margin: .3rem 0; } code { background: #f4f4f4; padding: 0 .2rem; }
    button { background: #303030; color: #fff; border: 0; border-radius: .5rem; padding: .6rem 1.2rem;
             font-size: 1rem; cursor: pointer; }
    .note { font-size: .85rem; color: #616161; }
  </style>
</head>
<body>
<main>
  <p class="shop">{{ shop.name }} · {{ shop.domain }}</p>
  <h1>Install {{ app_title }}</h1>
  {% if scopes %}
  <p>This app will be able to:</p>
  <ul>
    {% for handle, label in scopes %}<li>{{ label }} <code>{{ handle }}</code></li>{% endfor %}
  </ul>
  {% else %}
  <p>This app asks for the access scopes declared in its configuration.</p>
  {% endif %}
  <form method="post" action="">
    {% for name, value in fields %}<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
    <button type="submit" id="install">Install app</button>
  </form>
  <p class="note">Sandbox store: the app receives an offline access token for this store.</p>
</main>
</body>
</html>
"""

ERROR = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ title }}</title>
<style>body { font-family: system-ui, sans-serif; margin: 3rem; color: #303030; }</style></head>
<body>
  <h1>{{ title }}</h1>
  <p id="error">{{ message }}</p>
</body>
</html>
"""

SERVER_ERROR = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Shopify · Service unavailable</title></head>
<body><h1>There was a problem loading this website</h1>
<p>Try refreshing the page. If the site still doesn't load, please try again in a few minutes.</p>
</body></html>
"""
