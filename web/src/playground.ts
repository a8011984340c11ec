// Playground: one chat turn against POST /v1/chat/completions with
// stream: true, read with fetch + ReadableStream and parsed as SSE (sse.ts).
// Shows the text as it streams, then the timings the client saw: time to
// first token, decode speed (tokens after the first / time since the first)
// and the token counts of the usage chunk.
import { authHeaders, errorOf } from './api';
import { byId, h, setText } from './dom';
import { fmtMs, fmtSig } from './format';
import { parseChunk, SseParser } from './sse';

export interface PlaygroundHooks {
  finished: () => void; // a request ended: poll now so the counters move at once
}

interface RunStats {
  t0: number;
  tFirst: number | null;
  tLast: number | null;
  pieces: number;
  completionTokens: number | null;
  promptTokens: number | null;
  cachedPromptTokens: number | null;
  cached: boolean;
  finish: string | null;
}

export class Playground {
  private readonly form = byId<HTMLFormElement>('pg-form');
  private readonly model = byId<HTMLSelectElement>('pg-model');
  private readonly prompt = byId<HTMLTextAreaElement>('pg-prompt');
  private readonly maxTokens = byId<HTMLInputElement>('pg-max');
  private readonly temperature = byId<HTMLInputElement>('pg-temp');
  private readonly send = byId<HTMLButtonElement>('pg-send');
  private readonly stop = byId<HTMLButtonElement>('pg-stop');
  private readonly stats = byId('pg-stats');
  private readonly out = byId<HTMLOutputElement>('pg-out');
  private abort: AbortController | null = null;
  private modelsKey = '';

  constructor(private readonly hooks: PlaygroundHooks) {
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.run();
    });
    this.prompt.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.form.requestSubmit();
      }
    });
    this.stop.addEventListener('click', () => this.abort?.abort());
  }

  /** Fills the model picker (keeps the user's choice; picks the server's default first). */
  setModels(names: string[], defaultModel: string): void {
    const key = `${names.join('\n')}|${defaultModel}`;
    if (key === this.modelsKey) return;
    this.modelsKey = key;
    const chosen = this.model.value;
    this.model.replaceChildren(...names.map((n) => h('option', { value: n, text: n })));
    this.model.value = names.includes(chosen) ? chosen : names.includes(defaultModel) ? defaultModel : (names[0] ?? '');
  }

  private setBusy(busy: boolean): void {
    this.send.disabled = busy;
    this.stop.disabled = !busy;
    this.form.setAttribute('aria-busy', String(busy));
  }

  private showStats(s: RunStats, now: number, done: boolean): void {
    const parts: string[] = [];
    if (s.tFirst !== null) parts.push(`TTFT ${fmtMs(s.tFirst - s.t0)}`);
    const tokens = s.completionTokens ?? s.pieces;
    if (tokens > 0) parts.push(`${tokens} tokens`);
    if (s.tFirst !== null && s.tLast !== null && tokens > 1) {
      // Decode speed when the tokens came over a measurable time; a fast model's
      // tokens can arrive in one network read, then the rate is end to end.
      const decodeMs = s.tLast - s.tFirst;
      const rate = decodeMs >= 20 ? ((tokens - 1) * 1000) / decodeMs : (tokens * 1000) / Math.max(1, s.tLast - s.t0);
      parts.push(`${fmtSig(rate)} tok/s`);
    }
    parts.push(`${fmtMs(now - s.t0)} total`);
    if (done && s.promptTokens !== null) {
      parts.push(`prompt ${s.promptTokens}${s.cachedPromptTokens ? ` (${s.cachedPromptTokens} cached)` : ''}`);
    }
    if (done && s.finish) parts.push(`finish: ${s.finish}`);
    if (s.cached) parts.push('response cache hit');
    setText(this.stats, parts.join(' · '));
  }

  private async run(): Promise<void> {
    if (this.abort) return;
    const model = this.model.value;
    const body = {
      model,
      messages: [{ role: 'user', content: this.prompt.value }],
      max_tokens: Math.max(1, Math.min(4096, Number(this.maxTokens.value) || 64)),
      temperature: Math.max(0, Number(this.temperature.value) || 0),
      stream: true,
      stream_options: { include_usage: true },
    };
    const abort = new AbortController();
    this.abort = abort;
    this.setBusy(true);
    this.out.textContent = '';
    this.out.dataset.state = 'streaming';
    const text = document.createTextNode('');
    this.out.append(text);
    const s: RunStats = {
      t0: performance.now(),
      tFirst: null,
      tLast: null,
      pieces: 0,
      completionTokens: null,
      promptTokens: null,
      cachedPromptTokens: null,
      cached: false,
      finish: null,
    };
    setText(this.stats, 'waiting for the first token…');
    let state = 'done';
    try {
      const response = await fetch('/v1/chat/completions', {
        method: 'POST',
        headers: authHeaders({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
        body: JSON.stringify(body),
        signal: abort.signal,
      });
      if (!response.ok) throw await errorOf(response);
      if (!response.body) throw new Error('the browser gave no response stream');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (let finished = false; !finished; ) {
        const { value, done } = await reader.read();
        const events = done ? parser.end() : parser.push(value);
        for (const data of events) {
          const c = parseChunk(data);
          if (c.error) throw new Error(c.error);
          if (c.done) finished = true;
          const now = performance.now();
          if (c.text) {
            s.tFirst ??= now;
            s.tLast = now;
            s.pieces += 1;
            text.appendData(c.text);
          }
          if (c.finishReason) s.finish = c.finishReason;
          if (c.completionTokens !== null) s.completionTokens = c.completionTokens;
          if (c.promptTokens !== null) s.promptTokens = c.promptTokens;
          if (c.cachedPromptTokens !== null) s.cachedPromptTokens = c.cachedPromptTokens;
          s.cached ||= c.cached;
        }
        this.showStats(s, performance.now(), false);
        if (done) break;
      }
      if (s.finish === null && !abort.signal.aborted) s.finish = 'incomplete stream';
    } catch (e) {
      if (abort.signal.aborted) {
        state = 'stopped';
        s.finish = 'stopped';
      } else {
        state = 'error';
        this.out.append(h('span', { class: 'pg-error', text: `\n${(e as Error).message}` }));
      }
    } finally {
      this.showStats(s, performance.now(), true);
      this.out.dataset.state = state;
      this.abort = null;
      this.setBusy(false);
      this.hooks.finished();
    }
  }
}
