// The output side of chat replies through the official clients, unchanged,
// against a running `jarvis serve` (JARVIS_URL, JARVIS_TEST_MODEL as in
// openai_client.test.mjs): tools with tool_choice, tool-call round trips,
// structured output, /v1/models/{id}, and the ollama client's tools, show and
// errors (Ollama's {"error": "..."} shape).
//
// The constrained tests (tool_choice "required"/named, chat.completions.parse
// with a zod schema) need grammar-constrained decoding. They first ask the
// server (constrainedDecoding below: a tool_choice "required" request, which
// a server without it refuses with a 400 rather than answer unconstrained)
// and are skipped, saying so, when it lacks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { Ollama } from 'ollama';
import { z } from 'zod';

const url = process.env.JARVIS_URL ?? 'http://127.0.0.1:5050';
const model = process.env.JARVIS_TEST_MODEL ?? 'stories260K';
// Tool calls go through the model's own chat template: a model that carries one
// (run_openai_test.sh synthesizes a tiny one with Qwen3's template).
const toolsModel = process.env.JARVIS_TOOLS_MODEL ?? model;
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });
const ollama = new Ollama({ host: url });

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather of a city',
    parameters: {
      type: 'object',
      // Bounded, so that even a random-weight model's constrained call ends.
      properties: { city: { type: 'string', maxLength: 16 } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};
const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];

// A 400 that says the build cannot constrain decoding (the lead's merge of
// the grammar work lifts it).
function lacksConstraints(e) {
  return e instanceof OpenAI.BadRequestError && /grammar/.test(e.message);
}

let constrained;
async function constrainedDecoding() {
  if (constrained === undefined) {
    try {
      await client.chat.completions.create({
        model: toolsModel, messages, tools: [weatherTool], tool_choice: 'required', max_tokens: 1, temperature: 0,
      });
      constrained = true;
    } catch (e) {
      if (!lacksConstraints(e)) throw e;
      constrained = false;
    }
  }
  return constrained;
}

test('models.retrieve finds the served model and 404s an unknown one', async () => {
  const m = await client.models.retrieve(model);
  assert.equal(m.id, model);
  assert.equal(m.object, 'model');
  await assert.rejects(client.models.retrieve('no-such-model'), (e) => e instanceof OpenAI.NotFoundError);
});

test('tools with tool_choice auto: a valid reply, whole and streamed', async () => {
  const params = { model: toolsModel, messages, tools: [weatherTool], max_tokens: 12, temperature: 0 };
  const whole = await client.chat.completions.create(params);
  const choice = whole.choices[0];
  assert.ok(['stop', 'length', 'tool_calls'].includes(choice.finish_reason), choice.finish_reason);
  if (choice.finish_reason === 'tool_calls') {
    assert.ok(choice.message.tool_calls.length > 0);
  } else {
    assert.equal(typeof choice.message.content, 'string');
  }
  // The client's stream helper assembles content and tool-call deltas.
  const stream = client.beta.chat.completions.stream(params);
  const final = await stream.finalChatCompletion();
  assert.equal(final.choices[0].message.content ?? '', choice.message.content ?? '');
});

test('tool_choice naming an undeclared function is a 400 naming it', async () => {
  await assert.rejects(
    client.chat.completions.create({
      model: toolsModel, messages, tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'launch' } },
    }),
    (e) => e instanceof OpenAI.BadRequestError && /launch/.test(e.message));
});

test('n = 2 returns two choices', async () => {
  const r = await client.chat.completions.create({ model, messages, n: 2, max_tokens: 6, seed: 3, temperature: 0.8 });
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1]);
});

test('tool_choice required: a call of the declared tool with schema-valid arguments, then the round trip', async (t) => {
  if (!(await constrainedDecoding())) return t.skip('server cannot constrain decoding (grammar)');
  const r = await client.chat.completions.create({
    model: toolsModel, messages, tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'get_weather' } },
    max_tokens: 256, temperature: 0,
  });
  const msg = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(msg.tool_calls.length, 1);
  const call = msg.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  const args = JSON.parse(call.function.arguments);
  assert.equal(typeof args.city, 'string');
  assert.deepEqual(Object.keys(args), ['city']);
  // Round trip: the call and its result go back; the model answers.
  const next = await client.chat.completions.create({
    model: toolsModel, max_tokens: 8, temperature: 0, tools: [weatherTool],
    messages: [...messages, msg, { role: 'tool', tool_call_id: call.id, content: '{"temp_c": 21}' }],
  });
  assert.ok(next.choices[0].message);
});

test('chat.completions.parse with a zod schema', async (t) => {
  if (!(await constrainedDecoding())) return t.skip('server cannot constrain decoding (grammar)');
  // Bounded strings: the constrained answer of a random-weight model ends
  // well within max_tokens, so it must parse.
  const Answer = z.object({ city: z.string().max(16), sunny: z.boolean() });
  const r = await client.beta.chat.completions.parse({
    model: toolsModel, messages, response_format: zodResponseFormat(Answer, 'answer'), max_tokens: 256, temperature: 0,
  });
  assert.equal(r.choices[0].finish_reason, 'stop');
  const parsed = r.choices[0].message.parsed;
  assert.ok(Answer.safeParse(parsed).success, JSON.stringify(r.choices[0].message));
});

test('ollama client: chat with tools, show, and errors as messages', async () => {
  const r = await ollama.chat({ model: toolsModel, messages, tools: [weatherTool], options: { num_predict: 8, temperature: 0 } });
  assert.equal(r.message.role, 'assistant');
  assert.equal(typeof r.message.content, 'string');
  assert.ok(Array.isArray(r.message.tool_calls ?? []));

  const show = await ollama.show({ model });
  assert.equal(show.model_info['general.architecture'], 'llama');
  assert.equal(typeof show.model_info['llama.context_length'], 'number');

  // ollama-js shows the server's "error" string; an object would read "[object Object]".
  await assert.rejects(ollama.chat({ model: 'no-such-model', messages }),
    (e) => e.name === 'ResponseError' && /no-such-model/.test(e.message) && e.status_code === 404);
  await assert.rejects(ollama.chat({ model, messages, think: true }),
    (e) => e.status_code === 400 && /does not support thinking/.test(e.message));
  await assert.rejects(ollama.generate({ model, prompt: 'hi', images: ['aGVsbG8='] }),
    (e) => e.status_code === 400 && /images/.test(e.message));
});

test('ollama client: format with a JSON schema gives a reply that validates', async (t) => {
  if (!(await constrainedDecoding())) return t.skip('server cannot constrain decoding (grammar)');
  // Bounded strings, so that a random-weight model's constrained reply ends.
  const schema = {
    type: 'object',
    properties: { city: { type: 'string', maxLength: 16 }, sunny: { type: 'boolean' } },
    required: ['city', 'sunny'],
    additionalProperties: false,
  };
  const r = await ollama.chat({ model: toolsModel, messages, format: schema, options: { num_predict: 256, temperature: 0 } });
  assert.equal(r.done_reason, 'stop');
  const v = JSON.parse(r.message.content);
  assert.deepEqual(Object.keys(v).sort(), ['city', 'sunny']);
  assert.equal(typeof v.city, 'string');
  assert.ok(v.city.length <= 16);
  assert.equal(typeof v.sunny, 'boolean');
});
