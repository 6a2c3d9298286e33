"""Production settings pass Django's deployment checklist (`check --deploy`) without a warning."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(60),
    "SITE_URL": "https://help.example.com",
    "ALLOWED_HOSTS": "help.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://help.example.com",
    "FIRSTRING_DEBUG": "false",
}


def _check_deploy(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FIRSTRING_", "SECURE_")) and key not in PRODUCTION
    }
    # Set by the browser tests' Playwright fixture in this process; never part of a deployment.
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    environment |= {"FIRSTRING_VAR_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-m", "firstring", "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    # SECURE follows from the https SITE_URL; BEHIND_PROXY is what a TLS-terminating proxy needs.
    result = _check_deploy(tmp_path, **PRODUCTION, BEHIND_PROXY="true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_catches_an_insecure_configuration(tmp_path):
    result = _check_deploy(tmp_path, **PRODUCTION | {"FIRSTRING_SECURE": "false", "FIRSTRING_DEBUG": "true"})
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016", "security.W018"):
        assert warning in output
