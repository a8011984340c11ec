"""jarvis.serve(): the HTTP server of `jarvis serve`, in-process."""

from typing import Any, Optional, Union

from . import _native
from ._llm import AsyncLLM, LLM, ModelPaths


class Server:
    """A running HTTP server (OpenAI and Ollama APIs, monitoring API,
    /metrics, the dashboard at /). Stop it with stop() or a ``with`` block."""

    def __init__(self, native: "_native.Server", llm: Union[LLM, AsyncLLM]) -> None:
        self._native = native
        self.llm = llm  # keeps the runtime alive while serving

    @property
    def url(self) -> str:
        """e.g. "http://127.0.0.1:5050"."""
        return self._native.url

    @property
    def port(self) -> int:
        return self._native.port

    def stop(self, grace: float = 5.0) -> None:
        """Graceful: stops accepting, lets responses in flight finish for up
        to `grace` seconds. Idempotent. The models stay loaded."""
        self._native.stop(grace)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(llm: Optional[Union[LLM, AsyncLLM]] = None, *, model: Optional[ModelPaths] = None,
          host: str = "127.0.0.1", port: int = 5050, api_key: str = "", cors_origin: str = "",
          **options: Any) -> Server:
    """Starts the HTTP server in the background and returns at once.

    With `llm`, the server shares its models, response cache and monitor
    with that LLM / AsyncLLM; otherwise `model` and `options` (as LLM's)
    make a new one. port=0 picks a free port (see Server.port).
    """
    if llm is None:
        if model is None:
            raise ValueError("serve() needs an llm or a model")
        llm = LLM(model, **options)
    elif model is not None or options:
        raise ValueError("serve(llm): model and options belong to the LLM")
    native = _native.Server(llm._runtime, host, port, api_key, cors_origin)
    return Server(native, llm)
