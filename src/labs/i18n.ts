/**
 * Lab text in several languages: English is required, others (it, es, …) are optional and
 * fall back to English. A text may also differ per engine (the docker commands of a swarm
 * step are not the kubectl commands of its kube twin).
 */
import type { LabEngine } from './engines.js';

/** A string (English), or English plus translations: `{en: Scaling, it: Scalare}`. */
export type Localized = string | Record<string, string>;
/** Localized, or one Localized per engine: `{swarm: …, kube: …}`. */
export type LabText = Localized | PerEngineText;
export interface PerEngineText {
  swarm?: Localized;
  kube?: Localized;
}

export const DEFAULT_LANGUAGE = 'en';
/** Languages the bundled labs are written in; any other falls back to English. */
export const BUNDLED_LANGUAGES = ['en', 'it', 'es'] as const;

export function isPerEngine(text: LabText): text is PerEngineText {
  return typeof text === 'object' && ('swarm' in text || 'kube' in text);
}

/** The text in `lang` (or its base language: pt-BR → pt), else English. */
export function localize(text: Localized, lang: string): string {
  if (typeof text === 'string') return text;
  const base = lang.split('-')[0] ?? lang;
  return text[lang] ?? text[base] ?? text[DEFAULT_LANGUAGE] ?? '';
}

/** A lab text for one engine and language; '' when the text has nothing for that engine. */
export function textFor(text: LabText | undefined, engine: LabEngine, lang: string): string {
  if (text === undefined) return '';
  if (isPerEngine(text)) {
    const forEngine = text[engine];
    return forEngine === undefined ? '' : localize(forEngine, lang);
  }
  return localize(text, lang);
}

/**
 * The language to show: `--lang`, then CLUSTERLAB_LANG, then the POSIX locale
 * (LC_ALL, LC_MESSAGES, LANG: `it_IT.UTF-8` → `it`), else English.
 */
export function pickLanguage(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [flag, env.CLUSTERLAB_LANG, env.LC_ALL, env.LC_MESSAGES, env.LANG];
  for (const candidate of candidates) {
    const lang = languageOfLocale(candidate);
    if (lang) return lang;
  }
  return DEFAULT_LANGUAGE;
}

/** `it_IT.UTF-8` → `it`, `pt_BR` → `pt-BR`, `es` → `es`; undefined for empty, C and POSIX. */
export function languageOfLocale(locale: string | undefined): string | undefined {
  if (!locale) return undefined;
  const bare = locale.split(/[.@]/)[0]?.trim() ?? '';
  if (bare === '' || bare === 'C' || bare === 'POSIX') return undefined;
  const match = /^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2,4}))?$/.exec(bare);
  if (!match) return undefined;
  const language = match[1]!.toLowerCase();
  const region = match[2];
  // Regions matter only where a lab carries them (pt-BR); localize() falls back to the base.
  return region && region.toLowerCase() !== language ? `${language}-${region.toUpperCase()}` : language;
}
