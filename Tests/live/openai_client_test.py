#!/usr/bin/env python3
"""Drives a running `tern serve` with the official `openai` Python client, as users do.

Usage: openai_client_test.py BASE_URL   (e.g. http://127.0.0.1:8080/v1)
Exits non-zero on the first failed check; prints one line per check.
"""
import json
import sys
import threading

import openai

base = sys.argv[1]
client = openai.OpenAI(base_url=base, api_key="unused")
passed = 0


def check(name, cond, detail=""):
    global passed
    if not cond:
        print(f"FAIL {name} {detail}")
        sys.exit(1)
    passed += 1
    print(f"ok   {name}")


models = [m.id for m in client.models.list().data]
check("models.list", "smollm2-135m" in models, models)

msgs = [{"role": "user", "content": "Name three colours."}]
full = client.chat.completions.create(model="smollm2-135m", messages=msgs, max_tokens=24, temperature=0)
text = full.choices[0].message.content
check("chat non-streaming", bool(text) and full.choices[0].finish_reason in ("stop", "length"), full)
check("usage", full.usage.prompt_tokens > 10 and full.usage.completion_tokens >= 1
      and full.usage.total_tokens == full.usage.prompt_tokens + full.usage.completion_tokens, full.usage)

chunks = list(client.chat.completions.create(model="smollm2-135m", messages=msgs, max_tokens=24, temperature=0,
                                             stream=True, stream_options={"include_usage": True}))
streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
check("chat streaming equals non-streaming (greedy)", streamed == text, (streamed, text))
check("stream ends with usage", chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == full.usage.completion_tokens)

comp = client.completions.create(model="smollm2-135m", prompt="The capital of France is", max_tokens=8, temperature=0)
check("completions (llama.cpp's greedy continuation)", comp.choices[0].text.startswith(" Paris."), comp.choices[0].text)

two = client.chat.completions.create(model="smollm2-135m", messages=msgs, max_tokens=8, temperature=1.0, n=2, seed=7)
check("n=2", len(two.choices) == 2 and [c.index for c in two.choices] == [0, 1])

lp = client.chat.completions.create(model="smollm2-135m", messages=msgs, max_tokens=4, temperature=0, logprobs=True, top_logprobs=3)
content = lp.choices[0].logprobs.content
check("logprobs", len(content) == 4 and all(len(t.top_logprobs) == 3 and t.logprob <= 0 for t in content))

tools = [{"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city", "unit"]}}}]
tc = client.chat.completions.create(model="smollm2-135m", max_tokens=64, temperature=0, tools=tools, tool_choice="required",
                                    messages=[{"role": "user", "content": "What is the weather in Paris in celsius?"}])
calls = tc.choices[0].message.tool_calls
check("tool call returned", tc.choices[0].finish_reason == "tool_calls" and calls and calls[0].function.name == "get_weather", tc)
args = json.loads(calls[0].function.arguments)
check("tool arguments are valid JSON for the schema", isinstance(args.get("city"), str) and args.get("unit") in ("celsius", "fahrenheit"), args)

schema = {"type": "object", "properties": {"answer": {"type": "string", "enum": ["yes", "no"]}, "sure": {"type": "boolean"}},
          "required": ["answer", "sure"]}
js = client.chat.completions.create(model="smollm2-135m", max_tokens=80, temperature=0,
                                    response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
                                    messages=[{"role": "user", "content": "Is the sky blue? Answer in JSON."}])
obj = json.loads(js.choices[0].message.content)
check("response_format json_schema", obj["answer"] in ("yes", "no") and isinstance(obj["sure"], bool)
      and js.choices[0].finish_reason == "stop", obj)

try:
    client.chat.completions.create(model="gpt-9", messages=msgs)
    check("unknown model is 404", False)
except openai.NotFoundError as e:
    check("unknown model is 404", e.status_code == 404)
try:
    client.chat.completions.create(model="smollm2-135m", messages=msgs, temperature=5)
    check("bad temperature is 400", False)
except openai.BadRequestError as e:
    check("bad temperature is 400", e.status_code == 400 and "temperature" in str(e))
try:
    client.chat.completions.create(model="smollm2-135m", messages=[{"role": "user", "content": "word " * 5000}])
    check("prompt over the context is 400", False)
except openai.BadRequestError as e:
    check("prompt over the context is 400", "context" in str(e))

results, errors = [], []


def worker(i):
    try:
        s = client.chat.completions.create(model="smollm2-135m", messages=[{"role": "user", "content": f"Count to {i + 3}."}],
                                           max_tokens=16, temperature=0.5, seed=i, stream=True)
        results.append("".join(c.choices[0].delta.content or "" for c in s if c.choices))
    except Exception as e:  # noqa: BLE001 - report every failure
        errors.append(repr(e))


threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check("16 concurrent streams, zero errors", not errors and len(results) == 16 and all(results), errors[:3])
print(f"openai client: {passed} passed, 0 failed")
