import { NETGUARD_LIST_MAX_BYTES } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import { listProblemsOf, listUsers, nameFromFile, readListUpload, refuseListFile } from './lists';

describe('a list file', () => {
  it('is refused before upload when it is empty or over the server’s limit', () => {
    expect(refuseListFile({ size: 0 })).toEqual({ reason: 'empty' });
    expect(refuseListFile({ size: NETGUARD_LIST_MAX_BYTES + 1 })).toEqual({
      reason: 'too_large',
      bytes: NETGUARD_LIST_MAX_BYTES + 1,
      max: NETGUARD_LIST_MAX_BYTES,
    });
    expect(refuseListFile({ size: NETGUARD_LIST_MAX_BYTES })).toBeUndefined();
  });

  it('is named after its file until it is given a name', () => {
    expect(nameFromFile('social-networks.hosts')).toBe('social-networks');
    expect(nameFromFile('press office allow.txt')).toBe('press office allow');
    expect(nameFromFile('no-extension')).toBe('no-extension');
  });

  it('is uploaded with the name trimmed, and refused without a name', () => {
    expect(readListUpload({ name: ' social ', action: 'allow', format: 'hosts' })).toEqual({
      ok: true,
      query: { name: 'social', action: 'allow', format: 'hosts' },
    });
    expect(readListUpload({ name: '  ', action: 'block', format: 'auto' })).toEqual({
      ok: false,
      problems: { name: 'required' },
    });
  });
});

describe('lines the server could not read', () => {
  it('come with a list refused for having no rule at all', () => {
    const error = new ApiError(422, 'list_empty', 'No rule could be read from this list.', {
      problems: [{ line: 1, reason: 'an IP address, not a domain name' }],
    });
    expect(listProblemsOf(error)).toEqual([{ line: 1, reason: 'an IP address, not a domain name' }]);
  });

  it('are none for any other failure', () => {
    expect(listProblemsOf(new ApiError(409, 'conflict', 'Groups use this list: Cabinet.'))).toBeUndefined();
    expect(listProblemsOf(new Error('offline'))).toBeUndefined();
    expect(listProblemsOf(new ApiError(422, 'list_empty', 'No rule.'))).toEqual([]);
  });
});

describe('the groups using a list', () => {
  it('are named, so the list is not offered for deletion while they use it', () => {
    const groups = [
      { name: 'Cabinet', lists: ['a', 'b'] },
      { name: 'Press office', lists: ['b'] },
      { name: 'Default', lists: [] },
    ];
    expect(listUsers('b', groups)).toEqual(['Cabinet', 'Press office']);
    expect(listUsers('c', groups)).toEqual([]);
  });
});
