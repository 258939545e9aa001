/**
 * Finding the student among a backup's users: by username, ext_username or
 * real name (findUser), and users --search over any part of any name.
 */
import { distance } from 'fastest-levenshtein';
import { RecoverError } from '../errors.js';

export interface UserRecord {
  id: number;
  username: string;
  extUsername: string | null;
  firstName: string | null;
  lastName: string | null;
  isStudent: boolean | null;
  isActive: boolean | null;
}

export interface UserMatch {
  user: UserRecord;
  /** How the name matched; a real-name match is worth saying. */
  by: 'username' | 'ext_username' | 'real name';
}

/**
 * Find a user by username (exact, then ignoring case), then by ext_username
 * (exact, then ignoring case), then by real name ("Kwame Osei", or "Osei
 * Kwame", "Osei, Kwame"; case, accents and spacing ignored). Several matches at one
 * step are an error, so a real name shared by two students is never guessed.
 */
export function matchUser(all: readonly UserRecord[], name: string): UserMatch {
  const lower = name.toLowerCase();
  const wanted = normaliseName(name);
  const steps: [UserMatch['by'], (u: UserRecord) => boolean][] = [
    ['username', (u) => u.username === name],
    ['username', (u) => u.username.toLowerCase() === lower],
    ['ext_username', (u) => u.extUsername === name],
    ['ext_username', (u) => (u.extUsername ?? '').toLowerCase() === lower],
    ['real name', (u) => !!wanted && realNames(u).includes(wanted)],
  ];
  for (const [by, match] of steps) {
    const found = all.filter(match);
    if (found.length === 1) return { user: found[0]!, by };
    if (found.length > 1) {
      const who = found.map((u) => (by === 'real name' ? `${u.username} (user id ${u.id})` : u.username)).join(', ');
      throw new RecoverError('USER_AMBIGUOUS', `"${name}" matches several users in this backup: ${who}`, {
        hint: 'give the exact username (`recover-texts users --search NAME` lists who matches)',
      });
    }
  }
  const near = suggestions(all, name);
  throw new RecoverError('USER_NOT_FOUND', `no user "${name}" in this backup${near.length ? `; closest: ${near.join(', ')}` : ' (it has no users)'}`, {
    hint: 'run `recover-texts users <backup> --search PART` to find the student by any part of their name',
  });
}

/** How many users a did-you-mean names at most, and at least when the backup has that many. */
const MOST_SUGGESTED = 5;
const FEWEST_SUGGESTED = 3;

/** First and last name as the users table has them ('' when neither). */
export function realName(u: { firstName: string | null; lastName: string | null }): string {
  return [u.firstName, u.lastName].filter(Boolean).join(' ');
}

/**
 * The users to suggest for a name nobody has: first those `users --search`
 * finds for it ("Jones" is sam_j, whose last name is Jones; "Samira" is
 * samira_jones_2), each with the real name when that is where the word is;
 * then the usernames fewest edits away ("alise" is alice).
 */
function suggestions(all: readonly UserRecord[], name: string): string[] {
  const found = searchUsers(all, name).slice(0, MOST_SUGGESTED);
  const term = normaliseName(name);
  const shown = found.map((u) => {
    const real = realName(u);
    return normaliseName(u.username).includes(term) || !real ? u.username : `${u.username} (${real})`;
  });
  const lower = name.toLowerCase();
  const near = all
    .filter((u) => !found.includes(u))
    .map((u) => ({ n: u.username, d: distance(lower, u.username.toLowerCase()) }))
    .sort((a, b) => a.d - b.d || (a.n < b.n ? -1 : 1))
    .slice(0, Math.max(0, FEWEST_SUGGESTED - found.length))
    .map((x) => x.n);
  return [...shown, ...near];
}

/**
 * `users --search`: the users whose username, ext_username, first or last
 * name (or first and last together) contains `term`, ignoring case, accents
 * and repeated spaces.
 */
export function searchUsers<U extends UserRecord>(all: readonly U[], term: string): U[] {
  const t = normaliseName(term);
  if (!t) return [...all];
  return all.filter((u) => [u.username, u.extUsername, u.firstName, u.lastName, ...realNames(u)].some((f) => f !== null && normaliseName(f).includes(t)));
}

/** A user's real name in the orders an admin might type it. */
function realNames(u: UserRecord): string[] {
  const first = normaliseName(u.firstName ?? '');
  const last = normaliseName(u.lastName ?? '');
  if (!first || !last) return [];
  return [`${first} ${last}`, `${last} ${first}`, `${last}, ${first}`];
}

/** Case, accents and repeated spaces ignored: "Chloé  MARTIN" is "chloe martin". */
function normaliseName(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim().replace(/\s+/g, ' ');
}
