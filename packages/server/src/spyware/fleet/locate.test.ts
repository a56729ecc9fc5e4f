import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RempartError } from '@rempart/core';
import { afterAll, describe, expect, it } from 'vitest';
import { findArtifactRoot } from './locate.js';

const work = mkdtempSync(join(tmpdir(), 'rempart-locate-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

/** A folder holding `files` (paths relative to it). */
function tree(...files: string[]): string {
  const root = join(work, `t${n++}`);
  mkdirSync(root);
  for (const file of files) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), '');
  }
  return root;
}

describe('finding the artifact inside an extracted upload', () => {
  it('finds a backup zipped as itself, as its parent folder, or as its content', () => {
    const itself = tree('Manifest.db', 'Info.plist');
    expect(findArtifactRoot('ios-backup', itself)).toBe(itself);
    const parent = tree('Backup/00008110-001A2B3C4D5E6F70/Manifest.db');
    expect(findArtifactRoot('ios-backup', parent)).toBe(join(parent, 'Backup/00008110-001A2B3C4D5E6F70'));
  });

  it('passes over the __MACOSX folder Finder adds', () => {
    const root = tree('__MACOSX/backup/Manifest.db', 'backup/Manifest.db');
    expect(findArtifactRoot('ios-backup', root)).toBe(join(root, 'backup'));
  });

  it('finds each kind by what marks it', () => {
    const sysdiagnose = tree('sysdiagnose_2024/system_logs.logarchive/Extra/shutdown.log');
    expect(findArtifactRoot('sysdiagnose', sysdiagnose)).toBe(join(sysdiagnose, 'sysdiagnose_2024'));
    const bugreport = tree('main_entry.txt', 'bugreport-x.txt');
    expect(findArtifactRoot('android-bugreport', bugreport)).toBe(bugreport);
    const androidqf = tree('acquisition/packages.json');
    expect(findArtifactRoot('androidqf', androidqf)).toBe(join(androidqf, 'acquisition'));
  });

  it('refuses an upload holding two artifacts side by side, naming them', () => {
    const root = tree('a/Manifest.db', 'b/Manifest.db');
    expect(() => findArtifactRoot('ios-backup', root)).toThrow(/2 artifacts \(a, b\)/);
  });

  it('refuses an upload that is not the artifact the scan asked for', () => {
    const error = (() => {
      try {
        findArtifactRoot('ios-backup', tree('main_entry.txt'));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(RempartError);
    expect((error as RempartError).code).toBe('artifact_invalid');
    expect((error as RempartError).message).toMatch(/not an iOS backup/);
  });

  it('looks no deeper than a few folders', () => {
    const root = tree('1/2/3/4/5/6/Manifest.db');
    expect(() => findArtifactRoot('ios-backup', root)).toThrow(/not an iOS backup/);
  });
});
