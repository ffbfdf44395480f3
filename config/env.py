"""Environment access for settings: 12-factor, with `NAME_FILE` variants for secrets.

`FileAwareEnv` reads `SECRET_KEY_FILE` (a mounted secret) before `SECRET_KEY`, so every
setting below can come from a file without code changes.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()

# Runtime state of the embedded defaults (SQLite file, dev keys, Celery's filesystem queue).
VAR_DIR = Path(env("STRONGROOM_VAR_DIR", default=str(BASE_DIR / "var")))
