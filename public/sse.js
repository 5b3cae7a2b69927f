// Server-Sent Events over fetch: unlike EventSource it can send the token as a header and
// read the status and problem+json of a refused subscription, so the page can say why.
// Resumes with Last-Event-ID after a network loss, an overflow or a gateway shutdown.

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15000;

/** Parses one SSE event block into {event, id, data}; comments and retry lines give null. */
function parseBlock(block) {
  let event = "message";
  let id;
  const data = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "id") id = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { event, id, data: data.join("\n") } : null;
}

async function problemOf(res) {
  const body = await res.json().catch(() => ({}));
  return { status: res.status, title: body.title ?? res.statusText, detail: body.detail ?? "" };
}

/**
 * Opens a subscription. `onStatus({state, ...})` reports: "connecting", "live",
 * "retrying" {reason, inMs}, "refused" {status, title, detail} (401/403/400: no retry),
 * "expired" (the token ran out: no retry). Returns {close()}.
 */
export function openStream(url, { headers = {}, lastEventId = "", onEvent, onStatus }) {
  let cursor = lastEventId;
  let closed = false;
  let controller;
  let timer;
  let failures = 0;

  const retry = (reason, afterMs) => {
    if (closed) return;
    failures++;
    const inMs = afterMs ?? Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures - 1, 4));
    onStatus({ state: "retrying", reason, inMs });
    timer = setTimeout(run, inMs);
  };

  async function run() {
    if (closed) return;
    controller = new AbortController();
    onStatus({ state: "connecting" });
    let res;
    try {
      res = await fetch(url, {
        headers: { accept: "text/event-stream", ...headers, ...(cursor ? { "last-event-id": cursor } : {}) },
        signal: controller.signal,
        cache: "no-store",
      });
    } catch (err) {
      return closed ? undefined : retry(`network error: ${err.message}`);
    }
    if (!res.ok) {
      const problem = await problemOf(res);
      if (res.status === 429 || res.status >= 500) {
        const after = Number(res.headers.get("retry-after"));
        return retry(`${problem.status} ${problem.title}: ${problem.detail}`, after > 0 ? after * 1000 : undefined);
      }
      return onStatus({ state: "refused", ...problem });
    }
    failures = 0;
    onStatus({ state: "live" });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let ended = "stream ended";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.search(/\r\n\r\n|\n\n|\r\r/)) !== -1) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut).replace(/^(\r\n\r\n|\n\n|\r\r)/, "");
          const e = parseBlock(block);
          if (!e) continue;
          if (e.id) cursor = e.id;
          if (e.event === "message") onEvent(JSON.parse(e.data), e.id);
          else if (e.event === "expired") {
            closed = true;
            controller.abort();
            return onStatus({ state: "expired" });
          } else ended = e.event; // overflow, shutdown: resume from the cursor
        }
      }
    } catch (err) {
      if (closed) return;
      ended = `connection lost: ${err.message}`;
    }
    retry(ended);
  }

  run();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      controller?.abort();
    },
    get cursor() {
      return cursor;
    },
  };
}
