// A local server following the Anthropic Messages API contract, for end-to-end tests.
//
//   const server = await startAnthropicServer({ apiKey: "test-anthropic-key" });
//   server.url        // "http://127.0.0.1:PORT" (no /v1: clients append /v1/messages)
//   server.requests   // every request: {method, path, headers (lower-case), body (parsed JSON or
//                     //  raw text), taskEnum (the forced tool's task enum, when there is one),
//                     //  response (the JSON answered, when there is one)}
//   server.replies.push(entry)  // what the next successful POST /v1/messages answers (FIFO)
//   await server.close();
//
// POST /v1/messages is validated like the real API, in this order:
//   - `x-api-key` must equal apiKey -> else 401
//       {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}
//   - `anthropic-version` must be present (and "2023-06-01") -> else 400 invalid_request_error
//   - the body must be a JSON object with `model` (string), `max_tokens` (positive integer) and
//     `messages` (non-empty array) -> else 400 invalid_request_error
//   - with `tool_choice` {"type":"tool","name":N}: a tool named N must be in `tools`, and (a
//     stricter check of this test server) its `input_schema.properties.task.enum` must be an
//     array of strings -> else 400 invalid_request_error. That enum is recorded as `taskEnum`.
// Other paths -> 404 not_found_error; other methods -> 405.
//
// Reply entries (`replies`, consumed one per valid request):
//   {raw: value}                  answer 200 with exactly this (an object is sent as JSON, a
//                                 string as is): for malformed or unusual replies
//   {status, body?, headers?}     an error: e.g. {status: 429, headers: {"retry-after": "2"}};
//                                 without `body`, the real error shape for that status
//                                 (429 rate_limit_error, 529 overloaded_error, 500 api_error, ...)
//   {delayMs, ...}                wait first; the rest of the entry then applies (nothing else:
//                                 the default answer)
//   {destroy: true}               drop the connection (a network error)
//   {input: {...}}                or any other object: the tool's `input` in a normal reply
// A normal reply has the real shape: {"id":"msg_...","type":"message","role":"assistant",
// "model":<request model>,"content":[{"type":"tool_use","id":"toolu_...","name":<forced tool or
// the first tool, else "classify_model">,"input":{...}}],"stop_reason":"tool_use",
// "stop_sequence":null,"usage":{...}}.
//
// With nothing queued, the default answer is derived from the prompt so it is not constant: the
// text of `messages` (only what is inside <model_metadata>...</model_metadata> when that is
// there, so a task list in the prompt does not count) is searched:
//   contains "captions"       -> {"task":"image-to-text","summary":"Generates image captions",
//                                 "inputTypes":["image","text"],"outputTypes":["text"]}
//   else "text-to-image"      -> {"task":"text-to-image","summary":"Generates images from text",
//                                 "inputTypes":["text"],"outputTypes":["image"]}
//   else                      -> {"task":"other","summary":"Does something unclassified",
//                                 "inputTypes":["text"],"outputTypes":["text"]}
//
// `faults` (same shape as scripts/replicate-server.mjs) is applied before any validation:
//   faults.next = [fault, ...] (FIFO), faults.always = fault | null; a fault has any of
//   delayMs, status, body, headers, destroy.

import http from "node:http";
import { randomBytes } from "node:crypto";

const ERROR_TYPES = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};
const ERROR_MESSAGES = {
  429: "Number of request tokens has exceeded your per-minute rate limit",
  500: "Internal server error",
  529: "Overloaded",
};

export const errorBody = (status, message) => ({
  type: "error",
  error: {
    type: ERROR_TYPES[status] ?? "api_error",
    message: message ?? ERROR_MESSAGES[status] ?? http.STATUS_CODES[status] ?? "Error",
  },
});

const id = (prefix) => `${prefix}_01${randomBytes(12).toString("hex")}`;
const CONTROL_KEYS = new Set(["raw", "status", "body", "headers", "delayMs", "destroy"]);

/** The text the default answer is derived from (see the comment at the top). */
export function promptText(body) {
  const parts = [];
  for (const m of body?.messages ?? []) {
    if (typeof m?.content === "string") parts.push(m.content);
    else if (Array.isArray(m?.content)) {
      for (const b of m.content) if (typeof b?.text === "string") parts.push(b.text);
    }
  }
  const text = parts.join("\n");
  const fenced = [...text.matchAll(/<model_metadata>([\s\S]*?)<\/model_metadata>/g)].map((m) => m[1]);
  return fenced.length ? fenced.join("\n") : text;
}

export function defaultAnswer(body) {
  const text = promptText(body);
  if (text.includes("captions")) {
    return { summary: "Generates image captions", task: "image-to-text", inputTypes: ["image", "text"], outputTypes: ["text"] };
  }
  if (text.includes("text-to-image")) {
    return { summary: "Generates images from text", task: "text-to-image", inputTypes: ["text"], outputTypes: ["image"] };
  }
  return { summary: "Does something unclassified", task: "other", inputTypes: ["text"], outputTypes: ["text"] };
}

export async function startAnthropicServer({ port = 0, host = "127.0.0.1", apiKey = "test-anthropic-key" } = {}) {
  const requests = [];
  const replies = [];
  const faults = { next: [], always: null };
  const timers = new Set();
  const sleep = (ms) =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  function send(res, status, body, headers = {}) {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      "request-id": id("req"),
      ...headers,
    });
    res.end(text);
  }

  // Answers a fault or control entry; returns true when it answered (or dropped) the request.
  async function applyControl(entry, req, res, record) {
    if (entry.delayMs) await sleep(entry.delayMs);
    if (res.destroyed) return true;
    if (entry.destroy) {
      req.socket.destroy();
      return true;
    }
    if (entry.raw !== undefined) {
      record.response = entry.raw;
      send(res, 200, entry.raw, entry.headers ?? {});
      return true;
    }
    if (entry.status !== undefined || entry.body !== undefined) {
      const status = entry.status ?? 200;
      const body = entry.body !== undefined ? entry.body : errorBody(status);
      record.response = body;
      send(res, status, body, entry.headers ?? {});
      return true;
    }
    return false;
  }

  async function handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      /* kept as text */
    }
    const url = new URL(req.url, "http://localhost");
    const record = { method: req.method, path: url.pathname + url.search, headers: { ...req.headers }, body };
    requests.push(record);

    const fault = faults.next?.length ? faults.next.shift() : faults.always;
    if (fault && (await applyControl(fault, req, res, record))) return;

    if (url.pathname !== "/v1/messages") {
      return send(res, 404, errorBody(404, `${req.method} ${url.pathname} not found`));
    }
    if (req.method !== "POST") return send(res, 405, errorBody(400, `Method ${req.method} not allowed`), { allow: "POST" });
    if (req.headers["x-api-key"] !== apiKey) return send(res, 401, errorBody(401, "invalid x-api-key"));
    const version = req.headers["anthropic-version"];
    if (!version) return send(res, 400, errorBody(400, "anthropic-version: header is required"));
    if (version !== "2023-06-01") return send(res, 400, errorBody(400, `anthropic-version: unsupported version ${version}`));
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return send(res, 400, errorBody(400, "There was an error parsing the body of your request: not a JSON object"));
    }
    if (typeof body.model !== "string" || !body.model) return send(res, 400, errorBody(400, "model: Field required"));
    if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
      return send(res, 400, errorBody(400, "max_tokens: Field required (a positive integer)"));
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return send(res, 400, errorBody(400, "messages: at least one message is required"));
    }
    if (body.tools !== undefined && !Array.isArray(body.tools)) return send(res, 400, errorBody(400, "tools: Input should be a valid list"));
    let toolName = body.tools?.[0]?.name ?? "classify_model";
    if (body.tool_choice?.type === "tool") {
      const tool = (body.tools ?? []).find((t) => t?.name === body.tool_choice.name);
      if (!tool) return send(res, 400, errorBody(400, `tool_choice: tool ${JSON.stringify(body.tool_choice.name)} not found in tools`));
      const taskEnum = tool.input_schema?.properties?.task?.enum;
      if (!Array.isArray(taskEnum) || !taskEnum.every((t) => typeof t === "string")) {
        return send(res, 400, errorBody(400, "tools.0.input_schema.properties.task.enum: expected an array of task names (test server check)"));
      }
      record.taskEnum = taskEnum;
      toolName = tool.name;
    }

    let input = defaultAnswer(body);
    if (replies.length) {
      const entry = replies.shift();
      const isControl = entry && typeof entry === "object" && Object.keys(entry).some((k) => CONTROL_KEYS.has(k));
      if (isControl) {
        if (await applyControl(entry, req, res, record)) return;
      } else if (entry && typeof entry === "object" && "input" in entry && Object.keys(entry).length === 1) {
        input = entry.input;
      } else {
        input = entry;
      }
    }

    const response = {
      id: id("msg"),
      type: "message",
      role: "assistant",
      model: body.model,
      content: [{ type: "tool_use", id: id("toolu"), name: toolName, input }],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: {
        input_tokens: Math.ceil(raw.length / 4),
        output_tokens: Math.ceil(JSON.stringify(input ?? null).length / 4) + 20,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    };
    record.response = response;
    send(res, 200, response);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, errorBody(500, String(err?.message ?? err)));
      else res.destroy();
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = server.address().port;

  let closing;
  return {
    url: `http://${host}:${actualPort}`,
    port: actualPort,
    requests,
    replies,
    faults,
    close() {
      closing ??= new Promise((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
