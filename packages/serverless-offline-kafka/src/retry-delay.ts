/** Retry delay after a failed attempt n (1, 2, ...): doubling from `baseMs` (1 s) up to 10 s. */
export function retryDelayMs(attempt: number, baseMs = 1000): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 10000);
}
