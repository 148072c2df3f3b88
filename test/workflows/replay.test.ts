import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { testDataConverter } from '../support/temporal';

const HISTORIES = path.resolve(__dirname, '../fixtures/histories');

/**
 * Recorded histories of real runs (orders and uploads, by the code of each version), replayed against today's
 * workflow code: a change that would make running workflows behave differently on replay (a
 * non-deterministic change) fails here instead of in production.
 */
describe('workflow replay', () => {
  it.each(fs.readdirSync(HISTORIES).filter((file) => file.endsWith('.json')))('replays %s', async (file) => {
    const history: unknown = JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8'));
    await expect(
      // Recorded before payloads were encrypted: the codec passes unencrypted payloads through.
      Worker.runReplayHistory(
        { workflowsPath: require.resolve('../../src/workflows'), dataConverter: testDataConverter },
        history,
      ),
    ).resolves.toBeUndefined();
  });
});
