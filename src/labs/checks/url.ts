/** `url: {node: leader, port: 8080, contains: "web v1"}`: a URL answers. */
import * as z from 'zod';
import { describeTarget, httpGet, httpTargetFields, judgeAnswer, resolveUrl, targetProblem, type HttpTarget } from './http.js';
import type { CheckKind } from './types.js';

const params = z
  .strictObject({
    ...httpTargetFields,
    timeoutMs: z.int().min(100).max(60_000).default(3_000).meta({ description: 'How long one request may take.' }),
  })
  .superRefine((p, ctx) => {
    const problem = targetProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { hint: 'like {url: http://127.0.0.1:8080/} or {node: leader, port: 8080}' } });
  });

type Params = z.output<typeof params> & HttpTarget;

export const urlCheck: CheckKind<Params> = {
  name: 'url',
  summary: "a URL (or a node's port) answers, with a status and a phrase in the body",
  params,
  expected: (p) =>
    `${describeTarget(p)} answers ${p.status === undefined ? 'with success' : `HTTP ${p.status}`}${p.contains === undefined ? '' : ` containing "${p.contains}"`}`,
  async evaluate(p, ctx) {
    const { url, problem } = await resolveUrl(p, ctx);
    if (!url) return { ok: false, observed: problem ?? 'no URL' };
    const verdict = judgeAnswer(p, await httpGet(url, p.timeoutMs));
    return { ok: verdict.ok, observed: `${url}: ${verdict.seen}` };
  },
};
