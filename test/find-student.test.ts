/**
 * Finding the student: by username, ext_username, then real name when only
 * one user has it (saying so); users --search over any part of any name.
 */
import { describe, expect, it } from 'vitest';
import { RecoverError } from '../src/errors.js';
import { matchUser, searchUsers, type UserRecord } from '../src/query/index.js';

const user = (id: number, username: string, ext: string | null, first: string | null, last: string | null): UserRecord => ({
  id,
  username,
  extUsername: ext,
  firstName: first,
  lastName: last,
  isStudent: true,
  isActive: true,
});
const all = [
  user(1, 'k_osei', 'u2001', 'Kwame', 'Osei'),
  user(2, 'a_osei', 'u2002', 'Ama', 'Osei'),
  user(3, 'chloe', 'u2003', 'Chloé', 'Martin'),
  user(4, 'kwame2', 'u2004', 'Kwame', 'Mensah'),
  user(5, 'twin1', null, 'Sam', 'Lee'),
  user(6, 'twin2', null, 'Sam', 'Lee'),
  user(7, 'admin', null, null, null),
];

describe('matchUser', () => {
  it('finds by username, then ext_username, and says how', () => {
    expect(matchUser(all, 'K_OSEI')).toEqual({ user: all[0], by: 'username' });
    expect(matchUser(all, 'u2003')).toEqual({ user: all[2], by: 'ext_username' });
  });

  it('finds by real name in either order, any case, accents and spacing ignored', () => {
    for (const name of ['Kwame Osei', 'kwame  osei', 'Osei Kwame', 'Osei, Kwame']) expect(matchUser(all, name)).toEqual({ user: all[0], by: 'real name' });
    expect(matchUser(all, 'chloe martin')).toEqual({ user: all[2], by: 'real name' });
  });

  it('never guesses between two users with one real name', () => {
    const e = (() => {
      try {
        matchUser(all, 'Sam Lee');
      } catch (x) {
        return x as RecoverError;
      }
    })();
    expect(e?.code).toBe('USER_AMBIGUOUS');
    expect(e?.message).toBe('"Sam Lee" matches several users in this backup: twin1 (user id 5), twin2 (user id 6)');
  });

  it('a first name alone is not a real name match: the users who have it are offered', () => {
    expect(() => matchUser(all, 'Kwame')).toThrow('no user "Kwame" in this backup; closest: k_osei (Kwame Osei), kwame2, chloe');
  });

  const more = [
    user(1, 'ada', null, 'Ada', 'Byron'),
    user(2, 'admin', null, null, null),
    user(3, 'emma_w', null, 'Emma', 'Wood'),
    user(4, 'samira_jones_2', 'u3004', 'Samira', 'Jones'),
    user(5, 'bob99', null, 'Bob', 'Hale'),
    user(6, 'k_osei', null, 'Kwame', 'Osei'),
    user(7, 'zoe_1', null, 'Zoe', 'Ng'),
    user(8, 'sam_j', 'u3008', 'Sam', 'Jones'),
  ];
  const message = (name: string) => {
    try {
      matchUser(more, name);
    } catch (e) {
      return (e as RecoverError).message;
    }
  };

  it('an unknown name offers first the users whose username, ext_username or real name contains it, then the nearest usernames', () => {
    expect(message('Samira')).toBe('no user "Samira" in this backup; closest: samira_jones_2, sam_j, ada');
    expect(message('Jones')).toBe('no user "Jones" in this backup; closest: samira_jones_2, sam_j (Sam Jones), bob99');
    expect(message('u300')).toBe('no user "u300" in this backup; closest: samira_jones_2 (Samira Jones), sam_j (Sam Jones), ada');
  });

  it('an unknown name that nobody contains gets the nearest usernames, as before', () => {
    expect(message('bob9')).toBe('no user "bob9" in this backup; closest: bob99, ada, zoe_1');
  });

  it('offers at most five users who contain the name', () => {
    const many = Array.from({ length: 8 }, (_, i) => user(i + 1, `jones${i + 1}`, null, null, null));
    expect(() => matchUser(many, 'Jone')).toThrow('closest: jones1, jones2, jones3, jones4, jones5');
  });
});

describe('searchUsers', () => {
  it('matches any part of username, ext_username, first or last name, any case', () => {
    expect(searchUsers(all, 'osei').map((u) => u.username)).toEqual(['k_osei', 'a_osei']);
    expect(searchUsers(all, 'KWA').map((u) => u.username)).toEqual(['k_osei', 'kwame2']);
    expect(searchUsers(all, 'u200').length).toBe(4);
    expect(searchUsers(all, 'chloe mar').map((u) => u.username)).toEqual(['chloe']);
    expect(searchUsers(all, 'nobody')).toEqual([]);
  });
});
