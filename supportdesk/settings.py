"""Supportdesk settings: every value comes from the environment (or a `.env` file beside manage.py).

With DEBUG on (the local default) the App Store settings fall back to the local simulator, so a
fresh clone runs with nothing configured. With DEBUG off every secret and every Apple credential
must be given, and start-up stops naming the first one that is missing.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)


def required(name: str, local_default: str) -> str:
    """A value production must set explicitly; local runs get a working default."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return local_default
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is off.")


def secret_from_env_or_file(name: str) -> str:
    """Read NAME, or the file named by NAME_FILE, so secrets can live outside the environment."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default="")


SECRET_KEY = secret_from_env_or_file("SECRET_KEY") or required(
    "SECRET_KEY", "local-development-only-not-a-secret"
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[]) or (
    ["127.0.0.1", "localhost", "testserver"] if DEBUG else []
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "lookups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "lookups.middleware.AgentTimezoneMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "supportdesk.urls"
WSGI_APPLICATION = "supportdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the simulator-backed demo and tests share one file safely.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://supportdesk")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Refuses a sign-in while its username or address is locked out, before checking anything.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "lookups:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security: a strict Content-Security-Policy (no inline code, nothing from other origins).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# In production a TLS proxy sits in front: it says the scheme and the client's address.
BEHIND_TLS_PROXY = not DEBUG and env.bool("BEHIND_TLS_PROXY", default=True)
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if BEHIND_TLS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Failed sign-ins (django-axes): after AXES_FAILURE_LIMIT failures a username is locked out, and
# so, separately, is the address they came from, for AXES_COOLOFF_MINUTES. Kept in the database,
# so every worker sees them; a superuser can lift a lockout in the admin (Axes > Access attempts).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "lookups.sign_in.client_address"
AXES_USERNAME_CALLABLE = "lookups.sign_in.attempted_username"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
AXES_VERBOSE = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- The App Store Server API -------------------------------------------------------------------
# Local defaults point at the simulator (`python manage.py appstore_simulator`, or `make run`).
SIMULATOR_PORT = env.int("APPSTORE_SIMULATOR_PORT", default=8001)
APPSTORE_ISSUER_ID = required("APPSTORE_ISSUER_ID", "57246542-96fe-1a63-e053-0824d011072a")
APPSTORE_KEY_ID = required("APPSTORE_KEY_ID", "SIMULATOR1")
APPSTORE_BUNDLE_ID = required("APPSTORE_BUNDLE_ID", "com.example.supportdesk.demo")
APPSTORE_APP_APPLE_ID = env.int("APPSTORE_APP_APPLE_ID", default=1234567890 if DEBUG else None)
APPSTORE_ENVIRONMENT = env.str("APPSTORE_ENVIRONMENT", default="Production")
if APPSTORE_ENVIRONMENT not in ("Production", "Sandbox"):
    raise ImproperlyConfigured("APPSTORE_ENVIRONMENT must be Production or Sandbox.")
APPSTORE_BASE_URL = env.str(
    "APPSTORE_BASE_URL", default=f"http://127.0.0.1:{SIMULATOR_PORT}" if DEBUG else ""
)
APPSTORE_PRIVATE_KEY_PATH = env.str(
    "APPSTORE_PRIVATE_KEY_PATH",
    default=str(VAR_DIR / "appstore-local-key.p8") if DEBUG else "",
)
# Raw PEM, as an alternative to the path (kept out of logs and pages; never stored).
APPSTORE_PRIVATE_KEY = env.str("APPSTORE_PRIVATE_KEY", default="")
if not (APPSTORE_PRIVATE_KEY or APPSTORE_PRIVATE_KEY_PATH):
    raise ImproperlyConfigured(
        "APPSTORE_PRIVATE_KEY_PATH (or APPSTORE_PRIVATE_KEY) must be set when DEBUG is off."
    )
APPSTORE_ROOT_CERTIFICATES = env.list(
    "APPSTORE_ROOT_CERTIFICATES",
    default=[str(VAR_DIR / "appstore-simulator-root.pem")] if DEBUG else [],
)
if not APPSTORE_ROOT_CERTIFICATES:
    raise ImproperlyConfigured("APPSTORE_ROOT_CERTIFICATES must be set when DEBUG is off.")
if not DEBUG and APPSTORE_APP_APPLE_ID is None and APPSTORE_ENVIRONMENT == "Production":
    raise ImproperlyConfigured("APPSTORE_APP_APPLE_ID must be set when DEBUG is off.")
APPSTORE_TIMEOUT_SECONDS = env.float("APPSTORE_TIMEOUT_SECONDS", default=10.0)
APPSTORE_MAX_RETRY_AFTER_SECONDS = env.float("APPSTORE_MAX_RETRY_AFTER_SECONDS", default=5.0)
APPSTORE_CALL_BUDGET_SECONDS = env.float("APPSTORE_CALL_BUDGET_SECONDS", default=20.0)
# How long a verified lookup of a purchase is trusted for a link decision; older, Apple is asked.
PURCHASE_FRESH_SECONDS = env.int("PURCHASE_FRESH_SECONDS", default=300)
# Requests per second all workers together send to each endpoint (kept in the cache, CACHE_URL).
# Apple's limits by default: lookup 10, set_token 20, history 50; a tenth of those in Sandbox.
APPSTORE_RATE_LIMITS = {
    **(
        {"lookup": 10, "set_token": 20, "history": 50}
        if APPSTORE_ENVIRONMENT == "Production"
        else {"lookup": 1, "set_token": 2, "history": 5}
    ),
    **{k.strip(): v.strip() for k, v in env.dict("APPSTORE_RATE_LIMITS", default={}).items()},
}
if not set(APPSTORE_RATE_LIMITS) <= {"lookup", "set_token", "history"} or not all(
    str(limit).isdigit() and int(limit) >= 1 for limit in APPSTORE_RATE_LIMITS.values()
):
    raise ImproperlyConfigured(
        "APPSTORE_RATE_LIMITS is like lookup=10,set_token=20,history=50 (requests per second)."
    )
APPSTORE_RATE_LIMITS = {endpoint: int(limit) for endpoint, limit in APPSTORE_RATE_LIMITS.items()}

# --- Adapty (optional) --------------------------------------------------------------------------
ADAPTY_SECRET_KEY = secret_from_env_or_file("ADAPTY_SECRET_KEY")
ADAPTY_BASE_URL = env.str("ADAPTY_BASE_URL", default="https://api.adapty.io")
# Read timeout of one request to Adapty, and how many tries a timeout or a 5xx gets in all.
ADAPTY_TIMEOUT_SECONDS = env.float("ADAPTY_TIMEOUT_SECONDS", default=5.0)
ADAPTY_MAX_ATTEMPTS = env.int("ADAPTY_MAX_ATTEMPTS", default=3)
if ADAPTY_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("ADAPTY_MAX_ATTEMPTS must be at least 1.")
# `make run` serves the local Adapty simulator here (and uses it when no secret key is set).
ADAPTY_SIMULATOR_PORT = env.int("ADAPTY_SIMULATOR_PORT", default=8002)
