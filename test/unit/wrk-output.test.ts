import { describe, expect, it } from "vitest";
import { parseWrk } from "../../bench/wrk.js";

// wrk 4.1.0's summary, as Debian's build prints it with --latency.
const OUTPUT = `Running 1s test @ http://127.0.0.1:41999/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   389.41us    0.93ms  13.53ms   92.21%
    Req/Sec    26.84k    12.67k   38.61k    80.00%
  Latency Distribution
     50%  133.00us
     75%  183.00us
     90%    0.95ms
     99%    4.27ms
  26621 requests in 1.00s, 3.31MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 2663
Requests/sec:  26563.54
Transfer/sec:      3.30MB
`;

describe("bench - wrk's summary", () => {
  it("reads rate, percentiles in ms, non-2xx answers and socket errors", () => {
    expect(parseWrk(OUTPUT)).toEqual({ rps: 26563.54, p50: 0.133, p99: 4.27, non2xx: 2663, errors: 5 });
  });

  it("a clean run has no error lines; seconds are converted", () => {
    const clean = OUTPUT.replace(/ {2}Socket errors.*\n/, "").replace(/ {2}Non-2xx.*\n/, "").replace("4.27ms", "1.20s");
    expect(parseWrk(clean)).toEqual({ rps: 26563.54, p50: 0.133, p99: 1200, non2xx: 0, errors: 0 });
  });

  it("output without a rate (wrk could not connect) is an error naming it", () => {
    expect(() => parseWrk("unable to connect to 127.0.0.1:9 Connection refused")).toThrow(/no Requests\/sec in wrk output: unable to connect/);
  });
});
