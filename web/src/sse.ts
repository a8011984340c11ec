// Incremental parser of a text/event-stream body (the WHATWG "server-sent
// events" framing): feed it decoded text in arbitrary pieces, it returns the
// data of every event completed so far. Only `data:` fields matter to the
// OpenAI streaming API; comments (":") and other fields are skipped.

export class SseParser {
  private buffer = '';
  private data: string[] = [];

  /** Adds text; returns the data of each event that ended inside it. */
  push(text: string): string[] {
    this.buffer += text;
    const events: string[] = [];
    for (;;) {
      const nl = this.buffer.search(/\r\n|\r|\n/);
      if (nl < 0) break;
      // A lone "\r" at the very end may be the first half of "\r\n": wait for more.
      if (this.buffer[nl] === '\r' && nl === this.buffer.length - 1) break;
      const width = this.buffer.startsWith('\r\n', nl) ? 2 : 1;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + width);
      this.line(line, events);
    }
    return events;
  }

  /** The stream ended: an event without its final blank line still counts. */
  end(): string[] {
    const events: string[] = [];
    if (this.buffer) this.line(this.buffer, events);
    this.buffer = '';
    this.line('', events);
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === '') {
      if (this.data.length) events.push(this.data.join('\n'));
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
  }
}

/** What one chunk of an OpenAI chat/completions stream says. */
export interface StreamChunk {
  text: string; // new text (may be empty)
  finishReason: string | null;
  completionTokens: number | null; // from the usage chunk (stream_options.include_usage)
  promptTokens: number | null;
  cachedPromptTokens: number | null;
  cached: boolean; // answered from the response cache
  error: string | null;
  done: boolean; // "[DONE]"
}

interface ChunkJson {
  choices?: { delta?: { content?: string | null }; text?: string; finish_reason?: string | null }[];
  usage?: {
    prompt_tokens?: number;
    completion_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number };
  };
  cached?: boolean;
  error?: { message?: string };
}

export function parseChunk(data: string): StreamChunk {
  const out: StreamChunk = {
    text: '',
    finishReason: null,
    completionTokens: null,
    promptTokens: null,
    cachedPromptTokens: null,
    cached: false,
    error: null,
    done: false,
  };
  if (data.trim() === '[DONE]') {
    out.done = true;
    return out;
  }
  let j: ChunkJson;
  try {
    j = JSON.parse(data) as ChunkJson;
  } catch {
    out.error = `malformed stream chunk: ${data.slice(0, 80)}`;
    return out;
  }
  if (j.error) {
    out.error = j.error.message ?? 'error';
    return out;
  }
  const choice = j.choices?.[0];
  if (choice) {
    out.text = choice.delta?.content ?? choice.text ?? '';
    out.finishReason = choice.finish_reason ?? null;
  }
  if (j.usage) {
    out.completionTokens = j.usage.completion_tokens ?? null;
    out.promptTokens = j.usage.prompt_tokens ?? null;
    out.cachedPromptTokens = j.usage.prompt_tokens_details?.cached_tokens ?? null;
  }
  out.cached = j.cached === true;
  return out;
}
