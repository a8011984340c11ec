import { describe, expect, it } from 'vitest';

import { parseChunk, SseParser } from './sse';

describe('SseParser', () => {
  it('splits events at blank lines whatever the pieces', () => {
    const stream = 'data: {"a":1}\n\n: comment\ndata: two\ndata: lines\n\nevent: x\ndata: [DONE]\n\n';
    // Every way of cutting the stream in two gives the same events.
    for (let cut = 0; cut <= stream.length; ++cut) {
      const p = new SseParser();
      const events = [...p.push(stream.slice(0, cut)), ...p.push(stream.slice(cut)), ...p.end()];
      expect(events).toEqual(['{"a":1}', 'two\nlines', '[DONE]']);
    }
  });

  it('accepts CRLF and CR line ends, also split between pieces', () => {
    const p = new SseParser();
    expect(p.push('data: a\r')).toEqual([]);
    expect(p.push('\n\r\ndata:b\r\r\n')).toEqual(['a', 'b']);
  });

  it('ends an unterminated last event at end of stream', () => {
    const p = new SseParser();
    expect(p.push('data: tail')).toEqual([]);
    expect(p.end()).toEqual(['tail']);
  });
});

describe('parseChunk', () => {
  it('reads chat deltas, completion text, finish and usage', () => {
    const delta = parseChunk('{"choices":[{"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}');
    expect(delta.text).toBe('Hi');
    expect(delta.finishReason).toBeNull();
    expect(parseChunk('{"choices":[{"text":" there","finish_reason":"length"}]}')).toMatchObject({
      text: ' there',
      finishReason: 'length',
    });
    const usage = parseChunk(
      '{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":3}}}',
    );
    expect(usage).toMatchObject({ text: '', promptTokens: 5, completionTokens: 7, cachedPromptTokens: 3 });
    expect(parseChunk('{"choices":[{"delta":{},"finish_reason":"stop"}],"cached":true}').cached).toBe(true);
  });

  it('reports [DONE], server errors and garbage', () => {
    expect(parseChunk('[DONE]').done).toBe(true);
    expect(parseChunk('{"error":{"message":"model not found"}}').error).toBe('model not found');
    expect(parseChunk('{not json').error).toMatch(/malformed/);
  });
});
