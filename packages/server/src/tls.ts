/** TLS material: the configured files, or a self-signed certificate generated once for LAN use. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config } from '@rempart/core';

export interface TlsMaterial {
  key: string;
  cert: string;
}

export async function loadTls(config: Config): Promise<TlsMaterial | undefined> {
  const tls = config.tls;
  switch (tls.mode) {
    case 'off':
      return undefined;
    case 'files':
      return { key: readFileSync(tls.keyFile, 'utf8'), cert: readFileSync(tls.certFile, 'utf8') };
    case 'self-signed': {
      const dir = join(resolve(config.dataDir), 'tls');
      const keyFile = join(dir, 'self-signed.key');
      const certFile = join(dir, 'self-signed.crt');
      if (existsSync(keyFile) && existsSync(certFile)) {
        return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
      }
      const host = new URL(config.publicUrl).hostname;
      const addresses = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined)
        .map((a) => a.address);
      const altNames = [
        { type: 2 as const, value: 'localhost' },
        ...(/^[\d.]+$|:/.test(host) ? [] : [{ type: 2 as const, value: host }]),
        ...addresses.map((ip) => ({ type: 7 as const, ip })),
      ];
      // Loaded only here: most starts read the certificate made at the first one.
      const { generate } = await import('selfsigned');
      const pems = await generate([{ name: 'commonName', value: host }], {
        keyType: 'ec',
        curve: 'P-256',
        algorithm: 'sha256',
        notAfterDate: new Date(Date.now() + 825 * 24 * 3600 * 1000),
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames },
        ],
      });
      mkdirSync(dir, { recursive: true });
      writeFileSync(keyFile, pems.private, { mode: 0o600 });
      writeFileSync(certFile, pems.cert);
      return { key: pems.private, cert: pems.cert };
    }
  }
}
