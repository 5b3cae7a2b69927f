/**
 * A consumer's callback is called the way an event listener is: what it throws
 * is reported on a task of its own (the console in a browser, `uncaughtException`
 * in Node, as an EventTarget listener's error is) and never breaks the
 * subscription or socket that called it.
 */

/** Reports `err` as an event listener's error, outside the caller's stack. */
export function reportError(err: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === "function") report(err);
  else
    setTimeout(() => {
      throw err;
    });
}

/** Calls `callback` with `value`; what it throws is reported (`reportError`), not passed on. */
export function report<T>(callback: ((value: T) => void) | undefined, value: T): void {
  try {
    callback?.(value);
  } catch (err) {
    reportError(err);
  }
}
