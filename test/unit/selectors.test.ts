import { describe, expect, it } from 'vitest';
import {
  SelectorParseError,
  formatLabelSelector,
  labelSelectorFromObject,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from '../../src/node/controlplane/apiserver/selectors.js';

describe('parseLabelSelector', () => {
  it.each([
    ['', []],
    ['app=web', [{ key: 'app', operator: '=', values: ['web'] }]],
    ['app==web', [{ key: 'app', operator: '==', values: ['web'] }]],
    ['app!=web', [{ key: 'app', operator: '!=', values: ['web'] }]],
    ['tier in (a, b)', [{ key: 'tier', operator: 'in', values: ['a', 'b'] }]],
    ['tier notin (z)', [{ key: 'tier', operator: 'notin', values: ['z'] }]],
    ['g', [{ key: 'g', operator: 'exists', values: [] }]],
    ['!h', [{ key: 'h', operator: '!exists', values: [] }]],
    ['a=', [{ key: 'a', operator: '=', values: [''] }]],
    ['n>3', [{ key: 'n', operator: 'gt', values: ['3'] }]],
    [
      'a=b,c!=d,e in (x,y),f notin (z),g,!h,example.com/role=db',
      [
        { key: 'a', operator: '=', values: ['b'] },
        { key: 'c', operator: '!=', values: ['d'] },
        { key: 'e', operator: 'in', values: ['x', 'y'] },
        { key: 'f', operator: 'notin', values: ['z'] },
        { key: 'g', operator: 'exists', values: [] },
        { key: 'h', operator: '!exists', values: [] },
        { key: 'example.com/role', operator: '=', values: ['db'] },
      ],
    ],
    [' app = web , tier ', [{ key: 'app', operator: '=', values: ['web'] }, { key: 'tier', operator: 'exists', values: [] }]],
  ])('parses %j', (input, expected) => {
    expect(parseLabelSelector(input)).toEqual(expected);
  });

  it.each([
    ['app=web,', /expected: identifier after ','/],
    ['=web', /found '='/],
    ['app in a', /expected: '\('/],
    ['app in ()', /values set can't be empty/],
    ['app=a b', /found 'b', expected: ','/],
    ['-app=x', /name part must consist/],
    ['app=-x', /a valid label must be an empty string/],
    [`app=${'x'.repeat(64)}`, /no more than 63 characters/],
    [`${'k'.repeat(64)}=x`, /name part must be no more than 63 characters/],
    ['Example.COM/a=x', /prefix part/],
    ['a/b/c=x', /qualified name/],
    ['!a=b', /found '='/],
    ['n>x', /integer value/],
  ])('rejects %j', (input, message) => {
    expect(() => parseLabelSelector(input)).toThrow(SelectorParseError);
    expect(() => parseLabelSelector(input)).toThrow(message);
  });
});

describe('matchesLabels', () => {
  const labels = { app: 'web', tier: 'front', n: '5' };
  it.each([
    ['', undefined, true],
    ['', labels, true],
    ['app=web', labels, true],
    ['app=db', labels, false],
    ['app=web', undefined, false],
    ['app!=db', labels, true],
    ['app!=web', labels, false],
    ['missing!=x', labels, true],
    ['tier in (front,back)', labels, true],
    ['tier in (back)', labels, false],
    ['missing in (x)', labels, false],
    ['tier notin (back)', labels, true],
    ['tier notin (front)', labels, false],
    ['missing notin (x)', labels, true],
    ['app', labels, true],
    ['missing', labels, false],
    ['!missing', labels, true],
    ['!app', labels, false],
    ['n>4', labels, true],
    ['n>5', labels, false],
    ['n<6', labels, true],
    ['app=web,tier=back', labels, false],
    ['app=web,tier=front,!gone', labels, true],
    ['empty=', { empty: '' }, true],
    ['empty=', {}, false],
  ])('%j on %j → %s', (selector, subject, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), subject)).toBe(expected);
  });
});

describe('labelSelectorFromObject / formatLabelSelector', () => {
  it('treats the empty selector as everything', () => {
    expect(labelSelectorFromObject({})).toEqual([]);
    expect(matchesLabels(labelSelectorFromObject({}), { any: 'thing' })).toBe(true);
    expect(formatLabelSelector({})).toBe('');
  });

  it('combines matchLabels and matchExpressions', () => {
    const sel = labelSelectorFromObject({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['b', 'a'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'team', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    expect(matchesLabels(sel, { app: 'web', tier: 'a', team: 'x' })).toBe(true);
    expect(matchesLabels(sel, { app: 'web', tier: 'a', team: 'x', env: 'prod' })).toBe(false);
    expect(matchesLabels(sel, { app: 'web', tier: 'c', team: 'x' })).toBe(false);
    expect(matchesLabels(sel, { app: 'web', tier: 'a' })).toBe(false);
    expect(matchesLabels(sel, { app: 'web', tier: 'a', team: 'x', legacy: '1' })).toBe(false);
  });

  it.each([
    [{ matchLabels: { app: 'web' } }, 'app=web'],
    [{ matchLabels: { tier: 'x', app: 'web' } }, 'app=web,tier=x'],
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] }, 'app=web,tier in (a,b)'],
    [{ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['1'] }, { key: 'a', operator: 'Exists' }, { key: 'b', operator: 'DoesNotExist' }] }, 'a,!b,x notin (1)'],
  ])('formats %j as %j', (sel, expected) => {
    expect(formatLabelSelector(sel)).toBe(expected);
    // What we print parses back to the same meaning.
    expect(parseLabelSelector(expected).length).toBe(labelSelectorFromObject(sel).length);
  });

  it.each([
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, /can't be empty/],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, /must be empty/],
    [{ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }, /not a valid label selector operator/],
    [{ matchLabels: { 'bad key': 'x' } }, /name part must consist/],
  ])('rejects %j', (sel, message) => {
    expect(() => labelSelectorFromObject(sel)).toThrow(message);
  });
});

describe('parseFieldSelector / matchesFields', () => {
  const boundPod = { metadata: { name: 'web-1', namespace: 'default' }, spec: { nodeName: 'worker1', restartPolicy: 'Always' }, status: { phase: 'Running' } };
  const pendingPod = { metadata: { name: 'web-2', namespace: 'default' }, spec: {}, status: { phase: 'Pending' } };

  it.each([
    ['', 'pods', boundPod, true],
    ['metadata.name=web-1', 'pods', boundPod, true],
    ['metadata.name==web-1', 'pods', pendingPod, false],
    ['metadata.name!=web-1', 'pods', pendingPod, true],
    ['metadata.namespace=default', 'deployments', { metadata: { namespace: 'default' } }, true],
    ['metadata.namespace=', 'nodes', { metadata: { name: 'n' } }, true],
    ['spec.nodeName=worker1', 'pods', boundPod, true],
    ['spec.nodeName=', 'pods', pendingPod, true],
    ['spec.nodeName=', 'pods', boundPod, false],
    ['spec.nodeName!=', 'pods', boundPod, true],
    ['status.phase!=Succeeded,status.phase!=Failed', 'pods', boundPod, true],
    ['status.phase=Running,spec.nodeName=worker2', 'pods', boundPod, false],
    ['spec.restartPolicy=Always', 'pods', boundPod, true],
    ['involvedObject.kind=Pod,involvedObject.name=web-1', 'events', { involvedObject: { kind: 'Pod', name: 'web-1' } }, true],
    ['involvedObject.uid=u2', 'events', { involvedObject: { uid: 'u1' } }, false],
    ['source=kubelet', 'events', { source: { component: 'kubelet' } }, true],
    ['type=Warning,reason=BackOff', 'events', { type: 'Warning', reason: 'BackOff' }, true],
    ['spec.unschedulable=false', 'nodes', { spec: {} }, true],
    ['spec.unschedulable=true', 'nodes', { spec: { unschedulable: true } }, true],
    ['type=kubernetes.io/tls', 'secrets', { type: 'kubernetes.io/tls' }, true],
    ['status.phase=Active', 'namespaces', { status: { phase: 'Active' } }, true],
    ['status.replicas=0', 'replicasets', { status: {} }, true],
    ['status.successful=1', 'jobs', { status: { successful: 1 } }, true],
    ['metadata.name=a\\,b', 'configmaps', { metadata: { name: 'a,b' } }, true],
  ])('%j on %s', (selector, resource, obj, expected) => {
    expect(matchesFields(parseFieldSelector(selector, resource), obj)).toBe(expected);
  });

  it.each([
    ['spec.nodeName=x', 'deployments', 'field label not supported: spec.nodeName'],
    ['status.phase=Running', 'nodes', 'field label not supported: status.phase'],
    ['spec.foo=1', 'pods', 'field label not supported: spec.foo'],
    ['nonsense', 'pods', "invalid selector: 'nonsense'; can't understand 'nonsense'"],
    ['=x', 'pods', "can't understand '=x'"],
  ])('rejects %j for %s', (selector, resource, message) => {
    expect(() => parseFieldSelector(selector, resource)).toThrow(SelectorParseError);
    expect(() => parseFieldSelector(selector, resource)).toThrow(message);
  });
});
