/**
 * Cron schedules as Kubernetes' CronJob controller reads them (robfig/cron's standard
 * parser): five fields (minute hour day-of-month month day-of-week), names for months and
 * days, ranges, lists and steps, the @yearly/@monthly/@weekly/@daily/@hourly descriptors, and
 * an optional IANA time zone. Pure: every function takes the instants it needs.
 */

export class CronParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronParseError';
  }
}

interface FieldBounds {
  name: string;
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTH_NAMES: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DAY_NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

const MINUTE: FieldBounds = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldBounds = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldBounds = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldBounds = { name: 'month', min: 1, max: 12, names: MONTH_NAMES };
const DAY_OF_WEEK: FieldBounds = { name: 'day-of-week', min: 0, max: 6, names: DAY_NAMES };

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** One field: the allowed values, and whether it was an unrestricted `*` (matters for days). */
interface Field {
  values: ReadonlySet<number>;
  star: boolean;
}

export interface CronSchedule {
  minute: Field;
  hour: Field;
  dayOfMonth: Field;
  month: Field;
  dayOfWeek: Field;
  /** IANA zone name; undefined = UTC (what kube-controller-manager uses in a container). */
  timeZone?: string;
}

/** Parses `spec.schedule` (and checks `spec.timeZone`); throws CronParseError with the reason. */
export function parseCronSchedule(text: string, timeZone?: string): CronSchedule {
  const trimmed = text.trim();
  if (/^(CRON_)?TZ=/.test(trimmed)) throw new CronParseError('CRON_TZ or TZ used in schedule is not supported, use the timeZone field instead');
  const expanded = trimmed.startsWith('@') ? DESCRIPTORS[trimmed.toLowerCase()] : trimmed;
  if (expanded === undefined) throw new CronParseError(`unrecognized descriptor: ${trimmed}`);
  const fields = expanded.split(/\s+/);
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: ${trimmed}`);
  if (timeZone !== undefined && timeZone !== '' && !isKnownTimeZone(timeZone)) throw new CronParseError(`unknown time zone ${timeZone}`);
  return {
    minute: parseField(fields[0]!, MINUTE),
    hour: parseField(fields[1]!, HOUR),
    dayOfMonth: parseField(fields[2]!, DAY_OF_MONTH),
    month: parseField(fields[3]!, MONTH),
    dayOfWeek: parseField(fields[4]!, DAY_OF_WEEK),
    ...(timeZone ? { timeZone } : {}),
  };
}

export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function parseField(text: string, bounds: FieldBounds): Field {
  const values = new Set<number>();
  let star = false;
  for (const part of text.split(',')) {
    const [rangeText, stepText, extra] = part.split('/');
    if (extra !== undefined || rangeText === undefined || rangeText === '') throw new CronParseError(`invalid ${bounds.name} field: ${text}`);
    let start: number;
    let end: number;
    let partStar = false;
    if (rangeText === '*' || rangeText === '?') {
      [start, end, partStar] = [bounds.min, bounds.max, true];
    } else {
      const [low, high, more] = rangeText.split('-');
      if (more !== undefined) throw new CronParseError(`invalid ${bounds.name} range: ${rangeText}`);
      start = parseValue(low!, bounds);
      // "N/step" means N to the maximum.
      end = high !== undefined ? parseValue(high, bounds) : stepText !== undefined ? bounds.max : start;
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw new CronParseError(`invalid ${bounds.name} step: ${part}`);
      step = Number(stepText);
      if (step > 1) partStar = false;
    }
    if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${part}`);
    for (let value = start; value <= end; value += step) values.add(value);
    star ||= partStar;
  }
  return { values, star };
}

function parseValue(text: string, bounds: FieldBounds): number {
  const named = bounds.names?.[text.toLowerCase()];
  const value = named ?? (/^\d+$/.test(text) ? Number(text) : NaN);
  if (Number.isNaN(value)) throw new CronParseError(`failed to parse int from ${text} in ${bounds.name} field`);
  if (value < bounds.min || value > bounds.max) throw new CronParseError(`${bounds.name} value ${value} out of range [${bounds.min}, ${bounds.max}]`);
  return value;
}

/**
 * Day matching as cron does it: when both day fields are restricted, either may match;
 * when one is `*`, both must (so `0 0 13 * 5` is every 13th, and every Friday only with `*`).
 */
function dayMatches(schedule: CronSchedule, wall: Date): boolean {
  const domMatch = schedule.dayOfMonth.values.has(wall.getUTCDate());
  const dowMatch = schedule.dayOfWeek.values.has(wall.getUTCDay());
  if (schedule.dayOfMonth.star || schedule.dayOfWeek.star) return domMatch && dowMatch;
  return domMatch || dowMatch;
}

const MINUTE_MS = 60_000;
/** A schedule that matches nothing within this many years (e.g. 30 February) never fires. */
const SEARCH_YEARS = 5;

/** The first scheduled instant strictly after `after`, or undefined when there is none. */
export function nextScheduleTime(schedule: CronSchedule, after: Date): Date | undefined {
  const zone = schedule.timeZone;
  // Search in "wall clock" time (a Date whose UTC fields are the zone's local fields).
  let wall = new Date(Math.floor(toWall(after, zone).getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
  const limit = Date.UTC(wall.getUTCFullYear() + SEARCH_YEARS, 0, 1);
  while (wall.getTime() < limit) {
    if (!schedule.month.values.has(wall.getUTCMonth() + 1)) {
      wall = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth() + 1, 1));
    } else if (!dayMatches(schedule, wall)) {
      wall = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate() + 1));
    } else if (!schedule.hour.values.has(wall.getUTCHours())) {
      wall = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate(), wall.getUTCHours() + 1));
    } else if (!schedule.minute.values.has(wall.getUTCMinutes())) {
      wall = new Date(wall.getTime() + MINUTE_MS);
    } else {
      const instant = fromWall(wall, zone);
      // A wall time repeated when clocks go back: only an instant after `after` counts.
      if (instant.getTime() > after.getTime()) return instant;
      wall = new Date(wall.getTime() + MINUTE_MS);
    }
  }
  return undefined;
}

/**
 * The latest scheduled instant in (earliest, now], with how many were missed in that span
 * (counted up to `countLimit`; the CronJob controller warns beyond 100).
 */
export function mostRecentScheduleTime(
  schedule: CronSchedule,
  earliest: Date,
  now: Date,
  countLimit = 101,
): { time: Date; missed: number } | undefined {
  const first = nextScheduleTime(schedule, earliest);
  if (first === undefined || first.getTime() > now.getTime()) return undefined;
  // Count from the start (bounded), then find the latest by searching back from now in
  // growing windows, so a schedule missed for months costs a few dozen steps.
  let missed = 0;
  for (let t: Date | undefined = first; t !== undefined && t.getTime() <= now.getTime() && missed < countLimit; t = nextScheduleTime(schedule, t)) missed++;
  for (let windowMs = 60 * MINUTE_MS; ; windowMs *= 2) {
    const from = new Date(Math.max(now.getTime() - windowMs, earliest.getTime()));
    let latest: Date | undefined;
    for (let t = nextScheduleTime(schedule, from); t !== undefined && t.getTime() <= now.getTime(); t = nextScheduleTime(schedule, t)) latest = t;
    if (latest !== undefined) return { time: latest, missed };
    if (from.getTime() === earliest.getTime()) return { time: first, missed };
  }
}

// ---------------------------------------------------------------------------------------------
// Time zones through Intl: wall clock = instant + the zone's offset at that instant.

const formatters = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** The zone's UTC offset in ms at an instant. */
export function zoneOffsetMs(zone: string | undefined, instant: Date): number {
  if (!zone || zone === 'UTC' || zone === 'Etc/UTC') return 0;
  const parts: Record<string, number> = {};
  for (const part of zoneFormatter(zone).formatToParts(instant)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

function toWall(instant: Date, zone: string | undefined): Date {
  return new Date(instant.getTime() + zoneOffsetMs(zone, instant));
}

/**
 * The instant showing this wall time: of two (clocks going back) the earlier; for a time
 * skipped when clocks go forward, the instant the offset from before the jump gives (02:30
 * becomes 03:30), as Go's time.Date does for robfig/cron.
 */
function fromWall(wall: Date, zone: string | undefined): Date {
  const dayMs = 24 * 60 * MINUTE_MS;
  const offsetBefore = zoneOffsetMs(zone, new Date(wall.getTime() - dayMs));
  const offsetAfter = zoneOffsetMs(zone, new Date(wall.getTime() + dayMs));
  const candidates = [wall.getTime() - offsetBefore, wall.getTime() - offsetAfter].sort((a, b) => a - b);
  const exact = candidates.find((candidate) => toWall(new Date(candidate), zone).getTime() === wall.getTime());
  return new Date(exact ?? wall.getTime() - offsetBefore);
}
