/**
 * The one error configuration problems raise, at start: the message starts with
 * the key at fault, so `natsgate: invalid configuration: <key>: <why>` is one line.
 */
/** The configuration is invalid; `key` names the offending setting. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(key ? `${key}: ${message}` : message, options);
    this.name = "ConfigError";
  }
}
