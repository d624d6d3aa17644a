"""Supportdesk settings: every value comes from the environment (or a `.env` file beside manage.py).

They fail closed. A variable read without a default is required: start-up stops, naming the first
one missing, and an empty value counts as missing. Any variable NAME may instead be given as
NAME_FILE, the path of a file that holds it (Docker and systemd secrets).

The local defaults (SQLite, the App Store and Adapty simulators, keys made under var/) are switched
on by one variable, SUPPORTDESK_LOCAL=true, which `make run`, `make test` and CI set. Without it
nothing falls back, so a deploy that forgets a value refuses to start rather than run with a
development key or send Apple calls to a simulator.

A setting production must give is declared in its section as
    NAME = env.str("NAME", default=local("value for local runs"))
or, for a secret, `default=local_secret("file-name-under-var")`; see `local` below.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from environ.fileaware_mapping import FileAwareMapping

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


# --- Where the values come from -----------------------------------------------------------------


class EnvironmentWithSecretFiles(FileAwareMapping):
    """The process environment, where NAME_FILE names a file that holds NAME's value."""

    def __getitem__(self, key: str) -> str:
        path = self.env.get(f"{key}_FILE")
        try:
            value = super().__getitem__(key)
        except OSError as problem:
            raise ImproperlyConfigured(
                f"{key}_FILE names {path}, which can't be read: {problem.strerror}."
            ) from None
        # A secret file written by `echo` or an editor ends with a newline that is not the secret.
        return value.strip() if path else value


class Env(environ.FileAwareEnv):
    """django-environ's reader, failing closed: a required variable set to "" is missing too."""

    ENVIRON = EnvironmentWithSecretFiles()

    def get_value(
        self, var: str, cast: Any = None, default: Any = environ.Env.NOTSET, parse_default=False
    ) -> Any:
        if default is self.NOTSET and not self.ENVIRON.get(var, "").strip():
            raise ImproperlyConfigured(
                f"Set the {var} environment variable (or SUPPORTDESK_LOCAL=true for a local run)."
            )
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ValueError as problem:
            raise ImproperlyConfigured(f"{var} has a value that can't be read: {problem}") from None


env = Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")


# --- Local mode ---------------------------------------------------------------------------------
SUPPORTDESK_LOCAL = env.bool("SUPPORTDESK_LOCAL", default=False)


def local(value: Any) -> Any:
    """The default of a variable production must set: `value` in local mode, none otherwise."""
    return value if SUPPORTDESK_LOCAL else environ.Env.NOTSET


def local_secret(file_name: str) -> Any:
    """Like `local`, with a random secret made once and kept in var/FILE_NAME (owner-only)."""
    if not SUPPORTDESK_LOCAL:
        return environ.Env.NOTSET
    path = VAR_DIR / file_name
    if not path.is_file():
        VAR_DIR.mkdir(exist_ok=True)
        draft = path.with_name(f".{file_name}.{os.getpid()}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            out.write(secrets.token_urlsafe(50))
        try:
            # Linking never replaces: when processes start together, the first one's secret stays.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


# --- Django -------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=SUPPORTDESK_LOCAL)
SECRET_KEY = env.str("SECRET_KEY", default=local_secret("django-secret-key"))
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=local(["127.0.0.1", "localhost", "testserver"]))
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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "lookups",
    # After lookups, whose `db_worker` (the package's, plus the sweep) is the one manage.py runs.
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # An open page's "nothing changed?" is answered here, before everything below.
    "lookups.middleware.UnchangedPageMiddleware",
    # Apple's notification posts, answered before the signed-in machinery below.
    "lookups.middleware.NotificationDoorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Whether this session passed a second factor, and sending those who must to it.
    "django_otp.middleware.OTPMiddleware",
    "lookups.second_factor.SecondFactorRequired",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "lookups.middleware.AgentTimezoneMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "supportdesk.urls"
# Mounts a bare endpoint (supportdesk/stack_limit.py) for benchmarks/notifications_ingest.py, the
# only thing that sets it. Never on a server.
BENCHMARK_STACK_LIMIT = env.bool("BENCHMARK_STACK_LIMIT", default=False)
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
                "lookups.context_processors.product_catalogue",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# One way to write a moment on every page, the admin included (supportdesk/formats/).
FORMAT_MODULE_PATH = ["supportdesk.formats"]
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}


# --- Database and cache -------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=local(f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}
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
    # PostgreSQL's index operator classes (the search's trigram indexes). Only here: on SQLite it
    # would do nothing but import psycopg, most of a second of a first `make run`.
    INSTALLED_APPS.insert(INSTALLED_APPS.index("django_htmx"), "django.contrib.postgres")

# Apple's bearer token and the rate budget are shared through it: Redis when several processes
# serve the desk, locmemcache:// for exactly one.
CACHES = {"default": env.cache("CACHE_URL", default=local("locmemcache://supportdesk"))}


# --- Security -----------------------------------------------------------------------------------
# A strict Content-Security-Policy (no inline code, nothing from other origins).
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
# Every signed-in page reads its session: from the cache (one Redis GET, no write while it is
# unchanged), the database behind it only when the cache lost it. Signing out still deletes it
# from both, and it still expires with its cookie age.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
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


# --- Signing in ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Refuses a sign-in while its username or address is locked out, before checking anything.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, with a user's permissions read in one query.
    "lookups.permissions_backend.ModelBackendInOneQuery",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "lookups:home"
LOGOUT_REDIRECT_URL = "login"

# Failed sign-ins (django-axes): after AXES_FAILURE_LIMIT failures a username is locked out from
# anywhere, and (counted apart) a username from one address, for AXES_COOLOFF_MINUTES. Never an
# address alone: a team behind one office address is not stopped by one person's typos. Kept in
# the database, so every worker sees them; a manager lifts one on the lockouts page.
# A second factor (django-otp: an authenticator app's TOTP codes, and recovery codes) for the
# members of these groups; "superusers" names every superuser. Local mode names none by default,
# so `make run`'s demo logins stay one step. README recommends every staff group.
SECOND_FACTOR_GROUPS = env.list(
    "SECOND_FACTOR_GROUPS", default=[] if SUPPORTDESK_LOCAL else ["Managers", "superusers"]
)
OTP_TOTP_ISSUER = "Supportdesk"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "lookups.sign_in.client_address"
AXES_USERNAME_CALLABLE = "lookups.sign_in.attempted_username"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
AXES_VERBOSE = False


# --- The App Store Server API -------------------------------------------------------------------
# Local mode talks to the App Store simulator (`make run`, or `manage.py appstore_simulator`).
APPSTORE_SIMULATOR_PORT = env.int("APPSTORE_SIMULATOR_PORT", default=8001)
# Where the simulator sends App Store Server Notifications: in local mode, the desk's own endpoint.
# A server has no simulator, so it needs none.
APPSTORE_SIMULATOR_NOTIFICATION_URL = env.str(
    "APPSTORE_SIMULATOR_NOTIFICATION_URL",
    default=(
        f"http://127.0.0.1:{env.int('SUPPORTDESK_PORT', default=8000)}/appstore/notifications/"
        if SUPPORTDESK_LOCAL
        else ""
    ),
)
APPSTORE_ISSUER_ID = env.str(
    "APPSTORE_ISSUER_ID", default=local("57246542-96fe-1a63-e053-0824d011072a")
)
APPSTORE_KEY_ID = env.str("APPSTORE_KEY_ID", default=local("SIMULATOR1"))
# The .p8 key: its PEM text (APPSTORE_PRIVATE_KEY, or APPSTORE_PRIVATE_KEY_FILE), or its path.
APPSTORE_PRIVATE_KEY = env.str("APPSTORE_PRIVATE_KEY", default="")
APPSTORE_PRIVATE_KEY_PATH = env.str(
    "APPSTORE_PRIVATE_KEY_PATH",
    default="" if APPSTORE_PRIVATE_KEY else local(str(VAR_DIR / "appstore-local-key.p8")),
)
APPSTORE_BUNDLE_ID = env.str("APPSTORE_BUNDLE_ID", default=local("com.example.supportdesk.demo"))
APPSTORE_ENVIRONMENT = env.str("APPSTORE_ENVIRONMENT", default="Production")
if APPSTORE_ENVIRONMENT not in ("Production", "Sandbox"):
    raise ImproperlyConfigured("APPSTORE_ENVIRONMENT must be Production or Sandbox.")
# Apple names the app's Apple ID in production transactions only: a Sandbox deploy may leave it out.
APPSTORE_APP_APPLE_ID = env.int(
    "APPSTORE_APP_APPLE_ID",
    default=local(1234567890) if APPSTORE_ENVIRONMENT == "Production" else None,
)
# Empty: Apple's host for APPSTORE_ENVIRONMENT.
APPSTORE_BASE_URL = env.str(
    "APPSTORE_BASE_URL",
    default=f"http://127.0.0.1:{APPSTORE_SIMULATOR_PORT}" if SUPPORTDESK_LOCAL else "",
)
# The Sandbox's host for apps that use it (empty: Apple's); the simulator serves it under a path.
APPSTORE_SANDBOX_BASE_URL = env.str(
    "APPSTORE_SANDBOX_BASE_URL",
    default=f"http://127.0.0.1:{APPSTORE_SIMULATOR_PORT}/sandbox" if SUPPORTDESK_LOCAL else "",
)
# Transactions are trusted only when their chain ends at one of these (DER or PEM files).
APPSTORE_ROOT_CERTIFICATES = env.list(
    "APPSTORE_ROOT_CERTIFICATES", default=local([str(VAR_DIR / "appstore-simulator-root.pem")])
)
# Online checks: the leaf and intermediate of every chain are checked for revocation against the
# OCSP responder they name (Apple recommends it in production), answers cached while valid.
APPSTORE_ONLINE_CHECKS = env.bool("APPSTORE_ONLINE_CHECKS", default=not DEBUG)
APPSTORE_OCSP_TIMEOUT_SECONDS = env.float("APPSTORE_OCSP_TIMEOUT_SECONDS", default=5.0)
APPSTORE_TIMEOUT_SECONDS = env.float("APPSTORE_TIMEOUT_SECONDS", default=10.0)
APPSTORE_MAX_RETRY_AFTER_SECONDS = env.float("APPSTORE_MAX_RETRY_AFTER_SECONDS", default=5.0)
APPSTORE_CALL_BUDGET_SECONDS = env.float("APPSTORE_CALL_BUDGET_SECONDS", default=20.0)
# How long a verified lookup of a purchase is trusted for a link decision; older, Apple is asked.
PURCHASE_FRESH_SECONDS = env.int("PURCHASE_FRESH_SECONDS", default=300)
# Goodwill days one agent may grant per day (UTC) before a manager must approve each extension.
EXTENSION_DAYS_PER_AGENT_PER_DAY = env.int("EXTENSION_DAYS_PER_AGENT_PER_DAY", default=30)
# The desk's own answer to a refund request nobody answered, sent this many minutes before
# Apple's deadline; None: no automatic answer. Keys are ConsumptionInformation's fields; the
# customer's consent must come from the terms they accepted, or the policy can't answer.
# Given as a JSON object, e.g. {"customer_consented": true, "delivery_status": "DELIVERED",
# "sample_content_provided": false, "refund_preference": "DECLINE"}.
REFUND_POLICY: dict | None = env.json("REFUND_POLICY", default=None) or None
_REFUND_POLICY_KEYS = {
    "customer_consented",
    "delivery_status",
    "sample_content_provided",
    "consumption_percentage",
    "refund_preference",
}
if REFUND_POLICY is not None and (
    not isinstance(REFUND_POLICY, dict)
    or not set(REFUND_POLICY) <= _REFUND_POLICY_KEYS
    or REFUND_POLICY.get("customer_consented") is not True
    or "delivery_status" not in REFUND_POLICY
    or not isinstance(REFUND_POLICY.get("sample_content_provided"), bool)
):
    raise ImproperlyConfigured(
        "REFUND_POLICY is a JSON object with customer_consented (true), delivery_status and "
        "sample_content_provided, and optionally consumption_percentage and refund_preference."
    )
REFUND_POLICY_MARGIN_MINUTES = env.int("REFUND_POLICY_MARGIN_MINUTES", default=30)
# Requests per second all workers together send to each endpoint (kept in the cache, CACHE_URL).
# (django-environ's typed dicts split on ";", so the documented commas are read as strings.)
# Apple's limits by default; a tenth of those in Sandbox.
_APPLE_RATE_LIMITS = {
    "lookup": 10,
    "set_token": 20,
    "history": 50,
    "statuses": 50,
    "transaction_info": 50,
    "refund_history": 10,
    "extend": 20,
    "consumption": 50,
    "notification_history": 50,
    "mass_extend": 20,
    "mass_extend_status": 20,
    "app_transaction": 50,
    "finish": 50,
    # Apple allows one test notification a second, in the Sandbox too.
    "test_notification": 1,
}
APPSTORE_RATE_LIMITS = {
    **(
        _APPLE_RATE_LIMITS
        if APPSTORE_ENVIRONMENT == "Production"
        else {endpoint: max(1, limit // 10) for endpoint, limit in _APPLE_RATE_LIMITS.items()}
    ),
    **{k.strip(): v.strip() for k, v in env.dict("APPSTORE_RATE_LIMITS", default={}).items()},
}
if not set(APPSTORE_RATE_LIMITS) <= set(_APPLE_RATE_LIMITS) or not all(
    str(limit).isdigit() and int(limit) >= 1 for limit in APPSTORE_RATE_LIMITS.values()
):
    raise ImproperlyConfigured(
        "APPSTORE_RATE_LIMITS is like lookup=10,set_token=20,history=50 (requests per second; "
        f"endpoints: {', '.join(_APPLE_RATE_LIMITS)})."
    )
APPSTORE_RATE_LIMITS = {endpoint: int(limit) for endpoint, limit in APPSTORE_RATE_LIMITS.items()}


# --- Adapty (optional) --------------------------------------------------------------------------
# The local Adapty simulator (`make run` serves it) listens here and takes this key. Local mode
# sends to it unless ADAPTY_SECRET_KEY is given; ADAPTY_SECRET_KEY= (empty) turns the step off.
ADAPTY_SIMULATOR_PORT = env.int("ADAPTY_SIMULATOR_PORT", default=8002)
ADAPTY_SIMULATOR_SECRET_KEY = "secret_local_demo.supportdesk"
# Turns the Adapty step on.
ADAPTY_SECRET_KEY = env.str(
    "ADAPTY_SECRET_KEY", default=ADAPTY_SIMULATOR_SECRET_KEY if SUPPORTDESK_LOCAL else ""
)
ADAPTY_BASE_URL = env.str(
    "ADAPTY_BASE_URL",
    # The simulator's key goes to the simulator only.
    default=f"http://127.0.0.1:{ADAPTY_SIMULATOR_PORT}"
    if ADAPTY_SECRET_KEY == ADAPTY_SIMULATOR_SECRET_KEY
    else "https://api.adapty.io",
)
# Read timeout of one request to Adapty, and how many tries a timeout or a 5xx gets in all.
ADAPTY_TIMEOUT_SECONDS = env.float("ADAPTY_TIMEOUT_SECONDS", default=5.0)
ADAPTY_MAX_ATTEMPTS = env.int("ADAPTY_MAX_ATTEMPTS", default=3)
if ADAPTY_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("ADAPTY_MAX_ATTEMPTS must be at least 1.")

# --- Background work (Django's Tasks framework; `manage.py db_worker` runs the queue) -----------
# The queue is a table in the same database (django-tasks-db): nothing else to run or back up,
# and work is queued in the same transaction as the rows it is about.
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# A timed-out Set App Account Token call is first checked at Apple this long after its budget
# ran out, so that Apple's late answer has landed by then.
TOKEN_CHECK_MARGIN_SECONDS = env.float("TOKEN_CHECK_MARGIN_SECONDS", default=30.0)
# How many times the desk asks Apple what became of an action whose answer never arrived (a
# link, an extension, a consumption answer) before giving up on it. TOKEN_CHECK_ATTEMPTS is the
# setting's former name, still read from the environment.
APPLE_FOLLOW_UP_ATTEMPTS = env.int(
    "APPLE_FOLLOW_UP_ATTEMPTS", default=env.int("TOKEN_CHECK_ATTEMPTS", default=10)
)
# How often the desk reads the status of an outage compensation Apple is working through.
OUTAGE_STATUS_POLL_SECONDS = env.float("OUTAGE_STATUS_POLL_SECONDS", default=60.0)
# Sends to Adapty a worker makes for one click before leaving it to the agent's retry button.
ADAPTY_DELIVERY_ATTEMPTS = env.int("ADAPTY_DELIVERY_ATTEMPTS", default=3)
# Backoff between tries of background work: doubling from the first delay, up to the cap.
TASK_RETRY_DELAY_SECONDS = env.float("TASK_RETRY_DELAY_SECONDS", default=30.0)
TASK_RETRY_CAP_SECONDS = env.float("TASK_RETRY_CAP_SECONDS", default=1800.0)
# A worker that loses the database waits for it, asking again this often, for this long at
# most; past that it exits with the error, for its supervisor to start it again.
DB_WORKER_RECONNECT_SECONDS = env.float("DB_WORKER_RECONNECT_SECONDS", default=2.0)
DB_WORKER_OUTAGE_PATIENCE_SECONDS = env.float("DB_WORKER_OUTAGE_PATIENCE_SECONDS", default=600.0)
# The sweep: how often it runs, and how overdue work must be before it takes it over.
SWEEP_INTERVAL_SECONDS = env.float("SWEEP_INTERVAL_SECONDS", default=60.0)
SWEEP_OVERDUE_SECONDS = env.float("SWEEP_OVERDUE_SECONDS", default=120.0)
# Retention: applied App Store notifications (and refused bodies) older than this many days are
# deleted once a day, RETENTION_BATCH_ROWS at a time with a pause between batches. Apple's own
# notification history goes back 180 days. The audit log is never pruned.
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", default=180)
RETENTION_BATCH_ROWS = env.int("RETENTION_BATCH_ROWS", default=1000)
RETENTION_PAUSE_SECONDS = env.float("RETENTION_PAUSE_SECONDS", default=0.05)
# A task still "running" this long after it started lost its worker; the sweep marks it failed.
TASKS_ABANDONED_AFTER_SECONDS = env.float("TASKS_ABANDONED_AFTER_SECONDS", default=600.0)
# The reports page shows the queue in red once a task has waited longer than this.
TASKS_WAITING_ALERT_MINUTES = env.float("TASKS_WAITING_ALERT_MINUTES", default=5.0)
# How often an open page asks whether what it shows has changed (lookups/views/live.py): a
# change shows within this and one render.
LIVE_POLL_SECONDS = env.float("LIVE_POLL_SECONDS", default=3.0)
if min(APPLE_FOLLOW_UP_ATTEMPTS, ADAPTY_DELIVERY_ATTEMPTS) < 1:
    raise ImproperlyConfigured(
        "APPLE_FOLLOW_UP_ATTEMPTS and ADAPTY_DELIVERY_ATTEMPTS are at least 1."
    )

# The notification endpoint's door (lookups/services/notification_door.py): refusals one address
# may cost per minute before it is answered 429 unread, refused bodies kept as samples per address
# and hour, and how long the counts and samples are kept (the sweep prunes older ones).
NOTIFICATION_REFUSALS_PER_MINUTE = env.int("NOTIFICATION_REFUSALS_PER_MINUTE", default=20)
NOTIFICATION_REFUSED_SAMPLES_PER_HOUR = env.int("NOTIFICATION_REFUSED_SAMPLES_PER_HOUR", default=5)
NOTIFICATION_REFUSED_KEEP_DAYS = env.int("NOTIFICATION_REFUSED_KEEP_DAYS", default=30)

# --- The audit log ------------------------------------------------------------------------------
# The key of the audit log's HMAC chain (lookups/audit_chain.py). It never reaches the database, so
# someone who can only write to the database can't add a row the chain accepts. Given as
# AUDIT_CHAIN_KEY or in the file AUDIT_CHAIN_KEY_FILE names; at least 32 characters. Local runs
# make one once under var/.
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default=local_secret("audit-chain-key"))
if len(AUDIT_CHAIN_KEY) < 32:
    raise ImproperlyConfigured("AUDIT_CHAIN_KEY must be at least 32 characters.")
# Where `verify_audit_log` keeps the chain heads it has seen, outside the database: each run checks
# the chain still holds every one and appends the head it saw.
AUDIT_ANCHOR_FILE = env.str("AUDIT_ANCHOR_FILE", default="")
# How often the workers run verify_audit_log by themselves (lookups/services/audit_checks.py).
AUDIT_CHECK_INTERVAL_MINUTES = env.float("AUDIT_CHECK_INTERVAL_MINUTES", default=60.0)
