"""The README's asyncio example, run as written against the test model, so
the documentation cannot drift from the package. The code block is taken
from README.md ("### Python" section); only the model path is replaced."""

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE_MODEL = "models/llama3-1b-q4_0.gguf"


def readme_python_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n### Python", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "README.md's Python section has no ```python block"
    return blocks[0]


def test_readme_example_block_is_the_asyncio_example():
    code = readme_python_example()
    # What the test below relies on: if the example changes shape, update both.
    assert "jarvis.AsyncLLM(" in code
    assert "asyncio.run(main())" in code
    assert code.count(f'"{EXAMPLE_MODEL}"') == 1, f"the example should load {EXAMPLE_MODEL}"


def test_readme_example_runs(model_path, tmp_path):
    code = readme_python_example().replace(f'"{EXAMPLE_MODEL}"', repr(model_path))
    script = tmp_path / "readme_example.py"
    script.write_text(code, encoding="utf-8")
    # Its own interpreter: the example calls asyncio.run and builds its own LLM.
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240,
                         env=dict(os.environ))
    assert run.returncode == 0, run.stderr
    # The streamed story is printed (then the chat answer, which a tiny story
    # model may leave empty).
    assert len(run.stdout.strip()) > 20, run.stdout
