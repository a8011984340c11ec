// Embeddings through the official clients, unchanged, against a running
// `jarvis serve`: openai's embeddings.create (its default base64 transfer,
// explicit float and base64, dimensions, batches, token-id input) and
// ollama's embed, with errors in each API's shape.
// JARVIS_URL: the server; JARVIS_TEST_MODEL: a model it serves that can embed
// (stories260K: a decoder embedder); JARVIS_ENCODER_MODEL: an encoder
// (bert-family) model it serves, which must refuse to generate
// (run_openai_test.sh synthesizes tiny-bert).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Ollama } from 'ollama';

const url = process.env.JARVIS_URL ?? 'http://127.0.0.1:5050';
const model = process.env.JARVIS_TEST_MODEL ?? 'stories260K';
const encoder = process.env.JARVIS_ENCODER_MODEL;
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });
const ollama = new Ollama({ host: url });

const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const cosine = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0) / (norm(a) * norm(b));
function decodeBase64(s) {
  const bytes = Buffer.from(s, 'base64');
  return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
}

const texts = ['Once upon a time there was a cat.', 'The dog ran to the park.', 'Once upon a time there was a cat.'];

test('openai embeddings.create: batch of unit vectors, usage, same text same vector', async () => {
  const r = await client.embeddings.create({ model, input: texts });  // the client asks for base64 and decodes it
  assert.equal(r.object, 'list');
  assert.equal(r.model, model);
  assert.equal(r.data.length, 3);
  r.data.forEach((d, i) => {
    assert.equal(d.object, 'embedding');
    assert.equal(d.index, i);
    assert.ok(Math.abs(norm(d.embedding) - 1) < 1e-4, `norm ${norm(d.embedding)}`);
  });
  assert.deepEqual(r.data[2].embedding, r.data[0].embedding);
  assert.ok(cosine(r.data[0].embedding, r.data[1].embedding) < 0.99999);
  assert.ok(r.usage.prompt_tokens > 6);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens);
});

test('openai embeddings.create: float and base64 formats carry the same floats', async () => {
  const f = await client.embeddings.create({ model, input: texts[1], encoding_format: 'float' });
  const b = await client.embeddings.create({ model, input: texts[1], encoding_format: 'base64' });
  assert.equal(typeof b.data[0].embedding, 'string');
  const decoded = decodeBase64(b.data[0].embedding);
  assert.equal(decoded.length, f.data[0].embedding.length);
  decoded.forEach((x, i) => assert.equal(x, Math.fround(f.data[0].embedding[i])));
});

test('openai embeddings.create: dimensions cuts and renormalizes; token ids are accepted', async () => {
  const full = await client.embeddings.create({ model, input: texts[0], encoding_format: 'float' });
  const cut = await client.embeddings.create({ model, input: texts[0], encoding_format: 'float', dimensions: 8 });
  const v = cut.data[0].embedding;
  assert.equal(v.length, 8);
  assert.ok(Math.abs(norm(v) - 1) < 1e-4);
  const head = full.data[0].embedding.slice(0, 8);
  assert.ok(cosine(v, head) > 0.9999);
  const ids = await client.embeddings.create({ model, input: [[1, 300, 400], [1, 500]], encoding_format: 'float' });
  assert.equal(ids.data.length, 2);
  assert.equal(ids.usage.prompt_tokens, 5);
});

test('openai embeddings.create: bad requests are 4xx errors', async () => {
  await assert.rejects(client.embeddings.create({ model, input: '' }), (e) => e.status === 400);
  await assert.rejects(client.embeddings.create({ model: 'no-such-model', input: 'x' }), (e) => e.status === 404);
  await assert.rejects(client.embeddings.create({ model, input: 'x', dimensions: 1 << 19 }), (e) => e.status === 400);
});

test('ollama embed: embeddings, counts and durations; truncate false refuses a long input', async () => {
  const r = await ollama.embed({ model, input: [texts[0], texts[1]] });
  assert.equal(r.model, model);
  assert.equal(r.embeddings.length, 2);
  const openai = await client.embeddings.create({ model, input: texts[0], encoding_format: 'float' });
  r.embeddings[0].forEach((x, i) => assert.ok(Math.abs(x - openai.data[0].embedding[i]) < 1e-6));
  assert.ok(r.prompt_eval_count > 6);
  assert.ok(r.total_duration >= r.load_duration);
  const one = await ollama.embed({ model, input: texts[1], truncate: true, keep_alive: '5m' });
  assert.equal(one.embeddings.length, 1);
  // Longer than the context the server gives the model (its training context, at most 4096).
  const info = (await ollama.show({ model })).model_info;
  const ctx = Math.min(info[`${info['general.architecture']}.context_length`], 4096);
  const long = 'once upon a time '.repeat(Math.ceil(ctx / 3));
  const cut = await ollama.embed({ model, input: long });
  assert.equal(cut.embeddings.length, 1);
  await assert.rejects(ollama.embed({ model, input: long, truncate: false }), (e) => /context/.test(e.message));
  await assert.rejects(ollama.embed({ model: 'no-such-model', input: 'x' }), (e) => /not found/.test(e.message));
});

test('ollama embeddings (legacy): prompt -> embedding', async () => {
  const r = await ollama.embeddings({ model, prompt: texts[1] });
  assert.ok(Array.isArray(r.embedding));
  assert.ok(Math.abs(norm(r.embedding) - 1) < 1e-4);
});

test('an encoder model embeds and refuses to generate', async () => {
  assert.ok(encoder, 'JARVIS_ENCODER_MODEL must name an encoder model the server serves');
  const r = await client.embeddings.create({ model: encoder, input: ['hello world', 'goodbye'] });
  assert.equal(r.data.length, 2);
  assert.ok(Math.abs(norm(r.data[0].embedding) - 1) < 1e-4);
  const e = await ollama.embed({ model: encoder, input: 'hello world' });
  assert.equal(e.embeddings.length, 1);
  await assert.rejects(client.completions.create({ model: encoder, prompt: 'hi', max_tokens: 2 }),
    (err) => err.status === 400 && /embedding model; it cannot generate/.test(err.message));
  await assert.rejects(
    client.chat.completions.create({ model: encoder, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    (err) => err.status === 400 && /embedding model; it cannot generate/.test(err.message));
  await assert.rejects(ollama.chat({ model: encoder, messages: [{ role: 'user', content: 'hi' }], stream: false }),
    (err) => /cannot generate/.test(err.message));
  await assert.rejects(ollama.generate({ model: encoder, prompt: 'hi', stream: false }),
    (err) => /cannot generate/.test(err.message));
});
