import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runShard, ShardSpec, ShardSummary } from '../../processor/src/pipeline';
import { LocalTarget } from '../../processor/src/sink';
import { openLocal } from '../../processor/src/source';

export const HEADER = 'transactionId,accountId,entityId,amount,currency,timestamp,counterparty,jurisdiction,type,cardLast4';

export function row(id: string, patch: Partial<Record<string, string>> = {}): string {
  const r: Record<string, string> = {
    transactionId: id,
    accountId: 'ACC-1',
    entityId: 'BANK-EU-01',
    amount: '10.00',
    currency: 'EUR',
    timestamp: '2026-11-22T10:00:00Z',
    counterparty: 'Acme',
    jurisdiction: 'EU',
    type: 'TRANSACTION',
    cardLast4: '',
    ...patch,
  };
  return HEADER.split(',').map((c) => r[c]).join(',');
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'processor-test-'));
}

export interface LocalRun {
  summary: ShardSummary;
  accepted: Record<string, string>[];
  rejects: Record<string, unknown>[];
  acceptedRaw: string;
  rejectsRaw: string;
  dir: string;
}

export async function processFile(file: string, shard: ShardSpec = { index: 0, count: 1 }, out = tempDir(), maxAmount?: string): Promise<LocalRun> {
  const summary = await runShard(await openLocal(file), new LocalTarget(out), shard, { maxAmount });
  const dir = path.join(out, `shard-${shard.index}-of-${shard.count}`);
  const acceptedRaw = fs.readFileSync(path.join(dir, 'accepted.jsonl'), 'utf8');
  const rejectsRaw = fs.readFileSync(path.join(dir, 'rejects.jsonl'), 'utf8');
  const lines = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { summary, accepted: lines(acceptedRaw), rejects: lines(rejectsRaw), acceptedRaw, rejectsRaw, dir };
}

export async function processText(content: string | Buffer, name = 'input.csv', shard?: ShardSpec): Promise<LocalRun> {
  const dir = tempDir();
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return processFile(file, shard, path.join(dir, 'out'));
}
