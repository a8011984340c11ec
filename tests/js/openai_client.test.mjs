// Drives a running `jarvis serve` with the official openai npm client,
// unchanged: models, completions, chat, streaming, errors.
// JARVIS_URL: the server ("http://127.0.0.1:PORT"); JARVIS_TEST_MODEL: a model
// it serves (default stories260K).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = `${process.env.JARVIS_URL ?? 'http://127.0.0.1:5050'}/v1`;
const model = process.env.JARVIS_TEST_MODEL ?? 'stories260K';
const client = new OpenAI({ baseURL, apiKey: process.env.JARVIS_API_KEY ?? 'unused', maxRetries: 0, timeout: 60_000 });

test('models.list names the served model', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.ok(ids.includes(model), `models: ${ids}`);
});

test('completions.create (greedy) returns text, finish_reason and usage', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 20, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices.length, 1);
  assert.ok(r.choices[0].text.length > 0);
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 20);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 20);
});

test('chat.completions.create streams the same text it returns whole', async () => {
  const params = { model, messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 24, temperature: 0 };
  const whole = await client.chat.completions.create(params);
  assert.equal(whole.choices[0].message.role, 'assistant');
  const content = whole.choices[0].message.content;
  assert.equal(typeof content, 'string');

  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += choice.delta?.content ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  assert.equal(text, content);
  assert.ok(finish === 'length' || finish === 'stop', `finish_reason ${finish}`);
  assert.equal(usage?.completion_tokens, whole.usage.completion_tokens);
});

test('completions stream ends cleanly with usage', async () => {
  const stream = await client.completions.create({
    model, prompt: 'Once upon a time', max_tokens: 12, temperature: 0, stream: true,
    stream_options: { include_usage: true }, cache: false,
  });
  let text = '';
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    if (chunk.choices[0]) text += chunk.choices[0].text;
  }
  const whole = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 12, temperature: 0 });
  assert.equal(text, whole.choices[0].text);
  assert.equal(usage?.completion_tokens, 12);
});

test('errors surface as the client\'s typed errors', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404);
  await assert.rejects(
    client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && /temperature/.test(e.message));
  await assert.rejects(
    client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], n: 17 }),
    (e) => e instanceof OpenAI.BadRequestError);
});
