"""Settings, read from the environment only (12-factor). Every variable is documented in
docs/configuration.md; keep the two in step."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from ecbridge.core.keys import ensure_local_key

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

ENVIRONMENT = env.str("ECBRIDGE_ENV", default="development")  # development | production
IS_PRODUCTION = ENVIRONMENT == "production"
VAR_DIR = Path(env.str("ECBRIDGE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- secrets: generated under var/ for the embedded default, required in production --------------
if IS_PRODUCTION:
    if not env.str("SECRET_KEY", default=""):
        raise ImproperlyConfigured("SECRET_KEY must be set when ECBRIDGE_ENV=production.")
    if not env.str("ECBRIDGE_CREDENTIAL_KEYS", default=""):
        raise ImproperlyConfigured("ECBRIDGE_CREDENTIAL_KEYS must be set when ECBRIDGE_ENV=production.")
SECRET_KEY = env.str("SECRET_KEY", default="") or ensure_local_key(VAR_DIR / "secret_key", kind="django")
CREDENTIAL_KEYS = [
    k.strip()
    for k in (
        env.str("ECBRIDGE_CREDENTIAL_KEYS", default="")
        or ensure_local_key(VAR_DIR / "credential_key", kind="fernet")
    ).split(",")
    if k.strip()
]

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=IS_PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if IS_PRODUCTION else None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "huey.contrib.djhuey",
    "ecbridge.core",
    "ecbridge.tenancy",
    "ecbridge.inventory",
    "ecbridge.channels",
    "ecbridge.integrations",
    "ecbridge.orders",
    "ecbridge.apilog",
    "ecbridge.notifications",
    "ecbridge.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "ecbridge.core.middleware.RejectNulCharacters",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "ecbridge.tenancy.middleware.MerchantContextMiddleware",
]

ROOT_URLCONF = "ecbridge.urls"
WSGI_APPLICATION = "ecbridge.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "ecbridge" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ecbridge.tenancy.context_processors.merchant_context",
                "ecbridge.notifications.context_processors.notifications",
            ],
        },
    }
]

# --- database: SQLite (WAL) by default, PostgreSQL when DATABASE_URL says so ----------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ecbridge.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tenancy.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "integrations:list"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- i18n: English and Traditional Chinese; times shown in the warehouse time zone ----------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hant", _("Traditional Chinese"))]
LOCALE_PATHS = [BASE_DIR / "ecbridge" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("WAREHOUSE_TIME_ZONE", default="Asia/Taipei")
FORMAT_MODULE_PATH = ["ecbridge.formats"]  # 24-hour times and year-first dates in both languages

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "ecbridge" / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- background work: SqliteHuey embedded by default, RedisHuey when REDIS_URL is set -------------
REDIS_URL = env.str("REDIS_URL", default="")
HUEY_IMMEDIATE = env.bool("HUEY_IMMEDIATE", default=False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env.str("HUEY_QUEUE_NAME", default="ecbridge"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": env.int("HUEY_WORKERS", default=4), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": env.str("HUEY_QUEUE_NAME", default="ecbridge"),  # `make test` uses its own queue
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": env.int("HUEY_WORKERS", default=2), "worker_type": "thread"},
    }

# --- the product ---------------------------------------------------------------------------------
PUBLIC_URL = env.str("ECBRIDGE_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
EGRESS_IPS = env.list("ECBRIDGE_EGRESS_IPS", default=["203.0.113.10"])
FETCH_SLOTS_MAX = 5
# Pages watching background work (stock runs, fetches, mapping syncs, shipment reports) ask
# for its progress this often while it runs.
PROGRESS_POLL_SECONDS = env.int("ECBRIDGE_PROGRESS_POLL_SECONDS", default=2)
MANUAL_FETCH_COOLDOWN_SECONDS = env.int("ECBRIDGE_MANUAL_FETCH_COOLDOWN", default=600)
APILOG_SUCCESS_RETENTION_DAYS = env.int("ECBRIDGE_APILOG_SUCCESS_DAYS", default=30)
APILOG_FAILURE_RETENTION_DAYS = env.int("ECBRIDGE_APILOG_FAILURE_DAYS", default=90)
APILOG_BODY_MAX_CHARS = env.int("ECBRIDGE_APILOG_BODY_MAX_CHARS", default=20000)
HTTP_TIMEOUT_SECONDS = env.float("ECBRIDGE_HTTP_TIMEOUT", default=20.0)
HTTP_MAX_ATTEMPTS = env.int("ECBRIDGE_HTTP_MAX_ATTEMPTS", default=5)
HTTP_INTERACTIVE_MAX_ATTEMPTS = env.int("ECBRIDGE_HTTP_INTERACTIVE_MAX_ATTEMPTS", default=2)
HTTP_MAX_BACKOFF_SECONDS = env.float("ECBRIDGE_HTTP_MAX_BACKOFF", default=30.0)

# The platform sandbox. In development it is on by default (make run starts it); in production it
# is off and every platform talks to its real host.
SANDBOX_URL = env.str(
    "ECBRIDGE_SANDBOX_URL", default="" if IS_PRODUCTION else "http://127.0.0.1:8001"
).rstrip("/")
SANDBOX_DB = env.str("ECBRIDGE_SANDBOX_DB", default=str(VAR_DIR / "sandbox.sqlite3"))


def _platform_url(name: str, real: str, sandbox_path: str) -> str:
    return env.str(name, default=f"{SANDBOX_URL}{sandbox_path}" if SANDBOX_URL else real).rstrip("/")


# Per-platform settings: app credentials (ours, not the merchant's) and hosts. The sandbox
# accepts the demo app credentials below; production must set real ones.
PLATFORMS = {
    "shopee": {
        "api_base": _platform_url("SHOPEE_API_BASE", "https://partner.shopeemobile.com", "/sandbox/shopee"),
        "auth_base": _platform_url("SHOPEE_AUTH_BASE", "https://open.shopee.com", "/sandbox/shopee"),
        "partner_id": env.int("SHOPEE_PARTNER_ID", default=2001887),
        "partner_key": env.str("SHOPEE_PARTNER_KEY", default="" if IS_PRODUCTION else "sandbox-shopee-key"),
        "push_url": env.str("SHOPEE_PUSH_URL", default=f"{PUBLIC_URL}/webhooks/shopee"),
    },
    "shopify": {
        # {shop} is the shop's myshopify domain, e.g. "acme.myshopify.com".
        "shop_url_template": _platform_url("SHOPIFY_SHOP_URL", "https://{shop}", "/sandbox/shopify/{shop}"),
        "api_version": env.str("SHOPIFY_API_VERSION", default="2026-07"),
        "client_id": env.str("SHOPIFY_CLIENT_ID", default="" if IS_PRODUCTION else "sandbox-shopify-client"),
        "client_secret": env.str(
            "SHOPIFY_CLIENT_SECRET", default="" if IS_PRODUCTION else "sandbox-shopify-secret"
        ),
        "scopes": env.str(
            "SHOPIFY_SCOPES",
            default="read_orders,write_orders,read_products,read_inventory,write_inventory,"
            "read_fulfillments,write_fulfillments,read_merchant_managed_fulfillment_orders,"
            "write_merchant_managed_fulfillment_orders",
        ),
    },
    "momo": {
        "api_base": _platform_url("MOMO_API_BASE", "https://scmapi.momoshop.com.tw", "/sandbox/momo"),
        # momo documents no rate limit (UNCONFIRMED); ≤1 request/s per vendor is the polite pace.
        "min_interval_seconds": env.float("MOMO_MIN_INTERVAL_SECONDS", default=1.0 if IS_PRODUCTION else 0.0),
        # changeGoodsQty entries per call: momo's real limit is UNCONFIRMED (docs/stock-momo.md).
        "stock_batch_size": env.int("MOMO_STOCK_BATCH_SIZE", default=100),
    },
}

# --- logging: secrets never reach a log line (see apilog.redaction) -------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "huey": {"level": "INFO", "propagate": False},  # run_huey adds its own handler
    },
}

NINJA_PAGINATION_PER_PAGE = 50

# --- order import (issue 3; docs/configuration.md "Order import") ----------------------------------
# Each fetch window starts this many minutes before the stored cursor, so orders updated while the
# previous window was being read are seen again (re-imports are idempotent no-ops).
ORDER_FETCH_OVERLAP_MINUTES = env.int("ECBRIDGE_ORDER_FETCH_OVERLAP_MINUTES", default=10)
# Time-to-live of the per-account fetch lease; extended after every page, so it only bounds how
# long a crashed worker blocks the next fetch.
ORDER_FETCH_LEASE_SECONDS = env.int("ECBRIDGE_ORDER_FETCH_LEASE_SECONDS", default=600)
# Webhook inbox: processing attempts, retry backoff base (doubles per attempt), and the age after
# which a still-pending event is re-queued by the sweep (its worker died).
WEBHOOK_MAX_ATTEMPTS = env.int("ECBRIDGE_WEBHOOK_MAX_ATTEMPTS", default=5)
WEBHOOK_RETRY_BASE_SECONDS = env.int("ECBRIDGE_WEBHOOK_RETRY_BASE_SECONDS", default=60)
WEBHOOK_STALE_MINUTES = env.int("ECBRIDGE_WEBHOOK_STALE_MINUTES", default=5)
# Shipment reports (outbox drained by orders.tasks): retries, tracking polls, leases. docs/orders.md
SHIPMENT_REPORT_MAX_ATTEMPTS = env.int("ECBRIDGE_SHIPMENT_REPORT_MAX_ATTEMPTS", default=8)
SHIPMENT_REPORT_BACKOFF_SECONDS = env.int("ECBRIDGE_SHIPMENT_REPORT_BACKOFF_SECONDS", default=60)
SHIPMENT_REPORT_MAX_BACKOFF_SECONDS = env.int("ECBRIDGE_SHIPMENT_REPORT_MAX_BACKOFF_SECONDS", default=3600)
SHIPMENT_TRACKING_POLL_SECONDS = env.int("ECBRIDGE_SHIPMENT_TRACKING_POLL_SECONDS", default=300)
SHIPMENT_TRACKING_POLL_MAX_SECONDS = env.int("ECBRIDGE_SHIPMENT_TRACKING_POLL_MAX_SECONDS", default=3600)
SHIPMENT_TRACKING_MAX_WAIT_HOURS = env.int("ECBRIDGE_SHIPMENT_TRACKING_MAX_WAIT_HOURS", default=72)
SHIPMENT_REPORT_LEASE_SECONDS = env.int("ECBRIDGE_SHIPMENT_REPORT_LEASE_SECONDS", default=600)
SHIPMENT_SWEEP_STALE_SECONDS = env.int("ECBRIDGE_SHIPMENT_SWEEP_STALE_SECONDS", default=60)
# Stock pushes (outbox drained by integrations.tasks.push_stock_run): retries, lease, sweep. docs/stock.md
STOCK_PUSH_MAX_ATTEMPTS = env.int("ECBRIDGE_STOCK_PUSH_MAX_ATTEMPTS", default=8)
STOCK_PUSH_BACKOFF_SECONDS = env.int("ECBRIDGE_STOCK_PUSH_BACKOFF_SECONDS", default=30)
STOCK_PUSH_MAX_BACKOFF_SECONDS = env.int("ECBRIDGE_STOCK_PUSH_MAX_BACKOFF_SECONDS", default=1800)
STOCK_PUSH_LEASE_SECONDS = env.int("ECBRIDGE_STOCK_PUSH_LEASE_SECONDS", default=900)
STOCK_PUSH_SWEEP_STALE_SECONDS = env.int("ECBRIDGE_STOCK_PUSH_SWEEP_STALE_SECONDS", default=60)
# Platforms whose logistics may issue the tracking number themselves (UNCONFIRMED per channel).
SHIPMENT_TRACKING_OPTIONAL_PLATFORMS = tuple(
    env.list("ECBRIDGE_SHIPMENT_TRACKING_OPTIONAL_PLATFORMS", default=["shopee"])
)
