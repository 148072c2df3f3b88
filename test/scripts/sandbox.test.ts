import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreateSandboxKey, sandboxDatabaseUrl } from '../../scripts/lib/sandbox';

describe('npm start and the sandbox provider', () => {
  it('generates the development sandbox key once, private to the user, and keeps it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'durapay-sandbox-key-'));
    try {
      const key = loadOrCreateSandboxKey(dir);
      // The sandbox refuses keys under 24 characters.
      expect(key).toMatch(/^sk_test_[0-9a-f]{48}$/);
      expect(loadOrCreateSandboxKey(dir)).toBe(key);
      expect(fs.statSync(path.join(dir, 'durapay_sandbox_key.dev')).mode & 0o777).toBe(0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("puts the sandbox's database beside durapay's, on the same server", () => {
    expect(sandboxDatabaseUrl('mysql://durapay:pw@127.0.0.1:3307/durapay')).toBe(
      'mysql://durapay:pw@127.0.0.1:3307/durapay_sandbox',
    );
  });
});
