"""Production settings: refuse to start without a real secret, and pass Django's deploy checks.

Each case runs `manage.py` in a fresh process, as a production server would start, with only
the environment the case gives (settings are read once, at import).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "k" * 20 + "-production-secret-" + "9" * 20


def manage(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # (DJANGO_ALLOW_ASYNC_UNSAFE is set for the browser tests, never in production.)
        if key
        not in {
            "DEBUG",
            "SECRET_KEY",
            "PEERMENTOR_TESTING",
            "ALLOWED_HOSTS",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(environment)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "secret", [None, "insecure-development-key-change-me", "short"], ids=["none", "dev", "short"]
)
def test_production_refuses_to_start_without_a_real_secret(secret):
    environment = {"DEBUG": "false", "ALLOWED_HOSTS": "peermentor.example.com"}
    if secret is not None:
        environment["SECRET_KEY"] = secret
    result = manage("check", **environment)
    assert result.returncode != 0
    assert "Set SECRET_KEY to a long random value" in result.stderr


def test_production_settings_pass_the_deploy_checks():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="peermentor.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_starts_without_a_secret():
    assert manage("check", DEBUG="true").returncode == 0
