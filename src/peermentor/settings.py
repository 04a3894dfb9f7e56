"""Django settings, every value read from the environment (see .env.example)."""

import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from peermentor.env import env_bool, env_int, env_list, env_str
from peermentor.sso_env import identity_provider_origins, oidc_apps, saml_apps

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(env_str("PEERMENTOR_HOME", str(Path.cwd())))

TESTING = "pytest" in sys.modules or env_bool("PEERMENTOR_TESTING")
DEBUG = env_bool("DEBUG", default=False)

_DEV_SECRET = "insecure-development-key-change-me"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET)
# django-stubs' mypy plugin loads these settings to read the models; it serves nothing.
_TYPE_CHECKING_RUN = "mypy" in sys.modules
if (
    not DEBUG
    and not TESTING
    and not _TYPE_CHECKING_RUN
    and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 32)
):
    raise ImproperlyConfigured(
        "Set SECRET_KEY to a long random value (50+ characters) in production, "
        "or DEBUG=true for development."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "allauth.mfa",
    "csp",
    "ninja",
    "peermentor.core",
    "peermentor.accounts",
    "peermentor.people",
    "peermentor.programs",
    "peermentor.enrollment",
    "peermentor.matches",
    "peermentor.selfmatch",
    "peermentor.connections",
    "peermentor.engagement",
    "peermentor.helpnetwork",
    "peermentor.notifications",
    "peermentor.surveys",
    "peermentor.insights",
    "peermentor.flows",
    "peermentor.demo",
    "peermentor.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "peermentor.core.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "peermentor.flows.sign_in.MfaEnrolmentMiddleware",
]

ROOT_URLCONF = "peermentor.urls"
WSGI_APPLICATION = "peermentor.wsgi.application"
ASGI_APPLICATION = "peermentor.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "peermentor.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'peermentor.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the task worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles any query whose estimated cost is high, such as a dashboard
    # count with correlated subqueries: seconds of compiling for milliseconds of work.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Signs in the accounts that single sign-on and the MFA challenge let in.
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in lockout: failures count per account and per client address, each locked on its own
# (tests that exercise the lock switch it on). Behind reverse proxies, set
# PEERMENTOR_TRUSTED_PROXY_COUNT so the address is read from X-Forwarded-For.
AXES_ENABLED = not TESTING
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "peermentor.accounts.lockout.lockout_username"
AXES_CLIENT_IP_CALLABLE = "peermentor.core.addresses.client_address"
PEERMENTOR_TRUSTED_PROXY_COUNT = env_int("PEERMENTOR_TRUSTED_PROXY_COUNT", 0)
# Password reset links per hour: per e-mail address asked for, and requests per client address.
PASSWORD_RESET_MAX_PER_EMAIL = env_int("PASSWORD_RESET_MAX_PER_EMAIL", 3)
PASSWORD_RESET_MAX_PER_ADDRESS = env_int("PASSWORD_RESET_MAX_PER_ADDRESS", 10)

# Sign-in is django-allauth's: the password form (accounts/views.py), OpenID Connect and SAML
# single sign-on, and MFA. There is no self sign-up: accounts come from invitations and from
# the directory at a person's first single sign-on (flows/sign_in.py).
ACCOUNT_ADAPTER = "peermentor.flows.sign_in.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "peermentor.flows.sign_in.DirectorySocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_REDIRECT_URL = LOGOUT_REDIRECT_URL
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_STORE_TOKENS = False
_OIDC_APPS = oidc_apps()
_SAML_APPS = saml_apps()
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {"APPS": _OIDC_APPS, "OAUTH_PKCE_ENABLED": True},
    "saml": {"APPS": _SAML_APPS},
}
SSO_PROVIDER_ORIGINS = identity_provider_origins(_OIDC_APPS, _SAML_APPS)
# SSO only: password sign-in (and reset) is off for everyone but the break-glass admin.
PEERMENTOR_SSO_ONLY = env_bool("PEERMENTOR_SSO_ONLY", default=False)
PEERMENTOR_BREAK_GLASS_EMAIL = env_str("PEERMENTOR_BREAK_GLASS_EMAIL").strip().lower()
if PEERMENTOR_SSO_ONLY and not SSO_PROVIDER_ORIGINS and not _TYPE_CHECKING_RUN:
    raise ImproperlyConfigured("PEERMENTOR_SSO_ONLY needs an OpenID Connect or SAML provider")
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Peermentor")
# Passkeys need a secure origin; on http://127.0.0.1 (make run) the browser allows them too.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The site-wide CSS and htmx live in the package, not in an app's static folder.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_ROOT = BASE_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Peermentor <peermentor@localhost>")

TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if TESTING
            else "django_tasks_db.DatabaseBackend"
        )
    }
}

# Security headers: on whenever we are not debugging; `check --deploy` is clean in production.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
# Preloading binds the organisation's whole domain to HTTPS in every browser for good: its own
# decision (hstspreload.org), not the application's. Off unless asked for, so its check is
# silenced then.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG and not TESTING)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        # The sign-in buttons post here and are redirected to the identity provider.
        "form-action": ["'self'", *SSO_PROVIDER_ORIGINS],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
