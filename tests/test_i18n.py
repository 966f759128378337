"""The zh-Hant catalogue: complete, compiled, placeholder-safe, up to date, and actually used by pages.

The .mo is committed so a machine without gettext still shows Chinese; these tests make sure it
never drifts from the .po and that strings added later do not silently stay English.
"""

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import ECAccountFactory

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "ecbridge"
LC_MESSAGES = SOURCE / "locale" / "zh_Hant" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"
# Same arguments as `make messages`: the sandbox is a fake platform, not our product.
MAKEMESSAGES_ARGS = ["makemessages", "-l", "zh_Hant", "--ignore", "sandbox/*", "--ignore", "static/*"]

_LINE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')


def parse_po(path):
    """Entries of a .po as dicts (msgctxt, msgid, msgid_plural, msgstr {index|None: text}, flags).

    Obsolete (#~) entries are skipped. Small on purpose: the project does not depend on polib."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        entry = {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set()}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif match := _LINE.match(line):
                name, index, text = match.group(1), match.group(2), ast.literal_eval(match.group(3))
                if name.startswith("msgstr"):
                    key = ("msgstr", int(index) if index is not None else None)
                    entry["msgstr"][key[1]] = text
                else:
                    key = (name, None)
                    entry[name] = text
            elif line.startswith('"') and key:
                text = ast.literal_eval(line)
                if key[0] == "msgstr":
                    entry["msgstr"][key[1]] += text
                else:
                    entry[key[0]] += text
            else:
                raise AssertionError(f"{path}: cannot parse line {line!r}")
        if entry["msgid"] is not None:
            entries.append(entry)
    return entries


def messages(path):
    """The translatable entries (header excluded)."""
    return [e for e in parse_po(path) if e["msgid"] != ""]


def label(entry):
    return f"{entry['msgctxt']}|{entry['msgid']}" if entry["msgctxt"] else entry["msgid"]


def test_catalogue_has_no_untranslated_or_fuzzy_entries():
    entries = parse_po(PO)
    header = next(e for e in entries if e["msgid"] == "")
    assert "fuzzy" not in header["flags"], "a fuzzy header is dropped by msgfmt, losing charset and plurals"
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"][None]
    body = messages(PO)
    assert len(body) > 400  # sanity: the whole product, not a stub
    fuzzy = [label(e) for e in body if "fuzzy" in e["flags"]]
    empty = [label(e) for e in body if not e["msgstr"] or any(v == "" for v in e["msgstr"].values())]
    wrong_plurals = [label(e) for e in body if e["msgid_plural"] is not None and set(e["msgstr"]) != {0}]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not empty, f"untranslated entries: {empty}"
    assert not wrong_plurals, f"zh has one plural form (msgstr[0] only): {wrong_plurals}"


def test_compiled_catalogue_matches_the_po():
    """The committed .mo is what runs; it must hold exactly the .po's translations."""
    with MO.open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    stale = []
    for e in messages(PO):
        ctx, msgid = e["msgctxt"], e["msgid"]
        if e["msgid_plural"] is None:
            got = mo.pgettext(ctx, msgid) if ctx else mo.gettext(msgid)
            if got != e["msgstr"][None]:
                stale.append(label(e))
        else:
            for n in (1, 2, 17):
                if ctx:
                    got = mo.npgettext(ctx, msgid, e["msgid_plural"], n)
                else:
                    got = mo.ngettext(msgid, e["msgid_plural"], n)
                if got != e["msgstr"][0]:
                    stale.append(f"{label(e)} (n={n})")
    assert not stale, f"django.mo is stale, run compilemessages: {stale[:10]}"


NAMED = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
POSITIONAL = re.compile(r"%(?!\()[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
BRACED = re.compile(r"\{\w*\}")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def _specs(regex, text):
    """Conversion specifiers in text, with the literal-percent escape %% taken out first."""
    return regex.findall(text.replace("%%", ""))


class _AnyValue(dict):
    def __missing__(self, key):
        return 7


def test_placeholders_and_markup_survive_translation():
    problems = []
    for e in messages(PO):
        sources = [e["msgid"]] + ([e["msgid_plural"]] if e["msgid_plural"] else [])
        for msgstr in e["msgstr"].values():
            src = sources[-1]  # the plural source carries the placeholders the count form uses
            names_src = set().union(*(_specs(NAMED, s) for s in sources))
            if set(_specs(NAMED, msgstr)) != names_src:
                problems.append(f"named placeholders differ: {label(e)!r} -> {msgstr!r}")
            if Counter(_specs(POSITIONAL, msgstr)) != Counter(_specs(POSITIONAL, src)):
                problems.append(f"positional placeholders differ: {label(e)!r} -> {msgstr!r}")
            if set(BRACED.findall(msgstr)) != set(BRACED.findall(src)):
                problems.append(f"brace placeholders differ: {label(e)!r} -> {msgstr!r}")
            if Counter(TAG.findall(msgstr)) != Counter(TAG.findall(src)):
                problems.append(f"HTML differs: {label(e)!r} -> {msgstr!r}")
            if "python-format" in e["flags"]:
                # The string is %-formatted at run time: a stray % would raise there, not here.
                try:
                    msgstr % _AnyValue()
                except (ValueError, TypeError, KeyError) as exc:
                    problems.append(f"not formattable ({exc}): {msgstr!r}")
                if msgstr.count("%%") != src.count("%%"):
                    problems.append(f"literal %% count differs: {label(e)!r} -> {msgstr!r}")
            elif msgstr.count("%") != src.count("%"):
                problems.append(f"% signs differ in a non-format string: {label(e)!r} -> {msgstr!r}")
    assert not problems, "\n".join(problems)


def test_glossary_terms_are_used():
    """Terms other helpers' browser tests and the product docs rely on."""
    by_id = {e["msgid"]: e["msgstr"].get(None) for e in messages(PO) if not e["msgctxt"]}
    glossary = {
        "EC Integrations": "電商串接",
        "EC account": "電商帳號",
        "Connected": "已連線",
        "Disconnected": "已斷線",
        "Not Verified": "未驗證",
        "Test Connection": "測試連線",
        "Authorize & Connect": "授權並連線",
        "Re-authorize": "重新授權",
        "Revoke Authorization": "撤銷授權",
        "Settings": "功能設定",
        "Connection": "連線資訊",
        "Fetch Orders": "抓取訂單",
        "Inbound Push": "入庫推送",
        "Push Percentage": "推送比例",
        "Channel Name": "通路名稱",
        "Display Name": "顯示名稱",
        "E-commerce Platform": "電商平台",
        "Merchant": "貨主",
        "Warehouse shipping type": "倉庫配送方式",
        "Shipping Type Mappings": "配送方式對應",
        "Platform API Logs": "平台 API 紀錄",
        "Notifications": "通知",
        "Active": "啟用",
        "Inactive": "未啟用",
        "Connection Successful": "連線成功",
        "Authorized Successfully": "授權成功",
        "No sales channels created": "尚未建立銷售通路",
        "No product mappings": "尚無商品對應",
        "Next Fetch Time": "下次抓取時間",
        "Fetch Schedule Times": "抓取時段",
        "Updated At": "更新時間",
        "Created At": "建立時間",
        "Credentials": "串接憑證",
        "Warehouse admin": "倉庫管理員",
        "Operator": "倉庫操作員",
        "Merchant user": "貨主使用者",
    }
    wrong = {k: (by_id.get(k), v) for k, v in glossary.items() if by_id.get(k) != v}
    assert not wrong, f"msgid: (found, expected) {wrong}"


# --- the catalogue is really used by the pages ------------------------------------------------


@pytest.fixture
def accounts(merchant, other_merchant, channel, other_channel):
    for name, status in (("Acme momo", "connected"), ("Acme broken", "disconnected")):
        ECAccountFactory(merchant=merchant, sales_channel=channel, display_name=name, status=status)
    ECAccountFactory(
        merchant=other_merchant, sales_channel=other_channel, display_name="Beta new", status="not_verified"
    )


ZH_LIST = ["電商串接", "電商平台", "顯示名稱", "連線狀態", "抓取訂單", "入庫推送", "通路名稱", "更新時間"]
ZH_LIST += ["已連線", "已斷線", "未驗證", "貨主", "未啟用", "銷售通路", "平台 API 紀錄"]
EN_LIST = ["EC Integrations", "E-commerce Platform", "Display Name", "Connection Status", "Fetch Orders"]
EN_LIST += ["Connected", "Disconnected", "Not Verified", "Inactive", "Sales Channels", "Platform API Logs"]


def page(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_account_list_in_chinese_by_accept_language(operator_client, accounts):
    html = page(operator_client, "/ec-accounts/", HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert '<html lang="zh-hant">' in html
    missing = [s for s in ZH_LIST if s not in html]
    assert not missing, missing
    assert "Acme momo" in html and "Beta new" in html  # data is never translated
    # No English chrome left among the strings we know are on the page.
    english = ["EC Integrations", "Display Name", "Connection Status", "Updated At"]
    leftover = [s for s in english if s in html]
    assert not leftover, leftover


def test_account_list_in_english(operator_client, accounts):
    html = page(operator_client, "/ec-accounts/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in html
    missing = [s for s in EN_LIST if s not in html]
    assert not missing, missing
    assert not [s for s in ["電商串接", "已連線", "顯示名稱"] if s in html]


def test_language_cookie_wins_over_browser_header(operator_client, accounts):
    operator_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    assert "電商串接" in page(operator_client, "/ec-accounts/", HTTP_ACCEPT_LANGUAGE="en")
    operator_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = page(operator_client, "/ec-accounts/", HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert "EC Integrations" in html and "電商串接" not in html


def test_language_switcher_sets_chinese(operator_client, accounts):
    response = operator_client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/sales-channels/"})
    assert response.status_code == 302
    html = page(operator_client, "/sales-channels/")
    assert "銷售通路" in html and "通路名稱" in html and "Acme Shopee" in html


def test_sales_channel_list_both_languages(operator_client, channel, other_channel):
    zh = page(operator_client, "/sales-channels/", HTTP_ACCEPT_LANGUAGE="zh-hant")
    for s in ["銷售通路", "通路名稱", "內部名稱", "商品對應規則", "主要庫存類型", "預設配送方式", "貨主"]:
        assert s in zh, s
    assert "Sales Channels" not in zh and "Channel Name" not in zh
    en = page(operator_client, "/sales-channels/", HTTP_ACCEPT_LANGUAGE="en")
    for s in ["Sales Channels", "Channel Name", "Internal Name", "Primary Inventory Type", "Enabled"]:
        assert s in en, s
    assert "銷售通路" not in en


def test_login_page_both_languages(client, db):
    zh = page(client, "/login/", HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert "登入" in zh and "帳號" in zh and "密碼" in zh and "Sign in" not in zh
    en = page(client, "/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign in" in en and "Password" in en and "登入" not in en


def test_failed_login_message_is_translated(client, operator):
    response = client.post(
        "/login/", {"username": "operator", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="zh-hant"
    )
    assert response.status_code == 200
    assert "帳號或密碼錯誤，請再試一次。" in response.content.decode()


def test_plural_and_placeholders_render(operator_client, accounts):
    """A blocktranslate plural with a count and a python-format string both render in Chinese."""
    html = page(operator_client, "/ec-accounts/", HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert "共 3 筆" in html


# --- the catalogue is up to date with the source --------------------------------------------


def _require_gettext_tools():
    tools = ("xgettext", "msguniq", "msgmerge", "msgattrib", "msgfmt")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"gettext tools missing in CI: {missing} (apt-get install gettext)")
        pytest.skip(f"gettext tools not installed: {missing}")


def test_catalogue_contains_every_msgid_in_the_source(tmp_path):
    """Extract afresh from a copy of the source tree and compare msgid sets.

    The copy gets its own LOCALE_PATHS through a settings shim, so the committed catalogue is
    never touched. A failure means someone added strings: run `make messages` and translate."""
    _require_gettext_tools()
    tree = tmp_path / "src" / "ecbridge"
    shutil.copytree(SOURCE, tree, ignore=shutil.ignore_patterns("locale", "static", "__pycache__", "*.pyc"))
    out_locale = tmp_path / "locale"
    out_locale.mkdir()
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "i18n_check_settings.py").write_text(
        f"from ecbridge.settings import *  # noqa\nLOCALE_PATHS = [{str(out_locale)!r}]\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "i18n_check_settings",
        "PYTHONPATH": os.pathsep.join([str(shim), str(ROOT)]),
        "ECBRIDGE_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *MAKEMESSAGES_ARGS],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    fresh_po = out_locale / "zh_Hant" / "LC_MESSAGES" / "django.po"
    assert fresh_po.exists(), result.stdout + result.stderr

    def keys(path):
        return {(e["msgctxt"], e["msgid"], e["msgid_plural"]) for e in messages(path)}

    fresh, committed = keys(fresh_po), keys(PO)
    assert len(fresh) > 400, "extraction found suspiciously few strings"
    missing = sorted(fresh - committed, key=str)
    assert not missing, f"{len(missing)} msgid(s) missing from the catalogue, run `make messages`: {missing}"


@pytest.mark.django_db
def test_reference_data_is_shown_in_the_readers_language(operator_client):
    """Shipping and inventory types carry a Traditional Chinese name: a Chinese page shows it."""
    operator_client.cookies["django_language"] = "zh-hant"
    page = operator_client.get("/sales-channels/shipping-types/").content.decode()
    assert "7-ELEVEN 超商取貨" in page and "OK 超商取貨" in page and "OK Mart pickup" not in page
    operator_client.cookies["django_language"] = "en"
    page = operator_client.get("/sales-channels/shipping-types/").content.decode()
    assert "OK Mart pickup" in page and "OK 超商取貨" not in page


@pytest.mark.django_db
def test_the_login_page_offers_the_language_switch(client):
    page = client.get("/login/").content.decode()
    assert 'id="language-switcher"' in page and 'value="zh-hant"' in page
    client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/login/"})
    assert "登入" in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_times_are_24_hour_in_both_languages(operator_client, merchant, channel):
    from tests.factories import ECAccountFactory

    account = ECAccountFactory(merchant=merchant, sales_channel=channel, fetch_times=["14:00"])
    for language in ("en", "zh-hant"):
        operator_client.cookies["django_language"] = language
        page = operator_client.get(f"/ec-accounts/{account.pk}/edit/").content.decode()
        assert 'value="14:00"' in page and 'type="time"' not in page  # a browser would show 02:00 PM
