#!/usr/bin/env python3
"""Loads Tern's built-in web page in headless Chromium, sends a chat message through the page,
waits for the streamed reply to finish, checks the status panel, and saves a screenshot.

Usage: web_page_test.py BASE_URL SCREENSHOT.png [router]   (e.g. http://127.0.0.1:8080)
With `router`, also checks the router's per-tier panel (server started with --router).
Talks to Chromium over the DevTools protocol (websocket-client); exits non-zero on failure.
"""
import base64
import json
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

base, shot = sys.argv[1], sys.argv[2]
profile = tempfile.mkdtemp(prefix="tern-chromium-")
port = 9333
chrome = subprocess.Popen(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,800",
                           f"--remote-debugging-port={port}", f"--user-data-dir={profile}", "about:blank"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
            page = next(t for t in targets if t["type"] == "page")
            break
        except Exception:  # noqa: BLE001 - Chromium still starting
            time.sleep(0.2)
    else:
        sys.exit("FAIL chromium did not start")
    ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
    seq = 0

    def call(method, **params):
        global seq
        seq += 1
        ws.send(json.dumps({"id": seq, "method": method, "params": params}))
        while True:
            msg = json.loads(ws.recv())
            if msg.get("id") == seq:
                return msg.get("result", {})

    def js(expr):
        r = call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        return r.get("result", {}).get("value")

    call("Page.enable")
    call("Page.navigate", url=base + "/")
    for _ in range(100):
        if js("document.readyState") == "complete" and js("document.getElementById('model').textContent"):
            break
        time.sleep(0.1)
    model = js("document.getElementById('model').textContent")
    if model != "smollm2-135m":
        sys.exit(f"FAIL page did not load the model name: {model!r}")
    js("document.getElementById('temp').value='0'; document.getElementById('max').value='24';"
       "document.getElementById('input').value='What is the capital of France?';"
       "document.getElementById('form').requestSubmit(); true")
    reply, finished = "", None
    for _ in range(300):
        finished = js("(document.getElementById('reply-1')||{dataset:{}}).dataset.finished || null")
        reply = js("(document.querySelector('#reply-1 .text')||{}).textContent || ''")
        if finished:
            break
        time.sleep(0.1)
    if not finished or not reply.strip() or reply.startswith("[error]"):
        sys.exit(f"FAIL no streamed reply (finished={finished!r}, reply={reply!r})")
    time.sleep(1.2)  # one status poll
    generated = js("document.getElementById('s-gen').textContent")
    if not generated or not generated.isdigit() or int(generated) < 1:
        sys.exit(f"FAIL status panel shows no generated tokens: {generated!r}")
    checks = 1
    if len(sys.argv) > 3 and sys.argv[3] == "router":
        # Under --router the status panel shows the router's per-tier table.
        hidden = js("document.getElementById('router').hidden")
        rows = js("[...document.querySelectorAll('#r-tiers tr.tier')].map(r => [...r.children].map(c => c.textContent))") or []
        if hidden or len(rows) < 2 or sum(int(r[1]) for r in rows) < 1:
            sys.exit(f"FAIL router panel hidden={hidden!r} rows={rows!r}")
        print(f"ok   router panel lists {len(rows)} tiers: " + ", ".join(f"{r[0]} routed {r[1]}" for r in rows))
        checks = 2
    png = call("Page.captureScreenshot", format="png")["data"]
    with open(shot, "wb") as f:
        f.write(base64.b64decode(png))
    print(f"ok   web page streamed a reply ({len(reply)} chars, finish={finished}); status panel generated={generated}; screenshot {shot}")
    print(f"web page: {checks} passed, 0 failed")
finally:
    chrome.terminate()
    chrome.wait(timeout=10)
