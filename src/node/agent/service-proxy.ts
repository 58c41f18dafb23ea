/**
 * Applies the Service rules of proxy-rules.ts to the node's iptables: one atomic
 * `iptables-restore --noflush` of the KUBE-* chains (other chains, docker's among them, are
 * untouched), then the jumps from the built-in chains, added where missing (a restarted
 * dockerd puts its own first; ours stay).
 */
import { buildProxyRules, chainsInSave, JUMPS, jumpRule, type ProxyInputs } from './proxy-rules.js';
import type { CommandRunner } from './pod-network.js';

export class ServiceProxy {
  constructor(
    private readonly run: CommandRunner,
    private readonly log: (line: string) => void,
  ) {}

  async sync(inputs: Omit<ProxyInputs, 'existingChains'>): Promise<void> {
    const existingChains = {
      nat: chainsInSave(await this.run('iptables-save', ['-t', 'nat'])),
      filter: chainsInSave(await this.run('iptables-save', ['-t', 'filter'])),
    };
    const rules = buildProxyRules({ ...inputs, existingChains });
    await this.run('iptables-restore', ['--noflush', '-w', '5'], rules);
    await this.ensureJumps();
  }

  private async ensureJumps(): Promise<void> {
    // Inserted at the top in reverse, so they end up in JUMPS' order.
    for (const jump of [...JUMPS].reverse()) {
      const rule = jumpRule(jump);
      const present = await this.run('iptables', ['-w', '5', '-t', jump.table, '-C', jump.from, ...rule]).then(
        () => true,
        () => false,
      );
      if (present) continue;
      await this.run('iptables', ['-w', '5', '-t', jump.table, '-I', jump.from, '1', ...rule]);
      this.log(`agent: iptables: ${jump.table} ${jump.from} -> ${jump.to}`);
    }
  }
}
