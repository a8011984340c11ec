"""LLM (blocking) and AsyncLLM (asyncio) over the native runtime."""

import asyncio
import itertools
import os
import weakref
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Sequence, Union

from . import _native
from . import perf_monitor as _perf

ModelPaths = Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]]
Message = Dict[str, str]


@dataclass
class Completion:
    """One finished request."""

    text: str
    finish_reason: str  # "stop", "length" or "cancelled"
    tokens: List[int] = field(default_factory=list)
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0  # prompt tokens whose KV came from the prefix cache
    completion_tokens: int = 0
    from_cache: bool = False  # answered by the response cache
    timings: Dict[str, float] = field(default_factory=dict)  # queue_ms, ttft_ms, total_ms, ...

    @classmethod
    def _from_native(cls, d: Dict[str, Any]) -> "Completion":
        return cls(**d)


Texts = Union[str, Sequence[str]]


def _text_list(texts: Texts) -> List[str]:
    # One string is one input (not a sequence of characters).
    return [texts] if isinstance(texts, str) else list(texts)


def _embed_args(texts: Texts, dimensions: Optional[int], truncate: bool, model: Optional[str]) -> Dict[str, Any]:
    if dimensions is not None and dimensions < 1:
        raise ValueError("dimensions must be >= 1")
    return {"texts": _text_list(texts), "dimensions": 0 if dimensions is None else int(dimensions),
            "truncate": bool(truncate), "model": model or ""}


def _model_list(model: ModelPaths) -> List[str]:
    if isinstance(model, (str, os.PathLike)):
        return [os.fspath(model)]
    return [os.fspath(m) for m in model]


def _no_extensions(tools: Any, response_format: Any) -> None:
    # Honoured or rejected, never silently ignored.
    if tools is not None:
        raise ValueError("tools are not supported by this jarvis build")
    if response_format is not None:
        raise ValueError("response_format is not supported by this jarvis build")


class _Base:
    def __init__(self, model: ModelPaths, *, monitor: Optional["_native.Monitor"] = None,
                 preload: bool = True, **options: Any) -> None:
        self._runtime = _native.Runtime(_model_list(model), options,
                                        monitor if monitor is not None else _perf.monitor)
        if preload:
            self._runtime.load_model("")

    @property
    def default_model(self) -> str:
        """The name of the model used when a request names none."""
        return self._runtime.default_model()

    def models(self) -> List[Dict[str, Any]]:
        """Every model found: name, path, loaded, backend, kv_blocks_used,
        kv_blocks_total, running, waiting, generated_tokens, ..."""
        return list(self._runtime.models())

    def stats(self) -> Dict[str, Any]:
        """The engine's monitoring document (/api/performance/stats) as a dict."""
        import json
        return json.loads(self._runtime.performance_stats_json())

    def prometheus(self) -> str:
        """The Prometheus text exposition (/metrics)."""
        return self._runtime.prometheus_text()

    def close(self, grace: float = 0.0) -> None:
        """Stops accepting requests; running ones may finish for `grace` seconds."""
        self._runtime.shutdown(grace)

    def __enter__(self) -> "_Base":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class LLM(_Base):
    """Blocking API. Calls release the GIL while native code waits or
    computes, so several Python threads calling generate() at once are
    batched by the scheduler.

    LLM(model="m.gguf" | "models/" | [paths...], **options): options are
    `jarvis serve`'s flags with underscores (DEFAULT_OPTIONS). The default
    model is loaded at once unless preload=False.
    """

    def complete(self, prompt: Optional[str] = None, *, messages: Optional[Sequence[Message]] = None,
                 **params: Any) -> Completion:
        """Generates and returns the whole Completion."""
        request = self._runtime.submit(prompt, None if messages is None else list(messages), params)
        return Completion._from_native(request.wait())

    def generate(self, prompt: str, **params: Any) -> str:
        """Completes `prompt`; returns the generated text."""
        return self.complete(prompt, **params).text

    def chat(self, messages: Sequence[Message], *, tools: Any = None, response_format: Any = None,
             **params: Any) -> str:
        """Answers a conversation ([{"role": ..., "content": ...}]) rendered
        with the model's chat template; returns the assistant's text."""
        _no_extensions(tools, response_format)
        return self.complete(messages=messages, **params).text

    def stream(self, prompt: Optional[str] = None, *, messages: Optional[Sequence[Message]] = None,
               **params: Any) -> Iterator[str]:
        """Yields the text as it is generated. Closing the iterator early
        cancels the request (its KV is freed)."""
        request = self._runtime.submit(prompt, None if messages is None else list(messages), params)
        finished = False
        try:
            while True:
                piece = request.next()
                if piece is None:
                    break
                yield piece
            request.wait()  # raises if the request failed
            finished = True
        finally:
            if not finished:
                request.cancel()

    def embed(self, texts: Texts, dimensions: Optional[int] = None, truncate: bool = True,
              model: Optional[str] = None) -> List[List[float]]:
        """One L2-normalized vector per text (a single string is one text),
        in order. dimensions: keep the first N components and renormalize
        (Matryoshka models). truncate=False raises ValueError for a text
        longer than the model's context instead of cutting it. Concurrent
        calls from several threads are batched by the scheduler; repeated
        ones are answered from the response cache."""
        return self._runtime.embed(**_embed_args(texts, dimensions, truncate, model))["embeddings"]

    # The performance guide's names.
    def generate_response(self, prompt: str, enable_cache: bool = True, **params: Any) -> str:
        """generate() with the response cache on or off (it answers repeated
        deterministic requests: temperature=0 or a seed)."""
        return self.generate(prompt, cache=enable_cache, **params)


class _LoopBridge:
    """Delivers a loop's async request events: the native side pushes them
    into an EventQueue and bumps its eventfd; the loop watches the fd
    (add_reader) and drains on its own thread, never blocking."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.queue = _native.EventQueue()
        self.waiters: Dict[int, Any] = {}
        self._loop = loop
        loop.add_reader(self.queue.fd(), self._drain)

    def _drain(self) -> None:
        for tag, piece, final in self.queue.drain():
            waiter = self.waiters.get(tag)
            if waiter is None:
                continue  # cancelled on the Python side
            if piece is not None:
                waiter.put_nowait(piece)
                continue
            del self.waiters[tag]
            if isinstance(waiter, asyncio.Future):
                if not waiter.done():
                    if isinstance(final, BaseException):
                        waiter.set_exception(final)
                    else:
                        waiter.set_result(final)
            else:  # a stream's queue
                waiter.put_nowait(_End(final))


class _End:
    __slots__ = ("final",)

    def __init__(self, final: Any) -> None:
        self.final = final


class AsyncLLM(_Base):
    """asyncio API: `await generate(...)`, `async for piece in stream(...)`,
    `await chat(messages)`. Concurrent awaits are batched by the scheduler
    (continuous batching; no thread pool). Cancelling the awaiting task
    cancels the request, which frees its KV at the scheduler's next step.
    Results come back to the event loop through a file descriptor the loop
    watches: the loop never blocks on native code.

    Same constructor as LLM.
    """

    def __init__(self, model: ModelPaths, **options: Any) -> None:
        super().__init__(model, **options)
        self._bridges: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopBridge]" = \
            weakref.WeakKeyDictionary()
        self._tags = itertools.count(1)

    def _bridge(self) -> _LoopBridge:
        loop = asyncio.get_running_loop()
        bridge = self._bridges.get(loop)
        if bridge is None:
            bridge = _LoopBridge(loop)
            self._bridges[loop] = bridge
        return bridge

    async def complete(self, prompt: Optional[str] = None, *, messages: Optional[Sequence[Message]] = None,
                       **params: Any) -> Completion:
        """Generates and returns the whole Completion."""
        bridge = self._bridge()
        tag = next(self._tags)
        future = asyncio.get_running_loop().create_future()
        bridge.waiters[tag] = future
        try:
            request = self._runtime.submit_async(bridge.queue, tag, False, prompt,
                                                 None if messages is None else list(messages), params)
        except BaseException:
            bridge.waiters.pop(tag, None)
            raise
        try:
            return Completion._from_native(await future)
        except asyncio.CancelledError:
            bridge.waiters.pop(tag, None)
            request.cancel()
            raise

    async def generate(self, prompt: str, **params: Any) -> str:
        """Completes `prompt`; returns the generated text."""
        return (await self.complete(prompt, **params)).text

    async def embed(self, texts: Texts, dimensions: Optional[int] = None, truncate: bool = True,
                    model: Optional[str] = None) -> List[List[float]]:
        """As LLM.embed; concurrent awaits are batched. Cancelling the task
        cancels the request."""
        args = _embed_args(texts, dimensions, truncate, model)
        bridge = self._bridge()
        tag = next(self._tags)
        future = asyncio.get_running_loop().create_future()
        bridge.waiters[tag] = future
        try:
            request = self._runtime.embed_async(bridge.queue, tag, **args)
        except BaseException:
            bridge.waiters.pop(tag, None)
            raise
        try:
            return (await future)["embeddings"]
        except asyncio.CancelledError:
            bridge.waiters.pop(tag, None)
            request.cancel()
            raise

    async def chat(self, messages: Sequence[Message], *, tools: Any = None, response_format: Any = None,
                   **params: Any) -> str:
        """Answers a conversation rendered with the model's chat template."""
        _no_extensions(tools, response_format)
        return (await self.complete(messages=messages, **params)).text

    async def stream(self, prompt: Optional[str] = None, *, messages: Optional[Sequence[Message]] = None,
                     **params: Any) -> AsyncIterator[str]:
        """Yields text pieces as they are generated. Leaving the loop early
        (break, cancellation) cancels the request."""
        bridge = self._bridge()
        tag = next(self._tags)
        pieces: asyncio.Queue = asyncio.Queue()
        bridge.waiters[tag] = pieces
        try:
            request = self._runtime.submit_async(bridge.queue, tag, True, prompt,
                                                 None if messages is None else list(messages), params)
        except BaseException:
            bridge.waiters.pop(tag, None)
            raise
        finished = False
        try:
            while True:
                item = await pieces.get()
                if isinstance(item, _End):
                    finished = True
                    if isinstance(item.final, BaseException):
                        raise item.final
                    return
                yield item
        finally:
            if not finished:
                bridge.waiters.pop(tag, None)
                request.cancel()

    # The performance guide's names.
    async def generate_response(self, prompt: str, enable_cache: bool = True, **params: Any) -> str:
        """generate() with the response cache on or off (it answers repeated
        deterministic requests: temperature=0 or a seed)."""
        return await self.generate(prompt, cache=enable_cache, **params)

    async def generate_with_batching(self, prompt: str, **params: Any) -> str:
        """generate(): every concurrent request is batched already."""
        return await self.generate(prompt, **params)

    def start_batch_processor(self) -> None:
        """No-op: batching is continuous (the scheduler batches every
        running request at each step); nothing to start."""
        return None
