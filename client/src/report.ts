/**
 * Calls a consumer's callback the way an event listener is called: what it
 * throws is reported (re-thrown on its own task, where the platform logs it) and
 * never breaks the subscription or socket that called it.
 */
export function report<T>(callback: ((value: T) => void) | undefined, value: T): void {
  try {
    callback?.(value);
  } catch (err) {
    setTimeout(() => {
      throw err;
    });
  }
}
