"""jarvis: local LLM inference (GGUF models) from Python.

Sync and asyncio APIs over the jarvis C++ runtime (continuous batching, a
response cache, the performance monitor), and the HTTP server in-process::

    import asyncio, jarvis

    llm = jarvis.AsyncLLM(model="models/llama3-1b-q4_0.gguf", ctx_size=2048)

    async def main():
        answers = await asyncio.gather(*(llm.generate(f"Fact {i}:", max_tokens=32) for i in range(8)))
        async for piece in llm.stream("Once upon a time", max_tokens=64):
            print(piece, end="", flush=True)

    asyncio.run(main())

Options of LLM / AsyncLLM are `jarvis serve`'s flags with underscores
(`kv_type`, `threads`, `ctx_size`, `gpu_layers`, `parallel`,
`max_loaded_models`, ...; `jarvis.DEFAULT_OPTIONS` lists them with their
defaults). Generation parameters: `max_tokens`, `temperature`, `top_k`,
`top_p`, `min_p`, `repeat_penalty`, `presence_penalty`,
`frequency_penalty`, `seed`, `stop`, `ignore_eos`, `cache`, `timeout`,
`model`.

Errors: FileNotFoundError (missing model file or unknown model name),
ValueError (bad option or parameter), jarvis.QueueFullError (the model's
queue is full), jarvis.ModelError (corrupt or unsupported GGUF),
jarvis.JarvisError (base of jarvis's own errors).
"""

from . import _native
from ._llm import LLM, AsyncLLM, Completion
from ._server import Server, serve
from . import perf_monitor

JarvisError = _native.JarvisError
QueueFullError = _native.QueueFullError
ModelError = _native.ModelError
RequestCancelled = _native.RequestCancelled

__version__: str = _native.__version__
DEFAULT_OPTIONS: dict = dict(_native.default_options())

__all__ = [
    "LLM",
    "AsyncLLM",
    "Completion",
    "Server",
    "serve",
    "perf_monitor",
    "JarvisError",
    "QueueFullError",
    "ModelError",
    "RequestCancelled",
    "DEFAULT_OPTIONS",
]
