import secrets
from pathlib import Path


def read_or_create_secret(path: Path) -> str:
    """Return the secret stored at path, creating it (readable by the owner only) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(50)
    path.touch(mode=0o600)
    path.write_text(value)
    return value
