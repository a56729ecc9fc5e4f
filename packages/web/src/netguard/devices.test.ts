import type { Device } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import {
  complianceOf,
  inventoryDraftOf,
  mdmLineProblems,
  mdmRefusedLines,
  newEnrolmentDraft,
  readEnrolmentDraft,
  readInventoryDraft,
  sortDevices,
} from './devices';

function device(overrides: Partial<Device>): Device {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    name: 'iPhone of the minister',
    platform: 'ios',
    owner: 'claire.martin@example.org',
    group: 'cabinet',
    serial: null,
    addresses: [],
    enrolledAt: '2026-03-01T08:00:00.000Z',
    lastReportAt: null,
    osVersion: null,
    apps: 0,
    compliant: null,
    violations: [],
    ...overrides,
  };
}

describe('a device’s compliance', () => {
  it('is unknown until the device has reported', () => {
    expect(complianceOf({ compliant: null })).toBe('unreported');
    expect(complianceOf({ compliant: true })).toBe('compliant');
    expect(complianceOf({ compliant: false })).toBe('not-compliant');
  });

  it('lists the devices to act on first: not compliant, then never reported, then compliant', () => {
    const sorted = sortDevices([
      device({ id: '1', name: 'B compliant', compliant: true }),
      device({ id: '2', name: 'Z silent', compliant: null }),
      device({ id: '3', name: 'A compliant', compliant: true }),
      device({ id: '4', name: 'Y with TikTok', compliant: false }),
    ]);
    expect(sorted.map((d) => d.name)).toEqual(['Y with TikTok', 'Z silent', 'A compliant', 'B compliant']);
  });
});

describe('the enrolment form', () => {
  const draft = { ...newEnrolmentDraft, name: ' iPhone of the minister ', group: 'cabinet' };

  it('leaves out an owner and a serial number left empty', () => {
    expect(readEnrolmentDraft(draft)).toEqual({
      ok: true,
      enrolment: { name: 'iPhone of the minister', platform: 'ios', group: 'cabinet' },
    });
  });

  it('sends the owner and serial number given, trimmed', () => {
    const read = readEnrolmentDraft({ ...draft, owner: ' claire.martin@example.org ', serial: ' F2LX8 ' });
    expect(read).toMatchObject({
      ok: true,
      enrolment: { owner: 'claire.martin@example.org', serial: 'F2LX8' },
    });
  });

  it('refuses a missing name, an owner that is not an email address and an unknown kind of group id', () => {
    const read = readEnrolmentDraft({ ...draft, name: '', owner: 'claire', group: 'Cabinet!' });
    expect(read).toEqual({ ok: false, problems: { name: 'required', owner: 'invalid', group: 'invalid' } });
  });
});

describe('an imported inventory', () => {
  it('starts from the device’s known addresses and system version, since an import replaces them', () => {
    const draft = inventoryDraftOf(
      device({ addresses: ['10.1.4.17', '2001:db8:1::17'], osVersion: '17.5.1' }),
    );
    expect(draft).toEqual({ apps: '', addresses: '10.1.4.17\n2001:db8:1::17', osVersion: '17.5.1' });
  });

  it('reads app ids one a line into the report the API takes', () => {
    const read = readInventoryDraft({
      apps: 'com.microsoft.teams\n\ncom.zhiliaoapp.musically\ncom.microsoft.teams\n',
      addresses: '10.1.4.17',
      osVersion: ' 17.5.1 ',
    });
    expect(read).toEqual({
      ok: true,
      report: {
        apps: ['com.microsoft.teams', 'com.zhiliaoapp.musically'],
        addresses: ['10.1.4.17'],
        osVersion: '17.5.1',
      },
    });
  });

  it('names the lines that are not app ids or addresses, and sends nothing', () => {
    const read = readInventoryDraft({
      apps: 'com.microsoft.teams\nTikTok\n',
      addresses: 'wifi',
      osVersion: '',
    });
    expect(read).toEqual({
      ok: false,
      problems: {
        apps: { lines: [{ line: 2, text: 'TikTok' }] },
        addresses: { lines: [{ line: 1, text: 'wifi' }] },
      },
    });
  });

  it('asks for at least one app, and refuses more addresses than a report may carry', () => {
    const many = Array.from({ length: 17 }, (_, n) => `10.0.0.${n + 1}`).join('\n');
    const read = readInventoryDraft({ apps: '# nothing\n', addresses: many, osVersion: '' });
    expect(read).toEqual({ ok: false, problems: { apps: 'none', addresses: 'tooMany' } });
  });
});

describe('an MDM export', () => {
  const lines = [{ line: 4, message: 'the serial number is empty' }];

  it('shows the lines not read as the list problems table does', () => {
    expect(mdmLineProblems(lines)).toEqual([{ line: 4, reason: 'the serial number is empty' }]);
  });

  it('finds the lines of an export refused for holding no device', () => {
    const refused = new ApiError(400, 'validation_failed', 'No device could be read.', { errors: lines });
    expect(mdmRefusedLines(refused)).toEqual([{ line: 4, reason: 'the serial number is empty' }]);
  });

  it('finds no lines in any other failure', () => {
    expect(mdmRefusedLines(new ApiError(400, 'validation_failed', 'Bad body.'))).toBeUndefined();
    expect(
      mdmRefusedLines(new ApiError(413, 'payload_too_large', 'Too large.', { errors: lines })),
    ).toBeUndefined();
    expect(mdmRefusedLines(new Error('offline'))).toBeUndefined();
  });
});
