/**
 * The runner's own words (menu, verdicts) in the languages of the bundled labs; anything
 * else falls back to English, as lab texts do.
 */
import { localize } from './i18n.js';

const TEXTS = {
  step: { en: 'Step', it: 'Passo', es: 'Paso' },
  whatNext: { en: 'What next?', it: 'E adesso?', es: '¿Y ahora?' },
  check: { en: 'Check my work', it: 'Controlla il mio lavoro', es: 'Comprobar mi trabajo' },
  hint: { en: 'Show a hint', it: 'Mostra un suggerimento', es: 'Mostrar una pista' },
  showSolution: { en: 'Show the solution', it: 'Mostra la soluzione', es: 'Mostrar la solución' },
  runSolution: { en: 'Run the solution for me', it: 'Esegui la soluzione per me', es: 'Ejecutar la solución por mí' },
  skip: { en: 'Skip this step', it: 'Salta questo passo', es: 'Saltar este paso' },
  reset: { en: 'Reset the lab', it: 'Ricomincia il laboratorio', es: 'Reiniciar el laboratorio' },
  quit: { en: 'Quit (progress is kept)', it: 'Esci (i progressi restano)', es: 'Salir (el progreso se guarda)' },
  checking: { en: 'Checking', it: 'Controllo', es: 'Comprobando' },
  passed: { en: 'passed', it: 'superato', es: 'superado' },
  notYet: { en: 'not yet', it: 'non ancora', es: 'todavía no' },
  noHints: { en: 'No hints for this step.', it: 'Nessun suggerimento per questo passo.', es: 'No hay pistas para este paso.' },
  noSolution: { en: 'No reference solution for this step.', it: 'Nessuna soluzione per questo passo.', es: 'No hay solución para este paso.' },
  confirmReset: { en: 'Clean up and set the lab up again, losing progress?', it: 'Ripulire e preparare di nuovo il laboratorio, perdendo i progressi?', es: '¿Limpiar y preparar de nuevo el laboratorio, perdiendo el progreso?' },
  labDone: { en: 'Lab complete: every step passed.', it: 'Laboratorio completato: tutti i passi superati.', es: 'Laboratorio completado: todos los pasos superados.' },
  stepsLeftSkipped: { en: 'No step left to do; some were skipped.', it: 'Nessun passo da fare; alcuni sono stati saltati.', es: 'No quedan pasos; algunos se saltaron.' },
  resumeWith: { en: 'Progress is kept; continue with', it: 'I progressi restano; continua con', es: 'El progreso se guarda; continúa con' },
  expected: { en: 'expected', it: 'atteso', es: 'esperado' },
  saw: { en: 'saw', it: 'visto', es: 'visto' },
  left: { en: 'left', it: 'rimasti', es: 'restantes' },
  holding: { en: 'all pass, confirming', it: 'tutto a posto, conferma in corso', es: 'todo correcto, confirmando' },
} as const;

export type UiText = keyof typeof TEXTS;

export function ui(key: UiText, lang: string): string {
  return localize(TEXTS[key], lang);
}
