/** Splits a stream of JSON lines (Docker's /events, Kubernetes' watch) into values; chunks may cut lines anywhere. */
export function jsonLineSplitter<T>(onValue: (value: T) => void): (chunk: Buffer | string) => void {
  let buffered = '';
  return (chunk) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!line) continue;
      let value: T;
      try {
        value = JSON.parse(line) as T;
      } catch {
        continue; // not JSON (a proxy's error page?): nothing to tell
      }
      onValue(value);
    }
  };
}
