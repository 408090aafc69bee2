/** nginx `$time_local` (`10/Oct/2000:13:55:36 -0700`) to ISO 8601 with the same offset. */
const MONTHS: Record<string, string> = {
  Jan: '01',
  Feb: '02',
  Mar: '03',
  Apr: '04',
  May: '05',
  Jun: '06',
  Jul: '07',
  Aug: '08',
  Sep: '09',
  Oct: '10',
  Nov: '11',
  Dec: '12',
};

const SHAPE = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * `fn` keeping its last argument and result: the records of one batch mostly carry the time of the one
 * before, so each time text is converted once per run of equal ones.
 */
export function rememberLast<T>(fn: (text: string) => T): (text: string) => T {
  let lastText: string | undefined;
  let lastValue: T;
  return (text) => {
    if (text !== lastText) {
      lastValue = fn(text);
      lastText = text;
    }
    return lastValue;
  };
}

/** Returns the ISO 8601 form, or null when the text is not a valid `$time_local`. */
export const timeLocalToIso = rememberLast(convert);

/** A record's ISO 8601 time in milliseconds since the epoch; NaN when it is not a time. */
export const isoTimeMs = rememberLast((iso) => Date.parse(iso));

function convert(text: string): string | null {
  const m = SHAPE.exec(text);
  if (!m) return null;
  const [, dd, mon, yyyy, hh, mi, ss, sign, oh, om] = m as unknown as string[];
  const month = MONTHS[mon as string];
  if (!month) return null;
  const day = Number(dd);
  if (day < 1 || day > daysInMonth(Number(yyyy), Number(month))) return null;
  if (Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 60 || Number(oh) > 14 || Number(om) > 59)
    return null;
  return `${yyyy}-${month}-${dd}T${hh}:${mi}:${ss}${sign}${oh}:${om}`;
}

/** Milliseconds since the epoch of an ISO time produced by timeLocalToIso. */
export function isoToEpochMs(iso: string): number {
  return Date.parse(iso);
}
