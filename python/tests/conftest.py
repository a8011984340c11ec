import os
import subprocess
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


@pytest.fixture(scope="session")
def long_context_model_path(tmp_path_factory, model_path) -> str:
    """A tiny random-weight model with a 4096-token context (`jarvis synth
    --preset tiny-chat`): a request that runs to its end lasts long enough to be
    seen running and cancelled, even on a loaded machine (stories260K's 512
    positions take well under 100 ms). Falls back to stories260K without the CLI."""
    binary = os.environ.get("JARVIS_TEST_BIN")
    if not binary:
        return model_path
    out = tmp_path_factory.mktemp("models") / "tiny-chat.gguf"
    subprocess.run([binary, "synth", "--preset", "tiny-chat", "--type", "q8_0", "--seed", "3", "--out", str(out)],
                   check=True, capture_output=True)
    return str(out)
