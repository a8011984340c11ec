import os
from pathlib import Path

import pytest


def shared_dir() -> Path:
    env = os.environ.get("JARVIS_SHARED_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared"


@pytest.fixture(scope="session")
def model_path() -> str:
    path = shared_dir() / "models" / "stories260K.gguf"
    if not path.exists():
        pytest.skip(f"test model missing: {path}")
    return str(path)
