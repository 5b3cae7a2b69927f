/**
 * Runs cleanup once a response is over: its body sent to the end, failed, or
 * abandoned by the client (the runtime cancels it). A Worker uses it to close
 * the NATS connection of a request whose SSE stream outlives the handler.
 */

/** The response, with `close` called once its body has been sent or abandoned (at once without a body). */
export function closeAfterBody(res: Response, close: () => void): Response {
  if (!res.body) {
    close();
    return res;
  }
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (!done) return controller.enqueue(value);
        controller.close();
      } catch (err) {
        controller.error(err);
      }
      close();
    },
    async cancel(reason) {
      // The client went away (an SSE reader closing its tab): end the stream and the connection.
      close();
      await reader.cancel(reason).catch(() => {});
    },
  });
  return new Response(body, res);
}
